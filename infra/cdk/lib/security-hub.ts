/**
 * The Security Hub preset: AWS Security Hub's OCSF findings into Security Lake custom sources,
 * one per finding class. An EventBridge rule takes the class's `Findings Imported V2` events
 * and hands each event's one finding (`detail.findings[0]`) to the class's
 * {@link SecurityLakeFirehosePipeline}, whose Lambda translates it from OCSF 1.6 (with the AWS
 * extension's `cloud_resources` profile) to the preset's release. The classes, source names and
 * release are `infra/presets/security-hub.json`, which the Terraform module and the end-to-end
 * test read too.
 */
import * as fs from 'fs';
import * as path from 'path';
import { Aws } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as firehose from 'aws-cdk-lib/aws-kinesisfirehose';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { CustomSourceRegistrationProps } from './custom-source';
import { SecurityLakeFirehosePipeline, SecurityLakeFirehosePipelineProps } from './pipeline';
import { pregeneratedSchema } from './schema';

/** One finding class of the preset. */
export interface SecurityHubFindingClass {
  readonly classUid: number;
  /** The custom source's name (at most 20 characters). */
  readonly sourceName: string;
  /** The class in Security Lake's `eventClasses` spelling, for registration. */
  readonly eventClass: string;
}

/** `infra/presets/security-hub.json`. */
export interface SecurityHubPreset {
  /** The release the Lambda translates findings to. */
  readonly ocsfVersion: string;
  /** EventBridge `source` of Security Hub's events. */
  readonly eventSource: string;
  /** EventBridge `detail-type` of its OCSF findings. */
  readonly detailType: string;
  /** Where an event holds its one finding (the target's input path). */
  readonly findingPath: string;
  readonly classes: SecurityHubFindingClass[];
}

/** The preset, as committed. */
export const SECURITY_HUB_PRESET: SecurityHubPreset = JSON.parse(
  fs.readFileSync(path.join(__dirname, '..', '..', 'presets', 'security-hub.json'), 'utf8'),
);

/** The preset's class `classUid`. */
export function securityHubClass(classUid: number): SecurityHubFindingClass {
  const found = SECURITY_HUB_PRESET.classes.find((c) => c.classUid === classUid);
  if (!found) {
    const known = SECURITY_HUB_PRESET.classes.map((c) => c.classUid).join(', ');
    throw new Error(`class ${classUid} is not a Security Hub finding class of the preset (${known})`);
  }
  return found;
}

/** Properties of {@link SecurityHubFindingsPipeline}. */
export interface SecurityHubFindingsPipelineProps
  extends Omit<SecurityLakeFirehosePipelineProps, 'sourceName' | 'schema' | 'source' | 'aggregation' | 'registerCustomSource'> {
  /** The finding class: 2002, 2003, 2004 or 2006 (the preset's). */
  readonly classUid: number;
  /** Register the custom source with the preset's event class; omit when it exists already. */
  readonly registerCustomSource?: Omit<CustomSourceRegistrationProps, 'eventClasses'>;
  /** The bus Security Hub's events arrive on. @default the account's default bus */
  readonly eventBus?: events.IEventBus;
}

/** Hands each matched event's finding to a delivery stream (PutRecord), through `role`. */
class DeliveryStreamTarget implements events.IRuleTarget {
  constructor(
    private readonly stream: firehose.CfnDeliveryStream,
    private readonly role: iam.IRole,
    private readonly inputPath: string,
  ) {}

  bind(): events.RuleTargetConfig {
    return { arn: this.stream.attrArn, role: this.role, input: events.RuleTargetInput.fromEventPath(this.inputPath) };
  }
}

/** One Security Hub finding class: its rule, the rule's role and its pipeline. */
export class SecurityHubFindingsPipeline extends Construct {
  /** The class's pipeline (Firehose, Lambda, Glue table, custom source). */
  readonly pipeline: SecurityLakeFirehosePipeline;
  /** The EventBridge rule taking the class's findings. */
  readonly rule: events.Rule;
  /** The role EventBridge writes to the delivery stream with. */
  readonly eventsRole: iam.Role;

  constructor(scope: Construct, id: string, props: SecurityHubFindingsPipelineProps) {
    super(scope, id);
    const preset = SECURITY_HUB_PRESET;
    const findingClass = securityHubClass(props.classUid);
    const { classUid, registerCustomSource, eventBus, ...pipelineProps } = props;
    this.pipeline = new SecurityLakeFirehosePipeline(this, 'Pipeline', {
      ...pipelineProps,
      sourceName: findingClass.sourceName,
      schema: pregeneratedSchema(classUid, preset.ocsfVersion),
      registerCustomSource: registerCustomSource && { ...registerCustomSource, eventClasses: [findingClass.eventClass] },
      // EventBridge puts one finding per record: nothing to de-aggregate.
      aggregation: false,
    });
    this.eventsRole = new iam.Role(this, 'EventsRole', {
      assumedBy: new iam.ServicePrincipal('events.amazonaws.com', {
        conditions: { StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID } },
      }),
      description: `EventBridge puts Security Hub class ${classUid} findings into ${findingClass.sourceName}'s delivery stream`,
    });
    this.eventsRole.addToPolicy(
      new iam.PolicyStatement({
        sid: 'PutFindings',
        actions: ['firehose:PutRecord', 'firehose:PutRecordBatch'],
        resources: [this.pipeline.deliveryStream.attrArn],
      }),
    );
    this.rule = new events.Rule(this, 'Rule', {
      eventBus,
      description: `Security Hub OCSF findings of class ${classUid} into the custom source ${findingClass.sourceName}`,
      eventPattern: {
        source: [preset.eventSource],
        detailType: [preset.detailType],
        detail: { findings: { class_uid: [classUid] } },
      },
      targets: [new DeliveryStreamTarget(this.pipeline.deliveryStream, this.eventsRole, preset.findingPath)],
    });
  }
}

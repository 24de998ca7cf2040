import * as path from 'path';
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as events from 'aws-cdk-lib/aws-events';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as s3 from 'aws-cdk-lib/aws-s3';
import presetJson from '../../presets/security-hub.json';
import { checkSourceName, pregeneratedSchema, SECURITY_HUB_PRESET, SecurityHubFindingsPipeline, SecurityHubFindingsPipelineProps } from '../lib';

const code = () => lambda.Code.fromAsset(path.join(__dirname, 'placeholder-lambda'));

function synth(classUid: number, extra: (stack: Stack) => Partial<SecurityHubFindingsPipelineProps> = () => ({})): Template {
  const stack = new Stack(new App(), 'Test', { env: { account: '123456789012', region: 'us-east-1' } });
  new SecurityHubFindingsPipeline(stack, 'Findings', {
    lakeBucket: s3.Bucket.fromBucketName(stack, 'Lake', 'aws-security-data-lake-us-east-1-abc'),
    classUid,
    lambdaCode: code(),
    ...extra(stack),
  });
  return Template.fromStack(stack);
}

/** The logical id of the only resource of `type`. */
function onlyId(template: Template, type: string): string {
  const ids = Object.keys(template.findResources(type));
  expect(ids).toHaveLength(1);
  return ids[0];
}

describe('the preset file', () => {
  test('four finding classes into OCSF 1.3.0', () => {
    expect(SECURITY_HUB_PRESET.ocsfVersion).toBe('1.3.0');
    expect(SECURITY_HUB_PRESET.classes.map((c) => c.classUid)).toEqual([2002, 2003, 2004, 2006]);
  });

  test.each(presetJson.classes.map((c) => [c.classUid, c.sourceName]))(
    'class %d: a valid source name (%s) and a pre-generated schema',
    (classUid, sourceName) => {
      expect(() => checkSourceName(String(sourceName))).not.toThrow();
      expect(pregeneratedSchema(Number(classUid), SECURITY_HUB_PRESET.ocsfVersion).class_uid).toBe(classUid);
    },
  );
});

describe.each(presetJson.classes)('class $classUid ($sourceName)', ({ classUid, sourceName, eventClass }) => {
  const template = synth(classUid);

  test("the rule takes Security Hub's OCSF findings of this class, and hands on the finding alone", () => {
    const rule = Object.values(template.findResources('AWS::Events::Rule'))[0] as any;
    expect(rule.Properties.EventPattern).toEqual({
      source: ['aws.securityhub'],
      'detail-type': ['Findings Imported V2'],
      detail: { findings: { class_uid: [classUid] } },
    });
    const [target] = rule.Properties.Targets;
    expect(target.Arn).toEqual({ 'Fn::GetAtt': [onlyId(template, 'AWS::KinesisFirehose::DeliveryStream'), 'Arn'] });
    expect(target.InputPath).toBe('$.detail.findings[0]');
    expect(target.RoleArn).toEqual({ 'Fn::GetAtt': [expect.stringMatching(/^FindingsEventsRole/), 'Arn'] });
  });

  test("EventBridge's role may only put records into this delivery stream", () => {
    const roles = template.findResources('AWS::IAM::Role');
    const [roleId, role] = Object.entries(roles).find(([id]) => id.startsWith('FindingsEventsRole')) as [string, any];
    expect(role.Properties.AssumeRolePolicyDocument.Statement).toEqual([
      {
        Action: 'sts:AssumeRole',
        Effect: 'Allow',
        Principal: { Service: 'events.amazonaws.com' },
        Condition: { StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } },
      },
    ]);
    const policies = Object.values(template.findResources('AWS::IAM::Policy')) as any[];
    const statements = policies
      .filter((p) => p.Properties.Roles.some((r: any) => r.Ref === roleId))
      .flatMap((p) => p.Properties.PolicyDocument.Statement);
    expect(statements).toEqual([
      {
        Sid: 'PutFindings',
        Action: ['firehose:PutRecord', 'firehose:PutRecordBatch'],
        Effect: 'Allow',
        Resource: { 'Fn::GetAtt': [onlyId(template, 'AWS::KinesisFirehose::DeliveryStream'), 'Arn'] },
      },
    ]);
  });

  test("the Lambda translates to the preset's release and takes this class only", () => {
    const schema = pregeneratedSchema(classUid, '1.3.0');
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: {
          OCSF_VERSION: '1.3.0',
          OCSF_ALLOWED_CLASSES: String(classUid),
          OCSF_TABLE_PROFILES: schema.profiles.join(','),
        },
      },
    });
    const table = Object.values(template.findResources('AWS::Glue::Table'))[0] as any;
    expect(table.Properties.TableInput.StorageDescriptor.Columns).toEqual(
      schema.columns.map((c) => ({ Name: c.Name, Type: c.Type })),
    );
  });

  test('findings land under the class’s own source, one per record (no de-aggregation)', () => {
    const stream = Object.values(template.findResources('AWS::KinesisFirehose::DeliveryStream'))[0] as any;
    const destination = stream.Properties.ExtendedS3DestinationConfiguration;
    expect(destination.Prefix.startsWith(`ext/${sourceName}/region=`)).toBe(true);
    const processors = destination.ProcessingConfiguration.Processors.map((p: any) => p.Type);
    expect(processors).toEqual(['Lambda']);
  });

  test('registration names the class in Security Lake’s spelling', () => {
    const registered = synth(classUid, () => ({ registerCustomSource: { providerExternalId: 'ext-1' } }));
    const custom = Object.values(registered.findResources('Custom::AWS'))[0] as any;
    const create = JSON.stringify(custom.Properties.Create);
    expect(create).toContain(eventClass);
    expect(create).toContain(sourceName);
  });
});

test('a custom event bus is used when given', () => {
  const template = synth(2004, (stack) => ({ eventBus: new events.EventBus(stack, 'Bus', { eventBusName: 'findings' }) }));
  const rule = Object.values(template.findResources('AWS::Events::Rule'))[0] as any;
  expect(rule.Properties.EventBusName).toEqual({ Ref: expect.stringMatching(/^Bus/) });
});

test('a class outside the preset is refused, naming the ones it has', () => {
  expect(() => synth(2005)).toThrow(/2005 is not a Security Hub finding class of the preset \(2002, 2003, 2004, 2006\)/);
});

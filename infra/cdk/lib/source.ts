/** Where the delivery stream takes its records from. */
import { Aws } from 'aws-cdk-lib';
import * as firehose from 'aws-cdk-lib/aws-kinesisfirehose';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kinesis from 'aws-cdk-lib/aws-kinesis';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';

/** Direct PUT (`PutRecordBatch`), a new Kinesis data stream, or an existing one. */
export abstract class PipelineSource {
  /** Producers call Firehose's `PutRecordBatch` directly. */
  static directPut(): PipelineSource {
    return new DirectPutSource();
  }

  /** A new KMS-encrypted Kinesis data stream feeds the delivery stream. */
  static newKinesisStream(props: NewKinesisStreamProps = {}): PipelineSource {
    return new KinesisSource(undefined, props);
  }

  /** An existing Kinesis data stream feeds the delivery stream. */
  static existingKinesisStream(stream: kinesis.IStream): PipelineSource {
    return new KinesisSource(stream, {});
  }

  /**
   * CloudWatch Logs subscription filters on `logGroups` (events CloudWatch Logs' `parseToOCSF`
   * transformation wrote as OCSF 1.1 or 1.5, say): Firehose decompresses each batch and extracts
   * its log messages (its own `Decompression` and `CloudWatchLogProcessing` processors) before the
   * Lambda, which judges every message as an event.
   */
  static cloudWatchLogs(props: CloudWatchLogsSourceProps): PipelineSource {
    return new CloudWatchLogsSource(props);
  }

  /** `DirectPut` or `KinesisStreamAsSource`. */
  abstract readonly kind: 'DirectPut' | 'KinesisStreamAsSource';
}

/** Settings of a new Kinesis data stream. */
export interface NewKinesisStreamProps {
  /** Shards (default from infra/defaults.json); omit `shardCount` with `onDemand`. */
  readonly shardCount?: number;
  /** On-demand capacity instead of provisioned shards. @default false */
  readonly onDemand?: boolean;
  /** Retention in hours. @default from infra/defaults.json */
  readonly retentionHours?: number;
}

/** @internal */
export class DirectPutSource extends PipelineSource {
  readonly kind = 'DirectPut' as const;
}

/** @internal */
export class KinesisSource extends PipelineSource {
  readonly kind = 'KinesisStreamAsSource' as const;
  constructor(
    readonly existing: kinesis.IStream | undefined,
    readonly props: NewKinesisStreamProps,
  ) {
    super();
  }
}

/** The log groups of {@link PipelineSource.cloudWatchLogs}. */
export interface CloudWatchLogsSourceProps {
  /** The log groups whose events go to the pipeline (one subscription filter each). */
  readonly logGroups: logs.ILogGroup[];
  /** Which events: a CloudWatch Logs filter pattern. @default every event ('') */
  readonly filterPattern?: string;
}

/** @internal */
export class CloudWatchLogsSource extends PipelineSource {
  readonly kind = 'DirectPut' as const;
  constructor(readonly props: CloudWatchLogsSourceProps) {
    super();
    if (props.logGroups.length === 0) throw new Error('PipelineSource.cloudWatchLogs needs at least one log group');
  }

  /**
   * Firehose's processors before the Lambda: gunzip the subscription's batch, then keep only its
   * log events' messages (control messages are dropped), newline-delimited in one record.
   */
  processors(): firehose.CfnDeliveryStream.ProcessorProperty[] {
    return [
      { type: 'Decompression', parameters: [{ parameterName: 'CompressionFormat', parameterValue: 'GZIP' }] },
      { type: 'CloudWatchLogProcessing', parameters: [{ parameterName: 'DataMessageExtraction', parameterValue: 'true' }] },
    ];
  }

  /** The subscription filters, and the role CloudWatch Logs puts into `stream` with. */
  subscribe(scope: Construct, stream: firehose.CfnDeliveryStream): iam.Role {
    const role = new iam.Role(scope, 'SubscriptionRole', {
      assumedBy: new iam.ServicePrincipal('logs.amazonaws.com', {
        conditions: {
          StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID },
          ArnLike: { 'aws:SourceArn': `arn:${Aws.PARTITION}:logs:${Aws.REGION}:${Aws.ACCOUNT_ID}:*` },
        },
      }),
      description: 'CloudWatch Logs puts subscribed log events into the delivery stream',
    });
    const policy = new iam.Policy(scope, 'SubscriptionPolicy', {
      statements: [
        new iam.PolicyStatement({
          sid: 'PutLogEvents',
          actions: ['firehose:PutRecord', 'firehose:PutRecordBatch'],
          resources: [stream.attrArn],
        }),
      ],
      roles: [role],
    });
    this.props.logGroups.forEach((group, index) => {
      const filter = new logs.CfnSubscriptionFilter(scope, `Subscription${index}`, {
        logGroupName: group.logGroupName,
        destinationArn: stream.attrArn,
        roleArn: role.roleArn,
        filterPattern: this.props.filterPattern ?? '',
      });
      // CloudWatch Logs checks at creation that the role may put into the stream.
      filter.node.addDependency(policy);
    });
    return role;
  }
}

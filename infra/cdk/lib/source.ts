/** Where the delivery stream takes its records from. */
import * as kinesis from 'aws-cdk-lib/aws-kinesis';

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

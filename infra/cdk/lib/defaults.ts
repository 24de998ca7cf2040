/**
 * The shared defaults (`infra/defaults.json`), read by this construct and by the Terraform
 * module alike so that the two cannot drift.
 */
import { Fn } from 'aws-cdk-lib';
import defaultsJson from '../../defaults.json';

/** One graph of the pipeline's dashboard. */
export interface DashboardWidgetSpec {
  readonly title: string;
  /**
   * `lambda`: the transformation Lambda's EMF metrics; `firehose`: the stream's `AWS/Firehose`
   * metrics; `producer`: the producer's, drawn only where the application exports them
   * (`producerMetricsNamespace`).
   */
  readonly source: string;
  readonly stat: string;
  readonly metrics: readonly string[];
  /** Plot one line per value of this EMF dimension (a CloudWatch SEARCH), e.g. `code` for `Findings`. */
  readonly byDimension?: string;
}

/** The shape of `infra/defaults.json`. */
export interface PipelineDefaults {
  readonly sourceLocationTemplate: string;
  readonly partitionTemplate: string;
  readonly errorPrefixTemplate: string;
  readonly bufferingSizeMiB: number;
  readonly minBufferingSizeMiB: number;
  readonly bufferingIntervalSeconds: number;
  readonly processorBufferSizeMiB: number;
  readonly processorBufferIntervalSeconds: number;
  readonly processorRetries: number;
  readonly dynamicPartitioningRetrySeconds: number;
  readonly s3CompressionFormat: string;
  readonly parquetCompression: string;
  readonly parquetBlockSizeBytes: number;
  readonly parquetPageSizeBytes: number;
  readonly parquetWriterVersion: string;
  readonly parquetEnableDictionaryCompression: boolean;
  readonly deAggregationSubRecordType: string;
  readonly maxSourceNameLength: number;
  readonly ocsfVersion: string;
  readonly metricsNamespace: string;
  readonly logRetentionDays: number;
  readonly kinesisShardCount: number;
  readonly kinesisRetentionHours: number;
  readonly dashboard: {
    readonly periodSeconds: number;
    readonly widgets: readonly DashboardWidgetSpec[];
  };
  readonly lambda: {
    readonly runtime: string;
    readonly handler: string;
    readonly architecture: string;
    readonly memoryMiB: number;
    readonly timeoutSeconds: number;
    readonly reservedConcurrency: number;
  };
}

/** The shared defaults. */
export const DEFAULTS: PipelineDefaults = defaultsJson;

/** `ext/<source>/`: the key prefix Security Lake assigns a custom source it did not register here. */
export function sourceLocation(sourceName: string): string {
  return DEFAULTS.sourceLocationTemplate.replace('{source}', sourceName);
}

/**
 * The key prefix inside `source.provider.location` as `CreateCustomLogSource` returns it
 * (`s3://<lake bucket>/ext/<source>/`, trailing slash included): everything after the bucket. A
 * CloudFormation expression, since the location is only known at deploy time; Security Lake puts
 * every custom source under `ext/`, and `Fn::Split` needs a literal delimiter, so it splits there.
 */
export function registeredSourceLocation(providerLocation: string): string {
  return Fn.join('', ['ext/', Fn.select(1, Fn.split('/ext/', providerLocation))]);
}

/** `<source location>region=…/accountId=…/eventDay=…/`: where Firehose writes the data. */
export function dataPrefix(location: string): string {
  return `${location}${DEFAULTS.partitionTemplate}`;
}

/** The error prefix, outside `ext/` so that Security Lake's crawler never reads error JSON. */
export function errorPrefix(sourceName: string): string {
  return DEFAULTS.errorPrefixTemplate.replace('{source}', sourceName);
}

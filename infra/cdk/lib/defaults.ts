/**
 * The shared defaults (`infra/defaults.json`), read by this construct and by the Terraform
 * module alike so that the two cannot drift.
 */
import defaultsJson from '../../defaults.json';

/** The shape of `infra/defaults.json`. */
export interface PipelineDefaults {
  readonly prefixTemplate: string;
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
  readonly deAggregationSubRecordType: string;
  readonly maxSourceNameLength: number;
  readonly ocsfVersion: string;
  readonly metricsNamespace: string;
  readonly logRetentionDays: number;
  readonly kinesisShardCount: number;
  readonly kinesisRetentionHours: number;
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

/** `ext/<source>/region=…/accountId=…/eventDay=…/`: where Security Lake reads a custom source. */
export function dataPrefix(sourceName: string): string {
  return DEFAULTS.prefixTemplate.replace('{source}', sourceName);
}

/** The error prefix, outside `ext/` so that Security Lake's crawler never reads error JSON. */
export function errorPrefix(sourceName: string): string {
  return DEFAULTS.errorPrefixTemplate.replace('{source}', sourceName);
}

//! The AWS limits every part of ocsf-firehose honours: the producer batches and aggregates to
//! them, the Lambda enforces them, the local pipeline reproduces them. Each is defined here
//! once; the infrastructure's copies (`infra/defaults.json`) are checked against these by a test.

use std::time::Duration;

/// Records per `PutRecordBatch` call
/// (<https://docs.aws.amazon.com/firehose/latest/APIReference/API_PutRecordBatch.html>).
pub const FIREHOSE_MAX_RECORDS_PER_CALL: usize = 500;
/// Bytes per `PutRecordBatch` call, 4 MiB (same page).
pub const FIREHOSE_MAX_BYTES_PER_CALL: usize = 4 * 1024 * 1024;
/// Bytes per Firehose record before base64, 1,000 KiB
/// (<https://docs.aws.amazon.com/firehose/latest/dev/limits.html>). The Lambda's default
/// record limit (`OCSF_MAX_RECORD_BYTES`) is the same.
pub const FIREHOSE_MAX_RECORD_BYTES: usize = 1_000 * 1024;
/// Firehose bills each record rounded up to this many bytes, 5 KB
/// (<https://aws.amazon.com/firehose/pricing/>).
pub const FIREHOSE_BILLING_UNIT_BYTES: usize = 5 * 1024;
/// Sub-records Firehose's `RecordDeAggregation` processor splits one record into, at most
/// (<https://docs.aws.amazon.com/firehose/latest/dev/dynamic-partitioning-multirecord-deaggergation.html>).
pub const FIREHOSE_MAX_SUB_RECORDS: usize = 500;

/// Records per `PutRecords` call
/// (<https://docs.aws.amazon.com/kinesis/latest/APIReference/API_PutRecords.html>).
pub const KINESIS_MAX_RECORDS_PER_CALL: usize = 500;
/// Bytes per `PutRecords` call including partition keys, 5 MiB (same page).
pub const KINESIS_MAX_BYTES_PER_CALL: usize = 5 * 1024 * 1024;
/// Bytes of one record, data plus partition key, 1 MiB by default (same page).
pub const KINESIS_MAX_RECORD_BYTES: usize = 1024 * 1024;
/// Longest partition key, in Unicode characters (same page).
pub const KINESIS_MAX_PARTITION_KEY_CHARS: usize = 256;

/// Lambda's limit on a synchronous response payload: 6 MB
/// (<https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html>), counted as
/// 6 MiB by the service.
pub const LAMBDA_MAX_RESPONSE_BYTES: usize = 6 * 1024 * 1024;

/// Firehose's Lambda processor buffer size: 1 MiB by default
/// (<https://docs.aws.amazon.com/firehose/latest/dev/data-transformation.html>;
/// `processorBufferSizeMiB` in `infra/defaults.json`).
pub const DEFAULT_PROCESSOR_BUFFER_BYTES: usize = 1024 * 1024;
/// The largest Lambda processor buffer Firehose accepts: 3 MB (same page).
pub const MAX_PROCESSOR_BUFFER_BYTES: usize = 3 * 1024 * 1024;
/// Firehose's Lambda processor buffer interval: 60 s by default (same page;
/// `processorBufferIntervalSeconds`).
pub const DEFAULT_PROCESSOR_BUFFER_INTERVAL: Duration = Duration::from_secs(60);

/// Firehose's S3 buffer size with record format conversion: 128 MiB by default
/// (<https://docs.aws.amazon.com/firehose/latest/dev/record-format-conversion.html>;
/// `bufferingSizeMiB`).
pub const DEFAULT_BUFFER_BYTES: usize = 128 * 1024 * 1024;
/// The smallest S3 buffer size Firehose accepts with record format conversion: 64 MiB (same
/// page; `minBufferingSizeMiB`).
pub const MIN_BUFFER_BYTES_WITH_CONVERSION: usize = 64 * 1024 * 1024;
/// The S3 buffer interval of the infrastructure: 300 s
/// (<https://docs.aws.amazon.com/firehose/latest/dev/buffering.html>; `bufferingIntervalSeconds`).
pub const DEFAULT_BUFFER_INTERVAL: Duration = Duration::from_secs(300);
/// The S3 compression Firehose requires when it converts records to Parquet: none (Parquet
/// compresses its pages itself)
/// (<https://docs.aws.amazon.com/firehose/latest/dev/record-format-conversion.html>;
/// `s3CompressionFormat`).
pub const S3_COMPRESSION_WITH_CONVERSION: &str = "UNCOMPRESSED";

/// Longest custom source name worth using: 20 characters, so that the provider role Security
/// Lake creates (`AmazonSecurityLake-Provider-<name>-<region>`) fits IAM's 64
/// (<https://docs.aws.amazon.com/security-lake/latest/userguide/custom-sources.html>;
/// `maxSourceNameLength`).
pub const MAX_SOURCE_NAME_LEN: usize = 20;

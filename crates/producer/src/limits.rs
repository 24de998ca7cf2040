//! AWS service limits the producer batches and aggregates to.

/// Records per `PutRecordBatch` call
/// (<https://docs.aws.amazon.com/firehose/latest/APIReference/API_PutRecordBatch.html>).
pub const FIREHOSE_MAX_RECORDS_PER_CALL: usize = 500;
/// Bytes per `PutRecordBatch` call, 4 MiB (same page).
pub const FIREHOSE_MAX_BYTES_PER_CALL: usize = 4 * 1024 * 1024;
/// Bytes per Firehose record before base64, 1,000 KiB
/// (<https://docs.aws.amazon.com/firehose/latest/dev/limits.html>).
pub const FIREHOSE_MAX_RECORD_BYTES: usize = 1_000 * 1024;
/// Firehose bills each record rounded up to this many bytes, 5 KB (Firehose pricing page).
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

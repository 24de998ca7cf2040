//! The CloudWatch metric names the deployed pipeline has: the transformation Lambda's own (EMF,
//! namespace `OCSF_METRICS_NAMESPACE`, dimension `FunctionName`) and the Firehose stream's
//! (`AWS/Firehose`, dimension `DeliveryStreamName`). The dashboard of `infra/` names only these
//! (`crates/transform/tests/contract.rs` checks `infra/defaults.json` against them).

/// `Ok` records per invocation.
pub const RECORDS_OK: &str = "RecordsOk";
/// `Dropped` records (`OCSF_ON_INVALID=drop`).
pub const RECORDS_DROPPED: &str = "RecordsDropped";
/// `ProcessingFailed` records: what Firehose writes under `processing-failed/`.
pub const RECORDS_FAILED: &str = "RecordsFailed";
/// Events in the records.
pub const EVENTS: &str = "Events";
/// Decoded bytes in.
pub const BYTES_IN: &str = "BytesIn";
/// Bytes of the `Ok` records' data out.
pub const BYTES_OUT: &str = "BytesOut";
/// Handler time per invocation.
pub const INVOCATION_MILLISECONDS: &str = "InvocationMilliseconds";
/// Findings, with the dimension `code`.
pub const FINDINGS: &str = "Findings";
/// Translation and normalization actions, with the dimension `action`.
pub const NORMALIZATION_ACTIONS: &str = "NormalizationActions";

/// Every metric the Lambda emits.
pub const LAMBDA_METRICS: [&str; 9] = [
    RECORDS_OK,
    RECORDS_DROPPED,
    RECORDS_FAILED,
    EVENTS,
    BYTES_IN,
    BYTES_OUT,
    INVOCATION_MILLISECONDS,
    FINDINGS,
    NORMALIZATION_ACTIONS,
];

/// The Firehose metrics a Security Lake pipeline (Direct PUT or Kinesis source, Lambda
/// processing, dynamic partitioning, S3 delivery) reports, as the Amazon Data Firehose developer
/// guide lists them (<https://docs.aws.amazon.com/firehose/latest/dev/monitoring-with-cloudwatch-metrics.html>).
pub const FIREHOSE_METRICS: [&str; 14] = [
    "IncomingBytes",
    "IncomingRecords",
    "ThrottledRecords",
    "DataReadFromKinesisStream.Records",
    "ExecuteProcessing.Duration",
    "ExecuteProcessing.Success",
    "SucceedProcessing.Records",
    "DeliveryToS3.Records",
    "DeliveryToS3.Success",
    "DeliveryToS3.DataFreshness",
    "PartitionCount",
    "PartitionCountExceeded",
    "JQProcessing.Duration",
    "PerPartitionThroughput",
];

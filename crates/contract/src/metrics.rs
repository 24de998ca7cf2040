//! The CloudWatch metric names the deployed pipeline has: the transformation Lambda's own (EMF,
//! namespace `OCSF_METRICS_NAMESPACE`, dimension `FunctionName`), the Firehose stream's
//! (`AWS/Firehose`, dimension `DeliveryStreamName`), and the producer's (`ocsf-firehose-producer`
//! records them through the `metrics` facade; they reach CloudWatch where the application exports
//! them, e.g. as EMF, under a namespace of its choosing). The dashboard of `infra/` names only
//! these (`crates/transform/tests/contract.rs` checks `infra/defaults.json` against them).

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

/// Producer counter: events accepted by `send`/`try_send`.
pub const PRODUCER_EVENTS_ACCEPTED: &str = "ocsf_producer_events_accepted";
/// Producer counter: events acknowledged by the service.
pub const PRODUCER_EVENTS_DELIVERED: &str = "ocsf_producer_events_delivered";
/// Producer counter (label `code`): events given up on.
pub const PRODUCER_EVENTS_FAILED: &str = "ocsf_producer_events_failed";
/// Producer counter: `PutRecordBatch`/`PutRecords` calls, retries included.
pub const PRODUCER_API_CALLS: &str = "ocsf_producer_api_calls";
/// Producer counter: records sent again after a transient failure.
pub const PRODUCER_RETRIED_RECORDS: &str = "ocsf_producer_retried_records";
/// Producer histogram: records per call.
pub const PRODUCER_RECORDS_PER_CALL: &str = "ocsf_producer_records_per_call";
/// Producer histogram: bytes per call.
pub const PRODUCER_BYTES_PER_CALL: &str = "ocsf_producer_bytes_per_call";
/// Producer gauge: bytes of accepted, unresolved events.
pub const PRODUCER_BUFFERED_BYTES: &str = "ocsf_producer_buffered_bytes";
/// Producer histogram: seconds from acceptance to the start of an event's first call.
pub const PRODUCER_SECONDS_IN_BUFFER: &str = "ocsf_producer_seconds_in_buffer";
/// Producer histogram: seconds from acceptance to acknowledgement.
pub const PRODUCER_SECONDS_TO_DELIVERY: &str = "ocsf_producer_seconds_to_delivery";

/// Every metric the producer records.
pub const PRODUCER_METRICS: [&str; 10] = [
    PRODUCER_EVENTS_ACCEPTED,
    PRODUCER_EVENTS_DELIVERED,
    PRODUCER_EVENTS_FAILED,
    PRODUCER_API_CALLS,
    PRODUCER_RETRIED_RECORDS,
    PRODUCER_RECORDS_PER_CALL,
    PRODUCER_BYTES_PER_CALL,
    PRODUCER_BUFFERED_BYTES,
    PRODUCER_SECONDS_IN_BUFFER,
    PRODUCER_SECONDS_TO_DELIVERY,
];

//! Firehose's error output: one JSON document per failed record, JSON lines per object, under
//! `errors/<source>/<error-output-type>/yyyy/MM/dd/`. Documents follow Firehose's shapes
//! (<https://docs.aws.amazon.com/firehose/latest/dev/data-transformation-failure-handling.html>,
//! …/record-format-conversion-error-handling.html); `errorMessage` carries the Lambda's finding
//! codes, which only the local pipeline can attach (on AWS the Lambda logs them by recordId).

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use serde_json::{json, Value};

/// The `!{firehose:error-output-type}` of a failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum ErrorOutput {
    /// The Lambda answered `ProcessingFailed`.
    ProcessingFailed,
    /// An `Ok` record without usable partition keys.
    PartitioningFailed,
    /// A row the Glue table cannot hold (never happens to events the Lambda fitted).
    FormatConversionFailed,
}

impl ErrorOutput {
    /// The folder name.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorOutput::ProcessingFailed => "processing-failed",
            ErrorOutput::PartitioningFailed => "partitioning-failed",
            ErrorOutput::FormatConversionFailed => "format-conversion-failed",
        }
    }
}

/// The local Lambda's ARN in error documents.
pub const LOCAL_LAMBDA_ARN: &str =
    "arn:aws:lambda:local:000000000000:function:ocsf-firehose-lambda";

/// Base64 of raw bytes (`rawData`).
fn base64(bytes: &[u8]) -> String {
    STANDARD.encode(bytes)
}

/// A `processing-failed` document.
pub fn processing_failed(raw: &[u8], arrival_ms: i64, reasons: &[String], ended_ms: i64) -> Value {
    json!({
        "attemptsMade": 1,
        "arrivalTimestamp": arrival_ms,
        "errorCode": "Lambda.ProcessingFailed",
        "errorMessage": if reasons.is_empty() {
            "The Lambda function returned ProcessingFailed.".to_owned()
        } else {
            reasons.join("; ")
        },
        "attemptEndingTimestamp": ended_ms,
        "rawData": base64(raw),
        "lambdaArn": LOCAL_LAMBDA_ARN,
    })
}

/// A `partitioning-failed` document (an `Ok` record without the three partition keys).
pub fn partitioning_failed(raw: &[u8], arrival_ms: i64, ended_ms: i64) -> Value {
    json!({
        "attemptsMade": 1,
        "arrivalTimestamp": arrival_ms,
        "errorCode": "DynamicPartitioning.MetadataExtractionFailed",
        "errorMessage": "partitionKeys lack region, accountId or eventDay",
        "attemptEndingTimestamp": ended_ms,
        "rawData": base64(raw),
    })
}

/// A `format-conversion-failed` document for one row.
pub fn format_conversion_failed(
    row: &[u8],
    arrival_ms: i64,
    reason: &str,
    table: &str,
    ended_ms: i64,
) -> Value {
    json!({
        "attemptsMade": 1,
        "arrivalTimestamp": arrival_ms,
        "lastErrorCode": "DataFormatConversion.MalformedData",
        "lastErrorMessage": reason,
        "attemptEndingTimestamp": ended_ms,
        "rawData": base64(row),
        "dataCatalogTable": {"tableName": table},
    })
}

//! Firehose's error output: one JSON document per failed record, JSON lines per object, under
//! `errors/<source>/<error-output-type>/yyyy/MM/dd/`. Documents follow Firehose's shapes
//! (<https://docs.aws.amazon.com/firehose/latest/dev/data-transformation-failure-handling.html>,
//! …/record-format-conversion-error-handling.html); `errorMessage` carries the Lambda's finding
//! codes, which only the local pipeline can attach (on AWS the Lambda logs them by recordId).

use crate::firehose::error_document::{DataCatalogTable, ErrorDocument};

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

/// A `processing-failed` document.
pub fn processing_failed(
    raw: &[u8],
    arrival_ms: i64,
    reasons: &[String],
    ended_ms: i64,
) -> ErrorDocument {
    ErrorDocument {
        error_code: Some("Lambda.ProcessingFailed".to_owned()),
        error_message: Some(if reasons.is_empty() {
            "The Lambda function returned ProcessingFailed.".to_owned()
        } else {
            reasons.join("; ")
        }),
        lambda_arn: Some(LOCAL_LAMBDA_ARN.to_owned()),
        ..ErrorDocument::for_record(raw, arrival_ms, ended_ms)
    }
}

/// A `partitioning-failed` document (an `Ok` record without the three partition keys).
pub fn partitioning_failed(raw: &[u8], arrival_ms: i64, ended_ms: i64) -> ErrorDocument {
    ErrorDocument {
        error_code: Some("DynamicPartitioning.MetadataExtractionFailed".to_owned()),
        error_message: Some("partitionKeys lack region, accountId or eventDay".to_owned()),
        ..ErrorDocument::for_record(raw, arrival_ms, ended_ms)
    }
}

/// A `format-conversion-failed` document for one row.
pub fn format_conversion_failed(
    row: &[u8],
    arrival_ms: i64,
    reason: &str,
    table: &str,
    ended_ms: i64,
) -> ErrorDocument {
    ErrorDocument {
        last_error_code: Some("DataFormatConversion.MalformedData".to_owned()),
        last_error_message: Some(reason.to_owned()),
        data_catalog_table: Some(DataCatalogTable {
            table_name: Some(table.to_owned()),
            ..DataCatalogTable::default()
        }),
        ..ErrorDocument::for_record(row, arrival_ms, ended_ms)
    }
}

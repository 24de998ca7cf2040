//! Firehose's error documents: what it writes under the S3 error prefix for every record it
//! could not deliver, one JSON document per line. The local pipeline writes them
//! ([`crate::local::errors`]) and `ocsf-firehose redrive` reads them back, both through
//! [`ErrorDocument`].
//!
//! The shapes are Firehose's own:
//! - a record the Lambda answered `ProcessingFailed` (or whose invocation failed):
//!   `attemptsMade`, `arrivalTimestamp`, `errorCode`, `errorMessage`, `attemptEndingTimestamp`,
//!   `rawData` and `lambdaArn`
//!   (<https://docs.aws.amazon.com/firehose/latest/dev/data-transformation-failure-handling.html>);
//! - a record that record format conversion rejected: `lastErrorCode`/`lastErrorMessage` in
//!   practice, `ErrorCode`/`ErrorMessage` in the documented schema, then `sequenceNumber`,
//!   `subSequenceNumber` and `dataCatalogTable`
//!   (<https://docs.aws.amazon.com/firehose/latest/dev/record-format-conversion-error-handling.html>);
//! - a record dynamic partitioning could not place, with `errorCode`/`errorMessage`
//!   (<https://docs.aws.amazon.com/firehose/latest/dev/dynamic-partitioning-error-handling.html>).
//!
//! `rawData` is the base64 of the record as the failing stage received it: the Lambda's input
//! for `processing-failed`, its output for the later stages.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;
use thiserror::Error;

use crate::documents::documents;

/// One error document. Unknown fields are ignored; every field but `rawData` may be absent.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ErrorDocument {
    /// Delivery attempts Firehose made.
    #[serde(
        default,
        deserialize_with = "lenient_int",
        skip_serializing_if = "Option::is_none"
    )]
    pub attempts_made: Option<u64>,
    /// When Firehose received the record (epoch milliseconds).
    #[serde(
        default,
        deserialize_with = "lenient_int",
        skip_serializing_if = "Option::is_none"
    )]
    pub arrival_timestamp: Option<i64>,
    /// The error code of a transformation or partitioning failure (`Lambda.ProcessingFailed`,
    /// `Lambda.FunctionError`, `DynamicPartitioning.MetadataExtractionFailed`, …).
    #[serde(default, alias = "ErrorCode", skip_serializing_if = "Option::is_none")]
    pub error_code: Option<String>,
    /// Its explanation.
    #[serde(
        default,
        alias = "ErrorMessage",
        skip_serializing_if = "Option::is_none"
    )]
    pub error_message: Option<String>,
    /// The error code of a format-conversion failure (`DataFormatConversion.MalformedData`, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_error_code: Option<String>,
    /// Its explanation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_error_message: Option<String>,
    /// When the last attempt ended (epoch milliseconds).
    #[serde(
        default,
        deserialize_with = "lenient_int",
        skip_serializing_if = "Option::is_none"
    )]
    pub attempt_ending_timestamp: Option<i64>,
    /// The record, base64.
    pub raw_data: String,
    /// The transformation Lambda (processing failures).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lambda_arn: Option<String>,
    /// The Kinesis sequence number of the record (a stream with a Kinesis source).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sequence_number: Option<String>,
    /// The record's position in a de-aggregated Kinesis record.
    #[serde(
        default,
        deserialize_with = "lenient_int",
        skip_serializing_if = "Option::is_none"
    )]
    pub sub_sequence_number: Option<i64>,
    /// The Glue table that format conversion used.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_catalog_table: Option<DataCatalogTable>,
}

/// The `dataCatalogTable` of a format-conversion failure.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DataCatalogTable {
    /// The Glue catalog (the account id).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub catalog_id: Option<String>,
    /// The Glue database.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub database_name: Option<String>,
    /// The Glue table.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub table_name: Option<String>,
    /// The catalog's region.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// The table version (`LATEST`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version_id: Option<String>,
}

/// A number Firehose may write as a JSON number or as text (the guide's schema shows
/// `"attemptsMade": "count"`). These fields only describe the failure: a value that is neither
/// reads as absent, so that it never keeps a record from being read back.
fn lenient_int<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: TryFrom<i64>,
{
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Lenient {
        Int(i64),
        Text(String),
        Other(serde::de::IgnoredAny),
    }
    Ok(match Option::<Lenient>::deserialize(deserializer)? {
        Some(Lenient::Int(n)) => T::try_from(n).ok(),
        Some(Lenient::Text(text)) => text
            .trim()
            .parse::<i64>()
            .ok()
            .and_then(|n| T::try_from(n).ok()),
        Some(Lenient::Other(_)) | None => None,
    })
}

/// Why a line of an error object is not a usable error document.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ErrorDocumentError {
    /// The line is not JSON.
    #[error("not JSON: {0}")]
    NotJson(String),
    /// JSON, but not an error document (no `rawData` string, a field of the wrong type).
    #[error("not a Firehose error document: {0}")]
    NotADocument(String),
    /// `rawData` is not base64.
    #[error("rawData is not base64")]
    RawDataNotBase64,
}

impl ErrorDocumentError {
    /// A stable machine-readable kind.
    pub fn code(&self) -> &'static str {
        match self {
            ErrorDocumentError::NotJson(_) => "error_document_not_json",
            ErrorDocumentError::NotADocument(_) => "error_document_invalid",
            ErrorDocumentError::RawDataNotBase64 => "error_document_raw_data_not_base64",
        }
    }
}

impl ErrorDocument {
    /// A document for `raw`, as received at `arrival_ms`.
    pub fn for_record(raw: &[u8], arrival_ms: i64, ended_ms: i64) -> Self {
        ErrorDocument {
            attempts_made: Some(1),
            arrival_timestamp: Some(arrival_ms),
            attempt_ending_timestamp: Some(ended_ms),
            raw_data: STANDARD.encode(raw),
            ..ErrorDocument::default()
        }
    }

    /// The failure's code, whichever field holds it.
    pub fn code(&self) -> Option<&str> {
        self.error_code
            .as_deref()
            .or(self.last_error_code.as_deref())
    }

    /// The failure's explanation, whichever field holds it.
    pub fn message(&self) -> Option<&str> {
        self.error_message
            .as_deref()
            .or(self.last_error_message.as_deref())
    }

    /// The record's bytes (`rawData` decoded).
    pub fn raw(&self) -> Result<Vec<u8>, ErrorDocumentError> {
        STANDARD
            .decode(&self.raw_data)
            .map_err(|_| ErrorDocumentError::RawDataNotBase64)
    }

    /// Reads one document.
    pub fn parse(line: &[u8]) -> Result<Self, ErrorDocumentError> {
        let value: Value = serde_json::from_slice(line)
            .map_err(|error| ErrorDocumentError::NotJson(error.to_string()))?;
        Self::from_value(value)
    }

    /// The document a parsed JSON value is.
    fn from_value(value: Value) -> Result<Self, ErrorDocumentError> {
        serde_json::from_value(value)
            .map_err(|error| ErrorDocumentError::NotADocument(error.to_string()))
    }

    /// The document as compact JSON (one line of an error object, without its `\n`).
    pub fn to_json(&self) -> Vec<u8> {
        // Plain fields serialize into a `Vec` without fail; were it ever empty, the reader
        // would report the blank line, never lose a record silently.
        serde_json::to_vec(self).unwrap_or_default()
    }
}

/// The documents of an error object, each with its line (from 1): JSON lines, as Firehose
/// writes them, or documents concatenated on a line; a bad document is reported and the next
/// lines are still read (the rest of its own line cannot be delimited).
pub fn error_documents(
    object: &[u8],
) -> impl Iterator<Item = (usize, Result<ErrorDocument, ErrorDocumentError>)> + '_ {
    object
        .split(|&b| b == b'\n')
        .enumerate()
        .filter(|(_, line)| !line.iter().all(u8::is_ascii_whitespace))
        .flat_map(|(index, line)| {
            documents(line).map(move |document| {
                let parsed = match document.value {
                    Ok(value) => ErrorDocument::from_value(value),
                    Err(error) => Err(ErrorDocumentError::NotJson(error.reason)),
                };
                (index + 1, parsed)
            })
        })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn documents_round_trip_and_unknown_fields_are_ignored() {
        let document = ErrorDocument {
            error_code: Some("Lambda.ProcessingFailed".into()),
            error_message: Some("json_invalid".into()),
            lambda_arn: Some("arn:aws:lambda:us-east-1:1:function:f".into()),
            ..ErrorDocument::for_record(b"{\"a\":1}", 10, 20)
        };
        let line = document.to_json();
        assert!(!line.contains(&b'\n'));
        assert_eq!(ErrorDocument::parse(&line).unwrap(), document);
        let mut value: Value = serde_json::from_slice(&line).unwrap();
        value["somethingNew"] = Value::from(1);
        let again = ErrorDocument::parse(value.to_string().as_bytes()).unwrap();
        assert_eq!(again, document);
        assert_eq!(again.raw().unwrap(), b"{\"a\":1}");
    }

    /// Documents in Firehose's shapes (`tests/fixtures/firehose/error-documents`, numbers as
    /// numbers and, as the guide's schema writes them, as text): each is read with its code,
    /// times and record, and written back to the same document.
    #[test]
    fn firehose_shaped_fixtures_are_read_and_written_back() {
        let dir = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../tests/fixtures/firehose/error-documents"
        );
        let mut read = Vec::new();
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            let bytes = std::fs::read(&path).unwrap();
            let document = ErrorDocument::parse(&bytes).unwrap();
            let code = document.code().unwrap().to_owned();
            let event: Value = serde_json::from_slice(&document.raw().unwrap()).unwrap();
            assert_eq!(event["metadata"]["uid"], "e-1", "{}", path.display());
            assert!(document.arrival_timestamp.is_some() && document.message().is_some());
            assert_eq!(ErrorDocument::parse(&document.to_json()).unwrap(), document);
            read.push(code);
        }
        read.sort();
        assert_eq!(
            read,
            [
                "DataFormatConversion.MalformedData",
                "DataFormatConversion.MalformedData",
                "DynamicPartitioning.MetadataExtractionFailed",
                "Lambda.FunctionError",
                "Lambda.FunctionError"
            ]
        );
    }

    #[test]
    fn numbers_written_as_text_are_read_and_unreadable_ones_do_not_lose_the_record() {
        let line = br#"{"attemptsMade":"4","arrivalTimestamp":"count","attemptEndingTimestamp":1.5,"subSequenceNumber":null,"rawData":"e30="}"#;
        let document = ErrorDocument::parse(line).unwrap();
        assert_eq!(document.attempts_made, Some(4));
        assert_eq!(document.arrival_timestamp, None);
        assert_eq!(document.attempt_ending_timestamp, None);
        assert_eq!(document.raw().unwrap(), b"{}");
    }

    #[test]
    fn documents_concatenated_on_a_line_are_each_read() {
        let object = b"{\"rawData\":\"e30=\"}{\"rawData\":\"e30=\"}\n{\"rawData\":\"e30=\"}";
        let lines: Vec<usize> = error_documents(object)
            .map(|(line, document)| {
                assert!(document.is_ok());
                line
            })
            .collect();
        assert_eq!(lines, [1, 1, 2]);
    }

    #[test]
    fn the_code_is_read_from_whichever_field_holds_it() {
        let documented = br#"{"ErrorCode":"DataFormatConversion.MalformedData","ErrorMessage":"m","rawData":"e30="}"#;
        let practice = br#"{"lastErrorCode":"DataFormatConversion.MalformedData","lastErrorMessage":"m","rawData":"e30="}"#;
        for line in [&documented[..], &practice[..]] {
            let document = ErrorDocument::parse(line).unwrap();
            assert_eq!(document.code(), Some("DataFormatConversion.MalformedData"));
            assert_eq!(document.message(), Some("m"));
        }
    }

    #[test]
    fn bad_lines_are_reported_by_line_and_the_rest_is_read() {
        let object = b"{\"rawData\":\"e30=\"}\n\nnot json\n{\"rawData\":7}\n{\"rawData\":\"%%\"}\n{\"rawData\":\"e30=\"}\n";
        let read: Vec<(usize, Result<ErrorDocument, ErrorDocumentError>)> =
            error_documents(object).collect();
        let lines: Vec<usize> = read.iter().map(|(line, _)| *line).collect();
        assert_eq!(lines, [1, 3, 4, 5, 6]);
        let codes: Vec<&str> = read
            .iter()
            .map(|(_, r)| match r {
                Ok(d) => d.raw().map_or_else(|e| e.code(), |_| "ok"),
                Err(e) => e.code(),
            })
            .collect();
        assert_eq!(
            codes,
            [
                "ok",
                "error_document_not_json",
                "error_document_invalid",
                "error_document_raw_data_not_base64",
                "ok"
            ]
        );
    }
}

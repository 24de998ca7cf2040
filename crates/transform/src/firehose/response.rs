//! The response wire type: what the Lambda answers Firehose
//! (<https://docs.aws.amazon.com/firehose/latest/dev/data-transformation-status-model.html>).
//!
//! The JSON is `aws_lambda_events`' `KinesisFirehoseResponse`'s, byte for byte, with two
//! differences that only this type can make:
//! - each record's `data` is encoded into base64 once, straight into the JSON string it is
//!   written as (the alphabet needs no escaping, so nothing scans it again on the way out; the
//!   library's `Base64Data` encodes on every serialization and escapes the text byte by byte);
//! - `partitionKeys` is written in one order (`accountId`, `eventDay`, `region`), so the same
//!   batch always gets the same bytes (a `HashMap` changes its order with each process).
//!
//! Firehose, the local pipeline and the tests read it with `aws_lambda_events`' type.

use std::collections::BTreeMap;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::value::RawValue;

use super::event::TransformResult;
use crate::contract::partition::PartitionKeys;

/// The answer to one invocation: every `recordId`, once, in the request's order.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct FirehoseResponse {
    /// The records.
    pub records: Vec<FirehoseResponseRecord>,
}

/// The answer for one record.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FirehoseResponseRecord {
    /// The request's `recordId`.
    pub record_id: String,
    /// `Ok`, `Dropped` or `ProcessingFailed`.
    pub result: TransformResult,
    /// The transformed record (or the original, for a failed one).
    pub data: Base64Data,
    /// The partition keys of an `Ok` record.
    pub metadata: ResponseMetadata,
}

/// `metadata` of a response record.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ResponseMetadata {
    /// The keys the stream's `!{partitionKeyFromLambda:…}` prefix uses; empty for records that
    /// are not `Ok`.
    #[serde(default)]
    pub partition_keys: BTreeMap<String, String>,
}

impl ResponseMetadata {
    /// The metadata carrying `keys`, or none.
    pub fn new(keys: Option<&PartitionKeys>) -> Self {
        ResponseMetadata {
            partition_keys: keys.map(PartitionKeys::to_metadata).unwrap_or_default(),
        }
    }
}

/// A record's `data`: base64 text, held as the JSON string it is written as.
#[derive(Debug, Clone)]
pub struct Base64Data(Box<RawValue>);

impl Base64Data {
    /// Encodes `bytes` once, into JSON string text.
    pub fn encode(bytes: &[u8]) -> Self {
        let len = base64::encoded_len(bytes.len(), true).unwrap_or(0);
        let mut text = String::with_capacity(len + 2);
        text.push('"');
        STANDARD.encode_string(bytes, &mut text);
        text.push('"');
        // A quoted base64 text is a JSON string; `from_string` checks it with the parser's
        // word-at-a-time string scan and keeps the allocation (its capacity is its length).
        match RawValue::from_string(text) {
            Ok(raw) => Base64Data(raw),
            // Unreachable: base64's alphabet holds no `"`, `\` or control character.
            Err(_) => Base64Data(RawValue::NULL.to_owned()),
        }
    }

    /// The base64 text (without its quotes).
    pub fn as_base64(&self) -> &str {
        let json = self.0.get();
        json.strip_prefix('"')
            .and_then(|t| t.strip_suffix('"'))
            .unwrap_or("")
    }

    /// The decoded bytes.
    pub fn decode(&self) -> Result<Vec<u8>, base64::DecodeError> {
        STANDARD.decode(self.as_base64())
    }
}

impl PartialEq for Base64Data {
    fn eq(&self, other: &Self) -> bool {
        self.0.get() == other.0.get()
    }
}

impl Eq for Base64Data {}

impl Serialize for Base64Data {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for Base64Data {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        STANDARD
            .decode(&text)
            .map_err(|e| serde::de::Error::custom(format!("data is not base64: {e}")))?;
        let raw = RawValue::from_string(format!("\"{text}\"")).map_err(serde::de::Error::custom)?;
        Ok(Base64Data(raw))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_lambda_events::event::firehose::KinesisFirehoseResponse;

    fn record(
        id: &str,
        result: TransformResult,
        data: &[u8],
        keyed: bool,
    ) -> FirehoseResponseRecord {
        let keys = PartitionKeys {
            region: "eu-west-1".to_owned(),
            account_id: "111122223333".to_owned(),
            event_day: "20261207".to_owned(),
        };
        FirehoseResponseRecord {
            record_id: id.to_owned(),
            result,
            data: Base64Data::encode(data),
            metadata: ResponseMetadata::new(keyed.then_some(&keys)),
        }
    }

    fn response() -> FirehoseResponse {
        FirehoseResponse {
            records: vec![
                record("00000000", TransformResult::Ok, br#"{"a":1}"#, true),
                record(
                    "a\"b\\c\u{1}é",
                    TransformResult::ProcessingFailed,
                    b"\xff\x00x",
                    false,
                ),
                record("2", TransformResult::Dropped, b"", false),
            ],
        }
    }

    /// `aws_lambda_events`' type reads the answers back, and writes the same bytes where its
    /// map order cannot differ (records without keys); the whole text is fixed.
    #[test]
    fn the_wire_form_is_the_library_s() {
        let ours = serde_json::to_string(&response()).unwrap();
        let theirs: KinesisFirehoseResponse = serde_json::from_str(&ours).unwrap();
        assert_eq!(theirs.records.len(), 3);
        assert_eq!(theirs.records[0].record_id.as_deref(), Some("00000000"));
        assert_eq!(theirs.records[0].result.as_deref(), Some("Ok"));
        assert_eq!(&*theirs.records[0].data, br#"{"a":1}"#);
        assert_eq!(
            theirs.records[0].metadata.partition_keys["eventDay"],
            "20261207"
        );
        assert_eq!(&*theirs.records[1].data, b"\xff\x00x");
        assert!(theirs.records[1].metadata.partition_keys.is_empty());
        assert_eq!(theirs.records[2].result.as_deref(), Some("Dropped"));
        // Byte for byte what the library writes, where its order cannot differ.
        let mut single = theirs.clone();
        single
            .records
            .retain(|r| r.metadata.partition_keys.is_empty());
        let mut ours_single = response();
        ours_single
            .records
            .retain(|r| r.metadata.partition_keys.is_empty());
        assert_eq!(
            serde_json::to_string(&ours_single).unwrap(),
            serde_json::to_string(&single).unwrap()
        );
        assert_eq!(
            ours,
            concat!(
                r#"{"records":[{"recordId":"00000000","result":"Ok","data":"eyJhIjoxfQ==","#,
                r#""metadata":{"partitionKeys":{"accountId":"111122223333","eventDay":"20261207","region":"eu-west-1"}}},"#,
                r#"{"recordId":"a\"b\\c\u0001é","result":"ProcessingFailed","data":"/wB4","metadata":{"partitionKeys":{}}},"#,
                r#"{"recordId":"2","result":"Dropped","data":"","metadata":{"partitionKeys":{}}}]}"#
            )
        );
    }

    #[test]
    fn it_round_trips() {
        let text = serde_json::to_string(&response()).unwrap();
        let back: FirehoseResponse = serde_json::from_str(&text).unwrap();
        assert_eq!(serde_json::to_string(&back).unwrap(), text);
        assert_eq!(back.records[1].data.decode().unwrap(), b"\xff\x00x");
        assert_eq!(back.records[0].data.as_base64().len(), 12);
        let bad = text.replace("eyJhIjoxfQ==", "not base64!");
        assert!(serde_json::from_str::<FirehoseResponse>(&bad).is_err());
    }
}

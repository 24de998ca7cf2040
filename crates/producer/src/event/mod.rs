//! Encoding one event for sending: compact JSON bytes, `metadata.uid` stamped when missing
//! (so that the at-least-once duplicates of Firehose and retries can be removed downstream),
//! the size checked against the record limit, and the key that groups it with the events that
//! will land in the same Security Lake partition.

mod capture;
mod probe;

use ocsf_firehose_contract::finding::Code;
use ocsf_firehose_contract::partition::PartitionKeys;
use serde::Serialize;
use serde_json::Value;
use thiserror::Error;

/// Why an event cannot be sent (it is handed back to the caller, never sent). The codes are the
/// transformation Lambda's for the same input ([`Code`]), but for `serialize_failed`, which only
/// a Rust value can cause.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum EncodeError {
    /// The event could not be serialized to JSON.
    #[error("the event cannot be serialized to JSON: {0}")]
    Serialize(String),
    /// Raw bytes that are not UTF-8.
    #[error("the event is not UTF-8")]
    NotUtf8,
    /// Raw bytes that are not parseable JSON.
    #[error("the event is not parseable JSON: {0}")]
    JsonInvalid(String),
    /// JSON that is not one object (an array, a number, …).
    #[error("the event is not a JSON object: {0}")]
    NotAnObject(String),
    /// The encoded event exceeds the record size limit.
    #[error("the event is {size} bytes, over the {limit}-byte record limit")]
    TooLarge {
        /// Encoded size.
        size: usize,
        /// The limit.
        limit: usize,
    },
}

impl EncodeError {
    /// A stable machine-readable kind: the Lambda's code for the same input.
    pub fn code(&self) -> &'static str {
        match self {
            EncodeError::Serialize(_) => "serialize_failed",
            EncodeError::NotUtf8 => Code::DataNotUtf8.as_str(),
            EncodeError::JsonInvalid(_) => Code::JsonInvalid.as_str(),
            EncodeError::NotAnObject(_) => Code::EventNotObject.as_str(),
            EncodeError::TooLarge { .. } => Code::RecordTooLarge.as_str(),
        }
    }

    /// The error for raw bytes that did not parse as one JSON object: not UTF-8, not JSON, or
    /// JSON of another kind, as the Lambda tells them apart.
    pub(crate) fn of_raw(raw: &[u8], parse_error: impl std::fmt::Display) -> EncodeError {
        if std::str::from_utf8(raw).is_err() {
            EncodeError::NotUtf8
        } else if serde_json::from_slice::<serde::de::IgnoredAny>(raw).is_ok() {
            EncodeError::NotAnObject(parse_error.to_string())
        } else {
            EncodeError::JsonInvalid(parse_error.to_string())
        }
    }
}

/// What an event is aggregated by: its class and the Security Lake partition the
/// transformation Lambda will give it, with the stream's fallbacks left unresolved
/// ([`PartitionKeys::grouping`]). Events share a Firehose record only when their keys are
/// equal (the Lambda fails a record whose events disagree).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct GroupKey {
    /// `class_uid`.
    pub class_uid: Option<i64>,
    /// The partition, as far as the event decides it.
    pub partition: PartitionKeys,
}

/// An encoded event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EncodedEvent {
    /// Compact JSON, no trailing newline.
    pub bytes: Vec<u8>,
    /// Its partition group; `None` when the event has no plausible `time` (it is then never
    /// aggregated, so that it cannot take other events down with it).
    pub group: Option<GroupKey>,
}

/// Serialization buffer to start with: a typical OCSF event fits without reallocating (the
/// buffer is short-lived: aggregation copies it into a record).
const INITIAL_CAPACITY: usize = 2048;

/// Encodes events.
#[derive(Debug, Clone)]
pub struct Encoder {
    /// Stamp a random UUID into `metadata.uid` when `metadata` is an object without one.
    pub stamp_uid: bool,
    /// Largest encoded event accepted.
    pub max_bytes: usize,
}

impl Encoder {
    /// Encodes any serializable event.
    /// One pass: the grouping fields are read while serializing.
    pub fn encode<T: Serialize + ?Sized>(&self, event: &T) -> Result<EncodedEvent, EncodeError> {
        let mut bytes = Vec::with_capacity(INITIAL_CAPACITY);
        let captured = capture::serialize(event, &mut bytes)
            .map_err(|e| EncodeError::Serialize(e.to_string()))?;
        if !captured.object {
            return Err(EncodeError::NotAnObject(
                "it does not serialize to a JSON object".to_owned(),
            ));
        }
        let group = probe::group(
            captured.class_uid(),
            captured.time(),
            captured.region(),
            captured.account(),
        );
        self.complete(bytes, group, captured.lacks_uid())
    }

    /// Encodes raw JSON bytes holding one object (made compact when it spans lines).
    pub fn encode_json(&self, raw: &[u8]) -> Result<EncodedEvent, EncodeError> {
        if memchr::memchr2(b'\n', b'\r', raw).is_some() {
            let value: Value =
                serde_json::from_slice(raw).map_err(|e| EncodeError::of_raw(raw, e))?;
            return self.encode(&value);
        }
        self.finish(raw.to_vec())
    }

    fn finish(&self, bytes: Vec<u8>) -> Result<EncodedEvent, EncodeError> {
        // The probe skips what it does not read: the Lambda refuses any record that is not UTF-8.
        if std::str::from_utf8(&bytes).is_err() {
            return Err(EncodeError::NotUtf8);
        }
        // serde would also read a JSON array into `Probe`'s fields, by position.
        if bytes.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
            return Err(EncodeError::of_raw(&bytes, "it does not start with `{`"));
        }
        let probed = probe::probe(&bytes).map_err(|e| EncodeError::of_raw(&bytes, e))?;
        self.complete(bytes, probed.group, probed.lacks_uid)
    }

    /// Stamps `metadata.uid` when asked to and needed, and checks the size.
    fn complete(
        &self,
        mut bytes: Vec<u8>,
        group: Option<GroupKey>,
        lacks_uid: bool,
    ) -> Result<EncodedEvent, EncodeError> {
        if self.stamp_uid && lacks_uid {
            bytes = stamp_uid(&bytes)?;
        }
        if bytes.len() > self.max_bytes {
            return Err(EncodeError::TooLarge {
                size: bytes.len(),
                limit: self.max_bytes,
            });
        }
        Ok(EncodedEvent { group, bytes })
    }
}

/// Re-encodes `bytes` with `metadata.uid` set to a new random UUID (the rare path: events
/// that already carry a uid are never re-encoded).
fn stamp_uid(bytes: &[u8]) -> Result<Vec<u8>, EncodeError> {
    let mut value: Value =
        serde_json::from_slice(bytes).map_err(|e| EncodeError::of_raw(bytes, e))?;
    stamp_uid_into(&mut value);
    serde_json::to_vec(&value).map_err(|e| EncodeError::Serialize(e.to_string()))
}

/// Sets `metadata.uid` to a new random UUID when `metadata` is an object without a (non-null)
/// uid: what every path of the producer does to an event it sends, so that at-least-once
/// duplicates can be told apart downstream.
pub(crate) fn stamp_uid_into(event: &mut Value) {
    if let Some(metadata) = event.get_mut("metadata").and_then(Value::as_object_mut) {
        if metadata.get("uid").is_none_or(Value::is_null) {
            metadata.insert(
                "uid".to_owned(),
                Value::String(uuid::Uuid::new_v4().to_string()),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn encoder() -> Encoder {
        Encoder {
            stamp_uid: true,
            max_bytes: 1_000,
        }
    }

    #[test]
    fn encodes_compactly_with_its_group() {
        let event = json!({"class_uid": 3002, "time": 1_682_683_200_000_i64,
            "cloud": {"region": "eu-west-1", "account": {"uid": "123456789012"}},
            "metadata": {"uid": "keep-me"}});
        let encoded = encoder().encode(&event).unwrap();
        assert_eq!(
            encoded.bytes,
            serde_json::to_vec(&event).unwrap(),
            "uid present: untouched"
        );
        assert_eq!(
            encoded.group,
            Some(GroupKey {
                class_uid: Some(3002),
                partition: PartitionKeys {
                    region: "eu-west-1".into(),
                    account_id: "123456789012".into(),
                    event_day: "20230428".into(),
                }
            })
        );
        let pretty = serde_json::to_vec_pretty(&event).unwrap();
        assert_eq!(encoder().encode_json(&pretty).unwrap().bytes, encoded.bytes);
    }

    #[test]
    fn stamps_a_uid_only_into_existing_metadata_without_one() {
        let stamped = encoder()
            .encode(&json!({"metadata": {"version": "1.1.0"}}))
            .unwrap();
        let value: Value = serde_json::from_slice(&stamped.bytes).unwrap();
        let uid = value["metadata"]["uid"].as_str().unwrap();
        assert!(uuid::Uuid::parse_str(uid).is_ok());
        let other = encoder().encode(&json!({"metadata": {}})).unwrap();
        assert_ne!(other.bytes, stamped.bytes, "random per event");
        let no_metadata = encoder().encode(&json!({"class_uid": 1})).unwrap();
        assert_eq!(
            no_metadata.bytes,
            br#"{"class_uid":1}"#.to_vec(),
            "metadata is not invented"
        );
        let off = Encoder {
            stamp_uid: false,
            ..encoder()
        };
        assert_eq!(
            off.encode(&json!({"metadata": {}})).unwrap().bytes,
            br#"{"metadata":{}}"#.to_vec()
        );
    }

    #[test]
    fn rejects_non_objects_and_oversized_events_with_specific_errors() {
        // The Lambda's codes for the same bytes.
        for (raw, code) in [
            (&b"[1,2]"[..], "event_not_object"),
            (b"42", "event_not_object"),
            (b"{\"a\":", "json_invalid"),
            (b"{\"a\":\n", "json_invalid"),
            (b"nul", "json_invalid"),
            (b"{\"a\":\"\xff\"}", "data_not_utf8"),
        ] {
            assert_eq!(
                encoder().encode_json(raw).unwrap_err().code(),
                code,
                "{raw:?}"
            );
        }
        let big = json!({"message": "x".repeat(2_000)});
        assert_eq!(
            encoder().encode(&big).unwrap_err(),
            EncodeError::TooLarge {
                size: 2_014,
                limit: 1_000
            }
        );
    }

    #[test]
    fn groups_follow_the_lambda_partition_rules() {
        let group = |event: Value| encoder().encode(&event).unwrap().group;
        assert_eq!(
            group(json!({"class_uid": 1})),
            None,
            "no time: never aggregated"
        );
        assert_eq!(group(json!({"time": 5})), None, "implausible time");
        let rfc = group(
            json!({"time": "2023-04-28T23:30:00-02:00", "cloud": {"account": {"uid": "12"}}}),
        )
        .unwrap();
        assert_eq!(
            (
                rfc.partition.event_day.as_str(),
                rfc.partition.region.as_str(),
                rfc.partition.account_id.as_str()
            ),
            ("20230429", "", ""),
            "the stream's fallbacks, unresolved"
        );
        assert_eq!(
            group(json!({"time": 1_682_683_200_000_i64, "cloud": {"region": "a b"}})),
            None,
            "an unsafe region: the Lambda rejects it, so it travels alone"
        );
    }
}

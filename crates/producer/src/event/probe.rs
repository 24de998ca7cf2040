//! One pass over an encoded event that reads only what grouping and `metadata.uid` stamping
//! need: every other value is skipped without allocating, strings are borrowed when unescaped,
//! and wrongly typed fields are tolerated (the Lambda reports them; here they only mean "no
//! group").

use std::borrow::Cow;
use std::fmt;
use std::marker::PhantomData;

use ocsf_firehose_contract::partition::{PartitionFields, PartitionKeys};
use ocsf_firehose_contract::time::rfc3339_to_epoch_ms;
use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer};

use super::GroupKey;

/// What the probe learnt about an event.
pub(super) struct Probed {
    /// Its partition group, when it has a plausible `time`.
    pub group: Option<GroupKey>,
    /// Whether `metadata` is an object without a (non-null) `uid`.
    pub lacks_uid: bool,
}

/// Probes one JSON object.
pub(super) fn probe(bytes: &[u8]) -> Result<Probed, serde_json::Error> {
    let Object::Is(probe) = serde_json::from_slice::<Object<Probe<'_>>>(bytes)? else {
        return Err(de::Error::custom("not a JSON object"));
    };
    let lacks_uid = matches!(&probe.metadata, Some(Object::Is(m)) if m.uid.is_none());
    Ok(Probed {
        group: group_key(&probe),
        lacks_uid,
    })
}

/// An object the probe reads field by field. A repeated key's last value wins, as
/// `serde_json::Value` (and so the Lambda, `validate` and the direct path) reads it: the
/// producer never refuses an event they accept.
trait Fields<'de>: Default {
    /// The keys read; every other key's value is skipped.
    const NAMES: &'static [&'static str];
    /// Reads the value of key `NAMES[field]` from `map`.
    fn read<A: MapAccess<'de>>(&mut self, field: usize, map: &mut A) -> Result<(), A::Error>;
}

#[derive(Default)]
struct Probe<'a> {
    class_uid: Option<Scalar<'a>>,
    time: Option<Scalar<'a>>,
    cloud: Option<Object<Cloud<'a>>>,
    metadata: Option<Object<Metadata>>,
}

impl<'de> Fields<'de> for Probe<'de> {
    const NAMES: &'static [&'static str] = &["class_uid", "time", "cloud", "metadata"];
    fn read<A: MapAccess<'de>>(&mut self, field: usize, map: &mut A) -> Result<(), A::Error> {
        match field {
            0 => self.class_uid = map.next_value()?,
            1 => self.time = map.next_value()?,
            2 => self.cloud = map.next_value()?,
            _ => self.metadata = map.next_value()?,
        }
        Ok(())
    }
}

#[derive(Default)]
struct Cloud<'a> {
    region: Option<Scalar<'a>>,
    account: Option<Object<Account<'a>>>,
}

impl<'de> Fields<'de> for Cloud<'de> {
    const NAMES: &'static [&'static str] = &["region", "account"];
    fn read<A: MapAccess<'de>>(&mut self, field: usize, map: &mut A) -> Result<(), A::Error> {
        match field {
            0 => self.region = map.next_value()?,
            _ => self.account = map.next_value()?,
        }
        Ok(())
    }
}

#[derive(Default)]
struct Account<'a> {
    uid: Option<Scalar<'a>>,
}

impl<'de> Fields<'de> for Account<'de> {
    const NAMES: &'static [&'static str] = &["uid"];
    fn read<A: MapAccess<'de>>(&mut self, _: usize, map: &mut A) -> Result<(), A::Error> {
        self.uid = map.next_value()?;
        Ok(())
    }
}

#[derive(Default)]
struct Metadata {
    uid: Option<IgnoredAny>,
}

impl<'de> Fields<'de> for Metadata {
    const NAMES: &'static [&'static str] = &["uid"];
    fn read<A: MapAccess<'de>>(&mut self, _: usize, map: &mut A) -> Result<(), A::Error> {
        self.uid = map.next_value()?;
        Ok(())
    }
}

/// A key, as its index among the names an object reads (`None`: another key), compared
/// without allocating (an escaped key is unescaped by the parser first).
struct FieldIndex(&'static [&'static str]);

impl<'de> DeserializeSeed<'de> for FieldIndex {
    type Value = Option<usize>;
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for FieldIndex {
    type Value = Option<usize>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an object key")
    }
    fn visit_str<E: de::Error>(self, key: &str) -> Result<Self::Value, E> {
        Ok(self.0.iter().position(|name| *name == key))
    }
}

fn group_key(probe: &Probe<'_>) -> Option<GroupKey> {
    let cloud = match &probe.cloud {
        Some(Object::Is(cloud)) => Some(cloud),
        _ => None,
    };
    let account = cloud.and_then(|c| match &c.account {
        Some(Object::Is(account)) => account.uid.as_ref(),
        _ => None,
    });
    let time = match probe.time.as_ref() {
        Some(Scalar::Int(ms)) => Time::Millis(*ms),
        Some(Scalar::Str(text)) => Time::Text(text),
        _ => Time::Unusable,
    };
    group(
        probe.class_uid.as_ref().and_then(Scalar::as_i64),
        time,
        cloud
            .and_then(|c| c.region.as_ref())
            .and_then(Scalar::as_str),
        account.and_then(Scalar::as_str),
    )
}

/// An event's `time` as far as grouping is concerned.
pub(super) enum Time<'a> {
    /// Epoch milliseconds.
    Millis(i64),
    /// A string (RFC 3339 when usable).
    Text(&'a str),
    /// Absent or of another type.
    Unusable,
}

/// The group of an event from the fields that decide it: the contract's partition rule
/// ([`PartitionKeys::grouping`]) on `time` as normalization will leave it (an RFC 3339 string
/// becomes epoch milliseconds, with the very function normalization uses).
pub(super) fn group(
    class_uid: Option<i64>,
    time: Time<'_>,
    region: Option<&str>,
    account: Option<&str>,
) -> Option<GroupKey> {
    let time_ms = match time {
        Time::Millis(ms) => Some(ms),
        Time::Text(text) => rfc3339_to_epoch_ms(text),
        Time::Unusable => None,
    };
    let partition = PartitionKeys::grouping(&PartitionFields {
        time_ms,
        region,
        account_uid: account,
    })?;
    Some(GroupKey {
        class_uid,
        partition,
    })
}

/// A JSON value seen by the probe: the scalars the partition needs, borrowed when unescaped;
/// anything else is skipped without allocating.
enum Scalar<'a> {
    Int(i64),
    Str(Cow<'a, str>),
    Other,
}

impl Scalar<'_> {
    fn as_str(&self) -> Option<&str> {
        match self {
            Scalar::Str(text) => Some(text),
            _ => None,
        }
    }

    fn as_i64(&self) -> Option<i64> {
        match self {
            Scalar::Int(n) => Some(*n),
            _ => None,
        }
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Scalar<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ScalarVisitor;
        impl<'de> Visitor<'de> for ScalarVisitor {
            type Value = Scalar<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_i64<E: de::Error>(self, n: i64) -> Result<Self::Value, E> {
                Ok(Scalar::Int(n))
            }
            fn visit_u64<E: de::Error>(self, n: u64) -> Result<Self::Value, E> {
                Ok(i64::try_from(n).map_or(Scalar::Other, Scalar::Int))
            }
            fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
                Ok(Scalar::Other)
            }
            fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
                Ok(Scalar::Other)
            }
            fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(Scalar::Other)
            }
            fn visit_borrowed_str<E: de::Error>(self, text: &'de str) -> Result<Self::Value, E> {
                Ok(Scalar::Str(Cow::Borrowed(text)))
            }
            fn visit_str<E: de::Error>(self, text: &str) -> Result<Self::Value, E> {
                Ok(Scalar::Str(Cow::Owned(text.to_owned())))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(Scalar::Other)
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(Scalar::Other)
            }
        }
        deserializer.deserialize_any(ScalarVisitor)
    }
}

/// An object the probe looks into; any other JSON value is skipped (the Lambda reports a
/// wrongly typed `cloud` or `metadata`; the producer only needs to group the event).
enum Object<T> {
    Is(T),
    Not,
}

impl<'de, T: Fields<'de>> Deserialize<'de> for Object<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ObjectVisitor<T>(PhantomData<T>);
        impl<'de, T: Fields<'de>> Visitor<'de> for ObjectVisitor<T> {
            type Value = Object<T>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut object = T::default();
                while let Some(field) = map.next_key_seed(FieldIndex(T::NAMES))? {
                    match field {
                        Some(field) => object.read(field, &mut map)?,
                        None => {
                            map.next_value::<IgnoredAny>()?;
                        }
                    }
                }
                Ok(Object::Is(object))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(Object::Not)
            }
            fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
                Ok(Object::Not)
            }
            fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
                Ok(Object::Not)
            }
            fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
                Ok(Object::Not)
            }
            fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
                Ok(Object::Not)
            }
            fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(Object::Not)
            }
            fn visit_str<E: de::Error>(self, _: &str) -> Result<Self::Value, E> {
                Ok(Object::Not)
            }
        }
        deserializer.deserialize_any(ObjectVisitor(PhantomData))
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{json, Value};

    use super::*;

    /// The group as computed from a parsed `Value` with the transform crate's own readers.
    fn reference(event: &Value) -> Option<GroupKey> {
        let mut fields = PartitionFields::of(event);
        if let Some(text) = event.get("time").and_then(Value::as_str) {
            fields.time_ms = rfc3339_to_epoch_ms(text);
        }
        Some(GroupKey {
            class_uid: event.get("class_uid").and_then(Value::as_i64),
            partition: PartitionKeys::grouping(&fields)?,
        })
    }

    #[test]
    fn agrees_with_the_partition_functions_on_awkward_values() {
        let events = [
            json!({"class_uid": 3002, "time": 1_682_683_200_000_i64,
                   "cloud": {"region": "eu-west-1", "account": {"uid": "123456789012"}}}),
            json!({"time": "2023-04-28T23:30:00-02:00", "cloud": {"region": "a b"}}),
            json!({"time": "2023-04-28T23:30:00Z", "cloud": {"region": "eu\u{2d}west\u{2d}1"}}),
            json!({"time": 1.5e12, "class_uid": 3002}),
            json!({"time": u64::MAX, "class_uid": -1}),
            json!({"time": 1_682_683_200_000_i64, "class_uid": "3002", "cloud": "aws"}),
            json!({"time": 1_682_683_200_000_i64, "cloud": {"account": "123456789012"}}),
            json!({"time": 1_682_683_200_000_i64, "cloud": {"account": {"uid": 123_456_789_012_i64}}}),
            json!({"time": [1], "cloud": {"region": ["x"]}}),
            json!({"time": null, "metadata": "x"}),
            json!({"time": 1_682_683_200_000_i64, "unmapped": {"time": 1, "cloud": {"region": "x"}}}),
        ];
        for event in events {
            let bytes = serde_json::to_vec(&event).unwrap();
            assert_eq!(probe(&bytes).unwrap().group, reference(&event), "{event}");
        }
        let escaped = br#"{"time":1682683200000,"cloud":{"region":"eu\u002dwest-1"}}"#;
        let group = probe(escaped).unwrap().group.unwrap();
        assert_eq!(group.partition.region, "eu-west-1");
    }

    /// Issue 20, item 4: a repeated key is no reason to refuse an event; its last value counts,
    /// as the Lambda's parser (`serde_json::Value`) takes it.
    #[test]
    fn a_repeated_key_is_read_as_its_last_value() {
        let cases = [
            r#"{"class_uid":1,"class_uid":3002,"time":1682683200000,"cloud":{"region":"x"}}"#,
            r#"{"time":"bad","time":1682683200000,"cloud":{"region":"x","region":"eu-west-1"}}"#,
            r#"{"time":1682683200000,"cloud":{"account":{"uid":"1","uid":"123456789012"}},"cloud":{"region":"us-east-1"}}"#,
            r#"{"metadata":{"uid":"a","uid":null},"metadata":{"version":"1.1.0"}}"#,
        ];
        for text in cases {
            let event: Value = serde_json::from_str(text).unwrap();
            let probed = probe(text.as_bytes()).unwrap();
            assert_eq!(probed.group, reference(&event), "{text}");
        }
        assert!(
            probe(br#"{"metadata":{"uid":"a","uid":null}}"#)
                .unwrap()
                .lacks_uid
        );
        assert!(
            !probe(br#"{"metadata":{"uid":null,"uid":"a"}}"#)
                .unwrap()
                .lacks_uid
        );
    }

    #[test]
    fn reports_a_missing_uid_only_for_an_object_metadata() {
        let lacks = |text: &str| probe(text.as_bytes()).unwrap().lacks_uid;
        assert!(lacks(r#"{"metadata":{"version":"1.1.0"}}"#));
        assert!(lacks(r#"{"metadata":{"uid":null}}"#));
        assert!(!lacks(r#"{"metadata":{"uid":"u-1"}}"#));
        assert!(!lacks(r#"{"metadata":"text"}"#));
        assert!(!lacks(r#"{"class_uid":1}"#));
        assert!(
            probe(br#"{"metadata":{"uid":1}"#).is_err(),
            "truncated JSON"
        );
    }
}

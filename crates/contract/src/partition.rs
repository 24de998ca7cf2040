//! Security Lake partition keys: `region`, `accountId`, `eventDay`.
//!
//! Security Lake partitions a custom source as
//! `ext/<source>/region=<region>/accountId=<accountId>/eventDay=<YYYYMMDD>/`, where `eventDay` is
//! the *event's* UTC day and `accountId=external` stands for data not tied to an AWS account
//! (<https://docs.aws.amazon.com/security-lake/latest/userguide/custom-sources.html>).

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value;
use time::OffsetDateTime;

use crate::finding::Code;

/// Earliest `time` accepted as a plausible epoch-milliseconds value: 2000-01-01T00:00:00Z.
/// Smaller values are almost always seconds or microseconds mistaken for milliseconds.
pub const EARLIEST_EVENT_MS: i64 = 946_684_800_000;
/// First `time` past the plausible range: 2100-01-01T00:00:00Z.
pub const LATEST_EVENT_MS: i64 = 4_102_444_800_000;
/// `accountId` for events not tied to a (12-digit) AWS account, as Security Lake documents.
pub const EXTERNAL_ACCOUNT: &str = "external";
/// The event attributes the partition is computed from besides `time` ([`partition_keys`]):
/// the Glue tables always have a column for them, so queries can check a row's partition.
pub const PARTITION_SOURCE_PATHS: [&str; 2] = ["cloud.region", "cloud.account.uid"];
/// Longest partition value accepted from an event or configuration.
const MAX_PARTITION_VALUE_LEN: usize = 64;

/// The Security Lake partition of one event: the only partition-key type of ocsf-firehose. The
/// Lambda returns it as `metadata.partitionKeys` ([`PartitionKeys::to_metadata`]), the stream's
/// prefix reads it with `!{partitionKeyFromLambda:<name>}` ([`PartitionKeys::get`]), the local
/// pipeline buffers per value, and the producer aggregates only events that share one.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PartitionKeys {
    /// AWS region, e.g. `us-east-1`.
    pub region: String,
    /// 12-digit AWS account id, or `external`.
    pub account_id: String,
    /// UTC day of the event's `time`, `YYYYMMDD`.
    pub event_day: String,
}

impl PartitionKeys {
    /// The key names, as Firehose's `!{partitionKeyFromLambda:…}` expressions and the Lambda
    /// response's `metadata.partitionKeys` spell them.
    pub const NAMES: [&'static str; 3] = ["region", "accountId", "eventDay"];

    /// The keys and their values, in the order of [`PartitionKeys::NAMES`].
    fn named(&self) -> [(&'static str, &str); 3] {
        let [region, account_id, event_day] = Self::NAMES;
        [
            (region, &self.region),
            (account_id, &self.account_id),
            (event_day, &self.event_day),
        ]
    }

    /// The value of key `name` (one of [`PartitionKeys::NAMES`]).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.named()
            .into_iter()
            .find_map(|(key, value)| (key == name).then_some(value))
    }

    /// The keys as the Lambda response's `metadata.partitionKeys` (sorted: the response's
    /// one order).
    pub fn to_metadata(&self) -> BTreeMap<String, String> {
        self.named()
            .into_iter()
            .map(|(key, value)| (key.to_owned(), value.to_owned()))
            .collect()
    }

    /// The keys of a Lambda response's `metadata.partitionKeys`; `None` unless all three are
    /// there (Firehose then fails the record: `partitioning-failed`). `get` looks a key up in
    /// whichever map the response was read into.
    pub fn from_metadata<'m>(get: impl Fn(&str) -> Option<&'m String>) -> Option<Self> {
        let [region, account_id, event_day] = Self::NAMES.map(|name| get(name).cloned());
        Some(PartitionKeys {
            region: region?,
            account_id: account_id?,
            event_day: event_day?,
        })
    }

    /// The keys an event will get with the stream's fallbacks left unresolved (`region` and
    /// `accountId` empty where the event carries none): the producer's aggregation key. The
    /// fallbacks are the same for every event of a stream, so events with equal grouping keys
    /// always get equal Lambda keys; an event the rule rejects (no usable `time`, an unsafe
    /// region) has none and travels alone.
    pub fn grouping(fields: &PartitionFields<'_>) -> Option<PartitionKeys> {
        /// The stream's fallbacks, unresolved.
        static UNRESOLVED: PartitionDefaults = PartitionDefaults {
            region: Some(String::new()),
            account_id: Some(String::new()),
        };
        partition_keys(fields, &UNRESOLVED, None, true).keys
    }
}

/// Configured fallbacks for events that do not carry their own region/account.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PartitionDefaults {
    /// Region when the event has no `cloud.region`.
    pub region: Option<String>,
    /// Account id when the event has no 12-digit `cloud.account.uid`.
    pub account_id: Option<String>,
}

/// The fields of an event that decide its partition, as read from the (normalized) event: by
/// [`PartitionFields::of`] from a `Value`, or by the producer's one-pass readers from bytes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PartitionFields<'a> {
    /// `time` when it is an integer (epoch milliseconds once normalized).
    pub time_ms: Option<i64>,
    /// `cloud.region` when it is a string.
    pub region: Option<&'a str>,
    /// `cloud.account.uid` when it is a string.
    pub account_uid: Option<&'a str>,
}

impl<'a> PartitionFields<'a> {
    /// The fields of an event.
    pub fn of(event: &'a Value) -> Self {
        let cloud = event.get("cloud");
        PartitionFields {
            time_ms: event.get("time").and_then(Value::as_i64),
            region: cloud.and_then(|c| c.get("region")).and_then(Value::as_str),
            account_uid: cloud
                .and_then(|c| c.get("account"))
                .and_then(|a| a.get("uid"))
                .and_then(Value::as_str),
        }
    }
}

/// Why an event cannot be partitioned as it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartitionProblem {
    /// [`Code::PartitionTimeInvalid`] or [`Code::PartitionRegionInvalid`].
    pub code: Code,
    /// The attribute at fault.
    pub path: &'static str,
    /// Explanation, free of event values.
    pub message: &'static str,
}

/// Whether `value` is safe as an S3 partition value: 1–64 of `[A-Za-z0-9_.-]`, starting with a
/// letter or digit (so never `.`/`..` and never a `/`).
pub fn is_safe_partition_value(value: &str) -> bool {
    let mut bytes = value.bytes();
    value.len() <= MAX_PARTITION_VALUE_LEN
        && bytes.next().is_some_and(|b| b.is_ascii_alphanumeric())
        && bytes.all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
}

/// Whether `value` is a 12-digit AWS account id.
pub fn is_aws_account_id(value: &str) -> bool {
    value.len() == 12 && value.bytes().all(|b| b.is_ascii_digit())
}

/// Whether `value` is an `accountId` Security Lake accepts: a 12-digit AWS account id,
/// `external`, or `external_<id>`.
pub fn is_account_partition_value(value: &str) -> bool {
    is_aws_account_id(value)
        || value == EXTERNAL_ACCOUNT
        || value
            .strip_prefix("external_")
            .is_some_and(is_safe_partition_value)
}

/// `YYYYMMDD` of an epoch-milliseconds instant, if it is within the plausible range.
pub fn event_day(epoch_ms: i64) -> Option<String> {
    if !(EARLIEST_EVENT_MS..LATEST_EVENT_MS).contains(&epoch_ms) {
        return None;
    }
    let date = OffsetDateTime::from_unix_timestamp(epoch_ms.div_euclid(1000))
        .ok()?
        .date();
    // YYYYMMDD as one number, written digit by digit: every event pays for this, and
    // `format!` costs ten times as much. The year is within 2000..2100, so 8 digits.
    let year = u32::try_from(date.year()).ok()?;
    let day = year * 10_000 + u32::from(u8::from(date.month())) * 100 + u32::from(date.day());
    let mut text = String::with_capacity(8);
    for power in [10_000_000, 1_000_000, 100_000, 10_000, 1_000, 100, 10, 1] {
        text.push(char::from(b'0' + (day / power % 10) as u8));
    }
    Some(text)
}

/// The partition keys of an event (when it can be partitioned) and the problems met on the way
/// (a non-fatal region problem comes with keys built from the fallbacks).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Partitioned {
    /// The keys, when the event can be partitioned.
    pub keys: Option<PartitionKeys>,
    /// What was wrong.
    pub problems: Vec<PartitionProblem>,
}

/// The partition rule, the one place it is written.
///
/// `region`: `cloud.region`, else `defaults.region`, else `fallback_region` (the region of the
/// Firehose invocation). A `cloud.region` that is not a safe partition value is a problem;
/// when `region_problems_fatal` is false the fallbacks apply instead.
/// `accountId`: `cloud.account.uid` when it is a 12-digit AWS account id, else
/// `defaults.account_id`, else `external`. `eventDay`: the UTC day of `time` (epoch
/// milliseconds, 2000-01-01 to 2100-01-01).
pub fn partition_keys(
    fields: &PartitionFields<'_>,
    defaults: &PartitionDefaults,
    fallback_region: Option<&str>,
    region_problems_fatal: bool,
) -> Partitioned {
    let mut problems = Vec::new();
    let fallback = || {
        defaults
            .region
            .as_deref()
            .or(fallback_region.filter(|r| is_safe_partition_value(r)))
    };
    let region = match fields.region {
        Some(r) if is_safe_partition_value(r) => Some(r),
        Some(_) => {
            problems.push(PartitionProblem {
                code: Code::PartitionRegionInvalid,
                path: "cloud.region",
                message: "Attribute \"cloud.region\" cannot be an S3 partition value (1-64 characters of A-Z a-z 0-9 _ . -).",
            });
            if region_problems_fatal {
                None
            } else {
                fallback()
            }
        }
        None => fallback(),
    };
    if region.is_none() && problems.is_empty() {
        problems.push(PartitionProblem {
            code: Code::PartitionRegionInvalid,
            path: "cloud.region",
            message:
                "No region: the event has no \"cloud.region\" and no default region is configured.",
        });
    }
    let day = fields.time_ms.and_then(event_day);
    if day.is_none() {
        problems.push(PartitionProblem {
            code: Code::PartitionTimeInvalid,
            path: "time",
            message: "Attribute \"time\" is missing or not epoch milliseconds between 2000-01-01 and 2100-01-01, so the event has no eventDay.",
        });
    }
    let account_id = fields
        .account_uid
        .filter(|uid| is_aws_account_id(uid))
        .or(defaults.account_id.as_deref())
        .unwrap_or(EXTERNAL_ACCOUNT);
    let keys = match (region, day) {
        (Some(region), Some(event_day)) => Some(PartitionKeys {
            region: region.to_owned(),
            account_id: account_id.to_owned(),
            event_day,
        }),
        _ => None,
    };
    Partitioned { keys, problems }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn keys(
        event: Value,
        defaults: &PartitionDefaults,
        fallback: Option<&str>,
    ) -> Result<PartitionKeys, Vec<Code>> {
        let partitioned = partition_keys(&PartitionFields::of(&event), defaults, fallback, true);
        partitioned
            .keys
            .ok_or_else(|| partitioned.problems.into_iter().map(|p| p.code).collect())
    }

    const T: i64 = 1_682_683_200_123; // 2023-04-28T12:00:00.123Z

    #[test]
    fn event_values_win() {
        let event = json!({"time": T, "cloud": {"region": "eu-west-1", "account": {"uid": "123456789012"}}});
        let defaults = PartitionDefaults {
            region: Some("us-east-1".into()),
            account_id: Some("210987654321".into()),
        };
        assert_eq!(
            keys(event, &defaults, Some("ap-south-1")),
            Ok(PartitionKeys {
                region: "eu-west-1".into(),
                account_id: "123456789012".into(),
                event_day: "20230428".into()
            })
        );
    }

    #[test]
    fn fallbacks_in_order() {
        let event = json!({"time": T, "cloud": {"account": {"uid": "not-an-aws-account"}}});
        let with_default = PartitionDefaults {
            region: Some("us-east-1".into()),
            account_id: None,
        };
        let k = keys(event.clone(), &with_default, Some("ap-south-1")).unwrap();
        assert_eq!(
            (k.region.as_str(), k.account_id.as_str()),
            ("us-east-1", "external")
        );
        let k = keys(
            event.clone(),
            &PartitionDefaults::default(),
            Some("ap-south-1"),
        )
        .unwrap();
        assert_eq!(k.region, "ap-south-1");
        let account_default = PartitionDefaults {
            region: None,
            account_id: Some("111122223333".into()),
        };
        assert_eq!(
            keys(event.clone(), &account_default, Some("x"))
                .unwrap()
                .account_id,
            "111122223333"
        );
        assert_eq!(
            keys(event, &PartitionDefaults::default(), None),
            Err(vec![Code::PartitionRegionInvalid])
        );
    }

    #[test]
    fn event_day_is_the_utc_date_of_every_day_of_the_range() {
        let mut ms = EARLIEST_EVENT_MS;
        while ms < LATEST_EVENT_MS {
            for offset in [0, 43_200_123, 86_399_999] {
                let at = ms + offset;
                let date = OffsetDateTime::from_unix_timestamp(at / 1000)
                    .unwrap()
                    .date();
                let expected = format!(
                    "{:04}{:02}{:02}",
                    date.year(),
                    u8::from(date.month()),
                    date.day()
                );
                assert_eq!(event_day(at), Some(expected), "{at}");
            }
            ms += 86_400_000;
        }
    }

    #[test]
    fn event_day_is_utc_and_bounded() {
        assert_eq!(event_day(T).as_deref(), Some("20230428"));
        assert_eq!(
            event_day(1_682_726_399_999).as_deref(),
            Some("20230428"),
            "23:59:59.999Z"
        );
        assert_eq!(event_day(1_682_726_400_000).as_deref(), Some("20230429"));
        assert_eq!(event_day(EARLIEST_EVENT_MS).as_deref(), Some("20000101"));
        assert_eq!(event_day(EARLIEST_EVENT_MS - 1), None);
        assert_eq!(event_day(LATEST_EVENT_MS), None);
        assert_eq!(event_day(1_682_683_200), None, "seconds, not milliseconds");
    }

    #[test]
    fn bad_time_and_unsafe_region_are_problems() {
        let d = PartitionDefaults::default();
        assert_eq!(
            keys(json!({"cloud": {"region": "us-east-1"}}), &d, None),
            Err(vec![Code::PartitionTimeInvalid])
        );
        assert_eq!(
            keys(
                json!({"time": "2023-04-28", "cloud": {"region": "us-east-1"}}),
                &d,
                None
            ),
            Err(vec![Code::PartitionTimeInvalid])
        );
        let unsafe_region = json!({"time": T, "cloud": {"region": "../../etc"}});
        assert_eq!(
            keys(unsafe_region.clone(), &d, Some("us-east-1")),
            Err(vec![Code::PartitionRegionInvalid])
        );
        let lenient = partition_keys(
            &PartitionFields::of(&unsafe_region),
            &d,
            Some("us-east-1"),
            false,
        );
        assert_eq!(lenient.keys.unwrap().region, "us-east-1");
        assert_eq!(lenient.problems[0].code, Code::PartitionRegionInvalid);
    }

    #[test]
    fn serializes_with_firehose_key_names() {
        let k = PartitionKeys {
            region: "r".into(),
            account_id: "a".into(),
            event_day: "d".into(),
        };
        assert_eq!(
            serde_json::to_value(&k).unwrap(),
            json!({"region": "r", "accountId": "a", "eventDay": "d"})
        );
        let metadata = k.to_metadata();
        assert_eq!(
            serde_json::to_value(&metadata).unwrap(),
            serde_json::to_value(&k).unwrap()
        );
        assert_eq!(
            PartitionKeys::from_metadata(|name| metadata.get(name)),
            Some(k.clone())
        );
        let mut partial = metadata;
        partial.remove("eventDay");
        assert_eq!(PartitionKeys::from_metadata(|name| partial.get(name)), None);
        assert_eq!(k.get("accountId"), Some("a"));
        assert_eq!(k.get("other"), None);
    }

    #[test]
    fn grouping_keys_are_equal_only_when_the_lambda_keys_must_be() {
        let group = |event: Value| PartitionKeys::grouping(&PartitionFields::of(&event));
        let explicit = group(json!({"time": T, "cloud": {"region": "us-east-1"}})).unwrap();
        let fallback = group(json!({"time": T})).unwrap();
        assert_ne!(explicit, fallback, "the stream's region may be another");
        assert_eq!(fallback.region, "");
        assert_eq!(fallback.account_id, "");
        assert_eq!(
            group(json!({"time": T, "cloud": {"account": {"uid": "not-aws"}}})),
            Some(fallback),
            "both take the configured account"
        );
        assert_eq!(group(json!({"time": T, "cloud": {"region": "a b"}})), None);
        assert_eq!(group(json!({"time": 5})), None);
    }

    #[test]
    fn account_partition_values() {
        for ok in ["123456789012", "external", "external_partner-1"] {
            assert!(is_account_partition_value(ok), "{ok}");
        }
        for bad in ["1234", "external_", "external_/x", "partner"] {
            assert!(!is_account_partition_value(bad), "{bad}");
        }
    }

    #[test]
    fn safe_values() {
        for ok in ["us-east-1", "eastus", "cn-north-1", "a", "external_1"] {
            assert!(is_safe_partition_value(ok), "{ok}");
        }
        for bad in [
            "",
            ".",
            "..",
            "-x",
            "us/east",
            "us east",
            "ü",
            &"a".repeat(65),
        ] {
            assert!(!is_safe_partition_value(bad), "{bad}");
        }
    }
}

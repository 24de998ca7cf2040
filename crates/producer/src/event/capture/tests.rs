use proptest::prelude::*;
use serde::Serialize;
use serde_json::{json, Value};

use super::super::probe::{group, probe};
use super::super::GroupKey;
use super::*;

/// `(is an object, group, lacks uid)` by capture while serializing.
fn by_capture<T: Serialize + ?Sized>(event: &T) -> (bool, Option<GroupKey>, bool) {
    let mut bytes = Vec::new();
    let c = serialize(event, &mut bytes).unwrap();
    assert_eq!(
        bytes,
        serde_json::to_vec(event).unwrap(),
        "output unchanged"
    );
    let g = group(c.class_uid(), c.time(), c.region(), c.account());
    (c.object, g, c.lacks_uid())
}

/// The same, read back from the bytes by the probe.
fn by_probe(bytes: &[u8]) -> (bool, Option<GroupKey>, bool) {
    if bytes.first() != Some(&b'{') {
        return (false, None, false);
    }
    let p = probe(bytes).unwrap();
    (true, p.group, p.lacks_uid)
}

fn leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        (1_600_000_000_000_i64..1_900_000_000_000).prop_map(Value::from),
        any::<f64>().prop_map(|f| json!(f)),
        prop::sample::select(vec![
            "2023-04-28T12:00:00Z",
            "2023-04-28T23:30:00-02:00",
            "yesterday",
            "eu-west-1",
            "a b",
            "123456789012",
            "12",
            "",
        ])
        .prop_map(Value::from),
    ]
}

fn value() -> impl Strategy<Value = Value> {
    let keys = prop::sample::select(vec![
        "class_uid",
        "time",
        "cloud",
        "region",
        "account",
        "uid",
        "metadata",
        "version",
        "x",
    ]);
    leaf().prop_recursive(4, 48, 6, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..3).prop_map(Value::Array),
            prop::collection::btree_map(keys.clone(), inner, 0..6).prop_map(|m| Value::Object(
                m.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()
            )),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn capture_reads_what_the_probe_reads_back(event in value()) {
        let bytes = serde_json::to_vec(&event).unwrap();
        prop_assert_eq!(by_capture(&event), by_probe(&bytes));
    }
}

#[derive(Serialize)]
struct Event {
    class_uid: u16,
    time: Millis,
    #[serde(skip_serializing_if = "Option::is_none")]
    message: Option<String>,
    cloud: Cloud,
    metadata: Metadata,
}

#[derive(Serialize)]
struct Millis(i64);

#[derive(Serialize)]
struct Cloud {
    region: Region,
    account: Option<Account>,
}

#[derive(Serialize)]
enum Region {
    #[serde(rename = "eu-west-1")]
    EuWest1,
}

#[derive(Serialize)]
struct Account {
    uid: &'static str,
}

#[derive(Serialize)]
struct Metadata {
    #[serde(skip_serializing_if = "Option::is_none")]
    uid: Option<String>,
    version: &'static str,
}

#[test]
fn derived_structs_newtypes_options_and_enums_are_read_like_their_json() {
    let event = Event {
        class_uid: 3002,
        time: Millis(1_682_683_200_000),
        message: None,
        cloud: Cloud {
            region: Region::EuWest1,
            account: Some(Account {
                uid: "123456789012",
            }),
        },
        metadata: Metadata {
            uid: None,
            version: "1.1.0",
        },
    };
    let bytes = serde_json::to_vec(&event).unwrap();
    let captured = by_capture(&event);
    assert_eq!(captured, by_probe(&bytes));
    let group = captured.1.unwrap();
    assert_eq!(
        (
            group.class_uid,
            group.partition.region.as_str(),
            group.partition.account_id.as_str()
        ),
        (Some(3002), "eu-west-1", "123456789012")
    );
    assert!(captured.2, "metadata without uid");
    assert_eq!(by_capture(&[1, 2]), (false, None, false), "not an object");
    assert!(by_capture(&json!({"time": 1, "metadata": {"uid": null}})).2);
}

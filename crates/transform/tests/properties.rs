//! Property tests: no panic on any input; normalization is idempotent and never adds an error;
//! findings never repeat event values; every document of a buffer is accounted for.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{errors, escape, fixture_events};
use ocsf_firehose_transform::documents::documents;
use ocsf_firehose_transform::{Code, Engine, EngineConfig, OcsfVersion};
use proptest::prelude::*;
use proptest::sample::Index;
use serde_json::{json, Value};

/// Every string value generated here starts with this, so that no schema text can contain it.
const MARK: &str = "vq7-";

fn leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        (-1e15f64..1e15).prop_map(Value::from),
        "[a-z0-9 .:@/-]{0,12}".prop_map(|s| Value::from(format!("{MARK}{s}"))),
        Just(json!("2023-04-28T12:00:00Z")),
        prop_oneof![Just("Logon"), Just("other"), Just("High"), Just("Success")]
            .prop_map(Value::from),
        prop_oneof![Just(0), Just(1), Just(2), Just(99), Just(300_201)].prop_map(Value::from),
    ]
}

fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z_]{1,10}",
        prop_oneof![
            Just("name"),
            Just("uid"),
            Just("type_id"),
            Just("type"),
            Just("time"),
            Just("cloud"),
            Just("unmapped"),
            Just("activity_id"),
            Just("activity_name"),
            Just("user"),
            Just("metadata"),
            Just("profiles"),
            Just("observables"),
            Just("severity_id")
        ]
        .prop_map(String::from),
    ]
}

fn json_value() -> impl Strategy<Value = Value> {
    leaf().prop_recursive(5, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map(key(), inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// One change at a random place of an event.
#[derive(Debug, Clone)]
enum Mutation {
    Remove(Index),
    Replace(Index, Value),
    Insert(Index, String, Value),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        any::<Index>().prop_map(Mutation::Remove),
        (any::<Index>(), json_value()).prop_map(|(i, v)| Mutation::Replace(i, v)),
        (any::<Index>(), key(), json_value()).prop_map(|(i, k, v)| Mutation::Insert(i, k, v)),
    ]
}

/// JSON pointers of every value below the root.
fn pointers(value: &Value, at: String, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                let p = format!("{at}/{}", escape(k));
                out.push(p.clone());
                pointers(v, p, out);
            }
        }
        Value::Array(elements) => {
            for (i, v) in elements.iter().enumerate() {
                let p = format!("{at}/{i}");
                out.push(p.clone());
                pointers(v, p, out);
            }
        }
        _ => {}
    }
}

fn apply(event: &mut Value, mutation: &Mutation) {
    let mut all = Vec::new();
    pointers(event, String::new(), &mut all);
    if all.is_empty() {
        return;
    }
    match mutation {
        Mutation::Remove(i) => {
            let pointer: &str = i.get::<String>(&all);
            let (parent, last) = pointer.rsplit_once('/').unwrap_or(("", pointer));
            let last = last.replace("~1", "/").replace("~0", "~");
            match event.pointer_mut(parent) {
                Some(Value::Object(map)) => {
                    map.remove(&last);
                }
                Some(Value::Array(elements)) => {
                    if let Ok(index) = last.parse::<usize>() {
                        if index < elements.len() {
                            elements.remove(index);
                        }
                    }
                }
                _ => {}
            }
        }
        Mutation::Replace(i, value) => {
            if let Some(slot) = event.pointer_mut(i.get::<String>(&all).as_str()) {
                *slot = value.clone();
            }
        }
        Mutation::Insert(i, key, value) => {
            let target = event
                .pointer_mut(i.get::<String>(&all).as_str())
                .and_then(Value::as_object_mut);
            if let Some(map) = target {
                map.insert(key.clone(), value.clone());
            }
        }
    }
}

/// Events of the schema's shape, broken in a few random places (which normalization often
/// repairs: stripped captions, captions without ids, RFC 3339 times, unknown keys).
fn ocsf_event() -> impl Strategy<Value = Value> {
    let fixtures: Vec<Value> = fixture_events().into_iter().map(|(_, v)| v).collect();
    (
        prop::sample::select(fixtures),
        prop::collection::vec(mutation(), 0..6),
        prop::collection::vec(
            prop::sample::select(vec![
                "activity_id",
                "activity_name",
                "type_uid",
                "type_name",
                "category_uid",
                "category_name",
                "class_name",
                "severity_id",
                "severity",
                "status",
                "status_id",
            ]),
            0..4,
        ),
        any::<bool>(),
        prop::option::of((
            prop::sample::select(vec!["activity_id", "severity_id", "status_id", "type_uid"]),
            0..120_i64,
        )),
    )
        .prop_map(|(mut event, mutations, strip, rfc3339, id)| {
            for m in &mutations {
                apply(&mut event, m);
            }
            if let Some(map) = event.as_object_mut() {
                for key in strip {
                    map.remove(key);
                }
                if rfc3339 {
                    map.insert("time".into(), json!("2023-04-28T12:00:00.5+01:00"));
                }
                if let Some((key, value)) = id {
                    map.insert(key.into(), json!(value));
                }
            }
            event
        })
}

fn engines() -> Vec<Engine> {
    OcsfVersion::ALL
        .into_iter()
        .map(|version| {
            Engine::new(EngineConfig {
                version,
                warn_recommended: true,
                ..EngineConfig::default()
            })
            .unwrap()
        })
        .collect()
}

fn string_values(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::String(s) if s.starts_with(MARK) && s.len() > MARK.len() => out.push(s.clone()),
        Value::Array(a) => a.iter().for_each(|v| string_values(v, out)),
        Value::Object(m) => m.values().for_each(|v| string_values(v, out)),
        _ => {}
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_json_never_panics(value in json_value()) {
        for engine in engines() {
            let verdict = engine.judge(value.clone(), Some("us-east-1"));
            prop_assert!(verdict.is_accepted() || !verdict.validation.findings.is_empty());
            let accepted = verdict.is_accepted();
            prop_assert_eq!(verdict.into_row().is_some(), accepted);
        }
    }

    #[test]
    fn arbitrary_bytes_are_all_accounted_for(bytes in prop::collection::vec(any::<u8>(), 0..256)) {
        let docs: Vec<_> = documents(&bytes).collect();
        for (i, d) in docs.iter().enumerate() {
            prop_assert_eq!(d.index, i);
            prop_assert!(d.offset <= bytes.len());
            if let Some(next) = docs.get(i + 1) {
                prop_assert!(next.offset > d.offset, "reading moves forward");
            }
            if let Err(e) = &d.value {
                prop_assert!(e.offset <= bytes.len());
                // Reading resumes only at a line that opens a document.
                if let Some(next) = docs.get(i + 1) {
                    prop_assert_eq!(bytes[next.offset - 1], b'\n');
                    let opens = matches!(bytes[next.offset], b'{' | b'[');
                    prop_assert!(opens, "a line opening a document");
                }
            }
        }
    }

    #[test]
    fn normalization_is_idempotent_and_adds_no_error(event in ocsf_event()) {
        for engine in engines() {
            let mut once = event.clone();
            engine.normalize(&mut once);
            let mut twice = once.clone();
            prop_assert!(engine.normalize(&mut twice).is_empty());
            prop_assert_eq!(&twice, &once);
            let before = errors(&engine, &event);
            let after = errors(&engine, &once);
            let added: Vec<_> = after.difference(&before).collect();
            prop_assert!(added.is_empty(), "normalization added {:?}", added);
        }
    }

    /// What lets a client send the normalized event: the Lambda judges it exactly as the
    /// original (same acceptance, same findings, same partition, same row).
    #[test]
    fn the_normalized_event_gets_the_same_verdict_as_the_original(event in ocsf_event()) {
        for engine in engines() {
            let first = engine.judge(event.clone(), Some("us-east-1"));
            let again = engine.judge(first.event.clone(), Some("us-east-1"));
            prop_assert_eq!(again.is_accepted(), first.is_accepted());
            prop_assert_eq!(&again.validation, &first.validation);
            prop_assert_eq!(&again.partition, &first.partition);
            prop_assert!(again.actions.is_empty(), "{:?}", again.actions);
            prop_assert_eq!(again.into_row(), first.into_row());
        }
    }

    #[test]
    fn findings_never_repeat_event_values(event in ocsf_event(), extra in json_value()) {
        let mut event = event;
        if let Some(map) = event.as_object_mut() {
            map.insert("severity".into(), json!(format!("{MARK}sev")));
            map.insert("zz_extra".into(), extra);
        }
        let mut values = Vec::new();
        string_values(&event, &mut values);
        for engine in engines() {
            let verdict = engine.judge(event.clone(), None);
            for finding in verdict.validation.findings.iter().chain(&engine.validate(&event).findings) {
                prop_assert!(!finding.message.contains(MARK), "{:?}", finding);
                for v in &values {
                    prop_assert!(!finding.message.contains(v.as_str()));
                }
            }
        }
    }
}

#[test]
fn deeply_nested_documents_are_findings_not_crashes() {
    let engine = Engine::new(EngineConfig::default()).unwrap();
    // 120 levels of process.parent_process: within the parser's limit, beyond ours.
    let mut event = common::fixture_events().remove(0).1;
    let mut text = String::new();
    for _ in 0..120 {
        text.push_str(r#"{"pid": 1, "parent_process": "#);
    }
    text.push_str(r#"{"pid": 1}"#);
    text.push_str(&"}".repeat(120));
    event["actor"]["process"] = serde_json::from_str(&text).unwrap();
    let bytes = serde_json::to_vec(&event).unwrap();
    let parsed = documents(&bytes).next().unwrap().value.unwrap();
    let processed = engine.judge(parsed, None);
    assert!(!processed.is_accepted());
    assert!(processed
        .validation
        .findings
        .iter()
        .any(|f| f.code == Code::DepthExceeded));
    // Beyond the parser's recursion limit: one json_invalid document, no overflow.
    let text = "[".repeat(100_000);
    let docs: Vec<_> = documents(text.as_bytes()).collect();
    assert_eq!(docs.len(), 1);
    assert!(docs[0].value.is_err());
}

//! Events of an extension the engine does not know (a vendor's, AWS's `cloud_resources`, a later
//! OCSF's): carried, not rejected. Every event of the fixtures and of the OCSF example corpus
//! that the engine accepts gets an unknown profile listed and that extension's attributes at
//! the event level, in `metadata`, in an object of the class and in each element of an object
//! list; it is still accepted, with one `profile_unknown` warning, the name still listed, and
//! every leaf of the extension is found in the fitted row (at a column or under `unmapped`).
//! (That the rest of each event is in its row is `corpus.rs`'s leaf-accounting test.)
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::leaves::{find_leaf, leaves, Step};
use ocsf_firehose_transform::{Code, Engine, EngineConfig, OcsfVersion, Severity};
use serde_json::{json, Value};

const PROFILE: &str = "acme_edr";

/// `event` with the extension: its profile listed and its attributes added; the paths added.
fn with_extension(mut event: Value) -> Option<(Value, Vec<Vec<Step>>)> {
    let key = |k: &str| Step::Key(k.to_owned());
    let mut added = vec![
        vec![key("acme_risk")],
        vec![key("metadata"), key("acme_tenant")],
    ];
    let map = event.as_object_mut()?;
    map.insert(
        "acme_risk".into(),
        json!({"score": 7, "tags": ["beacon", "tor"], "model": {"v": 2.5}}),
    );
    let metadata = map.get_mut("metadata")?.as_object_mut()?;
    metadata.insert("acme_tenant".into(), json!("t-0042"));
    match metadata
        .entry("profiles")
        .or_insert_with(|| json!([]))
        .as_array_mut()
    {
        Some(list) => list.push(json!(PROFILE)),
        None => return None,
    }
    // An object of the class, and every element of a list of objects.
    for (name, value) in map.iter_mut() {
        if name == "metadata" || name == "unmapped" {
            continue;
        }
        match value {
            Value::Object(object) => {
                object.insert("acme_sensor".into(), json!(42));
                added.push(vec![key(name), key("acme_sensor")]);
            }
            Value::Array(items) if items.iter().all(Value::is_object) => {
                for (index, item) in items.iter_mut().enumerate() {
                    if let Value::Object(object) = item {
                        object.insert("acme_label".into(), json!(format!("l{index}")));
                        added.push(vec![key(name), Step::Index(index), key("acme_label")]);
                    }
                }
            }
            _ => {}
        }
    }
    Some((event, added))
}

/// The value at `steps`.
fn at<'v>(value: &'v Value, steps: &[Step]) -> &'v Value {
    steps.iter().fold(value, |v, step| match step {
        Step::Key(k) => &v[k.as_str()],
        Step::Index(i) => &v[*i],
    })
}

#[test]
fn an_unknown_extension_is_carried_and_nothing_of_it_is_lost() {
    let (mut carried, mut extension_leaves) = (0, 0);
    for version in OcsfVersion::ALL {
        let engine = Engine::new(EngineConfig {
            version,
            ..EngineConfig::default()
        })
        .unwrap();
        for (_, input) in common::fixture_and_corpus_events() {
            if !engine.judge(input.clone(), None).is_accepted() {
                continue;
            }
            let Some((event, added)) = with_extension(input) else {
                continue;
            };
            let verdict = engine.judge(event.clone(), None);
            let errors: Vec<_> = verdict.errors().collect();
            assert!(errors.is_empty(), "{version}: {errors:?}");
            let warnings: Vec<_> = verdict
                .validation
                .findings
                .iter()
                .filter(|f| f.code == Code::ProfileUnknown)
                .collect();
            assert_eq!(warnings.len(), 1, "{version}: {warnings:?}");
            assert_eq!(warnings[0].severity, Severity::Warning);
            let profiles = verdict.event["metadata"]["profiles"].as_array().unwrap();
            assert!(profiles.contains(&json!(PROFILE)), "the name stays listed");
            let row = verdict.into_row().unwrap().event;
            for path in &added {
                for (steps, value) in leaves(at(&event, path)) {
                    let full: Vec<Step> = path.iter().cloned().chain(steps).collect();
                    if let Err(lost) = find_leaf(&row, &full, &value) {
                        panic!("{version}: the extension's {lost} is lost");
                    }
                    extension_leaves += 1;
                }
            }
            carried += 1;
        }
    }
    assert!(carried >= 10, "only {carried} events carried");
    eprintln!("{carried} events carried, {extension_leaves} extension leaves found again");
}

#[test]
fn the_server_s_verdict_is_one_setting_away() {
    let engine = Engine::new(EngineConfig {
        severity: "profile_unknown=error".parse().unwrap(),
        ..EngineConfig::default()
    })
    .unwrap();
    let (event, _) = with_extension(common::fixture("authentication")).unwrap();
    let verdict = engine.judge(event, None);
    assert!(!verdict.is_accepted());
    assert!(verdict.errors().any(|f| f.code == Code::ProfileUnknown));
}

//! The OCSF project's example events (`../shared/ocsf-examples`, or the folder named by
//! `OCSF_EXAMPLES_DIR`): every file gets a verdict for every document, nothing panics, and the
//! engine's invariants hold on real data.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::BTreeSet;

use ocsf_firehose_transform::documents::documents;
use ocsf_firehose_transform::table::TableModel;
use ocsf_firehose_transform::{Code, Engine, EngineConfig, OcsfVersion};
use serde_json::Value;

struct Verdict {
    file: String,
    index: usize,
    parsed: bool,
    valid: bool,
    codes: BTreeSet<Code>,
}

fn verdicts(engine: &Engine) -> Vec<Verdict> {
    let Some(dir) = common::corpus::corpus_dir() else {
        return Vec::new();
    };
    let files = common::json_files(&dir);
    assert!(
        files.len() >= 70,
        "corpus at {} has {} files",
        dir.display(),
        files.len()
    );
    let mut verdicts = Vec::new();
    for path in files {
        let file = path.file_name().unwrap().to_string_lossy().into_owned();
        let bytes = std::fs::read(&path).unwrap();
        let before = verdicts.len();
        for document in documents(&bytes) {
            let verdict = match document.value {
                Ok(event) => {
                    let validation = engine.validate(&event);
                    for f in &validation.findings {
                        assert!(!f.message.is_empty(), "{file}: {f:?}");
                    }
                    Verdict {
                        file: file.clone(),
                        index: document.index,
                        parsed: true,
                        valid: validation.is_valid(),
                        codes: validation.findings.iter().map(|f| f.code).collect(),
                    }
                }
                Err(_) => Verdict {
                    file: file.clone(),
                    index: document.index,
                    parsed: false,
                    valid: false,
                    codes: [Code::JsonInvalid].into(),
                },
            };
            verdicts.push(verdict);
        }
        assert!(verdicts.len() > before, "{file} got no verdict");
    }
    verdicts
}

fn find<'a>(verdicts: &'a [Verdict], fragment: &str) -> Vec<&'a Verdict> {
    verdicts
        .iter()
        .filter(|v| v.file.contains(fragment))
        .collect()
}

#[test]
fn every_example_gets_a_verdict_under_both_versions() {
    for version in OcsfVersion::ALL {
        let engine = Engine::new(EngineConfig {
            version,
            ..EngineConfig::default()
        })
        .unwrap();
        let verdicts = verdicts(&engine);
        if verdicts.is_empty() {
            return;
        }
        let unparseable = verdicts.iter().filter(|v| !v.parsed).count();
        let valid = verdicts.iter().filter(|v| v.valid).count();
        eprintln!(
            "OCSF {version}: {} documents, {valid} valid, {unparseable} not JSON",
            verdicts.len()
        );
        assert_eq!(
            unparseable, 4,
            "trailing commas, comments and a bad delimiter"
        );
        assert!(valid >= 10, "{valid}");

        let rdp = find(&verdicts, "Zeek__v1.3.0__rdp_log");
        assert_eq!(
            rdp.iter().map(|v| v.index).collect::<Vec<_>>(),
            [0, 1],
            "two concatenated documents"
        );
        let ssc = find(&verdicts, "SSC__malware");
        assert!(
            ssc[0].codes.contains(&Code::EventNotObject),
            "a JSON array is not an event"
        );
        let falco = find(&verdicts, "Falco");
        assert!(falco[0]
            .codes
            .contains(&Code::VersionIncompatibleInitialDevelopment));
    }
}

#[test]
fn security_lake_examples_match_their_version() {
    let v110 = Engine::new(EngineConfig::default()).unwrap();
    let verdicts = verdicts(&v110);
    if verdicts.is_empty() {
        return;
    }
    for name in [
        "markdown__AWS__v1.1.0__CloudTrail__Authentication",
        "markdown__AWS__v1.1.0__VPC-Flowlogs",
        "markdown__AWS__v1.1.0__CloudTrail__API-Activity",
    ] {
        let v = find(&verdicts, name);
        assert!(
            v[0].valid && v[0].codes.is_empty(),
            "{name}: {:?}",
            v[0].codes
        );
    }
    let later = find(
        &verdicts,
        "markdown__Okta__v1.3.0__System-Logs__Authentication",
    );
    assert!(later[0].codes.contains(&Code::VersionIncompatibleLater));
    let v130 = Engine::new(EngineConfig {
        version: OcsfVersion::V1_3_0,
        ..EngineConfig::default()
    })
    .unwrap();
    let verdicts = self::verdicts(&v130);
    let okta = find(
        &verdicts,
        "markdown__Okta__v1.3.0__System-Logs__Authentication",
    );
    assert!(okta[0].valid, "{:?}", okta[0].codes);
}

/// On every real event: normalization is idempotent and adds no error.
#[test]
fn normalization_invariants_hold_on_real_events() {
    let Some(dir) = common::corpus::corpus_dir() else {
        return;
    };
    for_each_event(&dir, |engine, event| {
        let errors = |e: &Value| common::errors(engine, e);
        let mut normalized = event.clone();
        engine.normalize(&mut normalized);
        let mut twice = normalized.clone();
        assert!(engine.normalize(&mut twice).is_empty());
        assert_eq!(twice, normalized);
        let new: Vec<_> = errors(&normalized)
            .difference(&errors(&event))
            .cloned()
            .collect();
        assert!(new.is_empty(), "normalization added errors: {new:?}");
    });
}

/// Calls `f` with each version's engine and every parseable document of the corpus.
fn for_each_event(dir: &std::path::Path, mut f: impl FnMut(&Engine, Value)) {
    for version in OcsfVersion::ALL {
        let engine = Engine::new(EngineConfig {
            version,
            ..EngineConfig::default()
        })
        .unwrap();
        for entry in std::fs::read_dir(dir).unwrap() {
            let bytes = std::fs::read(entry.unwrap().path()).unwrap();
            for document in documents(&bytes) {
                if let Ok(event) = document.value {
                    f(&engine, event);
                }
            }
        }
    }
}

/// On every real event of a known class: once normalized and fitted to its class's (lean) table,
/// every value has a column that holds it (Firehose's Parquet conversion drops nothing), and
/// nothing is lost: every leaf of the normalized event is in the row with the same value, at its
/// place or under `unmapped`; and every leaf path of the input event is still there (at its
/// place or under an `unmapped` key that is a prefix of it).
#[test]
fn every_field_of_real_events_is_in_its_column_or_in_unmapped_once_fitted() {
    let Some(dir) = common::corpus::corpus_dir() else {
        return;
    };
    let (mut fitted_events, mut leaves, mut moved) = (0, 0, 0);
    for_each_event(&dir, |engine, input| {
        let mut event = input.clone();
        engine.normalize(&mut event);
        let Some(uid) = event.get("class_uid").and_then(Value::as_i64) else {
            return;
        };
        let Ok(table) = TableModel::new(engine.schema(), uid, &Default::default()) else {
            return;
        };
        let before = table.unheld_paths(&event);
        let mut row = event.clone();
        let fitted = table.fit(&mut row);
        assert_eq!(
            table.unheld_paths(&row),
            Vec::<String>::new(),
            "class {uid}"
        );
        for path in &fitted.moved {
            assert!(
                row["unmapped"].get(path).is_some_and(Value::is_string),
                "{path} carried under unmapped as a string"
            );
            assert!(before.iter().any(|p| p == path), "{path} was unheld before");
        }
        for (steps, value) in common::leaves::leaves(&event) {
            if let Err(path) = common::leaves::find_leaf(&row, &steps, &value) {
                panic!("class {uid}: the value at {path} is lost");
            }
            leaves += 1;
        }
        for (steps, _) in common::leaves::leaves(&input) {
            assert!(
                common::leaves::has_path(&row, &steps) || common::leaves::has_path(&event, &steps),
                "class {uid}: {} is lost",
                common::leaves::render(&steps)
            );
        }
        moved += fitted.moved.len();
        fitted_events += 1;
    });
    println!(
        "{fitted_events} events, {leaves} leaves found again, {moved} values moved under unmapped"
    );
    assert!(fitted_events > 50, "{fitted_events}");
}

/// The verdict's validation is the validation of the verdict's event, whether the engine made
/// it after normalizing or took the profile trials' one of the same state: on every real event,
/// as it came and without `metadata.profiles` (so every profile it uses is a candidate).
#[test]
fn a_verdict_s_findings_are_its_event_s() {
    let Some(dir) = common::corpus::corpus_dir() else {
        return;
    };
    let mut judged = 0;
    for_each_event(&dir, |engine, event| {
        let mut unlisted = event.clone();
        if let Some(metadata) = unlisted.get_mut("metadata").and_then(Value::as_object_mut) {
            metadata.remove("profiles");
        }
        for event in [event, unlisted] {
            let verdict = engine.judge(event, None);
            let again = engine.validate(&verdict.event).findings;
            let found = &verdict.validation.findings;
            assert!(
                again.is_empty() || found.windows(again.len()).any(|w| w == again.as_slice()),
                "{found:?} lacks {again:?}"
            );
            judged += 1;
        }
    });
    assert!(judged > 100, "{judged}");
}

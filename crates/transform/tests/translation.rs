//! Version translation on real events: every example of the OCSF corpus that is valid in its
//! own release comes out of the Lambda's verdict accepted at 1.3.0 and at 1.1.0, or with a
//! reason the schemas prove (its class does not exist in the target), counted by source version.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::BTreeMap;

use ocsf_firehose_transform::documents::documents;
use ocsf_firehose_transform::schema::{AttrType, Item, Requirement};
use ocsf_firehose_transform::{
    Code, Engine, EngineConfig, OcsfRelease, OcsfVersion, PartitionDefaults, Schema,
    SeverityPolicy, ValidateOptions, Validator,
};
use serde_json::Value;

/// Every parseable corpus event, with its file name.
fn corpus_events() -> Vec<(String, Value)> {
    let Some(dir) = common::corpus::corpus_dir() else {
        return Vec::new();
    };
    let mut events = Vec::new();
    for path in common::json_files(&dir) {
        let file = path.file_name().unwrap().to_string_lossy().into_owned();
        for document in documents(&std::fs::read(&path).unwrap()) {
            if let Ok(event) = document.value {
                if event.is_object() {
                    events.push((file.clone(), event));
                }
            }
        }
    }
    events
}

fn release_of(event: &Value) -> Option<OcsfRelease> {
    event
        .pointer("/metadata/version")
        .and_then(Value::as_str)
        .and_then(OcsfRelease::of_event_version)
}

/// Valid against the schema of the release the event declares (the OCSF server's check).
fn valid_in_own_release(event: &Value, release: OcsfRelease) -> bool {
    let validator = Validator::new(Schema::get(release).unwrap(), ValidateOptions::default());
    validator
        .validate(event, &SeverityPolicy::default())
        .is_valid()
}

/// The item of `uid` in `schema` the last step of `path` belongs to, and that step.
fn resolve<'s>(schema: &'s Schema, uid: i64, path: &'s str) -> Option<(&'s Item, &'s str)> {
    let mut item = &schema.class(uid)?.item;
    let steps: Vec<&str> = path
        .split('.')
        .map(|s| s.split('[').next().unwrap_or(s))
        .collect();
    let (last, parents) = steps.split_last()?;
    for step in parents {
        let AttrType::Object(id) = item.attribute(step)?.ty else {
            return None;
        };
        item = schema.object(id)?;
    }
    Some((item, last))
}

fn requirement(schema: &Schema, uid: i64, path: &str) -> Option<Requirement> {
    let (item, name) = resolve(schema, uid, path)?;
    item.attribute(name).map(|a| a.requirement)
}

/// The constraints of the class of `uid` (empty `path`) or of the object at `path`.
fn constraints(schema: &Schema, uid: i64, path: &str) -> Vec<String> {
    let item = if path.is_empty() {
        schema.class(uid).map(|c| &c.item)
    } else {
        resolve(schema, uid, path).and_then(|(item, name)| match item.attribute(name)?.ty {
            AttrType::Object(id) => schema.object(id),
            AttrType::Scalar(_) => None,
        })
    };
    item.into_iter()
        .flat_map(|item| &item.constraints)
        .map(|c| format!("{:?} {:?}", c.kind, c.paths))
        .collect()
}

/// `a.b[0].c` as a JSON pointer.
fn pointer(path: &str) -> String {
    path.split('.')
        .flat_map(|step| step.split(['[', ']']).filter(|s| !s.is_empty()))
        .map(|s| format!("/{s}"))
        .collect()
}

#[derive(Debug, Default)]
struct Tally {
    /// Why the others are not valid at the target, by code.
    reasons: BTreeMap<&'static str, usize>,
    valid_in_own: usize,
    /// Valid at the target.
    valid: usize,
    /// Of those, with partition keys (the Lambda delivers them).
    accepted: usize,
    untranslatable: usize,
}

#[test]
fn corpus_events_valid_in_their_release_translate_to_both_targets() {
    let events = corpus_events();
    if events.is_empty() {
        return;
    }
    for target in [OcsfVersion::V1_3_0, OcsfVersion::V1_1_0] {
        let engine = Engine::new(EngineConfig {
            version: target,
            // The corpus' events carry no region or account of their own: these fallbacks
            // keep the partition keys out of a test of translation.
            partition: PartitionDefaults {
                region: Some("us-east-1".into()),
                account_id: None,
            },
            ..EngineConfig::default()
        })
        .unwrap();
        let mut tally: BTreeMap<OcsfRelease, Tally> = BTreeMap::new();
        for (file, event) in &events {
            let Some(release) = release_of(event) else {
                continue;
            };
            if !valid_in_own_release(event, release) {
                continue;
            }
            let entry = tally.entry(release).or_default();
            entry.valid_in_own += 1;
            let verdict = engine.judge(event.clone(), None);
            // Valid OCSF whose `time` is outside Security Lake's partitions is a fact of the
            // event, not of translation; it is counted apart.
            let errors: Vec<_> = verdict
                .errors()
                .filter(|f| f.code != Code::PartitionTimeInvalid)
                .collect();
            if errors.is_empty() {
                entry.valid += 1;
                entry.accepted += usize::from(verdict.is_accepted());
                continue;
            }
            // What the schemas prove: the class is not in the target, or the target requires
            // (or constrains) what the source release did not.
            let source = Schema::get(release).unwrap();
            let uid = event["class_uid"].as_i64().unwrap();
            for finding in &errors {
                let proven = match finding.code {
                    Code::VersionUntranslatable | Code::ClassUidUnknown => {
                        Schema::get(target).unwrap().class(uid).is_none()
                    }
                    Code::AttributeRequiredMissing => {
                        requirement(source, uid, &finding.path) != Some(Requirement::Required)
                    }
                    Code::ConstraintFailed => {
                        let target_uid = verdict.event["class_uid"].as_i64().unwrap();
                        let before = constraints(source, uid, &finding.path);
                        verdict.event.pointer(&pointer(&finding.path)).is_some()
                            && constraints(Schema::get(target).unwrap(), target_uid, &finding.path)
                                .iter()
                                .any(|c| !before.contains(c))
                    }
                    _ => false,
                };
                assert!(
                    proven,
                    "{file} ({release} → {target}): {finding:?} {:#}",
                    verdict.event
                );
                *entry.reasons.entry(finding.code.as_str()).or_default() += 1;
            }
            entry.untranslatable += 1;
        }
        for (release, t) in &tally {
            println!(
                "{release} → {target}: {} valid in their own release; {} valid at {target} ({} delivered, the others' time is not epoch ms in 2000-2100); {} not translatable {:?}",
                t.valid_in_own, t.valid, t.accepted, t.untranslatable, t.reasons
            );
        }
        for (release, t) in &tally {
            assert_eq!(t.valid + t.untranslatable, t.valid_in_own, "{release}");
        }
        let total: usize = tally.values().map(|t| t.valid_in_own).sum();
        assert!(total >= 20, "{total} events valid in their own release");
        assert!(tally.len() >= 5, "{} source releases", tally.len());
    }
}

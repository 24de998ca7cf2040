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

/// A small deterministic generator (xorshift64*), seeded by proptest.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        usize::try_from(self.next() % (n.max(1) as u64)).unwrap()
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
}

/// An event of a class of `schema`: each attribute with some chance, values of its type (enum
/// values from the release's own enum, so values other releases lack come up), objects three
/// levels deep, and now and then a key no release defines.
fn generate(schema: &'static Schema, rng: &mut Rng) -> Value {
    let classes: Vec<_> = schema.classes().filter(|c| c.uid != 0).collect();
    let class = classes[rng.below(classes.len())];
    let mut event = match value_of_item(schema, &class.item, rng, 0) {
        Value::Object(map) => map,
        _ => serde_json::Map::new(),
    };
    event.insert("class_uid".into(), class.uid.into());
    let metadata = event
        .entry("metadata")
        .or_insert_with(|| serde_json::json!({}));
    if !metadata.is_object() {
        *metadata = serde_json::json!({});
    }
    metadata["version"] = schema.version().as_str().into();
    let profiles: Vec<Value> = class
        .profiles
        .iter()
        .filter(|_| rng.chance(50))
        .map(|p| schema.profile_name(*p).into())
        .collect();
    metadata["profiles"] = profiles.into();
    Value::Object(event)
}

fn value_of_item(schema: &'static Schema, item: &Item, rng: &mut Rng, depth: usize) -> Value {
    let mut map = serde_json::Map::new();
    for attr in &item.attributes {
        let percent = if depth == 0 { 30 } else { 20 };
        if attr.name == "unmapped" || !rng.chance(percent) {
            continue;
        }
        let one = |rng: &mut Rng| value_of(schema, attr, rng, depth);
        let value = if attr.is_array {
            Value::Array((0..1 + rng.below(2)).filter_map(|_| one(rng)).collect())
        } else {
            match one(rng) {
                Some(v) => v,
                None => continue,
            }
        };
        map.insert(attr.name.to_owned(), value);
    }
    if rng.chance(10) {
        map.insert(format!("vq7_{}", rng.below(100)), "x".into());
    }
    Value::Object(map)
}

fn value_of(
    schema: &'static Schema,
    attr: &ocsf_firehose_transform::schema::Attribute,
    rng: &mut Rng,
    depth: usize,
) -> Option<Value> {
    use ocsf_firehose_transform::schema::{BaseType, EnumKey};
    if let Some(values) = attr.enum_values.as_deref().filter(|v| !v.is_empty()) {
        return Some(match &values[rng.below(values.len())].key {
            EnumKey::Int(i) => (*i).into(),
            EnumKey::Str(s) => (*s).into(),
        });
    }
    match attr.ty {
        AttrType::Object(id) if depth < 3 => {
            Some(value_of_item(schema, schema.object(id)?, rng, depth + 1))
        }
        AttrType::Object(_) => None,
        AttrType::Scalar(id) => Some(match schema.type_def(id)?.base {
            BaseType::Boolean => rng.chance(50).into(),
            BaseType::Integer | BaseType::Long => (rng.below(1000) as i64).into(),
            BaseType::Float => (rng.below(1000) as f64 / 8.0).into(),
            BaseType::String | BaseType::Json => format!("vq7-{}", rng.below(1000)).into(),
        }),
    }
}

/// Every leaf of `input` is in `output`: at its place, under an `unmapped` key that is a
/// prefix of its path, or at the place an `attribute_renamed` action carried it to.
fn assert_no_leaf_lost(
    input: &Value,
    output: &Value,
    actions: &[ocsf_firehose_transform::Action],
) -> usize {
    use common::leaves::{find_leaf, leaves, parse, render};
    let renames: Vec<(String, String)> = actions
        .iter()
        .filter_map(|a| Some((a.from.clone()?, a.path.clone())))
        .collect();
    let mut count = 0;
    for (steps, value) in leaves(input) {
        let path = render(&steps);
        let renamed = renames.iter().find_map(|(from, to)| {
            let rest = path.strip_prefix(from.as_str())?;
            (rest.is_empty() || rest.starts_with(['.', '['])).then(|| parse(&format!("{to}{rest}")))
        });
        // An empty object may have gained a required enum set to Unknown (`unknown_filled`).
        let filled = value == serde_json::json!({})
            && output
                .pointer(&pointer(&path))
                .is_some_and(Value::is_object);
        let found = find_leaf(output, &steps, &value)
            .or_else(|e| renamed.map_or(Err(e), |s| find_leaf(output, &s, &value)))
            .or_else(|e| if filled { Ok(()) } else { Err(e) });
        assert!(found.is_ok(), "{path} = {value} lost: {output:#}");
        count += 1;
    }
    count
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(256))]

    /// Translation between any embedded release and either target never drops a leaf, and is
    /// idempotent: the translated event is at the target, and translating it changes nothing.
    #[test]
    fn translation_keeps_every_leaf_and_is_idempotent(
        seed in 1_u64..,
        release in 0..OcsfRelease::ALL.len(),
        target in 0..OcsfVersion::ALL.len(),
    ) {
        let release = OcsfRelease::ALL[release];
        let target = OcsfVersion::ALL[target];
        let engine = Engine::new(EngineConfig { version: target, ..EngineConfig::default() }).unwrap();
        let input = generate(Schema::get(release).unwrap(), &mut Rng(seed));
        let mut output = input.clone();
        let translation = engine.translate(&mut output);
        assert_no_leaf_lost(&input, &output, &translation.actions);
        if translation.source.is_some() {
            proptest::prop_assert_eq!(&output["metadata"]["version"], target.as_str());
        }
        let mut again = output.clone();
        proptest::prop_assert!(engine.translate(&mut again).actions.is_empty());
        proptest::prop_assert_eq!(again, output);
    }
}

/// The property test is not vacuous: over the same generator, translation exercises its rules.
#[test]
fn generated_events_exercise_the_translation_rules() {
    use ocsf_firehose_transform::ActionKind;
    let mut seen: BTreeMap<&'static str, usize> = BTreeMap::new();
    let mut leaves = 0;
    for target in OcsfVersion::ALL {
        let engine = Engine::new(EngineConfig {
            version: target,
            ..EngineConfig::default()
        })
        .unwrap();
        for (i, release) in OcsfRelease::ALL.iter().cycle().take(2000).enumerate() {
            let input = generate(Schema::get(*release).unwrap(), &mut Rng(i as u64 + 1));
            let mut output = input.clone();
            let translation = engine.translate(&mut output);
            leaves += assert_no_leaf_lost(&input, &output, &translation.actions);
            for action in &translation.actions {
                *seen.entry(action.kind.as_str()).or_default() += 1;
            }
            for problem in &translation.problems {
                *seen.entry(problem.code.as_str()).or_default() += 1;
            }
        }
    }
    println!("{leaves} leaves kept; {seen:?}");
    for kind in [
        ActionKind::VersionTranslated,
        ActionKind::MovedToUnmapped,
        ActionKind::EnumToOther,
        ActionKind::ClassTranslated,
        ActionKind::AttributeRenamed,
        ActionKind::UnknownFilled,
    ] {
        assert!(seen.contains_key(kind.as_str()), "{kind:?} never happened");
    }
    assert!(seen.contains_key(Code::VersionUntranslatable.as_str()));
}

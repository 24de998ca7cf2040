//! Mutation tests: take the valid fixture events, break them one place at a time (remove a
//! required attribute, give a value the wrong JSON type, an undefined enum value, a wrong
//! `type_uid`, an unknown attribute) and check that the right code is reported at the right
//! path, every time, everywhere in the tree.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{escape, fixture_events};
use ocsf_firehose_transform::schema::{AttrType, Attribute, BaseType, EnumKey, Item, Requirement};
use ocsf_firehose_transform::{Code, Engine, EngineConfig, Schema};
use serde_json::{json, Value};

/// A present attribute of the event: its JSON pointer, OCSF path and definition.
struct Site {
    pointer: String,
    path: String,
    attr: &'static Attribute,
}

/// Every present (non-null) attribute, and every object with its pointer, path and definition.
fn sites(
    schema: &'static Schema,
    map: &serde_json::Map<String, Value>,
    item: &'static Item,
    pointer: &str,
    path: &str,
    attrs: &mut Vec<Site>,
    objects: &mut Vec<(String, String, &'static Item)>,
) {
    objects.push((pointer.to_owned(), path.to_owned(), item));
    for (key, value) in map {
        let Some(attr) = item.attribute(key) else {
            continue;
        };
        if value.is_null() {
            continue;
        }
        let child_pointer = format!("{pointer}/{}", escape(key));
        let child_path = if path.is_empty() {
            key.clone()
        } else {
            format!("{path}.{key}")
        };
        attrs.push(Site {
            pointer: child_pointer.clone(),
            path: child_path.clone(),
            attr,
        });
        let AttrType::Object(id) = attr.ty else {
            continue;
        };
        let object = schema.object(id).unwrap();
        if object.is_open() {
            continue;
        }
        match value {
            Value::Object(child) => sites(
                schema,
                child,
                object,
                &child_pointer,
                &child_path,
                attrs,
                objects,
            ),
            Value::Array(elements) => {
                for (i, element) in elements.iter().enumerate() {
                    if let Value::Object(child) = element {
                        let p = format!("{child_pointer}/{i}");
                        let q = format!("{child_path}[{i}]");
                        sites(schema, child, object, &p, &q, attrs, objects);
                    }
                }
            }
            _ => {}
        }
    }
}

struct Case {
    engine: Engine,
    name: String,
    event: Value,
    attrs: Vec<Site>,
    objects: Vec<(String, String, &'static Item)>,
}

fn cases() -> Vec<Case> {
    fixture_events()
        .into_iter()
        .map(|(name, event)| {
            let engine = Engine::new(EngineConfig::default()).unwrap();
            let schema = engine.schema();
            let class = schema.class(event["class_uid"].as_i64().unwrap()).unwrap();
            let (mut attrs, mut objects) = (Vec::new(), Vec::new());
            sites(
                schema,
                event.as_object().unwrap(),
                &class.item,
                "",
                "",
                &mut attrs,
                &mut objects,
            );
            assert!(
                engine.validate(&event).findings.is_empty(),
                "{name} is not clean"
            );
            Case {
                engine,
                name,
                event,
                attrs,
                objects,
            }
        })
        .collect()
}

#[track_caller]
fn expect(case: &Case, mutated: &Value, code: Code, path: &str, what: &str) {
    let validation = case.engine.validate(mutated);
    assert!(
        validation
            .findings
            .iter()
            .any(|f| f.code == code && f.path == path),
        "{}: {what}: expected {code} at {path}, got {:?}",
        case.name,
        validation
            .findings
            .iter()
            .map(|f| (f.code, &f.path))
            .collect::<Vec<_>>()
    );
    assert!(
        !validation.is_valid()
            || code.default_severity() != ocsf_firehose_transform::Severity::Error
    );
}

fn mutate(event: &Value, pointer: &str, change: impl FnOnce(&mut Value)) -> Value {
    let mut copy = event.clone();
    change(copy.pointer_mut(pointer).unwrap());
    copy
}

fn remove(event: &Value, pointer: &str) -> Value {
    let (parent, key) = pointer.rsplit_once('/').unwrap();
    let mut copy = event.clone();
    let key = key.replace("~1", "/").replace("~0", "~");
    copy.pointer_mut(parent)
        .unwrap()
        .as_object_mut()
        .unwrap()
        .remove(&key);
    copy
}

#[test]
fn removing_any_required_attribute_is_reported_at_its_path() {
    let mut checked = 0;
    for case in cases() {
        for site in case
            .attrs
            .iter()
            .filter(|s| s.attr.requirement == Requirement::Required)
        {
            let mutated = remove(&case.event, &site.pointer);
            expect(
                &case,
                &mutated,
                Code::AttributeRequiredMissing,
                &site.path,
                "removed",
            );
            let nulled = mutate(&case.event, &site.pointer, |v| *v = Value::Null);
            expect(
                &case,
                &nulled,
                Code::AttributeRequiredMissing,
                &site.path,
                "null",
            );
            checked += 1;
        }
    }
    assert!(checked >= 60, "{checked}");
}

#[test]
fn a_wrong_json_type_anywhere_is_reported_at_its_path() {
    let mut checked = 0;
    for case in cases() {
        let schema = case.engine.schema();
        for site in &case.attrs {
            let wrong = match site.attr.ty {
                AttrType::Scalar(id) if schema.type_def(id).unwrap().base == BaseType::Json => {
                    continue
                }
                AttrType::Scalar(id) if schema.type_def(id).unwrap().base == BaseType::String => {
                    json!(12_345)
                }
                _ => json!("not the right type"),
            };
            let mutated = mutate(&case.event, &site.pointer, |v| *v = wrong);
            expect(
                &case,
                &mutated,
                Code::AttributeWrongType,
                &site.path,
                "wrong type",
            );
            checked += 1;
        }
    }
    assert!(checked >= 250, "{checked}");
}

#[test]
fn an_undefined_enum_value_anywhere_is_reported_at_its_path() {
    let mut checked = 0;
    for case in cases() {
        for site in &case.attrs {
            let Some(values) = &site.attr.enum_values else {
                continue;
            };
            if !matches!(values[0].key, EnumKey::Int(_)) {
                continue;
            }
            if site.attr.is_array {
                let mutated = mutate(&case.event, &site.pointer, |v| v[0] = json!(123_456));
                let path = format!("{}[0]", site.path);
                expect(
                    &case,
                    &mutated,
                    Code::AttributeEnumArrayValueUnknown,
                    &path,
                    "enum array",
                );
            } else {
                let mutated = mutate(&case.event, &site.pointer, |v| *v = json!(123_456));
                let code = if site.path == "class_uid" {
                    Code::ClassUidUnknown
                } else {
                    Code::AttributeEnumValueUnknown
                };
                expect(&case, &mutated, code, &site.path, "enum");
            }
            checked += 1;
        }
    }
    assert!(checked >= 45, "{checked}");
}

#[test]
fn a_wrong_type_uid_is_reported() {
    for case in cases() {
        let type_uid = case.event["type_uid"].as_i64().unwrap();
        for wrong in [type_uid + 1, type_uid - 100, 0] {
            let mutated = mutate(&case.event, "/type_uid", |v| *v = json!(wrong));
            expect(
                &case,
                &mutated,
                Code::TypeUidIncorrect,
                "type_uid",
                "type_uid",
            );
        }
    }
}

#[test]
fn an_unknown_attribute_in_any_object_is_reported_at_its_path() {
    let mut checked = 0;
    for case in cases() {
        for (pointer, path, item) in &case.objects {
            if item.is_open() {
                continue;
            }
            let mutated = mutate(&case.event, pointer, |v| {
                v.as_object_mut()
                    .unwrap()
                    .insert("zz_not_ocsf".into(), json!(1));
            });
            let expected = if path.is_empty() {
                "zz_not_ocsf".to_owned()
            } else {
                format!("{path}.zz_not_ocsf")
            };
            expect(
                &case,
                &mutated,
                Code::AttributeUnknown,
                &expected,
                "unknown",
            );
            assert_eq!(
                case.engine.validate(&mutated).findings.len(),
                1,
                "{}: only that",
                case.name
            );
            checked += 1;
        }
    }
    assert!(checked >= 50, "{checked}");
}

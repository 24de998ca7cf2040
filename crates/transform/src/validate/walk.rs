//! The attribute tree: requirements, unknown keys, arrays, nested objects (with a depth guard)
//! and class/object constraints.

use serde_json::{Map, Value};

use super::{enums, is_absent, json_type, scalar, Report, ValidateOptions};
use crate::finding::Code;
use crate::path::JsonPath;
use crate::schema::{
    AttrType, Attribute, Constraint, ConstraintKind, Item, ProfileSet, Requirement, Schema,
};

/// One walk over one event.
pub(super) struct Walk<'s, 'v, 'r, 'p> {
    pub(super) schema: &'s Schema,
    pub(super) options: &'r ValidateOptions,
    pub(super) profiles: ProfileSet,
    pub(super) report: &'r mut Report<'p>,
    pub(super) path: JsonPath<'v>,
}

impl<'s, 'v> Walk<'s, 'v, '_, '_> {
    /// Validates `map` (the event or one object) against `item`.
    pub(super) fn item(&mut self, map: &'v Map<String, Value>, item: &'s Item, depth: usize) {
        let open = item.is_open();
        let mut required_present = 0;
        for (key, value) in map {
            match item
                .attribute(key)
                .filter(|a| self.profiles.admits(a.profile))
            {
                Some(attr) if !value.is_null() => {
                    if attr.requirement == Requirement::Required {
                        required_present += 1;
                    }
                    self.attribute(map, key, value, attr, depth);
                }
                Some(_) => {}
                None if open => {}
                None => self.unknown(item, key),
            }
        }
        self.requirements(map, item, required_present);
        for constraint in &item.constraints {
            self.constraint(map, item, constraint);
        }
    }

    /// Missing required (and, when asked, recommended) attributes. Valid events, where every
    /// required attribute was seen while walking the keys, cost no lookup here.
    fn requirements(&mut self, map: &Map<String, Value>, item: &Item, required_present: usize) {
        let profiles = self.profiles;
        let required = || item.required().filter(move |a| profiles.admits(a.profile));
        if required().count() > required_present {
            for attr in required().filter(|a| is_absent(map.get(a.name))) {
                self.report.add(
                    Code::AttributeRequiredMissing,
                    self.path.render_with(attr.name),
                    |p| format!("Required attribute \"{p}\" is missing."),
                );
            }
        }
        if self.options.warn_recommended {
            let missing = item
                .recommended()
                .filter(|a| profiles.admits(a.profile) && is_absent(map.get(a.name)));
            for attr in missing {
                self.report.add(
                    Code::AttributeRecommendedMissing,
                    self.path.render_with(attr.name),
                    |p| format!("Recommended attribute \"{p}\" is missing."),
                );
            }
        }
    }

    fn unknown(&mut self, item: &Item, key: &str) {
        let needs_profile = item.attribute(key).and_then(|a| a.profile);
        let schema = self.schema;
        self.report.add(Code::AttributeUnknown, self.path.render_with(key), |p| match needs_profile {
            Some(profile) => format!(
                "Unknown attribute at \"{p}\"; it belongs to \"{}\" only with the \"{}\" profile, which metadata.profiles does not list.",
                item.name,
                schema.profile_name(profile)
            ),
            None => format!("Unknown attribute at \"{p}\"; it is not defined in \"{}\".", item.name),
        });
    }

    fn attribute(
        &mut self,
        parent: &'v Map<String, Value>,
        key: &'v str,
        value: &'v Value,
        attr: &'s Attribute,
        depth: usize,
    ) {
        self.path.push_key(key);
        if let Some(deprecated) = &attr.deprecated {
            self.report
                .add(Code::AttributeDeprecated, self.path.to_string(), |p| {
                    format!(
                        "Attribute \"{p}\" is deprecated since {}. {}",
                        deprecated.since, deprecated.message
                    )
                });
        }
        if attr.is_array {
            match value.as_array() {
                Some(elements) => {
                    for (index, element) in elements.iter().enumerate() {
                        self.path.push_index(index);
                        self.value(parent, element, attr, Some(index), depth);
                        self.path.pop();
                    }
                }
                None => {
                    let expected = self.type_name(attr);
                    self.report.add(Code::AttributeWrongType, self.path.to_string(), |p| {
                        format!(
                            "Attribute \"{p}\" value has wrong type; expected array of {expected}, got {}.",
                            json_type(value)
                        )
                    });
                }
            }
        } else {
            self.value(parent, value, attr, None, depth);
        }
        self.path.pop();
    }

    /// One value, or one element of an array attribute (`index`).
    fn value(
        &mut self,
        parent: &'v Map<String, Value>,
        value: &'v Value,
        attr: &'s Attribute,
        index: Option<usize>,
        depth: usize,
    ) {
        match attr.ty {
            AttrType::Object(id) => {
                let Some(object) = self.schema.object(id) else {
                    return;
                };
                let Some(map) = value.as_object() else {
                    self.report
                        .add(Code::AttributeWrongType, self.path.to_string(), |p| {
                            format!(
                            "Attribute \"{p}\" value has wrong type; expected {} (object), got {}.",
                            object.name,
                            json_type(value)
                        )
                        });
                    return;
                };
                if depth >= self.options.max_depth {
                    let limit = self.options.max_depth;
                    self.report.add(Code::DepthExceeded, self.path.to_string(), |p| {
                        format!("Object at \"{p}\" is nested deeper than the limit of {limit} levels; its content was not checked.")
                    });
                    return;
                }
                if let Some(deprecated) = &object.deprecated {
                    self.report
                        .add(Code::ObjectDeprecated, self.path.to_string(), |p| {
                            format!(
                                "Object \"{}\" at \"{p}\" is deprecated since {}. {}",
                                object.name, deprecated.since, deprecated.message
                            )
                        });
                }
                self.item(map, object, depth + 1);
            }
            AttrType::Scalar(type_id) => {
                let Some(ty) = self.schema.type_def(type_id) else {
                    return;
                };
                let path = &self.path;
                if scalar::check(self.schema, ty, type_id, value, path, self.report)
                    && attr.enum_values.is_some()
                {
                    enums::check(parent, value, attr, index, &self.path, self.report);
                }
            }
        }
    }

    fn type_name(&self, attr: &Attribute) -> &'s str {
        match attr.ty {
            AttrType::Object(id) => self.schema.object(id).map_or("object", |o| o.name),
            AttrType::Scalar(id) => self.schema.type_def(id).map_or("unknown", |t| t.name),
        }
    }

    fn constraint(&mut self, map: &Map<String, Value>, item: &Item, constraint: &Constraint) {
        let (ok, present) = constraint_met(map, constraint);
        let expectation = match constraint.kind {
            ConstraintKind::AtLeastOne => "at least one of",
            ConstraintKind::JustOne => "exactly one of",
        };
        if !ok {
            let names: Vec<String> = constraint.paths.iter().map(|p| p.join(".")).collect();
            let at = self.path.to_string();
            let location = if at.is_empty() {
                "the event".to_owned()
            } else {
                format!("\"{at}\"")
            };
            self.report.add(Code::ConstraintFailed, at, |_| {
                format!(
                    "Constraint of \"{}\" failed at {location}: expected {expectation} [{}], found {present}.",
                    item.name,
                    names.join(", ")
                )
            });
        }
    }
}

/// Whether `map` meets `constraint`, and how many of its attributes it has.
pub(crate) fn constraint_met(map: &Map<String, Value>, constraint: &Constraint) -> (bool, usize) {
    let present = constraint
        .paths
        .iter()
        .filter(|path| is_present(map, path))
        .count();
    let ok = match constraint.kind {
        ConstraintKind::AtLeastOne => present >= 1,
        ConstraintKind::JustOne => present == 1,
    };
    (ok, present)
}

/// For constraints a key that is present counts even when `null` (the server's behaviour);
/// dotted names are followed through objects.
fn is_present(map: &Map<String, Value>, path: &[&str]) -> bool {
    let mut current = map;
    let Some((last, parents)) = path.split_last() else {
        return false;
    };
    for key in parents {
        match current.get(*key).and_then(Value::as_object) {
            Some(next) => current = next,
            None => return false,
        }
    }
    current.contains_key(*last)
}

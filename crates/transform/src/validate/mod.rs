//! Validation with the semantics of the OCSF server's validator (`POST /api/v2/validate`,
//! `lib/schema/validator2.ex`), in one pass over the event.
//!
//! Stages, each in its own module: the class and profiles (here), the attribute tree
//! (`walk`: requirements, unknown keys, nesting, constraints), scalar types (`scalar`),
//! enums and their siblings (`enums`), and the event-wide rules (`event_rules`: version,
//! `type_uid`, observables).
//!
//! Deliberate differences from the server, each because the server's behaviour is a bug or does
//! not fit JSON: constraint names with dots (`device.os.version`) are resolved as paths (the
//! server looks them up as literal keys and always fails them); integers are accepted for
//! `float_t` (JSON has one number type); a value of the wrong JSON type gets only
//! `attribute_wrong_type`, not also an enum finding; a super type's regex is the super type's
//! (the server applies the subtype's).

mod enums;
pub use enums::{OTHER, UNKNOWN};
mod event_rules;
mod scalar;
mod walk;

pub(crate) use event_rules::refers_to_attribute;
pub(crate) use walk::constraint_met;

use std::collections::BTreeSet;

use serde_json::{Map, Value};

use crate::finding::{Code, Finding, Level, Severity, SeverityPolicy};
use crate::path::JsonPath;
use crate::schema::{Class, ProfileSet, Schema};

/// Default limit of object nesting below the event (see [`ValidateOptions::max_depth`]).
pub const DEFAULT_MAX_DEPTH: usize = 32;

/// What the validator checks beyond the server's defaults.
#[derive(Debug, Clone)]
pub struct ValidateOptions {
    /// Report missing recommended attributes (`attribute_recommended_missing`) as the server's
    /// `missing_recommended=true` does.
    pub warn_recommended: bool,
    /// Objects nested deeper than this below the event get `depth_exceeded` and are not walked.
    pub max_depth: usize,
    /// When set, events of other classes get `class_not_allowed`.
    pub allowed_classes: Option<BTreeSet<i64>>,
}

impl Default for ValidateOptions {
    fn default() -> Self {
        ValidateOptions {
            warn_recommended: false,
            max_depth: DEFAULT_MAX_DEPTH,
            allowed_classes: None,
        }
    }
}

/// The verdict on one event.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Validation {
    /// The event's `class_uid` when it is an integer.
    pub class_uid: Option<i64>,
    /// Findings in the order they were found, after severity configuration.
    pub findings: Vec<Finding>,
}

impl Validation {
    /// `true` when no finding has error severity.
    pub fn is_valid(&self) -> bool {
        !self.findings.iter().any(|f| f.severity == Severity::Error)
    }
}

/// Collects findings, applying the severity policy before anything is rendered.
pub(crate) struct Report<'p> {
    policy: &'p SeverityPolicy,
    findings: Vec<Finding>,
}

impl<'p> Report<'p> {
    pub(crate) fn new(policy: &'p SeverityPolicy) -> Self {
        Report {
            policy,
            findings: Vec::new(),
        }
    }

    /// Adds a finding at `path`; `message` gets the rendered path. Ignored codes cost nothing.
    pub(crate) fn add(&mut self, code: Code, path: String, message: impl FnOnce(&str) -> String) {
        if let Level::Report(severity) = self.policy.level(code) {
            let message = message(&path);
            self.findings.push(Finding {
                code,
                severity,
                path,
                message,
            });
        }
    }

    /// Whether `code` would be reported at all.
    pub(crate) fn wants(&self, code: Code) -> bool {
        self.policy.level(code) != Level::Ignore
    }

    pub(crate) fn into_findings(self) -> Vec<Finding> {
        self.findings
    }
}

/// Validates events against one schema.
#[derive(Debug, Clone)]
pub struct Validator<'s> {
    schema: &'s Schema,
    options: ValidateOptions,
}

/// The active profiles of an event: the known names in `metadata.profiles`, and the profiles of
/// each platform extension named there (`linux`, AWS's spelling).
pub(crate) fn active_profiles(schema: &Schema, event: &Map<String, Value>) -> ProfileSet {
    let mut set = ProfileSet::EMPTY;
    let listed = event
        .get("metadata")
        .and_then(|m| m.get("profiles"))
        .and_then(Value::as_array);
    for name in listed.into_iter().flatten().filter_map(Value::as_str) {
        if let Some(id) = schema.profile_id(name) {
            set.insert(id);
        } else if let Some(profiles) = schema.extension_profiles(name) {
            profiles.iter().for_each(|id| set.insert(id));
        }
    }
    set
}

impl<'s> Validator<'s> {
    /// A validator for `schema`.
    pub fn new(schema: &'s Schema, options: ValidateOptions) -> Self {
        Validator { schema, options }
    }

    /// The schema events are checked against.
    pub fn schema(&self) -> &'s Schema {
        self.schema
    }

    /// Validates one event (any JSON value; non-objects get `event_not_object`).
    pub fn validate(&self, event: &Value, policy: &SeverityPolicy) -> Validation {
        let mut report = Report::new(policy);
        let class_uid = event.get("class_uid").and_then(Value::as_i64);
        if let Some(map) = event.as_object() {
            if let Some(class) = self.resolve_class(map, &mut report) {
                self.validate_class(map, class, &mut report);
            }
        } else {
            report.add(Code::EventNotObject, String::new(), |_| {
                format!("The event is a JSON {}, not an object.", json_type(event))
            });
        }
        Validation {
            class_uid,
            findings: report.into_findings(),
        }
    }

    fn resolve_class(
        &self,
        event: &Map<String, Value>,
        report: &mut Report<'_>,
    ) -> Option<&'s Class> {
        let path = || "class_uid".to_owned();
        match event.get("class_uid") {
            None | Some(Value::Null) => {
                report.add(Code::AttributeRequiredMissing, path(), |p| {
                    format!(
                        "Required attribute \"{p}\" is missing; no further checks are possible."
                    )
                });
                None
            }
            Some(value) => match value.as_i64() {
                None => {
                    report.add(Code::AttributeWrongType, path(), |p| {
                        format!(
                            "Attribute \"{p}\" value has wrong type; expected integer_t, got {}.",
                            json_type(value)
                        )
                    });
                    None
                }
                Some(uid) => {
                    let class = self.schema.class(uid);
                    if class.is_none() {
                        let version = self.schema.version();
                        report.add(Code::ClassUidUnknown, path(), |_| {
                            format!("Unknown \"class_uid\" value; no class is defined for it in OCSF {version}.")
                        });
                    }
                    class
                }
            },
        }
    }

    fn validate_class(
        &self,
        event: &Map<String, Value>,
        class: &'s Class,
        report: &mut Report<'_>,
    ) {
        if let Some(allowed) = &self.options.allowed_classes {
            if !allowed.contains(&class.uid) {
                report.add(Code::ClassNotAllowed, "class_uid".to_owned(), |_| {
                    format!(
                        "Class \"{}\" uid {} is not in the configured class allow-list.",
                        class.item.name, class.uid
                    )
                });
            }
        }
        if let Some(deprecated) = &class.item.deprecated {
            report.add(Code::ClassDeprecated, String::new(), |_| {
                format!(
                    "Class \"{}\" uid {} is deprecated since {}. {}",
                    class.item.name, class.uid, deprecated.since, deprecated.message
                )
            });
        }
        self.check_profiles(event, report);
        let profiles = active_profiles(self.schema, event);
        let mut walk = walk::Walk {
            schema: self.schema,
            options: &self.options,
            profiles,
            report,
            path: JsonPath::default(),
        };
        walk.item(event, &class.item, 0);
        event_rules::check_version(self.schema, event, walk.report);
        event_rules::check_type_uid(event, walk.report);
        event_rules::check_observables(self.schema, event, class, profiles, walk.report);
    }

    fn check_profiles(&self, event: &Map<String, Value>, report: &mut Report<'_>) {
        let listed = event
            .get("metadata")
            .and_then(|m| m.get("profiles"))
            .and_then(Value::as_array);
        for (index, name) in listed.into_iter().flatten().enumerate() {
            if let Some(name) = name.as_str() {
                if self.schema.profile_id(name).is_some() {
                    continue;
                }
                if self.schema.extension_profiles(name).is_some() {
                    report.add(
                        Code::ProfileExtensionName,
                        format!("metadata.profiles[{index}]"),
                        |p| format!("\"{p}\" names a platform extension, not a profile; it stands for the extension's profiles."),
                    );
                } else {
                    let version = self.schema.version();
                    report.add(
                        Code::ProfileUnknown,
                        format!("metadata.profiles[{index}]"),
                        |p| format!("Unknown profile at \"{p}\"; OCSF {version} defines no such profile."),
                    );
                }
            }
        }
    }
}

/// Missing and `null` are both "absent" for requirements and for normalization.
pub(crate) fn is_absent(value: Option<&Value>) -> bool {
    value.is_none_or(Value::is_null)
}

/// The OCSF-ish name of a JSON value's type, for wrong-type messages (never the value itself).
pub(crate) fn json_type(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean_t",
        Value::Number(n) if n.is_f64() => "float_t",
        Value::Number(n) if n.as_i64().is_some() => "integer_t",
        Value::Number(_) => "long_t",
        Value::String(_) => "string_t",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

#[cfg(test)]
mod tests;

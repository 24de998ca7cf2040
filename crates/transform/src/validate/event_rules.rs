//! Event-wide rules checked after the attribute tree: `metadata.version` against the target
//! version, `type_uid = class_uid * 100 + activity_id`, and `observables[].name` references.

use std::cmp::Ordering;

use serde_json::{Map, Value};

use super::Report;
use crate::finding::Code;
use crate::schema::{AttrType, Class, ProfileSet, Schema};

/// `metadata.version` compatibility, with the OCSF server's semantic-versioning rules: equal is
/// fine, earlier is a warning unless it is a 0.x or prerelease version, later is an error.
pub(super) fn check_version(schema: &Schema, event: &Map<String, Value>, report: &mut Report<'_>) {
    let Some(version) = event
        .get("metadata")
        .and_then(|m| m.get("version"))
        .and_then(Value::as_str)
    else {
        return;
    };
    let target_text = schema.version().as_str();
    let path = || "metadata.version".to_owned();
    let Ok(event_version) = semver::Version::parse(version) else {
        report.add(Code::VersionInvalidFormat, path(), |p| {
            format!("Attribute \"{p}\" is not a semantic version (major.minor.patch[-prerelease]).")
        });
        return;
    };
    let Ok(target) = semver::Version::parse(target_text) else {
        return;
    };
    let (code, message) = match event_version.cmp_precedence(&target) {
        Ordering::Equal => return,
        Ordering::Greater => (
            Code::VersionIncompatibleLater,
            format!("is later than the target OCSF version {target_text}; validate against a newer schema"),
        ),
        Ordering::Less if event_version.major == 0 => (
            Code::VersionIncompatibleInitialDevelopment,
            format!("is an initial-development (0.x) version, incompatible with OCSF {target_text}"),
        ),
        Ordering::Less if !event_version.pre.is_empty() => (
            Code::VersionIncompatiblePrerelease,
            format!("is a prerelease version, incompatible with OCSF {target_text}"),
        ),
        Ordering::Less => (
            Code::VersionEarlier,
            format!("is earlier than the target OCSF version {target_text}"),
        ),
    };
    report.add(code, path(), |p| {
        format!("Event version at \"{p}\" {message}.")
    });
}

/// `type_uid` must equal `class_uid * 100 + activity_id` when all three are integers.
pub(super) fn check_type_uid(event: &Map<String, Value>, report: &mut Report<'_>) {
    let int = |key: &str| event.get(key).and_then(Value::as_i64);
    let (Some(class_uid), Some(activity_id), Some(type_uid)) =
        (int("class_uid"), int("activity_id"), int("type_uid"))
    else {
        return;
    };
    let expected = class_uid
        .checked_mul(100)
        .and_then(|v| v.checked_add(activity_id));
    if expected != Some(type_uid) {
        report.add(Code::TypeUidIncorrect, "type_uid".to_owned(), |p| {
            format!("Attribute \"{p}\" does not equal class_uid * 100 + activity_id.")
        });
    }
}

/// Each `observables[].name` must name an attribute path of the class (through objects).
/// Besides the server's dotted form (`actor.user.name`), array steps written `resources[]` or
/// `resources[0]` are accepted for array attributes, as real mappings (AWS Security Hub's among
/// them) write them.
pub(super) fn check_observables(
    schema: &Schema,
    event: &Map<String, Value>,
    class: &Class,
    profiles: ProfileSet,
    report: &mut Report<'_>,
) {
    let Some(observables) = event.get("observables").and_then(Value::as_array) else {
        return;
    };
    for (index, observable) in observables.iter().enumerate() {
        let Some(name) = observable.get("name").and_then(Value::as_str) else {
            continue;
        };
        if !refers_to_attribute(schema, class, profiles, name) {
            report.add(
                Code::ObservableNameInvalidReference,
                format!("observables[{index}].name"),
                |p| {
                    format!(
                        "Attribute \"{p}\" does not name an attribute of class \"{}\" uid {}.",
                        class.item.name, class.uid
                    )
                },
            );
        }
    }
}

pub(crate) fn refers_to_attribute(
    schema: &Schema,
    class: &Class,
    profiles: ProfileSet,
    name: &str,
) -> bool {
    let mut item = &class.item;
    let mut segments = name.split('.').peekable();
    while let Some(segment) = segments.next() {
        let (segment, indexed) = split_array_suffix(segment);
        let Some(attr) = item
            .attribute(segment)
            .filter(|a| profiles.admits(a.profile) && (!indexed || a.is_array))
        else {
            return false;
        };
        if segments.peek().is_none() {
            return true;
        }
        match attr.ty {
            AttrType::Object(id) => match schema.object(id) {
                Some(next) => item = next,
                None => return false,
            },
            AttrType::Scalar(_) => return false,
        }
    }
    false
}

/// `resources[]` / `resources[3]` → (`resources`, true); anything else → (segment, false).
fn split_array_suffix(segment: &str) -> (&str, bool) {
    let Some(open) = segment
        .strip_suffix(']')
        .and_then(|s| s.rfind('[').map(|i| (s, i)))
    else {
        return (segment, false);
    };
    let (body, at) = open;
    let (name, index) = (&body[..at], &body[at + 1..]);
    if index.bytes().all(|b| b.is_ascii_digit()) {
        (name, true)
    } else {
        (segment, false)
    }
}

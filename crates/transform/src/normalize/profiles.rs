//! Profile inference: an event that carries the attributes of a profile it does not list in
//! `metadata.profiles` (say `cloud`, or `time_dt` of `datetime`) gets the profile added,
//! provided the event then validates with no error it did not already have. Otherwise those
//! attributes are moved under `unmapped` like any other unknown attribute.

use std::collections::BTreeSet;

use serde_json::Value;

use super::{Action, ActionKind, NormalizeOptions};
use crate::finding::{Code, Severity};
use crate::schema::{ProfileSet, Schema};
use crate::validate::{ValidateOptions, Validator};

/// Adds each candidate profile (ascending) whose addition adds no error; reports the additions.
pub(super) fn add_harmless(
    schema: &Schema,
    options: &NormalizeOptions,
    event: &mut Value,
    candidates: ProfileSet,
) -> Vec<Action> {
    let validator = Validator::new(
        schema,
        ValidateOptions {
            max_depth: options.max_depth,
            ..ValidateOptions::default()
        },
    );
    let errors = |event: &Value| -> BTreeSet<(Code, String)> {
        validator
            .validate(event, &options.severity)
            .findings
            .into_iter()
            .filter(|f| f.severity == Severity::Error)
            .map(|f| (f.code, f.path))
            .collect()
    };
    let mut current = errors(event);
    let mut actions = Vec::new();
    for id in candidates.iter() {
        let mut trial = event.clone();
        if !list_profile(&mut trial, schema.profile_name(id)) {
            continue;
        }
        let with_profile = errors(&trial);
        if with_profile.is_subset(&current) {
            *event = trial;
            current = with_profile;
            actions.push(Action {
                kind: ActionKind::ProfileAdded,
                path: "metadata.profiles".to_owned(),
                from: None,
            });
        }
    }
    actions
}

/// Appends `name` to `metadata.profiles` (creating the list); `false` when `metadata` is not an
/// object or `profiles` is not a list: neither is invented nor overwritten.
pub(super) fn list_profile(event: &mut Value, name: &str) -> bool {
    let Some(metadata) = event.get_mut("metadata").and_then(Value::as_object_mut) else {
        return false;
    };
    match metadata.get_mut("profiles") {
        None | Some(Value::Null) => {
            metadata.insert("profiles".to_owned(), Value::from(vec![name]));
            true
        }
        Some(Value::Array(list)) => {
            list.push(Value::from(name));
            true
        }
        Some(_) => false,
    }
}

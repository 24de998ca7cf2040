//! Profile inference: an event that carries the attributes of a profile it does not list in
//! `metadata.profiles` (say `cloud`, or `time_dt` of `datetime`) gets the profile added,
//! provided the event then validates with no error it did not already have. Otherwise those
//! attributes are moved under `unmapped` like any other unknown attribute.

use std::collections::BTreeSet;

use serde_json::Value;

use super::{Action, ActionKind};
use crate::finding::{Code, Severity, SeverityPolicy};
use crate::schema::{ProfileSet, Schema};
use crate::validate::{Validation, Validator};

/// What [`add_harmless`] did: the profiles it added, and the validation of the event as it
/// leaves it, when one was made of that very state (the engine then need not make it again).
pub(super) struct Added {
    pub actions: Vec<Action>,
    pub validation: Option<Validation>,
}

/// A state of the event: its validation, and the `(code, path)` of its errors.
struct State {
    validation: Validation,
    errors: BTreeSet<(Code, String)>,
}

impl State {
    fn of(validator: &Validator<'_>, policy: &SeverityPolicy, event: &Value) -> State {
        let validation = validator.validate(event, policy);
        let errors = validation
            .findings
            .iter()
            .filter(|f| f.severity == Severity::Error)
            .map(|f| (f.code, f.path.clone()))
            .collect();
        State { validation, errors }
    }
}

/// Adds each candidate profile (ascending) whose addition adds no error under `validator` and
/// `policy` (the engine's: an error both with and without a profile, `class_not_allowed` say,
/// decides nothing); reports the additions.
pub(super) fn add_harmless(
    schema: &Schema,
    validator: &Validator<'_>,
    policy: &SeverityPolicy,
    event: &mut Value,
    candidates: ProfileSet,
) -> Added {
    // The event as it stands, known once needed: a profile after which the event has no error
    // at all adds none, whatever it had before (the common case: one validation).
    let mut current: Option<State> = None;
    let mut actions = Vec::new();
    for id in candidates.iter() {
        let name = schema.profile_name(id);
        // Tried on the event itself and taken back when it adds an error: no copy of the tree.
        let Some(mut listed) = try_list_profile(event, name) else {
            continue;
        };
        let with_profile = State::of(validator, policy, event);
        if !with_profile.errors.is_empty() && current.is_none() {
            // Nothing was added before this one (or `current` would be known): the event
            // without it is the event as it came.
            unlist_profile(event, listed);
            current = Some(State::of(validator, policy, event));
            let Some(again) = try_list_profile(event, name) else {
                continue;
            };
            listed = again;
        }
        if current
            .as_ref()
            .is_none_or(|current| with_profile.errors.is_subset(&current.errors))
        {
            current = Some(with_profile);
            actions.push(Action {
                kind: ActionKind::ProfileAdded,
                path: "metadata.profiles".to_owned(),
                from: None,
            });
        } else {
            // Back to the state `current` describes.
            unlist_profile(event, listed);
        }
    }
    Added {
        actions,
        validation: current.map(|state| state.validation),
    }
}

/// How [`try_list_profile`] listed a profile, to take it back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Listed {
    /// `metadata.profiles` was absent: created.
    Created,
    /// `metadata.profiles` was `null`: replaced by a list.
    ReplacedNull,
    /// Appended to the list.
    Appended,
}

/// As [`list_profile`], saying how, so that [`unlist_profile`] can take it back.
fn try_list_profile(event: &mut Value, name: &str) -> Option<Listed> {
    let metadata = event.get_mut("metadata").and_then(Value::as_object_mut)?;
    match metadata.get_mut("profiles") {
        None => {
            metadata.insert("profiles".to_owned(), Value::from(vec![name]));
            Some(Listed::Created)
        }
        Some(profiles @ Value::Null) => {
            *profiles = Value::from(vec![name]);
            Some(Listed::ReplacedNull)
        }
        Some(Value::Array(list)) => {
            list.push(Value::from(name));
            Some(Listed::Appended)
        }
        Some(_) => None,
    }
}

/// Takes back what [`try_list_profile`] did: the event is as it was before.
fn unlist_profile(event: &mut Value, listed: Listed) {
    let Some(metadata) = event.get_mut("metadata").and_then(Value::as_object_mut) else {
        return;
    };
    match listed {
        Listed::Created => {
            metadata.remove("profiles");
        }
        Listed::ReplacedNull => {
            metadata.insert("profiles".to_owned(), Value::Null);
        }
        Listed::Appended => {
            if let Some(Value::Array(list)) = metadata.get_mut("profiles") {
                list.pop();
            }
        }
    }
}

/// Appends `name` to `metadata.profiles` (creating the list); `false` when `metadata` is not an
/// object or `profiles` is not a list: neither is invented nor overwritten.
pub(super) fn list_profile(event: &mut Value, name: &str) -> bool {
    try_list_profile(event, name).is_some()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    /// A profile tried and taken back leaves the event as it was, whatever `profiles` was.
    #[test]
    fn a_profile_taken_back_leaves_the_event_as_it_was() {
        for before in [
            json!({"metadata": {"version": "1.1.0"}}),
            json!({"metadata": {"profiles": null}}),
            json!({"metadata": {"profiles": ["cloud"]}}),
        ] {
            let mut event = before.clone();
            let listed = try_list_profile(&mut event, "host");
            assert!(listed.is_some());
            assert_ne!(event, before);
            assert!(event["metadata"]["profiles"]
                .as_array()
                .is_some_and(|p| p.last() == Some(&json!("host"))));
            if let Some(listed) = listed {
                unlist_profile(&mut event, listed);
            }
            assert_eq!(event, before);
        }
        let mut odd = json!({"metadata": {"profiles": "cloud"}});
        assert_eq!(try_list_profile(&mut odd, "host"), None, "not overwritten");
        assert_eq!(try_list_profile(&mut json!({"metadata": 1}), "host"), None);
    }
}

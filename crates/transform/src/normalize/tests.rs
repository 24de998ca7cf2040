//! Normalization rules, each checked for its result, its reported action and idempotence.

use serde_json::{json, Value};

use super::*;
use crate::finding::SeverityPolicy;
use crate::test_support::{fixture, FIXTURES};
use crate::validate::{ValidateOptions, Validator};
use crate::version::OcsfVersion;

fn schema() -> &'static Schema {
    Schema::get(OcsfVersion::V1_1_0).unwrap()
}

fn normalize_with(event: &mut Value, policy: UnknownAttributes) -> Vec<Action> {
    let options = NormalizeOptions {
        unknown_attributes: policy,
        ..NormalizeOptions::default()
    };
    Normalizer::new(schema(), options).normalize(event)
}

/// Normalizes, checks idempotence, and returns `(kind, path)` of the actions.
fn normalize(event: &mut Value) -> Vec<(ActionKind, String)> {
    let actions = normalize_with(event, UnknownAttributes::Unmapped);
    let mut again = event.clone();
    assert!(
        normalize_with(&mut again, UnknownAttributes::Unmapped).is_empty(),
        "not idempotent"
    );
    assert_eq!(&again, event);
    actions.into_iter().map(|a| (a.kind, a.path)).collect()
}

fn is_valid(event: &Value) -> bool {
    let v = Validator::new(schema(), ValidateOptions::default())
        .validate(event, &SeverityPolicy::default());
    v.is_valid()
}

fn remove(event: &mut Value, keys: &[&str]) {
    let map = event.as_object_mut().unwrap();
    for key in keys {
        map.remove(*key);
    }
}

/// A fixture as the Lambda leaves it: normalized once.
fn normalized(name: &str) -> Value {
    let mut event = fixture(name);
    normalize(&mut event);
    event
}

/// Removes the attribute at a reported path (`a.b[0].c_dt`).
fn remove_path(event: &mut Value, path: &str) {
    let mut parts: Vec<&str> = path.split('.').collect();
    let last = parts.pop().unwrap();
    let mut at = event;
    for part in parts {
        at = match part.split_once('[') {
            Some((key, index)) => {
                &mut at[key][index.trim_end_matches(']').parse::<usize>().unwrap()]
            }
            None => &mut at[part],
        };
    }
    at.as_object_mut().unwrap().remove(last);
}

/// Valid fixtures are left as they are, but for the `datetime` profile listed where they do not
/// list it and their `*_dt` siblings filled from the epoch fields (`time_dt` always).
#[test]
fn valid_fixtures_gain_only_the_datetime_profile_and_their_dt_siblings() {
    for name in FIXTURES {
        let original = fixture(name);
        let mut event = original.clone();
        let actions = normalize(&mut event);
        let listed = |e: &Value| {
            e["metadata"]["profiles"]
                .as_array()
                .unwrap()
                .contains(&json!("datetime"))
        };
        assert_eq!(actions.is_empty(), listed(&original), "{name}: {actions:?}");
        let expected_time_dt = time::epoch_ms_to_datetime(event["time"].as_i64().unwrap()).unwrap();
        assert!(
            listed(&event) && event["time_dt"] == json!(expected_time_dt),
            "{name}"
        );
        for (kind, path) in &actions {
            match kind {
                ActionKind::DatetimeFilled => remove_path(&mut event, path),
                ActionKind::ProfileAdded => event["metadata"]["profiles"]
                    .as_array_mut()
                    .unwrap()
                    .retain(|p| p != "datetime"),
                other => panic!("{name}: {other:?} at {path}"),
            }
        }
        assert_eq!(event, original, "{name}: nothing else changed");
    }
}

#[test]
fn derivable_ids_and_captions_are_restored_exactly() {
    let original = fixture("authentication");
    let mut event = original.clone();
    let derived = [
        "category_uid",
        "category_name",
        "class_name",
        "type_uid",
        "type_name",
        "activity_name",
        "severity",
        "status",
        "logon_type",
        "auth_protocol",
    ];
    remove(&mut event, &derived);
    event["user"].as_object_mut().unwrap().remove("type");
    let actions = normalize(&mut event);
    assert_eq!(event, original);
    assert!(actions.contains(&(ActionKind::DerivedFilled, "category_uid".into())));
    assert!(actions.contains(&(ActionKind::DerivedFilled, "type_uid".into())));
    assert!(actions.contains(&(ActionKind::CaptionFilled, "type_name".into())));
    assert!(actions.contains(&(ActionKind::CaptionFilled, "user.type".into())));
    assert_eq!(actions.len(), derived.len() + 1, "{actions:?}");
}

#[test]
fn ids_from_captions_case_insensitively_and_other_for_unknown_captions() {
    let mut event = fixture("authentication");
    remove(
        &mut event,
        &[
            "activity_id",
            "type_uid",
            "type_name",
            "logon_type_id",
            "severity_id",
        ],
    );
    event["activity_name"] = json!("logoff");
    event["logon_type"] = json!("Vendor Special");
    event["severity"] = json!("INFORMATIONAL");
    let actions = normalize(&mut event);
    assert_eq!(event["activity_id"], json!(2));
    assert_eq!(
        event["activity_name"],
        json!("Logoff"),
        "the caption is the id's, once the id is known"
    );
    assert_eq!(
        event["unmapped"]["activity_name"],
        json!("logoff"),
        "as it came"
    );
    assert!(actions.contains(&(ActionKind::CaptionRewritten, "activity_name".into())));
    assert_eq!(event["type_uid"], json!(300_202));
    assert_eq!(event["type_name"], json!("Authentication: Logoff"));
    assert_eq!(event["logon_type_id"], json!(99));
    assert_eq!(event["logon_type"], json!("Vendor Special"));
    assert_eq!(event["severity_id"], json!(1));
    assert!(actions.contains(&(ActionKind::IdFromCaption, "activity_id".into())));
    assert!(actions.contains(&(ActionKind::OtherFromCaption, "logon_type_id".into())));
    assert!(is_valid(&event));
}

#[test]
fn activity_comes_from_type_uid_when_present() {
    let mut event = fixture("authentication");
    remove(&mut event, &["activity_id"]);
    event["activity_name"] = json!("Logoff"); // contradicts type_uid 300201: type_uid wins
    let actions = normalize(&mut event);
    assert_eq!(event["activity_id"], json!(1));
    assert_eq!(
        event["activity_name"],
        json!("Logon"),
        "the caption follows the id"
    );
    assert_eq!(event["unmapped"]["activity_name"], json!("Logoff"));
    assert_eq!(
        actions,
        [
            (ActionKind::DerivedFilled, "activity_id".to_owned()),
            (ActionKind::CaptionRewritten, "activity_name".to_owned())
        ]
    );

    // A type_uid of another class gives no activity, and the caption does not either.
    let mut event = fixture("authentication");
    remove(&mut event, &["activity_id"]);
    event["type_uid"] = json!(600_302);
    assert!(normalize(&mut event).is_empty());
    assert!(event.get("activity_id").is_none());
}

#[test]
fn undefined_activity_gives_no_type_uid() {
    let mut event = fixture("authentication");
    remove(&mut event, &["type_uid", "type_name"]);
    event["activity_id"] = json!(42);
    normalize(&mut event);
    assert!(event.get("type_uid").is_none());
}

#[test]
fn enum_arrays_in_both_directions() {
    let original = normalized("dns_activity");
    let mut event = original.clone();
    event["answers"][0].as_object_mut().unwrap().remove("flags");
    let actions = normalize(&mut event);
    assert_eq!(event, original);
    assert_eq!(
        actions,
        [(ActionKind::CaptionFilled, "answers[0].flags".to_owned())]
    );

    let mut event = original.clone();
    event["answers"][0]
        .as_object_mut()
        .unwrap()
        .remove("flag_ids");
    event["answers"][0]["flags"] = json!(["authoritative answer", "Made Up"]);
    let actions = normalize(&mut event);
    assert_eq!(event["answers"][0]["flag_ids"], json!([1, 99]));
    assert_eq!(
        event["answers"][0]["flags"],
        json!(["Authoritative Answer", "Made Up"]),
        "a defined id's caption is its own; 99 keeps the source's"
    );
    assert_eq!(
        actions,
        [
            (
                ActionKind::OtherFromCaption,
                "answers[0].flag_ids".to_owned()
            ),
            (ActionKind::CaptionRewritten, "answers[0].flags".to_owned())
        ]
    );
}

#[test]
fn metadata_version_is_filled_only_inside_metadata() {
    let mut event = fixture("authentication");
    event["metadata"].as_object_mut().unwrap().remove("version");
    assert_eq!(
        normalize(&mut event),
        [(ActionKind::VersionFilled, "metadata.version".to_owned())]
    );
    assert_eq!(event["metadata"]["version"], json!("1.1.0"));
    let mut event = fixture("authentication");
    remove(&mut event, &["metadata"]);
    let actions = normalize(&mut event);
    assert!(actions
        .iter()
        .all(|(kind, _)| *kind != ActionKind::VersionFilled));
    assert!(event.get("metadata").is_none(), "metadata is not invented");
}

#[test]
fn rfc3339_timestamps_become_epoch_ms() {
    let mut event = fixture("authentication");
    event["time"] = json!("2023-04-28T14:00:00.123+02:00");
    event["actor"]["session"]["created_time"] = json!("2023-04-28T11:00:00Z");
    event["start_time"] = json!("2023-04-28T11:00:00"); // no offset: not derivable
    let actions = normalize(&mut event);
    assert_eq!(event["time"], json!(1_682_683_200_123_i64));
    assert_eq!(
        event["actor"]["session"]["created_time"],
        json!(1_682_679_600_000_i64)
    );
    assert_eq!(event["start_time"], json!("2023-04-28T11:00:00"));
    assert_eq!(
        actions,
        [
            (
                ActionKind::TimestampConverted,
                "actor.session.created_time".to_owned()
            ),
            (
                ActionKind::DatetimeFilled,
                "actor.session.created_time_dt".to_owned()
            ),
            (ActionKind::TimestampConverted, "time".to_owned()),
        ]
    );
}

#[test]
fn nothing_is_invented() {
    let mut event = fixture("authentication");
    remove(&mut event, &["time", "severity_id", "severity"]);
    event["metadata"].as_object_mut().unwrap().remove("product");
    normalize(&mut event);
    for key in ["time", "severity_id", "severity"] {
        assert!(event.get(key).is_none(), "{key}");
    }
    assert!(event["metadata"].get("product").is_none());
}

#[test]
fn unknown_attributes_move_to_unmapped_under_their_path() {
    let mut event = fixture("authentication");
    event["vendor_score"] = json!(7);
    event["user"]["shoe_size"] = json!(44);
    let mut network = normalized("network_activity");
    network["dst_endpoint"]["extra"] = json!({"a": [1, 2]});
    let actions = normalize(&mut event);
    assert_eq!(event["unmapped"]["vendor_score"], json!(7));
    assert_eq!(event["unmapped"]["user.shoe_size"], json!(44));
    assert_eq!(
        event["unmapped"]["additionalEventData.MobileVersion"],
        json!("No"),
        "kept"
    );
    assert!(event.get("vendor_score").is_none() && event["user"].get("shoe_size").is_none());
    assert!(actions.contains(&(ActionKind::MovedToUnmapped, "user.shoe_size".into())));
    assert!(is_valid(&event));

    let actions = normalize(&mut network);
    assert_eq!(
        actions,
        [(ActionKind::MovedToUnmapped, "dst_endpoint.extra".to_owned())]
    );
    assert_eq!(
        network["unmapped"],
        json!({"dst_endpoint.extra": {"a": [1, 2]}})
    );

    let mut finding = normalized("detection_finding");
    finding["evidences"][0]["note"] = json!("n");
    normalize(&mut finding);
    assert_eq!(finding["unmapped"], json!({"evidences[0].note": "n"}));
}

#[test]
fn profiles_of_present_attributes_are_added_when_harmless() {
    let mut event = fixture("authentication");
    event["metadata"]["profiles"] = json!(["datetime"]);
    let actions = normalize(&mut event);
    assert_eq!(
        actions,
        [(ActionKind::ProfileAdded, "metadata.profiles".to_owned())]
    );
    assert_eq!(event["metadata"]["profiles"], json!(["datetime", "cloud"]));
    assert_eq!(event["cloud"]["region"], json!("us-east-1"));
    assert!(is_valid(&event));

    let mut event = fixture("authentication");
    event["metadata"]
        .as_object_mut()
        .unwrap()
        .remove("profiles");
    event["cloud"]["account"]
        .as_object_mut()
        .unwrap()
        .remove("type");
    let actions = normalize(&mut event);
    assert_eq!(event["metadata"]["profiles"], json!(["datetime", "cloud"]));
    assert_eq!(
        event["cloud"]["account"]["type"],
        json!("AWS Account"),
        "normalized once admitted"
    );
    assert_eq!(
        actions
            .iter()
            .filter(|(k, _)| *k == ActionKind::ProfileAdded)
            .count(),
        2
    );
}

/// An event with an error of its own still gets a profile that adds none.
#[test]
fn a_profile_is_added_to_an_event_with_errors_of_its_own_when_it_adds_none() {
    let mut event = fixture("authentication");
    event["metadata"]["profiles"] = json!(["datetime"]);
    event["user"] = json!(5);
    let actions = normalize(&mut event);
    assert!(actions.contains(&(ActionKind::ProfileAdded, "metadata.profiles".to_owned())));
    assert_eq!(event["metadata"]["profiles"], json!(["datetime", "cloud"]));
    assert!(!is_valid(&event), "the event's own error stays");
}

#[test]
fn profiles_that_would_add_errors_are_not_added() {
    let mut event = fixture("authentication");
    event["metadata"]["profiles"] = json!(["datetime"]);
    event["cloud"].as_object_mut().unwrap().remove("provider"); // required by `cloud`
    let actions = normalize(&mut event);
    assert_eq!(actions, [(ActionKind::MovedToUnmapped, "cloud".to_owned())]);
    assert_eq!(event["metadata"]["profiles"], json!(["datetime"]));
    assert_eq!(event["unmapped"]["cloud"]["region"], json!("us-east-1"));
    assert!(is_valid(&event));
    // A profiles value that is not a list is not overwritten.
    let mut event = fixture("authentication");
    event["metadata"]["profiles"] = json!("cloud");
    normalize(&mut event);
    assert_eq!(event["metadata"]["profiles"], json!("cloud"));
    assert!(event["unmapped"].get("cloud").is_some());
}

#[test]
fn unknown_attributes_stay_when_they_cannot_move() {
    // The key is taken in unmapped already.
    let mut event = fixture("authentication");
    event["unmapped"]["vendor_score"] = json!("earlier");
    event["vendor_score"] = json!(7);
    assert!(normalize(&mut event).is_empty());
    assert_eq!(event["vendor_score"], json!(7));
    assert!(!is_valid(&event));
    // unmapped is not an object.
    let mut event = fixture("authentication");
    event["unmapped"] = json!("text");
    event["vendor_score"] = json!(7);
    assert!(normalize(&mut event).is_empty());
    assert_eq!(event["unmapped"], json!("text"));
    // A null unmapped is replaced only when something moves into it.
    let mut event = fixture("authentication");
    event["unmapped"] = Value::Null;
    assert!(normalize(&mut event).is_empty());
    assert_eq!(event["unmapped"], Value::Null);
    event["vendor_score"] = json!(7);
    normalize(&mut event);
    assert_eq!(event["unmapped"], json!({"vendor_score": 7}));
}

#[test]
fn keep_and_reject_policies_leave_unknown_attributes_in_place() {
    for policy in [UnknownAttributes::Keep, UnknownAttributes::Reject] {
        let mut event = fixture("authentication");
        event["vendor_score"] = json!(7);
        assert!(normalize_with(&mut event, policy).is_empty());
        assert_eq!(event["vendor_score"], json!(7));
    }
    assert_eq!("KEEP".parse(), Ok(UnknownAttributes::Keep));
    assert!("drop".parse::<UnknownAttributes>().is_err());
}

#[test]
fn events_without_a_known_class_are_untouched() {
    for mut event in [
        json!([1]),
        json!({"class_uid": 1}),
        json!({"activity_name": "Logon"}),
    ] {
        let before = event.clone();
        assert!(normalize(&mut event).is_empty());
        assert_eq!(event, before);
    }
}

#[test]
fn action_kinds_have_stable_names() {
    let names: Vec<&str> = ActionKind::ALL.iter().map(|k| k.as_str()).collect();
    for (kind, name) in ActionKind::ALL.iter().zip(&names) {
        assert_eq!(serde_json::to_value(kind).unwrap(), json!(name));
    }
}

#[test]
fn datetime_siblings_are_filled_from_epoch_fields_and_the_profile_listed() {
    let mut event = fixture("authentication");
    event["metadata"]["profiles"] = json!(["datetime"]);
    event.as_object_mut().unwrap().remove("time_dt");
    event["time"] = json!(1_682_683_200_123_i64);
    event["start_time"] = json!("2023-04-28T14:00:00+02:00");
    event["end_time"] = json!(1_682_683_300_000_i64);
    event["end_time_dt"] = json!("2023-04-28T12:01:40Z");
    event["metadata"]["processed_time"] = json!(1_682_683_201_000_i64);
    let actions = normalize(&mut event);
    let filled: Vec<&str> = actions
        .iter()
        .filter(|(kind, _)| *kind == ActionKind::DatetimeFilled)
        .map(|(_, path)| path.as_str())
        .collect();
    assert_eq!(
        filled,
        vec!["metadata.processed_time_dt", "start_time_dt", "time_dt"]
    );
    assert_eq!(event["time_dt"], json!("2023-04-28T12:00:00.123Z"));
    assert_eq!(
        event["start_time_dt"],
        json!("2023-04-28T12:00:00.000Z"),
        "after the RFC 3339 time became epoch ms"
    );
    assert_eq!(event["end_time_dt"], json!("2023-04-28T12:01:40Z"), "kept");
    assert!(is_valid(&event));
    // An event that does not list the profile gets it, and its `*_dt` siblings.
    let mut without = fixture("authentication");
    without["metadata"]["profiles"] = json!([]);
    without.as_object_mut().unwrap().remove("time_dt");
    let actions = normalize(&mut without);
    assert_eq!(
        without["metadata"]["profiles"],
        json!(["datetime", "cloud"])
    );
    assert_eq!(
        without["time_dt"],
        json!(time::epoch_ms_to_datetime(without["time"].as_i64().unwrap()).unwrap())
    );
    assert!(actions.contains(&(ActionKind::ProfileAdded, "metadata.profiles".to_owned())));
    assert!(actions.contains(&(ActionKind::DatetimeFilled, "time_dt".to_owned())));
    assert!(is_valid(&without));
    // `profiles` that is not a list is neither overwritten nor extended: nothing is filled.
    let mut odd = fixture("authentication");
    odd["metadata"]["profiles"] = json!("cloud");
    odd.as_object_mut().unwrap().remove("time_dt");
    normalize(&mut odd);
    assert!(odd.get("time_dt").is_none() && odd["metadata"]["profiles"] == json!("cloud"));
}

/// Issue 21, item 4: a caption that names another value than its id is rewritten from the id
/// (AWS's validation tool stops on it); the caption as it came is kept under `unmapped`; 99
/// (Other) keeps the source's caption.
#[test]
fn wrong_captions_are_rewritten_from_their_ids() {
    let mut event = fixture("authentication");
    event["severity"] = json!("Critical"); // severity_id 1: Informational
    event["status"] = json!("failure"); // status_id 1: Success
    event["user"]["type"] = json!("Admin"); // type_id 1: User
    let actions = normalize(&mut event);
    assert_eq!(event["severity"], json!("Informational"));
    assert_eq!(event["status"], json!("Success"));
    assert_eq!(event["user"]["type"], json!("User"));
    assert_eq!(event["unmapped"]["severity"], json!("Critical"));
    assert_eq!(event["unmapped"]["user.type"], json!("Admin"));
    for path in ["severity", "status", "user.type"] {
        assert!(
            actions.contains(&(ActionKind::CaptionRewritten, path.into())),
            "{path}"
        );
    }
    assert!(is_valid(&event));
    let warnings = Validator::new(schema(), ValidateOptions::default())
        .validate(&event, &SeverityPolicy::default())
        .findings;
    assert!(
        warnings
            .iter()
            .all(|f| f.code != crate::finding::Code::AttributeEnumSiblingIncorrect),
        "{warnings:?}"
    );
    // 99 (Other): the caption is the source's own.
    let mut other = fixture("authentication");
    other["logon_type_id"] = json!(99);
    other["logon_type"] = json!("Vendor Special");
    normalize(&mut other);
    assert_eq!(other["logon_type"], json!("Vendor Special"));
}

/// Found by the idempotency property: a `time_dt` that is not text (`[null]`) in an event
/// without the `datetime` profile was kept while the profile was listed, turning an unknown
/// attribute into a wrong-typed one. It is derivable from `time`: filled, the value that came kept
/// under `unmapped`, and the event valid.
#[test]
fn a_datetime_that_is_not_text_is_filled_from_its_epoch_field_and_kept_under_unmapped() {
    for bad in [
        json!([null]),
        json!(1_682_683_200_123_i64),
        json!({"at": 1}),
    ] {
        let mut event = fixture("authentication");
        event["metadata"]["profiles"] = json!([]);
        event["time"] = json!(1_682_683_200_123_i64);
        event["time_dt"] = bad.clone();
        let actions = normalize(&mut event);
        assert_eq!(event["time_dt"], json!("2023-04-28T12:00:00.123Z"), "{bad}");
        assert_eq!(event["unmapped"]["time_dt"], bad);
        assert!(actions.contains(&(ActionKind::DatetimeFilled, "time_dt".to_owned())));
        assert!(is_valid(&event), "{bad}");
        let once = event.clone();
        assert!(normalize(&mut event).is_empty(), "idempotent");
        assert_eq!(event, once);
    }
}

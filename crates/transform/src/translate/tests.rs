use serde_json::{json, Value};

use super::*;
use crate::normalize::ActionKind;
use crate::test_support::{fixture, FIXTURES};
use crate::version::OcsfVersion;
use crate::{Engine, EngineConfig};

fn translator(target: OcsfVersion, options: TranslateOptions) -> Translator {
    Translator::new(Schema::get(target).unwrap(), options, 32)
}

fn kinds(translation: &Translation) -> Vec<(ActionKind, &str)> {
    translation
        .actions
        .iter()
        .map(|a| (a.kind, a.path.as_str()))
        .collect()
}

/// An OCSF 1.5.0 Authentication event using what 1.3.0 lacks: an attribute (`is_alert`), an
/// object attribute (`user.has_mfa`), an enum value (`auth_protocol_id` 12) and an object
/// attribute whose enum has a new value (`observables[].type_id` 31).
fn authentication_1_5() -> Value {
    json!({
        "class_uid": 3002, "category_uid": 3, "activity_id": 1, "type_uid": 300201,
        "severity_id": 1, "time": 1_682_683_200_000_i64,
        "metadata": {"version": "1.5.0", "product": {"name": "idp", "vendor_name": "Example"}},
        "user": {"name": "alice", "has_mfa": true},
        "service": {"name": "console"},
        "auth_protocol_id": 12, "auth_protocol": "OTP",
        "is_alert": false,
        "observables": [{"name": "user.uid", "type_id": 31, "value": "u-1"}],
        "unmapped": {"vendor": "x"}
    })
}

#[test]
fn an_event_at_the_target_is_left_as_it_is() {
    let translator = translator(OcsfVersion::V1_1_0, TranslateOptions::default());
    for name in FIXTURES {
        let mut event = fixture(name);
        let before = event.clone();
        assert_eq!(translator.translate(&mut event), Translation::default());
        assert_eq!(event, before, "{name}");
    }
    // An event of no embedded release, or without a version, is not translated either.
    for version in [json!("1.9.0-dev"), json!(5), Value::Null] {
        let mut event = fixture("authentication");
        event["metadata"]["version"] = version;
        assert_eq!(translator.translate(&mut event), Translation::default());
    }
}

#[test]
fn down_from_1_5_to_1_3_keeps_every_value() {
    let translator = translator(OcsfVersion::V1_3_0, TranslateOptions::default());
    let mut event = authentication_1_5();
    let translation = translator.translate(&mut event);
    assert_eq!(translation.source, Some(OcsfRelease::V1_5_0));
    assert!(translation.problems.is_empty());
    let actions = kinds(&translation);
    for expected in [
        (ActionKind::MovedToUnmapped, "is_alert"),
        (ActionKind::MovedToUnmapped, "user.has_mfa"),
        (ActionKind::EnumToOther, "auth_protocol_id"),
        (ActionKind::EnumToOther, "observables[0].type_id"),
        (ActionKind::VersionTranslated, "metadata.version"),
    ] {
        assert!(actions.contains(&expected), "{expected:?} in {actions:?}");
    }
    assert_eq!(event["metadata"]["version"], "1.3.0");
    assert_eq!(event["auth_protocol_id"], 99);
    assert_eq!(event["auth_protocol"], "OTP", "the caption stays");
    assert_eq!(event["observables"][0]["type_id"], 99);
    let unmapped = &event["unmapped"];
    assert_eq!(unmapped["vendor"], "x", "the event's own entries stay");
    assert_eq!(unmapped["is_alert"], false);
    assert_eq!(unmapped["user.has_mfa"], true);
    assert_eq!(unmapped["auth_protocol_id"], 12);
    assert_eq!(unmapped["observables[0].type_id"], 31);
    assert_eq!(unmapped["metadata.version"], "1.5.0");
    assert!(event["user"].get("has_mfa").is_none());
    let engine = Engine::new(EngineConfig {
        version: OcsfVersion::V1_3_0,
        ..EngineConfig::default()
    })
    .unwrap();
    let verdict = engine.judge(authentication_1_5(), Some("us-east-1"));
    assert!(verdict.is_accepted(), "{:?}", verdict.validation.findings);
    // Translating again changes nothing: the event is at the target now.
    let mut again = event.clone();
    assert_eq!(translator.translate(&mut again), Translation::default());
    assert_eq!(again, event);
}

#[test]
fn a_missing_caption_is_filled_from_the_source_release() {
    let translator = translator(OcsfVersion::V1_3_0, TranslateOptions::default());
    let mut event = authentication_1_5();
    event.as_object_mut().unwrap().remove("auth_protocol");
    let translation = translator.translate(&mut event);
    assert!(kinds(&translation).contains(&(ActionKind::CaptionFilled, "auth_protocol")));
    let caption = Schema::get(OcsfRelease::V1_5_0)
        .unwrap()
        .class(3002)
        .unwrap()
        .item
        .attribute("auth_protocol_id")
        .unwrap()
        .enum_value(&crate::schema::EnumKey::Int(12))
        .unwrap()
        .caption;
    assert_eq!(event["auth_protocol"], caption);
}

#[test]
fn rc2_api_activity_becomes_class_6003() {
    let event = json!({
        "class_uid": 3005, "category_uid": 3, "category_name": "Audit Activity",
        "class_name": "API Activity", "activity_id": 2, "type_uid": 300502,
        "severity_id": 1, "time": 1_682_683_200_000_i64,
        "metadata": {"version": "1.0.0-rc.2", "product": {"name": "CloudTrail", "vendor_name": "AWS"}},
        "api": {"operation": "GetObject", "service": {"name": "s3"}},
        "actor": {"user": {"uid": "u-1"}},
        "src_endpoint": {"ip": "192.0.2.1"},
        "cloud": {"provider": "AWS", "region": "us-east-1"}
    });
    let translator = translator(OcsfVersion::V1_1_0, TranslateOptions::default());
    let mut translated = event.clone();
    let translation = translator.translate(&mut translated);
    assert!(kinds(&translation).contains(&(ActionKind::ClassTranslated, "class_uid")));
    assert_eq!(translated["class_uid"], 6003);
    assert_eq!(translated["unmapped"]["class_uid"], 3005);
    for stale in ["category_uid", "category_name", "type_uid"] {
        assert!(translated.get(stale).is_none(), "{stale} is derived again");
        assert_eq!(translated["unmapped"][stale], event[stale]);
    }
    assert_eq!(translated["class_name"], "API Activity", "still right");
    let engine = Engine::new(EngineConfig::default()).unwrap();
    let verdict = engine.judge(event, None);
    assert!(verdict.is_accepted(), "{:?}", verdict.validation.findings);
    assert_eq!(verdict.event["category_uid"], 6);
    assert_eq!(verdict.event["type_uid"], 600_302);
}

#[test]
fn renames_are_carried_both_ways() {
    // Up: 1.0.0's `vulnerability.fix_available` is 1.1.0's `is_fix_available`.
    let mut event = json!({
        "class_uid": 2001, "metadata": {"version": "1.0.0"},
        "vulnerabilities": [{"fix_available": true, "cve": {"uid": "CVE-2021-44228"}}]
    });
    let up = translator(OcsfVersion::V1_1_0, TranslateOptions::default()).translate(&mut event);
    let renamed = up
        .actions
        .iter()
        .find(|a| a.kind == ActionKind::AttributeRenamed)
        .unwrap();
    assert_eq!(renamed.path, "vulnerabilities[0].is_fix_available");
    assert_eq!(
        renamed.from.as_deref(),
        Some("vulnerabilities[0].fix_available")
    );
    assert_eq!(event["vulnerabilities"][0]["is_fix_available"], true);
    // Down: 1.5.0's Email Activity `command` was `smtp_hello` in 1.3.0.
    let mut event = json!({
        "class_uid": 4009, "metadata": {"version": "1.5.0"}, "command": "EHLO mx"
    });
    let down = translator(OcsfVersion::V1_3_0, TranslateOptions::default()).translate(&mut event);
    assert_eq!(event["smtp_hello"], "EHLO mx");
    assert!(event.get("command").is_none());
    assert_eq!(
        down.actions[0].from.as_deref(),
        Some("command"),
        "{:?}",
        down.actions
    );
}

#[test]
fn a_class_the_target_lacks_is_not_translatable() {
    // Startup Item Query (5022) is new in 1.4.0.
    let mut event = json!({"class_uid": 5022, "metadata": {"version": "1.5.0"}});
    let before = event.clone();
    let translation =
        translator(OcsfVersion::V1_3_0, TranslateOptions::default()).translate(&mut event);
    assert_eq!(translation.problems[0].code, Code::VersionUntranslatable);
    assert_eq!(event, before, "left as it was");
}

#[test]
fn profiles_the_target_lacks_leave_the_list() {
    let mut event = authentication_1_5();
    event["metadata"]["profiles"] = json!(["cloud", "incident", "linux"]);
    let schema = Schema::get(OcsfRelease::V1_5_0).unwrap();
    assert!(schema.profile_id("incident").is_some());
    translator(OcsfVersion::V1_3_0, TranslateOptions::default()).translate(&mut event);
    assert_eq!(event["metadata"]["profiles"], json!(["cloud", "linux"]));
    assert_eq!(
        event["unmapped"]["metadata.profiles"],
        json!(["cloud", "incident", "linux"])
    );
}

#[test]
fn settings_refuse_or_leave_what_they_exclude() {
    let only_1_1 = TranslateOptions {
        accepted: Some([OcsfRelease::V1_1_0].into()),
        ..TranslateOptions::default()
    };
    let mut event = authentication_1_5();
    let refused = translator(OcsfVersion::V1_3_0, only_1_1).translate(&mut event);
    assert_eq!(refused.problems[0].code, Code::VersionNotAccepted);
    assert_eq!(event, authentication_1_5());
    for direction in [Direction::Up, Direction::None] {
        let options = TranslateOptions {
            direction,
            ..TranslateOptions::default()
        };
        let left = translator(OcsfVersion::V1_3_0, options).translate(&mut event);
        assert_eq!(left, Translation::default(), "{direction}");
    }
    // With a fixed source release the declared one is ignored.
    let fixed = TranslateOptions {
        from: FromVersion::Fixed(OcsfRelease::V1_3_0),
        ..TranslateOptions::default()
    };
    let mut mislabelled = fixture("authentication");
    mislabelled["metadata"]["version"] = json!("1.5.0");
    let restamped = translator(OcsfVersion::V1_3_0, fixed).translate(&mut mislabelled);
    assert_eq!(
        kinds(&restamped),
        [(ActionKind::VersionTranslated, "metadata.version")]
    );
    assert_eq!(mislabelled["metadata"]["version"], "1.3.0");
    assert_eq!(mislabelled["unmapped"]["metadata.version"], "1.5.0");
}

#[test]
fn settings_parse() {
    assert_eq!("auto".parse(), Ok(FromVersion::Auto));
    assert_eq!(
        "1.0.0-rc.2".parse(),
        Ok(FromVersion::Fixed(OcsfRelease::V1_0_0Rc2))
    );
    assert!("2.0".parse::<FromVersion>().is_err());
    assert_eq!("down".parse(), Ok(Direction::Down));
    assert!("sideways".parse::<Direction>().is_err());
    assert_eq!(parse_source_versions("all"), Ok(None));
    assert_eq!(
        parse_source_versions("1.1.0, 1.5"),
        Ok(Some([OcsfRelease::V1_1_0, OcsfRelease::V1_5_0].into()))
    );
    assert!(parse_source_versions("1.1.0,9").is_err());
}

#[test]
fn a_taken_unmapped_key_stops_translation_before_any_change() {
    let mut event = authentication_1_5();
    event["unmapped"]["metadata.version"] = json!("mine");
    let before = event.clone();
    let translation =
        translator(OcsfVersion::V1_3_0, TranslateOptions::default()).translate(&mut event);
    assert_eq!(translation.problems[0].code, Code::VersionUntranslatable);
    assert_eq!(event, before);
}

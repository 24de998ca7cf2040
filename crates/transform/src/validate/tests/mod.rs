//! One test (or a few) per validation rule, on mutations of a valid fixture event.

use serde_json::{json, Value};

use super::*;
use crate::finding::Severity;
use crate::test_support::{fixture, FIXTURES};
use crate::version::OcsfVersion;

mod event_rules;

fn authentication() -> Value {
    fixture("authentication")
}

fn validate_with(
    event: &Value,
    version: OcsfVersion,
    options: ValidateOptions,
    policy: &SeverityPolicy,
) -> Validation {
    Validator::new(Schema::get(version).unwrap(), options).validate(event, policy)
}

fn validate(event: &Value) -> Validation {
    validate_with(
        event,
        OcsfVersion::V1_1_0,
        ValidateOptions::default(),
        &SeverityPolicy::default(),
    )
}

/// `(code, path)` of every finding.
fn found(event: &Value) -> Vec<(Code, String)> {
    validate(event)
        .findings
        .into_iter()
        .map(|f| (f.code, f.path))
        .collect()
}

fn has(event: &Value, code: Code, path: &str) -> bool {
    found(event).iter().any(|(c, p)| *c == code && p == path)
}

#[track_caller]
fn assert_only(event: &Value, expected: &[(Code, &str)]) {
    let got = found(event);
    let expected: Vec<(Code, String)> = expected
        .iter()
        .map(|(c, p)| (*c, (*p).to_owned()))
        .collect();
    assert_eq!(got, expected);
}

#[test]
fn fixtures_are_valid_without_findings() {
    for name in FIXTURES {
        let v = validate(&fixture(name));
        assert!(v.findings.is_empty(), "{name}: {:?}", v.findings);
        assert!(v.is_valid());
    }
    assert_eq!(validate(&authentication()).class_uid, Some(3002));
}

#[test]
fn class_uid_missing_wrong_type_or_unknown_stops_validation() {
    let mut e = authentication();
    e.as_object_mut().unwrap().remove("class_uid");
    e["bogus"] = json!(1);
    assert_only(&e, &[(Code::AttributeRequiredMissing, "class_uid")]);
    e["class_uid"] = json!("3002");
    assert_only(&e, &[(Code::AttributeWrongType, "class_uid")]);
    e["class_uid"] = json!(999_999);
    assert_only(&e, &[(Code::ClassUidUnknown, "class_uid")]);
    assert_eq!(validate(&e).class_uid, Some(999_999));
    e["class_uid"] = Value::Null;
    assert_only(&e, &[(Code::AttributeRequiredMissing, "class_uid")]);
}

#[test]
fn non_objects_are_not_events() {
    for e in [json!([authentication()]), json!("x"), json!(3), Value::Null] {
        assert_only(&e, &[(Code::EventNotObject, "")]);
    }
}

#[test]
fn category_uid_must_match_the_class() {
    let mut e = authentication();
    e["category_uid"] = json!(4);
    assert!(has(&e, Code::AttributeEnumValueUnknown, "category_uid"));
    assert!(!validate(&e).is_valid());
}

#[test]
fn type_uid_must_be_class_times_100_plus_activity() {
    let mut e = authentication();
    e["type_uid"] = json!(300_202);
    assert!(has(&e, Code::TypeUidIncorrect, "type_uid"));
    assert!(
        has(&e, Code::AttributeEnumSiblingIncorrect, "type_name"),
        "Logon caption vs Logoff id"
    );
    e["type_uid"] = json!(300_201);
    e["activity_id"] = json!(2);
    e["activity_name"] = json!("Logoff");
    assert!(has(&e, Code::TypeUidIncorrect, "type_uid"));
}

#[test]
fn required_attributes_missing_or_null() {
    let mut e = authentication();
    e.as_object_mut().unwrap().remove("time");
    e["severity_id"] = Value::Null;
    e["metadata"].as_object_mut().unwrap().remove("product");
    assert_only(
        &e,
        &[
            (Code::AttributeRequiredMissing, "metadata.product"),
            (Code::AttributeRequiredMissing, "severity_id"),
            (Code::AttributeRequiredMissing, "time"),
        ],
    );
}

#[test]
fn recommended_attributes_only_when_asked() {
    let e = authentication();
    assert!(validate(&e).findings.is_empty());
    let options = ValidateOptions {
        warn_recommended: true,
        ..ValidateOptions::default()
    };
    let v = validate_with(&e, OcsfVersion::V1_1_0, options, &SeverityPolicy::default());
    let f = v
        .findings
        .iter()
        .find(|f| f.path == "timezone_offset")
        .unwrap();
    assert_eq!(
        (f.code, f.severity),
        (Code::AttributeRecommendedMissing, Severity::Warning)
    );
    assert!(v.is_valid());
}

#[test]
fn profiles_decide_which_attributes_belong() {
    let mut e = authentication();
    e["metadata"]["profiles"] = json!(["datetime"]);
    assert_only(&e, &[(Code::AttributeUnknown, "cloud")]);
    let message = &validate(&e).findings[0].message;
    assert!(message.contains("\"cloud\" profile"), "{message}");
    e["metadata"]["profiles"] = json!(["cloud", "datetime", "no_such_profile"]);
    assert_only(&e, &[(Code::ProfileUnknown, "metadata.profiles[2]")]);
    // Without the profile, its required attribute is not required.
    let mut e = authentication();
    e.as_object_mut().unwrap().remove("cloud");
    e["metadata"]["profiles"] = json!(["datetime"]);
    assert_only(&e, &[]);
    e["metadata"]["profiles"] = json!(["cloud", "datetime"]);
    assert_only(&e, &[(Code::AttributeRequiredMissing, "cloud")]);
}

#[test]
fn unknown_attributes_everywhere_but_open_objects() {
    let mut e = authentication();
    e["vendor_field"] = json!(1);
    e["user"]["shoe_size"] = json!(44);
    e["user"]["account"]["color"] = json!("blue");
    e["unmapped"]["anything"] = json!({"goes": ["here"]});
    assert_only(
        &e,
        &[
            (Code::AttributeUnknown, "user.account.color"),
            (Code::AttributeUnknown, "user.shoe_size"),
            (Code::AttributeUnknown, "vendor_field"),
        ],
    );
}

#[test]
fn json_types_per_base_type() {
    let mut e = authentication();
    e["is_mfa"] = json!("yes");
    e["time"] = json!(1.5);
    e["src_endpoint"]["port"] = json!("443");
    e["user"]["name"] = json!(["alice"]);
    e["metadata"]["profiles"] = json!("cloud");
    e["service"] = json!("console");
    e["logon_type_id"] = json!(18_446_744_073_709_551_615_u64);
    let got = validate(&e);
    let wrong: Vec<(&str, &str)> = got
        .findings
        .iter()
        .filter(|f| f.code == Code::AttributeWrongType)
        .map(|f| (f.path.as_str(), f.message.as_str()))
        .collect();
    let paths: Vec<&str> = wrong.iter().map(|(p, _)| *p).collect();
    for expected in [
        "is_mfa",
        "time",
        "src_endpoint.port",
        "user.name",
        "metadata.profiles",
        "service",
        "logon_type_id",
    ] {
        assert!(paths.contains(&expected), "{expected} in {paths:?}");
    }
    let message = |path: &str| wrong.iter().find(|(p, _)| *p == path).unwrap().1;
    assert!(message("src_endpoint.port").contains("expected port_t (integer_t), got string_t"));
    assert!(message("metadata.profiles").contains("expected array of string_t"));
    assert!(message("service").contains("expected service (object)"));
    assert!(message("time").contains("got float_t"));
}

#[test]
fn numbers_that_fit_their_type() {
    let mut e = authentication();
    e["time"] = json!(9_223_372_036_854_775_808_u64); // long_t accepts u64 like the server
    e["src_endpoint"]["location"]["coordinates"] = json!([-122, 47.6]); // ints for float_t
    assert!(
        found(&e)
            .iter()
            .all(|(c, _)| *c != Code::AttributeWrongType),
        "{:?}",
        found(&e)
    );
}

#[test]
fn ranges_max_len_regex_and_values() {
    let mut e = authentication();
    e["src_endpoint"]["port"] = json!(70_000);
    e["dst_endpoint"]["port"] = json!(-1);
    assert!(has(
        &e,
        Code::AttributeValueExceedsRange,
        "src_endpoint.port"
    ));
    assert!(has(
        &e,
        Code::AttributeValueExceedsRange,
        "dst_endpoint.port"
    ));

    let mut e = authentication();
    e["src_endpoint"]["ip"] = json!("1".repeat(41)); // ip_t max_len 40
    e["user"]["email_addr"] = json!(format!("{}@example.com", "a".repeat(65_536))); // string_t's
    e["message"] = json!("é".repeat(65_535)); // 131070 bytes but 65535 code points: fine
    e["user"]["full_name"] = json!("x".repeat(65_536));
    assert!(has(
        &e,
        Code::AttributeValueExceedsMaxLen,
        "src_endpoint.ip"
    ));
    assert!(has(
        &e,
        Code::AttributeValueExceedsSuperTypeMaxLen,
        "user.email_addr"
    ));
    assert!(has(&e, Code::AttributeValueExceedsMaxLen, "user.full_name"));
    assert!(!has(&e, Code::AttributeValueExceedsMaxLen, "message"));

    let mut e = authentication();
    e["src_endpoint"]["ip"] = json!("999.1.1.1");
    e["user"]["email_addr"] = json!("not-an-email");
    e["time_dt"] = json!("yesterday");
    let v = validate(&e);
    for path in ["src_endpoint.ip", "user.email_addr", "time_dt"] {
        let f = v.findings.iter().find(|f| f.path == path).unwrap();
        assert_eq!(
            (f.code, f.severity),
            (Code::AttributeValueRegexNotMatched, Severity::Warning)
        );
    }
    assert!(
        v.is_valid(),
        "regex mismatches are warnings, as in the OCSF server"
    );
    let mut e = authentication();
    e["src_endpoint"]["ip"] = json!("2001:db8::ff00:42:8329");
    e["user"]["email_addr"] = json!("alice@example.com");
    assert!(found(&e).is_empty(), "{:?}", found(&e));
}

#[test]
fn enums_and_their_siblings() {
    let mut e = authentication();
    e["logon_type_id"] = json!(42);
    assert_only(&e, &[(Code::AttributeEnumValueUnknown, "logon_type_id")]);

    let mut e = authentication();
    e["severity"] = json!("High");
    assert_only(&e, &[(Code::AttributeEnumSiblingIncorrect, "severity")]);
    e["severity_id"] = json!(99);
    e["severity"] = json!("Other");
    assert_only(
        &e,
        &[(Code::AttributeEnumSiblingSuspiciousOther, "severity")],
    );
    e["severity"] = json!("SEV-2");
    assert_only(&e, &[]);
    e["severity"] = Value::Null;
    assert_only(&e, &[]);

    let mut e = authentication();
    e["http_request"]["http_method"] = json!("FETCH");
    assert_only(
        &e,
        &[(Code::AttributeEnumValueUnknown, "http_request.http_method")],
    );
    e["http_request"]["http_method"] = json!("GET");
    assert_only(&e, &[]);
}

#[test]
fn enum_arrays_and_sibling_arrays() {
    let mut e = fixture("dns_activity");
    assert_only(&e, &[]);
    e["answers"][0]["flag_ids"] = json!([1, 77, 99]);
    e["answers"][0]["flags"] = json!(["Authoritative Answer", "x", "Vendor flag"]);
    assert_only(
        &e,
        &[(
            Code::AttributeEnumArrayValueUnknown,
            "answers[0].flag_ids[1]",
        )],
    );
    e["answers"][0]["flag_ids"] = json!([1, 3, 4]);
    e["answers"][0]["flags"] = json!(["Authoritative Answer", "Nope"]);
    assert_only(
        &e,
        &[
            (
                Code::AttributeEnumArraySiblingIncorrect,
                "answers[0].flags[1]",
            ),
            (
                Code::AttributeEnumArraySiblingMissing,
                "answers[0].flags[2]",
            ),
        ],
    );
}

#[test]
fn depth_guard_reports_instead_of_recursing() {
    let mut process = json!({"name": "leaf", "pid": 1});
    for _ in 0..200 {
        process = json!({"name": "p", "pid": 1, "parent_process": process});
    }
    let mut e = authentication();
    e["actor"]["process"] = process;
    let v = validate(&e);
    let depth: Vec<&Finding> = v
        .findings
        .iter()
        .filter(|f| f.code == Code::DepthExceeded)
        .collect();
    assert_eq!(depth.len(), 1);
    assert_eq!(
        depth[0].path.matches("parent_process").count(),
        DEFAULT_MAX_DEPTH - 1
    );
    let shallow = ValidateOptions {
        max_depth: 1,
        ..ValidateOptions::default()
    };
    let v = validate_with(
        &authentication(),
        OcsfVersion::V1_1_0,
        shallow,
        &SeverityPolicy::default(),
    );
    let paths: Vec<&str> = v
        .findings
        .iter()
        .filter(|f| f.code == Code::DepthExceeded)
        .map(|f| f.path.as_str())
        .collect();
    assert_eq!(
        paths,
        [
            "actor.session",
            "cloud.account",
            "metadata.product",
            "src_endpoint.location",
            "user.account"
        ]
    );
}

#[test]
fn severity_policy_relevels_and_ignores() {
    let mut e = authentication();
    let map = e.as_object_mut().unwrap();
    map.remove("service");
    map.remove("dst_endpoint");
    let policy: SeverityPolicy = "constraint_failed=warning".parse().unwrap();
    let v = validate_with(&e, OcsfVersion::V1_1_0, ValidateOptions::default(), &policy);
    assert_eq!(v.findings[0].severity, Severity::Warning);
    assert!(v.is_valid());
    let policy: SeverityPolicy = "constraint_failed=ignore".parse().unwrap();
    let v = validate_with(&e, OcsfVersion::V1_1_0, ValidateOptions::default(), &policy);
    assert!(v.findings.is_empty());
    let policy: SeverityPolicy = "attribute_value_regex_not_matched=error".parse().unwrap();
    let mut e = authentication();
    e["src_endpoint"]["ip"] = json!("999.1.1.1");
    let v = validate_with(&e, OcsfVersion::V1_1_0, ValidateOptions::default(), &policy);
    assert!(!v.is_valid());
}

#[test]
fn messages_never_repeat_event_values() {
    let marker = "S3cr3t-Marker-Value";
    let mut e = authentication();
    e["severity"] = json!(marker);
    e["logon_type_id"] = json!(424_242);
    e["http_request"]["http_method"] = json!(marker);
    e["src_endpoint"]["ip"] = json!(marker);
    e["user"]["type_id"] = json!(marker);
    e["metadata"]["version"] = json!(marker);
    e["metadata"]["profiles"] = json!(["cloud", marker]);
    e["observables"] = json!([{"name": marker, "type_id": 1}]);
    e["class_name"] = json!(marker);
    let v = validate(&e);
    assert!(v.findings.len() >= 8, "{:?}", v.findings);
    for f in &v.findings {
        assert!(
            !f.message.contains(marker) && !f.message.contains("424242"),
            "{f:?}"
        );
    }
}

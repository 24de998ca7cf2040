//! Rules about the event as a whole: deprecations, `at_least_one`/`just_one` constraints,
//! observable names, `metadata.version` against the target, the class allow-list.

use serde_json::json;

use super::*;

#[test]
fn deprecated_classes_objects_and_attributes() {
    let event = json!({
        "class_uid": 2001, "category_uid": 2, "activity_id": 1, "type_uid": 200_101, "severity_id": 1,
        "time": 1_682_683_200_000_i64, "state_id": 1,
        "metadata": {"version": "1.1.0", "product": {"name": "p", "vendor_name": "v"}},
        "finding": {"title": "t", "uid": "u"}
    });
    let got = found(&event);
    assert!(
        got.contains(&(Code::ClassDeprecated, String::new())),
        "{got:?}"
    );
    assert!(
        got.contains(&(Code::ObjectDeprecated, "finding".to_owned())),
        "{got:?}"
    );
    let v = validate(&event);
    assert!(v
        .findings
        .iter()
        .filter(|f| f.code != Code::ConstraintFailed)
        .all(|f| f.severity == Severity::Warning));

    let mut e = fixture("api_activity");
    e["metadata"]["version"] = json!("1.3.0");
    let v = validate_with(
        &e,
        OcsfVersion::V1_3_0,
        ValidateOptions::default(),
        &SeverityPolicy::default(),
    );
    let f = v
        .findings
        .iter()
        .find(|f| f.path == "actor.invoked_by")
        .unwrap();
    assert_eq!(
        (f.code, f.severity),
        (Code::AttributeDeprecated, Severity::Warning)
    );
    assert!(f.message.contains("1.2.0"), "{}", f.message);
}

#[test]
fn constraints_at_least_one_just_one_and_dotted() {
    let mut e = authentication();
    let map = e.as_object_mut().unwrap();
    map.remove("service");
    map.remove("dst_endpoint");
    assert_only(&e, &[(Code::ConstraintFailed, "")]);
    e["service"] = Value::Null; // present-with-null counts, as in the server
    assert_only(&e, &[]);

    let mut e = authentication();
    let user = e["user"].as_object_mut().unwrap();
    user.retain(|k, _| k == "type" || k == "type_id");
    assert_only(&e, &[(Code::ConstraintFailed, "user")]);

    let session = json!({
        "class_uid": 3003, "category_uid": 3, "activity_id": 1, "type_uid": 300_301, "severity_id": 1,
        "time": 1_682_683_200_000_i64,
        "metadata": {"version": "1.1.0", "product": {"name": "p", "vendor_name": "v"}},
        "user": {"name": "alice"}, "privileges": ["SeDebugPrivilege"], "group": {"name": "admins"}
    });
    assert!(
        has(&session, Code::ConstraintFailed, ""),
        "just_one with both"
    );
    let mut one = session.clone();
    one.as_object_mut().unwrap().remove("group");
    assert!(!has(&one, Code::ConstraintFailed, ""), "{:?}", found(&one));

    let patch = json!({
        "class_uid": 5004, "category_uid": 5, "activity_id": 1, "type_uid": 500_401, "severity_id": 1,
        "time": 1_682_683_200_000_i64,
        "metadata": {"version": "1.1.0", "product": {"name": "p", "vendor_name": "v"}},
        "device": {"type_id": 1, "hostname": "h", "os": {"name": "Windows", "type_id": 100, "version": "10"}},
        "kb_article_list": [{"uid": "KB1"}]
    });
    assert!(
        !has(&patch, Code::ConstraintFailed, ""),
        "device.os.version resolves: {:?}",
        found(&patch)
    );
}

#[test]
fn observable_names_refer_to_attributes() {
    let mut e = fixture("detection_finding");
    assert_only(&e, &[]);
    e["observables"][0]["name"] = json!("evidences.src_endpoint.nope");
    e["observables"][1]["name"] = json!("resources[0].uid");
    assert_only(
        &e,
        &[(Code::ObservableNameInvalidReference, "observables[0].name")],
    );
    e["observables"][0]["name"] = json!("finding_info.title.more");
    assert_only(
        &e,
        &[(Code::ObservableNameInvalidReference, "observables[0].name")],
    );
    e["observables"][0]["name"] = json!("finding_info[].title");
    assert_only(
        &e,
        &[(Code::ObservableNameInvalidReference, "observables[0].name")],
    );
    e["observables"][0]["name"] = json!("evidences[].dst_endpoint.ip");
    assert_only(&e, &[]);
}

#[test]
fn metadata_version_against_the_target() {
    let cases = [
        ("1.1.0", None),
        ("1.0.0", Some((Code::VersionEarlier, Severity::Warning))),
        (
            "1.3.0",
            Some((Code::VersionIncompatibleLater, Severity::Error)),
        ),
        (
            "1.1.0-rc.1",
            Some((Code::VersionIncompatiblePrerelease, Severity::Error)),
        ),
        (
            "1.0.0-rc.2",
            Some((Code::VersionIncompatiblePrerelease, Severity::Error)),
        ),
        (
            "0.9.0",
            Some((Code::VersionIncompatibleInitialDevelopment, Severity::Error)),
        ),
        ("v1", Some((Code::VersionInvalidFormat, Severity::Error))),
        ("1.1", Some((Code::VersionInvalidFormat, Severity::Error))),
    ];
    for (version, expected) in cases {
        let mut e = authentication();
        e["metadata"]["version"] = json!(version);
        let got: Vec<(Code, Severity)> = validate(&e)
            .findings
            .into_iter()
            .filter(|f| f.path == "metadata.version")
            .map(|f| (f.code, f.severity))
            .collect();
        assert_eq!(got, expected.into_iter().collect::<Vec<_>>(), "{version}");
    }
}

#[test]
fn class_allow_list() {
    let options = ValidateOptions {
        allowed_classes: Some([6003].into()),
        ..ValidateOptions::default()
    };
    let v = validate_with(
        &authentication(),
        OcsfVersion::V1_1_0,
        options.clone(),
        &SeverityPolicy::default(),
    );
    assert_eq!(
        v.findings
            .iter()
            .map(|f| (f.code, f.path.as_str()))
            .collect::<Vec<_>>(),
        [(Code::ClassNotAllowed, "class_uid")]
    );
    let v = validate_with(
        &fixture("api_activity"),
        OcsfVersion::V1_1_0,
        options,
        &SeverityPolicy::default(),
    );
    assert!(v.findings.is_empty());
}

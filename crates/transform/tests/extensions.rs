//! The platform extensions, as the OCSF server has them with extensions enabled: the Linux
//! extension's profile (`linux/linux_users`), AWS's spelling of it (`linux`), and a Windows
//! extension class (Registry Key Query, 205004): each validates, goes through the Lambda `Ok`
//! and has a Glue schema whose columns hold it.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use ocsf_firehose_transform::firehose::{FirehoseEvent, TransformConfig, Transformer};
use ocsf_firehose_transform::table::{TableModel, TableSpec};
use ocsf_firehose_transform::{Code, EngineConfig, OcsfVersion, Schema, Severity};
use serde_json::{json, Value};

/// An OCSF 1.1.0 Process Activity event with the `linux/linux_users` attributes of `process`.
fn linux_process(profiles: Value) -> Value {
    json!({
        "class_uid": 1007, "category_uid": 1, "activity_id": 1, "type_uid": 100_701,
        "severity_id": 1,
        "time": 1_682_683_200_000_i64,
        "metadata": {"version": "1.1.0", "profiles": profiles,
                     "product": {"name": "auditd", "vendor_name": "Linux"}},
        "actor": {"process": {"pid": 1, "name": "systemd"}},
        "device": {"type_id": 1, "hostname": "web-1"},
        "process": {"pid": 4242, "name": "sshd", "auid": 1000, "euid": 0, "egid": 0,
                    "group": {"name": "wheel"}},
        "cloud": {"provider": "AWS", "region": "eu-west-1"}
    })
}

/// An OCSF 1.3.0 Registry Key Query event (Windows extension).
fn registry_key_query() -> Value {
    json!({
        "class_uid": 205_004, "category_uid": 5, "activity_id": 1, "type_uid": 20_500_401,
        "severity_id": 1, "query_result_id": 1, "time": 1_682_683_200_000_i64,
        "metadata": {"version": "1.3.0", "profiles": ["cloud", "host"],
                     "product": {"name": "edr", "vendor_name": "Example"}},
        "reg_key": {"path": "HKEY_LOCAL_MACHINE\\SOFTWARE\\Example", "is_system": false},
        "device": {"type_id": 2, "hostname": "win-1", "os": {"name": "Windows", "type_id": 100}},
        "cloud": {"provider": "AWS", "region": "eu-west-1"}
    })
}

/// The Lambda's answer for one event: its result and the row it emits.
fn through_the_lambda(config: TransformConfig, event: &Value) -> (String, Value) {
    let transformer = Transformer::new(config).unwrap();
    let payload = serde_json::to_vec(event).unwrap();
    let invocation = FirehoseEvent::from_payloads([payload], "us-east-1", 0);
    let (response, _) = transformer.handle(&invocation).unwrap();
    let answer = serde_json::to_value(&response).unwrap();
    let record = &answer["records"][0];
    let data = STANDARD.decode(record["data"].as_str().unwrap()).unwrap();
    let row = serde_json::from_slice(&data).unwrap_or(Value::Null);
    (record["result"].as_str().unwrap().to_owned(), row)
}

fn config(version: OcsfVersion, uid: i64, spec: TableSpec) -> TransformConfig {
    TransformConfig {
        engine: EngineConfig {
            version,
            allowed_classes: Some([uid].into()),
            table: spec,
            ..EngineConfig::default()
        },
        ..TransformConfig::default()
    }
}

/// The spec `glue-schema --class-uid 1007 --profile linux/linux_users --column …` gives.
fn linux_spec() -> TableSpec {
    TableSpec {
        profiles: Some(vec!["cloud".into(), "linux/linux_users".into()]),
        columns: [
            "process.auid",
            "process.euid",
            "process.egid",
            "process.group",
        ]
        .map(String::from)
        .to_vec(),
    }
}

#[test]
fn the_linux_users_profile_validates_and_lands_in_its_columns() {
    let engine_config = config(OcsfVersion::V1_1_0, 1007, linux_spec()).engine;
    let engine = ocsf_firehose_transform::Engine::new(engine_config).unwrap();
    let event = linux_process(json!(["cloud", "linux/linux_users"]));
    let validation = engine.validate(&event);
    assert!(validation.is_valid(), "{:?}", validation.findings);
    assert!(validation.findings.is_empty(), "{:?}", validation.findings);
    // Without the profile, its attributes are unknown (and would move under `unmapped`).
    let without = engine.validate(&linux_process(json!(["cloud"])));
    assert!(without
        .findings
        .iter()
        .any(|f| f.code == Code::AttributeUnknown && f.path == "process.auid"));

    let table = TableModel::new(
        Schema::get(OcsfVersion::V1_1_0).unwrap(),
        1007,
        &linux_spec(),
    )
    .unwrap();
    let glue = table.glue_schema();
    assert_eq!(glue.profiles, ["cloud", "linux/linux_users"]);
    assert_eq!(glue.table_name, "process_activity_1_1_0");
    let process = glue.columns.iter().find(|c| c.name == "process").unwrap();
    for field in ["auid:int", "euid:int", "egid:int", "group:struct<"] {
        assert!(process.ty.contains(field), "{field} in {}", process.ty);
    }
    let (result, row) = through_the_lambda(config(OcsfVersion::V1_1_0, 1007, linux_spec()), &event);
    assert_eq!(result, "Ok");
    assert_eq!(
        row["process"]["auid"], 1000,
        "in its column, not in unmapped"
    );
    assert_eq!(row["process"]["group"]["name"], "wheel");
}

#[test]
fn aws_s_extension_name_stands_for_its_profiles_with_a_warning() {
    let engine = ocsf_firehose_transform::Engine::new(
        config(OcsfVersion::V1_1_0, 1007, linux_spec()).engine,
    )
    .unwrap();
    // As AWS's own Security Hub findings list them.
    let event = linux_process(json!(["cloud", "datetime", "linux"]));
    let validation = engine.validate(&event);
    assert!(validation.is_valid(), "{:?}", validation.findings);
    let codes: Vec<_> = validation
        .findings
        .iter()
        .map(|f| (f.code, f.severity, f.path.as_str()))
        .collect();
    assert_eq!(
        codes,
        [(
            Code::ProfileExtensionName,
            Severity::Warning,
            "metadata.profiles[2]"
        )]
    );
    let (result, row) = through_the_lambda(config(OcsfVersion::V1_1_0, 1007, linux_spec()), &event);
    assert_eq!(result, "Ok");
    assert_eq!(row["process"]["euid"], 0);
    // A name that is neither a profile nor an extension is still an error.
    let bad = engine.validate(&linux_process(json!(["cloud", "linuxx"])));
    assert!(bad.findings.iter().any(|f| f.code == Code::ProfileUnknown));
}

#[test]
fn a_registry_key_query_validates_against_1_3_0_and_lands() {
    let event = registry_key_query();
    let spec = TableSpec::default();
    let engine = ocsf_firehose_transform::Engine::new(
        config(OcsfVersion::V1_3_0, 205_004, spec.clone()).engine,
    )
    .unwrap();
    let validation = engine.validate(&event);
    assert!(validation.is_valid(), "{:?}", validation.findings);
    let table = TableModel::new(Schema::get(OcsfVersion::V1_3_0).unwrap(), 205_004, &spec).unwrap();
    let glue = table.glue_schema();
    assert_eq!(glue.class_name, "win/registry_key_query");
    assert_eq!(glue.table_name, "win_registry_key_query_1_3_0");
    let reg_key = glue.columns.iter().find(|c| c.name == "reg_key").unwrap();
    assert!(reg_key.ty.contains("path:string"), "{}", reg_key.ty);
    let (result, row) = through_the_lambda(config(OcsfVersion::V1_3_0, 205_004, spec), &event);
    assert_eq!(result, "Ok");
    assert_eq!(row["reg_key"]["path"], event["reg_key"]["path"]);
    assert_eq!(row["class_name"], "Registry Key Query");
    // The same class in 1.1.0 (`win/registry_key_info`): translated down, it validates there.
    let engine = ocsf_firehose_transform::Engine::new(
        config(OcsfVersion::V1_1_0, 205_004, TableSpec::default()).engine,
    )
    .unwrap();
    let verdict = engine.judge(event, None);
    assert!(verdict.is_accepted(), "{:?}", verdict.validation.findings);
}

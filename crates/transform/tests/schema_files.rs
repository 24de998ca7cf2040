//! A user's own extension, loaded at run time (`OCSF_EXTENSIONS`): a compiled OCSF 1.3.0 with an
//! `acme` extension (a profile, an object and an attribute on `device`, in the layout the OCSF
//! compiler writes for the `win` and `linux` extensions) replaces the embedded 1.3.0 for the
//! process. Events using it get real validation, a known profile and table columns, through
//! the engine and through the Lambda; files that cannot be used are refused with their kind.
//!
//! Installing is process-wide, so this file is its own test binary, and every test installs
//! the same fixture file (installing it again is a no-op).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use ocsf_firehose_transform::firehose::{FirehoseEvent, TransformConfig, Transformer};
use ocsf_firehose_transform::table::{TableModel, TableSpec};
use ocsf_firehose_transform::{
    Code, ConfigError, Engine, EngineConfig, OcsfRelease, OcsfVersion, Schema, Severity,
};
use serde_json::{json, Value};

#[path = "support/acme_extension.rs"]
mod acme_extension;

use acme_extension::{acme_schema, badged_event, vendored, PROFILE};

fn scratch() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("ocsf-schema-files-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The fixture file, written once per process (so every test installs the same path).
fn acme_file() -> &'static Path {
    static FILE: OnceLock<PathBuf> = OnceLock::new();
    FILE.get_or_init(|| {
        let path = scratch().join("acme-1.3.0.json");
        std::fs::write(&path, serde_json::to_vec(&acme_schema()).unwrap()).unwrap();
        path
    })
}

/// An engine for 1.3.0 with the extension, whose tables have a column for `device.badge` (a
/// profile's attribute inside an object has one only when named: `glue-schema --column`).
fn engine() -> Engine {
    Engine::new(EngineConfig {
        version: OcsfVersion::V1_3_0,
        schema_files: vec![acme_file().to_owned()],
        table: badge_column(),
        ..EngineConfig::default()
    })
    .unwrap()
}

fn badge_column() -> TableSpec {
    TableSpec {
        profiles: None,
        columns: vec!["device.badge".to_owned()],
    }
}

#[test]
fn the_file_replaces_its_release_for_the_process() {
    let installed = Schema::install_file(acme_file()).unwrap();
    let schema = Schema::get(OcsfVersion::V1_3_0).unwrap();
    assert!(std::ptr::eq(installed, schema));
    let canonical = std::fs::canonicalize(acme_file()).unwrap();
    assert_eq!(schema.file(), Some(canonical.as_path()));
    assert!(schema.profiles().contains(&PROFILE));
    assert!(schema.extensions().contains(&"acme"));
    // Installing it again (another engine, another path to the same file) changes nothing.
    let again = Schema::install_file(&scratch().join(".").join("acme-1.3.0.json")).unwrap();
    assert!(std::ptr::eq(again, schema));
    // The other releases stay embedded.
    assert_eq!(Schema::get(OcsfVersion::V1_1_0).unwrap().file(), None);
}

#[test]
fn the_extension_is_validated_not_carried() {
    let engine = engine();
    let verdict = engine.judge(
        badged_event(json!({"uid": "B-17", "door": "lobby", "issued_time": 1_682_600_000_000_i64})),
        None,
    );
    assert!(verdict.is_accepted(), "{:?}", verdict.validation.findings);
    assert!(
        verdict.validation.findings.is_empty(),
        "a known profile and known attributes: {:?}",
        verdict.validation.findings
    );
    let row = verdict.into_row().unwrap().event;
    assert_eq!(row["device"]["badge"]["uid"], "B-17");
    assert_eq!(row["device"]["badge"]["door"], "lobby");
    assert_eq!(
        row["unmapped"]["device.badge.issued_time"], "1682600000000",
        "what has no column is carried by path: {row}"
    );

    // Its rules hold: a badge without its required `uid`, or with a number for a string.
    let missing = engine.judge(badged_event(json!({"door": "lobby"})), None);
    assert!(!missing.is_accepted());
    let error = missing.errors().next().unwrap();
    assert_eq!(error.code, Code::AttributeRequiredMissing, "{error:?}");
    assert_eq!(error.path, "device.badge.uid");
    let mistyped = engine.judge(badged_event(json!({"uid": "B-1", "door": 7})), None);
    assert!(!mistyped.is_accepted());
    assert!(mistyped
        .errors()
        .any(|f| f.path == "device.badge.door" && f.severity == Severity::Error));
}

#[test]
fn the_table_has_the_extension_s_columns() {
    engine();
    let schema = Schema::get(OcsfVersion::V1_3_0).unwrap();
    // The default rule leaves a profile's attribute inside an object to `unmapped`, as for
    // OCSF's own profiles; named, it is a column.
    let lean = TableModel::new(schema, 1007, &TableSpec::default()).unwrap();
    assert!(lean.type_at("device.badge").is_none());
    let table = TableModel::new(schema, 1007, &badge_column()).unwrap();
    assert!(table.type_at("device.badge.uid").is_some());
    assert!(table.type_at("device.badge.door").is_some());
    // An object path brings the object's default columns: its optional `issued_time` is not.
    assert!(table.type_at("device.badge.issued_time").is_none());
    let glue = serde_json::to_string(&table.glue_schema()).unwrap();
    assert!(glue.contains("badge:struct<"), "{glue}");
}

#[test]
fn the_lambda_reads_the_files_from_ocsf_extensions() {
    let file = acme_file().display().to_string();
    let config = TransformConfig::from_lookup(|name| match name {
        "OCSF_VERSION" => Some("1.3.0".to_owned()),
        "OCSF_EXTENSIONS" => Some(format!(" {file} ,")),
        "OCSF_TABLE_COLUMNS" => Some("device.badge".to_owned()),
        _ => None,
    })
    .unwrap();
    assert_eq!(config.engine.schema_files, vec![acme_file().to_owned()]);
    let transformer = Transformer::new(config).unwrap();
    let payload = serde_json::to_vec(&badged_event(json!({"uid": "B-17"}))).unwrap();
    let invocation = FirehoseEvent::from_payloads([payload], "eu-west-1", 0);
    let (response, _) = transformer.handle(&invocation).unwrap();
    let response = serde_json::to_value(&response).unwrap();
    let record = &response["records"][0];
    assert_eq!(record["result"], "Ok", "{response}");
    let row: Value =
        serde_json::from_slice(&STANDARD.decode(record["data"].as_str().unwrap()).unwrap())
            .unwrap();
    assert_eq!(row["device"]["badge"]["uid"], "B-17");
}

fn refused(path: &Path) -> &'static str {
    let error = Schema::install_file(path).unwrap_err();
    // Every refusal names the file.
    assert!(
        error.to_string().contains(&path.display().to_string()),
        "{error}"
    );
    error.kind()
}

#[test]
fn files_that_cannot_be_used_are_refused_by_kind() {
    let dir = scratch();
    assert_eq!(refused(&dir.join("absent.json")), "read");

    let text = dir.join("text.json");
    std::fs::write(&text, "not json").unwrap();
    assert_eq!(refused(&text), "json");

    let later = dir.join("later.json");
    let mut schema = vendored("1.1.0");
    schema["version"] = json!("1.9.0");
    std::fs::write(&later, schema.to_string()).unwrap();
    assert_eq!(refused(&later), "unknown_release");

    // An attribute of an object the file does not define: refused, and 1.2.0 stays embedded.
    let broken = dir.join("broken-1.2.0.json");
    let mut schema = vendored("1.2.0");
    schema["objects"]["device"]["attributes"]["badge"] =
        json!({"type": "object_t", "object_type": "acme/badge"});
    std::fs::write(&broken, schema.to_string()).unwrap();
    assert_eq!(refused(&broken), "compile");
    assert_eq!(Schema::get(OcsfRelease::V1_2_0).unwrap().file(), None);

    // A release already in use in the process (here the embedded 1.0.0) cannot be replaced.
    Schema::get(OcsfRelease::V1_0_0).unwrap();
    let late = dir.join("late-1.0.0.json");
    std::fs::write(&late, vendored("1.0.0").to_string()).unwrap();
    assert_eq!(refused(&late), "already_loaded");
}

#[test]
fn an_engine_with_an_unusable_file_is_not_built() {
    let error = Engine::new(EngineConfig {
        schema_files: vec![scratch().join("missing.json")],
        ..EngineConfig::default()
    })
    .unwrap_err();
    assert!(
        matches!(error, ConfigError::SchemaFile(ref e) if e.kind() == "read"),
        "{error}"
    );
}

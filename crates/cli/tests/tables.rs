//! `ocsf-firehose glue-schema` and the column list the Lambda fits rows to: the committed
//! schemas, the Hive DDL, profiles, named columns (`--column`), columns sampled from events
//! (`--from-events`), and the Lambda's `OCSF_TABLE_COLUMNS` giving the same table; and `demo`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::path::{Path, PathBuf};

use common::{assert_success, json_lines, run, s, temp_file};
use serde_json::{json, Value};

#[test]
fn glue_schema_prints_the_committed_columns_in_json_and_hive() {
    let json = run(&["glue-schema", "--class-uid", "3002"], None);
    assert_success(&json);
    let committed = std::fs::read(
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../../infra/schemas/1.1.0/3002-authentication.json"),
    )
    .unwrap();
    assert_eq!(json.stdout, committed);
    let parsed: Value = serde_json::from_slice(&json.stdout).unwrap();
    let columns = parsed["columns"].as_array().unwrap();
    let hive = run(
        &[
            "glue-schema",
            "--class-uid",
            "3002",
            "--format",
            "hive",
            "--ocsf-version",
            "1.1.0",
        ],
        None,
    );
    let text = String::from_utf8(hive.stdout).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), columns.len());
    assert_eq!(lines[0], "`activity_id` int,");
    assert!(lines.contains(&"`time` bigint,"));
    assert!(!lines.last().unwrap().ends_with(','));
    let narrow = run(
        &["glue-schema", "--class-uid", "3002", "--profile", "cloud"],
        None,
    );
    let narrow: Value = serde_json::from_slice(&narrow.stdout).unwrap();
    assert_eq!(narrow["profiles"], json!(["cloud"]));
    assert!(narrow["columns"].as_array().unwrap().len() < columns.len());
    let bad = run(
        &["glue-schema", "--class-uid", "3002", "--profile", "shoes"],
        None,
    );
    assert_eq!(bad.status.code(), Some(2));
    let stderr = String::from_utf8(bad.stderr).unwrap();
    assert!(
        stderr.contains("does not support profile `shoes`"),
        "{stderr}"
    );
    let unknown = run(&["glue-schema", "--class-uid", "1"], None);
    assert_eq!(unknown.status.code(), Some(2));
}

#[test]
fn named_and_sampled_columns_join_the_table_and_the_lambda_fits_rows_to_the_same_list() {
    let sample = temp_file(
        "sample.jsonl",
        br#"{"class_uid": 3002, "src_endpoint": {"location": {"city": "Oslo"}}, "shoe": 1}
{"class_uid": 3002, "user": {"name": "a", "ldap_person": {"job_title": "x"}}}
{"class_uid": 6003, "api": {"version": "v1"}}
not json
"#,
    );
    let out = run(
        &[
            "glue-schema",
            "--class-uid",
            "3002",
            "--column",
            "user.email_addr",
            "--from-events",
            s(&sample),
        ],
        None,
    );
    assert_success(&out);
    let schema: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        schema["extra_columns"],
        json!([
            "src_endpoint.location.city",
            "user.email_addr",
            "user.ldap_person.job_title"
        ]),
        "the named path and what the sample uses beyond the default columns"
    );
    let column = |name: &str| {
        schema["columns"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["Name"] == name)
            .map(|c| c["Type"].as_str().unwrap().to_owned())
            .unwrap()
    };
    assert!(column("src_endpoint").contains("location:struct<city:string>"));
    assert!(column("user").contains("email_addr:string"));
    // The Lambda, given the same list, keeps the value in its column; without it, in unmapped.
    let mut event = common::fixture("authentication");
    event["src_endpoint"]["location"] = json!({"city": "Oslo"});
    let input = serde_json::to_vec(&event).unwrap();
    let columns = schema["extra_columns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap())
        .collect::<Vec<_>>()
        .join(",");
    let config = temp_file(
        "columns.env",
        format!("OCSF_TABLE_COLUMNS={columns}\n").as_bytes(),
    );
    let out = run(
        &["normalize", "--row", "--config", s(&config)],
        Some(&input),
    );
    assert_success(&out);
    let row = &json_lines(&out.stdout)[0];
    assert_eq!(row["src_endpoint"]["location"]["city"], json!("Oslo"));
    assert!(row["unmapped"].get("src_endpoint.location").is_none());
    let out = run(&["normalize", "--row"], Some(&input));
    let row = &json_lines(&out.stdout)[0];
    assert_eq!(
        row["unmapped"]["src_endpoint.location"],
        json!(r#"{"city":"Oslo"}"#)
    );
    let bad = run(
        &[
            "glue-schema",
            "--class-uid",
            "3002",
            "--column",
            "user.shoe",
        ],
        None,
    );
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8(bad.stderr)
        .unwrap()
        .contains("`user.shoe`"));
}

#[test]
fn demo_prints_the_events_local_sends() {
    let out = run(&["demo", "300", "--seed", "3"], None);
    assert_success(&out);
    let text = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 300);
    let parsed = lines
        .iter()
        .filter(|l| serde_json::from_str::<Value>(l).is_ok())
        .count();
    assert!(
        (290..300).contains(&parsed),
        "about 1 % are not JSON: {parsed}"
    );
    let again = run(&["demo", "300", "--seed", "3"], None);
    assert_eq!(again.stdout, text.as_bytes(), "deterministic for a seed");
}

#[path = "../../transform/tests/support/acme_extension.rs"]
mod acme_extension;

/// A user's own extension, compiled into 1.3.0: `--extension FILE` (and `OCSF_EXTENSIONS`)
/// make `validate` judge it and `glue-schema` give its columns; a file that cannot be used
/// stops the command, naming it.
#[test]
fn an_extension_file_is_validated_and_gets_its_columns() {
    use acme_extension::{acme_schema, badged_event};
    let file = temp_file(
        "acme-1.3.0.json",
        &serde_json::to_vec(&acme_schema()).unwrap(),
    );
    let good = serde_json::to_vec(&badged_event(json!({"uid": "B-17"}))).unwrap();
    let bad = serde_json::to_vec(&badged_event(json!({"door": 7}))).unwrap();
    let judged = |extension: Option<&str>, input: &[u8]| {
        let mut args = vec!["validate", "--format", "json", "--ocsf-version", "1.3.0"];
        args.extend(extension.map(|f| ["--extension", f]).into_iter().flatten());
        let out = run(&args, Some(input));
        (out.status.code(), json_lines(&out.stdout).remove(0))
    };
    // Without the file the profile is unknown: carried, with a warning.
    let (code, line) = judged(None, &good);
    assert_eq!(code, Some(0));
    assert_eq!(line["findings"][0]["code"], json!("profile_unknown"));
    let (code, line) = judged(Some(s(&file)), &good);
    assert_eq!(code, Some(0));
    assert_eq!(line["findings"], json!([]), "{line}");
    // With it, the badge's own rules hold.
    let (code, line) = judged(Some(s(&file)), &bad);
    assert_eq!(code, Some(1));
    let codes: Vec<&Value> = line["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| &f["code"])
        .collect();
    assert!(
        codes.contains(&&json!("attribute_required_missing")),
        "{line}"
    );

    let glue = |extension: &[&str], env: Option<&Path>| {
        let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_ocsf-firehose"));
        command.args([
            "glue-schema",
            "--class-uid",
            "1007",
            "--ocsf-version",
            "1.3.0",
        ]);
        command.args(["--column", "device.badge"]).args(extension);
        command.env_remove("OCSF_EXTENSIONS");
        if let Some(path) = env {
            command.env("OCSF_EXTENSIONS", path);
        }
        command.output().unwrap()
    };
    let by_flag = glue(&["--extension", s(&file)], None);
    assert_success(&by_flag);
    let by_env = glue(&[], Some(&file));
    assert_eq!(by_flag.stdout, by_env.stdout);
    let table: Value = serde_json::from_slice(&by_flag.stdout).unwrap();
    let device = table["columns"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["Name"] == "device")
        .unwrap();
    assert!(
        device["Type"]
            .as_str()
            .unwrap()
            .contains("badge:struct<door:string,uid:string>"),
        "{device}"
    );
    // Without the file there is no `device.badge` to name.
    assert_eq!(glue(&[], None).status.code(), Some(2));
    let missing = glue(&["--extension", "/nonexistent/acme.json"], None);
    assert_eq!(missing.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("/nonexistent/acme.json"));
}

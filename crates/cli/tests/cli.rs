//! The `ocsf-firehose` binary: the Lambda's verdict and the schema-only check, output formats,
//! exit codes, inputs (files, stdin, JSON lines, concatenated documents, unparseable ones), the
//! Lambda's configuration (environment, `--config`, flags), and the local path.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::path::PathBuf;

use common::{assert_success, json_lines, run, s, temp_file};
use serde_json::{json, Value};

fn fixture(name: &str) -> PathBuf {
    common::fixture_path(name)
}

#[test]
fn validate_valid_files_exits_zero() {
    let a = fixture("authentication");
    let b = fixture("dns_activity");
    let out = run(&["validate", s(&a), s(&b)], None);
    assert_success(&out);
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains(
            "authentication.json#0: accepted (class_uid 3002) → region=us-east-1/accountId=123456789012/eventDay=20230428"
        ),
        "{text}"
    );
    assert_eq!(text.lines().count(), 2);
}

/// The issue that made the verdict one function: valid OCSF whose `time` has no `eventDay`.
#[test]
fn validate_gives_the_lambda_s_verdict_and_schema_only_the_ocsf_check() {
    let mut event = common::fixture("authentication");
    event["time"] = json!(631_152_000_000_i64); // 1990-01-01
    let input = serde_json::to_vec(&event).unwrap();
    let out = run(&["validate", "--format", "json"], Some(&input));
    assert_eq!(out.status.code(), Some(1), "the Lambda rejects it");
    let line = &json_lines(&out.stdout)[0];
    assert_eq!(line["verdict"], json!("lambda"));
    assert_eq!(line["valid"], json!(false));
    assert_eq!(line["findings"][0]["code"], json!("partition_time_invalid"));
    let file = temp_file("1990.json", &input);
    let transform = run(&["transform", "--records", s(&file)], None);
    assert_eq!(transform.status.code(), Some(1), "so does the handler");
    let schema = run(
        &["validate", "--schema-only", "--format", "json"],
        Some(&input),
    );
    assert_success(&schema);
    let line = &json_lines(&schema.stdout)[0];
    assert_eq!(line["verdict"], json!("schema"));
    assert_eq!(line["valid"], json!(true));
    let text = run(&["validate", "--schema-only"], Some(&input));
    assert!(String::from_utf8_lossy(&text.stdout).contains("-#0: valid (class_uid 3002)\n"));
}

#[test]
fn validate_json_reports_one_line_per_event_and_goes_on_after_bad_json() {
    let mut bad = std::fs::read(fixture("authentication")).unwrap();
    bad.extend_from_slice(b"\n{\"class_uid\": 3002,}\n{\"read\": \"after it\"}");
    let bad = temp_file("bad.json", &bad);
    let good = fixture("api_activity");
    let out = run(&["validate", "--format", "json", s(&bad), s(&good)], None);
    assert_eq!(out.status.code(), Some(1));
    let mut lines = json_lines(&out.stdout);
    assert_eq!(lines.len(), 4, "{lines:?}");
    // The document on the line after the bad one is read (and is no OCSF event).
    let after = lines.remove(2);
    assert_eq!(
        (after["index"].clone(), after["valid"].clone()),
        (json!(2), json!(false))
    );
    assert_ne!(after["findings"][0]["code"], json!("json_invalid"));
    assert_eq!(lines[0]["valid"], json!(true));
    assert_eq!(lines[0]["index"], json!(0));
    assert_eq!(lines[1]["source"], json!(s(&bad)));
    assert_eq!(lines[1]["index"], json!(1));
    assert_eq!(lines[1]["valid"], json!(false));
    assert_eq!(lines[1]["class_uid"], Value::Null);
    let finding = &lines[1]["findings"][0];
    assert_eq!(finding["code"], json!("json_invalid"));
    assert_eq!(finding["severity"], json!("error"));
    assert!(
        finding["message"].as_str().unwrap().contains("at byte"),
        "{finding}"
    );
    assert_eq!(lines[2]["source"], json!(s(&good)));
    assert_eq!(lines[2]["valid"], json!(true));
    assert_eq!(
        lines[2]["partition"],
        json!({"region": "eu-west-1", "accountId": "external", "eventDay": "20230428"})
    );
    for line in &lines {
        // Key order depends on serde_json's `preserve_order` feature (which other crates of a
        // workspace may switch on): compare the set.
        let mut keys: Vec<&String> = line.as_object().unwrap().keys().collect();
        keys.sort();
        let mut expected = vec![
            "class_uid",
            "findings",
            "index",
            "source",
            "valid",
            "verdict",
        ];
        if line["valid"] == json!(true) {
            expected.insert(3, "partition");
        }
        assert_eq!(keys, expected);
        assert_eq!(line["verdict"], json!("lambda"));
    }
}

#[test]
fn validate_reads_stdin_json_lines_and_applies_engine_options() {
    let event: Value =
        serde_json::from_slice(&std::fs::read(fixture("authentication")).unwrap()).unwrap();
    let mut input = serde_json::to_vec(&event).unwrap();
    input.push(b'\n');
    input.extend(serde_json::to_vec(&event).unwrap());
    let out = run(
        &["validate", "--format", "json", "--class-uid", "6003", "-"],
        Some(&input),
    );
    assert_eq!(out.status.code(), Some(1));
    let lines = json_lines(&out.stdout);
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[1]["source"], json!("-"));
    assert_eq!(lines[1]["findings"][0]["code"], json!("class_not_allowed"));
    assert_eq!(lines[1]["findings"][0]["path"], json!("class_uid"));

    // A 1.1.0 event and a 1.3.0 target: translated up (no finding), or, without translation,
    // validated as it is (the server's `version_earlier` warning).
    let out = run(
        &["validate", "--ocsf-version", "1.3.0", "--format", "json"],
        Some(&input),
    );
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(json_lines(&out.stdout)[0]["findings"], json!([]));
    let out = run(
        &[
            "validate",
            "--ocsf-version",
            "1.3.0",
            "--translate",
            "none",
            "--format",
            "json",
        ],
        Some(&input),
    );
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        json_lines(&out.stdout)[0]["findings"][0]["code"],
        json!("version_earlier")
    );
    let out = run(
        &[
            "validate",
            "--ocsf-version",
            "1.3.0",
            "--source-versions",
            "1.3.0",
            "--format",
            "json",
        ],
        Some(&input),
    );
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        json_lines(&out.stdout)[0]["findings"][0]["code"],
        json!("version_not_accepted")
    );
    let out = run(
        &[
            "validate",
            "--ocsf-version",
            "1.3.0",
            "--severity",
            "version_earlier=ignore",
            "--format",
            "json",
        ],
        Some(&input),
    );
    assert_eq!(json_lines(&out.stdout)[0]["findings"], json!([]));
}

#[test]
fn schema_only_checks_the_event_as_it_is_unless_normalized() {
    let mut event = common::fixture("authentication");
    event["vendor_score"] = json!(3);
    let input = serde_json::to_vec(&event).unwrap();
    assert_eq!(
        run(&["validate"], Some(&input)).status.code(),
        Some(0),
        "the Lambda moves it under unmapped"
    );
    assert_eq!(
        run(&["validate", "--schema-only"], Some(&input))
            .status
            .code(),
        Some(1)
    );
    assert_eq!(
        run(&["validate", "--schema-only", "--normalize"], Some(&input))
            .status
            .code(),
        Some(0)
    );
    assert_eq!(
        run(&["validate", "--normalize"], Some(&input))
            .status
            .code(),
        Some(2),
        "--normalize belongs to --schema-only"
    );
}

#[test]
fn the_lambda_s_configuration_comes_from_the_environment_a_file_and_flags() {
    let event = common::fixture("authentication");
    let input = serde_json::to_vec(&event).unwrap();
    let config = temp_file(
        "version.env",
        b"OCSF_VERSION=1.3.0\nOCSF_TRANSLATE=none\nOCSF_SEVERITY=version_earlier=error\n",
    );
    let out = run(
        &["validate", "--config", s(&config), "--format", "json"],
        Some(&input),
    );
    assert_eq!(
        out.status.code(),
        Some(1),
        "1.1.0 event, 1.3.0 target, made an error"
    );
    assert_eq!(
        json_lines(&out.stdout)[0]["findings"][0]["code"],
        json!("version_earlier")
    );
    let out = run(
        &[
            "validate",
            "--config",
            s(&config),
            "--severity",
            "version_earlier=ignore",
        ],
        Some(&input),
    );
    assert_success(&out);
    let out = run(
        &[
            "validate",
            "--config",
            s(&config),
            "--ocsf-version",
            "1.1.0",
        ],
        Some(&input),
    );
    assert_success(&out);
    let mut no_region = event.clone();
    no_region["cloud"].as_object_mut().unwrap().remove("region");
    let input = serde_json::to_vec(&no_region).unwrap();
    let out = run(
        &["validate", "--format", "json", "--region", "ap-south-1"],
        Some(&input),
    );
    assert_eq!(
        json_lines(&out.stdout)[0]["partition"]["region"],
        json!("ap-south-1"),
        "the stream's region is the last fallback"
    );
}

#[test]
fn a_reader_that_goes_away_is_not_an_error() {
    use std::io::Read;
    // Far more report lines than a pipe holds: the writes after the reader left fail.
    let line = serde_json::to_string(&common::fixture("authentication")).unwrap();
    let input = temp_file("many.jsonl", format!("{line}\n").repeat(5_000).as_bytes());
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_ocsf-firehose"))
        .args(["validate", "--format", "json", s(&input)])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = [0u8; 8];
    child.stdout.take().unwrap().read_exact(&mut first).unwrap(); // then closed
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn usage_and_io_errors_exit_two() {
    assert_eq!(
        run(&["validate", "--ocsf-version", "9.9.9"], Some(b""))
            .status
            .code(),
        Some(2)
    );
    assert_eq!(
        run(&["validate", "--severity", "nope=error"], Some(b""))
            .status
            .code(),
        Some(2)
    );
    assert_eq!(run(&["frobnicate"], None).status.code(), Some(2));
    let good = fixture("authentication");
    let out = run(&["validate", "/no/such/file.json", s(&good)], None);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("/no/such/file.json"));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("authentication.json#0: accepted"),
        "other files still checked"
    );
}

#[test]
fn normalize_prints_normalized_events_and_reports_invalid_ones_on_stderr() {
    let mut event: Value =
        serde_json::from_slice(&std::fs::read(fixture("authentication")).unwrap()).unwrap();
    let original = event.clone();
    for key in ["class_name", "type_name", "category_name"] {
        event.as_object_mut().unwrap().remove(key);
    }
    let mut broken = original.clone();
    broken.as_object_mut().unwrap().remove("time");
    let mut input = Vec::new();
    for e in [&event, &broken] {
        input.extend(serde_json::to_vec(e).unwrap());
        input.push(b'\n');
    }
    input.extend_from_slice(b"{oops");
    let out = run(&["normalize"], Some(&input));
    assert_eq!(out.status.code(), Some(1));
    let printed = json_lines(&out.stdout);
    assert_eq!(printed, std::slice::from_ref(&original));
    let reported = json_lines(&out.stderr);
    assert_eq!(reported.len(), 2);
    assert_eq!(reported[0]["index"], json!(1));
    assert_eq!(
        reported[0]["findings"][0]["code"],
        json!("attribute_required_missing")
    );
    assert_eq!(reported[1]["findings"][0]["code"], json!("json_invalid"));

    let mut extra = original.clone();
    extra["shoe_size"] = json!(44);
    let out = run(
        &["normalize", "--row"],
        Some(&serde_json::to_vec(&extra).unwrap()),
    );
    assert_success(&out);
    let row = &json_lines(&out.stdout)[0];
    assert_eq!(
        row["unmapped"]["shoe_size"],
        json!("44"),
        "as the Lambda emits it: unmapped as map<string,string>"
    );
}

fn firehose_fixture(name: &str) -> PathBuf {
    common::fixtures_dir()
        .join("firehose")
        .join(format!("{name}.json"))
}

#[test]
fn transform_runs_the_lambda_handler_on_a_firehose_event() {
    let out = run(
        &["transform", "--event", s(&firehose_fixture("direct_put"))],
        None,
    );
    assert_success(&out);
    let response: Value = serde_json::from_slice(&out.stdout).unwrap();
    let records = response["records"].as_array().unwrap();
    assert_eq!(records.len(), 5);
    assert!(records.iter().all(|r| r["result"] == json!("Ok")));
    assert_eq!(
        records[0]["metadata"]["partitionKeys"]["eventDay"],
        json!("20230428")
    );
    let summary: Value =
        serde_json::from_slice(out.stderr.split(|b| *b == b'\n').next().unwrap()).unwrap();
    assert_eq!(summary["ok"], json!(5));

    let out = run(
        &["transform", "--event", s(&firehose_fixture("bad_inputs"))],
        None,
    );
    assert_eq!(out.status.code(), Some(1), "records not Ok");
    let warnings = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        warnings.matches("record not delivered").count(),
        8,
        "{warnings}"
    );
    assert!(warnings.contains("\"recordId\":\"bad_inputs-001\""));
}

#[test]
fn transform_wraps_plain_records_and_reads_a_config_file() {
    let events = fixture("dns_activity");
    let out = run(
        &[
            "transform",
            "--records",
            s(&events),
            "--decode",
            "--region",
            "eu-west-1",
        ],
        None,
    );
    assert_success(&out);
    let response: Value = serde_json::from_slice(&out.stdout).unwrap();
    let data = response["records"][0]["data"].as_str().unwrap();
    assert!(
        data.starts_with("{\"activity_id\":1,") && data.ends_with("}\n"),
        "{data}"
    );

    let mut invalid: Value = serde_json::from_slice(&std::fs::read(&events).unwrap()).unwrap();
    invalid.as_object_mut().unwrap().remove("src_endpoint");
    let input = temp_file("invalid.json", &serde_json::to_vec(&invalid).unwrap());
    let config = temp_file(
        "drop.env",
        b"# test\nexport OCSF_ON_INVALID=\"drop\"\nOCSF_LOG_LEVEL=warn\n",
    );
    let out = run(
        &["transform", "--records", s(&input), "--config", s(&config)],
        None,
    );
    let response: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(response["records"][0]["result"], json!("Dropped"));
    assert!(
        !String::from_utf8_lossy(&out.stderr).contains("invocation transformed"),
        "warn level"
    );

    let bad = temp_file("bad.env", b"OCSF_DEFAULT_ACCOUNT_ID=12345\n");
    let out = run(
        &["transform", "--records", s(&input), "--config", s(&bad)],
        None,
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("OCSF_DEFAULT_ACCOUNT_ID"));
    assert_eq!(
        run(&["transform"], None).status.code(),
        Some(2),
        "--event or --records"
    );
}

#[test]
fn local_runs_the_demo_and_files_through_the_producer_and_the_whole_path() {
    let out = std::env::temp_dir().join(format!("ocsf-cli-local-{}", std::process::id()));
    let demo = run(
        &[
            "local",
            "--demo",
            "400",
            "--out",
            out.to_str().unwrap(),
            "--json",
        ],
        None,
    );
    assert_eq!(demo.status.code(), Some(1), "some demo events are invalid");
    let summary: Value = serde_json::from_slice(&demo.stdout).unwrap();
    let count = |k: &str| summary[k].as_u64().unwrap();
    assert_eq!(count("events"), 400);
    assert_eq!(
        summary["refused"],
        json!({"json_invalid": 1}),
        "the truncated demo event never reaches a stream"
    );
    assert_eq!(count("sent"), 399, "every other event is delivered");
    assert!(
        count("recordsIn") < count("sent"),
        "aggregated: {} records for {} events",
        count("recordsIn"),
        count("sent")
    );
    assert_eq!(
        count("records"),
        399,
        "de-aggregated: one sub-record per event"
    );
    assert_eq!(
        count("records"),
        count("ok") + count("failed") + count("dropped")
    );
    assert_eq!(count("failed"), 3, "the other deliberately invalid events");
    assert_eq!(common::sum_values(&summary["rows"]), count("ok"));
    for partition in summary["rows"].as_object().unwrap().keys() {
        let dir = out.join(partition);
        let files: Vec<_> = std::fs::read_dir(&dir).unwrap().collect();
        assert_eq!(files.len(), 1, "{partition}");
    }
    let refused = std::fs::read_to_string(out.join("errors/producer-refused.jsonl")).unwrap();
    let refused = json_lines(refused.as_bytes());
    assert_eq!(refused.len(), 1);
    assert_eq!(
        refused[0]["errorCode"],
        json!("json_invalid"),
        "the code validate and the Lambda give"
    );
    assert_eq!(refused[0]["line"], json!(51), "the demo's 51st event");

    let lines = format!(
        "{}\n{}\nnot json\n{{\"class_uid\": 999999}}\n",
        serde_json::to_string(&common::fixture("authentication")).unwrap(),
        serde_json::to_string(&common::fixture("dns_activity")).unwrap()
    );
    let text = run(
        &["local", "--out", out.to_str().unwrap(), "-"],
        Some(lines.as_bytes()),
    );
    assert_eq!(text.status.code(), Some(1), "one refused, one failed");
    let stdout = String::from_utf8(text.stdout).unwrap();
    assert!(stdout.contains("4 events in"), "{stdout}");
    assert!(stdout.contains("3 events sent"), "{stdout}");
    assert!(stdout.contains("1 refused at send"), "{stdout}");
    assert!(
        stdout.contains("2 ok, 1 failed, 0 dropped"),
        "an unknown class goes to the unclassified stream and fails there: {stdout}"
    );
    assert!(stdout.contains("class_uid_unknown"), "{stdout}");
    assert!(stdout.contains("ext/dns-activity/region="), "{stdout}");
    assert!(out.join("errors/unclassified/processing-failed").is_dir());
    std::fs::remove_dir_all(out).unwrap();
}

/// Inputs of many batches are judged on every core: the reports still come in input order,
/// one per document, with an unreadable source between two others reported and skipped.
#[test]
fn many_documents_are_reported_in_input_order_whatever_core_judged_them() {
    let original: Value =
        serde_json::from_slice(&std::fs::read(fixture("authentication")).unwrap()).unwrap();
    let document = |i: usize| -> Vec<u8> {
        if i % 50 == 49 {
            return b"{oops".to_vec();
        }
        let mut event = original.clone();
        event["metadata"]["uid"] = json!(format!("event-{i}"));
        if i % 7 == 3 {
            event.as_object_mut().unwrap().remove("time");
        }
        serde_json::to_vec(&event).unwrap()
    };
    let passes = |i: usize| i % 50 != 49 && i % 7 != 3;
    let file = |name: &str, count: usize| {
        let lines: Vec<Vec<u8>> = (0..count).map(document).collect();
        temp_file(name, &lines.join(&b'\n'))
    };
    let (first, second) = (file("many-1.jsonl", 2_000), file("many-2.jsonl", 700));
    let missing = first.with_file_name("no-such-input.jsonl");
    let out = run(
        &[
            "validate",
            "--format",
            "json",
            s(&first),
            s(&missing),
            s(&second),
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(2), "an unreadable input");
    assert!(String::from_utf8_lossy(&out.stderr).contains("no-such-input.jsonl"));
    let lines = json_lines(&out.stdout);
    let expected: Vec<(&str, usize)> = (0..2_000)
        .map(|i| (s(&first), i))
        .chain((0..700).map(|i| (s(&second), i)))
        .collect();
    let reported: Vec<(&str, usize)> = lines
        .iter()
        .map(|l| {
            (
                l["source"].as_str().unwrap(),
                l["index"].as_u64().unwrap() as usize,
            )
        })
        .collect();
    assert_eq!(reported, expected);
    for (line, (_, i)) in lines.iter().zip(&expected) {
        assert_eq!(line["valid"], json!(passes(*i)), "document {i}");
    }

    let out = run(&["normalize", s(&first)], None);
    assert_eq!(out.status.code(), Some(1));
    let uids: Vec<String> = json_lines(&out.stdout)
        .iter()
        .map(|e| e["metadata"]["uid"].as_str().unwrap().to_owned())
        .collect();
    let accepted: Vec<String> = (0..2_000)
        .filter(|i| passes(*i))
        .map(|i| format!("event-{i}"))
        .collect();
    assert_eq!(uids, accepted);
    let rejected: Vec<u64> = json_lines(&out.stderr)
        .iter()
        .map(|r| r["index"].as_u64().unwrap())
        .collect();
    let wanted: Vec<u64> = (0..2_000u64).filter(|i| !passes(*i as usize)).collect();
    assert_eq!(rejected, wanted);
}

//! Regressions of issue 20 ("what independent probing broke"), each through the binary as an
//! operator runs it: redrive's event identity, operator paths kept inside their folder, `local`'s
//! exit status, input framing and codes shared by every command, atomic local writes.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use common::{fixture, json_lines, run, s};
use ocsf_firehose_transform::firehose::{FirehoseEvent, TransformConfig, Transformer};
use serde_json::{json, Value};

/// A fresh folder for one test.
fn work_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "ocsf-firehose-probing-{name}-{}",
        uuid::Uuid::new_v4().simple()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A Firehose `processing-failed` error document holding `event` as its record.
fn error_document(event: &Value) -> String {
    let raw = base64::engine::general_purpose::STANDARD.encode(serde_json::to_vec(event).unwrap());
    json!({"attemptsMade": 1, "arrivalTimestamp": 1_764_300_000_000_i64, "errorCode": "Lambda.ProcessingFailed",
           "errorMessage": "class_not_allowed", "attemptEndingTimestamp": 1_764_300_000_100_i64, "rawData": raw})
    .to_string()
}

/// Writes error objects (each a list of events) under `root/errors/authentication/…`.
fn error_objects(root: &Path, objects: &[Vec<Value>]) {
    let dir = root.join("errors/authentication/processing-failed/2026/11/28");
    std::fs::create_dir_all(&dir).unwrap();
    for (n, events) in objects.iter().enumerate() {
        let body: Vec<String> = events.iter().map(error_document).collect();
        std::fs::write(dir.join(format!("object-{n}")), body.join("\n") + "\n").unwrap();
    }
}

fn files_under(root: &Path) -> Vec<PathBuf> {
    walkdir::WalkDir::new(root)
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file())
        .map(|e| e.into_path())
        .collect()
}

/// Item 1: two events that share a `metadata.uid` but differ in content are two events. Both
/// are redriven; their objects are deleted only because both were delivered; a byte-identical
/// copy (Firehose's at-least-once) is still sent once.
#[test]
fn redrive_sends_events_sharing_a_uid_but_not_their_content_and_deletes_nothing_unsent() {
    let root = work_dir("redrive-uid");
    let mut first = fixture("authentication");
    first["metadata"]["uid"] = json!("shared-uid");
    let mut second = first.clone();
    second["user"]["name"] = json!("someone-else");
    second["message"] = json!("another event");
    error_objects(
        &root,
        &[vec![first.clone()], vec![second], vec![first.clone()]],
    );
    let lake = root.join("lake");
    let args = [
        "redrive",
        "--dir",
        s(&root),
        "--lake-dir",
        s(&lake),
        "--delete-redriven",
        "--json",
    ];
    let out = run(&args, None);
    common::assert_success(&out);
    let summary = &json_lines(&out.stdout)[0];
    assert_eq!(summary["sent"], json!(2), "{summary}");
    assert_eq!(summary["duplicates"], json!(1), "the byte-identical copy");
    assert_eq!(
        summary["deletedObjects"],
        json!(3),
        "every record delivered"
    );
    let parquet = files_under(&lake.join("ext"));
    assert!(!parquet.is_empty(), "the lake was written");
}

/// Item 8: a prefix or source name that would leave the output folder (or the bucket's layout)
/// is refused before anything is written, with exit 2; `local`, `upload` and `redrive` check
/// them with the one contract function.
#[test]
fn operator_prefixes_and_source_names_never_leave_their_folder() {
    let root = work_dir("traversal");
    let out = root.join("out");
    let input = common::temp_file(
        "traversal.json",
        &serde_json::to_vec(&fixture("authentication")).unwrap(),
    );
    let input = s(&input);
    let refused: [&[&str]; 6] = [
        &[
            "upload",
            input,
            "--out",
            s(&out),
            "--prefix",
            "../../x/{source}/",
        ],
        &[
            "upload",
            input,
            "--out",
            s(&out),
            "--source",
            "3002=../../../x",
        ],
        &["upload", input, "--out", s(&out), "--source", "3002="],
        &["local", input, "--out", s(&out), "--source", "3002=a/b"],
        &["redrive", "--dir", s(&out), "--prefix", "../", "--dry-run"],
        &[
            "redrive",
            "--dir",
            s(&out),
            "--lake-dir",
            s(&out),
            "--lake-prefix",
            "/abs/{source}/",
        ],
    ];
    for args in refused {
        let run = run(args, None);
        let stderr = String::from_utf8_lossy(&run.stderr);
        assert_eq!(run.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(
            stderr.contains("source name") || stderr.contains("key prefix"),
            "{args:?}: {stderr}"
        );
    }
    assert_eq!(
        files_under(&root),
        Vec::<PathBuf>::new(),
        "nothing written anywhere"
    );
}

/// Item 11: `local` exits as `validate` does: 0 when every event landed, 1 when any was refused
/// or failed (here every one), 2 on I/O errors.
#[test]
fn local_exits_one_when_events_fail_and_zero_when_all_land() {
    let root = work_dir("local-exit");
    let valid = serde_json::to_vec(&fixture("authentication")).unwrap();
    let landed = run(&["local", "--out", s(&root.join("a")), "-"], Some(&valid));
    common::assert_success(&landed);
    let all_fail = b"{\"class_uid\": 3002}\n{\"class_uid\": 999999}\n";
    let failed = run(
        &["local", "--out", s(&root.join("b")), "--json", "-"],
        Some(all_fail),
    );
    assert_eq!(failed.status.code(), Some(1));
    let summary = &json_lines(&failed.stdout)[0];
    assert_eq!(summary["failed"], json!(2), "{summary}");
    let missing = run(
        &[
            "local",
            "--out",
            s(&root.join("c")),
            s(&root.join("absent.jsonl")),
        ],
        None,
    );
    assert_eq!(missing.status.code(), Some(2));
}

/// Item 3: `upload` to an endpoint that answers nothing gives up once `--give-up-after` has
/// passed (`EndpointUnreachable`, not each event's deadline), exits 2, and says which endpoint
/// and why (the SDK's cause, not an empty message).
#[test]
fn upload_to_a_dead_endpoint_gives_up_promptly_and_names_the_endpoint_and_cause() {
    // A port nobody listens on: bound, then closed.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let endpoint = format!("http://127.0.0.1:{port}");
    let demo = run(&["demo", "3000", "--seed", "3"], None);
    let events = common::temp_file("dead-endpoint.jsonl", &demo.stdout);
    let out = run(
        &[
            "upload",
            s(&events),
            "--bucket",
            "lake",
            "--endpoint-url",
            &endpoint,
            "--give-up-after",
            "3",
            "--json",
        ],
        None,
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    let last = stderr.lines().last().unwrap_or_default();
    assert!(
        last.contains("events were not stored")
            && last.contains(&endpoint)
            && last.contains("not stored: unreachable: "),
        "{last}"
    );
    assert!(
        stderr.contains("WARN"),
        "the producer's warnings reach stderr: {stderr}"
    );
    let summary = &json_lines(&out.stdout)[0];
    // Given up by the circuit breaker, not at each event's 5-minute deadline.
    let codes: Vec<&String> = summary["notDelivered"]
        .as_object()
        .unwrap()
        .keys()
        .collect();
    assert_eq!(codes, ["unreachable"], "{summary}");
    let not_stored: u64 = summary["notDelivered"]
        .as_object()
        .unwrap()
        .values()
        .map(|n| n.as_u64().unwrap())
        .sum();
    assert_eq!(
        summary["events"].as_u64().unwrap(),
        summary["rejectedEvents"].as_u64().unwrap() + not_stored,
        "every event accounted for: {summary}"
    );
}

/// Item 7: on a full disk `local` fails (exit 2) and leaves no half-written object: every
/// `.parquet` file there is whole (`PAR1` at both ends), every error document a JSON line, and
/// no temporary file remains. The disk is a 600 KiB tmpfs (root can mount one; elsewhere the
/// test says why it did not run).
#[test]
fn local_on_a_full_disk_leaves_only_whole_objects() {
    let mount = work_dir("full-disk");
    let mounted = std::process::Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=600k", "tmpfs", s(&mount)])
        .status()
        .is_ok_and(|status| status.success());
    if !mounted {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI runs as root and must be able to mount a tmpfs"
        );
        eprintln!("skipping: cannot mount a tmpfs here (not root)");
        return;
    }
    let out = mount.join("lake");
    let run = run(&["local", "--demo", "20000", "--out", s(&out)], None);
    let stderr = String::from_utf8_lossy(&run.stderr).into_owned();
    // Read while mounted: what a reader of the lake would find.
    let files: Vec<(String, Vec<u8>)> = files_under(&mount)
        .into_iter()
        .map(|path| {
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read(&path).unwrap())
        })
        .collect();
    let _ = std::process::Command::new("umount").arg(s(&mount)).status();
    assert_eq!(run.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("No space left"), "{stderr}");
    assert!(
        !files.is_empty(),
        "something was written before the disk filled"
    );
    for (name, bytes) in &files {
        assert!(!name.ends_with(".partial"), "left behind: {name}");
        if name.ends_with(".parquet") {
            assert!(
                bytes.len() > 8 && bytes.starts_with(b"PAR1") && bytes.ends_with(b"PAR1"),
                "a half-written object: {name}"
            );
        } else {
            let text = String::from_utf8(bytes.clone()).unwrap();
            for line in text.lines().filter(|l| !l.is_empty()) {
                serde_json::from_str::<Value>(line).unwrap_or_else(|e| panic!("{name}: {e}"));
            }
        }
    }
}

/// The error codes `validate` gives an input (one file).
fn validate_codes(file: &Path) -> BTreeSet<String> {
    let out = run(&["validate", "--format", "json", s(file)], None);
    json_lines(&out.stdout)
        .iter()
        .flat_map(|line| line["findings"].as_array().cloned().unwrap_or_default())
        .filter(|f| f["severity"] == json!("error"))
        .map(|f| f["code"].as_str().unwrap().to_owned())
        .collect()
}

/// The error codes `upload --out` reports on stderr for an input.
fn upload_codes(file: &Path, out: &Path) -> BTreeSet<String> {
    let run = run(&["upload", s(file), "--out", s(out), "--json"], None);
    String::from_utf8_lossy(&run.stderr)
        .lines()
        .filter(|l| l.starts_with('{'))
        .flat_map(|l| {
            let line: Value = serde_json::from_str(l).unwrap();
            line["codes"].as_array().cloned().unwrap_or_default()
        })
        .map(|c| c.as_str().unwrap().to_owned())
        .collect()
}

/// The error codes of `local`'s summary for an input: refused at send, failed by the Lambda.
fn local_codes(file: &Path, out: &Path) -> BTreeSet<String> {
    let run = run(&["local", s(file), "--out", s(out), "--json"], None);
    let summary = &json_lines(&run.stdout)[0];
    ["refused", "failures"]
        .iter()
        .flat_map(|k| {
            summary[k]
                .as_object()
                .cloned()
                .unwrap_or_default()
                .keys()
                .cloned()
                .collect::<Vec<_>>()
        })
        .collect()
}

/// The error codes of the Lambda's verdict on the input as one Firehose record.
fn lambda_codes(bytes: &[u8]) -> BTreeSet<String> {
    let transformer = Transformer::new(TransformConfig::default()).unwrap();
    let event = FirehoseEvent::from_payloads([bytes], "us-east-1", 0);
    let (_, report) = transformer.handle(&event).unwrap();
    report
        .failures
        .iter()
        .flat_map(|f| f.findings.iter().map(|l| l.code.as_str().to_owned()))
        .collect()
}

/// What the JSONTestSuite files (`json_test_suite_files_get_…`) do not hold: a real event in
/// every framing (BOM, CRLF, CR-only, pretty, a repeated key), an event cut short, bytes that are
/// not UTF-8, an event over the record limit, deep objects, empty input. Each is one input of one
/// event; `validate`, the Lambda (the input as one record), `upload` and `local` must give the
/// same error codes.
fn parsing_cases() -> Vec<(&'static str, Vec<u8>)> {
    let event = serde_json::to_vec(&fixture("authentication")).unwrap();
    let text = String::from_utf8(event.clone()).unwrap();
    let mut big = fixture("authentication");
    big["message"] = json!("x".repeat(1_100_000));
    let mut cases: Vec<(&'static str, Vec<u8>)> = vec![
        ("y_object_event", event.clone()),
        ("y_bom_event", [b"\xEF\xBB\xBF".as_slice(), &event].concat()),
        ("y_crlf_event", [event.as_slice(), b"\r\n"].concat()),
        ("y_cr_event", [event.as_slice(), b"\r"].concat()),
        (
            "y_pretty_event",
            serde_json::to_vec_pretty(&fixture("authentication")).unwrap(),
        ),
        (
            "y_duplicate_key_event",
            text.replacen('{', "{\"class_uid\":1,", 1).into_bytes(),
        ),
        ("n_event_cut", event[..event.len() / 2].to_vec()),
        ("n_invalid_utf8_bare", b"\xFF".to_vec()),
        ("n_utf16_bom", b"\xFE\xFF\x00{\x00}".to_vec()),
        ("i_string_invalid_utf8", b"{\"a\":\"\xFF\"}".to_vec()),
        (
            "i_object_deep",
            [b"{\"a\":".repeat(200), b"1".to_vec(), b"}".repeat(200)].concat(),
        ),
        ("x_empty", Vec::new()),
        ("x_whitespace", b" \n\t\r\n ".to_vec()),
        ("x_too_large", serde_json::to_vec(&big).unwrap()),
    ];
    cases.sort_by_key(|(name, _)| *name);
    cases
}

/// The error codes of one input from the Lambda (`codes`) and from each command that disagrees
/// with it.
struct Judged {
    lambda: BTreeSet<String>,
    disagreements: Vec<String>,
}

/// Gives `bytes`, written as `<name>.json` under `root`, to the Lambda, `validate`, `upload` and
/// `local`.
fn judge(root: &Path, name: &str, bytes: &[u8]) -> Judged {
    let file = root.join(format!("{name}.json"));
    std::fs::write(&file, bytes).unwrap();
    let lambda = lambda_codes(bytes);
    let judged = [
        ("validate", validate_codes(&file)),
        ("upload", upload_codes(&file, &root.join("upload"))),
        (
            "local",
            local_codes(&file, &root.join(format!("local-{name}"))),
        ),
    ];
    let disagreements = judged
        .into_iter()
        .filter(|(_, codes)| *codes != lambda)
        .map(|(command, codes)| format!("{name}: {command} {codes:?}, the Lambda {lambda:?}"))
        .collect();
    Judged {
        lambda,
        disagreements,
    }
}

/// Items 9 and 10: one framing and one code table. Every case of `parsing_cases` gets the same
/// error codes from `validate`, the Lambda, `upload` and `local`; an empty input is
/// `record_empty`, invalid UTF-8 `data_not_utf8`, a cut event `json_invalid`, an event over a
/// Firehose record `record_too_large`, wherever it is judged.
#[test]
fn every_command_and_the_lambda_give_one_input_the_same_codes() {
    let root = work_dir("parsing");
    let mut disagreements = Vec::new();
    for (name, bytes) in parsing_cases() {
        let Judged {
            lambda,
            disagreements: found,
        } = judge(&root, name, &bytes);
        disagreements.extend(found);
        match name {
            "x_empty" | "x_whitespace" => assert!(lambda.contains("record_empty"), "{lambda:?}"),
            "x_too_large" => assert!(lambda.contains("record_too_large"), "{lambda:?}"),
            "n_invalid_utf8_bare" | "i_string_invalid_utf8" => {
                assert!(lambda.contains("data_not_utf8"), "{name}: {lambda:?}")
            }
            "n_event_cut" => assert!(lambda.contains("json_invalid"), "{lambda:?}"),
            _ if name.starts_with("y_") && name.ends_with("_event") => {
                assert!(lambda.is_empty(), "{name}: {lambda:?}")
            }
            _ => {}
        }
    }
    assert!(disagreements.is_empty(), "{}", disagreements.join("\n"));
}

/// The JSONTestSuite's 318 `test_parsing` files (`tests/fixtures/json-test-suite`): the same codes
/// from `validate`, the Lambda, `upload` and `local` for each. A document the suite says must be
/// accepted (`y_`) is never `json_invalid` or `data_not_utf8`; one it says must be refused (`n_`)
/// is refused as input (`json_invalid`, `data_not_utf8`, `record_empty`), unless our framing
/// reads it as more than one document (`[][]`: two arrays, each `event_not_object`).
#[test]
fn json_test_suite_files_get_the_same_codes_from_every_command() {
    let root = work_dir("json-test-suite");
    let dir = common::fixtures_dir().join("json-test-suite");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    assert_eq!(files.len(), 318, "the suite's test_parsing files");
    let input_codes = ["json_invalid", "data_not_utf8", "record_empty"];
    let (mut disagreements, mut wrong) = (Vec::new(), Vec::new());
    for file in files {
        let name = file.file_stem().unwrap().to_str().unwrap().to_owned();
        let bytes = std::fs::read(&file).unwrap();
        let judged = judge(&root, &name, &bytes);
        disagreements.extend(judged.disagreements);
        let refused_as_input = judged
            .lambda
            .iter()
            .any(|c| input_codes.contains(&c.as_str()));
        if name.starts_with("y_") && refused_as_input {
            wrong.push(format!(
                "{name}: accepted JSON refused as input {:?}",
                judged.lambda
            ));
        }
        if name.starts_with("n_")
            && !refused_as_input
            && !judged.lambda.contains("event_not_object")
        {
            wrong.push(format!(
                "{name}: invalid JSON not refused {:?}",
                judged.lambda
            ));
        }
    }
    assert!(disagreements.is_empty(), "{}", disagreements.join("\n"));
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

/// Item 6, `transform --records`: the input is read as Firehose's processor buffers it, an
/// invocation per 1 MiB of records, each answered in turn, so memory holds one invocation, not
/// the input. Every document is one record of one response; an unparseable one is a record of
/// its own and reading goes on after it.
#[test]
fn transform_records_answers_one_invocation_per_mebibyte_and_accounts_for_every_document() {
    let root = work_dir("transform-records");
    let mut input = Vec::new();
    let events = 4_000;
    for i in 0..events {
        let mut event = fixture("authentication");
        event["metadata"]["uid"] = json!(format!("transform-{i}"));
        input.extend(serde_json::to_vec(&event).unwrap());
        input.push(b'\n');
        if i == events / 2 {
            input.extend(b"{\"cut\": \n");
        }
    }
    assert!(input.len() > 2 * 1024 * 1024, "{} bytes", input.len());
    let file = root.join("events.jsonl");
    std::fs::write(&file, &input).unwrap();
    let out = run(&["transform", "--records", s(&file)], None);
    assert_eq!(out.status.code(), Some(1), "one record fails");
    let responses: Vec<Value> = serde_json::Deserializer::from_slice(&out.stdout)
        .into_iter::<Value>()
        .map(Result::unwrap)
        .collect();
    assert!(responses.len() >= 3, "{} invocations", responses.len());
    let results: Vec<&str> = responses
        .iter()
        .flat_map(|r| r["records"].as_array().unwrap())
        .map(|r| r["result"].as_str().unwrap())
        .collect();
    assert_eq!(results.len(), events + 1, "every document is one record");
    assert_eq!(results.iter().filter(|r| **r == "Ok").count(), events);
    assert_eq!(
        results.iter().filter(|r| **r == "ProcessingFailed").count(),
        1
    );
}

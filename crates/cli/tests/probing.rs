//! Regressions of issue 20 ("what independent probing broke"), each through the binary as an
//! operator runs it: redrive's event identity, operator paths kept inside their folder, `local`'s
//! exit status, input framing and codes shared by every command, atomic local writes.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::path::{Path, PathBuf};

use base64::Engine as _;
use common::{fixture, json_lines, run, s};
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
/// passed, exits 2, and says which endpoint and why (the SDK's cause, not an empty message).
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
    let started = std::time::Instant::now();
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
    let took = started.elapsed();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    let last = stderr.lines().last().unwrap_or_default();
    assert!(
        last.contains("events were not stored")
            && last.contains(&endpoint)
            && (last.contains("onnection refused") || last.contains("EndpointUnreachable")),
        "{last}"
    );
    assert!(stderr.contains("WARN"), "the producer's warnings reach stderr: {stderr}");
    let summary = &json_lines(&out.stdout)[0];
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
    assert!(took < std::time::Duration::from_secs(60), "{took:?}");
}

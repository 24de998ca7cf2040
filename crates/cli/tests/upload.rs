//! `ocsf-firehose upload --out DIR`: the direct path into a folder (moto S3 is tests/upload's):
//! objects in the Security Lake layout, the summary's accounting, the exit status, `--dry-run`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{run, s, temp_file};
use serde_json::Value;

fn files(root: &std::path::Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                out.push(
                    path.strip_prefix(root)
                        .unwrap()
                        .to_string_lossy()
                        .into_owned(),
                );
            }
        }
    }
    out
}

#[test]
fn upload_writes_the_layout_accounts_for_every_event_and_exits_one_on_invalid_ones() {
    let events = run(&["demo", "400", "--seed", "2"], None);
    let input = temp_file("upload-events.jsonl", &events.stdout);
    let out = std::env::temp_dir().join(format!("ocsf-cli-upload-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&out);
    let upload = run(
        &[
            "upload",
            s(&input),
            "--out",
            s(&out),
            "--source",
            "3002=my-auth",
            "--json",
        ],
        None,
    );
    assert_eq!(
        upload.status.code(),
        Some(1),
        "some demo events are invalid"
    );
    let summary: Value = serde_json::from_slice(&upload.stdout).unwrap();
    let (events, rejected, delivered) = (
        summary["events"].as_u64().unwrap(),
        summary["rejectedEvents"].as_u64().unwrap(),
        summary["delivered"].as_u64().unwrap(),
    );
    assert_eq!(events, 400);
    assert!(rejected > 0);
    assert_eq!(events, rejected + delivered, "every event accounted for");
    let stderr = String::from_utf8(upload.stderr).unwrap();
    assert_eq!(
        stderr.lines().filter(|l| l.contains("\"codes\"")).count() as u64,
        rejected
    );
    let written = files(&out);
    assert_eq!(written.len() as u64, summary["objects"].as_u64().unwrap());
    assert!(
        written.iter().any(|k| k.starts_with("ext/my-auth/region=")),
        "--source renames"
    );
    assert!(written
        .iter()
        .any(|k| k.starts_with("ext/api-activity/region=")));
    assert!(written
        .iter()
        .all(|k| k.ends_with(".zstd.parquet") && k.contains("/eventDay=")));
    assert_eq!(common::sum_values(&summary["rows"]), delivered);

    let dry = std::env::temp_dir().join(format!("ocsf-cli-dry-{}", std::process::id()));
    let run_dry = run(
        &["upload", s(&input), "--out", s(&dry), "--dry-run", "--json"],
        None,
    );
    let summary: Value = serde_json::from_slice(&run_dry.stdout).unwrap();
    assert!(summary["dryRun"].as_bool().unwrap() && summary["objects"].as_u64().unwrap() > 0);
    assert!(files(&dry).is_empty(), "a dry run writes nothing");
    let _ = std::fs::remove_dir_all(&out);
}

/// The same upload run again lands nothing twice: it skips every event the first run took. With
/// `--restart` it uploads everything again, and the objects, named by what they hold, replace
/// the first run's: the lake holds the same objects.
#[test]
fn running_the_same_upload_again_lands_every_event_once() {
    let events = run(&["demo", "300", "--seed", "7"], None);
    let input = temp_file("upload-again.jsonl", &events.stdout);
    let root = std::env::temp_dir().join(format!("ocsf-cli-upload-again-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    let (out, state) = (root.join("lake"), root.join("state"));
    let upload = |extra: &[&str]| {
        let mut args = vec!["upload", s(&input), "--out", s(&out), "--state", s(&state)];
        args.extend_from_slice(extra);
        args.push("--json");
        let output = run(&args, None);
        let summary: Value = serde_json::from_slice(&output.stdout).unwrap();
        (output.status.code(), summary)
    };
    let (status, first) = upload(&[]);
    assert_eq!(status, Some(1), "some demo events are invalid");
    let delivered = first["delivered"].as_u64().unwrap();
    assert_eq!(first["skipped"], 0);
    assert_eq!(first["accepted"].as_u64().unwrap(), delivered);
    let mut objects = files(&out);
    objects.sort();
    assert!(!objects.is_empty());

    let (status, again) = upload(&[]);
    assert_eq!(status, Some(0), "nothing judged, nothing rejected");
    assert_eq!(
        (again["events"].as_u64(), again["skipped"].as_u64()),
        (Some(300), Some(300))
    );
    assert_eq!(
        (again["accepted"].as_u64(), again["objects"].as_u64()),
        (Some(0), Some(0))
    );
    let mut now = files(&out);
    now.sort();
    assert_eq!(now, objects, "nothing written twice");

    let (_, restarted) = upload(&["--restart"]);
    assert_eq!(restarted["skipped"], 0);
    assert_eq!(restarted["delivered"].as_u64(), Some(delivered));
    let mut now = files(&out);
    now.sort();
    assert_eq!(
        now, objects,
        "the same rows, the same keys: replaced, not added"
    );
    let _ = std::fs::remove_dir_all(&root);
}

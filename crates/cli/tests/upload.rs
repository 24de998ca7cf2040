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

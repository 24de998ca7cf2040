//! `ocsf-firehose send` into moto's streams (`MOTO_ENDPOINT`): the demo events (about 1 %
//! invalid, some not JSON) through the producer, aggregated, into a Firehose stream delivering
//! into a bucket and into a Kinesis stream (behind the producer tests' proxy that serialises
//! calls: moto's `PutRecords` is not safe under concurrent calls). Read back (Firehose's JSON
//! lines split, Kinesis de-aggregated as a KCL consumer does): every accepted event once, each
//! rejected one reported with its codes, the summary's accounting, the exit status; and the same
//! command run again sends nothing twice.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;
#[allow(dead_code)]
#[path = "../../producer/tests/common/moto.rs"]
mod moto;
#[allow(dead_code)]
#[path = "../../producer/tests/common/proxy.rs"]
mod proxy;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

use common::{s, temp_file};
use moto::{
    bucket_objects, client, endpoint, firehose_to_bucket, kcl_read, kinesis_stream, s3_client,
};
use proxy::serialising_proxy;

const EVENTS: usize = 3_000;

/// Runs `send` with `args` (moto's credentials, the tests' state folder).
async fn send(args: Vec<String>) -> Output {
    tokio::task::spawn_blocking(move || {
        Command::new(env!("CARGO_BIN_EXE_ocsf-firehose"))
            .arg("send")
            .args(args)
            .env("XDG_STATE_HOME", common::state_home())
            .env("AWS_ACCESS_KEY_ID", "testing")
            .env("AWS_SECRET_ACCESS_KEY", "testing")
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .output()
            .unwrap()
    })
    .await
    .unwrap()
}

/// The demo events in a file of their own.
fn demo_events(name: &str) -> PathBuf {
    let demo = common::run(&["demo", &EVENTS.to_string(), "--seed", "11"], None);
    temp_file(name, &demo.stdout)
}

/// Checks a run's summary and stderr against what landed (`uid` → copies): every accepted
/// event once, each rejected one reported. Returns the summary.
fn check_run(output: &Output, landed: &BTreeMap<String, usize>) -> Value {
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(
        output.status.code(),
        Some(1),
        "some demo events are invalid: {stderr}"
    );
    let summary: Value = serde_json::from_slice(&output.stdout).unwrap();
    let number = |key: &str| summary[key].as_u64().unwrap();
    assert_eq!(number("events"), EVENTS as u64);
    assert_eq!(
        number("events"),
        number("rejectedEvents") + number("accepted")
    );
    assert_eq!(number("delivered"), number("accepted"), "{summary}");
    assert!(number("rejectedEvents") > 0 && number("apiCalls") > 0);
    let reported = stderr.lines().filter(|l| l.contains("\"codes\"")).count() as u64;
    assert_eq!(reported, number("rejectedEvents"));
    assert_eq!(
        landed.len() as u64,
        number("accepted"),
        "every accepted event landed"
    );
    assert!(landed.values().all(|n| *n == 1), "once each");
    summary
}

/// `metadata.uid` → copies, over JSON-lines bodies.
fn uids<'a>(bodies: impl IntoIterator<Item = &'a [u8]>) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    for body in bodies {
        for line in body.split(|b| *b == b'\n').filter(|l| !l.is_empty()) {
            let event: Value = serde_json::from_slice(line).unwrap();
            let uid = event["metadata"]["uid"].as_str().unwrap().to_owned();
            *counts.entry(uid).or_default() += 1;
        }
    }
    counts
}

/// The same command again: everything skipped, nothing sent.
fn check_again(output: &Output) {
    assert_eq!(
        output.status.code(),
        Some(0),
        "nothing judged, nothing rejected"
    );
    let summary: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(summary["skipped"].as_u64(), Some(EVENTS as u64));
    assert_eq!(
        (summary["accepted"].as_u64(), summary["delivered"].as_u64()),
        (Some(0), Some(0))
    );
}

fn args(input: &Path, destination: &[&str], endpoint: &str, state: &Path) -> Vec<String> {
    let mut args: Vec<String> = destination.iter().map(|a| (*a).to_owned()).collect();
    args.extend(
        [
            s(input),
            "--endpoint-url",
            endpoint,
            "--state",
            s(state),
            "--json",
        ]
        .map(str::to_owned),
    );
    args
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn send_to_firehose_delivers_every_accepted_event_once_and_again_nothing_twice() {
    let Some(endpoint) = endpoint() else { return };
    let s3 = s3_client(&endpoint);
    let firehose =
        aws_sdk_firehose::Client::from_conf(client!(aws_sdk_firehose, &endpoint).build());
    let (bucket, stream) = firehose_to_bucket(&s3, &firehose).await;
    let input = demo_events("send-firehose.jsonl");
    let state = std::env::temp_dir().join(format!("ocsf-send-firehose-{}", std::process::id()));
    let args = args(&input, &["--firehose", &stream], &endpoint, &state);
    let first = send(args.clone()).await;
    let landed = |bodies: Vec<Vec<u8>>| uids(bodies.iter().map(Vec::as_slice));
    let summary = check_run(&first, &landed(bucket_objects(&s3, &bucket).await));
    let (calls, accepted) = (
        summary["apiCalls"].as_u64().unwrap(),
        summary["accepted"].as_u64().unwrap(),
    );
    assert!(
        calls * 100 < accepted,
        "aggregated: {calls} calls for {accepted} events"
    );
    check_again(&send(args).await);
    assert_eq!(
        landed(bucket_objects(&s3, &bucket).await).len() as u64,
        accepted,
        "nothing sent twice"
    );
    let _ = std::fs::remove_dir_all(&state);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn send_to_kinesis_delivers_every_accepted_event_once_as_kcl_reads_it() {
    let Some(endpoint) = endpoint() else { return };
    let (kinesis, stream) = kinesis_stream(&endpoint, 2).await;
    let proxy = serialising_proxy(&endpoint).await;
    let input = demo_events("send-kinesis.jsonl");
    let state = std::env::temp_dir().join(format!("ocsf-send-kinesis-{}", std::process::id()));
    let args = args(&input, &["--kinesis", &stream], &proxy.endpoint, &state);
    let first = send(args.clone()).await;
    let read = kcl_read(&kinesis, &stream).await;
    assert_eq!(read.dropped, 0, "sub-records a KCL consumer drops");
    assert!(read.aggregated > 0, "KPL aggregation");
    check_run(&first, &uids(read.kept.iter().map(Vec::as_slice)));
    check_again(&send(args).await);
    let _ = std::fs::remove_dir_all(&state);
}

/// `SIGTERM` while `send` waits on a pipe that stays open: it stops reading, delivers what it
/// accepted (the direct path writes its objects), reports, and exits.
#[test]
fn sigterm_stops_reading_a_pipe_and_delivers_what_was_accepted() {
    use std::io::Write;
    let events = common::run(&["demo", "200", "--seed", "3"], None).stdout;
    let out = std::env::temp_dir().join(format!("ocsf-send-sigterm-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&out);
    let mut child = Command::new(env!("CARGO_BIN_EXE_ocsf-firehose"))
        .args(["send", "-", "--out", s(&out), "--json"])
        .env("XDG_STATE_HOME", common::state_home())
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(&events).unwrap();
    stdin.flush().unwrap();
    // The events read and judged (a debug build takes well under this), the pipe still open.
    std::thread::sleep(std::time::Duration::from_secs(3));
    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let output = child.wait_with_output().unwrap();
    drop(stdin);
    let summary: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(summary["interrupted"], true, "{summary}");
    // Usually all 200 (the events are read long before the signal); a loaded machine may stop
    // earlier, and what was read is accounted for all the same.
    let events = summary["events"].as_u64().unwrap();
    assert!(events > 0 && events <= 200, "{summary}");
    let accepted = summary["accepted"].as_u64().unwrap();
    assert_eq!(
        accepted + summary["rejectedEvents"].as_u64().unwrap(),
        events
    );
    assert!(accepted > 0);
    assert_eq!(
        summary["delivered"].as_u64(),
        Some(accepted),
        "delivered at the stop"
    );
    assert_eq!(common::sum_values(&summary["rows"]), accepted);
    assert!(
        matches!(output.status.code(), Some(0 | 1)),
        "{:?}",
        output.status
    );
    let _ = std::fs::remove_dir_all(&out);
}

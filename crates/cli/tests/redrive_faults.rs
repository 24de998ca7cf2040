//! Issue 20, item 2, through the binary: `redrive --firehose` against a moto server
//! (`MOTO_ENDPOINT`) behind the producer tests' loopback proxy, which stalls connections (held
//! open, never answered: 2 % of them, and the second call whatever the dice say), resets 2 %,
//! throttles 10 % of the calls and fails 30 % of the records of the others inside the HTTP 200
//! answer. The run must finish (a stalled call is cut by the producer's attempt timeout, within
//! the events' deadline), account for every event, and deliver each exactly once: nothing the
//! proxy faulted was forwarded. Its duration is printed, not asserted.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;
// The producer tests' moto helpers and fault proxy, shared rather than copied.
#[allow(dead_code)]
#[path = "../../producer/tests/common/moto.rs"]
mod moto;
#[allow(dead_code)]
#[path = "../../producer/tests/common/proxy.rs"]
mod proxy;

use std::collections::BTreeMap;
use std::process::Command;

use base64::Engine as _;
use serde_json::{json, Value};

use moto::{bucket_objects, client, endpoint, firehose_to_bucket, s3_client};
use proxy::{fault_proxy, Faults};

const EVENTS: usize = 4000;
const PER_OBJECT: usize = 100;

/// A Firehose `processing-failed` error document holding `line` (one event) as its record.
fn error_document(line: &[u8]) -> String {
    json!({"attemptsMade": 1, "arrivalTimestamp": 1_764_300_000_000_i64, "errorCode": "Lambda.ProcessingFailed",
           "errorMessage": "class_not_allowed", "attemptEndingTimestamp": 1_764_300_000_100_i64,
           "rawData": base64::engine::general_purpose::STANDARD.encode(line)})
    .to_string()
}

/// `metadata.uid` → how many times the bucket's objects hold it.
async fn delivered(s3: &aws_sdk_s3::Client, bucket: &str) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    for body in bucket_objects(s3, bucket).await {
        for line in body.split(|b| *b == b'\n').filter(|l| !l.is_empty()) {
            let event: Value = serde_json::from_slice(line).unwrap();
            let uid = event["metadata"]["uid"].as_str().unwrap().to_owned();
            *counts.entry(uid).or_default() += 1;
        }
    }
    counts
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redrive_to_firehose_finishes_through_stalls_resets_throttles_and_failed_records() {
    let Some(endpoint) = endpoint() else { return };
    let s3 = s3_client(&endpoint);
    let firehose =
        aws_sdk_firehose::Client::from_conf(client!(aws_sdk_firehose, &endpoint).build());
    let (lake, stream) = firehose_to_bucket(&s3, &firehose).await;

    // The Authentication fixture, each copy its own event, as error documents in objects of 100.
    let expected: Vec<String> = (0..EVENTS).map(|i| format!("redrive-faults-{i}")).collect();
    let lines: Vec<Vec<u8>> = expected
        .iter()
        .map(|uid| {
            let mut event = common::fixture("authentication");
            event["metadata"]["uid"] = json!(uid);
            serde_json::to_vec(&event).unwrap()
        })
        .collect();
    let errors = format!("errors-{}", uuid::Uuid::new_v4().simple());
    s3.create_bucket().bucket(&errors).send().await.unwrap();
    for (n, chunk) in lines.chunks(PER_OBJECT).enumerate() {
        let body: String = chunk.iter().map(|l| error_document(l) + "\n").collect();
        s3.put_object()
            .bucket(&errors)
            .key(format!(
                "errors/demo/processing-failed/2026/11/28/object-{n:03}"
            ))
            .body(body.into_bytes().into())
            .send()
            .await
            .unwrap();
    }

    let faults = Faults {
        stall_share: 0.02,
        stream_stalls: 1,
        reset_share: 0.02,
        throttle_share: 0.10,
        entry_failure_share: 0.30,
        ..Faults::default()
    };
    let proxy = fault_proxy(&endpoint, faults).await;
    let args = [
        "redrive",
        "--bucket",
        &errors,
        "--endpoint-url",
        &proxy.endpoint,
        "--firehose",
        &stream,
        "--no-aggregation",
        "--region",
        "us-east-1",
        "--json",
    ]
    .map(str::to_owned);
    let started = std::time::Instant::now();
    let out = tokio::task::spawn_blocking(move || {
        Command::new(env!("CARGO_BIN_EXE_ocsf-firehose"))
            .args(&args)
            .env("AWS_ACCESS_KEY_ID", "testing")
            .env("AWS_SECRET_ACCESS_KEY", "testing")
            .env_remove("AWS_PROFILE")
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let took = started.elapsed();
    common::assert_success(&out);
    let summary: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(summary["documents"], json!(EVENTS), "{summary}");
    assert_eq!(summary["sent"], json!(EVENTS), "{summary}");
    assert_eq!(summary["notDelivered"], json!({}), "{summary}");

    let (stalled, (reset, throttled, failed_entries)) = (proxy.injected().1, proxy.stream_faults());
    assert!(
        stalled > 0 && failed_entries > 0,
        "faults injected: {stalled} stalled, {failed_entries} records failed"
    );
    let counts = delivered(&s3, &lake).await;
    let missing = expected
        .iter()
        .filter(|uid| !counts.contains_key(*uid))
        .count();
    let twice = counts.values().filter(|n| **n > 1).count();
    println!(
        "redrive of {EVENTS} events through {stalled} stalled and {reset} reset connections, {throttled} throttled calls, {failed_entries} failed records: {took:?}, {missing} missing, {twice} twice"
    );
    assert_eq!(missing, 0, "every event arrived");
    assert_eq!(counts.len(), EVENTS, "nothing else arrived");
    assert_eq!(twice, 0, "nothing faulted was forwarded");
}

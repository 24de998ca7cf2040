//! The bad day: events sent one per record into a Firehose endpoint (aws-smithy-mocks) that
//! throttles 10 % of the calls (`ServiceUnavailableException`), answers 1 % with a gateway
//! timeout (HTTP 504, no error code: a mock cannot make the client time out, and a timed-out
//! call is retried the same way, `TimeoutError`), and fails 30 % of the records of every other
//! call inside its HTTP 200 answer. With the default policy (retry until the event's deadline,
//! a shared retry budget) every event arrives exactly once and none is given up.
//!
//! `FAULT_EVENTS` sets the size (default 50,000; `scripts/bench-faults` runs 1,000,000 in a
//! release build and prints the figures). Time is paused: backoff costs nothing.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::sync::{Arc, Mutex};

use aws_sdk_firehose::operation::put_record_batch::PutRecordBatchError;
use aws_sdk_firehose::types::error::ServiceUnavailableException;
use aws_sdk_firehose::types::PutRecordBatchResponseEntry;
use aws_smithy_mocks::{mock, mock_client, MockResponse, RuleMode};
use ocsf_firehose_producer::{FailureKind, ProducerBuilder, ProducerConfig};
use serde_json::{json, Value};

/// Per-call and per-record fault rates, in per cent.
const THROTTLED: u64 = 10;
const TIMED_OUT: u64 = 1;
const RECORD_FAILED: u64 = 30;

#[derive(Default)]
struct Tally {
    /// Times each event was accepted by the endpoint.
    accepted: Vec<u32>,
    calls: u64,
    throttled: u64,
    timed_out: u64,
    failed_entries: u64,
}

fn event(i: usize) -> Value {
    json!({
        "class_uid": 3002, "activity_id": 1, "severity_id": 1,
        "time": 1_682_683_200_000_i64,
        "metadata": {"version": "1.1.0", "product": {"name": "faults", "vendor_name": "ocsf-firehose"}},
        "message": i,
    })
}

#[tokio::test(flavor = "current_thread", start_paused = true)]
async fn every_event_arrives_once_through_throttling_timeouts_and_partial_failures() {
    let events: usize = std::env::var("FAULT_EVENTS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(50_000);
    let tally = Arc::new(Mutex::new(Tally {
        accepted: vec![0; events],
        ..Tally::default()
    }));
    let rng = Mutex::new(fastrand::Rng::with_seed(13));
    let seen = Arc::clone(&tally);
    let rule =
        mock!(aws_sdk_firehose::Client::put_record_batch).then_compute_response(move |input| {
            let mut rng = rng.lock().unwrap();
            let mut tally = seen.lock().unwrap();
            tally.calls += 1;
            let roll = rng.u64(0..100);
            if roll < THROTTLED {
                tally.throttled += 1;
                return MockResponse::Error(PutRecordBatchError::ServiceUnavailableException(
                    ServiceUnavailableException::builder()
                        .message("Slow down.")
                        .build(),
                ));
            }
            if roll < THROTTLED + TIMED_OUT {
                tally.timed_out += 1;
                return MockResponse::Http(aws_sdk_firehose::config::http::HttpResponse::new(
                    504.try_into().unwrap(),
                    aws_smithy_types::body::SdkBody::empty(),
                ));
            }
            let entries = input
                .records()
                .iter()
                .map(|record| {
                    if rng.u64(0..100) < RECORD_FAILED {
                        tally.failed_entries += 1;
                        return PutRecordBatchResponseEntry::builder()
                            .error_code("ServiceUnavailableException")
                            .error_message("Slow down.")
                            .build();
                    }
                    let event: Value = serde_json::from_slice(record.data().as_ref()).unwrap();
                    let i = event["message"].as_u64().unwrap() as usize;
                    tally.accepted[i] += 1;
                    PutRecordBatchResponseEntry::builder()
                        .record_id(format!("r{i}"))
                        .build()
                })
                .collect();
            common::batch_output(entries)
        });
    let client = mock_client!(aws_sdk_firehose, RuleMode::MatchAny, [&rule]);
    let producer = ProducerBuilder::firehose(client, "faults")
        .config(ProducerConfig {
            aggregate: false,
            ..ProducerConfig::default()
        })
        .build()
        .unwrap();
    for i in 0..events {
        producer.send(&event(i)).await.unwrap();
    }
    let report = producer.shutdown().await;
    let tally = tally.lock().unwrap();
    let lost = tally.accepted.iter().filter(|n| **n == 0).count();
    let duplicated = tally.accepted.iter().filter(|n| **n > 1).count();
    println!(
        "{events} events: {} delivered, {} failed; {} calls ({} throttled, {} timed out), \
         {} entries failed inside answers, {} records resent",
        report.delivered,
        report.failed_count,
        tally.calls,
        tally.throttled,
        tally.timed_out,
        tally.failed_entries,
        report.retried_records
    );
    let first_code = report.failed.first().map(|f| f.kind);
    assert_eq!(report.failed_count, 0, "given up: {first_code:?}");
    assert_eq!((lost, duplicated), (0, 0), "every event exactly once");
    assert_eq!(report.delivered, events as u64);
    assert!(tally.throttled > 0 && tally.timed_out > 0 && tally.failed_entries > 0);
}

/// A dead endpoint (every call throttled) is not hammered: the calls in flight share the retry
/// budget, so after its first 100 retries they get about one a second between them; the events
/// are handed back with the endpoint's code only at their deadline.
#[tokio::test(flavor = "current_thread", start_paused = true)]
async fn a_dead_endpoint_gets_a_trickle_of_retries_until_the_deadline() {
    use std::time::Duration;
    let calls = Arc::new(Mutex::new(0_u64));
    let counted = Arc::clone(&calls);
    let rule = mock!(aws_sdk_firehose::Client::put_record_batch).then_compute_response(move |_| {
        *counted.lock().unwrap() += 1;
        MockResponse::Error(PutRecordBatchError::ServiceUnavailableException(
            ServiceUnavailableException::builder()
                .message("Slow down.")
                .build(),
        ))
    });
    let client = mock_client!(aws_sdk_firehose, RuleMode::MatchAny, [&rule]);
    let timeout = Duration::from_secs(600);
    let producer = ProducerBuilder::firehose(client, "dead")
        .config(ProducerConfig {
            aggregate: false,
            max_in_flight: 16,
            event_timeout: timeout,
            ..ProducerConfig::default()
        })
        .build()
        .unwrap();
    let started = tokio::time::Instant::now();
    for i in 0..8_000 {
        producer.send(&event(i)).await.unwrap();
    }
    let report = producer.shutdown().await;
    let calls = *calls.lock().unwrap();
    let elapsed = started.elapsed();
    println!("dead endpoint: {calls} calls in {elapsed:?} (16 in flight)");
    assert_eq!(report.failed_count, 8_000);
    assert!(report
        .failed
        .iter()
        .all(|f| f.kind == FailureKind::ServiceError
            && f.service_code.as_deref() == Some("ServiceUnavailableException")));
    assert!(
        elapsed >= timeout - Duration::from_secs(10),
        "held until the deadline"
    );
    // 16 first calls, the budget's 100 retries, then one a second for the rest of the 600 s
    // (without the budget, 16 calls backing off up to 5 s would make about 3,800).
    assert!(calls <= 16 + 100 + 600 + 16, "{calls} calls");
    assert!(calls >= 600, "still probing: {calls}");
}

/// A record waiting for its retry does not hold a call slot: with one call in flight, events
/// sent while another keeps failing for a minute are delivered within seconds, between its
/// retries (a call that slept through its own backoff would hold them back the whole minute).
#[tokio::test(flavor = "current_thread", start_paused = true)]
async fn a_retry_waiting_for_its_backoff_leaves_the_call_slot_to_new_events() {
    use std::time::Duration;
    use tokio::time::Instant;
    let started = Instant::now();
    let stuck_for = Duration::from_secs(60);
    let client = common::judging_firehose(move |data| {
        let event: Value = serde_json::from_slice(data).unwrap();
        event["message"] != "stuck" || started.elapsed() >= stuck_for
    });
    let producer = ProducerBuilder::firehose(client, "one-slot")
        .config(ProducerConfig {
            aggregate: false,
            max_in_flight: 1,
            ..ProducerConfig::default()
        })
        .build()
        .unwrap();
    let stuck = producer
        .send(&json!({"message": "stuck", "class_uid": 3002}))
        .await
        .unwrap();
    let stuck = tokio::spawn(async move {
        stuck.outcome().await.unwrap();
        started.elapsed()
    });
    tokio::time::sleep(Duration::from_secs(2)).await;
    let mut later = Vec::new();
    for i in 0..20 {
        later.push(producer.send(&event(i)).await.unwrap());
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    for delivery in later {
        delivery.outcome().await.unwrap();
    }
    let others_done = started.elapsed();
    assert!(
        others_done < Duration::from_secs(20),
        "the other events waited {others_done:?}"
    );
    let stuck_done = stuck.await.unwrap();
    assert!(
        stuck_done >= stuck_for,
        "delivered once the endpoint took it: {stuck_done:?}"
    );
    assert_eq!(producer.shutdown().await.failed_count, 0);
}

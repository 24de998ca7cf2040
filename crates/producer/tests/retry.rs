//! The retry policy as the producer's worker drives it (the production driver), through the
//! Firehose and Kinesis transports with faults injected at the SDK level (aws-smithy-mocks), or
//! a transport of the test's own: partial failures resend only the failed entries, throttling
//! and 5xx are retried, permanent errors fail fast, and the attempt limit and the deadline hand
//! events back with the last error. Time is paused: backoff costs nothing and the tests are
//! deterministic.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_sdk_firehose::error::ErrorMetadata;
use aws_sdk_firehose::operation::put_record_batch::{PutRecordBatchError, PutRecordBatchOutput};
use aws_sdk_firehose::types::error::ServiceUnavailableException;
use aws_sdk_firehose::types::PutRecordBatchResponseEntry;
use aws_sdk_kinesis::operation::put_records::{PutRecordsError, PutRecordsOutput};
use aws_sdk_kinesis::types::PutRecordsResultEntry;
use aws_smithy_mocks::{mock, mock_client, MockResponse, RuleMode};
use ocsf_firehose_producer::internals::{
    producer, EntryOutcome, Failure, FirehoseTransport, KinesisTransport, Record, Transport,
};
use ocsf_firehose_producer::{FailedEvent, FailureKind, ProducerConfig};
use serde_json::{json, Value};
use tokio::time::Instant;

type Calls = Arc<Mutex<Vec<Vec<String>>>>;
/// `(data, partition key)` of every entry of every Kinesis call.
type KinesisCalls = Arc<Mutex<Vec<Vec<(String, String)>>>>;
type FirehoseReply = MockResponse<PutRecordBatchOutput, PutRecordBatchError>;

/// The worker's tuning for these tests: one event per record, `max_attempts` attempts, events
/// given up after `deadline`, backoff from 100 ms, calls sent at `flush` (no linger).
fn config(max_attempts: u32, deadline: Duration) -> ProducerConfig {
    ProducerConfig {
        max_attempts: Some(max_attempts),
        event_timeout: deadline,
        backoff_base: Duration::from_millis(100),
        backoff_max: Duration::from_secs(5),
        aggregate: false,
        linger: Duration::from_secs(3600),
        stamp_uid: false,
        ..ProducerConfig::default()
    }
}

/// What became of events `event-0` … `event-{n-1}` sent through `transport`.
struct Run {
    delivered: Vec<u32>,
    failed: Vec<(u32, FailedEvent)>,
    api_calls: u64,
    retried_records: u64,
}

/// Sends `n` events through `transport` with `config`, flushes,
/// and collects each event's outcome.
async fn run<T: Transport>(transport: T, n: u32, config: ProducerConfig) -> Run {
    let producer = producer(transport, config).unwrap();
    let mut deliveries = Vec::new();
    for i in 0..n {
        deliveries.push((
            i,
            producer
                .send(&json!({"message": format!("event-{i}")}))
                .await
                .unwrap(),
        ));
    }
    let report = producer.flush().await;
    let mut run = Run {
        delivered: Vec::new(),
        failed: Vec::new(),
        api_calls: report.api_calls,
        retried_records: report.retried_records,
    };
    for (i, delivery) in deliveries {
        match delivery.outcome().await {
            Ok(()) => run.delivered.push(i),
            Err(failed) => run.failed.push((i, failed)),
        }
    }
    producer.shutdown().await;
    run
}

/// The message of a record's event (`event-3`), its data being the event's JSON (a JSON line
/// for Firehose).
fn message(data: &[u8]) -> String {
    let event: Value = serde_json::from_slice(data).unwrap();
    event["message"].as_str().unwrap().to_owned()
}

/// A Firehose client whose every call is answered by `reply(call index, record data)`.
fn firehose(
    reply: impl Fn(usize, &[String]) -> FirehoseReply + Send + Sync + 'static,
) -> (FirehoseTransport, Calls) {
    let calls: Calls = Arc::default();
    let seen = calls.clone();
    let rule =
        mock!(aws_sdk_firehose::Client::put_record_batch).then_compute_response(move |input| {
            let data: Vec<String> = input
                .records()
                .iter()
                .map(|r| message(r.data().as_ref()))
                .collect();
            let mut calls = seen.lock().unwrap();
            calls.push(data.clone());
            reply(calls.len() - 1, &data)
        });
    let client = mock_client!(aws_sdk_firehose, RuleMode::MatchAny, [&rule]);
    (FirehoseTransport::new(client, "s"), calls)
}

/// A `PutRecordBatch` answer failing the entries for which `fail` gives a code.
fn batch_answer(data: &[String], fail: impl Fn(&str) -> Option<&'static str>) -> FirehoseReply {
    let entries: Vec<PutRecordBatchResponseEntry> = data
        .iter()
        .map(|d| match fail(d) {
            Some(code) => PutRecordBatchResponseEntry::builder()
                .error_code(code)
                .error_message("try again")
                .build(),
            None => PutRecordBatchResponseEntry::builder()
                .record_id(format!("id-{d}"))
                .build(),
        })
        .collect();
    common::batch_output(entries)
}

#[tokio::test(start_paused = true)]
async fn a_partial_failure_resends_only_the_failed_entries() {
    let (destination, calls) = firehose(|call, data| {
        batch_answer(data, |d| {
            (call == 0 && (d.ends_with('1') || d.ends_with('3')))
                .then_some("ServiceUnavailableException")
        })
    });
    let report = run(destination, 5, config(5, Duration::from_secs(60))).await;
    assert_eq!(report.delivered, [0, 1, 2, 3, 4]);
    assert!(report.failed.is_empty());
    let calls = calls.lock().unwrap().clone();
    assert_eq!(calls.len(), 2);
    assert_eq!(
        calls[1],
        ["event-1", "event-3"],
        "only the failed entries, never a delivered one"
    );
    assert_eq!((report.api_calls, report.retried_records), (2, 2));
}

#[tokio::test(start_paused = true)]
async fn throttled_and_failing_calls_are_retried_whole() {
    let (destination, calls) = firehose(|call, data| match call {
        0 => MockResponse::Error(PutRecordBatchError::ServiceUnavailableException(
            ServiceUnavailableException::builder()
                .message("Slow down.")
                .build(),
        )),
        1 => MockResponse::Http(aws_sdk_firehose::config::http::HttpResponse::new(
            500.try_into().unwrap(),
            aws_smithy_types::body::SdkBody::from(
                r#"{"__type":"InternalFailure","message":"oops"}"#,
            ),
        )),
        _ => batch_answer(data, |_| None),
    });
    let started = Instant::now();
    let report = run(destination, 3, config(5, Duration::from_secs(60))).await;
    let kinds: Vec<FailureKind> = report.failed.iter().map(|(_, f)| f.kind).collect();
    assert_eq!(report.delivered, [0, 1, 2], "failed: {kinds:?}");
    let calls = calls.lock().unwrap().clone();
    assert_eq!(calls.len(), 3);
    assert!(calls.iter().all(|c| c.len() == 3));
    assert!(
        started.elapsed() <= Duration::from_millis(300),
        "full jitter under base × 2ⁿ"
    );
}

#[tokio::test(start_paused = true)]
async fn permanent_errors_fail_fast_with_their_code() {
    let (destination, calls) = firehose(|_, _| {
        MockResponse::Error(PutRecordBatchError::generic(
            ErrorMetadata::builder()
                .code("AccessDeniedException")
                .message("not allowed")
                .build(),
        ))
    });
    let report = run(destination, 4, config(5, Duration::from_secs(60))).await;
    assert!(report.delivered.is_empty());
    assert_eq!(report.failed.len(), 4);
    assert!(report
        .failed
        .iter()
        .all(|(_, f)| f.kind == FailureKind::AccessDenied
            && f.service_code.as_deref() == Some("AccessDeniedException")
            && f.message == "not allowed"));
    assert_eq!(calls.lock().unwrap().len(), 1, "no retry");
}

#[tokio::test(start_paused = true)]
async fn the_attempt_limit_returns_records_with_the_last_error() {
    let (destination, calls) =
        firehose(|_, data| batch_answer(data, |d| d.ends_with('0').then_some("InternalFailure")));
    let report = run(destination, 3, config(3, Duration::from_secs(60))).await;
    assert_eq!(report.delivered, [1, 2]);
    assert_eq!(report.failed.len(), 1);
    assert_eq!(
        (
            report.failed[0].0,
            report.failed[0].1.kind,
            report.failed[0].1.service_code.as_deref()
        ),
        (0, FailureKind::ServiceError, Some("InternalFailure"))
    );
    let calls = calls.lock().unwrap().clone();
    assert_eq!(calls.len(), 3, "three attempts");
    assert_eq!(
        calls.iter().flatten().filter(|d| *d == "event-1").count(),
        1,
        "delivered once"
    );
}

#[tokio::test(start_paused = true)]
async fn the_deadline_stops_retries() {
    let (destination, calls) =
        firehose(|_, data| batch_answer(data, |_| Some("ServiceUnavailableException")));
    let slow_backoff = ProducerConfig {
        backoff_base: Duration::from_secs(1),
        ..config(100, Duration::from_millis(150))
    };
    let report = run(destination, 2, slow_backoff).await;
    assert_eq!(report.failed.len(), 2);
    assert!(report
        .failed
        .iter()
        .all(|(_, f)| f.service_code.as_deref() == Some("ServiceUnavailableException")));
    assert!(calls.lock().unwrap().len() < 100);
}

#[tokio::test(start_paused = true)]
async fn kinesis_partial_failures_keep_partition_keys() {
    let calls: KinesisCalls = Arc::default();
    let seen = calls.clone();
    let rule = mock!(aws_sdk_kinesis::Client::put_records).then_compute_response(move |input| {
        let entries: Vec<(String, String)> = input
            .records()
            .iter()
            .map(|r| {
                (
                    message(r.data().as_ref()),
                    r.partition_key().unwrap_or_default().to_owned(),
                )
            })
            .collect();
        let mut calls = seen.lock().unwrap();
        let first = calls.is_empty();
        calls.push(entries.clone());
        let results: Vec<PutRecordsResultEntry> = entries
            .iter()
            .map(|(d, _)| {
                if first && d.ends_with('2') {
                    PutRecordsResultEntry::builder()
                        .error_code("ProvisionedThroughputExceededException")
                        .error_message("rate")
                        .build()
                } else {
                    PutRecordsResultEntry::builder()
                        .sequence_number("1")
                        .shard_id("shardId-0")
                        .build()
                }
            })
            .collect();
        let failed = results.iter().filter(|r| r.error_code().is_some()).count() as i32;
        MockResponse::<PutRecordsOutput, PutRecordsError>::Output(
            PutRecordsOutput::builder()
                .failed_record_count(failed)
                .set_records(Some(results))
                .build()
                .unwrap(),
        )
    });
    let client = mock_client!(aws_sdk_kinesis, RuleMode::MatchAny, [&rule]);
    let destination = KinesisTransport::new(client, "k");
    let report = run(destination, 4, config(5, Duration::from_secs(60))).await;
    assert_eq!(report.delivered, [0, 1, 2, 3]);
    let calls = calls.lock().unwrap().clone();
    let key_of_2 = calls[0]
        .iter()
        .find(|(m, _)| m == "event-2")
        .unwrap()
        .1
        .clone();
    assert_eq!(
        calls[1],
        [("event-2".to_owned(), key_of_2)],
        "resent with its own key"
    );
}

/// A stream endpoint whose first `stalls` calls never answer (a connection held open), then
/// accepts every record.
struct Stalling {
    stalls: usize,
    calls: Mutex<usize>,
}

impl Transport for Stalling {
    fn service(&self) -> ocsf_firehose_producer::internals::Service {
        ocsf_firehose_producer::internals::Service::Firehose
    }

    fn region(&self) -> Option<String> {
        None
    }

    async fn put<Id: Sync>(&self, records: &[Record<Id>]) -> Result<Vec<EntryOutcome>, Failure> {
        let call = {
            let mut calls = self.calls.lock().unwrap();
            *calls += 1;
            *calls
        };
        if call <= self.stalls {
            std::future::pending::<()>().await;
        }
        Ok(records.iter().map(|_| EntryOutcome::Delivered).collect())
    }
}

/// Issue 20, item 2: a call that is never answered is abandoned after the attempt timeout and
/// retried (`TimeoutError`); one in flight counts against the deadline, so records whose
/// endpoint stalls every call are handed back by the deadline instead of hanging forever.
#[tokio::test(start_paused = true)]
async fn a_stalled_call_times_out_and_never_outlives_the_deadline() {
    let twice = Stalling {
        stalls: 2,
        calls: Mutex::default(),
    };
    let patient = ProducerConfig {
        attempt_timeout: Duration::from_secs(5),
        ..config(10, Duration::from_secs(300))
    };
    let started = Instant::now();
    let report = run(twice, 3, patient).await;
    assert_eq!((report.delivered.len(), report.api_calls), (3, 3));
    assert!(
        started.elapsed() < Duration::from_secs(12),
        "{:?}",
        started.elapsed()
    );

    let always = Stalling {
        stalls: usize::MAX,
        calls: Mutex::default(),
    };
    let short = config(1_000, Duration::from_secs(30));
    let started = Instant::now();
    let report = run(always, 2, short).await;
    let waited = started.elapsed();
    assert_eq!(report.failed.len(), 2);
    assert!(report
        .failed
        .iter()
        .all(|(_, f)| f.kind == FailureKind::Unreachable
            && f.service_code.as_deref() == Some("TimeoutError")));
    assert!(
        waited <= Duration::from_secs(31),
        "given up at the deadline (an attempt in flight counts): {waited:?}"
    );
}

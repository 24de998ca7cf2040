//! The retry policy driving the Firehose and Kinesis transports, with faults injected at the SDK
//! level (aws-smithy-mocks): partial failures resend only the failed entries, throttling and
//! 5xx are retried, permanent errors fail fast, and the attempt limit and the deadline hand
//! records back with the last error code. Time is paused: backoff costs nothing and the tests
//! are deterministic.
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
use ocsf_firehose_producer::internals::Backoff;
use ocsf_firehose_producer::internals::Record;
use ocsf_firehose_producer::internals::{
    deliver, EntryOutcome, Failure, FirehoseTransport, KinesisTransport, RetryPolicy, Transport,
};
use tokio::time::Instant;

type Calls = Arc<Mutex<Vec<Vec<String>>>>;
/// `(data, partition key)` of every entry of every Kinesis call.
type KinesisCalls = Arc<Mutex<Vec<Vec<(String, String)>>>>;
type FirehoseReply = MockResponse<PutRecordBatchOutput, PutRecordBatchError>;

fn records(n: u32) -> Vec<Record<u32>> {
    (0..n)
        .map(|i| Record {
            data: format!("event-{i}").into_bytes(),
            partition_key: Some(format!("pk-{i}")),
            events: vec![i],
        })
        .collect()
}

fn policy(max_attempts: u32, deadline: Duration) -> RetryPolicy {
    RetryPolicy {
        max_attempts: Some(max_attempts),
        deadline: Instant::now() + deadline,
        backoff: Backoff::with_seed(Duration::from_millis(100), Duration::from_secs(5), 1),
        budget: None,
        attempt_timeout: Duration::from_secs(20),
    }
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
                .map(|r| String::from_utf8_lossy(r.data().as_ref()).into_owned())
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

fn ids(records: &[Record<u32>]) -> Vec<u32> {
    let mut ids: Vec<u32> = records.iter().flat_map(|r| r.events.clone()).collect();
    ids.sort_unstable();
    ids
}

#[tokio::test(start_paused = true)]
async fn a_partial_failure_resends_only_the_failed_entries() {
    let (destination, calls) = firehose(|call, data| {
        batch_answer(data, |d| {
            (call == 0 && (d.ends_with('1') || d.ends_with('3')))
                .then_some("ServiceUnavailableException")
        })
    });
    let report = deliver(
        &destination,
        records(5),
        &mut policy(5, Duration::from_secs(60)),
    )
    .await;
    assert_eq!(ids(&report.delivered), [0, 1, 2, 3, 4]);
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
    let report = deliver(
        &destination,
        records(3),
        &mut policy(5, Duration::from_secs(60)),
    )
    .await;
    let codes: Vec<&str> = report.failed.iter().map(|(_, f)| f.code()).collect();
    assert_eq!(ids(&report.delivered), [0, 1, 2], "failed: {codes:?}");
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
    let report = deliver(
        &destination,
        records(4),
        &mut policy(5, Duration::from_secs(60)),
    )
    .await;
    assert!(report.delivered.is_empty());
    assert_eq!(report.failed.len(), 4);
    assert!(report
        .failed
        .iter()
        .all(|(_, f)| f.code() == "AccessDeniedException" && f.message == "not allowed"));
    assert_eq!(calls.lock().unwrap().len(), 1, "no retry");
}

#[tokio::test(start_paused = true)]
async fn the_attempt_limit_returns_records_with_the_last_error() {
    let (destination, calls) =
        firehose(|_, data| batch_answer(data, |d| d.ends_with('0').then_some("InternalFailure")));
    let report = deliver(
        &destination,
        records(3),
        &mut policy(3, Duration::from_secs(60)),
    )
    .await;
    assert_eq!(ids(&report.delivered), [1, 2]);
    assert_eq!(report.failed.len(), 1);
    assert_eq!(
        (report.failed[0].0.events.clone(), report.failed[0].1.code()),
        (vec![0], "InternalFailure")
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
    let mut policy = policy(100, Duration::from_millis(150));
    policy.backoff = Backoff::with_seed(Duration::from_secs(1), Duration::from_secs(5), 3);
    let report = deliver(&destination, records(2), &mut policy).await;
    assert_eq!(report.failed.len(), 2);
    assert!(report
        .failed
        .iter()
        .all(|(_, f)| f.code() == "ServiceUnavailableException"));
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
                    String::from_utf8_lossy(r.data().as_ref()).into_owned(),
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
    let report = deliver(
        &destination,
        records(4),
        &mut policy(5, Duration::from_secs(60)),
    )
    .await;
    assert_eq!(ids(&report.delivered), [0, 1, 2, 3]);
    let calls = calls.lock().unwrap().clone();
    assert_eq!(calls[1], [("event-2".to_owned(), "pk-2".to_owned())]);
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
    let mut patient = policy(10, Duration::from_secs(300));
    patient.attempt_timeout = Duration::from_secs(5);
    let started = Instant::now();
    let report = deliver(&twice, records(3), &mut patient).await;
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
    let mut short = policy(1_000, Duration::from_secs(30));
    let started = Instant::now();
    let report = deliver(&always, records(2), &mut short).await;
    let waited = started.elapsed();
    assert_eq!(report.failed.len(), 2);
    assert!(report
        .failed
        .iter()
        .all(|(_, f)| f.code() == "TimeoutError"));
    assert!(
        waited <= Duration::from_secs(31),
        "given up at the deadline (an attempt in flight counts): {waited:?}"
    );
}

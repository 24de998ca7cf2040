//! Shared by the producer's integration tests and benchmark: sample events and Firehose mocks
//! (flaky, and accepting everything).
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[cfg(feature = "lake")]
pub mod lake;
pub mod moto;
pub mod proxy;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use aws_sdk_firehose::operation::put_record_batch::{PutRecordBatchError, PutRecordBatchOutput};
use aws_sdk_firehose::types::PutRecordBatchResponseEntry;
use aws_smithy_mocks::{mock, mock_client, MockResponse, RuleMode};
use serde_json::{json, Value};

pub type Delivered = Arc<Mutex<Vec<Vec<u8>>>>;
/// `(partition key, data)` of every Kinesis record accepted.
pub type KinesisDelivered = Arc<Mutex<Vec<(String, Vec<u8>)>>>;

pub fn event(i: usize) -> Value {
    json!({"class_uid": 3002, "time": 1_682_683_200_000_i64 + (i as i64 % 3) * 86_400_000,
           "cloud": {"region": "us-east-1"}, "metadata": {"version": "1.1.0"}, "message": format!("event {i}")})
}

/// A Firehose mock failing (once) every entry whose first attempt is the `n`-th overall with
/// `n % 7 == 3`, recording the data of every accepted entry.
pub fn flaky_firehose() -> (aws_sdk_firehose::Client, Delivered) {
    let delivered: Delivered = Arc::default();
    let seen = delivered.clone();
    let attempts: Arc<Mutex<HashMap<Vec<u8>, usize>>> = Arc::default();
    let counter = Arc::new(Mutex::new(0usize));
    let rule =
        mock!(aws_sdk_firehose::Client::put_record_batch).then_compute_response(move |input| {
            let mut entries = Vec::new();
            for record in input.records() {
                let data = record.data().as_ref().to_vec();
                let mut n = counter.lock().unwrap();
                *n += 1;
                let tries = {
                    let mut attempts = attempts.lock().unwrap();
                    let t = attempts.entry(data.clone()).or_default();
                    *t += 1;
                    *t
                };
                if tries == 1 && *n % 7 == 3 {
                    entries.push(
                        PutRecordBatchResponseEntry::builder()
                            .error_code("ServiceUnavailableException")
                            .build(),
                    );
                } else {
                    seen.lock().unwrap().push(data);
                    entries.push(
                        PutRecordBatchResponseEntry::builder()
                            .record_id("ok")
                            .build(),
                    );
                }
            }
            batch_output(entries)
        });
    (
        mock_client!(aws_sdk_firehose, RuleMode::MatchAny, [&rule]),
        delivered,
    )
}

/// A Firehose mock accepting every record, handing each record's data to `seen`.
pub fn accepting_firehose(
    seen: impl Fn(&[u8]) + Send + Sync + 'static,
) -> aws_sdk_firehose::Client {
    judging_firehose(move |data| {
        seen(data);
        true
    })
}

/// A Firehose mock asking `accept` about each record's data: accepted, or failed inside the
/// answer with `ServiceUnavailableException` (retryable).
pub fn judging_firehose(
    accept: impl Fn(&[u8]) -> bool + Send + Sync + 'static,
) -> aws_sdk_firehose::Client {
    let rule =
        mock!(aws_sdk_firehose::Client::put_record_batch).then_compute_response(move |input| {
            let entries = input
                .records()
                .iter()
                .map(|record| match accept(record.data().as_ref()) {
                    true => PutRecordBatchResponseEntry::builder()
                        .record_id("ok")
                        .build(),
                    false => PutRecordBatchResponseEntry::builder()
                        .error_code("ServiceUnavailableException")
                        .error_message("Slow down.")
                        .build(),
                })
                .collect();
            batch_output(entries)
        });
    mock_client!(aws_sdk_firehose, RuleMode::MatchAny, [&rule])
}

/// A `PutRecordBatch` answer with these entries (`FailedPutCount` counted from them).
pub fn batch_output(
    entries: Vec<PutRecordBatchResponseEntry>,
) -> MockResponse<PutRecordBatchOutput, PutRecordBatchError> {
    let failed = entries.iter().filter(|e| e.error_code().is_some()).count() as i32;
    MockResponse::Output(
        PutRecordBatchOutput::builder()
            .failed_put_count(failed)
            .set_request_responses(Some(entries))
            .build()
            .unwrap(),
    )
}

/// Messages of the events in the delivered records (JSON lines).
pub fn messages(delivered: &Delivered) -> Vec<String> {
    let mut out = Vec::new();
    for data in delivered.lock().unwrap().iter() {
        for line in data.split(|b| *b == b'\n').filter(|l| !l.is_empty()) {
            let event: Value = serde_json::from_slice(line).unwrap();
            assert!(event["metadata"]["uid"].is_string(), "uid stamped");
            out.push(event["message"].as_str().unwrap().to_owned());
        }
    }
    out
}

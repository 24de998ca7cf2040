//! The producer end to end against SDK-level mocks, with paused time: every event delivered
//! exactly once despite partial failures, aggregation that splits back into the original events,
//! failures returned with the event, backpressure, and rejection of oversized events at `send`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_sdk_firehose::error::ErrorMetadata;
use aws_sdk_firehose::operation::put_record_batch::PutRecordBatchError;
use aws_sdk_kinesis::operation::put_records::{PutRecordsError, PutRecordsOutput};
use aws_sdk_kinesis::types::PutRecordsResultEntry;
use aws_smithy_mocks::{mock, mock_client, MockResponse, RuleMode};
use common::{event, flaky_firehose, messages, KinesisDelivered};
use ocsf_firehose_producer::internals::kpl::decode;
use ocsf_firehose_producer::{
    FailureKind, ProducerBuilder, ProducerConfig, SendError, TrySendError,
};
use serde_json::{json, Value};

#[tokio::test(start_paused = true)]
async fn every_event_is_delivered_exactly_once_despite_partial_failures() {
    for aggregate in [true, false] {
        let (client, delivered) = flaky_firehose();
        let config = ProducerConfig {
            aggregate,
            ..ProducerConfig::default()
        };
        let producer = ProducerBuilder::firehose(client, "stream")
            .config(config)
            .build()
            .unwrap();
        let mut deliveries = Vec::new();
        for i in 0..2_000 {
            deliveries.push(producer.send(&event(i)).await.unwrap());
        }
        let report = producer.shutdown().await;
        assert_eq!((report.delivered, report.failed_count), (2_000, 0));
        for delivery in deliveries {
            assert_eq!(delivery.outcome().await, Ok(()));
        }
        let mut seen = messages(&delivered);
        seen.sort();
        let mut expected: Vec<String> = (0..2_000).map(|i| format!("event {i}")).collect();
        expected.sort();
        assert_eq!(
            seen, expected,
            "aggregate={aggregate}: each event exactly once"
        );
        if aggregate {
            assert!(
                delivered.lock().unwrap().len() < 200,
                "events share records"
            );
        }
    }
}

#[tokio::test(start_paused = true)]
async fn kinesis_kpl_records_split_back_into_the_events() {
    let delivered: KinesisDelivered = Arc::default();
    let seen = delivered.clone();
    let rule = mock!(aws_sdk_kinesis::Client::put_records).then_compute_response(move |input| {
        let mut results = Vec::new();
        for record in input.records() {
            seen.lock().unwrap().push((
                record.partition_key().unwrap_or_default().to_owned(),
                record.data().as_ref().to_vec(),
            ));
            results.push(
                PutRecordsResultEntry::builder()
                    .sequence_number("1")
                    .shard_id("s")
                    .build(),
            );
        }
        MockResponse::<PutRecordsOutput, PutRecordsError>::Output(
            PutRecordsOutput::builder()
                .failed_record_count(0)
                .set_records(Some(results))
                .build()
                .unwrap(),
        )
    });
    let client = mock_client!(aws_sdk_kinesis, RuleMode::MatchAny, [&rule]);
    let producer = ProducerBuilder::kinesis(client, "k").build().unwrap();
    for i in 0..300 {
        producer.send(&event(i)).await.unwrap();
    }
    assert_eq!(producer.shutdown().await.delivered, 300);
    let mut messages = Vec::new();
    for (key, data) in delivered.lock().unwrap().iter() {
        assert_eq!(key.len(), 32, "random hex partition key");
        let subs = decode(data)
            .unwrap()
            .unwrap_or_else(|| vec![(key.clone(), data.clone())]);
        for (_, sub) in subs {
            let event: Value = serde_json::from_slice(&sub).unwrap();
            messages.push(event["message"].as_str().unwrap().to_owned());
        }
    }
    assert_eq!(messages.len(), 300);
    assert!(delivered.lock().unwrap().len() < 30, "aggregated");
}

#[tokio::test(start_paused = true)]
async fn permanent_failures_return_the_event_with_the_reason() {
    let rule = mock!(aws_sdk_firehose::Client::put_record_batch).then_error(|| {
        PutRecordBatchError::generic(
            ErrorMetadata::builder()
                .code("AccessDeniedException")
                .message("denied")
                .build(),
        )
    });
    let client = mock_client!(aws_sdk_firehose, RuleMode::MatchAny, [&rule]);
    let failures = Arc::new(Mutex::new(0));
    let counted = failures.clone();
    let producer = ProducerBuilder::firehose(client, "s")
        .config(ProducerConfig {
            aggregate: false,
            ..ProducerConfig::default()
        })
        .on_failure(move |_| *counted.lock().unwrap() += 1)
        .build()
        .unwrap();
    let delivery = producer.send(&event(1)).await.unwrap();
    let failed = delivery.outcome().await.unwrap_err();
    assert_eq!(
        (
            failed.kind,
            failed.service_code.as_deref(),
            failed.message.as_str()
        ),
        (
            FailureKind::AccessDenied,
            Some("AccessDeniedException"),
            "denied"
        )
    );
    let returned: Value = serde_json::from_slice(&failed.event).unwrap();
    assert_eq!(returned["message"], json!("event 1"));
    let report = producer.shutdown().await;
    assert_eq!((report.failed_count, *failures.lock().unwrap()), (1, 1));
}

#[tokio::test(start_paused = true)]
async fn a_full_buffer_makes_send_wait_and_try_send_refuse() {
    let rule = mock!(aws_sdk_firehose::Client::put_record_batch).then_error(|| {
        PutRecordBatchError::generic(
            ErrorMetadata::builder()
                .code("ServiceUnavailableException")
                .build(),
        )
    });
    let client = mock_client!(aws_sdk_firehose, RuleMode::MatchAny, [&rule]);
    let config = ProducerConfig {
        max_buffered_bytes: 1_024_000,
        event_timeout: Duration::from_secs(3_600),
        ..ProducerConfig::default()
    };
    let producer = ProducerBuilder::firehose(client, "s")
        .config(config)
        .build()
        .unwrap();
    let big = json!({"message": "x".repeat(200_000), "metadata": {"uid": "u"}});
    let mut accepted = 0;
    loop {
        match producer.try_send(&big) {
            Ok(_) => accepted += 1,
            Err(TrySendError::Full(event)) => {
                assert!(event.len() > 200_000, "the event comes back");
                break;
            }
            Err(other) => panic!("{other}"),
        }
    }
    assert_eq!(accepted, 5, "at most the buffer limit is held");
    let waited = tokio::time::timeout(Duration::from_secs(1), producer.send(&big)).await;
    assert!(waited.is_err(), "send waits while the buffer is full");
}

/// The answering caller's pair (an HTTP agent): `try_send_value` refuses at once when the
/// buffer is full, `send_value_within` waits its time for room and then refuses, the event back
/// and nothing of it kept; room made by a delivery lets it in.
#[tokio::test(start_paused = true)]
async fn send_value_within_waits_its_time_for_room_and_no_longer() {
    let (client, _delivered) = flaky_firehose();
    let producer = ProducerBuilder::firehose(client, "s")
        .config(ProducerConfig {
            max_buffered_bytes: 1_024_000,
            linger: Duration::from_secs(10),
            event_timeout: Duration::from_secs(3_600),
            ..ProducerConfig::default()
        })
        .build()
        .unwrap();
    let big = || json!({"message": "x".repeat(200_000), "metadata": {"uid": "u"}});
    for _ in 0..5 {
        assert!(producer.try_send_value(big()).is_ok());
    }
    assert!(matches!(
        producer.try_send_value(big()),
        Err(TrySendError::Full(event)) if event.len() > 200_000
    ));
    let started = tokio::time::Instant::now();
    let refused = producer
        .send_value_within(big(), Duration::from_millis(500))
        .await;
    assert!(matches!(refused, Err(TrySendError::Full(_))));
    assert_eq!(
        started.elapsed(),
        Duration::from_millis(500),
        "it waited its time"
    );
    // The linger ends and the calls deliver (a record failing once is sent again): room again.
    let taken = producer
        .send_value_within(big(), Duration::from_secs(60))
        .await;
    assert!(taken.is_ok(), "{taken:?}");
    let report = producer.shutdown().await;
    assert_eq!((report.delivered, report.failed_count), (6, 0));
}

#[tokio::test(start_paused = true)]
async fn oversized_events_are_rejected_at_send_and_bad_tuning_at_build() {
    let rule = mock!(aws_sdk_firehose::Client::put_record_batch)
        .then_error(|| PutRecordBatchError::generic(ErrorMetadata::builder().code("X").build()));
    let client = mock_client!(aws_sdk_firehose, RuleMode::MatchAny, [&rule]);
    let bad = ProducerConfig {
        max_in_flight: 0,
        ..ProducerConfig::default()
    };
    assert!(ProducerBuilder::firehose(client.clone(), "s")
        .config(bad)
        .build()
        .is_err());
    let producer = ProducerBuilder::firehose(client, "s").build().unwrap();
    let huge = json!({"message": "x".repeat(1_100_000)});
    match producer.send(&huge).await {
        Err(SendError::Encode(error)) => assert_eq!(error.code(), "record_too_large"),
        other => panic!("{other:?}"),
    }
    assert_eq!(producer.shutdown().await.failed_count, 0, "never sent");
}

/// A real SDK client against a TCP endpoint that accepts connections and never answers: calls
/// hang, the buffer fills to its limit and no further, `try_send` says full and `send` waits;
/// dropping the producer does not hang.
#[tokio::test]
async fn a_stalled_endpoint_holds_at_most_the_buffer_limit() {
    use aws_sdk_firehose::config::{BehaviorVersion, Credentials, Region};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let held = Arc::new(Mutex::new(Vec::new()));
    let holder = held.clone();
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            holder.lock().unwrap().push(socket); // never read, never answered
        }
    });
    let config = aws_sdk_firehose::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("AKID", "SECRET", None, None, "test"))
        .endpoint_url(format!("http://{address}"))
        .build();
    let client = aws_sdk_firehose::Client::from_conf(config);
    let limit = 2_000_000;
    let producer = ProducerBuilder::firehose(client, "stalled")
        .config(ProducerConfig {
            max_buffered_bytes: limit,
            linger: Duration::from_millis(5),
            ..ProducerConfig::default()
        })
        .build()
        .unwrap();
    let event = json!({"message": "x".repeat(10_000), "metadata": {"uid": "u"}});
    let size = serde_json::to_vec(&event).unwrap().len();
    let mut accepted = 0;
    loop {
        match producer.try_send(&event) {
            Ok(_) => accepted += 1,
            Err(TrySendError::Full(_)) => break,
            Err(other) => panic!("{other}"),
        }
        tokio::task::yield_now().await; // let the worker start calls
    }
    assert_eq!(accepted, limit / size, "exactly what fits in the buffer");
    // The calls reach the endpoint (and stall there); wait for that, however slow the machine.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while held.lock().unwrap().is_empty() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "no call reached the endpoint"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(
        matches!(producer.try_send(&event), Err(TrySendError::Full(_))),
        "in-flight events still count against the buffer"
    );
    let waited = tokio::time::timeout(Duration::from_millis(300), producer.send(&event)).await;
    assert!(waited.is_err(), "send waits while the endpoint stalls");
    drop(producer);
}

//! One retry budget for every producer of one configuration (issue 22): a dead Firehose stream
//! and a dead S3 bucket, each behind a producer built from clones of one `ProducerConfig`, pay
//! their retries from the same budget; a producer given a budget of its own does not.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Duration;

use aws_sdk_firehose::error::ErrorMetadata;
use aws_sdk_firehose::operation::put_record_batch::PutRecordBatchError;
use aws_sdk_s3::operation::put_object::PutObjectError;
use aws_smithy_mocks::{mock, mock_client, RuleMode};
use ocsf_firehose_producer::internals::limits::FIREHOSE_MAX_RECORD_BYTES;
use ocsf_firehose_producer::{
    FailureKind, Producer, ProducerBuilder, ProducerConfig, SharedRetryBudget,
};
use ocsf_firehose_transform::{Engine, EngineConfig};
use serde_json::json;

/// Attempts per request: two retries each, 5 tokens a retry.
const ATTEMPTS: u32 = 3;
const RETRY_COST: u32 = 5;

fn config(budget: &SharedRetryBudget) -> ProducerConfig {
    ProducerConfig {
        max_attempts: Some(ATTEMPTS),
        backoff_base: Duration::from_millis(1),
        backoff_max: Duration::from_millis(2),
        aggregate: false,
        max_buffered_bytes: FIREHOSE_MAX_RECORD_BYTES * 2,
        retry_budget: budget.clone(),
        ..ProducerConfig::default()
    }
}

fn dead_firehose(config: ProducerConfig) -> Producer {
    let rule = mock!(aws_sdk_firehose::Client::put_record_batch).then_error(|| {
        PutRecordBatchError::generic(
            ErrorMetadata::builder()
                .code("ServiceUnavailableException")
                .build(),
        )
    });
    let client = mock_client!(aws_sdk_firehose, RuleMode::MatchAny, [&rule]);
    ProducerBuilder::firehose(client, "dead")
        .config(config)
        .build()
        .unwrap()
}

fn dead_bucket(config: ProducerConfig) -> Producer {
    let rule = mock!(aws_sdk_s3::Client::put_object).then_error(|| {
        PutObjectError::generic(
            aws_sdk_s3::error::ErrorMetadata::builder()
                .code("SlowDown")
                .build(),
        )
    });
    let client = mock_client!(aws_sdk_s3, RuleMode::MatchAny, [&rule]);
    let engine = Engine::new(EngineConfig {
        allowed_classes: Some([3002].into()),
        ..EngineConfig::default()
    })
    .unwrap();
    ProducerBuilder::s3(client, "lake", "ext/authentication/", engine)
        .config(config)
        .build()
        .unwrap()
}

fn event() -> serde_json::Value {
    json!({
        "class_uid": 3002, "activity_id": 1, "severity_id": 1, "status_id": 1,
        "time": 1_795_564_800_000_i64,
        "cloud": {"provider": "AWS", "region": "eu-west-1", "account": {"uid": "111122223333"}},
        "metadata": {"uid": "shared-budget-1", "version": "1.1.0",
                     "product": {"name": "budget-test", "vendor_name": "ocsf-firehose"}},
        "user": {"name": "alice"}, "service": {"name": "console"},
    })
}

/// Sends one event and waits for it: it fails after its retries, with its kind.
async fn one_failed_event(producer: Producer) -> FailureKind {
    let delivery = producer.send(&event()).await.unwrap();
    producer.shutdown().await;
    delivery.outcome().await.unwrap_err().kind
}

#[tokio::test]
async fn stream_calls_and_s3_requests_of_one_configuration_pay_from_one_budget() {
    let shared = SharedRetryBudget::default();
    let full = shared.available();
    let started = std::time::Instant::now();
    let stream = dead_firehose(config(&shared));
    assert_eq!(one_failed_event(stream).await, FailureKind::ServiceError);
    let after_stream = shared.available();
    let lake = dead_bucket(config(&shared));
    assert_eq!(one_failed_event(lake).await, FailureKind::Throttled);
    let after_lake = shared.available();
    // Two paid retries each; the budget also refills 5 tokens a second of real time, which this
    // allows for (measured, so a slow machine does not fail the test).
    let refilled = refill(started);
    println!("budget {full} → {after_stream} (stream) → {after_lake} (S3), refill ≤ {refilled}");
    let retries = ATTEMPTS - 1;
    assert!(after_stream <= full - retries * RETRY_COST + refilled);
    assert!(
        after_lake <= full - 2 * retries * RETRY_COST + refilled,
        "the S3 retries paid here too"
    );

    // A budget of its own: the shared one is not touched.
    let own = SharedRetryBudget::default();
    let before = shared.available();
    let started = std::time::Instant::now();
    assert_eq!(
        one_failed_event(dead_bucket(config(&own))).await,
        FailureKind::Throttled
    );
    assert!(own.available() <= full - retries * RETRY_COST + refill(started));
    assert!(
        shared.available() >= before,
        "another budget's retries are not paid here"
    );
}

/// Tokens the budget may have regained since `started` (5 a second, rounded up).
fn refill(started: std::time::Instant) -> u32 {
    (started.elapsed().as_secs_f64() * f64::from(RETRY_COST)).ceil() as u32 + 1
}

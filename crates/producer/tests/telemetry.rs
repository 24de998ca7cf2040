//! What the producer reports about itself: the metrics of `telemetry` through the `metrics`
//! facade (a debugging recorder) and its tracing spans and events (a JSON subscriber), with
//! partial failures and a permanent failure; never an event's content.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::HashMap;
use std::io::Write;
use std::sync::{Arc, Mutex};

use aws_sdk_firehose::error::ErrorMetadata;
use aws_sdk_firehose::operation::put_record_batch::PutRecordBatchError;
use aws_smithy_mocks::{mock, mock_client, RuleMode};
use common::{event, flaky_firehose};
use metrics_util::debugging::{DebugValue, DebuggingRecorder};
use ocsf_firehose_producer::{telemetry, ProducerBuilder, ProducerConfig, Report};
use serde_json::Value;

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

const EVENTS: usize = 700;

/// Sends `EVENTS` events one per record through the flaky mock, then one event to an endpoint
/// that denies access; returns both reports.
fn run() -> (Report, Report) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .start_paused(true)
        .build()
        .unwrap();
    runtime.block_on(async {
        let config = ProducerConfig {
            aggregate: false,
            ..ProducerConfig::default()
        };
        let (client, _) = flaky_firehose();
        let producer = ProducerBuilder::firehose(client, "stream")
            .config(config.clone())
            .build()
            .unwrap();
        for i in 0..EVENTS {
            producer.send(&event(i)).await.unwrap();
        }
        let flaky = producer.shutdown().await;
        let rule = mock!(aws_sdk_firehose::Client::put_record_batch).then_error(|| {
            PutRecordBatchError::generic(
                ErrorMetadata::builder()
                    .code("AccessDeniedException")
                    .build(),
            )
        });
        let client = mock_client!(aws_sdk_firehose, RuleMode::MatchAny, [&rule]);
        let producer = ProducerBuilder::firehose(client, "stream")
            .config(config)
            .build()
            .unwrap();
        producer.send(&event(EVENTS)).await.unwrap();
        (flaky, producer.shutdown().await)
    })
}

#[test]
fn metrics_and_spans_account_for_every_event_without_content() {
    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    let logs = Captured::default();
    let writer = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        .json()
        .with_max_level(tracing::Level::DEBUG)
        .with_writer(move || writer.clone())
        .finish();
    let (flaky, denied) = tracing::subscriber::with_default(subscriber, || {
        metrics::with_local_recorder(&recorder, run)
    });
    assert_eq!((flaky.delivered, flaky.failed_count), (EVENTS as u64, 0));
    assert!(
        flaky.retried_records > 0,
        "the mock fails one entry in seven"
    );
    assert_eq!(denied.failed_count, 1);

    let mut counters: HashMap<String, u64> = HashMap::new();
    let mut histograms: HashMap<String, Vec<f64>> = HashMap::new();
    let mut gauges: HashMap<String, f64> = HashMap::new();
    for (key, _, _, value) in snapshotter.snapshot().into_vec() {
        let labels: Vec<String> = key.key().labels().map(|l| l.value().to_owned()).collect();
        let name = format!("{}{labels:?}", key.key().name());
        match value {
            DebugValue::Counter(n) => *counters.entry(name).or_default() += n,
            DebugValue::Histogram(values) => histograms
                .entry(name)
                .or_default()
                .extend(values.into_iter().map(|v| v.into_inner())),
            DebugValue::Gauge(v) => {
                gauges.insert(name, v.into_inner());
            }
        }
    }
    let counter = |name: &str| counters.get(&format!("{name}[]")).copied().unwrap_or(0);
    assert_eq!(counter(telemetry::EVENTS_ACCEPTED), EVENTS as u64 + 1);
    assert_eq!(counter(telemetry::EVENTS_DELIVERED), EVENTS as u64);
    assert_eq!(
        counters[&format!("{}[\"access_denied\"]", telemetry::EVENTS_FAILED)],
        1
    );
    assert_eq!(
        counter(telemetry::API_CALLS),
        flaky.api_calls + denied.api_calls
    );
    assert_eq!(counter(telemetry::RETRIED_RECORDS), flaky.retried_records);
    let histogram = |name: &str| histograms[&format!("{name}[]")].clone();
    let records_per_call = histogram(telemetry::RECORDS_PER_CALL);
    assert_eq!(
        records_per_call.iter().sum::<f64>() as u64,
        EVENTS as u64 + 1 + flaky.retried_records,
        "every call: first attempts (one event per record) and retries"
    );
    assert_eq!(
        records_per_call.len() as u64,
        flaky.api_calls + denied.api_calls
    );
    assert_eq!(
        histogram(telemetry::BYTES_PER_CALL).len(),
        records_per_call.len()
    );
    assert_eq!(histogram(telemetry::SECONDS_IN_BUFFER).len(), EVENTS + 1);
    assert_eq!(histogram(telemetry::SECONDS_TO_DELIVERY).len(), EVENTS);
    assert_eq!(
        gauges[&format!("{}[]", telemetry::BUFFERED_BYTES)],
        0.0,
        "nothing buffered once shut down"
    );

    let text = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    let lines: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let partial: Vec<&Value> = lines
        .iter()
        .filter(|l| {
            l["fields"]["message"]
                .as_str()
                .unwrap_or("")
                .starts_with("partial failure")
        })
        .collect();
    assert!(!partial.is_empty());
    for line in &partial {
        assert_eq!(line["level"], "WARN");
        assert_eq!(line["fields"]["code"], "ServiceUnavailableException");
        assert_eq!(line["span"]["name"], telemetry::CALL_SPAN);
        assert_eq!(line["span"]["service"], "firehose");
        assert!(line["span"]["records"].as_u64().unwrap() > 0);
    }
    assert!(lines.iter().any(
        |l| l["fields"]["code"] == "AccessDeniedException" && l["fields"]["retryable"] == false
    ));
    assert!(lines
        .iter()
        .any(|l| l["level"] == "DEBUG" && l["fields"]["message"] == "put"));
    for i in 0..=EVENTS {
        let content = format!("event {i}");
        assert!(!text.contains(&content), "logs carry no event content");
    }
    assert!(counters.keys().all(|k| !k.contains("event ")));
}

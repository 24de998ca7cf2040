//! Benchmarks of the Firehose transformation handler on 1 MB, 3 MB and 6 MB requests of
//! realistic events (see `support`), each beside its floor:
//!
//! * `floor`: parse the request JSON, then per record base64-decode, JSON-parse and serialize,
//!   then serialize the response (same `aws_lambda_events` types, which base64-encode the data);
//! * `handler`: parse the request JSON, `Transformer::handle` (normalize, validate, partition,
//!   size guard, report), serialize the response.
//!
//! Goal: `handler` within 2× of `floor`.

#![allow(clippy::expect_used, clippy::unwrap_used)]

mod support;

use aws_lambda_events::event::firehose::{KinesisFirehoseResponse, KinesisFirehoseResponseRecord};
use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use ocsf_firehose_transform::firehose::{FirehoseEvent, TransformConfig, Transformer};
use serde_json::Value;

/// A Firehose request of at most `bytes` (a margin below 6 MB for the largest).
fn request(bytes: usize) -> Vec<u8> {
    let mut payloads = support::events(bytes);
    loop {
        let event = FirehoseEvent::from_payloads(&payloads, "us-east-1", 1_682_683_260_000);
        let body = serde_json::to_vec(&event).unwrap();
        if body.len() <= bytes {
            return body;
        }
        payloads.truncate(payloads.len() * 97 / 100);
    }
}

fn floor(body: &[u8]) -> usize {
    let event: FirehoseEvent = serde_json::from_slice(body).unwrap();
    let mut response = KinesisFirehoseResponse::default();
    response.records = event
        .records
        .iter()
        .map(|r| {
            let bytes = STANDARD.decode(&r.data).unwrap();
            let value: Value = serde_json::from_slice(&bytes).unwrap();
            let mut record = KinesisFirehoseResponseRecord::default();
            record.record_id = Some(r.record_id.clone());
            record.result = Some("Ok".to_owned());
            *record.data = serde_json::to_vec(&value).unwrap(); // base64-encoded when serialized
            record
        })
        .collect();
    serde_json::to_vec(&response).unwrap().len()
}

fn bench(c: &mut Criterion) {
    let transformer = Transformer::new(TransformConfig::default()).unwrap();
    let mut group = c.benchmark_group("firehose");
    group.sample_size(10);
    for (name, size) in [("1MB", 1_000_000), ("3MB", 3_000_000), ("6MB", 5_900_000)] {
        let body = request(size);
        group.throughput(Throughput::Bytes(body.len() as u64));
        group.bench_function(format!("{name}/floor"), |b| b.iter(|| floor(&body)));
        group.bench_function(format!("{name}/handler"), |b| {
            b.iter(|| {
                let event: FirehoseEvent = serde_json::from_slice(&body).unwrap();
                let (response, report) = transformer.handle(&event).unwrap();
                assert_eq!(report.ok + report.failed, report.records);
                serde_json::to_vec(&response).unwrap().len()
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);

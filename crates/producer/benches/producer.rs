//! Producer CPU per event: encode (with `metadata.uid` already present), aggregate into JSON-lines
//! records, batch into calls and build the SDK request entries, for 1 KiB events, with and
//! without aggregation. Goal: ≤ 2 µs per event. (The billed-bytes ratio and the share of full
//! calls are deterministic and checked by tests, not here.)
#![allow(clippy::expect_used, clippy::unwrap_used, missing_docs)]

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use ocsf_firehose_producer::aggregate::json_lines::{JsonLinesAggregator, DEFAULT_TARGET_BYTES};
use ocsf_firehose_producer::aggregate::Record;
use ocsf_firehose_producer::batch::{Batcher, CallLimits};
use ocsf_firehose_producer::event::Encoder;
use serde_json::{json, Value};

const EVENTS: usize = 10_000;

/// About 1 KiB of OCSF authentication event.
fn event(i: usize) -> Value {
    json!({
        "activity_id": 1, "activity_name": "Logon", "category_uid": 3, "class_uid": 3002,
        "severity_id": 1, "status_id": 1, "type_uid": 300201,
        "time": 1_682_683_200_000_i64 + i as i64,
        "cloud": {"provider": "AWS", "region": "us-east-1", "account": {"uid": "123456789012"}},
        "metadata": {"uid": format!("00000000-0000-4000-8000-{i:012}"), "version": "1.1.0",
                     "product": {"name": "MyApp", "vendor_name": "Example", "version": "2.3.1"}},
        "user": {"name": format!("user-{}", i % 1000), "uid": "AIDAJQABLZS4A3QDU576Q", "type_id": 1},
        "src_endpoint": {"ip": "203.0.113.24", "port": 443},
        "http_request": {"user_agent": "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36"},
        "message": "x".repeat(420),
    })
}

fn build_requests(calls: Vec<Vec<Record<usize>>>) -> usize {
    let mut built = 0;
    for call in calls {
        let request: Vec<aws_sdk_firehose::types::Record> = call
            .into_iter()
            .map(|r| {
                aws_sdk_firehose::types::Record::builder()
                    .data(aws_sdk_firehose::primitives::Blob::new(r.data))
                    .build()
                    .unwrap()
            })
            .collect();
        built += request.len();
    }
    built
}

fn bench(c: &mut Criterion) {
    let events: Vec<Value> = (0..EVENTS).map(event).collect();
    let size = serde_json::to_vec(&events[0]).unwrap().len();
    assert!((900..1_200).contains(&size), "{size}");
    let encoder = Encoder {
        stamp_uid: true,
        max_bytes: 1_000 * 1024 - 1,
    };
    let mut group = c.benchmark_group("producer_pipeline_1KiB");
    group.throughput(Throughput::Elements(EVENTS as u64));
    group.bench_function("aggregated", |b| {
        b.iter(|| {
            let mut aggregator = JsonLinesAggregator::new(DEFAULT_TARGET_BYTES);
            let mut batcher = Batcher::new(CallLimits::FIREHOSE);
            let mut calls = Vec::new();
            for (i, e) in events.iter().enumerate() {
                for record in aggregator.push(i, encoder.encode(e).unwrap()) {
                    calls.extend(batcher.push(record));
                }
            }
            for record in aggregator.flush() {
                calls.extend(batcher.push(record));
            }
            calls.push(batcher.take());
            build_requests(calls)
        })
    });
    group.bench_function("one_event_per_record", |b| {
        b.iter(|| {
            let mut batcher = Batcher::new(CallLimits::FIREHOSE);
            let mut calls = Vec::new();
            for (i, e) in events.iter().enumerate() {
                let mut data = encoder.encode(e).unwrap().bytes;
                data.push(b'\n');
                calls.extend(batcher.push(Record {
                    data,
                    partition_key: None,
                    events: vec![i],
                }));
            }
            calls.push(batcher.take());
            build_requests(calls)
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);

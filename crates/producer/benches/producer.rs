//! Producer CPU per event, for 1 KiB events:
//! * `producer_pipeline_1KiB`: encode (with `metadata.uid` already present), aggregate into
//!   JSON-lines records, batch into calls and build the SDK request entries, with and without
//!   aggregation. Goal: ≤ 2 µs per event. `serialize_only` (`serde_json::to_vec` of each event)
//!   is the floor to compare against when the machine's speed varies.
//! * `producer_send_1KiB`: the whole `Producer` (channel, buffer accounting, worker, retries
//!   bookkeeping, outcome per event), alive across iterations (10,000 sends and a flush each),
//!   against an SDK client that discards every call after the SDK has serialized it (base64
//!   JSON body), so it includes the SDK's own cost; on one thread and on two;
//!   `aggregated_spooled` is the same with the durable spool (fsync every 500 entries).
//!
//! Before timing, it prints the deterministic figures of the same 10,000 events: billed bytes
//! (records rounded up to 5 KB) over payload bytes, with and without aggregation, and the share
//! of full calls (500 records, or no room for another record) when input saturates the producer.
//! Tests assert their goals (≤ 1.1, ≥ 95 %).
#![allow(clippy::expect_used, clippy::unwrap_used, missing_docs)]

#[path = "../tests/common/mod.rs"]
mod common;

use std::sync::Arc;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use ocsf_firehose_producer::internals::json_lines::{
    billed_bytes, JsonLinesAggregator, DEFAULT_TARGET_BYTES,
};
use ocsf_firehose_producer::internals::Encoder;
use ocsf_firehose_producer::internals::Record;
use ocsf_firehose_producer::internals::{Batcher, CallLimits};
use ocsf_firehose_producer::spool::{Durability, SpoolConfig};
use ocsf_firehose_producer::{Producer, ProducerBuilder, ProducerConfig};
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

/// Runs the pipeline once; returns the calls and the payload bytes.
fn pipeline(
    events: &[Value],
    encoder: &Encoder,
    aggregate: bool,
) -> (Vec<Vec<Record<usize>>>, usize) {
    let mut aggregator = JsonLinesAggregator::new(DEFAULT_TARGET_BYTES);
    let mut batcher = Batcher::new(CallLimits::FIREHOSE);
    let (mut calls, mut payload) = (Vec::new(), 0);
    for (i, e) in events.iter().enumerate() {
        let encoded = encoder.encode(e).unwrap();
        payload += encoded.bytes.len();
        let records = if aggregate {
            aggregator.push(i, encoded)
        } else {
            let mut data = encoded.bytes;
            data.push(b'\n');
            vec![Record {
                data,
                partition_key: None,
                events: vec![i],
            }]
        };
        for record in records {
            calls.extend(batcher.push(record));
        }
    }
    for record in aggregator.flush() {
        calls.extend(batcher.push(record));
    }
    calls.push(batcher.take());
    (calls, payload)
}

fn print_ratios(events: &[Value], encoder: &Encoder) {
    for aggregate in [true, false] {
        let (calls, payload) = pipeline(events, encoder, aggregate);
        let records: Vec<&Record<usize>> = calls.iter().flatten().collect();
        let billed: usize = records.iter().map(|r| billed_bytes(r.data.len())).sum();
        let largest = records.iter().map(|r| r.size()).max().unwrap_or(0);
        let full = calls
            .iter()
            .filter(|c| {
                c.len() == CallLimits::FIREHOSE.max_records
                    || c.iter().map(|r| r.size()).sum::<usize>() + largest
                        > CallLimits::FIREHOSE.max_bytes
            })
            .count();
        println!(
            "aggregate={aggregate}: {} records in {} calls, billed/payload {:.3}, full calls {full}/{} (the last one is the remainder)",
            records.len(),
            calls.len(),
            billed as f64 / payload as f64,
            calls.len()
        );
    }
}

/// The benchmark name of an aggregation setting.
fn variant(aggregate: bool) -> &'static str {
    if aggregate {
        "aggregated"
    } else {
        "one_event_per_record"
    }
}

fn bench(c: &mut Criterion) {
    let events: Vec<Value> = (0..EVENTS).map(event).collect();
    let size = serde_json::to_vec(&events[0]).unwrap().len();
    assert!((900..1_200).contains(&size), "{size}");
    let encoder = Encoder {
        stamp_uid: true,
        max_bytes: 1_000 * 1024 - 1,
    };
    print_ratios(&events, &encoder);
    let mut group = c.benchmark_group("producer_pipeline_1KiB");
    group.throughput(Throughput::Elements(EVENTS as u64));
    // The floor, for comparing runs on a noisy machine: serializing the events, nothing else.
    group.bench_function("serialize_only", |b| {
        b.iter(|| {
            events
                .iter()
                .map(|e| serde_json::to_vec(e).unwrap().len())
                .sum::<usize>()
        })
    });
    for aggregate in [true, false] {
        group.bench_function(variant(aggregate), |b| {
            b.iter(|| build_requests(pipeline(&events, &encoder, aggregate).0))
        });
    }
    group.finish();
}

/// A producer over an SDK client discarding calls, with or without aggregation and a spool in
/// `spool`.
fn producer(aggregate: bool, spool: Option<&std::path::Path>) -> Producer {
    let mut builder = ProducerBuilder::firehose(common::accepting_firehose(|_| {}), "bench")
        .config(ProducerConfig {
            aggregate,
            ..ProducerConfig::default()
        });
    if let Some(dir) = spool {
        builder = builder.spool(SpoolConfig {
            durability: Durability::Batch(500),
            ..SpoolConfig::new(dir)
        });
    }
    builder.build().unwrap()
}

/// Sends `events` and waits until each is delivered: the producer's steady state (it lives
/// across iterations, as in an application).
async fn send_all(producer: &Producer, events: &[Value]) {
    for e in events {
        producer.send(e).await.unwrap();
    }
    let report = producer.flush().await;
    assert_eq!(report.delivered, events.len() as u64);
}

/// Sends `events` from `senders` tasks at once (each its share, in turn), then waits until each
/// is delivered: an application sending from many tasks (the HTTP agent's clients).
async fn send_concurrently(producer: &Arc<Producer>, events: &Arc<Vec<Value>>, senders: usize) {
    let mut tasks = tokio::task::JoinSet::new();
    for first in 0..senders {
        let (producer, events) = (Arc::clone(producer), Arc::clone(events));
        tasks.spawn(async move {
            for e in events.iter().skip(first).step_by(senders) {
                producer.send(e).await.unwrap();
            }
        });
    }
    while let Some(done) = tasks.join_next().await {
        done.unwrap();
    }
    let report = producer.flush().await;
    assert_eq!(report.delivered, events.len() as u64);
}

fn bench_producer(c: &mut Criterion) {
    let events: Vec<Value> = (0..EVENTS).map(event).collect();
    let dir = std::env::temp_dir().join(format!("ocsf-bench-spool-{}", std::process::id()));
    // One thread (the application's sends and the worker take turns) and two (they overlap,
    // as in an application on Tokio's default runtime).
    for threads in [1, 2] {
        let runtime = match threads {
            1 => tokio::runtime::Builder::new_current_thread(),
            _ => {
                let mut builder = tokio::runtime::Builder::new_multi_thread();
                builder.worker_threads(threads);
                builder
            }
        }
        .enable_all()
        .build()
        .unwrap();
        let name = match threads {
            1 => "producer_send_1KiB".to_owned(),
            n => format!("producer_send_1KiB_{n}_threads"),
        };
        let mut group = c.benchmark_group(name);
        group.throughput(Throughput::Elements(EVENTS as u64));
        let variants = [
            (variant(true), true, None),
            (variant(false), false, None),
            // The durable spool (fsync every 500 entries), in the same run: its cost against
            // `aggregated`.
            ("aggregated_spooled", true, Some(dir.as_path())),
        ];
        for (name, aggregate, spool) in variants {
            let producer = runtime.block_on(async { producer(aggregate, spool) });
            group.bench_function(name, |b| {
                b.iter(|| runtime.block_on(send_all(&producer, &events)))
            });
            runtime.block_on(producer.shutdown());
        }
        // 16 tasks sending at once: concurrent sends share the spool's writes.
        let shared = Arc::new(events.clone());
        for (name, spool) in [
            ("aggregated_16_senders", None),
            ("aggregated_spooled_16_senders", Some(dir.as_path())),
        ] {
            let producer = Arc::new(runtime.block_on(async { producer(true, spool) }));
            group.bench_function(name, |b| {
                b.iter(|| runtime.block_on(send_concurrently(&producer, &shared, 16)))
            });
            if let Ok(producer) = Arc::try_unwrap(producer) {
                runtime.block_on(producer.shutdown());
            }
        }
        group.finish();
    }
    let _ = std::fs::remove_dir_all(&dir);
}

criterion_group!(benches, bench, bench_producer);
criterion_main!(benches);

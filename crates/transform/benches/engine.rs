//! Benchmarks of the OCSF engine.
//!
//! * `schema_load`: decoding an embedded schema, and that plus validating a first event (the
//!   Lambda cold-start cost; target ≤ 15 ms).
//! * `batch_3mb`: a ~3 MB batch of realistic events (the fixtures under `tests/fixtures/events`,
//!   varied, a fifth of them needing normalization), through
//!   - `serde_parse_serialize`: `serde_json` parse + serialize of each event, the floor;
//!   - `parse_validate`: parse + validate;
//!   - `parse_judge_serialize`: parse + the verdict (normalize + validate + partition keys) +
//!     serialize the normalized event, what a client-side check costs. Goal: within 2× of the
//!     floor;
//!   - `parse_judge_row_serialize`: the same plus the fit to the Glue table, serializing the
//!     row: what the Lambda does per event.

#![allow(clippy::expect_used, clippy::unwrap_used)]

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use ocsf_firehose_transform::{
    Engine, EngineConfig, OcsfVersion, Schema, SeverityPolicy, ValidateOptions, Validator,
};
use serde_json::Value;

mod support;

const BATCH_BYTES: usize = 3 * 1024 * 1024;

fn schema_load(c: &mut Criterion) {
    let mut group = c.benchmark_group("schema_load");
    for version in OcsfVersion::ALL {
        group.bench_function(version.as_str(), |b| {
            b.iter(|| Schema::load(version).expect("schema"))
        });
    }
    // Cold start as a Lambda sees it: decode the schema, then validate a first event, which
    // compiles the regexes of the types it meets (ip_t, datetime_t, …).
    let event = support::fixtures().remove(1);
    let policy = SeverityPolicy::default();
    group.bench_function("1.1.0_then_first_event", |b| {
        b.iter(|| {
            let schema = Schema::load(OcsfVersion::V1_1_0).expect("schema");
            let validator = Validator::new(&schema, ValidateOptions::default());
            validator.validate(&event, &policy).is_valid()
        })
    });
    group.finish();
}

fn batch_3mb(c: &mut Criterion) {
    let lines = support::events(BATCH_BYTES);
    let bytes: usize = lines.iter().map(Vec::len).sum();
    let engine = Engine::new(EngineConfig::default()).expect("engine");
    let mut group = c.benchmark_group("batch_3mb");
    group.throughput(Throughput::Bytes(bytes as u64));
    group.sample_size(20);
    group.bench_function("serde_parse_serialize", |b| {
        b.iter(|| {
            let mut out = 0;
            for line in &lines {
                let event: Value = serde_json::from_slice(line).expect("parse");
                out += serde_json::to_vec(&event).expect("serialize").len();
            }
            out
        })
    });
    group.bench_function("parse_validate", |b| {
        b.iter(|| {
            let mut valid = 0;
            for line in &lines {
                let event: Value = serde_json::from_slice(line).expect("parse");
                valid += usize::from(engine.validate(&event).is_valid());
            }
            valid
        })
    });
    group.bench_function("parse_judge_serialize", |b| {
        b.iter(|| {
            let mut out = 0;
            for line in &lines {
                let event: Value = serde_json::from_slice(line).expect("parse");
                let verdict = engine.judge(event, Some("us-east-1"));
                assert!(verdict.is_accepted(), "{:?}", verdict.validation.findings);
                out += serde_json::to_vec(&verdict.event).expect("serialize").len();
            }
            out
        })
    });
    group.bench_function("parse_judge_row_serialize", |b| {
        b.iter(|| {
            let mut out = 0;
            for line in &lines {
                let event: Value = serde_json::from_slice(line).expect("parse");
                let row = engine.judge(event, Some("us-east-1")).into_row();
                let row = row.expect("accepted");
                out += serde_json::to_vec(&row.event).expect("serialize").len();
            }
            out
        })
    });
    let parsed: Vec<Value> = lines
        .iter()
        .map(|l| serde_json::from_slice(l).expect("parse"))
        .collect();
    group.bench_function("normalize_only", |b| {
        b.iter_batched(
            || parsed.clone(),
            |mut events| {
                for event in &mut events {
                    engine.normalize(event);
                }
                events
            },
            BatchSize::LargeInput,
        )
    });
    group.finish();
}

criterion_group!(benches, schema_load, batch_3mb);
criterion_main!(benches);

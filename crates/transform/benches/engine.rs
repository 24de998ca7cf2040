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
//! * `translation`: the same batch judged with translation on (the default) and off: at the
//!   target version it must cost nothing; and the batch declared as OCSF 1.5.0, judged by a
//!   1.3.0 engine (translated down) and by a 1.5.0-accepting one with translation off (the
//!   floor: the same events, validated untranslated), and translation alone.

#![allow(clippy::expect_used, clippy::unwrap_used)]

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use ocsf_firehose_transform::translate::{Direction, TranslateOptions};
use ocsf_firehose_transform::{
    Engine, EngineConfig, OcsfRelease, OcsfVersion, Schema, SeverityPolicy, ValidateOptions,
    Validator,
};
use serde_json::Value;

mod support;

const BATCH_BYTES: usize = 3 * 1024 * 1024;

fn schema_load(c: &mut Criterion) {
    let mut group = c.benchmark_group("schema_load");
    for release in OcsfRelease::ALL {
        group.bench_function(release.as_str(), |b| {
            b.iter(|| Schema::load(release).expect("schema"))
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

fn judge_all(engine: &Engine, lines: &[Vec<u8>]) -> usize {
    let mut out = 0;
    for line in lines {
        let event: Value = serde_json::from_slice(line).expect("parse");
        let verdict = engine.judge(event, Some("us-east-1"));
        out += usize::from(verdict.is_accepted());
        out += serde_json::to_vec(&verdict.event).expect("serialize").len();
    }
    out
}

fn translation(c: &mut Criterion) {
    let lines = support::events(BATCH_BYTES);
    let bytes: usize = lines.iter().map(Vec::len).sum();
    let engine = |version: OcsfVersion, direction: Direction| {
        Engine::new(EngineConfig {
            version,
            translate: TranslateOptions {
                direction,
                ..TranslateOptions::default()
            },
            ..EngineConfig::default()
        })
        .expect("engine")
    };
    let mut group = c.benchmark_group("translation");
    group.throughput(Throughput::Bytes(bytes as u64));
    group.sample_size(20);
    let on = engine(OcsfVersion::V1_1_0, Direction::Both);
    let off = engine(OcsfVersion::V1_1_0, Direction::None);
    group.bench_function("at_target_translation_on", |b| {
        b.iter(|| judge_all(&on, &lines))
    });
    group.bench_function("at_target_translation_off", |b| {
        b.iter(|| judge_all(&off, &lines))
    });
    // The same events declared as 1.5.0: a 1.3.0 engine translates them down.
    let newer: Vec<Vec<u8>> = lines
        .iter()
        .map(|line| {
            let mut event: Value = serde_json::from_slice(line).expect("parse");
            event["metadata"]["version"] = "1.5.0".into();
            serde_json::to_vec(&event).expect("serialize")
        })
        .collect();
    let down = engine(OcsfVersion::V1_3_0, Direction::Both);
    let untranslated = engine(OcsfVersion::V1_3_0, Direction::None);
    group.bench_function("from_1_5_0_to_1_3_0", |b| {
        b.iter(|| judge_all(&down, &newer))
    });
    group.bench_function("from_1_5_0_untranslated", |b| {
        b.iter(|| judge_all(&untranslated, &newer))
    });
    // Translation alone, on parsed events.
    let parsed: Vec<Value> = newer
        .iter()
        .map(|l| serde_json::from_slice(l).expect("parse"))
        .collect();
    group.bench_function("translate_only_1_5_0_to_1_3_0", |b| {
        b.iter_batched(
            || parsed.clone(),
            |mut events| {
                for event in &mut events {
                    down.translate(event);
                }
                events
            },
            BatchSize::LargeInput,
        )
    });
    group.finish();
}

criterion_group!(benches, schema_load, batch_3mb, translation);
criterion_main!(benches);

//! Aggregation and batching account for every event exactly once, in order within a
//! partition, within every limit; KPL records decode back to the original events.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use ocsf_firehose_producer::internals::json_lines::JsonLinesAggregator;
use ocsf_firehose_producer::internals::kpl::{decode, KplAggregator};
use ocsf_firehose_producer::internals::limits::{
    FIREHOSE_MAX_RECORD_BYTES, FIREHOSE_MAX_SUB_RECORDS, KINESIS_MAX_RECORD_BYTES,
};
use ocsf_firehose_producer::internals::Encoder;
use ocsf_firehose_producer::internals::Record;
use ocsf_firehose_producer::internals::{Batcher, CallLimits};
use proptest::prelude::*;
use serde_json::json;

fn event(i: usize, day: u8, region: u8, pad: usize) -> serde_json::Value {
    let region = ["us-east-1", "eu-west-1", "bad region"][usize::from(region % 3)];
    json!({
        "class_uid": 3002,
        "time": 1_682_640_000_000_i64 + i64::from(day) * 86_400_000,
        "cloud": {"region": region},
        "metadata": {"uid": format!("u{i}")},
        "message": "m".repeat(pad),
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn json_lines_records_hold_every_event_once_per_partition(
        shapes in prop::collection::vec((0u8..3, 0u8..3, 0usize..3_000), 1..400),
        target in 200usize..20_000,
    ) {
        let encoder = Encoder { stamp_uid: true, max_bytes: FIREHOSE_MAX_RECORD_BYTES - 1 };
        let mut agg = JsonLinesAggregator::new(target);
        let mut batcher = Batcher::new(CallLimits::FIREHOSE);
        let mut calls: Vec<Vec<Record<usize>>> = Vec::new();
        for (i, (day, region, pad)) in shapes.iter().enumerate() {
            let encoded = encoder.encode(&event(i, *day, *region, *pad)).unwrap();
            for record in agg.push(i, encoded) {
                calls.extend(batcher.push(record));
            }
        }
        for record in agg.flush() {
            calls.extend(batcher.push(record));
        }
        calls.push(batcher.take());
        let mut seen = vec![0usize; shapes.len()];
        for call in &calls {
            prop_assert!(call.len() <= 500);
            prop_assert!(call.iter().map(Record::size).sum::<usize>() <= 4 * 1024 * 1024);
            for record in call {
                prop_assert!(record.data.len() <= FIREHOSE_MAX_RECORD_BYTES);
                prop_assert!(record.events.len() <= FIREHOSE_MAX_SUB_RECORDS);
                prop_assert!(record.events.len() == 1 || record.data.len() <= target);
                let lines: Vec<serde_json::Value> = record.data.split(|b| *b == b'\n').filter(|l| !l.is_empty()).map(|l| serde_json::from_slice(l).unwrap()).collect();
                prop_assert_eq!(lines.len(), record.events.len());
                let partitions: std::collections::BTreeSet<_> = lines
                    .iter()
                    .map(|l| (l["time"].as_i64().unwrap() / 86_400_000, l["cloud"]["region"].to_string()))
                    .collect();
                prop_assert_eq!(partitions.len(), 1, "one partition per record");
                for (line, id) in lines.iter().zip(&record.events) {
                    prop_assert_eq!(&line["metadata"]["uid"], &json!(format!("u{id}")));
                    seen[*id] += 1;
                }
            }
        }
        prop_assert!(seen.iter().all(|n| *n == 1), "every event exactly once");
    }

    #[test]
    fn kpl_records_decode_to_the_original_events(
        sizes in prop::collection::vec(0usize..40_000, 1..200),
        target in 100usize..200_000,
        keys in 1usize..4,
    ) {
        let mut agg = KplAggregator::new(target);
        let mut records = Vec::new();
        let payload = |i: usize, size: usize| format!("{i}:{}", "d".repeat(size)).into_bytes();
        for (i, size) in sizes.iter().enumerate() {
            records.extend(agg.push(i, payload(i, *size), Some(format!("key-{}", i % keys))));
        }
        records.extend(agg.flush());
        let mut seen = vec![0; sizes.len()];
        let mut last_of_key = vec![None; keys];
        for record in &records {
            prop_assert!(record.size() <= KINESIS_MAX_RECORD_BYTES);
            let subs = decode(&record.data).unwrap().unwrap_or_else(|| vec![(record.partition_key.clone().unwrap(), record.data.clone())]);
            prop_assert_eq!(subs.len(), record.events.len());
            for ((key, data), id) in subs.iter().zip(&record.events) {
                prop_assert_eq!(data, &payload(*id, sizes[*id]));
                prop_assert_eq!(key, &format!("key-{}", id % keys));
                prop_assert_eq!(Some(key), record.partition_key.as_ref(), "one key per record");
                prop_assert!(last_of_key[id % keys] < Some(*id), "each key's events in order");
                last_of_key[id % keys] = Some(*id);
                seen[*id] += 1;
            }
        }
        prop_assert!(seen.iter().all(|n| *n == 1), "every event exactly once");
    }
}

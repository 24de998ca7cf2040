//! Realistic event batches for the benchmarks, from the fixtures under `tests/fixtures/events`.
#![allow(clippy::expect_used, clippy::unwrap_used, dead_code)]

use std::path::Path;

use serde_json::Value;

/// The fixture events, sorted by file name.
pub fn fixtures() -> Vec<Value> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/events");
    let mut paths: Vec<_> = std::fs::read_dir(&dir)
        .expect("fixtures directory")
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    paths.sort();
    paths
        .iter()
        .map(|p| serde_json::from_slice(&std::fs::read(p).expect("fixture")).expect("fixture JSON"))
        .collect()
}

/// Strips what normalization restores, adds an unknown attribute and an RFC 3339 time.
fn needing_normalization(mut event: Value) -> Value {
    let map = event.as_object_mut().expect("fixtures are objects");
    for derived in [
        "class_name",
        "category_name",
        "category_uid",
        "type_name",
        "activity_name",
        "severity",
    ] {
        map.remove(derived);
    }
    map.insert("time".into(), Value::from("2023-04-28T12:00:00.123Z"));
    map.insert("vendor_specific_score".into(), Value::from(42));
    event
}

/// Compact JSON events totalling about `bytes`: the fixtures with varied ids and times, a
/// fifth of them needing normalization.
pub fn events(bytes: usize) -> Vec<Vec<u8>> {
    let fixtures = fixtures();
    let mut lines = Vec::new();
    let mut total = 0;
    let mut i: i64 = 0;
    while total < bytes {
        let mut event = fixtures[(i as usize) % fixtures.len()].clone();
        event["time"] = Value::from(1_682_683_200_000 + i * 1_000);
        event["metadata"]["uid"] = Value::from(format!("00000000-0000-4000-8000-{i:012}"));
        if i % 5 == 4 {
            event = needing_normalization(event);
        }
        let line = serde_json::to_vec(&event).expect("serialize");
        total += line.len();
        lines.push(line);
        i += 1;
    }
    lines
}

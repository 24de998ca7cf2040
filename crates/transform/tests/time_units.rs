//! Timestamp units: senders put seconds, microseconds or nanoseconds in `time` and the other
//! `timestamp_t` attributes. Every example event of the OCSF corpus (and every fixture) that the
//! engine accepts is judged again with its `time` in each unit: accepted, `time` back in
//! milliseconds, the same `eventDay`, `time_unit_repaired` reported, and the original kept under
//! `unmapped` exactly when digits below the millisecond were cut. Numbers that fit no unit are
//! still rejected, and `OCSF_TIME_UNITS=strict` keeps today's reading.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use ocsf_firehose_transform::{ActionKind, Code, Engine, EngineConfig, OcsfVersion, TimeUnits};
use serde_json::{json, Value};

fn engine(version: OcsfVersion, time_units: TimeUnits) -> Engine {
    Engine::new(EngineConfig {
        version,
        time_units,
        ..EngineConfig::default()
    })
    .unwrap()
}

/// How a variant of `time` should come back: `(value sent, ms expected, original kept)`.
fn variants(ms: i64) -> [(Value, i64, bool); 5] {
    [
        (json!(ms / 1_000), ms - ms % 1_000, false),
        (json!(ms as f64 / 1_000.0), ms, false),
        (json!(ms * 1_000), ms, false),
        (json!(ms * 1_000 + 456), ms, true),
        (json!(ms * 1_000_000 + 789), ms, true),
    ]
}

fn repaired_time(verdict: &ocsf_firehose_transform::Verdict<'_>) -> bool {
    verdict
        .actions
        .iter()
        .any(|a| a.kind == ActionKind::TimeUnitRepaired && a.path == "time")
}

#[test]
fn every_accepted_event_is_accepted_with_time_in_any_unit() {
    let (mut judged, mut events_tried) = (0, 0);
    for version in OcsfVersion::ALL {
        let engine = engine(version, TimeUnits::Repair);
        for (name, input) in common::fixture_and_corpus_events() {
            let verdict = engine.judge(input.clone(), None);
            // The instant as judged (some real events send seconds already: Prowler's).
            let Some(ms) = verdict.event.get("time").and_then(Value::as_i64) else {
                continue;
            };
            if !verdict.is_accepted() {
                continue;
            }
            events_tried += 1;
            let day = verdict.partition.clone().unwrap().event_day;
            for (sent, expected, kept) in variants(ms) {
                let mut event = input.clone();
                event["time"] = sent.clone();
                let verdict = engine.judge(event, None);
                let what = format!("{name} at {version}, time {sent}");
                assert!(
                    verdict.is_accepted(),
                    "{what}: {:?}",
                    verdict.errors().collect::<Vec<_>>()
                );
                assert_eq!(verdict.event["time"], json!(expected), "{what}");
                assert!(repaired_time(&verdict), "{what}: {:?}", verdict.actions);
                if expected - expected % 86_400_000 == ms - ms % 86_400_000 {
                    assert_eq!(verdict.partition.unwrap().event_day, day, "{what}");
                }
                let original = verdict.event["unmapped"].get("time");
                assert_eq!(original, kept.then_some(&sent), "{what}");
                judged += 1;
            }
        }
    }
    assert!(events_tried >= 5, "only {events_tried} events tried");
    eprintln!("{judged} variants of {events_tried} accepted events judged");
}

#[test]
fn numbers_of_no_unit_are_still_rejected() {
    let engine = engine(OcsfVersion::V1_1_0, TimeUnits::Repair);
    let input = common::fixture("authentication");
    let ms = input["time"].as_i64().unwrap();
    for sent in [
        json!(ms / 1_000_000),         // kiloseconds
        json!(ms * 10),                // between milliseconds and microseconds
        json!(631_152_000),            // 1990 in seconds: before the plausible range
        json!(ms as f64 + 0.5),        // milliseconds with a fraction: a type problem
        json!(ms as u64 * 10_000_000), // beyond nanoseconds
        json!("1682683200"),           // text of no instant
    ] {
        let mut event = input.clone();
        event["time"] = sent.clone();
        let verdict = engine.judge(event, None);
        assert!(!verdict.is_accepted(), "{sent}");
        assert!(
            verdict
                .errors()
                .any(|f| f.code == Code::PartitionTimeInvalid),
            "{sent}"
        );
        assert!(!repaired_time(&verdict), "{sent}");
    }
}

#[test]
fn strict_takes_numbers_as_milliseconds() {
    let engine = engine(OcsfVersion::V1_1_0, TimeUnits::Strict);
    let mut event = common::fixture("authentication");
    let ms = event["time"].as_i64().unwrap();
    event["time"] = json!(ms / 1_000);
    let verdict = engine.judge(event, None);
    assert!(!verdict.is_accepted());
    assert_eq!(verdict.event["time"], json!(ms / 1_000));
    assert!(verdict
        .actions
        .iter()
        .all(|a| a.kind != ActionKind::TimeUnitRepaired));
}

/// Every `timestamp_t` attribute is repaired, nested or in a list, and its `*_dt` sibling is
/// written from the repaired value.
#[test]
fn nested_timestamps_are_repaired_and_their_datetimes_follow() {
    let engine = engine(OcsfVersion::V1_1_0, TimeUnits::Repair);
    let mut event = common::fixture("authentication");
    let ms = event["time"].as_i64().unwrap();
    event["metadata"]["logged_time"] = json!(ms * 1_000);
    event["metadata"]["processed_time"] = json!(ms / 1_000);
    let verdict = engine.judge(event, None);
    assert!(verdict.is_accepted());
    let metadata = &verdict.event["metadata"];
    assert_eq!(metadata["logged_time"], json!(ms));
    assert_eq!(metadata["processed_time"], json!(ms - ms % 1_000));
    assert_eq!(
        metadata["logged_time_dt"],
        json!(ocsf_firehose_transform::normalize::epoch_ms_to_datetime(ms).unwrap())
    );
    let repaired: Vec<&str> = verdict
        .actions
        .iter()
        .filter(|a| a.kind == ActionKind::TimeUnitRepaired)
        .map(|a| a.path.as_str())
        .collect();
    assert_eq!(
        repaired,
        ["metadata.logged_time", "metadata.processed_time"]
    );
}

/// A lossy repair needs `unmapped` to keep the original: where it cannot (the `keep` policy, or
/// its key is taken), the value is left as it came, and nothing is lost.
#[test]
fn a_lossy_repair_without_room_under_unmapped_is_not_made() {
    let keep = Engine::new(EngineConfig {
        unknown_attributes: ocsf_firehose_transform::UnknownAttributes::Keep,
        ..EngineConfig::default()
    })
    .unwrap();
    let mut event = common::fixture("authentication");
    let ms = event["time"].as_i64().unwrap();
    event["time"] = json!(ms * 1_000 + 1);
    let verdict = keep.judge(event.clone(), None);
    assert_eq!(verdict.event["time"], json!(ms * 1_000 + 1));
    assert!(!verdict.is_accepted());
    event["time"] = json!(ms * 1_000);
    let verdict = keep.judge(event.clone(), None);
    assert_eq!(
        verdict.event["time"],
        json!(ms),
        "a lossless repair needs no room"
    );

    let repair = engine(OcsfVersion::V1_1_0, TimeUnits::Repair);
    event["time"] = json!(ms * 1_000 + 1);
    event["unmapped"] = json!({"time": "taken"});
    let verdict = repair.judge(event, None);
    assert_eq!(verdict.event["time"], json!(ms * 1_000 + 1));
    assert_eq!(verdict.event["unmapped"]["time"], json!("taken"));
}

//! The spool through the producer, in process: a producer dropped with its runtime (a crash as
//! the process sees it: nothing resolved, nothing flushed) leaves its events in the spool; the
//! next producer on the same spool sends them again, unchanged, once; a spool whose last
//! segment was cut at any byte gives back every whole entry and reports the cut.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use ocsf_firehose_producer::spool::{DamageKind, Durability, SpoolConfig};
use ocsf_firehose_producer::{ProducerBuilder, ProducerConfig};
use serde_json::{json, Value};

fn event(i: usize) -> Value {
    json!({
        "class_uid": 3002, "activity_id": 1, "severity_id": 1,
        "time": 1_682_683_200_000_i64,
        "metadata": {"version": "1.1.0", "product": {"name": "spool", "vendor_name": "ocsf-firehose"}},
        "message": format!("event {i}"),
    })
}

fn temp_dir() -> PathBuf {
    std::env::temp_dir().join(format!("ocsf-spool-{}", uuid::Uuid::new_v4().simple()))
}

/// Accepts `n` events into a producer that never sends (a linger of an hour, aggregation on),
/// then drops it with its runtime: the crash. Returns the events as they were spooled.
fn crash_after(spool: &Path, n: usize) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let producer = ProducerBuilder::firehose(common::accepting_firehose(|_| {}), "s")
            .config(ProducerConfig {
                linger: Duration::from_secs(3600),
                ..ProducerConfig::default()
            })
            .spool(SpoolConfig {
                durability: Durability::Event,
                ..SpoolConfig::new(spool)
            })
            .build()
            .unwrap();
        for i in 0..n {
            producer.send(&event(i)).await.unwrap();
        }
        std::mem::forget(producer);
    });
    drop(runtime);
}

/// Starts a producer on `spool` that records what it sends; returns the events delivered (by
/// `message`), what it recovered, and its report.
async fn restart(spool: &Path) -> (Vec<String>, ocsf_firehose_producer::Recovered, u64) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let sink = Arc::clone(&seen);
    let producer = ProducerBuilder::firehose(
        common::accepting_firehose(move |data| {
            for line in data.split(|b| *b == b'\n').filter(|l| !l.is_empty()) {
                let event: Value = serde_json::from_slice(line).unwrap();
                assert!(event["metadata"]["uid"].is_string());
                sink.lock()
                    .unwrap()
                    .push(event["message"].as_str().unwrap().to_owned());
            }
        }),
        "s",
    )
    .spool(SpoolConfig::new(spool))
    .build()
    .unwrap();
    let recovered = producer.recovered().clone();
    let report = producer.shutdown().await;
    assert_eq!(report.failed_count, 0);
    let mut messages = seen.lock().unwrap().clone();
    messages.sort_by_key(|m| m[6..].parse::<usize>().unwrap());
    (messages, recovered, report.delivered)
}

fn block_on<T>(future: impl std::future::Future<Output = T>) -> T {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(future)
}

#[test]
fn a_crashed_producers_events_are_sent_by_the_next_once_and_unchanged() {
    let dir = temp_dir();
    crash_after(&dir, 300);
    let (sent, recovered, delivered) = block_on(restart(&dir));
    let expected: Vec<String> = (0..300).map(|i| format!("event {i}")).collect();
    assert_eq!(sent, expected);
    assert_eq!((recovered.entries, delivered), (300, 300));
    assert!(recovered.damage.is_empty());
    let (again, recovered, _) = block_on(restart(&dir));
    assert!(again.is_empty() && recovered.entries == 0, "resolved: gone");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_cut_spool_delivers_every_whole_entry_and_reports_the_cut() {
    let mut rng = fastrand::Rng::with_seed(5);
    for _ in 0..10 {
        let dir = temp_dir();
        crash_after(&dir, 120);
        let wal = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .find(|p| p.extension().is_some_and(|e| e == "wal"))
            .unwrap();
        let data = std::fs::read(&wal).unwrap();
        let length = data.len() as u64;
        // Where entries end: `[length u32][crc u32][position u64][payload]` each.
        let mut boundaries = vec![0u64];
        while let Some(&end) = boundaries.last().filter(|end| **end < length) {
            let at = end as usize;
            let size = u32::from_le_bytes(data[at..at + 4].try_into().unwrap());
            boundaries.push(end + 16 + u64::from(size));
        }
        let cut = rng.u64(1..length);
        std::fs::OpenOptions::new()
            .write(true)
            .open(&wal)
            .unwrap()
            .set_len(cut)
            .unwrap();
        let (sent, recovered, delivered) = block_on(restart(&dir));
        let whole = recovered.entries as usize;
        assert!(whole < 120);
        let expected: Vec<String> = (0..whole).map(|i| format!("event {i}")).collect();
        assert_eq!(sent, expected, "every whole entry before the cut, once");
        assert_eq!(delivered, recovered.entries);
        match recovered.damage.as_slice() {
            [damage] => {
                assert_eq!(damage.kind, DamageKind::Torn);
                assert_eq!(damage.offset + damage.bytes_dropped, cut);
            }
            [] => assert!(boundaries.contains(&cut), "a cut at {cut} was not reported"),
            more => panic!("one cut, reported as {more:?}"),
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

#[tokio::test]
async fn a_full_spool_makes_try_send_hand_the_event_back() {
    let dir = temp_dir();
    let producer = ProducerBuilder::firehose(common::accepting_firehose(|_| {}), "s")
        .config(ProducerConfig {
            linger: Duration::from_secs(3600),
            ..ProducerConfig::default()
        })
        .spool(SpoolConfig {
            segment_bytes: 4096,
            max_bytes: 16 * 1024,
            ..SpoolConfig::new(&dir)
        })
        .build()
        .unwrap();
    let mut accepted = 0;
    let refused = loop {
        match producer.try_send(&event(accepted)) {
            Ok(_) => accepted += 1,
            Err(error) => break error,
        }
        assert!(accepted < 1_000, "the spool never filled");
    };
    assert!(matches!(
        refused,
        ocsf_firehose_producer::TrySendError::Full(_)
    ));
    assert!(accepted > 50, "{accepted}");
    let report = producer.shutdown().await;
    assert_eq!(report.delivered, accepted as u64);
    std::fs::remove_dir_all(&dir).unwrap();
}

/// With `keep_failed`, an event that failed for a passing cause stays in the spool and the next
/// start sends it; one delivered leaves. Without it, a failure handed back leaves the spool.
#[test]
fn failures_that_may_pass_stay_for_the_next_start_when_the_spool_keeps_them() {
    for keep_failed in [true, false] {
        let dir = temp_dir();
        let report = block_on(async {
            // Every record with an odd event number fails inside the answer, every time.
            let firehose = common::judging_firehose(|data| {
                let event: Value = serde_json::from_slice(data).unwrap();
                let n: usize = event["message"].as_str().unwrap()[6..].parse().unwrap();
                n.is_multiple_of(2)
            });
            let producer = ProducerBuilder::firehose(firehose, "s")
                .config(ProducerConfig {
                    max_attempts: Some(2),
                    aggregate: false,
                    ..ProducerConfig::default()
                })
                .spool(SpoolConfig {
                    keep_failed,
                    ..SpoolConfig::new(&dir)
                })
                .build()
                .unwrap();
            for i in 0..40 {
                producer.send(&event(i)).await.unwrap();
            }
            producer.shutdown().await
        });
        assert_eq!((report.delivered, report.failed_count), (20, 20));
        let (sent, recovered, delivered) = block_on(restart(&dir));
        if keep_failed {
            let odd: Vec<String> = (0..40)
                .filter(|i| i % 2 == 1)
                .map(|i| format!("event {i}"))
                .collect();
            assert_eq!(sent, odd, "the failed events, sent again");
            assert_eq!((recovered.entries, delivered), (20, 20));
        } else {
            assert!(
                sent.is_empty() && recovered.entries == 0,
                "handed back: gone"
            );
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

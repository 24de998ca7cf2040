//! The direct path (feature `lake`): events written as Security Lake objects into a folder and
//! into a moto S3 server (`MOTO_ENDPOINT`, started by scripts/test), also through a proxy that
//! fails 30 % of the PUTs and parts and stalls a connection. Every valid event must land exactly
//! once, in an object of its class and partition, rows sorted by `time`, zstd; every invalid
//! one is refused at `send` with its codes. A back-fill writes more than 500 partitions.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::BTreeMap;
use std::time::Duration;

use ocsf_firehose_producer::lake::store::S3Store;
use ocsf_firehose_producer::lake::{LakeConfig, Sources};
use ocsf_firehose_producer::{ProducerBuilder, ProducerConfig, SendError};
use ocsf_firehose_transform::{Engine, EngineConfig};
use serde_json::{json, Value};

use common::lake::{check_objects, engine, event, files_below, sources, START_MS};
use common::moto::s3_client;
use common::proxy::{fault_proxy, Faults};

/// Sends `n` events; returns the uids sent as valid, and checks each invalid one is refused
/// with its codes.
async fn send_events(producer: &ocsf_firehose_producer::Producer, n: usize, days: usize) -> usize {
    let mut valid = 0;
    for i in 0..n {
        match producer.send(&event(i, days)).await {
            Ok(_) => valid += 1,
            Err(SendError::Invalid(findings)) => {
                assert_eq!(i % 100, 50, "event {i} refused");
                assert!(
                    findings
                        .iter()
                        .any(|f| f.code.as_str() == "attribute_required_missing"),
                    "{findings:?}"
                );
            }
            Err(other) => panic!("event {i}: {other}"),
        }
    }
    valid
}

fn assert_exactly_once(seen: &BTreeMap<String, usize>, valid: usize) {
    assert_eq!(seen.len(), valid, "every valid event landed");
    let doubled: Vec<_> = seen.iter().filter(|(_, n)| **n != 1).take(5).collect();
    assert!(doubled.is_empty(), "landed twice: {doubled:?}");
}

const EVENTS: usize = 20_000;
/// Large events in one partition: an object of about 8 MiB, uploaded in two parts.
const BIG_EVENTS: usize = 5_000;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_folder_receives_every_valid_event_once_in_the_security_lake_layout() {
    let root = std::env::temp_dir().join(format!("ocsf-lake-{}", uuid::Uuid::new_v4()));
    let producer = ProducerBuilder::dir(&root, sources(), engine())
        .build()
        .unwrap();
    let valid = send_events(&producer, EVENTS, 3).await;
    let report = producer.shutdown().await;
    assert_eq!((report.delivered, report.failed_count), (valid as u64, 0));
    let objects = files_below(&root);
    assert_eq!(
        objects.len(),
        4 * 3 * 3,
        "one object per class × account × day"
    );
    assert_exactly_once(&check_objects(&objects), valid);
    std::fs::remove_dir_all(&root).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_back_fill_writes_more_than_500_partitions_in_one_run() {
    let root = std::env::temp_dir().join(format!("ocsf-lake-{}", uuid::Uuid::new_v4()));
    let producer = ProducerBuilder::dir(&root, sources(), engine())
        .build()
        .unwrap();
    // 45 days × 3 accounts × 4 classes: 540 partitions (Firehose's default cap is 500 active).
    let valid = send_events(&producer, 540 * 2, 45).await;
    let report = producer.shutdown().await;
    assert_eq!((report.delivered, report.failed_count), (valid as u64, 0));
    let objects = files_below(&root);
    assert_eq!(objects.len(), 540, "one object per partition");
    assert_exactly_once(&check_objects(&objects), valid);
    std::fs::remove_dir_all(&root).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_partition_rolls_over_at_its_size_limit_long_before_the_interval() {
    let root = std::env::temp_dir().join(format!("ocsf-lake-{}", uuid::Uuid::new_v4()));
    let lake = LakeConfig {
        object_bytes: 64 * 1024,
        ..LakeConfig::default()
    };
    let producer = ProducerBuilder::dir(&root, sources(), engine())
        .lake_config(lake)
        .build()
        .unwrap();
    // One partition (class 3002, the first account, the first day): every 12th event.
    let mut valid = 0;
    for i in (0..12_000).step_by(12) {
        if producer.send(&event(i, 1)).await.is_ok() {
            valid += 1;
        }
    }
    let report = tokio::time::timeout(Duration::from_secs(60), producer.flush())
        .await
        .unwrap();
    assert_eq!((report.delivered, report.failed_count), (valid as u64, 0));
    let objects = files_below(&root);
    assert!(
        objects.len() >= 5,
        "{} objects of ~64 KiB of rows",
        objects.len()
    );
    let keys: std::collections::BTreeSet<&str> = objects
        .iter()
        .map(|(key, _)| key.rsplit_once('/').unwrap().0)
        .collect();
    assert_eq!(keys.len(), 1, "one partition");
    assert_exactly_once(&check_objects(&objects), valid);
    std::fs::remove_dir_all(&root).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_budget_writes_partitions_early_and_send_goes_on() {
    let root = std::env::temp_dir().join(format!("ocsf-lake-{}", uuid::Uuid::new_v4()));
    // 12 partitions, about 2.7 MB of rows, a 1 MiB budget: partitions must be written early,
    // some more than once, well before the 5-minute interval.
    let config = ProducerConfig {
        max_buffered_bytes: 1024 * 1024,
        ..ProducerConfig::default()
    };
    let producer = ProducerBuilder::dir(&root, sources(), engine())
        .config(config)
        .build()
        .unwrap();
    let valid = tokio::time::timeout(Duration::from_secs(120), send_events(&producer, 3_000, 1))
        .await
        .expect("send is held back only while objects are written");
    let report = producer.shutdown().await;
    assert_eq!((report.delivered, report.failed_count), (valid as u64, 0));
    let objects = files_below(&root);
    assert!(
        objects.len() > 12,
        "{} objects for 12 partitions",
        objects.len()
    );
    assert_exactly_once(&check_objects(&objects), valid);
    std::fs::remove_dir_all(&root).unwrap();
}

async fn download(s3: &aws_sdk_s3::Client, bucket: &str) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    let mut pages = s3.list_objects_v2().bucket(bucket).into_paginator().send();
    while let Some(page) = pages.next().await {
        for object in page.unwrap().contents() {
            let key = object.key().unwrap().to_owned();
            let body = s3
                .get_object()
                .bucket(bucket)
                .key(&key)
                .send()
                .await
                .unwrap();
            out.push((
                key,
                body.body.collect().await.unwrap().into_bytes().to_vec(),
            ));
        }
    }
    out
}

/// A large event of partition `ext/authentication/…/accountId=111122223333/eventDay=20261125`:
/// 2 KB of incompressible text, so that a few thousand make an object uploaded in parts.
fn big_event(i: usize, rng: &mut fastrand::Rng) -> Value {
    let mut event = event(0, 1);
    event["metadata"]["uid"] = json!(format!("big-{i}"));
    event["time"] = json!(START_MS + i as i64);
    let text: String = (0..2048).map(|_| rng.alphanumeric()).collect();
    event["message"] = json!(text);
    event
}

async fn upload_through(endpoint: &str, moto: &aws_sdk_s3::Client, faults: Option<Faults>) {
    let bucket = format!("lake-{}", uuid::Uuid::new_v4().simple());
    moto.create_bucket().bucket(&bucket).send().await.unwrap();
    let (endpoint, proxy) = match faults {
        Some(faults) => {
            let proxy = fault_proxy(endpoint, faults).await;
            (proxy.endpoint.clone(), Some(proxy))
        }
        None => (endpoint.to_owned(), None),
    };
    // Small objects in 5 MiB parts, so that the faults hit parts too.
    let store = S3Store::new(s3_client(&endpoint), &bucket)
        .multipart(5 * 1024 * 1024, 5 * 1024 * 1024)
        .attempt_timeout(Duration::from_secs(3));
    // A budget above the data: one object per partition (the budget's early writes are the
    // back-fill test's).
    let config = ProducerConfig {
        max_attempts: Some(50),
        backoff_max: Duration::from_millis(200),
        max_buffered_bytes: 128 * 1024 * 1024,
        ..ProducerConfig::default()
    };
    let producer = ProducerBuilder::s3_sources(store, sources(), engine())
        .config(config)
        .build()
        .unwrap();
    let mut valid = send_events(&producer, EVENTS, 3).await;
    let mut rng = fastrand::Rng::with_seed(3);
    for i in 0..BIG_EVENTS {
        producer.send(&big_event(i, &mut rng)).await.unwrap();
        valid += 1;
    }
    let report = producer.shutdown().await;
    assert_eq!(
        (report.delivered, report.failed_count),
        (valid as u64, 0),
        "{:?}",
        report.failed.first()
    );
    let objects = download(moto, &bucket).await;
    assert_eq!(objects.len(), 36, "one object per class × account × day");
    assert_exactly_once(&check_objects(&objects), valid);
    if let Some(proxy) = proxy {
        let (failed, stalled) = proxy.injected();
        assert!(
            failed > 0 && stalled > 0,
            "faults injected: {failed} failed, {stalled} stalled"
        );
        assert!(proxy.parts() >= 2, "the large object went up in parts");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn moto_s3_receives_every_valid_event_once() {
    let Some(endpoint) = common::moto::endpoint() else {
        return;
    };
    upload_through(&endpoint, &s3_client(&endpoint), None).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn faults_and_a_stalled_connection_still_land_every_event_once() {
    let Some(endpoint) = common::moto::endpoint() else {
        return;
    };
    let faults = Faults {
        failure_share: 0.3,
        stalls: 1,
        ..Faults::default()
    };
    upload_through(&endpoint, &s3_client(&endpoint), Some(faults)).await;
}

#[tokio::test]
async fn a_single_source_location_needs_an_engine_allowing_exactly_its_class() {
    // A lake producer without an engine cannot be written: `s3` takes one.
    let client = s3_client("http://127.0.0.1:9");
    let every_class = ProducerBuilder::s3(client.clone(), "lake", "ext/my-auth", engine())
        .build()
        .err()
        .unwrap();
    assert!(
        every_class.to_string().contains("allowed_classes"),
        "{every_class}"
    );
    let one = Engine::new(EngineConfig {
        allowed_classes: Some([3002].into()),
        ..EngineConfig::default()
    })
    .unwrap();
    let producer = ProducerBuilder::s3(client, "lake", "ext/my-auth", one)
        .build()
        .unwrap();
    let other = producer.send(&event(1, 1)).await.err().unwrap();
    assert!(
        matches!(&other, SendError::Invalid(f) if f.iter().any(|f| f.code.as_str() == "class_not_allowed")),
        "{other:?}"
    );
    let report = producer.shutdown().await;
    assert_eq!((report.delivered, report.failed_count), (0, 0));
    assert_eq!(
        Sources::default().with(3002, "/ext/a").location(3002),
        Some("ext/a/"),
        "a location is a key prefix ending in /"
    );
}

/// Issue 20, item 5: the direct path stamps `metadata.uid` into events sent without one, as the
/// stream paths do (each a new UUID), and keeps the uid an event brings.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_direct_path_stamps_a_uid_into_events_without_one() {
    let root = std::env::temp_dir().join(format!("ocsf-lake-uid-{}", uuid::Uuid::new_v4()));
    let producer = ProducerBuilder::dir(&root, sources(), engine())
        .build()
        .unwrap();
    let n = 40;
    for i in 0..n {
        let mut event = event(i * 100, 1);
        if i % 2 == 0 {
            event["metadata"].as_object_mut().unwrap().remove("uid");
        }
        producer.send(&event).await.unwrap();
    }
    let report = producer.shutdown().await;
    assert_eq!((report.delivered, report.failed_count), (n as u64, 0));
    let seen = check_objects(&files_below(&root));
    assert_eq!(seen.len(), n, "every event has its own uid: {seen:?}");
    let stamped = seen.keys().filter(|uid| uuid::Uuid::parse_str(uid).is_ok());
    assert_eq!(stamped.count(), n / 2, "the stamped ones are UUIDs");
    std::fs::remove_dir_all(&root).unwrap();
}

/// Issue 20, item 8, at the library's depth: a source location that would leave the bucket (or
/// its folder) is refused when the producer is built, whoever configured it.
#[tokio::test]
async fn a_source_location_outside_the_bucket_is_refused_at_build() {
    for location in ["../../x/", "ext/a/../../../x/", "ext//a/"] {
        let sources = Sources::default().with(3002, location);
        let built = ProducerBuilder::dir(std::env::temp_dir(), sources, engine()).build();
        let Err(error) = built else {
            panic!("{location}: built")
        };
        assert!(
            matches!(error, ocsf_firehose_producer::ConfigError::Location(_)),
            "{location}: {error}"
        );
    }
}

/// Judging apart from sending (`judge_value`, then `send_judged`): events judged on threads of
/// their own land like sent ones, a rejected one fails at the judging with its codes, and an
/// event judged by a stream producer is refused by the lake writer.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_judged_on_other_threads_land_once_and_only_where_they_were_judged() {
    let root = std::env::temp_dir().join(format!("ocsf-judged-{}", uuid::Uuid::new_v4()));
    let producer = ProducerBuilder::dir(&root, sources(), engine())
        .build()
        .unwrap();
    let events: Vec<Value> = (0..400).map(|i| event(i, 2)).collect();
    let judged: Vec<_> = std::thread::scope(|scope| {
        let halves: Vec<_> = events
            .chunks(200)
            .map(|half| {
                let producer = &producer;
                scope.spawn(move || {
                    half.iter()
                        .map(|e| producer.judge_value(e.clone()))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        halves
            .into_iter()
            .flat_map(|half| half.join().unwrap())
            .collect()
    });
    let mut valid = 0;
    for (i, judged) in judged.into_iter().enumerate() {
        match judged {
            Ok(judged) => {
                producer.send_judged(judged, Some(i as u64)).await.unwrap();
                valid += 1;
            }
            Err(SendError::Invalid(findings)) => assert!(!findings.is_empty()),
            Err(other) => panic!("{other}"),
        }
    }
    assert!(
        valid > 0 && valid < events.len(),
        "valid and invalid events"
    );
    let stream = ProducerBuilder::firehose(common::accepting_firehose(|_| {}), "s")
        .build()
        .unwrap();
    let elsewhere = stream.judge_value(event(0, 1)).unwrap();
    assert!(matches!(
        producer.send_judged(elsewhere, None).await,
        Err(SendError::JudgedElsewhere)
    ));
    stream.shutdown().await;
    let report = producer.shutdown().await;
    assert_eq!((report.delivered, report.failed_count), (valid as u64, 0));
    assert_exactly_once(&check_objects(&files_below(&root)), valid);
    std::fs::remove_dir_all(&root).unwrap();
}

/// Judged events handed over in runs (`send_judged_all`, as `upload` hands its batches): each
/// outcome in its place (an event judged by a stream producer refused where it stands), runs
/// larger than the byte budget handed over in parts instead of waiting for room they hold
/// themselves, every event spooled with its position, and every valid one landing once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn judged_runs_land_once_in_order_through_a_spool_and_a_budget_smaller_than_a_run() {
    let root = std::env::temp_dir().join(format!("ocsf-runs-{}", uuid::Uuid::new_v4()));
    let spool = ocsf_firehose_producer::spool::SpoolConfig::new(root.join("spool"));
    let budget = 1024 * 1024;
    let build = || {
        ProducerBuilder::dir(root.join("lake"), sources(), engine())
            .config(ProducerConfig {
                max_buffered_bytes: budget,
                ..ProducerConfig::default()
            })
            .spool(spool.clone())
            .build()
            .unwrap()
    };
    let producer = build();
    let stream = ProducerBuilder::firehose(common::accepting_firehose(|_| {}), "s")
        .build()
        .unwrap();
    let (mut valid, mut position) = (0, 0u64);
    for run in 0..3 {
        let mut judged = Vec::new();
        for i in run * 1_500..(run + 1) * 1_500 {
            position += 1;
            match producer.judge_value(event(i, 2)) {
                Ok(event) => judged.push((event, Some(position))),
                Err(SendError::Invalid(_)) => assert_eq!(i % 100, 50, "event {i} refused"),
                Err(other) => panic!("{other}"),
            }
        }
        // An event of the other kind in the middle of the run.
        let elsewhere = judged.len() / 2;
        let other = stream.judge_value(event(0, 1)).unwrap();
        judged.insert(elsewhere, (other, None));
        // A run of more rows than the 1 MiB budget holds: waiting for room its own rows hold would
        // never end.
        let outcomes =
            tokio::time::timeout(Duration::from_secs(60), producer.send_judged_all(judged))
                .await
                .expect("a run larger than the budget stalled");
        for (at, outcome) in outcomes.iter().enumerate() {
            match outcome {
                Err(SendError::JudgedElsewhere) => assert_eq!(at, elsewhere),
                Ok(_) => valid += 1,
                Err(other) => panic!("{at}: {other}"),
            }
        }
    }
    stream.shutdown().await;
    let report = producer.shutdown().await;
    assert_eq!((report.delivered, report.failed_count), (valid as u64, 0));
    assert_exactly_once(&check_objects(&files_below(&root.join("lake"))), valid);
    // Everything resolved: nothing to send again, and reading goes on after the last position.
    let again = build();
    assert_eq!(again.recovered().entries, 0);
    assert_eq!(again.recovered().next_position, Some(position + 1));
    again.shutdown().await;
    std::fs::remove_dir_all(&root).unwrap();
}

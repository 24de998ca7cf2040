//! Integration against a real local service: a moto server (Firehose Direct PUT → S3, Kinesis)
//! at `MOTO_ENDPOINT` (scripts/test starts one). 20,000 events go through each; every one must
//! arrive exactly once, and aggregated records must split back into the original events.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::{BTreeMap, BTreeSet};

use ocsf_firehose_producer::ProducerBuilder;
use serde_json::{json, Value};

use common::moto::{bucket_objects, client, endpoint, firehose_to_bucket, kcl_read, s3_client};
use common::proxy::{fault_proxy, serialising_proxy, Faults};

const EVENTS: usize = 20_000;

fn event(i: usize) -> Value {
    let region = ["us-east-1", "eu-west-1"][i % 2];
    json!({
        "class_uid": 3002, "category_uid": 3, "activity_id": 1, "type_uid": 300201, "severity_id": 1,
        "time": 1_682_683_200_000_i64 + (i as i64 % 4) * 86_400_000,
        "cloud": {"provider": "AWS", "region": region},
        "metadata": {"version": "1.1.0", "product": {"name": "test", "vendor_name": "ocsf-firehose"}},
        "user": {"name": format!("user-{}", i % 97)},
        "message": format!("event {i}"),
    })
}

/// `message` → count, for every event found in `lines`.
fn count_lines(data: &[u8], counts: &mut BTreeMap<String, usize>) {
    for line in data.split(|b| *b == b'\n').filter(|l| !l.is_empty()) {
        let event: Value = serde_json::from_slice(line).unwrap();
        assert!(event["metadata"]["uid"].is_string());
        *counts
            .entry(event["message"].as_str().unwrap().to_owned())
            .or_default() += 1;
    }
}

/// Sends the test events and waits until each is resolved.
async fn send_all(producer: ocsf_firehose_producer::Producer) {
    for i in 0..EVENTS {
        producer.send(&event(i)).await.unwrap();
    }
    let report = producer.shutdown().await;
    assert_eq!((report.delivered, report.failed_count), (EVENTS as u64, 0));
}

fn assert_exactly_once(counts: &BTreeMap<String, usize>) {
    assert_eq!(counts.len(), EVENTS, "every event arrived");
    let duplicated: Vec<_> = counts.iter().filter(|(_, n)| **n != 1).take(5).collect();
    assert!(duplicated.is_empty(), "sent twice: {duplicated:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn firehose_direct_put_to_s3_delivers_each_event_once() {
    let Some(endpoint) = endpoint() else { return };
    let s3 = s3_client(&endpoint);
    let firehose =
        aws_sdk_firehose::Client::from_conf(client!(aws_sdk_firehose, &endpoint).build());
    let (bucket, stream) = firehose_to_bucket(&s3, &firehose).await;
    let producer = ProducerBuilder::firehose(firehose, &stream)
        .build()
        .unwrap();
    send_all(producer).await;
    let (counts, objects) = bucket_events(&s3, &bucket).await;
    assert_exactly_once(&counts);
    assert!(
        objects < EVENTS / 10,
        "{objects} objects: events were aggregated"
    );
}

/// Every event in the bucket's objects: `message` → count, and the number of objects.
async fn bucket_events(s3: &aws_sdk_s3::Client, bucket: &str) -> (BTreeMap<String, usize>, usize) {
    let mut counts = BTreeMap::new();
    let objects = bucket_objects(s3, bucket).await;
    for body in &objects {
        count_lines(body, &mut counts);
    }
    (counts, objects.len())
}

/// Issue 20, item 2: through a loopback proxy that stalls 2 % of the connections (held open,
/// never answered), resets 2 %, throttles 10 % of the calls and fails 30 % of the records of
/// the others inside the answer, each `flush` returns with no event given up (so within the
/// events' deadline: an event past it is given up) and every event arrives. Nothing faulted is
/// forwarded, so none should arrive twice. The slowest flush is printed, not asserted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn firehose_flush_finishes_through_stalls_resets_throttles_and_failed_records() {
    let Some(endpoint) = endpoint() else { return };
    let s3 = s3_client(&endpoint);
    let firehose =
        aws_sdk_firehose::Client::from_conf(client!(aws_sdk_firehose, &endpoint).build());
    let (bucket, stream) = firehose_to_bucket(&s3, &firehose).await;
    let faults = Faults {
        stall_share: 0.02,
        reset_share: 0.02,
        throttle_share: 0.10,
        entry_failure_share: 0.30,
        ..Faults::default()
    };
    let proxy = fault_proxy(&endpoint, faults).await;
    let through_proxy =
        aws_sdk_firehose::Client::from_conf(client!(aws_sdk_firehose, &proxy.endpoint).build());
    let config = ocsf_firehose_producer::ProducerConfig {
        attempt_timeout: std::time::Duration::from_secs(2),
        event_timeout: std::time::Duration::from_secs(60),
        ..Default::default()
    };
    let producer = ProducerBuilder::firehose(through_proxy, &stream)
        .config(config)
        .build()
        .unwrap();
    let (waves, per_wave) = (100, 20);
    let mut slowest = std::time::Duration::ZERO;
    for wave in 0..waves {
        for i in 0..per_wave {
            producer.send(&event(wave * per_wave + i)).await.unwrap();
        }
        let started = std::time::Instant::now();
        let report = producer.flush().await;
        slowest = slowest.max(started.elapsed());
        assert_eq!(report.failed_count, 0, "{:?}", report.failed.first());
    }
    let report = producer.shutdown().await;
    assert_eq!(report.failed_count, 0);
    let (stalled, (reset, throttled, failed_entries)) = (proxy.injected().1, proxy.stream_faults());
    assert!(
        stalled > 0 && reset > 0 && throttled > 0 && failed_entries > 0,
        "faults injected: {stalled} stalled, {reset} reset, {throttled} throttled, {failed_entries} records failed"
    );
    let (counts, _) = bucket_events(&s3, &bucket).await;
    let events = waves * per_wave;
    assert_eq!(counts.len(), events, "every event arrived");
    let twice = counts.values().filter(|n| **n > 1).count();
    println!(
        "{events} events in {waves} flushes through {stalled} stalled and {reset} reset connections, {throttled} throttled calls, {failed_entries} failed records: slowest flush {slowest:?}, {twice} events twice"
    );
    assert_eq!(twice, 0, "nothing faulted was forwarded");
}

/// Events through the producer's KPL aggregation into streams of 1, 2 and 4 shards, with the
/// default keys and with an application's own: a KCL consumer keeps every sub-record, and
/// every event arrives exactly once.
///
/// moto's Kinesis `put_record` reads the shard's last sequence number, then writes, without a
/// lock: concurrent `PutRecords` calls can store two records under one sequence number, the
/// second overwriting the first (it lost 2 of 20,000 events on a loaded machine). The producer
/// still sends concurrently, but through a loopback proxy that forwards one request at a time,
/// and the proxy keeps the shard and sequence number of every record moto answered as stored.
/// So a loss is told apart: an answered record missing from the stream, or two records answered
/// with one sequence number, is the server's; every answered record there but an event missing
/// is the producer's.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kinesis_kpl_records_pass_the_kcl_shard_check_on_1_2_and_4_shards() {
    let Some(endpoint) = endpoint() else { return };
    for (shards, own_keys) in [(1, false), (2, false), (4, false), (4, true)] {
        let (kinesis, stream) = common::moto::kinesis_stream(&endpoint, shards).await;
        let proxy = serialising_proxy(&endpoint).await;
        let through_proxy =
            aws_sdk_kinesis::Client::from_conf(client!(aws_sdk_kinesis, &proxy.endpoint).build());
        let mut builder = ProducerBuilder::kinesis(through_proxy, &stream);
        if own_keys {
            // An application's key: the user, so that one user's events stay in order.
            builder = builder.partition_key(|event: &[u8]| {
                let event: Value = serde_json::from_slice(event).unwrap();
                event["user"]["name"].as_str().unwrap().to_owned()
            });
        }
        send_all(builder.build().unwrap()).await;
        let read = kcl_read(&kinesis, &stream).await;
        let answered = proxy.answered();
        let distinct: BTreeSet<_> = answered.iter().cloned().collect();
        assert_eq!(
            distinct.len(),
            answered.len(),
            "the server answered two records with one sequence number (its loss, not ours)"
        );
        let missing: Vec<_> = distinct.difference(&read.stored).take(5).collect();
        assert!(
            missing.is_empty(),
            "answered as stored but not in the stream (the server's loss): {missing:?}"
        );
        assert_eq!(
            read.dropped, 0,
            "{shards} shards, own keys {own_keys}: sub-records KCL drops"
        );
        assert!(read.aggregated > 0, "{shards} shards: aggregated");
        let mut counts = BTreeMap::new();
        for data in &read.kept {
            count_lines(data, &mut counts);
        }
        // Every record the producer was answered for is in the stream: a missing event is ours.
        assert_exactly_once(&counts);
        println!(
            "{shards} shards (own keys: {own_keys}): {} events kept, 0 dropped, in {} aggregated records; {} records answered, all read back",
            read.kept.len(),
            read.aggregated,
            answered.len()
        );
    }
}

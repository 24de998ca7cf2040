//! Integration against a real local service: a moto server (Firehose Direct PUT → S3, Kinesis)
//! at `MOTO_ENDPOINT` (scripts/test starts one). 20,000 events go through each; every one must
//! arrive exactly once, and aggregated records must split back into the original events.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::BTreeMap;

use ocsf_firehose_producer::internals::kpl::decode;
use ocsf_firehose_producer::ProducerBuilder;
use serde_json::{json, Value};

use common::moto::{client, endpoint, s3_client};

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
    let suffix = uuid::Uuid::new_v4().simple().to_string();
    let (bucket, stream) = (format!("lake-{suffix}"), format!("ocsf-{suffix}"));
    let s3 = s3_client(&endpoint);
    let firehose =
        aws_sdk_firehose::Client::from_conf(client!(aws_sdk_firehose, &endpoint).build());
    s3.create_bucket().bucket(&bucket).send().await.unwrap();
    let destination = aws_sdk_firehose::types::ExtendedS3DestinationConfiguration::builder()
        .bucket_arn(format!("arn:aws:s3:::{bucket}"))
        .role_arn("arn:aws:iam::123456789012:role/firehose")
        .build()
        .unwrap();
    firehose
        .create_delivery_stream()
        .delivery_stream_name(&stream)
        .delivery_stream_type(aws_sdk_firehose::types::DeliveryStreamType::DirectPut)
        .extended_s3_destination_configuration(destination)
        .send()
        .await
        .unwrap();

    let producer = ProducerBuilder::firehose(firehose, &stream)
        .build()
        .unwrap();
    send_all(producer).await;

    let mut counts = BTreeMap::new();
    let mut objects = 0;
    let mut pages = s3.list_objects_v2().bucket(&bucket).into_paginator().send();
    while let Some(page) = pages.next().await {
        for object in page.unwrap().contents() {
            let body = s3
                .get_object()
                .bucket(&bucket)
                .key(object.key().unwrap())
                .send()
                .await
                .unwrap()
                .body;
            count_lines(&body.collect().await.unwrap().into_bytes(), &mut counts);
            objects += 1;
        }
    }
    assert_exactly_once(&counts);
    assert!(
        objects < EVENTS / 10,
        "{objects} objects: events were aggregated"
    );
}

/// The hash key KCL computes for a partition key: the MD5 digest as a 128-bit big-endian
/// integer (`AggregatorUtil`, and Kinesis for the record itself).
fn hash_key(partition_key: &str) -> u128 {
    use md5::{Digest, Md5};
    u128::from_be_bytes(Md5::digest(partition_key.as_bytes()).into())
}

/// What a KCL 2.x consumer of the stream keeps: reads every shard and de-aggregates each
/// record as `AggregatorUtil` does, dropping a sub-record whose hash key is outside the shard
/// that holds it. Returns the kept sub-records' data, the number dropped, and the number of
/// aggregated records.
async fn kcl_read(kinesis: &aws_sdk_kinesis::Client, stream: &str) -> (Vec<Vec<u8>>, usize, usize) {
    let (mut kept, mut dropped, mut aggregated) = (Vec::new(), 0, 0);
    let shards = kinesis
        .list_shards()
        .stream_name(stream)
        .send()
        .await
        .unwrap();
    for shard in shards.shards() {
        let range = shard.hash_key_range().unwrap();
        let start: u128 = range.starting_hash_key().parse().unwrap();
        let end: u128 = range.ending_hash_key().parse().unwrap();
        let mut iterator = kinesis
            .get_shard_iterator()
            .stream_name(stream)
            .shard_id(shard.shard_id())
            .shard_iterator_type(aws_sdk_kinesis::types::ShardIteratorType::TrimHorizon)
            .send()
            .await
            .unwrap()
            .shard_iterator()
            .map(str::to_owned);
        while let Some(current) = iterator {
            let page = kinesis
                .get_records()
                .shard_iterator(current)
                .limit(10_000)
                .send()
                .await
                .unwrap();
            if page.records().is_empty() {
                break;
            }
            for record in page.records() {
                assert!(
                    (start..=end).contains(&hash_key(record.partition_key().unwrap_or_default())),
                    "the record's own shard"
                );
                match decode(record.data().as_ref()).unwrap() {
                    Some(subs) => {
                        aggregated += 1;
                        for (key, data) in subs {
                            if (start..=end).contains(&hash_key(&key)) {
                                kept.push(data);
                            } else {
                                dropped += 1;
                            }
                        }
                    }
                    None => kept.push(record.data().as_ref().to_vec()),
                }
            }
            iterator = page.next_shard_iterator().map(str::to_owned);
        }
    }
    (kept, dropped, aggregated)
}

/// Events through the producer's KPL aggregation into streams of 1, 2 and 4 shards, with the
/// default keys and with an application's own: a KCL consumer keeps every sub-record, and
/// every event arrives exactly once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kinesis_kpl_records_pass_the_kcl_shard_check_on_1_2_and_4_shards() {
    let Some(endpoint) = endpoint() else { return };
    let kinesis = aws_sdk_kinesis::Client::from_conf(client!(aws_sdk_kinesis, &endpoint).build());
    for (shards, own_keys) in [(1, false), (2, false), (4, false), (4, true)] {
        let stream = format!("ocsf-{}", uuid::Uuid::new_v4().simple());
        kinesis
            .create_stream()
            .stream_name(&stream)
            .shard_count(shards)
            .send()
            .await
            .unwrap();
        let mut builder = ProducerBuilder::kinesis(kinesis.clone(), &stream);
        if own_keys {
            // An application's key: the user, so that one user's events stay in order.
            builder = builder.partition_key(|event: &[u8]| {
                let event: Value = serde_json::from_slice(event).unwrap();
                event["user"]["name"].as_str().unwrap().to_owned()
            });
        }
        send_all(builder.build().unwrap()).await;
        let (kept, dropped, aggregated) = kcl_read(&kinesis, &stream).await;
        assert_eq!(
            dropped, 0,
            "{shards} shards, own keys {own_keys}: sub-records KCL drops"
        );
        assert!(aggregated > 0, "{shards} shards: aggregated");
        let mut counts = BTreeMap::new();
        for data in &kept {
            count_lines(data, &mut counts);
        }
        assert_exactly_once(&counts);
        println!("{shards} shards (own keys: {own_keys}): {} events kept, 0 dropped, in {aggregated} aggregated records", kept.len());
    }
}

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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kinesis_delivers_each_event_once_in_kpl_records() {
    let Some(endpoint) = endpoint() else { return };
    let stream = format!("ocsf-{}", uuid::Uuid::new_v4().simple());
    let kinesis = aws_sdk_kinesis::Client::from_conf(client!(aws_sdk_kinesis, &endpoint).build());
    kinesis
        .create_stream()
        .stream_name(&stream)
        .shard_count(2)
        .send()
        .await
        .unwrap();

    let producer = ProducerBuilder::kinesis(kinesis.clone(), &stream)
        .build()
        .unwrap();
    send_all(producer).await;

    let mut counts = BTreeMap::new();
    let mut aggregated = 0;
    let shards = kinesis
        .list_shards()
        .stream_name(&stream)
        .send()
        .await
        .unwrap();
    for shard in shards.shards() {
        let mut iterator = kinesis
            .get_shard_iterator()
            .stream_name(&stream)
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
                match decode(record.data().as_ref()).unwrap() {
                    Some(subs) => {
                        aggregated += 1;
                        for (_, data) in subs {
                            count_lines(&data, &mut counts);
                        }
                    }
                    None => count_lines(record.data().as_ref(), &mut counts),
                }
            }
            iterator = page.next_shard_iterator().map(str::to_owned);
        }
    }
    assert_exactly_once(&counts);
    assert!(aggregated > 0);
}

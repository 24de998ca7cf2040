//! The moto server of the integration tests (`MOTO_ENDPOINT`, started by scripts/test) and SDK
//! clients pointed at it, and a KCL consumer's read of a Kinesis stream.

use std::collections::BTreeSet;

use ocsf_firehose_producer::internals::kpl::decode;

/// The moto endpoint, or `None` (the test then skips, except in CI, where it must not).
pub fn endpoint() -> Option<String> {
    let endpoint = std::env::var("MOTO_ENDPOINT")
        .ok()
        .filter(|e| !e.is_empty());
    if endpoint.is_none() {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must run a moto server and set MOTO_ENDPOINT"
        );
        eprintln!("skipping: MOTO_ENDPOINT is not set (scripts/test starts moto)");
    }
    endpoint
}

/// The config builder of SDK crate `$sdk` for `$endpoint` (us-east-1, static credentials).
macro_rules! client {
    ($sdk:ident, $endpoint:expr) => {{
        $sdk::Config::builder()
            .behavior_version($sdk::config::BehaviorVersion::latest())
            .endpoint_url($endpoint)
            .region($sdk::config::Region::new("us-east-1"))
            .credentials_provider($sdk::config::Credentials::new(
                "testing", "testing", None, None, "moto",
            ))
    }};
}
#[allow(unused_imports)]
pub(crate) use client;

/// An S3 client for `endpoint` (path-style addressing, as moto needs).
pub fn s3_client(endpoint: &str) -> aws_sdk_s3::Client {
    aws_sdk_s3::Client::from_conf(client!(aws_sdk_s3, endpoint).force_path_style(true).build())
}

/// A Kinesis client for `endpoint` and a new stream of `shards` shards in it.
pub async fn kinesis_stream(endpoint: &str, shards: i32) -> (aws_sdk_kinesis::Client, String) {
    let kinesis = aws_sdk_kinesis::Client::from_conf(client!(aws_sdk_kinesis, endpoint).build());
    let stream = format!("ocsf-{}", uuid::Uuid::new_v4().simple());
    kinesis
        .create_stream()
        .stream_name(&stream)
        .shard_count(shards)
        .send()
        .await
        .unwrap();
    (kinesis, stream)
}

/// Creates a bucket and a Direct PUT stream into it; returns their names.
pub async fn firehose_to_bucket(
    s3: &aws_sdk_s3::Client,
    firehose: &aws_sdk_firehose::Client,
) -> (String, String) {
    let suffix = uuid::Uuid::new_v4().simple().to_string();
    let (bucket, stream) = (format!("lake-{suffix}"), format!("ocsf-{suffix}"));
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
    (bucket, stream)
}

/// The bodies of every object in `bucket`.
pub async fn bucket_objects(s3: &aws_sdk_s3::Client, bucket: &str) -> Vec<Vec<u8>> {
    let mut bodies = Vec::new();
    let mut pages = s3.list_objects_v2().bucket(bucket).into_paginator().send();
    while let Some(page) = pages.next().await {
        for object in page.unwrap().contents() {
            let body = s3
                .get_object()
                .bucket(bucket)
                .key(object.key().unwrap())
                .send()
                .await
                .unwrap()
                .body;
            bodies.push(body.collect().await.unwrap().into_bytes().to_vec());
        }
    }
    bodies
}

/// The hash key KCL computes for a partition key: the MD5 digest as a 128-bit big-endian
/// integer (`AggregatorUtil`, and Kinesis for the record itself).
pub fn hash_key(partition_key: &str) -> u128 {
    use md5::{Digest, Md5};
    u128::from_be_bytes(Md5::digest(partition_key.as_bytes()).into())
}

/// What a KCL 2.x consumer of the stream keeps.
pub struct KclRead {
    /// The kept sub-records' data.
    pub kept: Vec<Vec<u8>>,
    /// Sub-records dropped (hashed outside their shard).
    pub dropped: usize,
    /// Aggregated records.
    pub aggregated: usize,
    /// `(shard id, sequence number)` of every record read.
    pub stored: BTreeSet<(String, String)>,
}

/// Reads every shard and de-aggregates each record as `AggregatorUtil` does, dropping a
/// sub-record whose hash key is outside the shard that holds it.
pub async fn kcl_read(kinesis: &aws_sdk_kinesis::Client, stream: &str) -> KclRead {
    let (mut kept, mut dropped, mut aggregated) = (Vec::new(), 0, 0);
    let mut stored = BTreeSet::new();
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
                stored.insert((
                    shard.shard_id().to_owned(),
                    record.sequence_number().to_owned(),
                ));
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
    KclRead {
        kept,
        dropped,
        aggregated,
        stored,
    }
}

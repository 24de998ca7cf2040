//! The contract is defined once (the `ocsf-firehose-contract` crate, re-exported as `contract`) and the infrastructure shares it through
//! `infra/defaults.json`: every key of that file is either compared with the Rust definition or
//! named here as infrastructure-only, so that a new key cannot slip by unchecked. The local
//! pipeline's Parquet is read back to show it is written with those settings.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use ocsf_firehose_transform::contract::framing::SUB_RECORD_TYPE;
use ocsf_firehose_transform::contract::limits::{
    DEFAULT_BUFFER_BYTES, DEFAULT_BUFFER_INTERVAL, DEFAULT_PROCESSOR_BUFFER_BYTES,
    DEFAULT_PROCESSOR_BUFFER_INTERVAL, MAX_SOURCE_NAME_LEN, MIN_BUFFER_BYTES_WITH_CONVERSION,
    S3_COMPRESSION_WITH_CONVERSION,
};
use ocsf_firehose_transform::contract::parquet::FIREHOSE_PARQUET;
use ocsf_firehose_transform::contract::prefix::{
    ERROR_PREFIX_TEMPLATE, PARTITION_TEMPLATE, SOURCE_LOCATION_TEMPLATE,
};
use ocsf_firehose_transform::firehose::config::DEFAULT_METRICS_NAMESPACE;
use ocsf_firehose_transform::local::{LocalConfig, LocalFirehose};
use ocsf_firehose_transform::OcsfVersion;
use parquet::file::reader::{FileReader, SerializedFileReader};
use serde_json::{json, Map, Value};

const MIB: usize = 1024 * 1024;

/// Keys only the infrastructure uses, and why no Rust code needs them.
const INFRA_ONLY: [(&str, &str); 8] = [
    ("_comment", "documentation"),
    (
        "dashboard",
        "the CloudWatch dashboard's widgets; their metric names are checked below",
    ),
    (
        "processorRetries",
        "Firehose retries failed Lambda invocations; the local pipeline never fails one",
    ),
    (
        "dynamicPartitioningRetrySeconds",
        "Firehose's retry window for S3 delivery",
    ),
    ("logRetentionDays", "CloudWatch log groups"),
    (
        "kinesisShardCount",
        "the Kinesis stream the infrastructure creates",
    ),
    (
        "kinesisRetentionHours",
        "the Kinesis stream the infrastructure creates",
    ),
    (
        "lambda",
        "the function's runtime, memory, timeout and concurrency",
    ),
];

fn defaults() -> Map<String, Value> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../infra/defaults.json");
    match serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap() {
        Value::Object(map) => map,
        other => panic!("defaults.json is not an object: {other}"),
    }
}

/// Every shared key with the value the Rust contract defines for it.
fn rust_contract() -> Vec<(&'static str, Value)> {
    vec![
        ("sourceLocationTemplate", json!(SOURCE_LOCATION_TEMPLATE)),
        ("partitionTemplate", json!(PARTITION_TEMPLATE)),
        ("errorPrefixTemplate", json!(ERROR_PREFIX_TEMPLATE)),
        ("bufferingSizeMiB", json!(DEFAULT_BUFFER_BYTES / MIB)),
        (
            "minBufferingSizeMiB",
            json!(MIN_BUFFER_BYTES_WITH_CONVERSION / MIB),
        ),
        (
            "bufferingIntervalSeconds",
            json!(DEFAULT_BUFFER_INTERVAL.as_secs()),
        ),
        (
            "processorBufferSizeMiB",
            json!(DEFAULT_PROCESSOR_BUFFER_BYTES / MIB),
        ),
        (
            "processorBufferIntervalSeconds",
            json!(DEFAULT_PROCESSOR_BUFFER_INTERVAL.as_secs()),
        ),
        ("s3CompressionFormat", json!(S3_COMPRESSION_WITH_CONVERSION)),
        (
            "parquetCompression",
            json!(FIREHOSE_PARQUET.compression.as_str()),
        ),
        (
            "parquetBlockSizeBytes",
            json!(FIREHOSE_PARQUET.block_size_bytes),
        ),
        (
            "parquetPageSizeBytes",
            json!(FIREHOSE_PARQUET.page_size_bytes),
        ),
        (
            "parquetWriterVersion",
            json!(FIREHOSE_PARQUET.writer_version.as_str()),
        ),
        (
            "parquetEnableDictionaryCompression",
            json!(FIREHOSE_PARQUET.dictionary),
        ),
        ("deAggregationSubRecordType", json!(SUB_RECORD_TYPE)),
        ("maxSourceNameLength", json!(MAX_SOURCE_NAME_LEN)),
        ("ocsfVersion", json!(OcsfVersion::default().as_str())),
        ("metricsNamespace", json!(DEFAULT_METRICS_NAMESPACE)),
    ]
}

#[test]
fn every_key_of_the_infrastructure_defaults_is_the_rust_contract_or_infra_only() {
    let defaults = defaults();
    let contract = rust_contract();
    let checked: BTreeSet<&str> = contract
        .iter()
        .map(|(k, _)| *k)
        .chain(INFRA_ONLY.iter().map(|(k, _)| *k))
        .collect();
    let unchecked: Vec<&String> = defaults
        .keys()
        .filter(|k| !checked.contains(k.as_str()))
        .collect();
    assert!(
        unchecked.is_empty(),
        "keys neither compared nor declared infrastructure-only: {unchecked:?}"
    );
    for (key, value) in &contract {
        assert_eq!(
            defaults.get(*key),
            Some(value),
            "infra/defaults.json `{key}`"
        );
    }
    for (key, _) in INFRA_ONLY {
        assert!(
            defaults.contains_key(key),
            "stale infrastructure-only key `{key}`"
        );
    }
}

#[test]
fn the_local_pipeline_runs_with_the_infrastructure_defaults() {
    let config = LocalConfig::new("unused");
    assert_eq!(
        config.processor_buffer_bytes,
        DEFAULT_PROCESSOR_BUFFER_BYTES
    );
    assert_eq!(
        config.processor_buffer_interval,
        DEFAULT_PROCESSOR_BUFFER_INTERVAL
    );
    assert_eq!(config.buffer_bytes, DEFAULT_BUFFER_BYTES);
    assert_eq!(config.buffer_interval, DEFAULT_BUFFER_INTERVAL);
    assert!(config.deaggregate, "the infrastructure de-aggregates");
    assert_eq!(config.transform.engine.version, OcsfVersion::default());
}

fn parquet_files(root: &Path) -> Vec<PathBuf> {
    walkdir::WalkDir::new(root)
        .into_iter()
        .filter_map(Result::ok)
        .map(walkdir::DirEntry::into_path)
        .filter(|p| p.extension().is_some_and(|e| e == "parquet"))
        .collect()
}

#[test]
fn local_parquet_is_written_with_the_compression_and_format_the_defaults_name() {
    let out = std::env::temp_dir().join(format!("ocsf-contract-{}", std::process::id()));
    let mut local = LocalFirehose::new(LocalConfig::new(&out)).unwrap();
    let event = common::fixture("authentication").to_string();
    local
        .put_record_batch("authentication", [event.as_bytes(), event.as_bytes()])
        .unwrap();
    local.finish().unwrap();
    let files = parquet_files(&out);
    assert_eq!(files.len(), 1);
    let reader = SerializedFileReader::new(std::fs::File::open(&files[0]).unwrap()).unwrap();
    let metadata = reader.metadata();
    let defaults = defaults();
    let expected_version = match defaults["parquetWriterVersion"].as_str() {
        Some("V1") => 1,
        Some("V2") => 2,
        other => panic!("parquetWriterVersion {other:?}"),
    };
    assert_eq!(metadata.file_metadata().version(), expected_version);
    let codecs: BTreeSet<String> = metadata
        .row_groups()
        .iter()
        .flat_map(|group| group.columns().iter().map(|c| c.compression().to_string()))
        .map(|codec| codec.to_ascii_uppercase())
        .collect();
    assert_eq!(
        codecs.into_iter().collect::<Vec<_>>(),
        [defaults["parquetCompression"].as_str().unwrap().to_owned()],
        "every column chunk"
    );
    std::fs::remove_dir_all(out).unwrap();
}

/// The dashboard CDK and Terraform build from `infra/defaults.json` names only metrics the
/// pipeline has: the Lambda's own (what `InvocationReport::emit_metrics` records), Firehose's,
/// and the producer's (what its `telemetry` records); and it shows what an operator looks at
/// first.
#[test]
fn the_dashboard_names_only_metrics_the_lambda_and_firehose_emit() {
    use ocsf_firehose_transform::contract::metrics::{
        FIREHOSE_METRICS, LAMBDA_METRICS, PRODUCER_METRICS,
    };
    let defaults = defaults();
    let widgets = defaults["dashboard"]["widgets"].as_array().unwrap();
    let mut named = BTreeSet::new();
    for widget in widgets {
        let known: &[&str] = match widget["source"].as_str().unwrap() {
            "lambda" => &LAMBDA_METRICS,
            "firehose" => &FIREHOSE_METRICS,
            "producer" => &PRODUCER_METRICS,
            other => panic!("unknown metric source {other}"),
        };
        assert!(widget["stat"].is_string() && widget["title"].is_string());
        for metric in widget["metrics"].as_array().unwrap() {
            let metric = metric.as_str().unwrap();
            assert!(
                known.contains(&metric),
                "{metric} is not a {} metric",
                widget["source"]
            );
            named.insert(metric);
        }
    }
    for expected in [
        "RecordsOk",
        "RecordsFailed",
        "RecordsDropped",
        "Findings",
        "InvocationMilliseconds",
        "DeliveryToS3.Success",
        "DeliveryToS3.DataFreshness",
        "ThrottledRecords",
        "PartitionCount",
        "PartitionCountExceeded",
        "ocsf_producer_events_failed",
        "ocsf_producer_seconds_to_delivery",
    ] {
        assert!(named.contains(expected), "the dashboard shows {expected}");
    }
}

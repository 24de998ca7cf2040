//! Producer → local sink → local pipeline → Parquet, read back with the `parquet` crate: every
//! valid event is present exactly once, normalized, in its partition's directory; every invalid
//! one is in the error prefix with `rawData` equal to what was sent; the Parquet schema is the
//! generated Glue table's.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use arrow::array::{Array, AsArray, RecordBatch};
use arrow::datatypes::{DataType, Int32Type, Int64Type, TimeUnit};
use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use ocsf_firehose_producer::{ProducerBuilder, ProducerConfig};
use ocsf_firehose_transform::local::{demo, LocalConfig, LocalFirehose};
use ocsf_firehose_transform::table::TableModel;
use ocsf_firehose_transform::{Engine, EngineConfig, OcsfVersion, Schema};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use serde_json::Value;

const EVENTS: usize = 4_000;

/// Every file below `root`, sorted (none when `root` does not exist).
fn files(root: &Path) -> Vec<PathBuf> {
    walkdir::WalkDir::new(root)
        .sort_by_file_name()
        .into_iter()
        .filter_map(Result::ok)
        .filter(|entry| entry.file_type().is_file())
        .map(walkdir::DirEntry::into_path)
        .collect()
}

fn read_parquet(path: &Path) -> Vec<RecordBatch> {
    let file = std::fs::File::open(path).unwrap();
    ParquetRecordBatchReaderBuilder::try_new(file)
        .unwrap()
        .build()
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

/// The Hive type of an Arrow type, to compare with the generated Glue columns.
fn hive(data_type: &DataType) -> String {
    match data_type {
        DataType::Boolean => "boolean".into(),
        DataType::Int32 => "int".into(),
        DataType::Int64 => "bigint".into(),
        DataType::Float32 => "float".into(),
        DataType::Timestamp(TimeUnit::Millisecond, Some(zone)) if zone.as_ref() == "UTC" => {
            "timestamp".into()
        }
        // Hive's INT96, as Firehose writes `timestamp` columns (the reader's nanoseconds).
        DataType::Timestamp(TimeUnit::Nanosecond, None) => "timestamp".into(),
        DataType::Utf8 => "string".into(),
        DataType::Map(entries, _) => match entries.data_type() {
            DataType::Struct(kv) if kv.len() == 2 => format!(
                "map<{},{}>",
                hive(kv[0].data_type()),
                hive(kv[1].data_type())
            ),
            other => panic!("unexpected map entries {other}"),
        },
        DataType::List(element) => format!("array<{}>", hive(element.data_type())),
        DataType::Struct(fields) => format!(
            "struct<{}>",
            fields
                .iter()
                .map(|f| format!("{}:{}", f.name(), hive(f.data_type())))
                .collect::<Vec<_>>()
                .join(",")
        ),
        other => panic!("unexpected Arrow type {other}"),
    }
}

/// A string field of a struct column, row `i`.
fn struct_string(batch: &RecordBatch, column: &str, field: &str, i: usize) -> Option<String> {
    let column = batch.column_by_name(column)?.as_struct_opt()?;
    let values = column.column_by_name(field)?.as_string_opt::<i32>()?;
    (!values.is_null(i)).then(|| values.value(i).to_owned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn producer_to_parquet_every_event_exactly_once_and_every_failure_kept() {
    let out = std::env::temp_dir().join(format!("ocsf-e2e-{}", uuid::Uuid::new_v4()));
    let pipeline = Arc::new(Mutex::new(
        LocalFirehose::new(LocalConfig::new(&out)).unwrap(),
    ));
    let engine = Engine::new(EngineConfig::default()).unwrap();
    let schema = Schema::get(OcsfVersion::V1_1_0).unwrap();

    // One producer per class, each sending to its class's stream, aggregation on.
    let mut producers = BTreeMap::new();
    for class in demo::CLASSES {
        let stream = pipeline.lock().unwrap().source_for(class);
        let producer = ProducerBuilder::local(pipeline.clone(), stream)
            .config(ProducerConfig::default())
            .build()
            .unwrap();
        producers.insert(class, producer);
    }
    let mut expected: BTreeMap<String, String> = BTreeMap::new(); // uid -> partition dir
    let mut normalized: BTreeMap<String, Value> = BTreeMap::new();
    let mut invalid_sent: BTreeSet<Vec<u8>> = BTreeSet::new();
    let mut rejected_at_send = 0;
    for event in demo::events(EVENTS, 42) {
        let producer = &producers[&event.class_uid];
        match producer.send_json(&event.bytes).await {
            Ok(_) => {}
            Err(error) => {
                assert!(!event.valid, "a valid event was refused: {error}");
                assert_eq!(
                    error.code(),
                    "json_invalid",
                    "a cut event: the Lambda's code"
                );
                rejected_at_send += 1;
                continue;
            }
        }
        if !event.valid {
            invalid_sent.insert(event.bytes.clone());
            continue;
        }
        let value: Value = serde_json::from_slice(&event.bytes).unwrap();
        let processed = engine.judge(value, Some("us-east-1"));
        assert!(processed.is_accepted());
        let keys = processed.partition.unwrap();
        let source = pipeline.lock().unwrap().source_for(event.class_uid);
        let uid = processed.event["metadata"]["uid"]
            .as_str()
            .unwrap()
            .to_owned();
        expected.insert(
            uid.clone(),
            format!(
                "ext/{source}/region={}/accountId={}/eventDay={}",
                keys.region, keys.account_id, keys.event_day
            ),
        );
        normalized.insert(uid, processed.event);
    }
    for (_, producer) in producers {
        let report = producer.shutdown().await;
        assert_eq!(report.failed_count, 0);
    }
    let pipeline = Arc::try_unwrap(pipeline).unwrap().into_inner().unwrap();
    let summary = pipeline.finish().unwrap();
    assert_eq!(
        summary.records,
        summary.ok + summary.failed + summary.dropped
    );
    assert_eq!(
        summary.records as usize,
        EVENTS - rejected_at_send,
        "de-aggregated: one record per event"
    );
    assert_eq!(summary.failed as usize, invalid_sent.len());
    assert!(rejected_at_send > 0 && !invalid_sent.is_empty());

    // Every valid event exactly once, in its partition, with its normalized fields.
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    let all = files(&out);
    for path in all
        .iter()
        .filter(|p| p.extension().is_some_and(|e| e == "parquet"))
    {
        let relative = path.strip_prefix(&out).unwrap();
        let directory = relative.parent().unwrap().to_string_lossy().into_owned();
        let batches = read_parquet(path);
        let class_uid = batches[0]
            .column_by_name("class_uid")
            .unwrap()
            .as_primitive::<Int32Type>()
            .value(0);
        let table = TableModel::new(schema, i64::from(class_uid), &Default::default()).unwrap();
        let glue = table.glue_schema();
        let arrow_schema = batches[0].schema();
        let columns: Vec<(String, String)> = arrow_schema
            .fields()
            .iter()
            .map(|f| (f.name().clone(), hive(f.data_type())))
            .collect();
        let glue_columns: Vec<(String, String)> = glue
            .columns
            .iter()
            .map(|c| (c.name.clone(), c.ty.clone()))
            .collect();
        assert_eq!(
            columns, glue_columns,
            "Parquet schema = generated Glue columns"
        );
        let mut previous_time = i64::MIN;
        for batch in &batches {
            let time = batch
                .column_by_name("time")
                .unwrap()
                .as_primitive::<Int64Type>();
            let type_uid = batch
                .column_by_name("type_uid")
                .unwrap()
                .as_primitive::<Int64Type>();
            let class_names = batch
                .column_by_name("class_name")
                .unwrap()
                .as_string::<i32>();
            for i in 0..batch.num_rows() {
                assert!(time.value(i) >= previous_time, "rows sorted by time");
                previous_time = time.value(i);
                let uid = struct_string(batch, "metadata", "uid", i).unwrap();
                *seen.entry(uid.clone()).or_default() += 1;
                assert_eq!(
                    expected.get(&uid),
                    Some(&directory),
                    "{uid} in its partition"
                );
                let event = &normalized[&uid];
                assert_eq!(time.value(i), event["time"].as_i64().unwrap());
                assert_eq!(
                    type_uid.value(i),
                    event["type_uid"].as_i64().unwrap(),
                    "normalized: type_uid derived"
                );
                assert_eq!(
                    class_names.value(i),
                    event["class_name"].as_str().unwrap(),
                    "normalized: caption filled"
                );
                let product = struct_string(batch, "metadata", "version", i);
                assert_eq!(product.as_deref(), Some("1.1.0"));
            }
        }
    }
    assert_eq!(seen.len(), expected.len(), "every valid event arrived");
    assert!(seen.values().all(|n| *n == 1), "none twice");

    // Every invalid event in the error prefix, with rawData equal to what was sent.
    let mut failed_raw = BTreeSet::new();
    for path in all
        .iter()
        .filter(|p| p.to_string_lossy().contains("/processing-failed/"))
    {
        assert!(path.strip_prefix(&out).unwrap().starts_with("errors"));
        for line in std::fs::read_to_string(path).unwrap().lines() {
            let document: Value = serde_json::from_str(line).unwrap();
            assert_eq!(document["errorCode"], "Lambda.ProcessingFailed");
            assert!(document["arrivalTimestamp"].is_i64());
            failed_raw.insert(
                STANDARD
                    .decode(document["rawData"].as_str().unwrap())
                    .unwrap(),
            );
        }
    }
    let missing = invalid_sent.difference(&failed_raw).count();
    let unexpected = failed_raw.difference(&invalid_sent).count();
    assert_eq!(
        (missing, unexpected),
        (0, 0),
        "error prefix rawData vs invalid events sent ({} sent)",
        invalid_sent.len()
    );
    std::fs::remove_dir_all(out).unwrap();
}

//! The direct path's fixtures (feature `lake`): sources, events of four classes over accounts
//! and days, the engine, and the checks of the objects written.

use std::collections::BTreeMap;

use arrow::array::{Array, AsArray, RecordBatch};
use arrow::datatypes::{Int32Type, Int64Type};
use ocsf_firehose_contract::partition::event_day;
use ocsf_firehose_producer::lake::Sources;
use ocsf_firehose_transform::{Engine, EngineConfig};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use serde_json::{json, Value};

pub const CLASSES: [(i64, &str); 4] = [
    (3002, "authentication"),
    (6003, "api-activity"),
    (4001, "network-activity"),
    (2004, "detection-finding"),
];
pub const ACCOUNTS: [&str; 3] = ["111122223333", "444455556666", "777788889999"];
/// 2026-11-25T00:00:00Z.
pub const START_MS: i64 = 1_795_564_800_000;
pub const DAY_MS: i64 = 86_400_000;

pub fn sources() -> Sources {
    CLASSES.iter().fold(Sources::default(), |s, (uid, name)| {
        s.with(*uid, format!("ext/{name}/"))
    })
}

/// Event `i`: class, account and day from `i`, a unique `metadata.uid`; one in 100 invalid (no
/// `severity_id`).
pub fn event(i: usize, days: usize) -> Value {
    let (class_uid, _) = CLASSES[i % 4];
    let account = ACCOUNTS[(i / 4) % 3];
    let day = (i / 12) % days;
    let time = START_MS + day as i64 * DAY_MS + ((i * 7919) % 86_000_000) as i64;
    let mut event = json!({
        "class_uid": class_uid, "activity_id": 1, "severity_id": 1, "status_id": 1, "time": time,
        "cloud": {"provider": "AWS", "region": "eu-west-1", "account": {"uid": account}},
        "metadata": {"uid": format!("event-{i}"), "version": "1.1.0",
                     "product": {"name": "lake-test", "vendor_name": "ocsf-firehose"}},
        "user": {"name": "alice"}, "service": {"name": "console"},
        "src_endpoint": {"ip": "198.51.100.7"}, "dst_endpoint": {"ip": "10.0.0.1", "port": 443},
        "actor": {"user": {"name": "alice"}}, "api": {"operation": "GetObject"},
        "finding_info": {"uid": format!("finding-{i}"), "title": "test"},
    });
    if i % 100 == 50 {
        event.as_object_mut().unwrap().remove("severity_id");
    }
    event
}

pub fn engine() -> Engine {
    Engine::new(EngineConfig::default()).unwrap()
}

/// Checks every object (key, bytes): the layout, one class per object, rows sorted by `time` and
/// in their partition, zstd; returns the count of each `metadata.uid`.
pub fn check_objects(objects: &[(String, Vec<u8>)]) -> BTreeMap<String, usize> {
    let mut seen = BTreeMap::new();
    for (key, bytes) in objects {
        let parts: Vec<&str> = key.split('/').collect();
        assert_eq!(parts.len(), 6, "{key}");
        assert_eq!(parts[0], "ext");
        let (class_uid, _) = CLASSES
            .iter()
            .find(|(_, name)| *name == parts[1])
            .unwrap_or_else(|| panic!("{key}: unknown source"));
        let region = parts[2].strip_prefix("region=").unwrap();
        let account = parts[3].strip_prefix("accountId=").unwrap();
        let day = parts[4].strip_prefix("eventDay=").unwrap();
        assert_eq!(region, "eu-west-1");
        assert!(ACCOUNTS.contains(&account), "{key}");
        assert!(
            day.len() == 8 && day.bytes().all(|b| b.is_ascii_digit()),
            "{key}"
        );
        // Named by content: the MD5 of folder and rows (`-<n>` on a repeat within a run).
        let name = parts[5]
            .strip_suffix(".zstd.parquet")
            .unwrap_or_else(|| panic!("{key}: object name"));
        let digest = name.split_once('-').map_or(name, |(digest, _)| digest);
        assert!(
            digest.len() == 32 && digest.bytes().all(|b| b.is_ascii_hexdigit()),
            "{key}"
        );
        let reader =
            ParquetRecordBatchReaderBuilder::try_new(bytes::Bytes::from(bytes.clone())).unwrap();
        // zstd for every column with values (`class_uid` always has one); a column without any
        // value in the object has no codec.
        let group = reader.metadata().row_group(0);
        for column in group.columns() {
            let codec = column.compression();
            let path = column.column_path().string();
            assert!(
                matches!(codec, parquet::basic::Compression::ZSTD(_))
                    || (codec == parquet::basic::Compression::UNCOMPRESSED && path != "class_uid"),
                "{path}: {codec:?}"
            );
        }
        let batches: Vec<RecordBatch> = reader.build().unwrap().map(Result::unwrap).collect();
        let mut previous = i64::MIN;
        for batch in &batches {
            let classes = batch
                .column_by_name("class_uid")
                .unwrap()
                .as_primitive::<Int32Type>();
            let times = batch
                .column_by_name("time")
                .unwrap()
                .as_primitive::<Int64Type>();
            let metadata = batch.column_by_name("metadata").unwrap().as_struct();
            let uids = metadata.column_by_name("uid").unwrap().as_string::<i32>();
            for row in 0..batch.num_rows() {
                assert_eq!(
                    i64::from(classes.value(row)),
                    *class_uid,
                    "{key}: one class"
                );
                let time = times.value(row);
                assert!(time >= previous, "{key}: sorted by time");
                previous = time;
                assert_eq!(
                    event_day(time).as_deref(),
                    Some(day),
                    "{key}: its partition"
                );
                assert!(!uids.is_null(row));
                *seen.entry(uids.value(row).to_owned()).or_default() += 1;
            }
        }
    }
    seen
}

pub fn files_below(root: &std::path::Path) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let key = path
                    .strip_prefix(root)
                    .unwrap()
                    .to_string_lossy()
                    .into_owned();
                out.push((key, std::fs::read(&path).unwrap()));
            }
        }
    }
    out
}

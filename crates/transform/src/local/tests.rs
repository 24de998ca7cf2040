use std::path::{Path, PathBuf};

use serde_json::{json, Value};

use super::*;
use crate::test_support::fixture;

fn out_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("ocsf-local-{name}-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

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

#[test]
fn events_land_in_partitions_and_failures_in_the_error_prefix() {
    let out = out_dir("basic");
    let mut local = LocalFirehose::new(LocalConfig::new(&out)).unwrap();
    let auth = fixture("authentication");
    let mut other_day = auth.clone();
    other_day["time"] = json!(1_682_683_200_123_i64 + 86_400_000);
    let mut invalid = auth.clone();
    invalid["severity_id"] = json!("high");
    let aggregated = format!("{auth}\n{other_day}\n");
    local
        .put_record_batch(
            "authentication",
            [
                aggregated.as_bytes(),
                invalid.to_string().as_bytes(),
                b"{not json",
            ],
        )
        .unwrap();
    let summary = local.finish().unwrap();
    assert_eq!(summary.records_in, 3);
    assert_eq!(summary.records, 4, "the aggregated record was split");
    assert_eq!((summary.ok, summary.failed, summary.dropped), (2, 2, 0));
    assert_eq!(
        summary.records,
        summary.ok + summary.failed + summary.dropped
    );
    assert_eq!(summary.failures.get("attribute_wrong_type"), Some(&1));
    assert_eq!(summary.failures.get("json_invalid"), Some(&1));
    assert_eq!(summary.rows_written(), 2);
    assert_eq!(
        summary.rows.keys().cloned().collect::<Vec<_>>(),
        vec![
            "ext/authentication/region=us-east-1/accountId=123456789012/eventDay=20230428",
            "ext/authentication/region=us-east-1/accountId=123456789012/eventDay=20230429",
        ]
    );
    let written = files(&out);
    assert_eq!(written.len(), 3, "{written:?}");
    let parquet: Vec<_> = written
        .iter()
        .filter(|p| p.extension().is_some_and(|e| e == "parquet"))
        .collect();
    assert_eq!(parquet.len(), 2);
    let name = parquet[0]
        .file_name()
        .unwrap()
        .to_string_lossy()
        .into_owned();
    assert!(name.starts_with("ocsf-authentication-1-20"), "{name}");
    let errors = written
        .iter()
        .find(|p| {
            p.to_string_lossy()
                .contains("/errors/authentication/processing-failed/")
        })
        .unwrap();
    let documents: Vec<Value> = std::fs::read_to_string(errors)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(documents.len(), 2);
    let raw: Vec<Vec<u8>> = documents
        .iter()
        .map(|d| {
            base64::Engine::decode(
                &base64::engine::general_purpose::STANDARD,
                d["rawData"].as_str().unwrap(),
            )
            .unwrap()
        })
        .collect();
    assert!(raw.contains(&invalid.to_string().into_bytes()));
    assert!(raw.contains(&b"{not json".to_vec()));
    assert!(documents
        .iter()
        .all(|d| d["errorCode"] == "Lambda.ProcessingFailed"));
    assert!(documents.iter().any(|d| d["errorMessage"]
        .as_str()
        .unwrap()
        .contains("attribute_wrong_type at `severity_id`")));
    std::fs::remove_dir_all(out).unwrap();
}

#[test]
fn routing_by_class_and_unknown_streams() {
    let out = out_dir("routing");
    let mut config = LocalConfig::new(&out);
    config.sources.insert(4001, "flows".to_owned());
    let mut local = LocalFirehose::new(config).unwrap();
    assert_eq!(local.source_for(4001), "flows");
    assert_eq!(local.source_for(6003), "api-activity");
    let flows = fixture("network_activity").to_string();
    let api = fixture("api_activity").to_string();
    let mut no_class = fixture("api_activity");
    no_class["class_uid"] = json!("6003");
    let no_class = no_class.to_string();
    assert_eq!(local.stream_for(no_class.as_bytes()), UNCLASSIFIED_STREAM);
    assert_eq!(local.stream_for(b"{\"class_uid\":7}"), UNCLASSIFIED_STREAM);
    assert_eq!(local.stream_for(b"not json"), UNCLASSIFIED_STREAM);
    // 1.0.0-rc.2's API Activity (3005) is translated to 6003: it goes where 6003 goes.
    let rc2 = br#"{"class_uid":3005,"metadata":{"version":"1.0.0-rc.2"}}"#;
    assert_eq!(local.stream_for(rc2), "api-activity");
    assert_eq!(local.stream_for(br#"{"class_uid":3005}"#), "user-access");
    local
        .put_routed([flows.as_bytes(), api.as_bytes(), no_class.as_bytes()])
        .unwrap();
    let error = local.put_record_batch("nope", [b"{}"]).unwrap_err();
    assert_eq!(error.code(), "unknown_stream");
    let summary = local.finish().unwrap();
    let sources: Vec<&str> = summary
        .rows
        .keys()
        .map(|k| k.split('/').nth(1).unwrap())
        .collect();
    assert_eq!(sources, vec!["api-activity", "flows"]);
    assert_eq!((summary.ok, summary.failed), (2, 1));
    assert_eq!(summary.failures.get("attribute_wrong_type"), Some(&1));
    let unclassified = files(&out.join("errors").join(UNCLASSIFIED_STREAM));
    assert_eq!(unclassified.len(), 1, "the record is kept, not lost");
    std::fs::remove_dir_all(out).unwrap();
}

#[test]
fn the_processor_interval_invokes_the_lambda_without_a_full_buffer() {
    let out = out_dir("interval");
    let mut config = LocalConfig::new(&out);
    config.processor_buffer_interval = Duration::ZERO;
    config.buffer_interval = Duration::ZERO;
    let mut local = LocalFirehose::new(config).unwrap();
    let event = fixture("authentication").to_string();
    local
        .put_record_batch("authentication", [event.as_bytes()])
        .unwrap();
    assert_eq!(
        files(&out).len(),
        1,
        "invoked and delivered before finish: the intervals have passed"
    );
    let summary = local.finish().unwrap();
    assert_eq!((summary.invocations, summary.files), (1, 1));
    std::fs::remove_dir_all(out).unwrap();
}

#[test]
fn bad_settings_are_refused() {
    // Refused before anything is written: no directory is created.
    let mut config = LocalConfig::new(std::env::temp_dir().join("ocsf-local-never-written"));
    config.processor_buffer_bytes = 4 * 1024 * 1024;
    assert_eq!(
        LocalFirehose::new(config.clone()).err().map(|e| e.code()),
        Some("setting_invalid")
    );
    config.processor_buffer_bytes = crate::contract::limits::DEFAULT_PROCESSOR_BUFFER_BYTES;
    config
        .sources
        .insert(3002, "a-name-far-too-long-for-security-lake".to_owned());
    assert_eq!(
        LocalFirehose::new(config).err().map(|e| e.code()),
        Some("setting_invalid")
    );
}

#[test]
fn demo_events_are_valid_except_the_deliberate_one_percent() {
    let engine = crate::Engine::new(crate::EngineConfig::default()).unwrap();
    let events: Vec<_> = demo::events(1_000, 7).collect();
    assert_eq!(events.iter().filter(|e| !e.valid).count(), 10);
    for event in &events {
        let verdict = serde_json::from_slice::<Value>(&event.bytes)
            .map(|v| engine.judge(v, Some("us-east-1")).is_accepted())
            .unwrap_or(false);
        assert_eq!(
            verdict,
            event.valid,
            "{}",
            String::from_utf8_lossy(&event.bytes)
        );
    }
    assert_eq!(
        demo::events(3, 7).collect::<Vec<_>>(),
        events[..3].to_vec(),
        "deterministic"
    );
}

#[test]
fn the_class_of_the_first_event_routes_the_record() {
    assert_eq!(
        class_and_version_of(b"{\"class_uid\":3002}\n{\"class_uid\":1}"),
        Some((3002, None))
    );
    assert_eq!(
        class_and_version_of(br#"{"metadata":{"version":"1.0.0-rc.2"},"class_uid":3005}"#),
        Some((3005, Some("1.0.0-rc.2".to_owned())))
    );
    assert_eq!(class_and_version_of(b"not json"), None);
    assert_eq!(class_and_version_of(b"{\"class_uid\":\"x\"}"), None);
}

#[test]
fn source_names_are_class_names_without_the_extension_prefix() {
    let schema = Schema::get(crate::version::OcsfVersion::V1_3_0).unwrap();
    assert_eq!(default_source_name(schema, 3002), "authentication");
    assert_eq!(default_source_name(schema, 205_004), "registry-key-query");
    assert_eq!(default_source_name(schema, 201_004), "win-service-activity");
    assert_eq!(default_source_name(schema, 4_242), "class-4242");
}

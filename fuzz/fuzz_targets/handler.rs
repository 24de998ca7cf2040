//! Fuzzes the Firehose handler over raw record bytes: the input is split on 0xFF into records,
//! each sent base64-encoded; a record that starts with 0xFE is sent as raw (usually not base64)
//! text instead. Invariants: no panic, every recordId answered exactly once and in order, only
//! the three results, `Ok` records end with a newline and carry the three partition keys.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use ocsf_firehose_transform::firehose::{FirehoseEvent, TransformConfig, Transformer};
use serde_json::Value;

/// The handler with the default configuration, built once (as the Lambda builds it at cold start).
fn transformer() -> Option<&'static Transformer> {
    static TRANSFORMER: OnceLock<Option<Transformer>> = OnceLock::new();
    TRANSFORMER
        .get_or_init(|| Transformer::new(TransformConfig::default()).ok())
        .as_ref()
}

fuzz_target!(|input: &[u8]| {
    let Some(transformer) = transformer() else {
        return;
    };
    let parts: Vec<&[u8]> = input.split(|b| *b == 0xFF).take(64).collect();
    let mut event = FirehoseEvent::from_payloads(&parts, "us-east-1", 0);
    for (record, part) in event.records.iter_mut().zip(&parts) {
        if let Some(raw) = part.strip_prefix(&[0xFE]) {
            record.data = String::from_utf8_lossy(raw).into_owned();
        }
    }
    let Ok((response, report)) = transformer.handle(&event) else {
        return;
    };
    let response: Value = serde_json::to_value(&response).unwrap_or_default();
    let records = response["records"].as_array().cloned().unwrap_or_default();
    assert_eq!(records.len(), event.records.len());
    for (answer, record) in records.iter().zip(&event.records) {
        assert_eq!(answer["recordId"].as_str(), Some(record.record_id.as_str()));
        let result = answer["result"].as_str().unwrap_or_default();
        assert!(["Ok", "Dropped", "ProcessingFailed"].contains(&result));
        if result == "Ok" {
            assert_eq!(answer["metadata"]["partitionKeys"].as_object().map(|m| m.len()), Some(3));
        }
    }
    assert_eq!(report.ok + report.dropped + report.failed, event.records.len());
});

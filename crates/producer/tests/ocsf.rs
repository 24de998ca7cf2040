//! Client-side OCSF checks (feature `ocsf`): events the Lambda's verdict rejects fail at `send`
//! with the error findings and are never sent (valid OCSF that cannot be partitioned included);
//! accepted ones are sent normalized.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::sync::{Arc, Mutex};

use ocsf_firehose_producer::{ProducerBuilder, ProducerConfig, SendError};
use ocsf_firehose_transform::{Code, Engine, EngineConfig};
use serde_json::{json, Value};

#[tokio::test(start_paused = true)]
async fn invalid_events_fail_at_send_and_valid_ones_are_normalized() {
    let sent: Arc<Mutex<Vec<Vec<u8>>>> = Arc::default();
    let seen = sent.clone();
    let client = common::accepting_firehose(move |data| seen.lock().unwrap().push(data.to_vec()));
    let producer = ProducerBuilder::firehose(client, "s")
        .config(ProducerConfig {
            aggregate: false,
            ..ProducerConfig::default()
        })
        .ocsf(Engine::new(EngineConfig::default()).unwrap())
        .build()
        .unwrap();
    let valid = json!({
        "class_uid": 3002, "activity_name": "Logon", "severity_id": 1, "time": "2023-04-28T12:00:00Z",
        "metadata": {"product": {"name": "app", "vendor_name": "me"}},
        "user": {"name": "alice"}, "service": {"name": "console"},
    });
    let mut invalid = valid.clone();
    invalid.as_object_mut().unwrap().remove("user");
    match producer.send(&invalid).await {
        Err(SendError::Invalid(findings)) => {
            assert_eq!(
                (findings[0].code, findings[0].path.as_str()),
                (Code::AttributeRequiredMissing, "user")
            );
        }
        other => panic!("{other:?}"),
    }
    let mut old = valid.clone();
    old["time"] = json!(631_152_000_000_i64); // 1990: valid OCSF, but no eventDay partition
    match producer.send(&old).await {
        Err(SendError::Invalid(findings)) => {
            let codes: Vec<Code> = findings.iter().map(|f| f.code).collect();
            assert_eq!(codes, [Code::PartitionTimeInvalid]);
        }
        other => panic!("{other:?}"),
    }
    producer
        .send(&valid)
        .await
        .unwrap()
        .outcome()
        .await
        .unwrap();
    producer.shutdown().await;
    let sent = sent.lock().unwrap();
    assert_eq!(sent.len(), 1, "the invalid event was never sent");
    let event: Value = serde_json::from_slice(sent[0].strip_suffix(b"\n").unwrap()).unwrap();
    assert_eq!(event["type_uid"], json!(300201));
    assert_eq!(event["time"], json!(1_682_683_200_000_i64));
    assert!(event["metadata"]["uid"].is_string());
}

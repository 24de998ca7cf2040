//! Client-side OCSF checks (feature `ocsf`): invalid events fail at `send` with the findings
//! and are never sent; valid ones are normalized before sending.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::{Arc, Mutex};

use aws_sdk_firehose::operation::put_record_batch::{PutRecordBatchError, PutRecordBatchOutput};
use aws_sdk_firehose::types::PutRecordBatchResponseEntry;
use aws_smithy_mocks::{mock, mock_client, MockResponse, RuleMode};
use ocsf_firehose_producer::{ProducerBuilder, ProducerConfig, SendError};
use ocsf_firehose_transform::{Code, Engine, EngineConfig};
use serde_json::{json, Value};

#[tokio::test(start_paused = true)]
async fn invalid_events_fail_at_send_and_valid_ones_are_normalized() {
    let sent: Arc<Mutex<Vec<Vec<u8>>>> = Arc::default();
    let seen = sent.clone();
    let rule =
        mock!(aws_sdk_firehose::Client::put_record_batch).then_compute_response(move |input| {
            let entries: Vec<_> = input
                .records()
                .iter()
                .map(|r| {
                    seen.lock().unwrap().push(r.data().as_ref().to_vec());
                    PutRecordBatchResponseEntry::builder()
                        .record_id("ok")
                        .build()
                })
                .collect();
            MockResponse::<PutRecordBatchOutput, PutRecordBatchError>::Output(
                PutRecordBatchOutput::builder()
                    .failed_put_count(0)
                    .set_request_responses(Some(entries))
                    .build()
                    .unwrap(),
            )
        });
    let client = mock_client!(aws_sdk_firehose, RuleMode::MatchAny, [&rule]);
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

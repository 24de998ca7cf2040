//! Wire types of the transformation invocation.
//!
//! The request is read into [`FirehoseEvent`] rather than `aws_lambda_events`'
//! `KinesisFirehoseEvent`, whose `data` is a base64 newtype: one record with bad base64 would
//! then fail the whole invocation. Here `data` stays text and each record is decoded on its
//! own. The response is [`super::response`]'s.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use serde::{Deserialize, Serialize};

/// A Firehose transformation request.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FirehoseEvent {
    /// Invocation id.
    #[serde(default)]
    pub invocation_id: Option<String>,
    /// ARN of the delivery stream.
    #[serde(default)]
    pub delivery_stream_arn: Option<String>,
    /// ARN of the source Kinesis stream (Kinesis-sourced streams only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_kinesis_stream_arn: Option<String>,
    /// AWS region of the stream: the last partition fallback for `region`.
    #[serde(default)]
    pub region: Option<String>,
    /// The records, each answered exactly once, in order.
    pub records: Vec<FirehoseRecord>,
}

impl FirehoseEvent {
    /// A Direct PUT style event carrying `payloads` as records `00000000`, `00000001`, …: how
    /// `ocsf-firehose transform --records` and the local pipeline feed the handler.
    pub fn from_payloads<P: AsRef<[u8]>>(
        payloads: impl IntoIterator<Item = P>,
        region: &str,
        arrival_ms: i64,
    ) -> Self {
        let records = payloads
            .into_iter()
            .enumerate()
            .map(|(index, payload)| FirehoseRecord {
                record_id: format!("{index:08}"),
                approximate_arrival_timestamp: Some(arrival_ms),
                data: STANDARD.encode(payload),
                kinesis_record_metadata: None,
            })
            .collect();
        FirehoseEvent {
            invocation_id: Some(format!("local-{arrival_ms}")),
            delivery_stream_arn: Some(format!(
                "arn:aws:firehose:{region}:000000000000:deliverystream/local"
            )),
            source_kinesis_stream_arn: None,
            region: Some(region.to_owned()),
            records,
        }
    }
}

/// One record of a request.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FirehoseRecord {
    /// Id to answer with.
    pub record_id: String,
    /// Arrival time at Firehose, epoch milliseconds.
    #[serde(default)]
    pub approximate_arrival_timestamp: Option<i64>,
    /// The payload, base64 (decoded per record, so a bad one fails only its record).
    #[serde(default)]
    pub data: String,
    /// Kinesis metadata (Kinesis-sourced streams only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kinesis_record_metadata: Option<KinesisRecordMetadata>,
}

/// `kinesisRecordMetadata` of a Kinesis-sourced record. (`aws_lambda_events`' type re-serializes
/// `approximateArrivalTimestamp` as a string; this one keeps the wire form, and tolerates
/// missing fields.)
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct KinesisRecordMetadata {
    /// Source shard.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shard_id: Option<String>,
    /// The producer's partition key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub partition_key: Option<String>,
    /// Arrival time in the stream, epoch milliseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approximate_arrival_timestamp: Option<i64>,
    /// Sequence number in the shard.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sequence_number: Option<String>,
    /// Position within a KPL-aggregated record.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subsequence_number: Option<i64>,
}

/// The result of one record, serialized exactly as Firehose requires
/// (<https://docs.aws.amazon.com/firehose/latest/dev/data-transformation-status-model.html>).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum TransformResult {
    /// Transformed; delivered with its partition keys.
    Ok,
    /// Dropped on purpose (only with `OCSF_ON_INVALID=drop`); counts as processed.
    Dropped,
    /// Not transformed: Firehose writes the original record under `processing-failed/`.
    ProcessingFailed,
}

impl TransformResult {
    /// The wire value: `Ok`, `Dropped` or `ProcessingFailed`.
    pub fn as_str(self) -> &'static str {
        match self {
            TransformResult::Ok => "Ok",
            TransformResult::Dropped => "Dropped",
            TransformResult::ProcessingFailed => "ProcessingFailed",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_serialize_exactly_as_firehose_expects() {
        for (result, wire) in [
            (TransformResult::Ok, "Ok"),
            (TransformResult::Dropped, "Dropped"),
            (TransformResult::ProcessingFailed, "ProcessingFailed"),
        ] {
            assert_eq!(
                serde_json::to_string(&result).unwrap(),
                format!("\"{wire}\"")
            );
            assert_eq!(result.as_str(), wire);
            assert_eq!(
                serde_json::from_str::<TransformResult>(&format!("\"{wire}\"")).unwrap(),
                result
            );
        }
        assert!(serde_json::from_str::<TransformResult>("\"TRANSFORMED_STATE_OK\"").is_err());
    }

    #[test]
    fn a_record_with_bad_base64_still_parses() {
        let event: FirehoseEvent = serde_json::from_str(
            r#"{"invocationId":"i","deliveryStreamArn":"arn","region":"us-east-1",
                "records":[{"recordId":"1","approximateArrivalTimestamp":1,"data":"%%%"}]}"#,
        )
        .unwrap();
        assert_eq!(event.records[0].data, "%%%");
    }
}

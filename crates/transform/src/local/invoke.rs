//! The Lambda processor: records wait in a buffer until it holds the processor's buffer size
//! (default 1 MiB, at most 3 MB) or the oldest has waited the processor's interval, then the
//! handler is invoked with a real Firehose event as JSON and its response is read back from
//! JSON, exactly as Firehose and Lambda exchange them.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use aws_lambda_events::event::firehose::KinesisFirehoseResponse;

use super::{LocalError, Summary};
use crate::contract::partition::PartitionKeys;
use crate::firehose::{FirehoseEvent, FirehoseRecord, Transformer};

/// Records waiting for the Lambda.
#[derive(Debug, Default)]
pub struct Pending {
    records: Vec<(Vec<u8>, i64)>,
    bytes: usize,
    oldest: Option<Instant>,
}

impl Pending {
    /// Adds a record with its arrival time (epoch ms).
    pub fn push(&mut self, data: Vec<u8>, arrival_ms: i64) {
        self.bytes += data.len();
        self.records.push((data, arrival_ms));
        self.oldest.get_or_insert_with(Instant::now);
    }

    /// Whether the oldest waiting record has waited `interval` (the processor's buffer interval).
    pub fn waited(&self, interval: Duration) -> bool {
        self.oldest
            .is_some_and(|oldest| oldest.elapsed() >= interval)
    }

    /// Bytes waiting.
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    /// The next batch: up to `limit` bytes (at least one record) once that much waits, or
    /// whatever waits when `all`.
    pub fn take(&mut self, limit: usize, all: bool) -> Option<Vec<(Vec<u8>, i64)>> {
        if self.records.is_empty() || (!all && self.bytes < limit) {
            return None;
        }
        let mut size = 0;
        let count = self
            .records
            .iter()
            .take_while(|(data, _)| {
                size += data.len();
                size <= limit
            })
            .count()
            .max(1);
        let batch: Vec<_> = self.records.drain(..count).collect();
        self.bytes -= batch.iter().map(|(d, _)| d.len()).sum::<usize>();
        if self.records.is_empty() {
            self.oldest = None;
        }
        Some(batch)
    }
}

/// The answer for one record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// `Ok`: the transformed data (JSON lines) and the partition keys (`None` when missing).
    Ok {
        /// Decoded data.
        data: Vec<u8>,
        /// `region`, `accountId`, `eventDay`.
        keys: Option<PartitionKeys>,
    },
    /// `Dropped`.
    Dropped,
    /// `ProcessingFailed`, with the Lambda's reasons (finding codes, as it logs them).
    Failed {
        /// `code at path (event n)` for each error.
        reasons: Vec<String>,
    },
}

/// A record and its answer.
#[derive(Debug, Clone)]
pub struct Answered {
    /// The record as the Lambda received it.
    pub raw: Vec<u8>,
    /// `approximateArrivalTimestamp`.
    pub arrival_ms: i64,
    /// What the Lambda answered.
    pub answer: Answer,
}

/// One invocation: request JSON → handler → response JSON → answers in record order.
pub fn invoke(
    transformer: &Transformer,
    region: &str,
    batch: Vec<(Vec<u8>, i64)>,
    summary: &mut Summary,
) -> Result<Vec<Answered>, LocalError> {
    let handler_error = |e: &dyn std::fmt::Display| LocalError::Handler(e.to_string());
    let mut event =
        FirehoseEvent::from_payloads(batch.iter().map(|(d, _)| d), region, super::now_ms());
    for (record, (_, arrival)) in event.records.iter_mut().zip(&batch) {
        record.approximate_arrival_timestamp = Some(*arrival);
    }
    let request = serde_json::to_vec(&event).map_err(|e| handler_error(&e))?;
    let request: FirehoseEvent = serde_json::from_slice(&request).map_err(|e| handler_error(&e))?;
    let (response, report) = transformer
        .handle(&request)
        .map_err(|e| handler_error(&e))?;
    let response = serde_json::to_vec(&response).map_err(|e| handler_error(&e))?;
    let response: KinesisFirehoseResponse =
        serde_json::from_slice(&response).map_err(|e| handler_error(&e))?;
    summary.invocations += 1;

    let reasons: HashMap<&str, &crate::firehose::RecordFailure> = report
        .failures
        .iter()
        .map(|f| (f.record_id.as_str(), f))
        .collect();
    let by_id: HashMap<String, usize> = request
        .records
        .iter()
        .enumerate()
        .map(|(i, r): (usize, &FirehoseRecord)| (r.record_id.clone(), i))
        .collect();
    if response.records.len() != batch.len() {
        return Err(LocalError::Handler(format!(
            "{} records answered for {} sent",
            response.records.len(),
            batch.len()
        )));
    }
    let mut answers: Vec<Option<Answered>> = vec![None; batch.len()];
    let mut batch: Vec<Option<(Vec<u8>, i64)>> = batch.into_iter().map(Some).collect();
    for record in response.records {
        let id = record.record_id.unwrap_or_default();
        let index = *by_id
            .get(&id)
            .ok_or_else(|| LocalError::Handler(format!("unknown recordId {id}")))?;
        let (raw, arrival_ms) = batch
            .get_mut(index)
            .and_then(Option::take)
            .ok_or_else(|| LocalError::Handler(format!("recordId {id} answered twice")))?;
        summary.records += 1;
        let answer = match record.result.as_deref() {
            Some("Ok") => {
                summary.ok += 1;
                let map = &record.metadata.partition_keys;
                let keys = PartitionKeys::from_metadata(|name| map.get(name));
                Answer::Ok {
                    data: record.data.0,
                    keys,
                }
            }
            Some("Dropped") => {
                summary.dropped += 1;
                Answer::Dropped
            }
            _ => {
                summary.failed += 1;
                let failure = reasons.get(id.as_str());
                let mut codes: Vec<String> = failure
                    .map(|f| {
                        f.findings
                            .iter()
                            .map(|l| l.code.as_str().to_owned())
                            .collect()
                    })
                    .unwrap_or_default();
                codes.sort();
                codes.dedup();
                for code in &codes {
                    *summary.failures.entry(code.clone()).or_default() += 1;
                }
                let reasons = failure
                    .map(|f| {
                        f.findings
                            .iter()
                            .map(|l| match l.event {
                                Some(event) => {
                                    format!("{} at `{}` (event {event})", l.code.as_str(), l.path)
                                }
                                None => l.code.as_str().to_owned(),
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                Answer::Failed { reasons }
            }
        };
        if let Some(slot) = answers.get_mut(index) {
            *slot = Some(Answered {
                raw,
                arrival_ms,
                answer,
            });
        }
    }
    answers
        .into_iter()
        .map(|a| a.ok_or_else(|| LocalError::Handler("a record was not answered".to_owned())))
        .collect()
}

//! What an invocation tells operators: one JSON log line per invocation (counts by result, by
//! finding code and by normalization action, bytes, duration), one per record not delivered
//! (recordId, codes, paths), and CloudWatch metrics through the `metrics` facade (the Lambda
//! binary exports them in the Embedded Metric Format). Never event values: only ids, codes,
//! paths, counts and sizes.

use crate::contract::metrics as names;
use std::collections::BTreeMap;
use std::time::Duration;

use serde::Serialize;

use super::config::LogLevel;
use super::event::{FirehoseEvent, TransformResult};
use super::record::{Located, RecordOutcome};
use crate::finding::Code;

/// A record that was not delivered, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RecordFailure {
    /// The record's id.
    pub record_id: String,
    /// `ProcessingFailed` or `Dropped`.
    pub result: TransformResult,
    /// The error findings (code, path and event index within the record).
    pub findings: Vec<Located>,
}

/// The summary of one invocation.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct InvocationReport {
    /// Firehose's invocation id.
    pub invocation_id: Option<String>,
    /// The delivery stream.
    pub delivery_stream_arn: Option<String>,
    /// Records received.
    pub records: usize,
    /// Records answered `Ok`.
    pub ok: usize,
    /// Records answered `Dropped`.
    pub dropped: usize,
    /// Records answered `ProcessingFailed`.
    pub failed: usize,
    /// JSON documents read from all records.
    pub events: usize,
    /// Decoded input bytes.
    pub bytes_in: usize,
    /// Output bytes of `Ok` records (before base64).
    pub bytes_out: usize,
    /// Size of the response (an upper bound).
    pub response_bytes: usize,
    /// Handler time in milliseconds.
    pub duration_ms: f64,
    /// Findings by code, warnings included.
    pub findings: BTreeMap<&'static str, usize>,
    /// Normalization actions by kind.
    pub actions: BTreeMap<&'static str, usize>,
    /// The records not delivered (logged one line each, paths as `for_logs` renders them).
    #[serde(skip)]
    pub failures: Vec<RecordFailure>,
}

#[derive(Serialize)]
struct LogLine<'a, T: Serialize> {
    level: &'static str,
    message: &'static str,
    #[serde(rename = "invocationId", skip_serializing_if = "Option::is_none")]
    invocation_id: Option<&'a str>,
    #[serde(flatten)]
    body: &'a T,
}

impl InvocationReport {
    /// Summarizes the outcomes of `event`'s records (in the same order).
    pub fn new(
        event: &FirehoseEvent,
        outcomes: &[RecordOutcome],
        response_bytes: usize,
        duration: Duration,
    ) -> Self {
        let mut report = InvocationReport {
            invocation_id: event.invocation_id.clone(),
            delivery_stream_arn: event.delivery_stream_arn.clone(),
            records: outcomes.len(),
            ok: 0,
            dropped: 0,
            failed: 0,
            events: 0,
            bytes_in: 0,
            bytes_out: 0,
            response_bytes,
            duration_ms: duration.as_secs_f64() * 1000.0,
            findings: BTreeMap::new(),
            actions: BTreeMap::new(),
            failures: Vec::new(),
        };
        for (record, outcome) in event.records.iter().zip(outcomes) {
            match outcome.result {
                TransformResult::Ok => report.ok += 1,
                TransformResult::Dropped => report.dropped += 1,
                TransformResult::ProcessingFailed => report.failed += 1,
            }
            report.events += outcome.events;
            report.bytes_in += outcome.bytes_in;
            report.bytes_out += outcome.data.len();
            for finding in &outcome.findings {
                *report.findings.entry(finding.code.as_str()).or_default() += 1;
            }
            for (kind, count) in &outcome.actions {
                *report.actions.entry(kind.as_str()).or_default() += count;
            }
            if outcome.result != TransformResult::Ok {
                report.failures.push(RecordFailure {
                    record_id: record.record_id.clone(),
                    result: outcome.result,
                    findings: outcome.errors().cloned().collect(),
                });
            }
        }
        report
    }

    /// The JSON log lines to write at `level`: one per record not delivered (WARN), then the
    /// summary (INFO).
    pub fn log_lines(&self, level: LogLevel) -> Vec<String> {
        let invocation_id = self.invocation_id.as_deref();
        let mut lines = Vec::new();
        if level >= LogLevel::Warn {
            for failure in &self.failures {
                let logged = RecordFailure {
                    findings: failure.findings.iter().map(for_logs).collect(),
                    ..failure.clone()
                };
                lines.extend(line(
                    LogLevel::Warn,
                    "record not delivered",
                    invocation_id,
                    &logged,
                ));
            }
        }
        if level >= LogLevel::Info {
            lines.extend(line(LogLevel::Info, "invocation transformed", None, self));
        }
        lines
    }

    /// Records the invocation's metrics through the `metrics` facade.
    pub fn emit_metrics(&self) {
        let count = |n: usize| u64::try_from(n).unwrap_or(u64::MAX);
        metrics::counter!(names::RECORDS_OK).increment(count(self.ok));
        metrics::counter!(names::RECORDS_DROPPED).increment(count(self.dropped));
        metrics::counter!(names::RECORDS_FAILED).increment(count(self.failed));
        metrics::counter!(names::EVENTS).increment(count(self.events));
        metrics::counter!(names::BYTES_IN).increment(count(self.bytes_in));
        metrics::counter!(names::BYTES_OUT).increment(count(self.bytes_out));
        metrics::histogram!(names::INVOCATION_MILLISECONDS).record(self.duration_ms);
        for (code, n) in &self.findings {
            metrics::counter!(names::FINDINGS, "code" => *code).increment(count(*n));
        }
        for (action, n) in &self.actions {
            metrics::counter!(names::NORMALIZATION_ACTIONS, "action" => *action)
                .increment(count(*n));
        }
    }
}

/// A finding as a log may carry it: its path only as schema names, any other key (an unknown
/// attribute's name is the sender's text, and may be `password=hunter2`) as a hash.
fn for_logs(finding: &Located) -> Located {
    if finding.path.is_empty() {
        return finding.clone();
    }
    let unknown_last = finding.code == Code::AttributeUnknown;
    let segments: Vec<&str> = finding.path.split('.').collect();
    let last = segments.len().saturating_sub(1);
    let path = segments
        .iter()
        .enumerate()
        .map(|(i, segment)| {
            let (name, index) = segment
                .find('[')
                .map_or((*segment, ""), |at| segment.split_at(at));
            let schema_shaped = !name.is_empty()
                && name
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
                && index
                    .bytes()
                    .all(|b| b.is_ascii_digit() || b == b'[' || b == b']');
            match schema_shaped && !(unknown_last && i == last) {
                true => (*segment).to_owned(),
                false => format!("#{:08x}", fnv1a(segment.as_bytes()) as u32),
            }
        })
        .collect::<Vec<_>>()
        .join(".");
    Located {
        path,
        ..finding.clone()
    }
}

/// FNV-1a (64-bit): a stable hash, so that one key is one tag across invocations.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, b| {
        (hash ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
    })
}

fn line<T: Serialize>(
    level: LogLevel,
    message: &'static str,
    invocation_id: Option<&str>,
    body: &T,
) -> Option<String> {
    serde_json::to_string(&LogLine {
        level: level.as_str(),
        message,
        invocation_id,
        body,
    })
    .ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finding::Severity;

    fn located(code: Code, path: &str) -> Located {
        Located {
            event: Some(0),
            code,
            severity: Severity::Error,
            path: path.to_owned(),
        }
    }

    /// Issue 20, item 12: an unknown attribute's name never reaches a log; schema paths do.
    #[test]
    fn logged_paths_carry_schema_names_and_hash_anything_else() {
        let unknown = for_logs(&located(
            Code::AttributeUnknown,
            "actor.user.password=hunter2",
        ));
        assert!(unknown.path.starts_with("actor.user.#"), "{}", unknown.path);
        assert!(!unknown.path.contains("hunter2"));
        let plain = for_logs(&located(Code::AttributeUnknown, "api_key_abc123"));
        assert!(plain.path.starts_with('#') && !plain.path.contains("abc123"));
        assert_eq!(
            for_logs(&located(Code::AttributeUnknown, "x=1")).path,
            for_logs(&located(Code::AttributeUnknown, "x=1")).path,
            "stable"
        );
        let schema = located(Code::AttributeWrongType, "resources[2].owner.uid");
        assert_eq!(for_logs(&schema).path, "resources[2].owner.uid");
        let odd = for_logs(&located(Code::AttributeWrongType, "unmapped.Secret Key"));
        assert!(odd.path.starts_with("unmapped.#") && !odd.path.contains("Secret"));
    }
}

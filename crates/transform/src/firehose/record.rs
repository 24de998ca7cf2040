//! One Firehose record: decode, split into JSON documents, run each through the engine, fit
//! each to its class's Glue table (`crate::table`), and join the events as JSON lines, or say
//! precisely why the record fails.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use serde::Serialize;

use super::config::{OnInvalid, TransformConfig};
use super::event::TransformResult;
use crate::contract::framing;
use crate::contract::partition::PartitionKeys;
use crate::documents::{document_text, documents_in};
use crate::engine::Engine;
use crate::finding::{Code, Finding, Severity};
use crate::normalize::ActionKind;

/// A finding of a record, located: `event` is the index of the JSON document in the record
/// (`None` for findings about the record as a whole).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Located {
    /// Index of the document within the record.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub event: Option<usize>,
    /// Finding code.
    pub code: Code,
    /// Severity.
    pub severity: Severity,
    /// Attribute path.
    pub path: String,
}

impl Located {
    /// An error about a whole document (`event`) or the whole record (`None`).
    fn error(event: Option<usize>, code: Code) -> Self {
        Located {
            event,
            code,
            severity: Severity::Error,
            path: String::new(),
        }
    }
}

/// What became of one record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordOutcome {
    /// The record's result.
    pub result: TransformResult,
    /// For `Ok`: the normalized events, each as compact JSON followed by `\n`. Empty otherwise.
    pub data: Vec<u8>,
    /// For `Ok`: the partition keys shared by every event of the record.
    pub partition: Option<PartitionKeys>,
    /// Decoded input size in bytes (0 when the data was not base64).
    pub bytes_in: usize,
    /// Number of JSON documents read.
    pub events: usize,
    /// Every finding reported (warnings included), located.
    pub findings: Vec<Located>,
    /// Normalization actions, counted by kind.
    pub actions: Vec<(ActionKind, usize)>,
}

impl RecordOutcome {
    fn failed(code: Code, bytes_in: usize) -> Self {
        RecordOutcome {
            result: TransformResult::ProcessingFailed,
            data: Vec::new(),
            partition: None,
            bytes_in,
            events: 0,
            findings: vec![Located::error(None, code)],
            actions: Vec::new(),
        }
    }

    /// The error findings: why the record was not delivered.
    pub fn errors(&self) -> impl Iterator<Item = &Located> {
        self.findings
            .iter()
            .filter(|f| f.severity == Severity::Error)
    }

    /// Turns a record that would be `Ok` into a `ProcessingFailed` one for `code`.
    pub(crate) fn fail_with(&mut self, code: Code) {
        self.result = TransformResult::ProcessingFailed;
        self.data = Vec::new();
        self.partition = None;
        self.findings.push(Located::error(None, code));
    }
}

/// Decoded size of `encoded` base64 text, at most (padding not subtracted).
fn decoded_len_upper_bound(encoded: &str) -> usize {
    encoded.len().div_ceil(4) * 3
}

/// Transforms one record's base64 `data`.
pub fn transform_record(
    engine: &Engine,
    config: &TransformConfig,
    data: &str,
    fallback_region: Option<&str>,
) -> RecordOutcome {
    // Refuse oversized records before allocating for them (3 bytes of slack for padding).
    if decoded_len_upper_bound(data) > config.max_record_bytes + 3 {
        return RecordOutcome::failed(Code::RecordTooLarge, decoded_len_upper_bound(data));
    }
    let Ok(bytes) = STANDARD.decode(data) else {
        return RecordOutcome::failed(Code::DataNotBase64, 0);
    };
    transform_decoded(engine, config, &bytes, fallback_region)
}

/// Transforms one record already decoded from base64 (a Firehose error document's `rawData`,
/// read back by `ocsf-firehose redrive`): the same verdict as [`transform_record`] on its
/// base64.
pub fn transform_decoded(
    engine: &Engine,
    config: &TransformConfig,
    bytes: &[u8],
    fallback_region: Option<&str>,
) -> RecordOutcome {
    // The record checks every command applies to a document too (one code table).
    let text = match document_text(bytes, config.max_record_bytes) {
        Ok(text) => text,
        Err(code) => return RecordOutcome::failed(code, bytes.len()),
    };
    let mut outcome = RecordOutcome {
        result: TransformResult::Ok,
        data: Vec::with_capacity(bytes.len() + bytes.len() / 8),
        partition: None,
        bytes_in: bytes.len(),
        events: 0,
        findings: Vec::new(),
        actions: Vec::new(),
    };
    let mut undeliverable = false; // always ProcessingFailed, whatever OCSF_ON_INVALID says
    let mut invalid = false;
    for document in documents_in(text) {
        outcome.events += 1;
        let index = document.index;
        let event = match document.value {
            Ok(event) => event,
            Err(_) => {
                undeliverable = true;
                outcome
                    .findings
                    .push(Located::error(Some(index), Code::JsonInvalid));
                continue;
            }
        };
        let verdict = engine.judge(event, fallback_region);
        count_actions(&mut outcome.actions, verdict.actions.iter().map(|a| a.kind));
        // Not an object: no `OCSF_ON_INVALID=drop` for what is not an event at all.
        undeliverable |= !verdict.event.is_object();
        let (findings, row) = verdict.into_parts();
        outcome
            .findings
            .extend(findings.into_iter().map(|f| locate(index, f)));
        let Some(row) = row else {
            invalid = true;
            continue;
        };
        match &outcome.partition {
            None => outcome.partition = Some(row.partition),
            Some(first) if *first == row.partition => {}
            Some(_) => {
                undeliverable = true;
                outcome
                    .findings
                    .push(Located::error(Some(index), Code::PartitionKeysMixed));
            }
        }
        count_actions(
            &mut outcome.actions,
            row.moved.iter().map(|_| ActionKind::FittedToTable),
        );
        framing::write_line(&mut outcome.data, &row.event);
    }
    if outcome.events == 0 {
        return RecordOutcome::failed(Code::RecordEmpty, outcome.bytes_in);
    }
    if undeliverable || invalid {
        outcome.result = if undeliverable || config.on_invalid == OnInvalid::Fail {
            TransformResult::ProcessingFailed
        } else {
            TransformResult::Dropped
        };
        outcome.data = Vec::new();
        outcome.partition = None;
    }
    outcome
}

fn locate(event: usize, finding: Finding) -> Located {
    Located {
        event: Some(event),
        code: finding.code,
        severity: finding.severity,
        path: finding.path,
    }
}

fn count_actions(counts: &mut Vec<(ActionKind, usize)>, kinds: impl Iterator<Item = ActionKind>) {
    for kind in kinds {
        match counts.iter_mut().find(|(k, _)| *k == kind) {
            Some((_, n)) => *n += 1,
            None => counts.push((kind, 1)),
        }
    }
}

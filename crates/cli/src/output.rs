//! The per-event report line (`--format json`) and its text rendering.

use std::io::Write;

use clap::ValueEnum;
use ocsf_firehose_transform::{Finding, PartitionKeys};
use serde::Serialize;

/// Output format of reports.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, ValueEnum)]
pub(crate) enum Format {
    /// Human-readable lines.
    #[default]
    Text,
    /// One JSON object per event.
    Json,
}

/// Which judgement a report gives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Check {
    /// The transformation Lambda's verdict: accepted (delivered) or rejected.
    Lambda,
    /// The OCSF schema check alone (the OCSF server's validator).
    Schema,
}

/// The judgement on one event, as printed.
#[derive(Debug, Serialize)]
pub(crate) struct EventReport<'a> {
    pub source: &'a str,
    pub index: usize,
    pub verdict: Check,
    /// Accepted by the Lambda (`verdict: lambda`) or valid OCSF (`verdict: schema`).
    pub valid: bool,
    pub class_uid: Option<i64>,
    /// The partition the Lambda gives an accepted event.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub partition: Option<&'a PartitionKeys>,
    pub findings: &'a [Finding],
}

impl EventReport<'_> {
    /// Writes the report in `format`.
    pub(crate) fn write(
        &self,
        out: &mut (impl Write + ?Sized),
        format: Format,
    ) -> std::io::Result<()> {
        match format {
            Format::Json => {
                serde_json::to_writer(&mut *out, self)?;
                writeln!(out)
            }
            Format::Text => {
                let verdict = match (self.verdict, self.valid) {
                    (Check::Lambda, true) => "accepted",
                    (Check::Lambda, false) => "REJECTED",
                    (Check::Schema, true) => "valid",
                    (Check::Schema, false) => "INVALID",
                };
                let class = self
                    .class_uid
                    .map(|c| format!(" (class_uid {c})"))
                    .unwrap_or_default();
                let partition = self
                    .partition
                    .map(|k| {
                        format!(
                            " → region={}/accountId={}/eventDay={}",
                            k.region, k.account_id, k.event_day
                        )
                    })
                    .unwrap_or_default();
                writeln!(
                    out,
                    "{}#{}: {verdict}{class}{partition}",
                    self.source, self.index
                )?;
                for f in self.findings {
                    let path = if f.path.is_empty() {
                        "<event>"
                    } else {
                        &f.path
                    };
                    writeln!(
                        out,
                        "  {:<7} {} at {path}: {}",
                        f.severity.as_str(),
                        f.code,
                        f.message
                    )?;
                }
                Ok(())
            }
        }
    }
}

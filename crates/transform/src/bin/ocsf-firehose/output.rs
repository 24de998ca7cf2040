//! The per-event report line (`--format json`) and its text rendering.

use std::io::Write;

use clap::ValueEnum;
use ocsf_firehose_transform::documents::JsonError;
use ocsf_firehose_transform::{Code, Finding, Severity};
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

/// The verdict on one event, as printed.
#[derive(Debug, Serialize)]
pub(crate) struct EventReport<'a> {
    pub source: &'a str,
    pub index: usize,
    pub valid: bool,
    pub class_uid: Option<i64>,
    pub findings: &'a [Finding],
}

/// The finding of a document that is not JSON.
pub(crate) fn json_invalid(error: &JsonError) -> Finding {
    Finding {
        code: Code::JsonInvalid,
        severity: Severity::Error,
        path: String::new(),
        message: format!(
            "Not parseable JSON at byte {}: {}.",
            error.offset, error.reason
        ),
    }
}

impl EventReport<'_> {
    /// Writes the report in `format`.
    pub(crate) fn write(&self, out: &mut impl Write, format: Format) -> std::io::Result<()> {
        match format {
            Format::Json => {
                serde_json::to_writer(&mut *out, self)?;
                writeln!(out)
            }
            Format::Text => {
                let verdict = if self.valid { "valid" } else { "INVALID" };
                let class = self
                    .class_uid
                    .map(|c| format!(" (class_uid {c})"))
                    .unwrap_or_default();
                writeln!(out, "{}#{}: {verdict}{class}", self.source, self.index)?;
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

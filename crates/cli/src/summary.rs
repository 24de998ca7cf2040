//! What every command's result shares: the [`Outcome`] mapped onto the exit code, and the
//! accounting of events by code that the `local`, `upload` and `redrive` summaries hold
//! (refused at `send`, not delivered), with its text rendering.

use std::collections::BTreeMap;
use std::io::Write;
use std::process::ExitCode;

use serde::Serialize;

use ocsf_firehose_producer::FailedEvent;

/// The codes of a rejected event's findings, in order, a code repeated in a row counted once.
pub(crate) fn finding_codes(findings: &[ocsf_firehose_transform::Finding]) -> Vec<String> {
    let mut codes: Vec<String> = findings.iter().map(|f| f.code.to_string()).collect();
    codes.dedup();
    codes
}

/// How `local`, `upload` and `redrive` print their summary.
#[derive(Debug, clap::Args)]
pub(crate) struct SummaryFormat {
    /// Print the summary as JSON.
    #[arg(long)]
    json: bool,
}

impl SummaryFormat {
    /// Prints `summary` on stdout: one JSON line with `--json`, else as `text` writes it.
    pub(crate) fn print<S: Serialize>(
        &self,
        summary: &S,
        text: impl FnOnce(&mut dyn Write, &S) -> std::io::Result<()>,
    ) -> anyhow::Result<()> {
        let mut out = std::io::stdout().lock();
        if self.json {
            serde_json::to_writer(&mut out, summary)?;
            writeln!(out)?;
        } else {
            text(&mut out, summary)?;
        }
        Ok(())
    }
}

/// The outcome of a command, mapped onto the exit code.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct Outcome {
    /// Some event was invalid (or not delivered).
    pub invalid: bool,
    /// Some input could not be read.
    pub io_error: bool,
}

impl Outcome {
    /// 2 on an I/O error, 1 when some event was invalid, else 0.
    pub(crate) fn exit_code(self) -> ExitCode {
        if self.io_error {
            ExitCode::from(2)
        } else if self.invalid {
            ExitCode::from(1)
        } else {
            ExitCode::SUCCESS
        }
    }
}

/// Events counted by code.
pub(crate) type ByCode = BTreeMap<String, u64>;

/// Counts one event under `code`.
pub(crate) fn count(counts: &mut ByCode, code: &str) {
    *counts.entry(code.to_owned()).or_default() += 1;
}

/// Counts the producer's failed events by their kind's code (`throttled`, `not_found`…).
pub(crate) fn count_failed<'a>(
    counts: &mut ByCode,
    failed: impl IntoIterator<Item = &'a FailedEvent>,
) {
    for event in failed {
        count(counts, event.kind.code());
    }
}

/// Counts by code under their titles, the empty ones left out.
pub(crate) fn write_counts(
    out: &mut dyn Write,
    sections: &[(&str, &ByCode)],
) -> std::io::Result<()> {
    for (title, counts) in sections {
        if !counts.is_empty() {
            writeln!(out, "{title}")?;
            for (code, count) in counts.iter() {
                writeln!(out, "  {code:<32} {count}")?;
            }
        }
    }
    Ok(())
}

//! `ocsf-firehose normalize`: the events the transformation Lambda accepts, normalized (or, with
//! `--row`, as the Lambda emits them), as JSON lines on stdout; the rejected ones reported on
//! stderr.

use std::io::Write;

use crate::input::EventInputs;
use crate::output::{Check, EventReport, Format};
use crate::summary::Outcome;

/// Arguments of `normalize`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    #[command(flatten)]
    inputs: EventInputs,
    /// Print each event as the Lambda emits it, fitted to its class's Glue table (`unmapped`
    /// and JSON values as text): the row Firehose converts to Parquet. Default: the normalized
    /// event, valid OCSF that the Lambda judges the same way again.
    #[arg(long)]
    row: bool,
}

pub(crate) fn run(args: Args) -> anyhow::Result<Outcome> {
    args.inputs.judge_each(|judge, document, out| {
        let (source, index) = (&*document.source, document.index);
        let mut reject = |class_uid, findings: &[_]| {
            let report = EventReport {
                source,
                index,
                verdict: Check::Lambda,
                valid: false,
                class_uid,
                partition: None,
                findings,
            };
            report.write(&mut out.stderr, Format::Json).map(|()| false)
        };
        let verdict = match document.event(judge.max_record_bytes) {
            Ok(event) => judge.engine.judge(event, judge.region),
            Err(finding) => return reject(None, &[finding]),
        };
        if !verdict.is_accepted() {
            return reject(verdict.validation.class_uid, &verdict.validation.findings);
        }
        let printed = if args.row {
            // An accepted event always has a row.
            verdict.into_row().map(|row| row.event)
        } else {
            Some(verdict.event)
        };
        if let Some(event) = printed {
            serde_json::to_writer(&mut out.stdout, &event)?;
            writeln!(out.stdout)?;
        }
        Ok(true)
    })
}

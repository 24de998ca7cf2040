//! `ocsf-firehose normalize`: the events the transformation Lambda accepts, normalized (or, with
//! `--row`, as the Lambda emits them), as JSON lines on stdout; the rejected ones reported on
//! stderr.

use std::path::PathBuf;

use crate::input::{judge_documents, Document};
use crate::lambda_args::LambdaArgs;
use crate::output::{Check, EventReport, Format};
use crate::Outcome;

/// Arguments of `normalize`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    #[command(flatten)]
    lambda: LambdaArgs,
    /// Print each event as the Lambda emits it, fitted to its class's Glue table (`unmapped`
    /// and JSON values as text): the row Firehose converts to Parquet. Default: the normalized
    /// event, valid OCSF that the Lambda judges the same way again.
    #[arg(long)]
    row: bool,
    /// Files to read (`-` or nothing: stdin).
    #[arg(value_name = "PATH")]
    paths: Vec<PathBuf>,
}

pub(crate) fn run(args: Args) -> anyhow::Result<Outcome> {
    let transformer = args.lambda.transformer()?;
    let engine = transformer.engine();
    let region = Some(args.lambda.region.as_str());
    let stderr = std::io::stderr();
    let mut err = stderr.lock();
    Ok(judge_documents(&args.paths, |document, out| {
        let Document {
            source,
            index,
            event,
        } = document;
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
            report.write(&mut err, Format::Json).map(|()| false)
        };
        let verdict = match event {
            Ok(event) => engine.judge(event, region),
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
            serde_json::to_writer(&mut *out, &event)?;
            writeln!(out)?;
        }
        Ok(true)
    })?)
}

//! `ocsf-firehose validate`: the transformation Lambda's verdict on each event (normalization,
//! validation, partition keys: [`Engine::judge`](ocsf_firehose_transform::Engine::judge)), or
//! with `--schema-only` the OCSF schema check alone.

use std::path::PathBuf;

use ocsf_firehose_transform::Validation;

use crate::input::{judge_documents, Document};
use crate::lambda_args::LambdaArgs;
use crate::output::{Check, EventReport, Format};
use crate::Outcome;

/// Arguments of `validate`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    #[command(flatten)]
    lambda: LambdaArgs,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
    /// Only the OCSF schema check (the OCSF server's validator) on the event as it is, instead
    /// of the Lambda's verdict: no normalization, no partition keys.
    #[arg(long)]
    schema_only: bool,
    /// With `--schema-only`: check the normalized event (the Lambda's verdict always does).
    #[arg(long, requires = "schema_only")]
    normalize: bool,
    /// Files to read (`-` or nothing: stdin).
    #[arg(value_name = "PATH")]
    paths: Vec<PathBuf>,
}

pub(crate) fn run(args: Args) -> anyhow::Result<Outcome> {
    let transformer = args.lambda.transformer()?;
    let engine = transformer.engine();
    let region = Some(args.lambda.region.as_str());
    let check = if args.schema_only {
        Check::Schema
    } else {
        Check::Lambda
    };
    Ok(judge_documents(&args.paths, |document, out| {
        let Document {
            source,
            index,
            event,
        } = document;
        let report = |valid, class_uid, partition, findings| EventReport {
            source,
            index,
            verdict: check,
            valid,
            class_uid,
            partition,
            findings,
        };
        match event {
            Err(finding) => {
                report(false, None, None, &[finding]).write(out, args.format)?;
                Ok(false)
            }
            Ok(event) if check == Check::Lambda => {
                let verdict = engine.judge(event, region);
                let accepted = verdict.is_accepted();
                let partition = verdict.partition.as_ref().filter(|_| accepted);
                let Validation {
                    class_uid,
                    findings,
                } = &verdict.validation;
                report(accepted, *class_uid, partition, findings).write(out, args.format)?;
                Ok(accepted)
            }
            Ok(mut event) => {
                if args.normalize {
                    engine.normalize(&mut event);
                }
                let validation = engine.validate(&event);
                let valid = validation.is_valid();
                report(valid, validation.class_uid, None, &validation.findings)
                    .write(out, args.format)?;
                Ok(valid)
            }
        }
    })?)
}

//! `ocsf-firehose validate`: the transformation Lambda's verdict on each event (normalization,
//! validation, partition keys: [`Engine::judge`](ocsf_firehose_transform::Engine::judge)), or
//! with `--schema-only` the OCSF schema check alone.

use ocsf_firehose_transform::Validation;

use crate::input::EventInputs;
use crate::output::{Check, EventReport, Format};
use crate::summary::Outcome;

/// Arguments of `validate`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    #[command(flatten)]
    inputs: EventInputs,
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
}

pub(crate) fn run(args: Args) -> anyhow::Result<Outcome> {
    let check = if args.schema_only {
        Check::Schema
    } else {
        Check::Lambda
    };
    args.inputs.judge_each(|judge, document, out| {
        let (source, index) = (&*document.source, document.index);
        let report = |valid, class_uid, partition, findings| EventReport {
            source,
            index,
            verdict: check,
            valid,
            class_uid,
            partition,
            findings,
        };
        match document.event(judge.max_record_bytes) {
            Err(finding) => {
                report(false, None, None, &[finding]).write(&mut out.stdout, args.format)?;
                Ok(false)
            }
            Ok(event) if check == Check::Lambda => {
                let verdict = judge.engine.judge(event, judge.region);
                let accepted = verdict.is_accepted();
                let partition = verdict.partition.as_ref().filter(|_| accepted);
                let Validation {
                    class_uid,
                    findings,
                } = &verdict.validation;
                report(accepted, *class_uid, partition, findings)
                    .write(&mut out.stdout, args.format)?;
                Ok(accepted)
            }
            Ok(mut event) => {
                if args.normalize {
                    judge.engine.normalize(&mut event);
                }
                let validation = judge.engine.validate(&event);
                let valid = validation.is_valid();
                report(valid, validation.class_uid, None, &validation.findings)
                    .write(&mut out.stdout, args.format)?;
                Ok(valid)
            }
        }
    })
}

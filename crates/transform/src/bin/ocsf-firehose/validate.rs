//! `ocsf-firehose validate`.

use std::io::{BufWriter, Write};
use std::path::PathBuf;

use ocsf_firehose_transform::Validation;

use crate::engine_args::EngineArgs;
use crate::input::for_each_document;
use crate::output::{json_invalid, EventReport, Format};
use crate::Outcome;

/// Arguments of `validate`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    #[command(flatten)]
    engine: EngineArgs,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
    /// Validate each event after normalizing it (what the Lambda does).
    #[arg(long)]
    normalize: bool,
    /// Files to read (`-` or nothing: stdin).
    #[arg(value_name = "PATH")]
    paths: Vec<PathBuf>,
}

pub(crate) fn run(args: Args) -> anyhow::Result<Outcome> {
    let engine = args.engine.engine()?;
    let stdout = std::io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    let mut outcome = Outcome::default();
    let read_failed = for_each_document(&args.paths, |source, document| {
        let (validation, findings) = match document.value {
            Ok(mut event) => {
                if args.normalize {
                    engine.normalize(&mut event);
                }
                let validation = engine.validate(&event);
                (Some(validation), None)
            }
            Err(error) => (None, Some(vec![json_invalid(&error)])),
        };
        let validation = validation.unwrap_or_else(|| Validation {
            class_uid: None,
            findings: findings.unwrap_or_default(),
        });
        let valid = validation.is_valid();
        outcome.invalid |= !valid;
        EventReport {
            source,
            index: document.index,
            valid,
            class_uid: validation.class_uid,
            findings: &validation.findings,
        }
        .write(&mut out, args.format)
    })?;
    outcome.io_error = read_failed;
    out.flush()?;
    Ok(outcome)
}

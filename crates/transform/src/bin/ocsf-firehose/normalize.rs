//! `ocsf-firehose normalize`.

use std::io::{BufWriter, Write};
use std::path::PathBuf;

use crate::engine_args::EngineArgs;
use crate::input::for_each_document;
use crate::output::{json_invalid, EventReport, Format};
use crate::Outcome;

/// Arguments of `normalize`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    #[command(flatten)]
    engine: EngineArgs,
    /// Files to read (`-` or nothing: stdin).
    #[arg(value_name = "PATH")]
    paths: Vec<PathBuf>,
}

pub(crate) fn run(args: Args) -> anyhow::Result<Outcome> {
    let engine = args.engine.engine()?;
    let stdout = std::io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    let stderr = std::io::stderr();
    let mut err = stderr.lock();
    let mut outcome = Outcome::default();
    let read_failed = for_each_document(&args.paths, |source, document| {
        let index = document.index;
        let mut event = match document.value {
            Ok(event) => event,
            Err(error) => {
                outcome.invalid = true;
                let findings = [json_invalid(&error)];
                let report = EventReport {
                    source,
                    index,
                    valid: false,
                    class_uid: None,
                    findings: &findings,
                };
                return report.write(&mut err, Format::Json);
            }
        };
        engine.normalize(&mut event);
        let validation = engine.validate(&event);
        if validation.is_valid() {
            serde_json::to_writer(&mut out, &event)?;
            writeln!(out)
        } else {
            outcome.invalid = true;
            EventReport {
                source,
                index,
                valid: false,
                class_uid: validation.class_uid,
                findings: &validation.findings,
            }
            .write(&mut err, Format::Json)
        }
    })?;
    outcome.io_error = read_failed;
    out.flush()?;
    Ok(outcome)
}

//! Inputs: files or stdin (`-`), each split into JSON documents, and the documents judged by
//! the configured Lambda.

use std::io::{BufWriter, Read, Write};
use std::path::PathBuf;

use ocsf_firehose_transform::documents::documents;
use ocsf_firehose_transform::{Code, Engine, Finding, Severity};
use serde_json::Value;

use crate::lambda_args::LambdaArgs;
use crate::Outcome;

/// The events a command judges and the Lambda that judges them.
#[derive(Debug, clap::Args)]
pub(crate) struct EventInputs {
    #[command(flatten)]
    pub lambda: LambdaArgs,
    /// Files to read (`-` or nothing: stdin).
    #[arg(value_name = "PATH")]
    pub paths: Vec<PathBuf>,
}

/// The configured engine and the stream's region: what judges an event as the Lambda does.
pub(crate) struct Judge<'a> {
    /// The engine, configured as the Lambda.
    pub engine: &'a Engine,
    /// The stream's region, the last fallback for `region`.
    pub region: Option<&'a str>,
}

impl EventInputs {
    /// Runs `each` on every document with the configured Lambda's engine and a buffered
    /// stdout; `each` says whether the document passed.
    pub(crate) fn judge_each(
        &self,
        mut each: impl FnMut(&Judge<'_>, Document<'_>, &mut dyn Write) -> std::io::Result<bool>,
    ) -> anyhow::Result<Outcome> {
        let transformer = self.lambda.transformer()?;
        let judge = Judge {
            engine: transformer.engine(),
            region: Some(&self.lambda.region),
        };
        Ok(judge_documents(&self.paths, |document, out| {
            each(&judge, document, out)
        })?)
    }
}

/// One input source.
#[derive(Debug, Clone)]
pub(crate) enum Source {
    /// Standard input.
    Stdin,
    /// A file.
    File(PathBuf),
}

impl Source {
    /// Sources from the command line; none means stdin.
    pub(crate) fn all(paths: &[PathBuf]) -> Vec<Source> {
        if paths.is_empty() {
            return vec![Source::Stdin];
        }
        paths
            .iter()
            .map(|p| {
                if p.as_os_str() == "-" {
                    Source::Stdin
                } else {
                    Source::File(p.clone())
                }
            })
            .collect()
    }

    /// The name printed as `source`.
    pub(crate) fn name(&self) -> String {
        match self {
            Source::Stdin => "-".to_owned(),
            Source::File(path) => path.display().to_string(),
        }
    }

    /// Reads the whole source.
    pub(crate) fn read(&self) -> std::io::Result<Vec<u8>> {
        match self {
            Source::Stdin => {
                let mut bytes = Vec::new();
                std::io::stdin().lock().read_to_end(&mut bytes)?;
                Ok(bytes)
            }
            Source::File(path) => std::fs::read(path),
        }
    }
}

/// One document of an input: an event, or the `json_invalid` finding of what is not JSON.
pub(crate) struct Document<'a> {
    /// The source's name, as printed.
    pub source: &'a str,
    /// The document's index in its source.
    pub index: usize,
    /// The event, or why it is not one.
    pub event: Result<Value, Finding>,
}

/// Runs `each` on every document of every source; unreadable sources are reported on stderr
/// and counted. Returns whether any source failed to read.
pub(crate) fn for_each_document(
    paths: &[PathBuf],
    mut each: impl FnMut(Document<'_>) -> std::io::Result<()>,
) -> std::io::Result<bool> {
    let mut failed = false;
    for source in Source::all(paths) {
        let name = source.name();
        match source.read() {
            Ok(bytes) => {
                for document in documents(&bytes) {
                    each(Document {
                        source: &name,
                        index: document.index,
                        event: document.value.map_err(|error| Finding {
                            code: Code::JsonInvalid,
                            severity: Severity::Error,
                            path: String::new(),
                            message: format!(
                                "Not parseable JSON at byte {}: {}.",
                                error.offset, error.reason
                            ),
                        }),
                    })?;
                }
            }
            Err(error) => {
                eprintln!("ocsf-firehose: cannot read {name}: {error}");
                failed = true;
            }
        }
    }
    Ok(failed)
}

/// Runs `each` on every document of `paths` with a buffered stdout; `each` says whether the
/// document passed. The outcome: some document did not, some source could not be read.
fn judge_documents(
    paths: &[PathBuf],
    mut each: impl FnMut(Document<'_>, &mut dyn Write) -> std::io::Result<bool>,
) -> std::io::Result<Outcome> {
    let stdout = std::io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    let mut outcome = Outcome::default();
    outcome.io_error = for_each_document(paths, |document| {
        outcome.invalid |= !each(document, &mut out)?;
        Ok(())
    })?;
    out.flush()?;
    Ok(outcome)
}

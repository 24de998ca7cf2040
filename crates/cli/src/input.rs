//! Inputs: files or stdin (`-`), each split into JSON documents, and the documents judged by
//! the configured Lambda.

use std::io::{BufWriter, Read, Write};
use std::path::PathBuf;

use ocsf_firehose_transform::documents::{check_document, DocumentReader, RawDocument};
use ocsf_firehose_transform::{Code, Engine, Finding, Severity};
use serde_json::Value;

use crate::lambda_args::LambdaArgs;
use crate::summary::Outcome;

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
        let max_record_bytes = transformer.config().max_record_bytes;
        Ok(judge_documents(
            &self.paths,
            max_record_bytes,
            |document, out| each(&judge, document, out),
        )?)
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

    /// Opens the source for reading.
    pub(crate) fn open(&self) -> std::io::Result<Box<dyn Read>> {
        Ok(match self {
            Source::Stdin => Box::new(std::io::stdin()),
            Source::File(path) => Box::new(std::fs::File::open(path)?),
        })
    }
}

/// The largest document the commands read into memory; a larger one is `record_too_large`
/// unread (the Lambda refuses any record over its limit of about 1 MB anyway).
pub(crate) const MAX_DOCUMENT_BYTES: usize = 64 * 1024 * 1024;

/// An input document's verdict before the engine: its bytes, or the finding of the code every
/// command and the Lambda give it (`json_invalid`, `record_too_large`, `data_not_utf8`).
pub(crate) fn framed(
    document: RawDocument,
    max_record_bytes: usize,
) -> Result<(Vec<u8>, Value), Finding> {
    let error = |code: Code, message: String| Finding {
        code,
        severity: Severity::Error,
        path: String::new(),
        message,
    };
    let bytes = match document.bytes {
        Ok(bytes) => bytes,
        Err(_) if document.too_large => {
            return Err(error(
                Code::RecordTooLarge,
                format!("The document is larger than {MAX_DOCUMENT_BYTES} bytes."),
            ))
        }
        // Bytes that are not UTF-8 at all: the Lambda's record check says so before any JSON.
        Err(_) if document.skipped_not_utf8() => {
            return Err(error(
                Code::DataNotUtf8,
                "The document is not UTF-8.".to_owned(),
            ))
        }
        Err(json) => {
            return Err(error(
                Code::JsonInvalid,
                format!(
                    "Not parseable JSON at byte {}: {}.",
                    json.offset, json.reason
                ),
            ))
        }
    };
    match check_document(&bytes, max_record_bytes) {
        // Parsed as the Lambda parses it (a number out of range, a lone surrogate or nesting
        // past the parser's limit is `json_invalid` there too); JSON but not an object is its
        // `event_not_object`, whatever judges it next.
        Ok(()) => match serde_json::from_slice::<Value>(&bytes) {
            Err(e) => Err(error(
                Code::JsonInvalid,
                format!("Not parseable JSON: {e}."),
            )),
            Ok(event) if !event.is_object() => Err(error(
                Code::EventNotObject,
                "The document is JSON but not an object.".to_owned(),
            )),
            Ok(event) => Ok((bytes, event)),
        },
        Err(Code::RecordTooLarge) => Err(error(
            Code::RecordTooLarge,
            format!(
                "The document is {} bytes, more than a Firehose record holds ({max_record_bytes}).",
                bytes.len()
            ),
        )),
        Err(code) => Err(error(code, "The document is not UTF-8.".to_owned())),
    }
}

/// The finding of an input without any document (the Lambda's `record_empty`).
pub(crate) fn empty_input() -> Finding {
    Finding {
        code: Code::RecordEmpty,
        severity: Severity::Error,
        path: String::new(),
        message: "The input holds no JSON document.".to_owned(),
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

/// Runs `each` on every document of every source, read as a stream (memory bounded by the
/// largest document): framed and checked as the Lambda frames and checks a record, an input
/// without any document reported as `record_empty`. Unreadable sources are reported on stderr
/// and counted. Returns whether any source failed to read.
pub(crate) fn for_each_document(
    paths: &[PathBuf],
    max_record_bytes: usize,
    mut each: impl FnMut(Document<'_>) -> std::io::Result<()>,
) -> std::io::Result<bool> {
    let mut failed = false;
    for source in Source::all(paths) {
        let name = source.name();
        let reader = match source.open() {
            Ok(reader) => reader,
            Err(error) => {
                eprintln!("ocsf-firehose: cannot read {name}: {error}");
                failed = true;
                continue;
            }
        };
        let mut documents = 0;
        for document in DocumentReader::new(reader, MAX_DOCUMENT_BYTES) {
            let document = match document {
                Ok(document) => document,
                Err(error) => {
                    eprintln!("ocsf-firehose: cannot read {name}: {error}");
                    failed = true;
                    break;
                }
            };
            documents += 1;
            let index = document.index;
            let event = framed(document, max_record_bytes).map(|(_, event)| event);
            each(Document {
                source: &name,
                index,
                event,
            })?;
        }
        if documents == 0 && !failed {
            each(Document {
                source: &name,
                index: 0,
                event: Err(empty_input()),
            })?;
        }
    }
    Ok(failed)
}

/// Runs `each` on every document of `paths` with a buffered stdout; `each` says whether the
/// document passed. The outcome: some document did not, some source could not be read.
fn judge_documents(
    paths: &[PathBuf],
    max_record_bytes: usize,
    mut each: impl FnMut(Document<'_>, &mut dyn Write) -> std::io::Result<bool>,
) -> std::io::Result<Outcome> {
    let stdout = std::io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    let mut outcome = Outcome::default();
    outcome.io_error = for_each_document(paths, max_record_bytes, |document| {
        outcome.invalid |= !each(document, &mut out)?;
        Ok(())
    })?;
    out.flush()?;
    Ok(outcome)
}

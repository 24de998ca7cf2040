//! Inputs: files or stdin (`-`), read by one reader ([`Documents`]) with one framing (the
//! contract's `DocumentReader`: JSON lines, concatenated or pretty-printed JSON, BOM, CRLF) and
//! one set of checks (the Lambda's record checks and codes), for every command; the documents
//! judged by the configured Lambda (`EventInputs::judge_each`, in `judging.rs`).

use std::collections::VecDeque;
use std::io::Read;
use std::path::PathBuf;
use std::sync::Arc;

use ocsf_firehose_transform::documents::{document_text, DocumentReader, RawDocument};
use ocsf_firehose_transform::{Code, Engine, Finding, Severity};
use serde_json::Value;

use crate::lambda_args::LambdaArgs;

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
    /// The Lambda's record size limit, which a document is checked against.
    pub max_record_bytes: usize,
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
    pub(crate) fn open(&self) -> std::io::Result<Box<dyn Read + Send>> {
        Ok(match self {
            Source::Stdin => Box::new(std::io::stdin()),
            Source::File(path) => Box::new(std::fs::File::open(path)?),
        })
    }
}

/// The largest document the commands read into memory; a larger one is `record_too_large`
/// unread (the Lambda refuses any record over its limit of about 1 MB anyway).
pub(crate) const MAX_DOCUMENT_BYTES: usize = 64 * 1024 * 1024;

/// One document of an input, as read: its bytes, and whether the framing found JSON there.
#[derive(Debug)]
pub(crate) struct Document {
    /// The source's name, as printed.
    pub source: Arc<str>,
    /// The document's 0-based index in its source.
    pub index: usize,
    /// The document's bytes; for one that is not parseable JSON, its bytes as far as they were
    /// held (what error files keep); empty for an input without any document.
    pub bytes: Vec<u8>,
    /// Why the framing found no JSON document here, as the finding every command and the Lambda
    /// give (`json_invalid`, `data_not_utf8`, `record_too_large`, `record_empty`).
    framing: Option<Finding>,
}

impl Document {
    /// The event: the document checked as the Lambda checks a record against
    /// `max_record_bytes` (size, UTF-8) and parsed as it parses one (a number out of range, a
    /// lone surrogate or nesting past the parser's limit is `json_invalid` there too; JSON that
    /// is not an object is `event_not_object`), or the finding of why it is not one.
    pub(crate) fn event(&self, max_record_bytes: usize) -> Result<Value, Finding> {
        if let Some(finding) = &self.framing {
            return Err(finding.clone());
        }
        let text = match document_text(&self.bytes, max_record_bytes) {
            Ok(text) => text,
            Err(Code::RecordTooLarge) => {
                return Err(error(
                    Code::RecordTooLarge,
                    format!(
                        "The document is {} bytes, more than a Firehose record holds ({max_record_bytes}).",
                        self.bytes.len()
                    ),
                ))
            }
            Err(code) => return Err(error(code, "The document is not UTF-8.".to_owned())),
        };
        match serde_json::from_str::<Value>(text) {
            Err(e) => Err(error(
                Code::JsonInvalid,
                format!("Not parseable JSON: {e}."),
            )),
            Ok(event) if !event.is_object() => Err(error(
                Code::EventNotObject,
                "The document is JSON but not an object.".to_owned(),
            )),
            Ok(event) => Ok(event),
        }
    }

    /// The document was larger than [`MAX_DOCUMENT_BYTES`] and skipped unread.
    pub(crate) fn unread(&self) -> bool {
        self.framing
            .as_ref()
            .is_some_and(|f| f.code == Code::RecordTooLarge)
    }

    /// The document `document` of `source` as the framing read it.
    pub(crate) fn read(source: &Arc<str>, document: RawDocument) -> Self {
        let (bytes, framing) = match document.bytes {
            Ok(bytes) => (bytes, None),
            Err(_) if document.too_large => (
                Vec::new(),
                Some(error(
                    Code::RecordTooLarge,
                    format!("The document is larger than {MAX_DOCUMENT_BYTES} bytes."),
                )),
            ),
            // Bytes that are not UTF-8 at all: the Lambda's record check says so before any JSON.
            Err(_) if document.skipped_not_utf8() => (
                document.skipped,
                Some(error(
                    Code::DataNotUtf8,
                    "The document is not UTF-8.".to_owned(),
                )),
            ),
            Err(json) => (
                document.skipped,
                Some(error(
                    Code::JsonInvalid,
                    format!(
                        "Not parseable JSON at byte {}: {}.",
                        json.offset, json.reason
                    ),
                )),
            ),
        };
        Document {
            source: Arc::clone(source),
            index: document.index,
            bytes,
            framing,
        }
    }

    fn empty_input(source: &Arc<str>) -> Self {
        Document {
            source: Arc::clone(source),
            index: 0,
            bytes: Vec::new(),
            framing: Some(error(
                Code::RecordEmpty,
                "The input holds no JSON document.".to_owned(),
            )),
        }
    }
}

fn error(code: Code, message: String) -> Finding {
    Finding {
        code,
        severity: Severity::Error,
        path: String::new(),
        message,
    }
}

/// A source that could not be opened or read to its end.
#[derive(Debug, thiserror::Error)]
#[error("cannot read {source_name}: {error}")]
pub(crate) struct ReadError {
    /// The source's name, as printed.
    pub source_name: Arc<str>,
    /// Why.
    pub error: std::io::Error,
}

/// An input not yet read.
enum Input {
    Source(Source),
    Stream(Arc<str>, Box<dyn Read + Send>),
}

/// The one input reader of every command: the documents of each source in turn, read as a
/// stream (memory bounded by the largest document), framed as the Lambda frames a record, an
/// input without any document given as one `record_empty` document. A source that cannot be
/// opened or read is an `Err` item, and reading goes on with the next source: the command
/// decides whether that ends it.
pub(crate) struct Documents {
    inputs: VecDeque<Input>,
    current: Option<Current>,
    /// Whether an input without any document yields a `record_empty` document.
    mark_empty: bool,
}

struct Current {
    name: Arc<str>,
    reader: DocumentReader<Box<dyn Read + Send>>,
    documents: usize,
}

impl Documents {
    /// The documents of `sources`, in order.
    pub(crate) fn new(sources: Vec<Source>) -> Self {
        Documents {
            inputs: sources.into_iter().map(Input::Source).collect(),
            current: None,
            mark_empty: true,
        }
    }

    /// The documents of the command line's paths (none, or `-`: stdin).
    pub(crate) fn of_paths(paths: &[PathBuf]) -> Self {
        Documents::new(Source::all(paths))
    }

    /// The documents of one stream named `name` (generated events, for one).
    pub(crate) fn of_stream(name: &str, reader: impl Read + Send + 'static) -> Self {
        Documents {
            inputs: VecDeque::from([Input::Stream(name.into(), Box::new(reader))]),
            current: None,
            mark_empty: true,
        }
    }

    /// Records rather than events: an input without any document yields nothing (a Firehose
    /// stream receives no record from it).
    pub(crate) fn records_only(mut self) -> Self {
        self.mark_empty = false;
        self
    }
}

impl Iterator for Documents {
    type Item = Result<Document, ReadError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some(current) = &mut self.current {
                match current.reader.next() {
                    Some(Ok(document)) => {
                        current.documents += 1;
                        return Some(Ok(Document::read(&current.name, document)));
                    }
                    Some(Err(error)) => {
                        let source_name = Arc::clone(&current.name);
                        self.current = None;
                        return Some(Err(ReadError { source_name, error }));
                    }
                    None => {
                        let done = self.current.take();
                        if let Some(done) = done.filter(|d| d.documents == 0 && self.mark_empty) {
                            return Some(Ok(Document::empty_input(&done.name)));
                        }
                    }
                }
            }
            let (name, reader): (Arc<str>, Box<dyn Read + Send>) = match self.inputs.pop_front()? {
                Input::Stream(name, reader) => (name, reader),
                Input::Source(source) => {
                    let name: Arc<str> = source.name().into();
                    match source.open() {
                        Ok(reader) => (name, reader),
                        Err(error) => {
                            return Some(Err(ReadError {
                                source_name: name,
                                error,
                            }))
                        }
                    }
                }
            };
            self.current = Some(Current {
                name,
                reader: DocumentReader::new(reader, MAX_DOCUMENT_BYTES),
                documents: 0,
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn codes(documents: Documents) -> Vec<String> {
        documents
            .map(|document| match document {
                Ok(document) => match document.event(1_000) {
                    Ok(_) => format!("{}#{}:event", document.source, document.index),
                    Err(finding) => {
                        format!("{}#{}:{}", document.source, document.index, finding.code)
                    }
                },
                Err(error) => format!("{}:unreadable", error.source_name),
            })
            .collect()
    }

    #[test]
    fn every_source_in_turn_with_the_lambdas_codes_and_an_unreadable_one_skipped() {
        let dir = std::env::temp_dir().join(format!("ocsf-input-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let events = dir.join("events.jsonl");
        let big = format!("{{\"a\":\"{}\"}}", "x".repeat(2_000));
        std::fs::write(
            &events,
            format!("{{\"a\":1}}\n[1]\n{{\"s\":\"\\ud800\"}}\n{{nope\n{big}\n"),
        )
        .unwrap();
        let empty = dir.join("empty.jsonl");
        std::fs::write(&empty, " \n\n").unwrap();
        let missing = dir.join("missing.jsonl");
        let got = codes(Documents::of_paths(&[
            events.clone(),
            missing.clone(),
            empty.clone(),
        ]));
        let (e, m, y) = (events.display(), missing.display(), empty.display());
        assert_eq!(
            got,
            [
                format!("{e}#0:event"),
                format!("{e}#1:event_not_object"),
                format!("{e}#2:json_invalid"),
                format!("{e}#3:json_invalid"),
                format!("{e}#4:record_too_large"),
                format!("{m}:unreadable"),
                format!("{y}#0:record_empty"),
            ]
        );
        let records: Vec<Document> = Documents::of_paths(&[empty.clone(), events.clone()])
            .records_only()
            .map(Result::unwrap)
            .collect();
        assert_eq!(records.len(), 5, "an empty input is no record");
        assert_eq!(
            records[3].bytes, b"{nope\n",
            "what is not JSON keeps its bytes"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_stream_is_read_as_a_file_is() {
        let got = codes(Documents::of_stream(
            "demo",
            &b"{\"a\":1}\r\n\xff\xfe\n"[..],
        ));
        assert_eq!(got, ["demo#0:event", "demo#1:data_not_utf8"]);
        assert_eq!(
            codes(Documents::of_stream("demo", &b""[..])),
            ["demo#0:record_empty"]
        );
    }
}

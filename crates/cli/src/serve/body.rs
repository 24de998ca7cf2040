//! A request body to events: read up to the body limit (`413` beyond it), gzip undone (the
//! limit applies to the inflated bytes too), and framed by its `Content-Type`: a JSON event or
//! a JSON array of events (`application/json`), or JSON lines (`application/x-ndjson`,
//! `application/jsonl`, `text/plain`). Each event is checked as the Lambda checks a record
//! (size, UTF-8, JSON, an object): one that is not gets its finding (`json_invalid` with its
//! byte offset in the body) and the others are judged.

use std::io::{Cursor, Read};
use std::ops::Range;

use http_body_util::{BodyExt, Limited};
use hyper::body::Incoming;
use hyper::header::{HeaderMap, CONTENT_ENCODING, CONTENT_LENGTH, CONTENT_TYPE};
use ocsf_firehose_transform::{Code, Finding, Severity};
use serde_json::Value;

use std::sync::Arc;

use ocsf_firehose_transform::documents::DocumentReader;

use crate::input::{Document, Documents, MAX_DOCUMENT_BYTES};

/// Why a body was not read: each a status of its own.
#[derive(Debug, thiserror::Error)]
pub(crate) enum BodyError {
    /// `413`: the body (or, gzipped, what it inflates to) is over the limit.
    #[error("the body is over the limit of {0} bytes")]
    TooLarge(usize),
    /// `415`: a `Content-Type` or `Content-Encoding` not taken.
    #[error("{0}")]
    Unsupported(String),
    /// `400`: the connection broke, or a gzip body is not gzip.
    #[error("the body cannot be read: {0}")]
    Unreadable(String),
}

impl BodyError {
    /// The machine-readable kind, as the answer's `error`.
    pub(crate) fn code(&self) -> &'static str {
        match self {
            BodyError::TooLarge(_) => "body_too_large",
            BodyError::Unsupported(_) => "unsupported_media_type",
            BodyError::Unreadable(_) => "body_unreadable",
        }
    }
}

/// How a body holds its events.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Framing {
    /// `application/json`: one event, or an array of events.
    Json,
    /// JSON lines (also concatenated or pretty-printed JSON, as the CLI reads a file).
    Lines,
}

/// The framing and encoding `headers` declare.
pub(crate) fn framing(headers: &HeaderMap) -> Result<(Framing, bool), BodyError> {
    let media = headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| {
            v.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase()
        });
    let framing = match media.as_deref() {
        // curl's `-d` says `application/x-www-form-urlencoded`: read as JSON too.
        None | Some("application/json" | "application/x-www-form-urlencoded") => Framing::Json,
        Some(
            "application/x-ndjson" | "application/ndjson" | "application/jsonl"
            | "application/x-jsonlines" | "application/jsonlines" | "text/plain",
        ) => Framing::Lines,
        Some(other) => {
            return Err(BodyError::Unsupported(format!(
                "Content-Type {other} is not taken: application/json (an event or an array) or application/x-ndjson (JSON lines)"
            )))
        }
    };
    let gzip = match headers.get(CONTENT_ENCODING).and_then(|v| v.to_str().ok()) {
        None | Some("identity") => false,
        Some(v) if v.eq_ignore_ascii_case("gzip") => true,
        Some(other) => {
            return Err(BodyError::Unsupported(format!(
                "Content-Encoding {other} is not taken: gzip or none"
            )))
        }
    };
    Ok((framing, gzip))
}

/// Reads the body whole, `limit` bytes at most (a declared `Content-Length` over it is refused
/// before anything is read), inflated when `gzip`.
pub(crate) async fn read(
    headers: &HeaderMap,
    body: Incoming,
    gzip: bool,
    limit: usize,
) -> Result<Vec<u8>, BodyError> {
    let declared = headers
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|length| length > limit as u64) {
        return Err(BodyError::TooLarge(limit));
    }
    let bytes = match Limited::new(body, limit).collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(error) if error.is::<http_body_util::LengthLimitError>() => {
            return Err(BodyError::TooLarge(limit))
        }
        Err(error) => return Err(BodyError::Unreadable(error.to_string())),
    };
    if !gzip {
        return Ok(bytes.to_vec());
    }
    let mut inflated = Vec::with_capacity(bytes.len().saturating_mul(4).min(limit));
    flate2::read::MultiGzDecoder::new(&bytes[..])
        .take(limit as u64 + 1)
        .read_to_end(&mut inflated)
        .map_err(|e| BodyError::Unreadable(format!("not gzip: {e}")))?;
    if inflated.len() > limit {
        return Err(BodyError::TooLarge(limit));
    }
    Ok(inflated)
}

/// The events of `body`, in order: each the event, or the finding of why it is not one.
pub(crate) fn events(
    body: Vec<u8>,
    framing: Framing,
    max_record_bytes: usize,
) -> Box<dyn Iterator<Item = Result<Value, Finding>> + Send> {
    let parts = match framing {
        Framing::Json => array_elements(&body),
        Framing::Lines => Some(lines(&body)),
    };
    match parts {
        Some(parts) => Box::new(
            parts
                .into_iter()
                .map(move |range| part(&body, range, max_record_bytes)),
        ),
        // One event (or several, concatenated or pretty-printed): read as the CLI reads a file.
        None => Box::new(
            Documents::of_stream("body", Cursor::new(body))
                .records_only()
                .map(move |document| match document {
                    Ok(document) => document.event(max_record_bytes),
                    // A buffer in memory cannot fail to read.
                    Err(error) => Err(finding(Code::JsonInvalid, error.to_string())),
                }),
        ),
    }
}

/// The byte ranges of the lines of `body` that are not blank (JSON lines: one event a line, so
/// that a malformed line never takes the next with it).
fn lines(body: &[u8]) -> Vec<Range<usize>> {
    let mut ranges = Vec::new();
    let mut start = 0;
    let ends =
        memchr::memchr_iter(b'\n', body).chain((!body.ends_with(b"\n")).then_some(body.len()));
    for end in ends {
        if !body[start..end].iter().all(u8::is_ascii_whitespace) {
            ranges.push(start..end);
        }
        start = end + 1;
    }
    ranges
}

/// One part of a body (a line, an array element), checked as a record is, the offsets of its
/// findings counted from the body's start.
fn part(body: &[u8], range: Range<usize>, max_record_bytes: usize) -> Result<Value, Finding> {
    let start = range.start;
    let mut reader = DocumentReader::new(&body[range], MAX_DOCUMENT_BYTES);
    let Some(Ok(mut raw)) = reader.next() else {
        return Err(finding(Code::RecordEmpty, "An empty array element.".into()));
    };
    raw.offset += start as u64;
    if let Err(json) = &mut raw.bytes {
        json.offset += start;
    }
    let event = Document::read(&Arc::from("body"), raw).event(max_record_bytes);
    match reader.next() {
        Some(Ok(second)) if event.is_ok() => Err(finding(
            Code::JsonInvalid,
            format!(
                "Not parseable JSON at byte {}: a second value where one event ends.",
                start as u64 + second.offset
            ),
        )),
        _ => event,
    }
}

fn finding(code: Code, message: String) -> Finding {
    Finding {
        code,
        severity: Severity::Error,
        path: String::new(),
        message,
    }
}

/// The byte ranges of the elements of `body` when it is a JSON array (after whitespace and a
/// BOM), cut at the array's own commas (strings and nested values skipped): each element is then
/// parsed on its own, so that a malformed one does not take its neighbours with it. `None`: the
/// body is not an array.
fn array_elements(body: &[u8]) -> Option<Vec<Range<usize>>> {
    let skip = body.strip_prefix(b"\xEF\xBB\xBF").map_or(0, |_| 3);
    let open = skip + body[skip..].iter().position(|b| !b.is_ascii_whitespace())?;
    if body[open] != b'[' {
        return None;
    }
    let mut elements = Vec::new();
    let (mut depth, mut in_string, mut escaped) = (0usize, false, false);
    let mut start = open + 1;
    let mut end = body.len();
    for (at, &byte) in body.iter().enumerate().skip(open + 1) {
        if in_string {
            match (escaped, byte) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_string = false,
                _ => {}
            }
            continue;
        }
        match byte {
            b'"' => in_string = true,
            b'{' | b'[' => depth += 1,
            b'}' | b']' if depth > 0 => depth -= 1,
            b']' => {
                end = at;
                break;
            }
            b',' if depth == 0 => {
                elements.push(start..at);
                start = at + 1;
            }
            _ => {}
        }
    }
    let last = start..end;
    let blank = |range: &Range<usize>| body[range.clone()].iter().all(u8::is_ascii_whitespace);
    // `[]` holds no event; a trailing element that is blank after a comma is malformed JSON.
    if !(elements.is_empty() && blank(&last)) {
        elements.push(last);
    }
    Some(elements)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn codes(body: &str, framing: Framing) -> Vec<String> {
        events(body.as_bytes().to_vec(), framing, 1_000_000)
            .map(|e| match e {
                Ok(_) => "ok".to_owned(),
                Err(f) => f.code.to_string(),
            })
            .collect()
    }

    #[test]
    fn an_array_is_cut_at_its_own_commas_only() {
        let body = r#" [ {"a": "x,]y", "b": [1, {"c": 2}]}, {"d": "\"],"} ] "#;
        let ranges = array_elements(body.as_bytes()).unwrap_or_default();
        assert_eq!(ranges.len(), 2);
        let second: Value =
            serde_json::from_slice(&body.as_bytes()[ranges[1].clone()]).unwrap_or(Value::Null);
        assert_eq!(second["d"], "\"],");
        assert_eq!(codes(body, Framing::Json), ["ok", "ok"]);
        assert!(codes("[]", Framing::Json).is_empty());
        assert!(array_elements(br#"{"a": 1}"#).is_none());
    }

    #[test]
    fn a_malformed_element_is_json_invalid_with_its_offset_and_the_others_are_read() {
        let body = r#"[{"a": 1}, {"b": tru}, 3, {"c": 2},]"#;
        let all: Vec<_> = events(body.as_bytes().to_vec(), Framing::Json, 1_000_000).collect();
        let codes: Vec<_> = all
            .iter()
            .map(|e| {
                e.as_ref()
                    .map_or_else(|f| f.code.to_string(), |_| "ok".into())
            })
            .collect();
        assert_eq!(
            codes,
            [
                "ok",
                "json_invalid",
                "event_not_object",
                "ok",
                "record_empty"
            ]
        );
        let message = all[1]
            .as_ref()
            .err()
            .map(|f| f.message.clone())
            .unwrap_or_default();
        assert!(message.contains("at byte 20:"), "{message:?}");
    }

    #[test]
    fn json_lines_go_on_after_a_bad_line_with_the_bodys_offset() {
        let body = "{\"a\": 1}\n{\"b\": \n{\"c\": 3}\n";
        let all: Vec<_> = events(body.as_bytes().to_vec(), Framing::Lines, 1_000_000).collect();
        assert_eq!(all.len(), 3);
        assert!(all[0].is_ok() && all[2].is_ok());
        let bad = all[1].as_ref().err().map(|f| (f.code, f.message.clone()));
        assert!(
            matches!(&bad, Some((Code::JsonInvalid, m)) if m.contains("at byte 14:")),
            "{bad:?}"
        );
    }

    #[test]
    fn a_single_event_and_an_empty_body() {
        assert_eq!(codes(r#"{"a": 1}"#, Framing::Json), ["ok"]);
        assert!(codes("", Framing::Lines).is_empty());
        assert!(codes(" \n", Framing::Json).is_empty());
    }

    #[test]
    fn media_types_and_encodings() {
        let mut headers = HeaderMap::new();
        assert!(matches!(framing(&headers), Ok((Framing::Json, false))));
        headers.insert(
            CONTENT_TYPE,
            "application/x-ndjson; charset=utf-8".parse().unwrap(),
        );
        headers.insert(CONTENT_ENCODING, "GZIP".parse().unwrap());
        assert!(matches!(framing(&headers), Ok((Framing::Lines, true))));
        headers.insert(CONTENT_ENCODING, "br".parse().unwrap());
        assert!(matches!(framing(&headers), Err(BodyError::Unsupported(_))));
        headers.insert(CONTENT_TYPE, "application/xml".parse().unwrap());
        assert!(matches!(framing(&headers), Err(BodyError::Unsupported(_))));
    }
}

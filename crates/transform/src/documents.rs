//! Splits a byte buffer into JSON documents: one document, JSON lines, or documents simply
//! concatenated (`{..}{..}`), as Firehose's JSON de-aggregation and our CLI accept them.

use serde_json::{Deserializer, Value};

/// UTF-8 byte-order mark, skipped at the start of a buffer.
const BOM: &[u8] = b"\xEF\xBB\xBF";

/// A document that is not parseable JSON.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsonError {
    /// Byte offset of the error in the whole buffer.
    pub offset: usize,
    /// The parser's explanation (it never quotes the input).
    pub reason: String,
}

/// One document of a buffer.
#[derive(Debug, Clone, PartialEq)]
pub struct Document {
    /// 0-based position among the buffer's documents.
    pub index: usize,
    /// Byte offset where the document starts.
    pub offset: usize,
    /// The parsed value, or why it could not be parsed.
    pub value: Result<Value, JsonError>,
}

/// Iterator over the documents of a buffer; it ends after the first unparseable document,
/// since nothing after it can be delimited reliably.
#[derive(Debug, Clone)]
pub struct Documents<'a> {
    bytes: &'a [u8],
    position: usize,
    index: usize,
    done: bool,
}

/// The documents of `bytes`.
pub fn documents(bytes: &[u8]) -> Documents<'_> {
    let position = if bytes.starts_with(BOM) { BOM.len() } else { 0 };
    Documents {
        bytes,
        position,
        index: 0,
        done: false,
    }
}

impl Iterator for Documents<'_> {
    type Item = Document;

    fn next(&mut self) -> Option<Document> {
        if self.done {
            return None;
        }
        let rest = self.bytes.get(self.position..)?;
        let skipped = rest.iter().take_while(|b| b.is_ascii_whitespace()).count();
        let start = self.position + skipped;
        let text = self.bytes.get(start..).filter(|t| !t.is_empty())?;
        let mut stream = Deserializer::from_slice(text).into_iter::<Value>();
        let value = match stream.next()? {
            Ok(value) => {
                self.position = start + stream.byte_offset();
                Ok(value)
            }
            Err(error) => {
                self.done = true;
                Err(JsonError {
                    offset: start + offset_of(text, error.line(), error.column()),
                    reason: error.to_string(),
                })
            }
        };
        let document = Document {
            index: self.index,
            offset: start,
            value,
        };
        self.index += 1;
        Some(document)
    }
}

/// Byte offset of a 1-based line and column as serde_json reports them (column counts bytes).
fn offset_of(text: &[u8], line: usize, column: usize) -> usize {
    let line_start = if line <= 1 {
        0
    } else {
        text.iter()
            .enumerate()
            .filter(|(_, b)| **b == b'\n')
            .nth(line - 2)
            .map_or(text.len(), |(i, _)| i + 1)
    };
    (line_start + column.saturating_sub(1)).min(text.len())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn values(bytes: &[u8]) -> Vec<(usize, Result<Value, usize>)> {
        documents(bytes)
            .map(|d| (d.offset, d.value.map_err(|e| e.offset)))
            .collect()
    }

    #[test]
    fn single_lines_and_concatenated() {
        assert_eq!(values(b" {\"a\":1} "), vec![(1, Ok(json!({"a": 1})))]);
        assert_eq!(
            values(b"{\"a\":1}\n{\"a\":2}\n"),
            vec![(0, Ok(json!({"a": 1}))), (8, Ok(json!({"a": 2})))]
        );
        assert_eq!(
            values(b"{\"a\":1}{\"a\":2}[3]"),
            vec![
                (0, Ok(json!({"a": 1}))),
                (7, Ok(json!({"a": 2}))),
                (14, Ok(json!([3])))
            ]
        );
        assert!(values(b"").is_empty());
        assert!(values(b" \n\t ").is_empty());
        assert_eq!(values(b"\xEF\xBB\xBF{}"), vec![(3, Ok(json!({})))]);
    }

    #[test]
    fn stops_at_the_first_bad_document_with_its_offset() {
        let got = values(b"{\"a\":1}\n{\"a\":,}\n{\"a\":3}");
        assert_eq!(got.len(), 2);
        assert_eq!(got[0], (0, Ok(json!({"a": 1}))));
        assert_eq!(got[1], (8, Err(13)), "the comma on line 2");
        let got = values(b"{\"a\": \"\xFF\"}");
        assert!(got[0].1.is_err(), "invalid UTF-8 is not JSON");
        let got = values(b"{\"a\":1");
        assert!(got[0].1.is_err(), "truncated");
    }
}

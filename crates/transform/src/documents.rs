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

/// Iterator over the documents of a buffer. After an unparseable document it resumes at the
/// next line that opens one (`{` or `[` first on the line): nothing in between can be
/// delimited reliably, and a JSON-lines file with one cut line still yields every other event.
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
                match next_line_starting_a_document(text) {
                    Some(next) => self.position = start + next,
                    None => self.done = true,
                }
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

/// Where reading resumes after a bad document starting `text`: the next line that opens a
/// document (`{` or `[` first on the line, as every line of JSON lines and every top-level
/// document of a pretty-printed file does; the lines inside a pretty-printed document are
/// indented). `None` when no line does.
fn next_line_starting_a_document(text: &[u8]) -> Option<usize> {
    text.iter()
        .enumerate()
        .filter(|(_, b)| **b == b'\n')
        .map(|(i, _)| i + 1)
        .find(|&line| matches!(text.get(line), Some(b'{' | b'[')))
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
    fn a_bad_document_is_reported_with_its_offset_and_reading_resumes_at_the_next_line_opening_one()
    {
        let got = values(b"{\"a\":1}\n{\"a\":,}\n{\"a\":3}");
        assert_eq!(got.len(), 3);
        assert_eq!(got[0], (0, Ok(json!({"a": 1}))));
        assert_eq!(got[1], (8, Err(13)), "the comma on line 2");
        assert_eq!(got[2], (16, Ok(json!({"a": 3}))), "the next line");
        // A line cut short (its string swallows the newline) and a broken pretty-printed
        // document: the next document is found, the indented lines inside are not read as ones.
        let got = values(b"{\"a\":\"cut\n{\"a\":2}\n");
        assert_eq!(got.len(), 2);
        assert_eq!(got[1], (10, Ok(json!({"a": 2}))));
        let got = values(b"{\n  \"a\": 1,\n  \"b\": [1,],\n  \"c\": {}\n}\n[4]");
        assert_eq!(got.len(), 2, "{got:?}");
        assert!(got[0].1.is_err());
        assert_eq!(got[1].1, Ok(json!([4])));
        assert_eq!(
            values(b"{\"a\":1}\n{x\n  {\"b\":2}").len(),
            2,
            "indented: not resumed"
        );
        let got = values(b"{\"a\": \"\xFF\"}");
        assert!(got[0].1.is_err(), "invalid UTF-8 is not JSON");
        let got = values(b"{\"a\":1");
        assert!(got[0].1.is_err(), "truncated");
    }
}

//! Splits bytes into JSON documents: one document, JSON lines (LF, CRLF or CR), or documents
//! simply concatenated (`{..}{..}`), a UTF-8 byte-order mark skipped, as Firehose's JSON
//! de-aggregation and our CLI accept them. One framing, two readers: [`documents`] over a
//! record in memory (the Lambda) and [`DocumentReader`] over a stream (every CLI command),
//! which keeps in memory only the document it is reading; a property test holds them to the
//! same documents for any input and any chunking.

use std::io::Read;

use serde::de::IgnoredAny;
use serde_json::{Deserializer, Value};

use crate::finding::Code;

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
    /// The same bytes, when they are UTF-8 (checked once): parsed as text, the parser does not
    /// check each string again (2 % of the Lambda's work).
    text: Option<&'a str>,
    position: usize,
    index: usize,
    done: bool,
}

/// The documents of `bytes`.
pub fn documents(bytes: &[u8]) -> Documents<'_> {
    framed(bytes, std::str::from_utf8(bytes).ok())
}

/// The documents of `text`, known to be UTF-8 already ([`document_text`]): the same framing
/// as [`documents`], without checking the UTF-8 again.
pub fn documents_in(text: &str) -> Documents<'_> {
    framed(text.as_bytes(), Some(text))
}

fn framed<'a>(bytes: &'a [u8], text: Option<&'a str>) -> Documents<'a> {
    let position = if bytes.starts_with(BOM) { BOM.len() } else { 0 };
    Documents {
        bytes,
        text,
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
        // A document starts after ASCII (whitespace, a value's end, a line break, the BOM):
        // always a character boundary of the text.
        let parsed = match self.text.and_then(|whole| whole.get(start..)) {
            Some(rest) => first_value(Deserializer::from_str(rest).into_iter::<Value>()),
            None => first_value(Deserializer::from_slice(text).into_iter::<Value>()),
        };
        let value = match parsed? {
            Ok((value, length)) => {
                self.position = start + length;
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

/// The first value of a stream and its length in bytes.
fn first_value<'de, R: serde_json::de::Read<'de>>(
    mut stream: serde_json::StreamDeserializer<'de, R, Value>,
) -> Option<Result<(Value, usize), serde_json::Error>> {
    Some(stream.next()?.map(|value| (value, stream.byte_offset())))
}

/// One document of a stream, as its raw bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawDocument {
    /// 0-based position among the stream's documents.
    pub index: usize,
    /// Byte offset where the document starts in the stream.
    pub offset: u64,
    /// The document's bytes, or why it is not parseable JSON.
    pub bytes: Result<Vec<u8>, JsonError>,
    /// It was longer than the reader's limit (and skipped unread).
    pub too_large: bool,
    /// For a document that is not parseable: its bytes up to where reading resumed, as far as
    /// they were held (so that a refused input can be kept); empty otherwise.
    pub skipped: Vec<u8>,
    /// `skipped` stops where the read-ahead buffer did, not where reading resumed: the document
    /// went on past it.
    pub skipped_cut: bool,
}

impl RawDocument {
    /// Whether the bytes of this unparseable document are not UTF-8, as the Lambda's record
    /// check (`data_not_utf8`) would find them: any invalid sequence, or one left incomplete where
    /// the document ends (but not where `skipped` was only cut by the buffer).
    pub fn skipped_not_utf8(&self) -> bool {
        std::str::from_utf8(&self.skipped)
            .is_err_and(|e| e.error_len().is_some() || !self.skipped_cut)
    }
}

/// The record checks of the Lambda (`transform_decoded`), applied by every command to a
/// record or document so that one input gets one code: larger than `max_bytes` is
/// `record_too_large`, not UTF-8 is `data_not_utf8`; else the bytes as text (for a parser that
/// then need not check the UTF-8 of each string again: [`documents_in`]).
pub fn document_text(bytes: &[u8], max_bytes: usize) -> Result<&str, Code> {
    if bytes.len() > max_bytes {
        return Err(Code::RecordTooLarge);
    }
    std::str::from_utf8(bytes).map_err(|_| Code::DataNotUtf8)
}

/// Reads the documents of a stream with the framing of [`documents`], holding in memory only
/// the document being read (and a read-ahead chunk); a document longer than `max_bytes` is
/// reported, skipped to the next line that opens one, and never held whole.
#[derive(Debug)]
pub struct DocumentReader<R> {
    reader: R,
    buffer: Vec<u8>,
    /// Bytes of `buffer` already consumed.
    start: usize,
    /// Stream offset of `buffer[0]`.
    base: u64,
    eof: bool,
    /// Discarding up to the next line that opens a document.
    skipping: bool,
    bom_checked: bool,
    index: usize,
    max_bytes: usize,
}

/// Bytes read from the stream at a time, at least.
const READ_CHUNK: usize = 64 * 1024;

/// What the framing finds at the start of `text` (whitespace already skipped).
enum Step {
    /// A whole document of this many bytes.
    Document(usize),
    /// Not yet decidable: more input is needed.
    Incomplete,
    /// Not parseable JSON: the error's offset in `text` and the parser's reason.
    Invalid(usize, String),
}

fn step(text: &[u8], at_end: bool) -> Step {
    let mut stream = Deserializer::from_slice(text).into_iter::<IgnoredAny>();
    match stream.next() {
        None => Step::Incomplete,
        // A number that ends with the buffer may go on in the next chunk.
        Some(Ok(_)) if !at_end && stream.byte_offset() == text.len() => Step::Incomplete,
        Some(Ok(_)) => Step::Document(stream.byte_offset()),
        Some(Err(error)) if error.is_eof() && !at_end => Step::Incomplete,
        Some(Err(error)) => {
            // Placed and explained as the buffer reader's `Value` parse does (skipping a value
            // reports some errors a few bytes earlier).
            let error = Deserializer::from_slice(text)
                .into_iter::<Value>()
                .next()
                .and_then(Result::err)
                .unwrap_or(error);
            let at = offset_of(text, error.line(), error.column());
            // An error at the buffer's last bytes is placed as the parser sees what follows
            // (a line break ends a line): decided with more input, as over the whole buffer.
            match !at_end && at + 2 >= text.len() {
                true => Step::Incomplete,
                false => Step::Invalid(at, error.to_string()),
            }
        }
    }
}

impl<R: Read> DocumentReader<R> {
    /// Reads `reader`; a document over `max_bytes` is reported as not parseable.
    pub fn new(reader: R, max_bytes: usize) -> Self {
        DocumentReader {
            reader,
            buffer: Vec::new(),
            start: 0,
            base: 0,
            eof: false,
            skipping: false,
            bom_checked: false,
            index: 0,
            max_bytes: max_bytes.max(1),
        }
    }

    /// Reads more: at least a chunk, and at least as much as is pending (so that a long
    /// document is parsed a logarithmic number of times, not once per chunk).
    fn fill(&mut self) -> std::io::Result<()> {
        if self.start > 0 {
            self.buffer.drain(..self.start);
            self.base += self.start as u64;
            self.start = 0;
        }
        let want = READ_CHUNK.max(self.buffer.len());
        let old = self.buffer.len();
        self.buffer.resize(old + want, 0);
        let read = loop {
            match self.reader.read(&mut self.buffer[old..]) {
                Ok(n) => break n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    self.buffer.truncate(old);
                    return Err(e);
                }
            }
        };
        self.buffer.truncate(old + read);
        self.eof = read == 0;
        Ok(())
    }

    fn document(&mut self, offset: usize, bytes: Result<Vec<u8>, JsonError>) -> RawDocument {
        let document = RawDocument {
            index: self.index,
            offset: self.base + offset as u64,
            bytes,
            too_large: false,
            skipped: Vec::new(),
            skipped_cut: false,
        };
        self.index += 1;
        document
    }

    /// The error of a bad document at `offset` (error at `at`), reading resumed at the next
    /// line that opens a document.
    fn bad(&mut self, offset: usize, at: usize, reason: String) -> RawDocument {
        let text = &self.buffer[offset..];
        match next_line_starting_a_document(text) {
            Some(next) => self.start = offset + next,
            None => {
                // A line break ending the buffer may open a document in the next chunk: kept.
                let newline_kept = usize::from(text.last() == Some(&b'\n'));
                self.start = self.buffer.len() - newline_kept;
                self.skipping = !self.eof;
            }
        }
        let error = JsonError {
            offset: usize::try_from(self.base)
                .unwrap_or(usize::MAX)
                .saturating_add(offset + at),
            reason,
        };
        let skipped = self.buffer[offset..self.start.max(offset)].to_vec();
        let mut document = self.document(offset, Err(error));
        document.skipped = skipped;
        document.skipped_cut = self.skipping;
        document
    }

    /// Discards bytes up to the next line that opens a document (after a bad document whose
    /// resumption was past the buffer).
    fn skip(&mut self) -> std::io::Result<bool> {
        loop {
            let text = &self.buffer[self.start..];
            // A line break ending the buffer may open a document in the next chunk: keep it.
            let newline_kept = usize::from(text.last() == Some(&b'\n'));
            match next_line_starting_a_document(text) {
                Some(next) => {
                    self.start += next;
                    self.skipping = false;
                    return Ok(true);
                }
                None if self.eof => return Ok(false),
                None => {
                    self.start = self.buffer.len() - newline_kept;
                    self.fill()?;
                }
            }
        }
    }

    fn next_document(&mut self) -> std::io::Result<Option<RawDocument>> {
        loop {
            if !self.bom_checked {
                if self.buffer.len() < BOM.len() && !self.eof {
                    self.fill()?;
                    continue;
                }
                self.bom_checked = true;
                if self.buffer.starts_with(BOM) {
                    self.start = BOM.len();
                }
            }
            if self.skipping && !self.skip()? {
                return Ok(None);
            }
            let text = &self.buffer[self.start..];
            let blank = text.iter().take_while(|b| b.is_ascii_whitespace()).count();
            let offset = self.start + blank;
            if offset == self.buffer.len() {
                if self.eof {
                    return Ok(None);
                }
                self.start = offset;
                self.fill()?;
                continue;
            }
            match step(&self.buffer[offset..], self.eof) {
                Step::Document(length) => {
                    self.start = offset + length;
                    let bytes = self.buffer[offset..offset + length].to_vec();
                    return Ok(Some(self.document(offset, Ok(bytes))));
                }
                Step::Invalid(at, reason) => return Ok(Some(self.bad(offset, at, reason))),
                Step::Incomplete if self.buffer.len() - offset > self.max_bytes => {
                    let reason = format!("a document longer than {} bytes", self.max_bytes);
                    let mut document = self.bad(offset, self.max_bytes, reason);
                    document.too_large = true;
                    return Ok(Some(document));
                }
                Step::Incomplete => {
                    self.start = offset;
                    self.fill()?;
                }
            }
        }
    }
}

impl<R: Read> Iterator for DocumentReader<R> {
    type Item = std::io::Result<RawDocument>;

    fn next(&mut self) -> Option<Self::Item> {
        self.next_document().transpose()
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

    /// A reader handing out at most `chunk` bytes per read.
    struct Trickle<'a> {
        bytes: &'a [u8],
        chunk: usize,
    }

    impl Read for Trickle<'_> {
        fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
            let n = self.chunk.min(out.len()).min(self.bytes.len());
            out[..n].copy_from_slice(&self.bytes[..n]);
            self.bytes = &self.bytes[n..];
            Ok(n)
        }
    }

    /// A lone lead byte is not UTF-8 where the input ends (the Lambda's `data_not_utf8`); a
    /// document the read-ahead buffer cut inside a character is not called so for that cut.
    #[test]
    fn an_incomplete_character_is_not_utf8_only_where_the_document_ends() {
        for input in [&b"\xe5"[..], b"\xe9\n", b"[1]\n\xe5"] {
            let got: Vec<RawDocument> = DocumentReader::new(input, 1_000)
                .map(Result::unwrap)
                .collect();
            let bad = got.iter().find(|d| d.bytes.is_err()).unwrap();
            assert!(!bad.skipped_cut && bad.skipped_not_utf8(), "{input:?}");
        }
        // `x` and 2-byte characters, read 100 bytes at a time: the first chunk ends inside one.
        let mut long = b"x".to_vec();
        long.extend("\u{e9}".repeat(2_000).as_bytes());
        let reader = DocumentReader::new(
            Trickle {
                bytes: &long,
                chunk: 100,
            },
            usize::MAX,
        );
        let first = reader.map(Result::unwrap).next().unwrap();
        assert!(first.skipped_cut, "{} bytes held", first.skipped.len());
        assert!(std::str::from_utf8(&first.skipped).is_err());
        assert!(!first.skipped_not_utf8());
        // The same document whole is still judged by its bytes: valid UTF-8, not JSON.
        let whole: Vec<RawDocument> = DocumentReader::new(&long[..], usize::MAX)
            .map(Result::unwrap)
            .collect();
        assert!(!whole[0].skipped_not_utf8());
    }

    /// What the streaming reader finds, in the terms of `values`.
    fn streamed(bytes: &[u8], chunk: usize) -> Vec<(usize, Result<Value, usize>)> {
        DocumentReader::new(Trickle { bytes, chunk }, usize::MAX)
            .map(|d| {
                let d = d.unwrap();
                let value = d.bytes.map(|b| serde_json::from_slice(&b).unwrap());
                (d.offset as usize, value.map_err(|e| e.offset))
            })
            .collect()
    }

    #[test]
    fn the_stream_reader_frames_as_the_buffer_reader_does() {
        let cases: [&[u8]; 9] = [
            b"{\"a\":1}\n{\"a\":,}\n{\"a\":3}",
            b"{\"a\":\"cut\n{\"a\":2}\n",
            b"{\n  \"a\": 1,\n  \"b\": [1,],\n  \"c\": {}\n}\n[4]",
            b"\xEF\xBB\xBF{\"a\":1}\r\n{\"a\":2}\r\n",
            b"{\"a\":1}\r{\"a\":2}\r{\"a\":3}",
            b"{\"a\":1}{\"a\":2}[3] 12 13",
            b" \n\t ",
            b"{\"a\":1",
            b"{\"a\":1}\n{x\n  {\"b\":2}\n{\"c\":3}",
        ];
        for case in cases {
            for chunk in [1, 2, 3, 7, 64, 1 << 20] {
                assert_eq!(streamed(case, chunk), values(case), "{chunk}: {case:?}");
            }
        }
    }

    #[test]
    fn the_stream_reader_refuses_a_document_longer_than_its_limit_and_goes_on() {
        let mut bytes = b"{\"a\":\"".to_vec();
        bytes.extend(std::iter::repeat_n(b'x', 10_000));
        bytes.extend_from_slice(b"\"}\n{\"b\":2}\n");
        let got: Vec<RawDocument> = DocumentReader::new(
            Trickle {
                bytes: &bytes,
                chunk: 100,
            },
            1_000,
        )
        .map(Result::unwrap)
        .collect();
        assert_eq!(got.len(), 2);
        assert!(
            got[0].too_large
                && got[0]
                    .bytes
                    .as_ref()
                    .unwrap_err()
                    .reason
                    .contains("longer than 1000")
        );
        assert_eq!(document_text(b"{}", 1), Err(Code::RecordTooLarge));
        assert_eq!(
            document_text(b"{\"a\":\"\xFF\"}", 100),
            Err(Code::DataNotUtf8)
        );
        assert_eq!(document_text(b"{}", 100), Ok("{}"));
        assert_eq!(got[1].bytes.as_deref(), Ok(&b"{\"b\":2}"[..]));
        assert_eq!(got[1].offset as usize, bytes.len() - 8);
    }

    proptest::proptest! {
        /// Any mix of documents, broken ones and line endings, read in any chunks: the same
        /// documents as the buffer reader (valid UTF-8; invalid UTF-8 is the commands'
        /// `data_not_utf8`, checked on the document's bytes).
        #[test]
        fn any_chunking_frames_any_input_alike(
            pieces in proptest::collection::vec(0usize..9, 0..12),
            chunk in 1usize..40,
        ) {
            let parts: [&str; 9] = ["{\"a\":1}", "[1,2]", "{\"a\":", "\n", "\r\n", "\r", " ", "{\"s\":\"x\\\"y\"}", "7"];
            let text: String = pieces.iter().map(|&i| parts[i]).collect();
            proptest::prop_assert_eq!(streamed(text.as_bytes(), chunk), values(text.as_bytes()));
            // Text known to be UTF-8 frames as its bytes do, BOM included.
            let with_bom = format!("\u{feff}{text}");
            for text in [text.as_str(), with_bom.as_str()] {
                let as_text: Vec<Document> = documents_in(text).collect();
                proptest::prop_assert_eq!(as_text, documents(text.as_bytes()).collect::<Vec<_>>());
            }
        }
    }
}

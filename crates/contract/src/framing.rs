//! JSON-lines framing, in both directions: how several events share one Firehose record (the
//! producer aggregates them as JSON lines, Firehose's `RecordDeAggregation` processor with
//! sub-record type JSON splits them back, at most [`FIREHOSE_MAX_SUB_RECORDS`] per record), and
//! how the Lambda returns the events of a record (compact JSON, one per line), which the local
//! pipeline reads back row by row
//! (<https://docs.aws.amazon.com/firehose/latest/dev/dynamic-partitioning-multirecord-deaggergation.html>).

use serde_json::Value;

use crate::documents::documents;
use crate::json_text;
use crate::limits::FIREHOSE_MAX_SUB_RECORDS;

/// What ends every event in a record.
pub const LINE_DELIMITER: u8 = b'\n';
/// The `SubRecordType` of the stream's `RecordDeAggregation` processor
/// (`deAggregationSubRecordType` in `infra/defaults.json`).
pub const SUB_RECORD_TYPE: &str = "JSON";

/// Appends one event (compact JSON, no newline inside) and its delimiter.
pub fn push_line(out: &mut Vec<u8>, json: &[u8]) {
    out.reserve(json.len() + 1);
    out.extend_from_slice(json);
    out.push(LINE_DELIMITER);
}

/// Turns one event's compact JSON into its line, in place (no copy).
pub fn into_line(mut json: Vec<u8>) -> Vec<u8> {
    json.push(LINE_DELIMITER);
    json
}

/// Appends `value` as one line of compact JSON (the text `serde_json::to_vec` gives,
/// [`json_text`]).
pub fn write_line(out: &mut Vec<u8>, value: &Value) {
    json_text::write_value(out, value);
    out.push(LINE_DELIMITER);
}

/// The non-empty lines of JSON-lines data (the Lambda's output of a record).
pub fn lines(data: &[u8]) -> impl Iterator<Item = &[u8]> {
    data.split(|b| *b == LINE_DELIMITER)
        .filter(|line| !line.is_empty())
}

/// `RecordDeAggregation` (JSON): a record's JSON documents (JSON lines, or documents simply
/// concatenated), each trimmed of surrounding whitespace. A record with no document, more than
/// [`FIREHOSE_MAX_SUB_RECORDS`] documents, or bytes that are not JSON is left whole: the Lambda
/// then judges it (JSON lines are valid Lambda input; garbage fails with `json_invalid` and is
/// kept in the error prefix).
pub fn sub_records(record: &[u8]) -> Vec<&[u8]> {
    let mut starts = Vec::new();
    for document in documents(record) {
        if document.value.is_err() || starts.len() == FIREHOSE_MAX_SUB_RECORDS {
            return vec![record];
        }
        starts.push(document.offset);
    }
    if starts.is_empty() {
        return vec![record];
    }
    let mut subs = Vec::with_capacity(starts.len());
    for (i, start) in starts.iter().enumerate() {
        let end = starts.get(i + 1).copied().unwrap_or(record.len());
        if let Some(bytes) = record.get(*start..end) {
            subs.push(bytes.trim_ascii());
        }
    }
    subs
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_written_are_the_lines_read_and_the_sub_records_split() {
        let mut record = Vec::new();
        push_line(&mut record, br#"{"a":1}"#);
        write_line(&mut record, &serde_json::json!({"a": 2}));
        assert_eq!(record, b"{\"a\":1}\n{\"a\":2}\n");
        assert_eq!(
            lines(&record).collect::<Vec<_>>(),
            vec![&b"{\"a\":1}"[..], b"{\"a\":2}"]
        );
        assert_eq!(sub_records(&record), lines(&record).collect::<Vec<_>>());
        assert_eq!(into_line(b"{}".to_vec()), b"{}\n");
    }

    #[test]
    fn json_lines_and_concatenated_documents_split_into_sub_records() {
        let lines = b"{\"a\":1}\n{\"a\":2}\n\n{\"a\":3}\n";
        assert_eq!(
            sub_records(lines),
            vec![&b"{\"a\":1}"[..], b"{\"a\":2}", b"{\"a\":3}"]
        );
        assert_eq!(
            sub_records(b"{\"a\":1}{\"b\":[2]}"),
            vec![&b"{\"a\":1}"[..], b"{\"b\":[2]}"]
        );
        assert_eq!(
            sub_records(b"{\"a\":1}\n"),
            vec![&b"{\"a\":1}"[..]],
            "one document: trimmed"
        );
        assert_eq!(
            sub_records(b"  \n"),
            vec![&b"  \n"[..]],
            "no document: untouched"
        );
    }

    #[test]
    fn garbage_and_oversized_records_stay_whole() {
        let bad = b"{\"a\":1}\n{\"a\":";
        assert_eq!(sub_records(bad), vec![&bad[..]]);
        let many: Vec<u8> = (0..=FIREHOSE_MAX_SUB_RECORDS)
            .flat_map(|i| format!("{{\"i\":{i}}}\n").into_bytes())
            .collect();
        assert_eq!(sub_records(&many).len(), 1);
        let most: Vec<u8> = (0..FIREHOSE_MAX_SUB_RECORDS)
            .flat_map(|i| format!("{{\"i\":{i}}}\n").into_bytes())
            .collect();
        assert_eq!(sub_records(&most).len(), FIREHOSE_MAX_SUB_RECORDS);
    }
}

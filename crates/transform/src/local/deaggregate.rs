//! `RecordDeAggregation` with `SubRecordType` JSON: a record holding several JSON documents
//! (JSON lines, or documents simply concatenated) becomes one sub-record per document, at most
//! 500 (<https://docs.aws.amazon.com/firehose/latest/dev/dynamic-partitioning-multirecord-deaggergation.html>).

use serde::Deserialize;

use crate::documents::documents;

/// Sub-records per record that `RecordDeAggregation` splits at most.
pub const MAX_SUB_RECORDS: usize = 500;

/// Splits a record into its JSON documents' bytes (surrounding whitespace trimmed, so a lone
/// document loses the producer's trailing newline). A record with no document, more than
/// [`MAX_SUB_RECORDS`] documents, or bytes that are not JSON is left whole: the Lambda then judges it (JSON lines are valid Lambda input; garbage fails
/// with `json_invalid` and is kept in the error prefix).
pub fn split(record: &[u8]) -> Vec<&[u8]> {
    let mut starts = Vec::new();
    for document in documents(record) {
        if document.value.is_err() || starts.len() == MAX_SUB_RECORDS {
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

/// The `class_uid` of a record's first event, if it has one (for routing to its stream). Only
/// that field is read; the rest of the document is skipped without building values.
pub fn class_uid_of(record: &[u8]) -> Option<i64> {
    #[derive(Deserialize)]
    struct Probe {
        #[serde(default)]
        class_uid: Option<serde_json::Value>,
    }
    let first = serde_json::Deserializer::from_slice(record)
        .into_iter::<Probe>()
        .next()?;
    first.ok()?.class_uid?.as_i64()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_lines_and_concatenated_documents_split_into_sub_records() {
        let lines = b"{\"a\":1}\n{\"a\":2}\n\n{\"a\":3}\n";
        assert_eq!(
            split(lines),
            vec![&b"{\"a\":1}"[..], b"{\"a\":2}", b"{\"a\":3}"]
        );
        assert_eq!(
            split(b"{\"a\":1}{\"b\":[2]}"),
            vec![&b"{\"a\":1}"[..], b"{\"b\":[2]}"]
        );
        assert_eq!(
            split(b"{\"a\":1}\n"),
            vec![&b"{\"a\":1}"[..]],
            "one document: trimmed"
        );
        assert_eq!(split(b"  \n"), vec![&b"  \n"[..]], "no document: untouched");
    }

    #[test]
    fn garbage_and_oversized_records_stay_whole() {
        let bad = b"{\"a\":1}\n{\"a\":";
        assert_eq!(split(bad), vec![&bad[..]]);
        let many: Vec<u8> = (0..=MAX_SUB_RECORDS)
            .flat_map(|i| format!("{{\"i\":{i}}}\n").into_bytes())
            .collect();
        assert_eq!(split(&many).len(), 1);
        let most: Vec<u8> = (0..MAX_SUB_RECORDS)
            .flat_map(|i| format!("{{\"i\":{i}}}\n").into_bytes())
            .collect();
        assert_eq!(split(&most).len(), MAX_SUB_RECORDS);
    }

    #[test]
    fn the_class_of_the_first_event_routes_the_record() {
        assert_eq!(
            class_uid_of(b"{\"class_uid\":3002}\n{\"class_uid\":1}"),
            Some(3002)
        );
        assert_eq!(class_uid_of(b"not json"), None);
        assert_eq!(class_uid_of(b"{\"class_uid\":\"x\"}"), None);
    }
}

//! Issue 21, item 5: every data and dictionary page the lake writer produces is at most
//! Security Lake's "1 MB" read the stricter way (10^6 bytes uncompressed: levels and values), on
//! both paths' settings, for the values that push a page past its target: large strings of
//! every size up to one that fills a page alone, many small values in lists (levels), and
//! unique values that overflow a dictionary. Each page is read back from the file.
#![cfg(feature = "lake")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;

use arrow::array::{
    ArrayRef, BooleanArray, Int64Array, ListBuilder, RecordBatch, StringArray, StringBuilder,
    StructArray,
};
use arrow::datatypes::{DataType, Field};
use ocsf_firehose_transform::contract::parquet::{
    DIRECT_PARQUET, FIREHOSE_PARQUET, SECURITY_LAKE_MAX_DATA_PAGE_BYTES,
};
use ocsf_firehose_transform::lake::parquet::{encode, writer_properties};
use parquet::column::page::Page;
use parquet::file::reader::{FileReader, SerializedFileReader};

/// `(rows, the largest page's uncompressed bytes, pages)` of `batch` written with `settings`.
fn largest_page(
    batch: &RecordBatch,
    settings: &ocsf_firehose_transform::contract::parquet::ParquetSettings,
) -> (usize, usize, usize) {
    let bytes = encode(batch, &writer_properties(settings), settings.layout).unwrap();
    let path = std::env::temp_dir().join(format!("ocsf-pages-{}.parquet", uuid_like()));
    std::fs::write(&path, &bytes).unwrap();
    let reader = SerializedFileReader::new(std::fs::File::open(&path).unwrap()).unwrap();
    let (mut largest, mut pages) = (0, 0);
    for group in 0..reader.num_row_groups() {
        let row_group = reader.get_row_group(group).unwrap();
        for column in 0..row_group.num_columns() {
            let mut page_reader = row_group.get_column_page_reader(column).unwrap();
            while let Some(page) = page_reader.get_next_page().unwrap() {
                let size = match &page {
                    Page::DataPage { buf, .. }
                    | Page::DataPageV2 { buf, .. }
                    | Page::DictionaryPage { buf, .. } => buf.len(),
                };
                largest = largest.max(size);
                pages += 1;
            }
        }
    }
    std::fs::remove_file(&path).unwrap();
    (
        reader.metadata().file_metadata().num_rows() as usize,
        largest,
        pages,
    )
}

fn uuid_like() -> String {
    format!(
        "{}-{:?}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    )
}

/// A batch of `time`, `message` (the given strings), `flag`, `tags` (`tags_per_row` short
/// strings) and `obj.s` (the message again, nested).
fn batch(messages: Vec<String>, tags_per_row: usize) -> RecordBatch {
    let n = messages.len();
    let time: ArrayRef = Arc::new(Int64Array::from_iter_values(0..n as i64));
    let message: ArrayRef = Arc::new(StringArray::from(messages.clone()));
    let flag: ArrayRef = Arc::new(BooleanArray::from_iter(
        (0..n).map(|i| (i % 3 != 0).then_some(i % 2 == 0)),
    ));
    let mut tags = ListBuilder::new(StringBuilder::new());
    for row in 0..n {
        for t in 0..tags_per_row {
            tags.values()
                .append_value(format!("{}", (row * 31 + t) % 97));
        }
        tags.append(true);
    }
    let tags: ArrayRef = Arc::new(tags.finish());
    let nested: ArrayRef = Arc::new(StructArray::from(vec![(
        Arc::new(Field::new("s", DataType::Utf8, true)),
        Arc::new(StringArray::from(messages)) as ArrayRef,
    )]));
    RecordBatch::try_from_iter([
        ("time", time),
        ("message", message),
        ("flag", flag),
        ("tags", tags),
        ("obj", nested),
    ])
    .unwrap()
}

/// Strings of every size class, including ones near the limit, in a deterministic mix.
fn large_values() -> Vec<String> {
    let mut rng = 0x2545_f491_4f6c_dd1d_u64;
    let mut next = || {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        rng
    };
    let mut out = Vec::new();
    for i in 0..300 {
        let size = match i % 6 {
            0 => 990_000,
            1 => (next() % 500_000) as usize,
            2 => (next() % 70_000) as usize,
            3 => 65_000,
            4 => 1_000,
            _ => (next() % 300) as usize,
        };
        let c = char::from(b'a' + (i % 26) as u8);
        out.push(c.to_string().repeat(size));
    }
    out
}

#[test]
fn every_page_is_at_most_a_million_bytes_uncompressed() {
    let cases = [
        ("large values of every size", batch(large_values(), 1)),
        // Many small unique values (dictionaries overflow) and long lists (levels weigh).
        (
            "small unique values",
            batch((0..150_000).map(|i| format!("v{i:08}")).collect(), 0),
        ),
        (
            "long lists of short values",
            batch((0..20_000).map(|i| format!("{i}")).collect(), 60),
        ),
        (
            "values of a thousand bytes",
            batch((0..3_000).map(|i| format!("{i:01000}")).collect(), 2),
        ),
    ];
    for (name, batch) in &cases {
        for (path, settings) in [("firehose", FIREHOSE_PARQUET), ("direct", DIRECT_PARQUET)] {
            let (rows, largest, pages) = largest_page(batch, &settings);
            assert_eq!(rows, batch.num_rows());
            println!("{name} ({path}): {pages} pages, the largest {largest} bytes");
            assert!(
                largest <= SECURITY_LAKE_MAX_DATA_PAGE_BYTES,
                "{name} ({path}): a page of {largest} bytes"
            );
        }
    }
}

//! An object's Parquet footer, read with one ranged read of its tail (a second when the footer is
//! longer than the first read), and the few column chunks a check needs when the footer cannot
//! decide, fetched alone: never the whole object.

use std::sync::Arc;

use anyhow::Context;
use arrow::array::AsArray;
use arrow::datatypes::{Int32Type, Int64Type};
use bytes::Bytes;
use parquet::arrow::arrow_reader::{ArrowReaderMetadata, ParquetRecordBatchReaderBuilder};
use parquet::arrow::ProjectionMask;
use parquet::column::page::PageReader;
use parquet::errors::ParquetError;
use parquet::file::metadata::{ParquetMetaData, ParquetMetaDataReader};
use parquet::file::reader::{ChunkReader, Length};
use parquet::file::serialized_reader::SerializedPageReader;

use super::store::Lake;

/// Bytes of an object's tail read first until a footer has been met: most footers fit (ours are
/// 10 to 100 KiB, growing with the table's columns); a longer one costs a second read.
const FIRST_TAIL_BYTES: u64 = 64 * 1024;

/// Read beyond the longest footer met, once one has been: a footer a little longer than the
/// others still comes in the first read.
const TAIL_SLACK_BYTES: u64 = 4 * 1024;

/// The Parquet magic at both ends of an object.
const MAGIC: &[u8; 4] = b"PAR1";

/// Why an object's footer cannot be read.
#[derive(Debug)]
pub(crate) enum Unreadable {
    /// Not a Parquet object (no magic at the end, or too short).
    NotParquet(String),
    /// Ends like Parquet but its footer does not decode.
    BadFooter(String),
}

/// Reads and decodes the footer of `key` (`size` bytes).
pub(crate) async fn read_footer(
    lake: &Lake,
    key: &str,
    size: u64,
) -> anyhow::Result<Result<ParquetMetaData, Unreadable>> {
    if size < 12 {
        return Ok(Err(Unreadable::NotParquet(format!(
            "{size} bytes: shorter than any Parquet object"
        ))));
    }
    let first = match lake.longest_footer() {
        0 => FIRST_TAIL_BYTES,
        longest => longest + 8 + TAIL_SLACK_BYTES,
    }
    .min(size);
    let tail = lake.read(key, size - first, first).await?;
    let Some(end) = tail.len().checked_sub(8).and_then(|at| tail.get(at..)) else {
        return Ok(Err(Unreadable::NotParquet("short read".to_owned())));
    };
    if end.get(4..) != Some(&MAGIC[..]) {
        return Ok(Err(Unreadable::NotParquet(
            "does not end with Parquet's magic `PAR1`".to_owned(),
        )));
    }
    let length = u64::from(u32::from_le_bytes([end[0], end[1], end[2], end[3]]));
    if length + 8 > size - 4 {
        return Ok(Err(Unreadable::BadFooter(format!(
            "a footer of {length} bytes in an object of {size}"
        ))));
    }
    lake.footer_met(length);
    let metadata = if length + 8 <= tail.len() as u64 {
        let from = tail.len() - 8 - length as usize;
        tail.slice(from..tail.len() - 8)
    } else {
        lake.read(key, size - 8 - length, length).await?
    };
    Ok(ParquetMetaDataReader::decode_metadata(&metadata)
        .map_err(|e| Unreadable::BadFooter(e.to_string())))
}

/// Some byte ranges of one object, read as the Parquet reader asks for them: a column chunk is
/// decoded from the ranges holding it, nothing else of the object fetched.
struct Ranges {
    size: u64,
    ranges: Vec<(u64, Bytes)>,
}

impl Ranges {
    fn slice(&self, start: u64, length: usize) -> parquet::errors::Result<Bytes> {
        let found = self.ranges.iter().find(|(from, bytes)| {
            start >= *from && start + length as u64 <= *from + bytes.len() as u64
        });
        let Some((from, bytes)) = found else {
            return Err(ParquetError::General(format!(
                "bytes {start}..+{length} were not fetched"
            )));
        };
        let at = usize::try_from(start - from).unwrap_or(usize::MAX);
        bytes
            .get(at..at + length)
            .map(|_| bytes.slice(at..at + length))
            .ok_or_else(|| ParquetError::General("range out of bounds".to_owned()))
    }
}

impl Length for Ranges {
    fn len(&self) -> u64 {
        self.size
    }
}

impl ChunkReader for Ranges {
    type T = bytes::buf::Reader<Bytes>;

    fn get_read(&self, start: u64) -> parquet::errors::Result<Self::T> {
        let (from, bytes) = self
            .ranges
            .iter()
            .find(|(from, bytes)| start >= *from && start < *from + bytes.len() as u64)
            .ok_or_else(|| ParquetError::General(format!("byte {start} was not fetched")))?;
        let at = usize::try_from(start - from).unwrap_or(usize::MAX);
        Ok(bytes::Buf::reader(bytes.slice(at..)))
    }

    fn get_bytes(&self, start: u64, length: usize) -> parquet::errors::Result<Bytes> {
        self.slice(start, length)
    }
}

/// Fetches the column chunks of leaf columns `leaves` in every row group.
async fn fetch_chunks(
    lake: &Lake,
    key: &str,
    size: u64,
    metadata: &ParquetMetaData,
    leaves: &[usize],
) -> anyhow::Result<Ranges> {
    let mut ranges = Vec::new();
    for group in metadata.row_groups() {
        for &leaf in leaves {
            let (start, length) = group.column(leaf).byte_range();
            ranges.push((start, lake.read(key, start, length).await?));
        }
    }
    Ok(Ranges { size, ranges })
}

/// The values of one integer leaf column (`time`: i64, `class_uid`: i32 read as i64), `None`
/// for a null, in row order; `Ok(None)` when the column is not an integer column.
pub(crate) async fn integer_column(
    lake: &Lake,
    key: &str,
    size: u64,
    metadata: &ParquetMetaData,
    leaf: usize,
) -> anyhow::Result<Option<Vec<Option<i64>>>> {
    let ranges = fetch_chunks(lake, key, size, metadata, &[leaf]).await?;
    let metadata = Arc::new(metadata.clone());
    let mask = ProjectionMask::leaves(metadata.file_metadata().schema_descr(), [leaf]);
    let reader_metadata = ArrowReaderMetadata::try_new(metadata, Default::default())
        .with_context(|| format!("cannot read the schema of {key}"))?;
    let reader = ParquetRecordBatchReaderBuilder::new_with_metadata(ranges, reader_metadata)
        .with_projection(mask)
        .build()
        .with_context(|| format!("cannot read {key}"))?;
    let mut values = Vec::new();
    for batch in reader {
        let batch = batch.with_context(|| format!("cannot read {key}"))?;
        let Some(column) = batch.columns().first() else {
            return Ok(None);
        };
        if let Some(column) = column.as_primitive_opt::<Int64Type>() {
            values.extend(column.iter());
        } else if let Some(column) = column.as_primitive_opt::<Int32Type>() {
            values.extend(column.iter().map(|v| v.map(i64::from)));
        } else {
            return Ok(None);
        }
    }
    Ok(Some(values))
}

/// The largest page (data or dictionary, uncompressed: its levels and values) of leaf column
/// `leaf` in row group `group`, its chunk fetched and its pages decompressed one by one.
pub(crate) async fn largest_page(
    lake: &Lake,
    key: &str,
    size: u64,
    metadata: &ParquetMetaData,
    group: usize,
    leaf: usize,
) -> anyhow::Result<usize> {
    let row_group = metadata.row_group(group);
    let chunk = row_group.column(leaf);
    let (start, length) = chunk.byte_range();
    let ranges = Ranges {
        size,
        ranges: vec![(start, lake.read(key, start, length).await?)],
    };
    let rows = usize::try_from(row_group.num_rows()).unwrap_or(0);
    let mut pages = SerializedPageReader::new(Arc::new(ranges), chunk, rows, None)
        .with_context(|| format!("cannot read the pages of {key}"))?;
    let mut largest = 0;
    while let Some(page) = pages
        .get_next_page()
        .with_context(|| format!("cannot read the pages of {key}"))?
    {
        largest = largest.max(page.buffer().len());
    }
    Ok(largest)
}

/// `batch` as one Parquet object written with `properties` (the tests' objects).
#[cfg(test)]
pub(crate) fn parquet_bytes(
    batch: &arrow::array::RecordBatch,
    properties: Option<parquet::file::properties::WriterProperties>,
) -> Vec<u8> {
    let mut out = Vec::new();
    let mut writer = parquet::arrow::ArrowWriter::try_new(&mut out, batch.schema(), properties)
        .expect("a writer for the test batch");
    writer.write(batch).expect("the test batch written");
    writer.close().expect("the test object closed");
    out
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow::array::{Int64Array, RecordBatch, StringArray};
    use arrow::datatypes::{DataType, Field, Schema};
    use parquet::file::properties::WriterProperties;

    use super::*;
    use crate::audit::store::Store;

    /// A Parquet object of `rows` rows: `time` 0.. and a `message` of `text_bytes` each, one page
    /// per column chunk.
    fn object(rows: i64, text_bytes: usize) -> Vec<u8> {
        let schema = Arc::new(Schema::new(vec![
            Field::new("time", DataType::Int64, true),
            Field::new("message", DataType::Utf8, true),
        ]));
        let text = "x".repeat(text_bytes);
        let batch = RecordBatch::try_new(
            schema.clone(),
            vec![
                Arc::new(Int64Array::from_iter_values(0..rows)),
                Arc::new(StringArray::from_iter_values((0..rows).map(|_| &text))),
            ],
        )
        .unwrap();
        let properties = WriterProperties::builder()
            .set_dictionary_enabled(false)
            .set_data_page_size_limit(64 * 1024 * 1024)
            .build();
        parquet_bytes(&batch, Some(properties))
    }

    /// An object of `columns` integer columns of 1,000 rows: a footer of ~100 bytes a column.
    fn wide(columns: usize) -> Vec<u8> {
        let fields: Vec<Field> = (0..columns)
            .map(|i| Field::new(format!("c{i}"), DataType::Int64, true))
            .collect();
        let schema = Arc::new(Schema::new(fields));
        let values: Vec<arrow::array::ArrayRef> = (0..columns)
            .map(|_| Arc::new(Int64Array::from_iter_values(0..1000)) as _)
            .collect();
        let batch = RecordBatch::try_new(schema, values).unwrap();
        parquet_bytes(&batch, None)
    }

    fn lake_with(files: &[(&str, Vec<u8>)]) -> (Scratch, Lake) {
        let dir = Scratch::new();
        for (name, bytes) in files {
            std::fs::write(dir.0.join(name), bytes).unwrap();
        }
        let lake = Lake::new(Store::Dir(dir.0.clone()));
        (dir, lake)
    }

    /// A scratch folder, removed on drop.
    struct Scratch(std::path::PathBuf);

    impl Scratch {
        fn new() -> Scratch {
            let path = std::env::temp_dir().join(format!("ocsf-audit-{}", uuid::Uuid::new_v4()));
            std::fs::create_dir_all(&path).unwrap();
            Scratch(path)
        }
    }

    impl Drop for Scratch {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    #[tokio::test]
    async fn a_footer_is_read_from_the_tail_with_a_second_read_only_when_longer() {
        let small = object(10, 10);
        let size = small.len() as u64;
        let (_dir, lake) = lake_with(&[("a", small)]);
        let metadata = read_footer(&lake, "a", size).await.unwrap().unwrap();
        assert_eq!(metadata.file_metadata().num_rows(), 10);
        assert_eq!(
            lake.read_so_far(),
            (size, 1),
            "an object under 64 KiB: read whole, once"
        );
        // A footer met earlier that was much shorter: this one takes a second read.
        let (dir, lake) = lake_with(&[("b", wide(200))]);
        let size = std::fs::metadata(dir.0.join("b")).unwrap().len();
        lake.footer_met(1);
        read_footer(&lake, "b", size).await.unwrap().unwrap();
        let (read, reads) = lake.read_so_far();
        assert_eq!(reads, 2);
        assert!(
            read < size / 10,
            "{read} of {size}: the footer, not the data"
        );
    }

    #[tokio::test]
    async fn what_is_not_parquet_or_has_a_broken_footer_is_told() {
        let mut broken = object(10, 10);
        let end = broken.len() - 8;
        broken[end - 12..end].fill(0xff);
        let (dir, lake) = lake_with(&[("json", b"{\"a\":1}\n".to_vec()), ("broken", broken)]);
        let not = read_footer(&lake, "json", 8).await.unwrap();
        assert!(matches!(not, Err(Unreadable::NotParquet(_))));
        let size = std::fs::metadata(dir.0.join("broken")).unwrap().len();
        let bad = read_footer(&lake, "broken", size).await.unwrap();
        assert!(matches!(bad, Err(Unreadable::BadFooter(_))), "{bad:?}");
    }

    #[tokio::test]
    async fn a_column_and_the_largest_page_are_read_from_their_chunk_alone() {
        let bytes = object(40, 50_000);
        let size = bytes.len() as u64;
        let (_dir, lake) = lake_with(&[("o", bytes)]);
        let metadata = read_footer(&lake, "o", size).await.unwrap().unwrap();
        let before = lake.read_so_far().0;
        let times = integer_column(&lake, "o", size, &metadata, 0)
            .await
            .unwrap();
        assert_eq!(times, Some((0..40).map(Some).collect()));
        let time_chunk = metadata.row_group(0).column(0).byte_range().1;
        assert_eq!(
            lake.read_so_far().0 - before,
            time_chunk,
            "only the time chunk"
        );
        assert_eq!(
            integer_column(&lake, "o", size, &metadata, 1)
                .await
                .unwrap(),
            None
        );
        let largest = largest_page(&lake, "o", size, &metadata, 0, 1)
            .await
            .unwrap();
        assert!(
            largest >= 40 * 50_000,
            "{largest}: one page of every message"
        );
    }
}

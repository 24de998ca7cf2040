//! The lake writer: Security Lake objects from the Lambda's rows, shared by the two paths that
//! write Parquet themselves (the local pipeline, Firehose's stand-in, and the direct path of the
//! producer and `ocsf-firehose upload`):
//!
//! * [`Buffers`]: rows buffered per key (a Security Lake partition), with their bytes and age,
//!   taken out whole when a rule says the buffer is due;
//! * [`ObjectWriter`]: the rows of one partition → one Parquet object with the columns of the
//!   class's Glue table ([`parquet`]), rows sorted by `time`, with the settings of the path
//!   ([`FIREHOSE_PARQUET`](crate::contract::parquet::FIREHOSE_PARQUET) or
//!   [`DIRECT_PARQUET`](crate::contract::parquet::DIRECT_PARQUET));
//! * [`partition_path`]: `region=…/accountId=…/eventDay=…/` below a source location, from the
//!   infrastructure's template.
//!
//! * [`file::write_atomically`]: a file complete or absent, for the objects written to folders.
//!
//! Where the object goes (a file, an S3 key) is the caller's: the local pipeline names and writes
//! files as Firehose names objects, the producer puts them into its store.

mod error;
pub mod file;
mod hive;
pub mod parquet;

pub use error::LakeError;

use std::collections::BTreeMap;
use std::time::Instant;

use ::parquet::file::properties::WriterProperties;
use arrow::datatypes::SchemaRef;
use time::OffsetDateTime;

use crate::contract::parquet::{ParquetLayout, ParquetSettings};
use crate::contract::partition::PartitionKeys;
use crate::contract::prefix::{self, PARTITION_TEMPLATE};
use crate::table::TableModel;

/// `region=<region>/accountId=<accountId>/eventDay=<YYYYMMDD>/`: the partition's folder below its
/// source location (the infrastructure's `partitionTemplate`, evaluated as Firehose does).
pub fn partition_path(keys: &PartitionKeys) -> String {
    prefix::expand(
        PARTITION_TEMPLATE,
        &prefix::Values {
            source: "",
            partition: Some(keys),
            error_output_type: None,
            timestamp: OffsetDateTime::UNIX_EPOCH,
        },
    )
}

/// Rows waiting for one object, each with the caller's `T` (its arrival time, its reply…).
#[derive(Debug)]
pub struct Buffer<T> {
    /// The rows (the Lambda's JSON) and what the caller keeps with each.
    pub rows: Vec<(Vec<u8>, T)>,
    /// Bytes of the rows.
    pub bytes: usize,
    /// When the first row arrived.
    pub opened: Instant,
}

impl<T> Buffer<T> {
    fn new() -> Self {
        Buffer {
            rows: Vec::new(),
            bytes: 0,
            opened: Instant::now(),
        }
    }

    /// The rows, for [`ObjectWriter::encode`].
    pub fn row_slices(&self) -> Vec<&[u8]> {
        self.rows.iter().map(|(row, _)| row.as_slice()).collect()
    }
}

/// Buffers per key (a partition, an error output…), in key order.
#[derive(Debug)]
pub struct Buffers<K, T> {
    map: BTreeMap<K, Buffer<T>>,
    bytes: usize,
}

impl<K, T> Default for Buffers<K, T> {
    fn default() -> Self {
        Buffers {
            map: BTreeMap::new(),
            bytes: 0,
        }
    }
}

impl<K: Ord + Clone, T> Buffers<K, T> {
    /// Adds a row to the buffer of `key` (opening it).
    pub fn push(&mut self, key: K, row: Vec<u8>, extra: T) {
        self.bytes += row.len();
        let buffer = self.map.entry(key).or_insert_with(Buffer::new);
        buffer.bytes += row.len();
        buffer.rows.push((row, extra));
    }

    /// Bytes in every buffer.
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    /// Open buffers.
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// Whether no buffer is open.
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    /// Takes out every buffer `due` says is due, in key order.
    pub fn take_due(&mut self, mut due: impl FnMut(&K, &Buffer<T>) -> bool) -> Vec<(K, Buffer<T>)> {
        let keys: Vec<K> = self
            .map
            .iter()
            .filter(|(key, buffer)| due(key, buffer))
            .map(|(key, _)| key.clone())
            .collect();
        keys.into_iter()
            .filter_map(|key| self.take(&key).map(|buffer| (key, buffer)))
            .collect()
    }

    /// Takes out the buffer of `key`.
    pub fn take(&mut self, key: &K) -> Option<Buffer<T>> {
        let buffer = self.map.remove(key)?;
        self.bytes -= buffer.bytes;
        Some(buffer)
    }

    /// The key of the largest buffer among those `eligible` accepts.
    pub fn largest(&self, mut eligible: impl FnMut(&K) -> bool) -> Option<K> {
        self.map
            .iter()
            .filter(|(key, _)| eligible(key))
            .max_by_key(|(_, buffer)| buffer.bytes)
            .map(|(key, _)| key.clone())
    }
}

/// One partition's rows encoded as one object.
#[derive(Debug)]
pub struct Encoded {
    /// The Parquet bytes (empty when no row fits).
    pub bytes: Vec<u8>,
    /// Rows in the object.
    pub rows: usize,
    /// Rows the table cannot hold: `(index in the input, why)`.
    pub rejected: Vec<(usize, LakeError)>,
}

/// Writes the objects of one table with one path's settings.
#[derive(Debug, Clone)]
pub struct ObjectWriter {
    schema: SchemaRef,
    properties: WriterProperties,
    layout: ParquetLayout,
}

impl ObjectWriter {
    /// The writer of `table`'s objects with `settings`.
    pub fn new(table: &TableModel, settings: &ParquetSettings) -> Self {
        ObjectWriter {
            schema: parquet::arrow_schema(table),
            properties: parquet::writer_properties(settings),
            layout: settings.layout,
        }
    }

    /// The rows (the Lambda's JSON, one object each) as one Parquet object sorted by `time`; a
    /// row the table cannot hold is rejected alone. `Err` only when encoding fails as a whole.
    pub fn encode(&self, rows: &[&[u8]]) -> Result<Encoded, LakeError> {
        let converted = parquet::convert(&self.schema, rows)?;
        let Some(batch) = converted.batch.filter(|b| b.num_rows() > 0) else {
            return Ok(Encoded {
                bytes: Vec::new(),
                rows: 0,
                rejected: converted.rejected,
            });
        };
        Ok(Encoded {
            bytes: parquet::encode(&batch, &self.properties, self.layout)?,
            rows: batch.num_rows(),
            rejected: converted.rejected,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::contract::parquet::DIRECT_PARQUET;
    use crate::schema::Schema;
    use crate::test_support::fixture;
    use crate::version::OcsfVersion;

    #[test]
    fn buffers_count_bytes_and_give_out_due_and_largest() {
        let mut buffers: Buffers<&str, u32> = Buffers::default();
        buffers.push("a", vec![0; 10], 1);
        buffers.push("b", vec![0; 30], 2);
        buffers.push("a", vec![0; 5], 3);
        assert_eq!((buffers.bytes(), buffers.len()), (45, 2));
        assert_eq!(buffers.largest(|_| true), Some("b"));
        assert_eq!(buffers.largest(|k| *k != "b"), Some("a"));
        let due = buffers.take_due(|_, b| b.bytes >= 15);
        assert_eq!(due.len(), 2);
        assert_eq!(due[0].1.rows.len(), 2, "a: both rows, in order");
        assert_eq!(buffers.bytes(), 0);
        assert!(buffers.is_empty());
    }

    #[test]
    fn an_object_is_zstd_parquet_with_the_table_s_rows_and_the_partition_path_is_the_layout() {
        let table = TableModel::new(
            Schema::get(OcsfVersion::V1_1_0).unwrap(),
            3002,
            &Default::default(),
        )
        .unwrap();
        let writer = ObjectWriter::new(&table, &DIRECT_PARQUET);
        let mut row = fixture("authentication");
        table.fit(&mut row);
        let row = row.to_string();
        let encoded = writer
            .encode(&[row.as_bytes(), br#"{"no_such_column":1}"#])
            .unwrap();
        assert_eq!((encoded.rows, encoded.rejected.len()), (1, 1));
        assert_eq!(&encoded.bytes[..4], b"PAR1");
        let path = std::env::temp_dir().join(format!("ocsf-lake-{}.parquet", std::process::id()));
        std::fs::write(&path, &encoded.bytes).unwrap();
        let reader =
            ::parquet::file::reader::SerializedFileReader::new(std::fs::File::open(&path).unwrap())
                .unwrap();
        let metadata = ::parquet::file::reader::FileReader::metadata(&reader);
        let codec = metadata.row_group(0).column(0).compression();
        assert!(
            matches!(codec, ::parquet::basic::Compression::ZSTD(_)),
            "{codec:?}"
        );
        let keys = PartitionKeys {
            region: "us-east-1".into(),
            account_id: "123456789012".into(),
            event_day: "20230428".into(),
        };
        assert_eq!(
            partition_path(&keys),
            "region=us-east-1/accountId=123456789012/eventDay=20230428/"
        );
    }
}

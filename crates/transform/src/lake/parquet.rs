//! Parquet with the Glue table's columns: the Arrow schema is derived from the same
//! [`TableModel`] as the generated Glue table, rows are decoded from the Lambda's JSON with
//! `arrow-json` (strict: a field without a column is an error, never silently dropped), sorted
//! by `time`, and written with the settings of the contract
//! ([`FIREHOSE_PARQUET`](crate::contract::parquet::FIREHOSE_PARQUET) on the Firehose path:
//! SNAPPY, 768 KiB pages, 256 MiB row groups, writer V1 and Hive's layout (`super::hive`), as
//! Firehose's `ParquetSerDe`; [`DIRECT_PARQUET`](crate::contract::parquet::DIRECT_PARQUET), zstd
//! and Parquet's standard layout through the `parquet` crate's Arrow writer, on the direct path).

use std::sync::Arc;

use arrow::array::{Array, AsArray, RecordBatch};
use arrow::compute::{sort_to_indices, take_record_batch};
use arrow::datatypes::{DataType, Field, Fields, Int64Type, Schema, SchemaRef, TimeUnit};
use arrow::json::ReaderBuilder;
use parquet::arrow::arrow_writer::ArrowWriterOptions;
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, GzipLevel, ZstdLevel};
use parquet::file::metadata::SortingColumn;
use parquet::file::properties::{EnabledStatistics, WriterProperties, WriterVersion};
use parquet::schema::types::ColumnPath;

use super::{hive, LakeError};
use crate::contract::parquet::{
    ParquetCompression, ParquetLayout, ParquetSettings, ParquetWriterVersion,
    SECURITY_LAKE_MAX_DATA_PAGE_BYTES, STATISTICS_COLUMNS,
};
use crate::table::{Column, ColumnType, Scalar, TableModel};

/// The time zone of `timestamp` columns: instants, adjusted to UTC.
const UTC: &str = "+00:00";

/// The Arrow schema of a table (every field nullable, like Glue columns).
pub fn arrow_schema(table: &TableModel) -> SchemaRef {
    Arc::new(Schema::new(
        table.columns().iter().map(field).collect::<Vec<_>>(),
    ))
}

fn field(column: &Column) -> Field {
    Field::new(column.name, data_type(&column.ty), true)
}

fn data_type(ty: &ColumnType) -> DataType {
    match ty {
        ColumnType::Scalar(Scalar::Boolean) => DataType::Boolean,
        ColumnType::Scalar(Scalar::Int) => DataType::Int32,
        ColumnType::Scalar(Scalar::Bigint) => DataType::Int64,
        ColumnType::Scalar(Scalar::Float) => DataType::Float32,
        ColumnType::Scalar(Scalar::Timestamp) => {
            DataType::Timestamp(TimeUnit::Millisecond, Some(UTC.into()))
        }
        ColumnType::Scalar(Scalar::String | Scalar::Json) => DataType::Utf8,
        // Parquet's MAP layout names (`key_value`, `key`, `value`), as Hive and Spark write it.
        ColumnType::StringMap => DataType::Map(
            Arc::new(Field::new(
                "key_value",
                DataType::Struct(Fields::from(vec![
                    Field::new("key", DataType::Utf8, false),
                    Field::new("value", DataType::Utf8, true),
                ])),
                false,
            )),
            false,
        ),
        ColumnType::Struct(fields) => {
            DataType::Struct(fields.iter().map(field).collect::<Fields>())
        }
        ColumnType::Array(element) => {
            DataType::List(Arc::new(Field::new("element", data_type(element), true)))
        }
    }
}

/// Decodes JSON rows (one object each) into one batch; `Err` with the decoder's error.
fn decode(schema: &SchemaRef, rows: &[&[u8]]) -> Result<Option<RecordBatch>, LakeError> {
    let mut decoder = ReaderBuilder::new(schema.clone())
        .with_strict_mode(true)
        .with_batch_size(rows.len().max(1))
        .build_decoder()
        .map_err(LakeError::RowUnfit)?;
    for row in rows {
        let mut rest: &[u8] = row;
        while !rest.is_empty() {
            let read = decoder.decode(rest).map_err(LakeError::RowUnfit)?;
            if read == 0 {
                break;
            }
            rest = rest.get(read..).unwrap_or_default();
        }
        // A newline between rows: the decoder reads a stream of JSON values.
        decoder.decode(b"\n").map_err(LakeError::RowUnfit)?;
    }
    decoder.flush().map_err(LakeError::RowUnfit)
}

/// Rows decoded into one batch sorted by `time`, and the rows the table cannot hold.
pub struct Converted {
    /// The rows that fit, sorted by `time`.
    pub batch: Option<RecordBatch>,
    /// Rows that do not fit their columns: `(index in the input, why)`.
    pub rejected: Vec<(usize, LakeError)>,
}

/// Converts rows; a row that does not decode is rejected alone.
pub fn convert(schema: &SchemaRef, rows: &[&[u8]]) -> Result<Converted, LakeError> {
    let (batch, rejected) = match decode(schema, rows) {
        Ok(batch) => (batch, Vec::new()),
        Err(_) => {
            let mut good = Vec::new();
            let mut rejected = Vec::new();
            for (index, row) in rows.iter().enumerate() {
                match decode(schema, &[row]) {
                    Ok(_) => good.push(*row),
                    Err(reason) => rejected.push((index, reason)),
                }
            }
            (decode(schema, &good)?, rejected)
        }
    };
    let batch = match batch {
        Some(batch) => Some(sort_by_time(&batch)?),
        None => None,
    };
    Ok(Converted { batch, rejected })
}

fn sort_by_time(batch: &RecordBatch) -> Result<RecordBatch, LakeError> {
    let Some(time) = batch.column_by_name("time") else {
        return Ok(batch.clone());
    };
    if in_time_order(time.as_ref()) {
        return Ok(batch.clone());
    }
    let indices = sort_to_indices(time, None, None).map_err(LakeError::Sort)?;
    take_record_batch(batch, &indices).map_err(LakeError::Sort)
}

/// Whether the rows are in `time` order already (nulls first, where the sort puts them): a
/// stream's events mostly arrive so, and then the batch is kept as it is, nothing copied.
fn in_time_order(time: &dyn Array) -> bool {
    let Some(time) = time.as_primitive_opt::<Int64Type>() else {
        return false;
    };
    let mut last: Option<i64> = None;
    time.iter().all(|value| match (last, value) {
        (Some(_), None) => false,
        (Some(before), Some(now)) if now < before => false,
        (_, None) => true,
        (_, Some(now)) => {
            last = Some(now);
            true
        }
    })
}

/// The `parquet` crate's writer properties for `settings` (the crate is built with SNAPPY and
/// ZSTD, the codecs of the two paths: GZIP would fail at the first write). Footers stay small:
/// statistics only for [`STATISTICS_COLUMNS`] (what queries prune on), at column-chunk level,
/// and no page offset index (objects hold one row group of few pages per column).
pub fn writer_properties(settings: &ParquetSettings) -> WriterProperties {
    let builder = WriterProperties::builder()
        .set_compression(match settings.compression {
            ParquetCompression::Uncompressed => Compression::UNCOMPRESSED,
            ParquetCompression::Gzip => Compression::GZIP(GzipLevel::default()),
            ParquetCompression::Snappy => Compression::SNAPPY,
            ParquetCompression::Zstd(level) => {
                Compression::ZSTD(ZstdLevel::try_new(level).unwrap_or_default())
            }
        })
        .set_writer_version(match settings.writer_version {
            ParquetWriterVersion::V1 => WriterVersion::PARQUET_1_0,
            ParquetWriterVersion::V2 => WriterVersion::PARQUET_2_0,
        })
        .set_data_page_size_limit(settings.page_size_bytes)
        .set_max_row_group_row_count(None)
        .set_max_row_group_bytes(Some(settings.block_size_bytes))
        .set_dictionary_enabled(settings.dictionary)
        .set_write_batch_size(1024)
        .set_statistics_enabled(EnabledStatistics::None)
        .set_offset_index_disabled(true)
        .set_created_by("ocsf-firehose".to_owned());
    STATISTICS_COLUMNS
        .iter()
        .fold(builder, |builder, path| {
            builder.set_column_statistics_enabled(
                ColumnPath::new(path.split('.').map(str::to_owned).collect()),
                EnabledStatistics::Chunk,
            )
        })
        .build()
}

/// The names a layout gives the groups of a list and a map.
struct GroupNames {
    list: &'static str,
    element: &'static str,
    map: &'static str,
}

impl GroupNames {
    fn of(layout: ParquetLayout) -> GroupNames {
        match layout {
            // Parquet's three-level list: `<column>.list.element`; the map's `key_value`.
            ParquetLayout::Standard => GroupNames {
                list: "list",
                element: "element",
                map: "key_value",
            },
            ParquetLayout::Hive => GroupNames {
                list: hive::LIST_GROUP,
                element: hive::LIST_ELEMENT,
                map: hive::MAP_GROUP,
            },
        }
    }
}

/// A leaf column of a batch.
struct LeafPath {
    path: ColumnPath,
    /// It holds no value at all (most of a table's columns in a given object).
    empty: bool,
    timestamp: bool,
}

/// The leaf columns of `batch`, named as `layout` names them.
fn leaf_paths(batch: &RecordBatch, layout: ParquetLayout) -> Vec<LeafPath> {
    fn walk(
        array: &dyn Array,
        names: &GroupNames,
        path: &mut Vec<String>,
        empty: bool,
        out: &mut Vec<LeafPath>,
    ) {
        let empty = empty || array.null_count() == array.len();
        match array.data_type() {
            DataType::Struct(_) => {
                if let Some(fields) = array.as_struct_opt() {
                    for (field, child) in fields.fields().iter().zip(fields.columns()) {
                        path.push(field.name().clone());
                        walk(child.as_ref(), names, path, empty, out);
                        path.pop();
                    }
                }
            }
            DataType::List(_) => {
                if let Some(list) = array.as_list_opt::<i32>() {
                    path.extend([names.list.to_owned(), names.element.to_owned()]);
                    let none = empty || list.values().is_empty();
                    walk(list.values().as_ref(), names, path, none, out);
                    path.truncate(path.len() - 2);
                }
            }
            DataType::Map(..) => {
                if let Some(map) = array.as_map_opt() {
                    let empty = empty || map.entries().is_empty();
                    for name in ["key", "value"] {
                        let path = [&path[..], &[names.map.to_owned(), name.to_owned()]].concat();
                        out.push(LeafPath {
                            path: ColumnPath::new(path),
                            empty,
                            timestamp: false,
                        });
                    }
                }
            }
            other => out.push(LeafPath {
                path: ColumnPath::new(path.clone()),
                empty,
                timestamp: matches!(other, DataType::Timestamp(..)),
            }),
        }
    }
    let names = GroupNames::of(layout);
    let mut out = Vec::new();
    for (field, column) in batch.schema().fields().iter().zip(batch.columns()) {
        let mut path = vec![field.name().clone()];
        walk(column.as_ref(), &names, &mut path, false, &mut out);
    }
    out
}

/// The row order [`convert`] gives, declared in the row group's metadata: ascending `time`,
/// nulls first.
fn time_order(batch: &RecordBatch) -> Option<Vec<SortingColumn>> {
    let schema = batch.schema();
    let position = schema.fields().iter().position(|f| f.name() == "time")?;
    let before: usize = schema
        .fields()
        .iter()
        .take(position)
        .map(|f| hive::leaf_count(f.data_type()))
        .sum();
    Some(vec![SortingColumn {
        column_idx: i32::try_from(before).ok()?,
        descending: false,
        nulls_first: true,
    }])
}

/// Values the writer encodes between two page-size checks, in bytes: it checks after every
/// batch of `write_batch_size` values, so a page ends at most one batch past its target.
const CHECK_EVERY_BYTES: usize = 64 * 1024;

/// The largest single value of `array`'s leaves, in bytes as Parquet's PLAIN encoding writes it
/// (a string's 4-byte length prefix and bytes; 8 bytes for any fixed-width value).
fn largest_value(array: &dyn Array) -> usize {
    match array.data_type() {
        DataType::Struct(_) => array.as_struct_opt().map_or(0, |s| {
            s.columns()
                .iter()
                .map(|c| largest_value(c.as_ref()))
                .max()
                .unwrap_or(0)
        }),
        DataType::List(_) => array
            .as_list_opt::<i32>()
            .map_or(0, |l| largest_value(l.values().as_ref())),
        DataType::Map(..) => array.as_map_opt().map_or(0, |m| {
            largest_value(m.keys().as_ref()).max(largest_value(m.values().as_ref()))
        }),
        DataType::Utf8 => array.as_string_opt::<i32>().map_or(0, |s| {
            let offsets = s.value_offsets();
            4 + offsets
                .windows(2)
                .map(|w| usize::try_from(w[1] - w[0]).unwrap_or(0))
                .max()
                .unwrap_or(0)
        }),
        _ => 8,
    }
}

/// Page limits that keep every data (and dictionary) page of `batch` within
/// [`SECURITY_LAKE_MAX_DATA_PAGE_BYTES`] uncompressed: `(page size target, values between checks)`.
/// A page ends at most one check past the target, and its levels add at most a quarter of its
/// values' bytes (two levels of at most 4 bits against values of at least 4 bytes), so the target
/// is 4/5 of the limit less one check; a value too large for that is written alone in its page.
fn page_limits(batch: &RecordBatch, target: usize) -> (usize, usize) {
    let largest = batch
        .columns()
        .iter()
        .map(|c| largest_value(c.as_ref()))
        .max()
        .unwrap_or(8)
        .max(1);
    let per_check = (CHECK_EVERY_BYTES / largest).clamp(1, 1024);
    let overshoot = per_check * largest;
    let bound = (SECURITY_LAKE_MAX_DATA_PAGE_BYTES * 4 / 5).saturating_sub(overshoot);
    (target.min(bound).max(1), per_check)
}

/// Encodes one Parquet object with `properties` in `layout`. Columns without a value in this
/// object get no dictionary (an empty dictionary page and its footer entries would be all they
/// held) and, in the standard layout, no codec; page sizes are bounded for this object's values (`page_limits`); Hive's layout
/// writes no statistics for its `INT96` timestamps, as Hive's writer does not.
pub fn encode(
    batch: &RecordBatch,
    properties: &WriterProperties,
    layout: ParquetLayout,
) -> Result<Vec<u8>, LakeError> {
    let (page_bytes, per_check) = page_limits(batch, properties.data_page_size_limit());
    let mut builder = properties.clone().into_builder();
    for leaf in leaf_paths(batch, layout) {
        if leaf.empty {
            builder = builder.set_column_dictionary_enabled(leaf.path.clone(), false);
            // Nothing to compress (a run of null definition levels, a few bytes): no codec. A
            // zstd codec is a compression and a decompression context per column chunk, a
            // fifth of the direct path's CPU on objects of sparse OCSF tables. Firehose's
            // layout (Hive) keeps its one codec for every column, as Firehose writes it.
            if layout == ParquetLayout::Standard {
                builder =
                    builder.set_column_compression(leaf.path.clone(), Compression::UNCOMPRESSED);
            }
        }
        if leaf.timestamp && layout == ParquetLayout::Hive {
            builder = builder.set_column_statistics_enabled(leaf.path, EnabledStatistics::None);
        }
    }
    let properties = builder
        .set_data_page_size_limit(page_bytes)
        .set_dictionary_page_size_limit(page_bytes)
        .set_write_batch_size(per_check)
        .set_sorting_columns(time_order(batch))
        .build();
    if layout == ParquetLayout::Hive {
        return hive::encode(batch, properties);
    }
    // No `ARROW:schema` entry: the Parquet schema is the table, and the footer stays small.
    let options = ArrowWriterOptions::new()
        .with_properties(properties)
        .with_skip_arrow_metadata(true);
    let mut out = Vec::new();
    let mut writer = ArrowWriter::try_new_with_options(&mut out, batch.schema(), options)?;
    writer.write(batch)?;
    writer.close()?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use arrow::array::AsArray;

    use super::*;
    use crate::schema::Schema;
    use crate::test_support::fixture;
    use crate::version::OcsfVersion;

    /// The Authentication table's Arrow schema and the fixture event fitted to it.
    fn authentication_row() -> (SchemaRef, serde_json::Value) {
        let table = TableModel::new(
            Schema::get(OcsfVersion::V1_1_0).unwrap(),
            3002,
            &Default::default(),
        )
        .unwrap();
        let mut event = fixture("authentication");
        table.fit(&mut event);
        (arrow_schema(&table), event)
    }

    #[test]
    fn a_row_the_table_cannot_hold_is_rejected_alone_and_the_rest_sorted() {
        let (schema, late) = authentication_row();
        let mut early = late.clone();
        early["time"] = serde_json::json!(1_000);
        let (late, early) = (late.to_string(), early.to_string());
        let rows: Vec<&[u8]> = vec![
            late.as_bytes(),
            br#"{"no_such_column":1}"#,
            early.as_bytes(),
        ];
        let converted = convert(&schema, &rows).unwrap();
        assert_eq!(converted.rejected.len(), 1);
        assert_eq!(converted.rejected[0].0, 1, "the index of the rejected row");
        let batch = converted.batch.unwrap();
        assert_eq!(batch.num_rows(), 2);
        let time = batch
            .column_by_name("time")
            .unwrap()
            .as_primitive::<arrow::datatypes::Int64Type>();
        assert_eq!(time.value(0), 1_000, "sorted by time");
    }

    /// Rows already in `time` order (a row without `time` first, as the sort puts it) are kept as
    /// they are; any other order is sorted, a row without `time` first.
    #[test]
    fn rows_are_sorted_by_time_unless_they_already_are() {
        let (schema, event) = authentication_row();
        let at = |time: Option<i64>| {
            let mut row = event.clone();
            match time {
                Some(time) => row["time"] = serde_json::json!(time),
                None => {
                    row.as_object_mut().unwrap().remove("time");
                }
            }
            row.to_string()
        };
        let times = |rows: &[Option<i64>]| {
            let rows: Vec<String> = rows.iter().map(|t| at(*t)).collect();
            let rows: Vec<&[u8]> = rows.iter().map(String::as_bytes).collect();
            let batch = convert(&schema, &rows).unwrap().batch.unwrap();
            let time = batch
                .column_by_name("time")
                .unwrap()
                .as_primitive::<Int64Type>();
            time.iter().collect::<Vec<_>>()
        };
        let sorted = vec![None, Some(1), Some(2), Some(2), Some(5)];
        assert_eq!(times(&sorted), sorted);
        for shuffled in [
            vec![Some(5), None, Some(2), Some(1), Some(2)],
            vec![Some(1), Some(2), Some(2), Some(5), None],
            vec![None, Some(2), Some(1), Some(2), Some(5)],
        ] {
            assert_eq!(times(&shuffled), sorted, "{shuffled:?}");
        }
    }

    /// The direct path's object: columns with values are zstd, those without any have no codec
    /// (and read back as nulls); Firehose's layout keeps its codec on every column.
    #[test]
    fn only_columns_with_values_get_the_codec_in_the_standard_layout() {
        use parquet::file::reader::{FileReader, SerializedFileReader};

        let (schema, event) = authentication_row();
        let row = event.to_string();
        let batch = convert(&schema, &[row.as_bytes()]).unwrap().batch.unwrap();
        let zstd = WriterProperties::builder()
            .set_compression(Compression::ZSTD(ZstdLevel::default()))
            .build();
        let codecs = |layout| {
            let bytes = encode(&batch, &zstd, layout).unwrap();
            let reader = SerializedFileReader::new(bytes::Bytes::from(bytes)).unwrap();
            let group = reader.metadata().row_group(0).clone();
            let by_column: Vec<(String, Compression)> = group
                .columns()
                .iter()
                .map(|c| (c.column_path().string(), c.compression()))
                .collect();
            by_column
        };
        let standard = codecs(ParquetLayout::Standard);
        let codec_of = |name: &str| standard.iter().find(|(path, _)| path == name).map(|c| c.1);
        assert!(matches!(codec_of("time"), Some(Compression::ZSTD(_))));
        assert!(matches!(codec_of("user.name"), Some(Compression::ZSTD(_))));
        let uncompressed = standard
            .iter()
            .filter(|(_, codec)| *codec == Compression::UNCOMPRESSED)
            .count();
        assert!(
            uncompressed > standard.len() / 2,
            "{uncompressed} of {}",
            standard.len()
        );
        assert!(codecs(ParquetLayout::Hive)
            .iter()
            .all(|(_, codec)| matches!(codec, Compression::ZSTD(_))));
    }
}

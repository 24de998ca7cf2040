//! Parquet in the layout Firehose's record format conversion writes: Hive's Parquet SerDe
//! (`ParquetHiveSerDe`, parquet-mr underneath), which the Firehose documentation names as the
//! serializer of every Parquet conversion
//! (<https://docs.aws.amazon.com/firehose/latest/dev/record-format-conversion.html>). Three
//! things differ from what the `parquet` crate's Arrow writer (the direct path) writes:
//!
//! - `timestamp` columns are `INT96` (Julian day and nanosecond of the day, the Impala/Hive
//!   encoding), not `INT64 TIMESTAMP(MILLIS)`; parquet-mr writes no min/max statistics for them
//!   (INT96 has no defined sort order). Users of Firehose's conversion report INT96 timestamps and
//!   ask how to get INT64 instead (no such setting exists in `ParquetSerDe`).
//! - arrays are `optional group x (LIST) { repeated group bag { optional T array_element } }`,
//!   Hive's list layout, read by every engine through Parquet's list backward-compatibility
//!   rules (a one-field repeated group not named `array` or `x_tuple` is the list's element
//!   wrapper);
//! - maps are `optional group x (MAP) { repeated group map (MAP_KEY_VALUE) { required binary key
//!   (UTF8); optional binary value (UTF8) } }`.
//!
//! The `parquet` crate's Arrow writer cannot write INT96 or name the list groups, so this module
//! stripes the batch itself (Dremel repetition and definition levels) and writes through the
//! crate's column writers, with the same writer properties as every other object.

use std::sync::Arc;

use arrow::array::{Array, AsArray, RecordBatch};
use arrow::datatypes::{
    DataType, Float32Type, Int32Type as ArrowInt32, Int64Type as ArrowInt64,
    TimestampMillisecondType,
};
use parquet::basic::{ConvertedType, Repetition, Type as PhysicalType};
use parquet::data_type::{
    BoolType, ByteArray, ByteArrayType, FloatType, Int32Type, Int64Type, Int96, Int96Type,
};
use parquet::file::properties::WriterProperties;
use parquet::file::writer::SerializedFileWriter;
use parquet::schema::types::{Type, TypePtr};

use super::LakeError;

/// The names of the groups Hive writes around a list's element and a map's entries.
pub(super) const LIST_GROUP: &str = "bag";
/// The name of a list's element in Hive's layout.
pub(super) const LIST_ELEMENT: &str = "array_element";
/// The name of a map's repeated key/value group in Hive's layout.
pub(super) const MAP_GROUP: &str = "map";

/// The Julian day number of 1970-01-01, INT96's day origin.
const JULIAN_DAY_OF_EPOCH: i64 = 2_440_588;
const MILLIS_PER_DAY: i64 = 86_400_000;
const NANOS_PER_MILLI: i64 = 1_000_000;

/// The Parquet schema of `batch` in Hive's layout.
fn schema(batch: &RecordBatch) -> Result<TypePtr, LakeError> {
    let fields = batch
        .schema()
        .fields()
        .iter()
        .map(|f| node(f.name(), f.data_type(), Repetition::OPTIONAL))
        .collect::<Result<Vec<_>, _>>()?;
    Type::group_type_builder("hive_schema")
        .with_fields(fields)
        .build()
        .map(Arc::new)
        .map_err(LakeError::from)
}

fn node(name: &str, ty: &DataType, repetition: Repetition) -> Result<TypePtr, LakeError> {
    let primitive = |physical, converted| {
        Type::primitive_type_builder(name, physical)
            .with_repetition(repetition)
            .with_converted_type(converted)
            .build()
    };
    let built = match ty {
        DataType::Boolean => primitive(PhysicalType::BOOLEAN, ConvertedType::NONE),
        DataType::Int32 => primitive(PhysicalType::INT32, ConvertedType::NONE),
        DataType::Int64 => primitive(PhysicalType::INT64, ConvertedType::NONE),
        DataType::Float32 => primitive(PhysicalType::FLOAT, ConvertedType::NONE),
        DataType::Utf8 => primitive(PhysicalType::BYTE_ARRAY, ConvertedType::UTF8),
        DataType::Timestamp(..) => primitive(PhysicalType::INT96, ConvertedType::NONE),
        DataType::Struct(fields) => Type::group_type_builder(name)
            .with_repetition(repetition)
            .with_fields(
                fields
                    .iter()
                    .map(|f| node(f.name(), f.data_type(), Repetition::OPTIONAL))
                    .collect::<Result<_, _>>()?,
            )
            .build(),
        DataType::List(element) => {
            let element = node(LIST_ELEMENT, element.data_type(), Repetition::OPTIONAL)?;
            let bag = Type::group_type_builder(LIST_GROUP)
                .with_repetition(Repetition::REPEATED)
                .with_fields(vec![element])
                .build()?;
            Type::group_type_builder(name)
                .with_repetition(repetition)
                .with_converted_type(ConvertedType::LIST)
                .with_fields(vec![Arc::new(bag)])
                .build()
        }
        DataType::Map(..) => {
            let key = node("key", &DataType::Utf8, Repetition::REQUIRED)?;
            let value = node("value", &DataType::Utf8, Repetition::OPTIONAL)?;
            let entries = Type::group_type_builder(MAP_GROUP)
                .with_repetition(Repetition::REPEATED)
                .with_converted_type(ConvertedType::MAP_KEY_VALUE)
                .with_fields(vec![key, value])
                .build()?;
            Type::group_type_builder(name)
                .with_repetition(repetition)
                .with_converted_type(ConvertedType::MAP)
                .with_fields(vec![Arc::new(entries)])
                .build()
        }
        other => {
            return Err(LakeError::Unsupported {
                column: name.to_owned(),
                ty: other.to_string(),
            })
        }
    };
    Ok(Arc::new(built?))
}

/// Leaf (Parquet) columns of an Arrow type (in either layout).
pub(super) fn leaf_count(data_type: &DataType) -> usize {
    match data_type {
        DataType::Struct(fields) => fields.iter().map(|f| leaf_count(f.data_type())).sum(),
        DataType::List(element) => leaf_count(element.data_type()),
        DataType::Map(entries, _) => leaf_count(entries.data_type()),
        _ => 1,
    }
}

/// One leaf column's striped values: its levels and the values present.
#[derive(Default)]
struct Leaf {
    definition: Vec<i16>,
    repetition: Vec<i16>,
    values: Values,
}

/// The values of a leaf, by physical type.
enum Values {
    Boolean(Vec<bool>),
    Int32(Vec<i32>),
    Int64(Vec<i64>),
    Float(Vec<f32>),
    Bytes(Vec<ByteArray>),
    Int96(Vec<Int96>),
}

impl Default for Values {
    fn default() -> Self {
        Values::Int32(Vec::new())
    }
}

/// The empty leaves of a type, in schema order, with their value kind.
fn leaves_of(ty: &DataType, out: &mut Vec<Leaf>) {
    let values = match ty {
        DataType::Struct(fields) => {
            fields.iter().for_each(|f| leaves_of(f.data_type(), out));
            return;
        }
        DataType::List(element) => return leaves_of(element.data_type(), out),
        DataType::Map(..) => {
            out.push(Leaf {
                values: Values::Bytes(Vec::new()),
                ..Leaf::default()
            });
            Values::Bytes(Vec::new())
        }
        DataType::Boolean => Values::Boolean(Vec::new()),
        DataType::Int64 => Values::Int64(Vec::new()),
        DataType::Float32 => Values::Float(Vec::new()),
        DataType::Utf8 => Values::Bytes(Vec::new()),
        DataType::Timestamp(..) => Values::Int96(Vec::new()),
        _ => Values::Int32(Vec::new()),
    };
    out.push(Leaf {
        values,
        ..Leaf::default()
    });
}

/// The INT96 of an instant in epoch milliseconds: nanoseconds of the day (two little-endian
/// words), then the Julian day.
fn int96(millis: i64) -> Int96 {
    let day = millis.div_euclid(MILLIS_PER_DAY) + JULIAN_DAY_OF_EPOCH;
    let nanos = millis.rem_euclid(MILLIS_PER_DAY) * NANOS_PER_MILLI;
    let mut value = Int96::new();
    // Truncations by design: the words of a non-negative 64-bit count and a 32-bit day.
    value.set_data(nanos as u32, (nanos >> 32) as u32, day as u32);
    value
}

/// Stripes value `row` of `array` into `leaves` (the leaves under it, in order). `defined`: the
/// definition level of the parent (every optional node adds one when present); `repeated`: the
/// repetition level of this value; `depth`: the repetition depth of the parent.
fn stripe(
    array: &dyn Array,
    row: usize,
    defined: i16,
    repeated: i16,
    depth: i16,
    leaves: &mut [Leaf],
) {
    if array.is_null(row) {
        return absent(leaves, defined, repeated);
    }
    match array.data_type() {
        DataType::Struct(_) => {
            let Some(fields) = array.as_struct_opt() else {
                return;
            };
            let mut rest = leaves;
            for child in fields.columns() {
                let count = leaf_count(child.data_type());
                let (mine, after) = rest.split_at_mut(count.min(rest.len()));
                stripe(child.as_ref(), row, defined + 1, repeated, depth, mine);
                rest = after;
            }
        }
        DataType::List(_) => {
            let Some(list) = array.as_list_opt::<i32>() else {
                return;
            };
            let range = list.value_offsets();
            let (start, end) = (range[row], range[row + 1]);
            if start == end {
                return absent(leaves, defined + 1, repeated);
            }
            for (n, index) in (start..end).enumerate() {
                let level = if n == 0 { repeated } else { depth + 1 };
                let index = usize::try_from(index).unwrap_or(0);
                stripe(
                    list.values().as_ref(),
                    index,
                    defined + 2,
                    level,
                    depth + 1,
                    leaves,
                );
            }
        }
        DataType::Map(..) => {
            let Some(map) = array.as_map_opt() else {
                return;
            };
            let range = map.value_offsets();
            let (start, end) = (range[row], range[row + 1]);
            if start == end {
                return absent(leaves, defined + 1, repeated);
            }
            let (keys, values) = (map.keys().as_string::<i32>(), map.values());
            let [key_leaf, value_leaf] = leaves else {
                return;
            };
            for (n, index) in (start..end).enumerate() {
                let level = if n == 0 { repeated } else { depth + 1 };
                let index = usize::try_from(index).unwrap_or(0);
                // The key is required: the entry's level is its level.
                key_leaf.definition.push(defined + 2);
                key_leaf.repetition.push(level);
                if let Values::Bytes(out) = &mut key_leaf.values {
                    out.push(ByteArray::from(keys.value(index).as_bytes().to_vec()));
                }
                stripe(
                    values.as_ref(),
                    index,
                    defined + 2,
                    level,
                    depth + 1,
                    std::slice::from_mut(value_leaf),
                );
            }
        }
        _ => {
            let Some(leaf) = leaves.first_mut() else {
                return;
            };
            leaf.definition.push(defined + 1);
            leaf.repetition.push(repeated);
            push_value(array, row, &mut leaf.values);
        }
    }
}

/// Every leaf under a node that is null (or an empty list) at level `defined`.
fn absent(leaves: &mut [Leaf], defined: i16, repeated: i16) {
    for leaf in leaves {
        leaf.definition.push(defined);
        leaf.repetition.push(repeated);
    }
}

fn push_value(array: &dyn Array, row: usize, values: &mut Values) {
    match values {
        Values::Boolean(out) => {
            if let Some(a) = array.as_boolean_opt() {
                out.push(a.value(row));
            }
        }
        Values::Int32(out) => {
            if let Some(a) = array.as_primitive_opt::<ArrowInt32>() {
                out.push(a.value(row));
            }
        }
        Values::Int64(out) => {
            if let Some(a) = array.as_primitive_opt::<ArrowInt64>() {
                out.push(a.value(row));
            }
        }
        Values::Float(out) => {
            if let Some(a) = array.as_primitive_opt::<Float32Type>() {
                out.push(a.value(row));
            }
        }
        Values::Bytes(out) => {
            if let Some(a) = array.as_string_opt::<i32>() {
                out.push(ByteArray::from(a.value(row).as_bytes().to_vec()));
            }
        }
        Values::Int96(out) => {
            if let Some(a) = array.as_primitive_opt::<TimestampMillisecondType>() {
                out.push(int96(a.value(row)));
            }
        }
    }
}

/// Writes one leaf's values with their `(definition, repetition)` levels.
fn write<T: parquet::data_type::DataType>(
    writer: &mut parquet::file::writer::SerializedColumnWriter<'_>,
    values: &[T::T],
    (definition, repetition): (&[i16], &[i16]),
) -> parquet::errors::Result<usize> {
    writer
        .typed::<T>()
        .write_batch(values, Some(definition), Some(repetition))
}

/// Encodes `batch` as one Parquet object in Hive's layout with `properties`.
pub(super) fn encode(
    batch: &RecordBatch,
    properties: WriterProperties,
) -> Result<Vec<u8>, LakeError> {
    let mut out = Vec::new();
    let mut writer = SerializedFileWriter::new(&mut out, schema(batch)?, Arc::new(properties))?;
    let mut row_group = writer.next_row_group()?;
    for column in batch.columns() {
        let mut leaves = Vec::new();
        leaves_of(column.data_type(), &mut leaves);
        for row in 0..batch.num_rows() {
            stripe(column.as_ref(), row, 0, 0, 0, &mut leaves);
        }
        for leaf in leaves {
            let Some(mut writer) = row_group.next_column()? else {
                return Err(LakeError::Encode(parquet::errors::ParquetError::General(
                    "the Parquet schema has fewer columns than the batch".to_owned(),
                )));
            };
            let levels = (&leaf.definition[..], &leaf.repetition[..]);
            let written = match &leaf.values {
                Values::Boolean(v) => write::<BoolType>(&mut writer, v, levels),
                Values::Int32(v) => write::<Int32Type>(&mut writer, v, levels),
                Values::Int64(v) => write::<Int64Type>(&mut writer, v, levels),
                Values::Float(v) => write::<FloatType>(&mut writer, v, levels),
                Values::Bytes(v) => write::<ByteArrayType>(&mut writer, v, levels),
                Values::Int96(v) => write::<Int96Type>(&mut writer, v, levels),
            };
            written?;
            writer.close()?;
        }
    }
    row_group.close()?;
    writer.close()?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use parquet::arrow::arrow_reader::{ArrowReaderOptions, ParquetRecordBatchReaderBuilder};
    use serde_json::json;

    use super::*;
    use crate::contract::parquet::{DIRECT_PARQUET, FIREHOSE_PARQUET};
    use crate::lake::ObjectWriter;
    use crate::schema::Schema;
    use crate::table::TableModel;
    use crate::test_support::{fixture, FIXTURES};
    use crate::version::OcsfVersion;

    /// Reads a Parquet object back with the `parquet` crate's own reader (which applies
    /// Parquet's list and map compatibility rules and reads INT96 as nanoseconds).
    fn read(bytes: &[u8], name: &str, schema: &arrow::datatypes::SchemaRef) -> RecordBatch {
        let path = std::env::temp_dir().join(format!("ocsf-hive-{}-{name}", std::process::id()));
        std::fs::write(&path, bytes).unwrap();
        let options = ArrowReaderOptions::new().with_schema(schema.clone());
        let file = std::fs::File::open(&path).unwrap();
        let reader = ParquetRecordBatchReaderBuilder::try_new_with_options(file, options)
            .unwrap()
            .with_batch_size(1 << 20)
            .build()
            .unwrap();
        let batches: Vec<RecordBatch> = reader.map(Result::unwrap).collect();
        std::fs::remove_file(&path).unwrap();
        assert_eq!(batches.len(), 1);
        batches.into_iter().next().unwrap()
    }

    /// Rows with what striping must get right: null and empty lists, null list elements, lists
    /// inside structs inside lists, empty and null maps, null values in a map.
    fn awkward_rows(table: &TableModel) -> Vec<String> {
        let mut rows = Vec::new();
        for (resources, unmapped) in [
            (
                json!([{"uid": "a", "labels": ["x", null, "y"]}, null, {"uid": "b", "labels": []}]),
                json!({"k": "v", "n": null}),
            ),
            (json!([]), json!({})),
            (json!(null), json!(null)),
            (json!([{"labels": null}]), json!({"only": "one"})),
        ] {
            let mut row = fixture("detection_finding");
            table.fit(&mut row);
            row["resources"] = resources;
            row["unmapped"] = unmapped;
            row["observables"] = json!([]);
            rows.push(row.to_string());
        }
        rows
    }

    /// Every fixture (and the awkward rows) reads back the same from Hive's layout as from the
    /// standard one, once the reader's INT96 nanoseconds and list names are cast back.
    #[test]
    fn hive_layout_objects_read_back_as_the_standard_layout_s() {
        let schema = Schema::get(OcsfVersion::V1_1_0).unwrap();
        for name in FIXTURES {
            let event = fixture(name);
            let uid = event["class_uid"].as_i64().unwrap();
            let table = TableModel::new(schema, uid, &Default::default()).unwrap();
            let mut rows = Vec::new();
            let mut row = event.clone();
            table.fit(&mut row);
            rows.push(row.to_string());
            if name == "detection_finding" {
                rows.extend(awkward_rows(&table));
            }
            let rows: Vec<&[u8]> = rows.iter().map(String::as_bytes).collect();
            let standard = ObjectWriter::new(&table, &DIRECT_PARQUET)
                .encode(&rows)
                .unwrap();
            let hive = ObjectWriter::new(&table, &FIREHOSE_PARQUET)
                .encode(&rows)
                .unwrap();
            assert_eq!(
                (standard.rows, hive.rows),
                (rows.len(), rows.len()),
                "{name}"
            );
            let arrow = crate::lake::parquet::arrow_schema(&table);
            let expected = read(&standard.bytes, "standard", &arrow);
            let got = read(&hive.bytes, "hive", &hive_names(&arrow));
            assert_eq!(json_rows(&got), json_rows(&expected), "{name}");
        }
    }

    /// The batch's rows as JSON text (list and map group names do not show).
    fn json_rows(batch: &RecordBatch) -> String {
        let mut writer = arrow::json::ArrayWriter::new(Vec::new());
        writer.write(batch).unwrap();
        writer.finish().unwrap();
        String::from_utf8(writer.into_inner()).unwrap()
    }

    /// `schema` with Hive's names for list elements and map entries.
    fn hive_names(schema: &arrow::datatypes::SchemaRef) -> arrow::datatypes::SchemaRef {
        use arrow::datatypes::{Field, Fields};
        fn rename(ty: &DataType) -> DataType {
            match ty {
                DataType::Struct(fields) => DataType::Struct(
                    fields
                        .iter()
                        .map(|f| f.as_ref().clone().with_data_type(rename(f.data_type())))
                        .collect::<Fields>(),
                ),
                DataType::List(element) => DataType::List(Arc::new(Field::new(
                    LIST_ELEMENT,
                    rename(element.data_type()),
                    true,
                ))),
                DataType::Map(entries, sorted) => DataType::Map(
                    Arc::new(entries.as_ref().clone().with_name(MAP_GROUP)),
                    *sorted,
                ),
                other => other.clone(),
            }
        }
        let fields: Vec<Field> = schema
            .fields()
            .iter()
            .map(|f| f.as_ref().clone().with_data_type(rename(f.data_type())))
            .collect();
        Arc::new(arrow::datatypes::Schema::new(fields))
    }

    #[test]
    fn int96_holds_the_julian_day_and_the_nanosecond_of_the_day() {
        for millis in [0, 1, 1_682_683_200_123, -1, -86_400_001, 4_102_444_800_000] {
            let value = int96(millis);
            assert_eq!(value.to_millis(), millis, "{millis}");
        }
        assert_eq!(int96(0).data(), &[0, 0, 2_440_588]);
    }
}

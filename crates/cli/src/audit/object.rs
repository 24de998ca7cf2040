//! One object against Security Lake's custom-source requirements, from its footer: one class,
//! rows sorted by `time`, pages ≤ 1 MB uncompressed, row groups ≤ 256 MB, the codec, and
//! `eventDay` equal to the UTC day of every row's `time`. Statistics decide first; a column chunk
//! is read only when they cannot (no statistics, a `time` range straddling the day, no declared
//! sort order, a chunk over 1 MB uncompressed).

use std::collections::BTreeSet;

use parquet::arrow::parquet_to_arrow_schema;
use parquet::basic::Compression;
use parquet::file::metadata::ParquetMetaData;
use parquet::file::statistics::Statistics;

use super::footer::{self, Unreadable};
use super::hive_type::HiveType;
use super::layout::ObjectKey;
use super::store::{Lake, Listed};
use super::{Problem, ProblemKind};
use ocsf_firehose_transform::contract::parquet::{
    SECURITY_LAKE_MAX_DATA_PAGE_BYTES, SECURITY_LAKE_MAX_ROW_GROUP_BYTES,
};

/// What one object holds and what is wrong with it.
#[derive(Debug, Clone)]
pub(crate) struct Checked {
    /// Rows (from the footer).
    pub rows: u64,
    /// The `class_uid`s of its rows.
    pub classes: BTreeSet<i64>,
    /// Its top-level columns and their Glue types, in order (`None` for a type Glue cannot name).
    pub columns: Vec<(String, Option<HiveType>)>,
    /// Codecs other than zstd of the columns holding values (Security Lake prefers zstd);
    /// `uncompressed` only when no column is compressed (writers leave all-null columns so).
    pub codecs: BTreeSet<String>,
    /// Problems found.
    pub problems: Vec<Problem>,
}

/// The index of the leaf column at `path` (dotted), if the object has one.
fn leaf(metadata: &ParquetMetaData, path: &str) -> Option<usize> {
    metadata
        .file_metadata()
        .schema_descr()
        .columns()
        .iter()
        .position(|c| c.path().string() == path)
}

/// Integer `(min, max)` of leaf `leaf` in every row group, `None` when a group has no statistics.
fn ranges(metadata: &ParquetMetaData, leaf: usize) -> Option<Vec<(i64, i64)>> {
    metadata
        .row_groups()
        .iter()
        .map(|group| match group.column(leaf).statistics()? {
            Statistics::Int64(s) => Some((*s.min_opt()?, *s.max_opt()?)),
            Statistics::Int32(s) => Some((i64::from(*s.min_opt()?), i64::from(*s.max_opt()?))),
            _ => None,
        })
        .collect()
}

/// Whether every row group declares its rows sorted by leaf `time` ascending, and the groups
/// (by their statistics) follow each other in order.
fn declared_sorted(metadata: &ParquetMetaData, time: usize) -> bool {
    let declared = metadata.row_groups().iter().all(|group| {
        group.sorting_columns().is_some_and(|columns| {
            columns
                .first()
                .is_some_and(|c| usize::try_from(c.column_idx).ok() == Some(time) && !c.descending)
        })
    });
    declared
        && ranges(metadata, time).is_some_and(|groups| groups.windows(2).all(|w| w[0].1 <= w[1].0))
}

/// The row groups over `limit` bytes compressed, told.
fn oversize_row_groups(metadata: &ParquetMetaData, limit: usize) -> Vec<String> {
    metadata
        .row_groups()
        .iter()
        .enumerate()
        .filter_map(|(index, group)| {
            let compressed = usize::try_from(group.compressed_size()).unwrap_or(usize::MAX);
            (compressed > limit)
                .then(|| format!("row group {index}: {compressed} bytes compressed, over {limit}"))
        })
        .collect()
}

/// Checks one object whose key follows the layout; its footer, when it has one (for `--rows`,
/// which then does not read it again).
pub(crate) async fn check(
    lake: &Lake,
    listed: &Listed,
    key: &ObjectKey<'_>,
) -> anyhow::Result<(Checked, Option<ParquetMetaData>)> {
    let mut checked = Checked {
        rows: 0,
        classes: BTreeSet::new(),
        columns: Vec::new(),
        codecs: BTreeSet::new(),
        problems: Vec::new(),
    };
    let problem = |kind, detail: String| Problem {
        key: listed.key.clone(),
        kind,
        detail,
    };
    let metadata = match footer::read_footer(lake, &listed.key, listed.size).await? {
        Ok(metadata) => metadata,
        Err(Unreadable::NotParquet(why) | Unreadable::BadFooter(why)) => {
            checked.problems.push(problem(ProblemKind::NotParquet, why));
            return Ok((checked, None));
        }
    };
    checked.rows = u64::try_from(metadata.file_metadata().num_rows()).unwrap_or(0);
    let schema_descr = metadata.file_metadata().schema_descr();
    match parquet_to_arrow_schema(schema_descr, None) {
        Ok(schema) => {
            checked.columns = schema
                .fields()
                .iter()
                .map(|f| (f.name().clone(), HiveType::of_arrow(f.data_type())))
                .collect();
        }
        Err(error) => checked
            .problems
            .push(problem(ProblemKind::NotParquet, error.to_string())),
    }
    for detail in oversize_row_groups(&metadata, SECURITY_LAKE_MAX_ROW_GROUP_BYTES) {
        checked
            .problems
            .push(problem(ProblemKind::RowGroupTooLarge, detail));
    }
    let mut codecs = BTreeSet::new();
    for (index, group) in metadata.row_groups().iter().enumerate() {
        for (leaf, chunk) in group.columns().iter().enumerate() {
            codecs.insert(codec_name(chunk.compression()));
            let uncompressed = usize::try_from(chunk.uncompressed_size()).unwrap_or(usize::MAX);
            // Every page of a chunk this small is within the limit: nothing more to read.
            if uncompressed <= SECURITY_LAKE_MAX_DATA_PAGE_BYTES {
                continue;
            }
            let largest =
                footer::largest_page(lake, &listed.key, listed.size, &metadata, index, leaf)
                    .await?;
            if largest > SECURITY_LAKE_MAX_DATA_PAGE_BYTES {
                checked.problems.push(problem(
                    ProblemKind::PageTooLarge,
                    format!(
                        "row group {index}, column `{}`: a page of {largest} bytes uncompressed, over {SECURITY_LAKE_MAX_DATA_PAGE_BYTES}",
                        chunk.column_path().string()
                    ),
                ));
            }
        }
    }
    if codecs.len() > 1 {
        codecs.remove("uncompressed");
    }
    codecs.remove("zstd");
    checked.codecs = codecs.into_iter().map(str::to_owned).collect();
    check_classes(lake, listed, &metadata, &mut checked).await?;
    check_time(lake, listed, key, &metadata, &mut checked).await?;
    Ok((checked, Some(metadata)))
}

/// One `class_uid` per object: from the statistics, else from the column.
async fn check_classes(
    lake: &Lake,
    listed: &Listed,
    metadata: &ParquetMetaData,
    checked: &mut Checked,
) -> anyhow::Result<()> {
    let Some(class_leaf) = leaf(metadata, "class_uid") else {
        checked.problems.push(Problem {
            key: listed.key.clone(),
            kind: ProblemKind::ClassesMixed,
            detail: "no `class_uid` column: its class cannot be told".to_owned(),
        });
        return Ok(());
    };
    match ranges(metadata, class_leaf) {
        Some(groups) if groups.iter().all(|(min, max)| min == max) => {
            checked.classes.extend(groups.iter().map(|(min, _)| *min));
        }
        _ if checked.rows == 0 => {}
        _ => {
            let values =
                footer::integer_column(lake, &listed.key, listed.size, metadata, class_leaf)
                    .await?;
            checked
                .classes
                .extend(values.unwrap_or_default().into_iter().flatten());
        }
    }
    if checked.classes.len() > 1 {
        let list: Vec<String> = checked.classes.iter().map(i64::to_string).collect();
        checked.problems.push(Problem {
            key: listed.key.clone(),
            kind: ProblemKind::ClassesMixed,
            detail: format!("classes {} in one object", list.join(", ")),
        });
    }
    Ok(())
}

/// Rows sorted by `time`, each in the key's `eventDay`: the statistics and the declared sort
/// order first, the `time` column when they cannot decide.
async fn check_time(
    lake: &Lake,
    listed: &Listed,
    key: &ObjectKey<'_>,
    metadata: &ParquetMetaData,
    checked: &mut Checked,
) -> anyhow::Result<()> {
    let Some(time_leaf) = leaf(metadata, "time") else {
        return Ok(());
    };
    let (start, end) = key.day_ms;
    let in_day = ranges(metadata, time_leaf)
        .is_some_and(|groups| groups.iter().all(|(min, max)| *min >= start && *max < end));
    let sorted = declared_sorted(metadata, time_leaf);
    if (in_day && sorted) || checked.rows == 0 {
        return Ok(());
    }
    let Some(times) =
        footer::integer_column(lake, &listed.key, listed.size, metadata, time_leaf).await?
    else {
        // Not an integer column: the schema check reports its type.
        return Ok(());
    };
    let outside = times
        .iter()
        .flatten()
        .filter(|t| !(start..end).contains(*t))
        .count();
    if outside > 0 {
        checked.problems.push(Problem {
            key: listed.key.clone(),
            kind: ProblemKind::EventDayMismatch,
            detail: format!(
                "{outside} of {} rows have a `time` outside eventDay={} (UTC)",
                times.len(),
                key.event_day
            ),
        });
    }
    // Nulls first, then ascending: the order Security Lake's "sorted by time" allows.
    let mut last: Option<i64> = None;
    let unsorted = times.iter().position(|value| match (last, value) {
        (Some(_), None) => true,
        (Some(before), Some(now)) if *now < before => true,
        (_, value) => {
            last = value.or(last);
            false
        }
    });
    if let Some(row) = unsorted {
        checked.problems.push(Problem {
            key: listed.key.clone(),
            kind: ProblemKind::Unsorted,
            detail: format!("row {row} has an earlier `time` than a row before it"),
        });
    }
    Ok(())
}

fn codec_name(codec: Compression) -> &'static str {
    match codec {
        Compression::UNCOMPRESSED => "uncompressed",
        Compression::SNAPPY => "snappy",
        Compression::GZIP(_) => "gzip",
        Compression::LZO => "lzo",
        Compression::BROTLI(_) => "brotli",
        Compression::LZ4 => "lz4",
        Compression::ZSTD(_) => "zstd",
        Compression::LZ4_RAW => "lz4_raw",
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow::array::{Int64Array, RecordBatch};
    use arrow::datatypes::{DataType, Field, Schema};
    use parquet::file::metadata::{ParquetMetaDataReader, SortingColumn};
    use parquet::file::properties::{EnabledStatistics, WriterProperties};

    use super::*;

    /// The footer of an object of `time` values in row groups of `per_group` rows.
    fn footer(times: &[i64], per_group: usize, sorted: bool, statistics: bool) -> ParquetMetaData {
        let schema = Arc::new(Schema::new(vec![Field::new("time", DataType::Int64, true)]));
        let batch = RecordBatch::try_new(
            schema.clone(),
            vec![Arc::new(Int64Array::from(times.to_vec()))],
        )
        .unwrap();
        let properties = WriterProperties::builder()
            .set_max_row_group_row_count(Some(per_group))
            .set_statistics_enabled(if statistics {
                EnabledStatistics::Chunk
            } else {
                EnabledStatistics::None
            })
            .set_sorting_columns(sorted.then(|| {
                vec![SortingColumn {
                    column_idx: 0,
                    descending: false,
                    nulls_first: true,
                }]
            }))
            .build();
        let out = footer::parquet_bytes(&batch, Some(properties));
        ParquetMetaDataReader::new()
            .parse_and_finish(&bytes::Bytes::from(out))
            .unwrap()
    }

    #[test]
    fn statistics_and_the_declared_order_decide_what_they_can() {
        let sorted = footer(&[1, 2, 3, 4, 5, 6], 3, true, true);
        assert_eq!(ranges(&sorted, 0), Some(vec![(1, 3), (4, 6)]));
        assert!(declared_sorted(&sorted, 0));
        // Each group declared sorted, but the groups out of order: the rows are not.
        let groups_out_of_order = footer(&[4, 5, 6, 1, 2, 3], 3, true, true);
        assert!(!declared_sorted(&groups_out_of_order, 0));
        assert!(!declared_sorted(&footer(&[1, 2, 3], 3, false, true), 0));
        // No statistics: nothing decided from the footer.
        assert_eq!(ranges(&footer(&[1, 2, 3], 3, true, false), 0), None);
    }

    #[test]
    fn row_groups_over_the_limit_are_told_by_their_compressed_size() {
        let metadata = footer(&(0..20_000).collect::<Vec<_>>(), 15_000, true, true);
        let sizes: Vec<i64> = metadata
            .row_groups()
            .iter()
            .map(|g| g.compressed_size())
            .collect();
        let limit = usize::try_from((sizes[0] + sizes[1]) / 2).unwrap();
        let told = oversize_row_groups(&metadata, limit);
        assert_eq!(told.len(), 1, "{sizes:?}");
        assert!(told[0].starts_with("row group 0: "), "{}", told[0]);
        assert!(oversize_row_groups(&metadata, SECURITY_LAKE_MAX_ROW_GROUP_BYTES).is_empty());
    }
}

//! The Parquet that lands in the lake: what Security Lake requires of a custom source's objects,
//! and the settings Firehose's `ParquetSerDe` writes with, which the infrastructure sets
//! explicitly (`parquet*` keys of `infra/defaults.json`, checked by a test) and the local
//! pipeline writes with, so that local files are what Firehose delivers.

use std::fmt;

/// Security Lake's limit on a data page: "1 MB" uncompressed
/// (<https://docs.aws.amazon.com/security-lake/latest/userguide/custom-sources.html>), read the
/// stricter way: 10^6 bytes, the page header's `uncompressed_page_size` (levels and values).
pub const SECURITY_LAKE_MAX_DATA_PAGE_BYTES: usize = 1_000_000;

/// The page size writers aim at, under [`SECURITY_LAKE_MAX_DATA_PAGE_BYTES`] with room for what
/// a writer adds after its last size check: Parquet writers (Hive's parquet-mr behind Firehose,
/// the `parquet` crate here) compare the page's size with the target between batches of values,
/// so a page ends past it by up to one batch, plus its repetition and definition levels.
pub const PAGE_TARGET_BYTES: usize = 768 * 1024;
/// Security Lake's limit on a row group: 256 MB compressed (same page).
pub const SECURITY_LAKE_MAX_ROW_GROUP_BYTES: usize = 256 * 1024 * 1024;

/// Page compression codecs: the three Firehose's `ParquetSerDe` offers
/// (<https://docs.aws.amazon.com/firehose/latest/APIReference/API_ParquetSerDe.html>), and zstd,
/// which Security Lake prefers and only the direct path can write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParquetCompression {
    /// `UNCOMPRESSED`
    Uncompressed,
    /// `GZIP`
    Gzip,
    /// `SNAPPY`, Firehose's default.
    Snappy,
    /// `ZSTD` at this level (direct path only: Firehose cannot write it).
    Zstd(i32),
}

impl ParquetCompression {
    /// The name Firehose's API uses.
    pub fn as_str(self) -> &'static str {
        match self {
            ParquetCompression::Uncompressed => "UNCOMPRESSED",
            ParquetCompression::Gzip => "GZIP",
            ParquetCompression::Snappy => "SNAPPY",
            ParquetCompression::Zstd(_) => "ZSTD",
        }
    }
}

/// The Parquet format version of the data pages (`WriterVersion`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParquetWriterVersion {
    /// `V1`, Firehose's default: data pages v1, read by every engine.
    V1,
    /// `V2`
    V2,
}

impl ParquetWriterVersion {
    /// The name Firehose's API uses.
    pub fn as_str(self) -> &'static str {
        match self {
            ParquetWriterVersion::V1 => "V1",
            ParquetWriterVersion::V2 => "V2",
        }
    }
}

impl fmt::Display for ParquetCompression {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How columns of a nested or timestamp type are laid out in the Parquet schema.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParquetLayout {
    /// What Firehose's `ParquetSerDe` (Hive's Parquet writer) writes: `timestamp` as `INT96`
    /// without statistics, lists as `bag`/`array_element` groups, maps as `map`
    /// (`MAP_KEY_VALUE`) groups.
    Hive,
    /// Parquet's current logical types: `timestamp` as `INT64 TIMESTAMP(MILLIS, UTC)` with
    /// statistics, lists as `list`/`element`, maps as `key_value`.
    Standard,
}

/// How a Parquet object is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ParquetSettings {
    /// Physical layout of timestamps, lists and maps.
    pub layout: ParquetLayout,
    /// Page compression.
    pub compression: ParquetCompression,
    /// Row group (HDFS block) size in bytes (`BlockSizeBytes`).
    pub block_size_bytes: usize,
    /// Data page size in bytes (`PageSizeBytes`).
    pub page_size_bytes: usize,
    /// Data page format (`WriterVersion`).
    pub writer_version: ParquetWriterVersion,
    /// Dictionary encoding (`EnableDictionaryCompression`).
    pub dictionary: bool,
}

/// What Firehose's `ParquetSerDe` writes with: Hive's layout ([`ParquetLayout::Hive`]), its
/// defaults (256 MiB blocks, SNAPPY, writer V1)
/// plus dictionary encoding, the Hive Parquet writer's default
/// (<https://docs.aws.amazon.com/firehose/latest/APIReference/API_ParquetSerDe.html>), and pages
/// of [`PAGE_TARGET_BYTES`] rather than its 1 MiB default, which is past Security Lake's limit:
/// the settings of the Firehose path, local pipeline included.
pub const FIREHOSE_PARQUET: ParquetSettings = ParquetSettings {
    layout: ParquetLayout::Hive,
    compression: ParquetCompression::Snappy,
    block_size_bytes: 256 * 1024 * 1024,
    page_size_bytes: PAGE_TARGET_BYTES,
    writer_version: ParquetWriterVersion::V1,
    dictionary: true,
};

/// The columns whose Parquet objects carry min/max statistics (dotted paths of struct fields):
/// the time columns, the ids every query filters on, and the attributes the partition is
/// computed from. Statistics for the other few hundred columns would only grow every footer
/// (Security Lake's custom-sources page asks for objects Athena reads fast). Firehose's own
/// Parquet writer is not configurable here: this is the local pipeline's and the direct
/// writer's setting.
pub const STATISTICS_COLUMNS: &[&str] = &[
    "time",
    "time_dt",
    "start_time",
    "end_time",
    "class_uid",
    "category_uid",
    "activity_id",
    "type_uid",
    "severity_id",
    "status_id",
    "cloud.region",
    "cloud.account.uid",
    "metadata.product.name",
    "metadata.product.vendor_name",
];

/// The zstd level of the direct path: the codec's default, a good ratio at several hundred MB/s.
pub const DIRECT_ZSTD_LEVEL: i32 = 3;

/// How the direct path (the producer's S3 destination, `ocsf-firehose upload`) writes objects:
/// zstd, which Security Lake's custom-sources page prefers, with the page and row-group limits of
/// the Firehose path (768 KiB page target, at most 256 MiB row groups), writer V1 and
/// dictionaries, in Parquet's standard layout (`INT64` timestamps with min/max statistics, which
/// engines prune `time_dt` filters with; every engine that reads Firehose's `INT96` reads both,
/// so objects of the two paths share a table).
pub const DIRECT_PARQUET: ParquetSettings = ParquetSettings {
    layout: ParquetLayout::Standard,
    compression: ParquetCompression::Zstd(DIRECT_ZSTD_LEVEL),
    ..FIREHOSE_PARQUET
};

/// The smallest `BlockSizeBytes` Firehose accepts: 64 MiB (same page).
pub const FIREHOSE_MIN_BLOCK_SIZE_BYTES: usize = 64 * 1024 * 1024;
/// The smallest `PageSizeBytes` Firehose accepts: 64 KiB (same page).
pub const FIREHOSE_MIN_PAGE_SIZE_BYTES: usize = 64 * 1024;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn firehose_settings_are_within_what_security_lake_and_firehose_accept() {
        let s = FIREHOSE_PARQUET;
        assert!(s.page_size_bytes <= SECURITY_LAKE_MAX_DATA_PAGE_BYTES);
        assert!(s.page_size_bytes >= FIREHOSE_MIN_PAGE_SIZE_BYTES);
        assert!(s.block_size_bytes <= SECURITY_LAKE_MAX_ROW_GROUP_BYTES);
        assert!(s.block_size_bytes >= FIREHOSE_MIN_BLOCK_SIZE_BYTES);
        assert_eq!(s.compression.to_string(), "SNAPPY");
        assert_eq!(s.writer_version.as_str(), "V1");
        let direct = DIRECT_PARQUET;
        assert_eq!(direct.compression.as_str(), "ZSTD");
        assert!(direct.page_size_bytes <= SECURITY_LAKE_MAX_DATA_PAGE_BYTES);
        assert!(direct.block_size_bytes <= SECURITY_LAKE_MAX_ROW_GROUP_BYTES);
    }
}

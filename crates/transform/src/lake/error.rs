//! Why the lake writer could not make an object, or hold a row: typed, wrapping the Arrow and
//! Parquet errors, with a stable [`LakeError::code`].

use arrow::error::ArrowError;
use parquet::errors::ParquetError;
use thiserror::Error;

/// Why rows did not become a Parquet object.
#[derive(Debug, Error)]
pub enum LakeError {
    /// A row does not fit the table's columns (strict JSON decoding: a field without a column, a
    /// value of another type).
    #[error("the row does not fit its table: {0}")]
    RowUnfit(#[source] ArrowError),
    /// Sorting the rows by `time` failed.
    #[error("sorting the rows by time failed: {0}")]
    Sort(#[source] ArrowError),
    /// The Parquet writer failed.
    #[error("Parquet encoding failed: {0}")]
    Encode(#[from] ParquetError),
    /// A column has no Parquet type in the layout.
    #[error("column `{column}` of type {ty} has no Parquet type in Hive's layout")]
    Unsupported {
        /// The column.
        column: String,
        /// Its Arrow type.
        ty: String,
    },
    /// The class has no table.
    #[error("no table for the class")]
    NoTable,
}

impl LakeError {
    /// A stable machine-readable kind.
    pub fn code(&self) -> &'static str {
        match self {
            LakeError::RowUnfit(_) => "row_unfit",
            LakeError::Sort(_) => "sort_failed",
            LakeError::Encode(_) => "parquet_failed",
            LakeError::Unsupported { .. } => "type_unsupported",
            LakeError::NoTable => "no_table",
        }
    }
}

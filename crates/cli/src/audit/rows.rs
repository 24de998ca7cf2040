//! `audit --rows`: an object's rows (all, or the first `--sample N`) read back as JSON events and
//! judged by the transformation Lambda's verdict, findings counted by code.

use std::collections::BTreeMap;

use std::sync::Arc;

use anyhow::Context;
use arrow::array::RecordBatch;
use arrow::compute::cast;
use arrow::datatypes::{DataType, Field, Schema};
use arrow::json::LineDelimitedWriter;
use ocsf_firehose_transform::Engine;
use parquet::arrow::arrow_reader::{ArrowReaderMetadata, ParquetRecordBatchReaderBuilder};
use parquet::file::metadata::ParquetMetaData;

use super::store::{Lake, Listed};

/// The verdicts on rows: an object's, or (summed) a source's.
#[derive(Debug, Default, Clone, serde::Serialize)]
pub(crate) struct Judged {
    /// Rows judged.
    pub rows: u64,
    /// Rows the Lambda would reject.
    pub rejected: u64,
    /// Findings (errors and warnings) by code.
    pub findings: BTreeMap<String, u64>,
}

impl Judged {
    /// Adds `other`'s counts to these.
    pub(crate) fn add(&mut self, other: &Judged) {
        self.rows += other.rows;
        self.rejected += other.rejected;
        for (code, count) in &other.findings {
            *self.findings.entry(code.clone()).or_default() += count;
        }
    }
}

/// Reads `listed` whole (the rows are needed; its footer, `metadata`, is already read) and
/// judges its first `sample` rows, on this
/// worker thread taken out of the async pool meanwhile (judging is CPU work: the other objects'
/// reads go on).
pub(crate) async fn judge(
    lake: &Lake,
    listed: &Listed,
    metadata: ParquetMetaData,
    engine: &Engine,
    region: &str,
    sample: Option<usize>,
) -> anyhow::Result<Judged> {
    let bytes = lake.read(&listed.key, 0, listed.size).await?;
    tokio::task::block_in_place(|| judge_rows(bytes, metadata, &listed.key, engine, region, sample))
}

fn judge_rows(
    bytes: bytes::Bytes,
    metadata: ParquetMetaData,
    key: &str,
    engine: &Engine,
    region: &str,
    sample: Option<usize>,
) -> anyhow::Result<Judged> {
    let metadata = ArrowReaderMetadata::try_new(Arc::new(metadata), Default::default())
        .with_context(|| format!("cannot read the schema of {key}"))?;
    let mut builder = ParquetRecordBatchReaderBuilder::new_with_metadata(bytes, metadata);
    if let Some(sample) = sample {
        builder = builder.with_limit(sample);
    }
    let reader = builder
        .build()
        .with_context(|| format!("cannot read the rows of {key}"))?;
    let mut judged = Judged::default();
    for batch in reader {
        let batch = batch.with_context(|| format!("cannot read the rows of {key}"))?;
        let batch =
            utc_as_offset(&batch).with_context(|| format!("cannot read the times of {key}"))?;
        let mut lines = LineDelimitedWriter::new(Vec::new());
        lines
            .write(&batch)
            .with_context(|| format!("cannot write the rows of {key} as JSON"))?;
        lines.finish()?;
        for line in lines.into_inner().split(|b| *b == b'\n') {
            if line.is_empty() {
                continue;
            }
            let event = serde_json::from_slice(line)
                .with_context(|| format!("a row of {key} is not JSON"))?;
            let verdict = engine.judge(event, Some(region));
            judged.rows += 1;
            if !verdict.is_accepted() {
                judged.rejected += 1;
            }
            for finding in &verdict.validation.findings {
                *judged.findings.entry(finding.code.to_string()).or_default() += 1;
            }
        }
    }
    Ok(judged)
}

/// `data_type` with every timestamp's zone written as an offset: Parquet's UTC instants are read
/// with the zone `UTC`, which Arrow's JSON writer (without a zone database) cannot name.
fn offset_zones(data_type: &DataType) -> DataType {
    let field = |f: &Arc<Field>| {
        Arc::new(
            f.as_ref()
                .clone()
                .with_data_type(offset_zones(f.data_type())),
        )
    };
    match data_type {
        DataType::Timestamp(unit, Some(_)) => DataType::Timestamp(*unit, Some("+00:00".into())),
        DataType::Struct(fields) => DataType::Struct(fields.iter().map(field).collect()),
        DataType::List(element) => DataType::List(field(element)),
        DataType::LargeList(element) => DataType::LargeList(field(element)),
        DataType::Map(entries, sorted) => DataType::Map(field(entries), *sorted),
        other => other.clone(),
    }
}

/// The batch with its timestamps' zones as offsets ([`offset_zones`]).
fn utc_as_offset(batch: &RecordBatch) -> Result<RecordBatch, arrow::error::ArrowError> {
    let mut fields = Vec::new();
    let mut columns = Vec::new();
    for (field, column) in batch.schema().fields().iter().zip(batch.columns()) {
        let wanted = offset_zones(field.data_type());
        columns.push(if &wanted == field.data_type() {
            column.clone()
        } else {
            cast(column, &wanted)?
        });
        fields.push(field.as_ref().clone().with_data_type(wanted));
    }
    RecordBatch::try_new(Arc::new(Schema::new(fields)), columns)
}

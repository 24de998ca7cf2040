//! Dynamic partitioning and S3 delivery of one stream: `Ok` events are buffered per partition
//! (the Lambda's `region`, `accountId`, `eventDay`) and written as one Parquet object per
//! partition when the buffer reaches the size hint or the interval, like Firehose does per
//! active partition; failures are buffered per error output type and written as JSON lines.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Instant;

use ::parquet::file::properties::WriterProperties;
use arrow::datatypes::SchemaRef;
use serde_json::Value;
use time::OffsetDateTime;

use super::errors::{self, ErrorOutput};
use super::invoke::{Answer, Answered};
use super::{now_ms, parquet, LocalConfig, LocalError, Summary};
use crate::contract::framing;
use crate::contract::parquet::FIREHOSE_PARQUET;
use crate::contract::partition::PartitionKeys;
use crate::contract::prefix::{self, ERROR_PREFIX_TEMPLATE, PREFIX_TEMPLATE};
use crate::table::TableModel;

/// Rows (or error documents) waiting for delivery.
struct Buffer {
    rows: Vec<(Vec<u8>, i64)>,
    bytes: usize,
    opened: Instant,
}

impl Buffer {
    fn new() -> Self {
        Buffer {
            rows: Vec::new(),
            bytes: 0,
            opened: Instant::now(),
        }
    }

    fn push(&mut self, row: Vec<u8>, arrival_ms: i64) {
        self.bytes += row.len();
        self.rows.push((row, arrival_ms));
    }

    /// The arrival time of the oldest row: what Firehose evaluates `!{timestamp:…}` with.
    fn oldest_arrival(&self) -> OffsetDateTime {
        self.rows
            .iter()
            .map(|(_, arrival_ms)| *arrival_ms)
            .min()
            .and_then(|ms| {
                OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000).ok()
            })
            .unwrap_or_else(OffsetDateTime::now_utc)
    }

    fn due(&self, config: &LocalConfig, all: bool) -> bool {
        all || self.bytes >= config.buffer_bytes || self.opened.elapsed() >= config.buffer_interval
    }
}

/// The S3 side of one delivery stream.
pub struct Delivery {
    out: PathBuf,
    source: String,
    stream_name: String,
    class_uid: Option<i64>,
    schema: Option<SchemaRef>,
    properties: WriterProperties,
    partitions: BTreeMap<PartitionKeys, Buffer>,
    errors: BTreeMap<ErrorOutput, Buffer>,
}

impl Delivery {
    /// The delivery of stream `source` (class `class_uid`, if it has one).
    pub fn new(config: &LocalConfig, source: &str, class_uid: Option<i64>) -> Self {
        Delivery {
            out: config.out.clone(),
            source: source.to_owned(),
            stream_name: format!("ocsf-{source}"),
            class_uid,
            schema: None,
            properties: parquet::writer_properties(&FIREHOSE_PARQUET),
            partitions: BTreeMap::new(),
            errors: BTreeMap::new(),
        }
    }

    fn error(&mut self, output: ErrorOutput, document: &Value) {
        let line = document.to_string().into_bytes();
        self.errors
            .entry(output)
            .or_insert_with(Buffer::new)
            .push(line, now_ms());
    }

    /// Takes the Lambda's answers: `Ok` events into their partition, failures into the error
    /// output.
    pub fn accept(&mut self, answers: Vec<Answered>, summary: &mut Summary) {
        for answered in answers {
            match answered.answer {
                Answer::Ok {
                    data,
                    keys: Some(keys),
                } => {
                    let buffer = self.partitions.entry(keys).or_insert_with(Buffer::new);
                    for line in framing::lines(&data) {
                        buffer.push(line.to_vec(), answered.arrival_ms);
                    }
                }
                Answer::Ok { data, keys: None } => {
                    summary.rows_failed += framing::lines(&data).count() as u64;
                    let document =
                        errors::partitioning_failed(&answered.raw, answered.arrival_ms, now_ms());
                    self.error(ErrorOutput::PartitioningFailed, &document);
                }
                Answer::Dropped => {}
                Answer::Failed { reasons } => {
                    let document = errors::processing_failed(
                        &answered.raw,
                        answered.arrival_ms,
                        &reasons,
                        now_ms(),
                    );
                    self.error(ErrorOutput::ProcessingFailed, &document);
                }
            }
        }
    }

    /// Writes the partitions and error outputs whose buffer is due (all of them when `all`).
    /// Partitions are converted and written in parallel, one thread per core.
    pub fn flush_due(
        &mut self,
        config: &LocalConfig,
        table: Option<&TableModel>,
        all: bool,
        summary: &mut Summary,
    ) -> Result<(), LocalError> {
        let due: Vec<PartitionKeys> = self
            .partitions
            .iter()
            .filter(|(_, b)| b.due(config, all))
            .map(|(k, _)| k.clone())
            .collect();
        let buffers: Vec<(PartitionKeys, Buffer)> = due
            .into_iter()
            .filter_map(|key| self.partitions.remove(&key).map(|b| (key, b)))
            .collect();
        if let (Some(table), None) = (table, &self.schema) {
            self.schema = Some(parquet::arrow_schema(table));
        }
        let target = Target {
            out: &self.out,
            source: &self.source,
            stream_name: &self.stream_name,
            table_name: self
                .class_uid
                .map_or_else(|| "no class".to_owned(), |uid| format!("class {uid}")),
            schema: table.and(self.schema.as_ref()),
            properties: &self.properties,
        };
        let threads = std::thread::available_parallelism().map_or(1, usize::from);
        let chunk = buffers.len().div_ceil(threads).max(1);
        let results: Vec<Result<Written, LocalError>> = std::thread::scope(|scope| {
            let workers: Vec<_> = buffers
                .chunks(chunk)
                .map(|part| {
                    let target = &target;
                    scope.spawn(move || {
                        part.iter()
                            .map(|(k, b)| target.write(k, b))
                            .collect::<Vec<_>>()
                    })
                })
                .collect();
            workers
                .into_iter()
                .flat_map(|worker| {
                    worker.join().unwrap_or_else(|_| {
                        vec![Err(LocalError::Parquet {
                            path: target.out.clone(),
                            reason: "a writer thread panicked".to_owned(),
                        })]
                    })
                })
                .collect()
        });
        for written in results {
            let written = written?;
            summary.rows_failed += written.rejected.len() as u64;
            for document in &written.rejected {
                self.error(ErrorOutput::FormatConversionFailed, document);
            }
            if written.rows > 0 {
                *summary.rows.entry(written.partition).or_default() += written.rows;
                summary.files += 1;
                summary.bytes += written.size;
            }
        }
        let due: Vec<ErrorOutput> = self
            .errors
            .iter()
            .filter(|(_, b)| b.due(config, all))
            .map(|(k, _)| *k)
            .collect();
        for output in due {
            if let Some(buffer) = self.errors.remove(&output) {
                self.write_errors(output, buffer, summary)?;
            }
        }
        Ok(())
    }

    fn write_errors(
        &self,
        output: ErrorOutput,
        buffer: Buffer,
        summary: &mut Summary,
    ) -> Result<(), LocalError> {
        let folder = prefix::expand(
            ERROR_PREFIX_TEMPLATE,
            &prefix::Values {
                source: &self.source,
                partition: None,
                error_output_type: Some(output.as_str()),
                timestamp: buffer.oldest_arrival(),
            },
        );
        let path = self.out.join(folder).join(object_name(&self.stream_name));
        let io_error = |source| LocalError::Io {
            path: path.clone(),
            source,
        };
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(io_error)?;
        }
        let mut bytes = Vec::with_capacity(buffer.bytes + buffer.rows.len());
        for (line, _) in &buffer.rows {
            framing::push_line(&mut bytes, line);
        }
        std::fs::write(&path, &bytes).map_err(io_error)?;
        summary.error_files += 1;
        summary.bytes += bytes.len() as u64;
        Ok(())
    }
}

/// Where and how one stream's partitions are written (shared by the writer threads).
struct Target<'a> {
    out: &'a PathBuf,
    source: &'a str,
    stream_name: &'a str,
    table_name: String,
    schema: Option<&'a SchemaRef>,
    properties: &'a WriterProperties,
}

/// What writing one partition did.
struct Written {
    partition: String,
    rows: u64,
    size: u64,
    rejected: Vec<Value>,
}

impl Target<'_> {
    /// Converts a partition's rows and writes its Parquet object.
    fn write(&self, keys: &PartitionKeys, buffer: &Buffer) -> Result<Written, LocalError> {
        let rows: Vec<&[u8]> = buffer.rows.iter().map(|(r, _)| r.as_slice()).collect();
        let converted = match self.schema {
            Some(schema) => {
                parquet::convert(schema, &rows).map_err(|reason| LocalError::Parquet {
                    path: self.out.clone(),
                    reason,
                })?
            }
            None => parquet::Converted {
                batch: None,
                rejected: (0..rows.len())
                    .map(|i| (i, "no table for the class".to_owned()))
                    .collect(),
            },
        };
        let rejected = converted
            .rejected
            .iter()
            .filter_map(|(index, reason)| {
                let (row, arrival) = buffer.rows.get(*index)?;
                Some(errors::format_conversion_failed(
                    row,
                    *arrival,
                    reason,
                    &self.table_name,
                    now_ms(),
                ))
            })
            .collect();
        let prefix = prefix::expand(
            PREFIX_TEMPLATE,
            &prefix::Values {
                source: self.source,
                partition: Some(keys),
                error_output_type: None,
                timestamp: buffer.oldest_arrival(),
            },
        );
        let partition = prefix.trim_end_matches('/').to_owned();
        let mut written = Written {
            partition,
            rows: 0,
            size: 0,
            rejected,
        };
        let Some(batch) = converted.batch.filter(|b| b.num_rows() > 0) else {
            return Ok(written);
        };
        let path = self
            .out
            .join(&written.partition)
            .join(format!("{}.parquet", object_name(self.stream_name)));
        written.size = parquet::write(&path, &batch, self.properties)?;
        written.rows = batch.num_rows() as u64;
        Ok(written)
    }
}

/// Firehose's object name: `<stream>-<version>-<yyyy>-<MM>-<dd>-<HH>-<mm>-<ss>-<random>`.
pub fn object_name(stream: &str) -> String {
    let now = OffsetDateTime::now_utc();
    format!(
        "{stream}-1-{:04}-{:02}-{:02}-{:02}-{:02}-{:02}-{}",
        now.year(),
        u8::from(now.month()),
        now.day(),
        now.hour(),
        now.minute(),
        now.second(),
        uuid::Uuid::new_v4()
    )
}

//! Dynamic partitioning and S3 delivery of one stream: `Ok` events are buffered per partition
//! (the Lambda's `region`, `accountId`, `eventDay`) and written as one Parquet object per
//! partition when the buffer reaches the size hint or the interval, like Firehose does per
//! active partition; failures are buffered per error output type and written as JSON lines.

use std::path::PathBuf;

use crate::firehose::error_document::ErrorDocument;
use time::OffsetDateTime;

use super::errors::{self, ErrorOutput};
use super::invoke::{Answer, Answered};
use super::{now_ms, LocalConfig, LocalError, Summary};
use crate::contract::framing;
use crate::contract::parquet::FIREHOSE_PARQUET;
use crate::contract::partition::PartitionKeys;
use crate::contract::prefix::{self, ERROR_PREFIX_TEMPLATE, PREFIX_TEMPLATE};
use crate::lake::file::write_atomically;
use crate::lake::{Buffer, Buffers, Encoded, LakeError, ObjectWriter};
use crate::table::TableModel;

/// The arrival time (epoch ms) kept with each buffered row.
type Arrival = i64;

/// The arrival time of a buffer's oldest row: what Firehose evaluates `!{timestamp:…}` with.
fn oldest_arrival(buffer: &Buffer<Arrival>) -> OffsetDateTime {
    buffer
        .rows
        .iter()
        .map(|(_, arrival_ms)| *arrival_ms)
        .min()
        .and_then(|ms| OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000).ok())
        .unwrap_or_else(OffsetDateTime::now_utc)
}

/// Whether Firehose would deliver the buffer now: its size hint or its interval reached.
fn due(buffer: &Buffer<Arrival>, config: &LocalConfig, all: bool) -> bool {
    all || buffer.bytes >= config.buffer_bytes || buffer.opened.elapsed() >= config.buffer_interval
}

/// The S3 side of one delivery stream.
pub struct Delivery {
    out: PathBuf,
    source: String,
    stream_name: String,
    class_uid: Option<i64>,
    writer: Option<ObjectWriter>,
    partitions: Buffers<PartitionKeys, Arrival>,
    errors: Buffers<ErrorOutput, Arrival>,
}

impl Delivery {
    /// The delivery of stream `source` (class `class_uid`, if it has one).
    pub fn new(config: &LocalConfig, source: &str, class_uid: Option<i64>) -> Self {
        Delivery {
            out: config.out.clone(),
            source: source.to_owned(),
            stream_name: format!("ocsf-{source}"),
            class_uid,
            writer: None,
            partitions: Buffers::default(),
            errors: Buffers::default(),
        }
    }

    fn error(&mut self, output: ErrorOutput, document: &ErrorDocument) {
        self.errors.push(output, document.to_json(), now_ms());
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
                    for line in framing::lines(&data) {
                        self.partitions
                            .push(keys.clone(), line.to_vec(), answered.arrival_ms);
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
        let buffers = self.partitions.take_due(|_, b| due(b, config, all));
        if let (Some(table), None) = (table, &self.writer) {
            self.writer = Some(ObjectWriter::new(table, &FIREHOSE_PARQUET));
        }
        let target = Target {
            out: &self.out,
            source: &self.source,
            stream_name: &self.stream_name,
            table_name: self
                .class_uid
                .map_or_else(|| "no class".to_owned(), |uid| format!("class {uid}")),
            writer: table.and(self.writer.as_ref()),
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
                        vec![Err(LocalError::WriterPanicked {
                            path: target.out.clone(),
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
        for (output, buffer) in self.errors.take_due(|_, b| due(b, config, all)) {
            self.write_errors(output, buffer, summary)?;
        }
        Ok(())
    }

    fn write_errors(
        &self,
        output: ErrorOutput,
        buffer: Buffer<Arrival>,
        summary: &mut Summary,
    ) -> Result<(), LocalError> {
        let folder = prefix::expand(
            ERROR_PREFIX_TEMPLATE,
            &prefix::Values {
                source: &self.source,
                partition: None,
                error_output_type: Some(output.as_str()),
                timestamp: oldest_arrival(&buffer),
            },
        );
        let path = self.out.join(folder).join(object_name(&self.stream_name));
        let io_error = |source| LocalError::Io {
            path: path.clone(),
            source,
        };
        let mut bytes = Vec::with_capacity(buffer.bytes + buffer.rows.len());
        for (line, _) in &buffer.rows {
            framing::push_line(&mut bytes, line);
        }
        write_atomically(&path, &bytes).map_err(io_error)?;
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
    writer: Option<&'a ObjectWriter>,
}

/// What writing one partition did.
struct Written {
    partition: String,
    rows: u64,
    size: u64,
    rejected: Vec<ErrorDocument>,
}

impl Target<'_> {
    /// Converts a partition's rows and writes its Parquet object.
    fn write(&self, keys: &PartitionKeys, buffer: &Buffer<Arrival>) -> Result<Written, LocalError> {
        let encoded = match self.writer {
            Some(writer) => {
                writer
                    .encode(&buffer.row_slices())
                    .map_err(|source| LocalError::Parquet {
                        path: self.out.clone(),
                        source,
                    })?
            }
            None => Encoded {
                bytes: Vec::new(),
                rows: 0,
                rejected: (0..buffer.rows.len())
                    .map(|i| (i, LakeError::NoTable))
                    .collect(),
            },
        };
        let rejected = encoded
            .rejected
            .iter()
            .filter_map(|(index, reason)| {
                let (row, arrival) = buffer.rows.get(*index)?;
                Some(errors::format_conversion_failed(
                    row,
                    *arrival,
                    &reason.to_string(),
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
                timestamp: oldest_arrival(buffer),
            },
        );
        let partition = prefix.trim_end_matches('/').to_owned();
        let mut written = Written {
            partition,
            rows: 0,
            size: 0,
            rejected,
        };
        if encoded.rows == 0 {
            return Ok(written);
        }
        let path = self
            .out
            .join(&written.partition)
            .join(format!("{}.parquet", object_name(self.stream_name)));
        let io_error = |source| LocalError::Io {
            path: path.clone(),
            source,
        };
        write_atomically(&path, &encoded.bytes).map_err(io_error)?;
        written.size = encoded.bytes.len() as u64;
        written.rows = encoded.rows as u64;
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

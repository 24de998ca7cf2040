//! The local pipeline: Firehose's delivery path for a Security Lake custom source, on one
//! machine, from the real code. Records put into a local "delivery stream" go through the same
//! stages, in the same order, as on AWS:
//!
//! 1. `RecordDeAggregation` (JSON): a record of JSON lines or concatenated JSON documents is
//!    split into sub-records, at most 500 ([`framing::sub_records`]);
//! 2. [`invoke`]: the transformation Lambda's handler, called with a real Firehose event as JSON
//!    in processor-sized batches (default 1 MiB, at most 3 MB, or whatever waits after the
//!    processor's interval), its response read back as JSON;
//! 3. [`delivery`]: dynamic partitioning by the returned `partitionKeys`, buffering per
//!    partition by size and interval like Firehose's hints, Parquet per partition with the
//!    columns of the class's Glue table and Firehose's own settings ([`lake`](crate::lake):
//!    [`FIREHOSE_PARQUET`](crate::contract::parquet::FIREHOSE_PARQUET), rows sorted by `time`),
//!    objects under `ext/<source>/region=…/accountId=…/eventDay=…/` named like Firehose's;
//!    failures as Firehose's error documents under the error prefix ([`errors`]:
//!    `processing-failed`, `partitioning-failed`, `format-conversion-failed`); both prefixes are
//!    expanded from the infrastructure's templates ([`prefix`](crate::contract::prefix)).
//!
//! One delivery stream per OCSF class, as in production: each class goes to its own source
//! (`ext/<source>/`), by default named after the class; records whose class cannot be read go to
//! [`UNCLASSIFIED_STREAM`] when routed ([`LocalFirehose::put_routed`]), where the Lambda rejects
//! them. [`demo`] makes realistic events. Every record put in is accounted for:
//! `records = ok + failed + dropped`. The limits and templates are the [`contract`](crate::contract)'s.

pub mod delivery;
pub mod demo;
pub mod errors;
pub mod invoke;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::contract::framing;
use crate::contract::limits::{
    DEFAULT_BUFFER_BYTES, DEFAULT_BUFFER_INTERVAL, DEFAULT_PROCESSOR_BUFFER_BYTES,
    DEFAULT_PROCESSOR_BUFFER_INTERVAL, MAX_PROCESSOR_BUFFER_BYTES, MAX_SOURCE_NAME_LEN,
};
use crate::contract::prefix::check_source_name;
use crate::firehose::{EnvError, TransformConfig, Transformer};
use crate::schema::Schema;
use delivery::Delivery;
use invoke::Pending;

/// The stream that receives routed records whose first event has no `class_uid` of the schema
/// (the Lambda rejects them; their error documents land under `errors/unclassified/`).
pub const UNCLASSIFIED_STREAM: &str = "unclassified";

/// How the local pipeline runs.
#[derive(Debug, Clone)]
pub struct LocalConfig {
    /// Output root: `ext/…` and `errors/…` go under it.
    pub out: PathBuf,
    /// The Lambda's configuration (the `OCSF_*` variables).
    pub transform: TransformConfig,
    /// The delivery streams' region (the Lambda's last fallback for `region`).
    pub region: String,
    /// Source name per `class_uid`; other classes get [`default_source_name`].
    pub sources: BTreeMap<i64, String>,
    /// Split JSON-lines records like `RecordDeAggregation` (the producer aggregates by default).
    pub deaggregate: bool,
    /// Lambda processor buffer size.
    pub processor_buffer_bytes: usize,
    /// Lambda processor buffer interval: records never wait longer for the Lambda.
    pub processor_buffer_interval: Duration,
    /// S3 buffer size per partition.
    pub buffer_bytes: usize,
    /// S3 buffer interval per partition.
    pub buffer_interval: Duration,
}

impl LocalConfig {
    /// The defaults of the infrastructure, writing under `out`.
    pub fn new(out: impl Into<PathBuf>) -> Self {
        LocalConfig {
            out: out.into(),
            transform: TransformConfig::default(),
            region: "us-east-1".to_owned(),
            sources: BTreeMap::new(),
            deaggregate: true,
            processor_buffer_bytes: DEFAULT_PROCESSOR_BUFFER_BYTES,
            processor_buffer_interval: DEFAULT_PROCESSOR_BUFFER_INTERVAL,
            buffer_bytes: DEFAULT_BUFFER_BYTES,
            buffer_interval: DEFAULT_BUFFER_INTERVAL,
        }
    }
}

/// Why the local pipeline cannot run.
#[derive(Debug, Error)]
pub enum LocalError {
    /// The Lambda configuration is invalid.
    #[error(transparent)]
    Config(#[from] EnvError),
    /// A setting is out of range.
    #[error("{0}")]
    Setting(String),
    /// No delivery stream has this name.
    #[error("no local delivery stream `{0}` (one per class: its source name)")]
    UnknownStream(String),
    /// The handler refused a whole invocation (a bug: it answers every record).
    #[error("the transformation handler failed: {0}")]
    Handler(String),
    /// Writing the output failed.
    #[error("cannot write {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// Building a Parquet file failed.
    #[error("cannot write Parquet {path}: {source}")]
    Parquet {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: crate::lake::LakeError,
    },
    /// A Parquet writer thread panicked (a bug).
    #[error("a Parquet writer thread for {path} panicked")]
    WriterPanicked {
        /// The output folder.
        path: PathBuf,
    },
}

impl LocalError {
    /// A stable machine-readable kind.
    pub fn code(&self) -> &'static str {
        match self {
            LocalError::Config(_) => "config_invalid",
            LocalError::Setting(_) => "setting_invalid",
            LocalError::UnknownStream(_) => "unknown_stream",
            LocalError::Handler(_) => "handler_failed",
            LocalError::Io { .. } => "io_error",
            LocalError::Parquet { .. } => "parquet_error",
            LocalError::WriterPanicked { .. } => "writer_panicked",
        }
    }
}

/// What a run did. `records == ok + failed + dropped` always holds.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Summary {
    /// Records put into the streams (before de-aggregation).
    pub records_in: u64,
    /// Records the Lambda saw (after de-aggregation).
    pub records: u64,
    /// Records answered `Ok`.
    pub ok: u64,
    /// Records answered `ProcessingFailed`.
    pub failed: u64,
    /// Records answered `Dropped`.
    pub dropped: u64,
    /// Events of `Ok` records that could not be partitioned or converted (error prefix).
    pub rows_failed: u64,
    /// Rows written, by `ext/<source>/region=…/accountId=…/eventDay=…`.
    pub rows: BTreeMap<String, u64>,
    /// Failed records by finding code (a record counts once per distinct code).
    pub failures: BTreeMap<String, u64>,
    /// Parquet files written.
    pub files: u64,
    /// Error objects written.
    pub error_files: u64,
    /// Bytes written (Parquet and error objects).
    pub bytes: u64,
    /// Lambda invocations.
    pub invocations: u64,
    /// Wall time.
    pub elapsed: Duration,
}

impl Summary {
    /// Rows written in all.
    pub fn rows_written(&self) -> u64 {
        self.rows.values().sum()
    }
}

/// The default source name of a class: its name (without a platform extension's `win/`
/// prefix) when short enough, else `class-<uid>`.
pub fn default_source_name(schema: &Schema, class_uid: i64) -> String {
    let name = schema.class(class_uid).map(|class| {
        class
            .item
            .name
            .rsplit('/')
            .next()
            .unwrap_or(class.item.name)
    });
    match name {
        Some(name) if name.len() <= MAX_SOURCE_NAME_LEN => name.replace('_', "-"),
        _ => format!("class-{class_uid}"),
    }
}

/// One local delivery stream (one class, one source; no class for [`UNCLASSIFIED_STREAM`]).
struct Stream {
    class_uid: Option<i64>,
    pending: Pending,
    delivery: Delivery,
}

/// The local Firehose: delivery streams (one per class), the Lambda, the S3 output.
pub struct LocalFirehose {
    config: LocalConfig,
    transformer: Transformer,
    schema: &'static Schema,
    streams: BTreeMap<String, Stream>,
    summary: Summary,
    started: Instant,
}

impl LocalFirehose {
    /// Checks the configuration and builds the Lambda's handler.
    pub fn new(config: LocalConfig) -> Result<Self, LocalError> {
        if !(1..=MAX_PROCESSOR_BUFFER_BYTES).contains(&config.processor_buffer_bytes) {
            return Err(LocalError::Setting(format!(
                "processor buffer {} bytes: Firehose accepts at most {MAX_PROCESSOR_BUFFER_BYTES}",
                config.processor_buffer_bytes
            )));
        }
        for name in config.sources.values() {
            check_source_name(name).map_err(|e| LocalError::Setting(e.to_string()))?;
        }
        let transformer = Transformer::new(config.transform.clone())?;
        let schema = transformer.schema();
        Ok(LocalFirehose {
            config,
            transformer,
            schema,
            streams: BTreeMap::new(),
            summary: Summary::default(),
            started: Instant::now(),
        })
    }

    /// The region of the delivery streams (the Lambda's last fallback for `region`).
    pub fn region(&self) -> &str {
        &self.config.region
    }

    /// The source (= delivery stream) name of a class.
    pub fn source_for(&self, class_uid: i64) -> String {
        self.config
            .sources
            .get(&class_uid)
            .cloned()
            .unwrap_or_else(|| default_source_name(self.schema, class_uid))
    }

    /// The class of a stream name (`Some(None)` for [`UNCLASSIFIED_STREAM`]), if it names one.
    fn class_of(&self, stream: &str) -> Option<Option<i64>> {
        if let Some((uid, _)) = self.config.sources.iter().find(|(_, s)| *s == stream) {
            return Some(Some(*uid));
        }
        let class = self.schema.class_uids().find(|uid| {
            !self.config.sources.contains_key(uid)
                && default_source_name(self.schema, *uid) == stream
        });
        match class {
            Some(uid) => Some(Some(uid)),
            None => (stream == UNCLASSIFIED_STREAM).then_some(None),
        }
    }

    /// `PutRecordBatch` into delivery stream `stream` (a source name).
    pub fn put_record_batch<R: AsRef<[u8]>>(
        &mut self,
        stream: &str,
        records: impl IntoIterator<Item = R>,
    ) -> Result<(), LocalError> {
        if !self.streams.contains_key(stream) {
            let class_uid = self
                .class_of(stream)
                .ok_or_else(|| LocalError::UnknownStream(stream.to_owned()))?;
            let delivery = Delivery::new(&self.config, stream, class_uid);
            self.streams.insert(
                stream.to_owned(),
                Stream {
                    class_uid,
                    pending: Pending::default(),
                    delivery,
                },
            );
        }
        let arrival = now_ms();
        for record in records {
            self.summary.records_in += 1;
            let record = record.as_ref();
            let Some(state) = self.streams.get_mut(stream) else {
                return Err(LocalError::UnknownStream(stream.to_owned()));
            };
            if self.config.deaggregate {
                for sub in framing::sub_records(record) {
                    state.pending.push(sub.to_vec(), arrival);
                }
            } else {
                state.pending.push(record.to_vec(), arrival);
            }
            if state.pending.bytes() >= self.config.processor_buffer_bytes {
                self.process(stream, false)?;
            }
        }
        self.process(stream, false)
    }

    /// The stream of a record: the stream of its first event's class as the Lambda will see it
    /// (translated to the target version: 1.0.0-rc.2's 3005 is 6003), or
    /// [`UNCLASSIFIED_STREAM`] when the class cannot be read or is not in the schema.
    pub fn stream_for(&self, record: &[u8]) -> String {
        let engine = self.transformer.engine();
        class_and_version_of(record)
            .map(|(uid, version)| engine.class_in_target(uid, version.as_deref()))
            .filter(|uid| self.schema.class(*uid).is_some())
            .map_or_else(
                || UNCLASSIFIED_STREAM.to_owned(),
                |uid| self.source_for(uid),
            )
    }

    /// `PutRecordBatch` of each record into the stream of its class
    /// ([`LocalFirehose::stream_for`]), as an application with one stream per class does.
    pub fn put_routed<R: AsRef<[u8]>>(
        &mut self,
        records: impl IntoIterator<Item = R>,
    ) -> Result<(), LocalError> {
        let mut by_stream: BTreeMap<String, Vec<R>> = BTreeMap::new();
        for record in records {
            let stream = self.stream_for(record.as_ref());
            by_stream.entry(stream).or_default().push(record);
        }
        for (stream, records) in by_stream {
            self.put_record_batch(&stream, records)?;
        }
        Ok(())
    }

    /// Invokes the Lambda on full processor buffers, then delivers partitions whose buffer is
    /// full or old enough (when `all`: every buffer, both stages).
    fn process(&mut self, stream: &str, all: bool) -> Result<(), LocalError> {
        let Some(state) = self.streams.get_mut(stream) else {
            return Ok(());
        };
        let waited = all || state.pending.waited(self.config.processor_buffer_interval);
        while let Some(batch) = state
            .pending
            .take(self.config.processor_buffer_bytes, waited)
        {
            let answers = invoke::invoke(
                &self.transformer,
                &self.config.region,
                batch,
                &mut self.summary,
            )?;
            state.delivery.accept(answers, &mut self.summary);
        }
        state.delivery.flush_due(
            &self.config,
            state
                .class_uid
                .and_then(|uid| self.transformer.engine().tables().get(uid)),
            all,
            &mut self.summary,
        )
    }

    /// Delivers everything buffered and reports the run.
    pub fn finish(mut self) -> Result<Summary, LocalError> {
        let names: Vec<String> = self.streams.keys().cloned().collect();
        for name in &names {
            self.process(name, true)?;
        }
        self.summary.elapsed = self.started.elapsed();
        Ok(self.summary)
    }
}

impl std::fmt::Debug for LocalFirehose {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalFirehose")
            .field("out", &self.config.out)
            .field("streams", &self.streams.keys().collect::<Vec<_>>())
            .field("summary", &self.summary)
            .finish_non_exhaustive()
    }
}

/// The `class_uid` of a record's first event, if it has one (for routing to its stream). Only
/// that field is read; the rest of the document is skipped without building values.
/// The `class_uid` and `metadata.version` of the first JSON document of a record.
fn class_and_version_of(record: &[u8]) -> Option<(i64, Option<String>)> {
    #[derive(Deserialize)]
    struct Metadata {
        #[serde(default)]
        version: Option<serde_json::Value>,
    }
    #[derive(Deserialize)]
    struct Probe {
        #[serde(default)]
        class_uid: Option<serde_json::Value>,
        #[serde(default)]
        metadata: Option<serde_json::Value>,
    }
    let first = serde_json::Deserializer::from_slice(record)
        .into_iter::<Probe>()
        .next()?
        .ok()?;
    let uid = first.class_uid?.as_i64()?;
    let version = first
        .metadata
        .and_then(|m| serde_json::from_value::<Metadata>(m).ok())
        .and_then(|m| m.version)
        .and_then(|v| v.as_str().map(str::to_owned));
    Some((uid, version))
}

/// Milliseconds since the epoch, now.
pub(crate) fn now_ms() -> i64 {
    let now = time::OffsetDateTime::now_utc();
    i64::try_from(now.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests;

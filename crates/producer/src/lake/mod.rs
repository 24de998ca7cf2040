//! The direct path (feature `lake`): events written straight into a Security Lake custom
//! source's location, without Firehose. Every event gets the transformation Lambda's verdict
//! (the producer's engine); the row of an accepted event is buffered per Security Lake
//! partition ([`Buffers`], the local pipeline's), and a
//! partition's rows become one Parquet object ([`ObjectWriter`], the local pipeline's, with
//! [`DIRECT_PARQUET`]: zstd) under `<source location>region=…/accountId=…/eventDay=…/`, put into
//! an [`ObjectStore`] (S3, or a local folder).
//!
//! When a partition is written:
//! * its rows reach [`LakeConfig::object_bytes`]: the object rolls over (a large object may come
//!   sooner than the interval, as Security Lake allows for large files);
//! * its first row has waited [`LakeConfig::buffer_interval`], but never sooner than
//!   [`LakeConfig::min_object_interval`] after the partition's previous object (Security Lake
//!   asks for objects every 5 minutes to 1 day);
//! * the buffered bytes near the producer's byte budget (`max_buffered_bytes`, which also holds
//!   `send` back): the largest partition is written early, preferring one whose previous object
//!   is older than the interval (so memory stays bounded and `send` never waits forever);
//! * `flush`/`shutdown`: everything accepted.
//!
//! An object's key is derived from what it holds (`<BLAKE3 of its folder and rows>.zstd.parquet`,
//! `naming.rs`), so a retried upload, or the same rows written again by a later run, replaces the
//! same object: it never lands twice. An event is delivered when its object is stored; rows the table cannot hold fail with
//! `format_conversion_failed`, and an object the store refuses fails its events with the
//! store's error code.

mod again;
mod naming;
pub mod store;

use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;
use std::time::Duration;

use ocsf_firehose_contract::parquet::DIRECT_PARQUET;
use ocsf_firehose_contract::partition::PartitionKeys;
use ocsf_firehose_transform::lake::{
    partition_path, Buffer, Buffers, Encoded, LakeError, ObjectWriter,
};
use ocsf_firehose_transform::table::Tables;
use tokio::sync::{mpsc, oneshot, OwnedSemaphorePermit};
use tokio::task::JoinSet;
use tokio::time::Instant;

use crate::command::Command;
use crate::config::ProducerConfig;
use crate::failure::{Failure, FailureKind};
use crate::outcome::{FailureCallback, Outcomes, Reply, Report};
use crate::retry::Reachability;
use crate::spool::Spool;
use store::{ObjectStore, RetryPolicy, RetrySettings};

pub use crate::command::LakeRow;

/// Where each class's objects go: one custom source (location) per class.
#[derive(Debug, Clone, Default)]
pub struct Sources {
    locations: BTreeMap<i64, String>,
}

impl Sources {
    /// Class `class_uid` goes to `location` (`ext/<source>/`, the key part of the
    /// `provider.location` that registering the custom source returned; a trailing `/` is
    /// added when missing).
    pub fn with(mut self, class_uid: i64, location: impl Into<String>) -> Self {
        let mut location = location.into();
        if !location.ends_with('/') {
            location.push('/');
        }
        self.locations
            .insert(class_uid, location.trim_start_matches('/').to_owned());
        self
    }

    /// The location of a class.
    pub fn location(&self, class_uid: i64) -> Option<&str> {
        self.locations.get(&class_uid).map(String::as_str)
    }

    /// The classes with a location.
    pub fn classes(&self) -> impl Iterator<Item = i64> + '_ {
        self.locations.keys().copied()
    }
}

/// One object the lake writer stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredObject {
    /// Its key (`ext/<source>/region=…/accountId=…/eventDay=…/<digest>.zstd.parquet`, the BLAKE3
    /// digest of the folder and the rows).
    pub key: String,
    /// Its rows.
    pub rows: u64,
    /// Its size in bytes.
    pub bytes: u64,
}

/// Called with every object stored (to count them, or start a crawler).
pub type ObjectCallback = Arc<dyn Fn(&StoredObject) + Send + Sync>;

/// When the lake writer writes objects.
#[derive(Debug, Clone, PartialEq)]
pub struct LakeConfig {
    /// A partition's buffer becomes an object once its rows hold this many bytes (the
    /// Lambda's JSON; the Parquet object is about a tenth). Default 128 MiB; a partition is
    /// written earlier when the producer's byte budget (`max_buffered_bytes`) fills up, so
    /// raise that too for objects this large.
    pub object_bytes: usize,
    /// … or once its first row has waited this long. Default 5 minutes.
    pub buffer_interval: Duration,
    /// A partition gets a new object no sooner than this after its previous one (`flush`
    /// excepted). Default 5 minutes, Security Lake's shortest interval.
    pub min_object_interval: Duration,
    /// Once the store's endpoint has answered no request for this long (connections refused,
    /// names not resolving, every request timing out), objects fail at once with the last cause
    /// instead of each retrying alone until its deadline; one request every few seconds still
    /// probes it. `None`: only the events' deadline gives up. Default 2 minutes.
    pub give_up_unreachable_after: Option<Duration>,
}

impl Default for LakeConfig {
    fn default() -> Self {
        LakeConfig {
            object_bytes: 128 * 1024 * 1024,
            buffer_interval: Duration::from_secs(300),
            min_object_interval: Duration::from_secs(300),
            give_up_unreachable_after: Some(Duration::from_secs(120)),
        }
    }
}

/// Whether partition `key` may get a new object: its previous one is `min_interval` old.
fn eligible(last_object: &BTreeMap<Key, Instant>, key: &Key, min_interval: Duration) -> bool {
    last_object
        .get(key)
        .is_none_or(|at| at.elapsed() >= min_interval)
}

/// One object's buffer key: the class and the partition.
type Key = (i64, PartitionKeys);

/// Commands taken in one turn of the writer's loop before it looks at what is due.
const COMMANDS_PER_TURN: usize = 256;

/// What waits with each buffered row.
struct Waiting {
    reply: Reply,
    accepted: Instant,
    _permit: OwnedSemaphorePermit,
}

/// What one object's upload came back with.
struct Uploaded {
    object_key: String,
    size: u64,
    bytes: usize,
    rows: Vec<(Vec<u8>, Waiting)>,
    result: Result<Encoded, Failure>,
}

/// The task behind a lake producer.
pub(crate) struct LakeWorker<S> {
    store: Arc<S>,
    sources: Sources,
    tables: Tables,
    writers: BTreeMap<i64, ObjectWriter>,
    config: LakeConfig,
    producer: ProducerConfig,
    buffers: Buffers<Key, Waiting>,
    last_object: BTreeMap<Key, Instant>,
    /// Buffers taken out, waiting for an upload slot (at most `max_in_flight` run at once: each
    /// holds a Parquet encoder per column).
    ready: VecDeque<(Key, Buffer<Waiting>, Option<Arc<str>>)>,
    uploading: JoinSet<Uploaded>,
    /// Encodes at once: one per core (an encoder holds a compressor per column, the memory that
    /// matters beyond the rows).
    encoders: Arc<tokio::sync::Semaphore>,
    /// Bytes of rows queued or being uploaded.
    uploading_bytes: usize,
    names: naming::Names,
    flushes: Vec<oneshot::Sender<Report>>,
    outcomes: Outcomes,
    on_object: Option<ObjectCallback>,
    /// Whether the store's endpoint answers, for every object.
    reachability: Option<Arc<Reachability>>,
    /// The configuration's retry policy, with the budget stream calls pay too.
    policy: Arc<RetryPolicy>,
    /// The producer's spool: each object's intent is recorded there before it is stored.
    spool: Option<Arc<Spool>>,
    /// Objects the spool's replay stores again whole.
    again: again::Again,
}

impl<S: ObjectStore> LakeWorker<S> {
    pub(crate) fn new(
        store: S,
        sources: Sources,
        tables: Tables,
        config: LakeConfig,
        producer: ProducerConfig,
        on_failure: Option<FailureCallback>,
        on_object: Option<ObjectCallback>,
    ) -> Self {
        LakeWorker {
            spool: None,
            again: again::Again::default(),
            policy: Arc::new(producer.retry_policy()),
            store: Arc::new(store),
            sources,
            tables,
            writers: BTreeMap::new(),
            producer,
            buffers: Buffers::default(),
            last_object: BTreeMap::new(),
            ready: VecDeque::new(),
            uploading: JoinSet::new(),
            encoders: Arc::new(tokio::sync::Semaphore::new(
                std::thread::available_parallelism().map_or(1, usize::from),
            )),
            uploading_bytes: 0,
            names: naming::Names::default(),
            flushes: Vec::new(),
            outcomes: Outcomes::new(on_failure),
            on_object,
            reachability: config
                .give_up_unreachable_after
                .map(|after| Arc::new(Reachability::new(after))),
            config,
        }
    }

    /// Records each object's intent in `spool` before storing it (exactly once after a crash).
    pub(crate) fn with_spool(mut self, spool: Option<Arc<Spool>>) -> Self {
        self.spool = spool;
        self
    }

    pub(crate) async fn run(mut self, mut rx: mpsc::UnboundedReceiver<Command<LakeRow>>) -> Report {
        let mut open = true;
        let mut tick = tokio::time::interval(Duration::from_millis(250));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                command = rx.recv(), if open => {
                    open = self.command(command);
                    // What else is waiting, taken in one go: the due buffers are looked at
                    // (a clock read per partition) once per run of commands, not per row.
                    let mut more = COMMANDS_PER_TURN;
                    while open && more > 0 {
                        let Ok(command) = rx.try_recv() else { break };
                        open = self.command(Some(command));
                        more -= 1;
                    }
                }
                Some(done) = self.uploading.join_next(), if !self.uploading.is_empty() => {
                    if let Ok(uploaded) = done {
                        self.resolve(uploaded);
                    }
                }
                _ = tick.tick() => {}
            }
            self.write_due();
            self.start_uploads();
            if self.buffers.is_empty() && self.ready.is_empty() && self.uploading.is_empty() {
                for reply in self.flushes.drain(..) {
                    let _ = reply.send(std::mem::take(&mut self.outcomes.report));
                }
                if !open {
                    return std::mem::take(&mut self.outcomes.report);
                }
            }
        }
    }

    fn accept(&mut self, row: LakeRow, permit: OwnedSemaphorePermit, reply: Reply) {
        metrics::counter!(crate::telemetry::EVENTS_ACCEPTED).increment(1);
        if self.sources.location(row.class_uid).is_none() {
            let failure = Failure::own(
                FailureKind::NoDestination,
                format!("class_uid {} has no source location", row.class_uid),
            );
            self.outcomes.failed(reply, row.bytes, &failure);
            return;
        }
        let waiting = Waiting {
            reply,
            accepted: Instant::now(),
            _permit: permit,
        };
        let key = (row.class_uid, row.keys);
        match row.object {
            None => self.buffers.push(key, row.bytes, waiting),
            Some(object) => {
                if let Some((object, key, buffer)) = self.again.add(object, key, row.bytes, waiting)
                {
                    self.uploading_bytes += buffer.bytes;
                    self.ready.push_back((key, buffer, Some(object)));
                }
            }
        }
    }

    /// Takes one command (`None`: the producer closed); whether the channel is still open.
    fn command(&mut self, command: Option<Command<LakeRow>>) -> bool {
        match command {
            Some(Command::Item {
                item,
                permit,
                reply,
            }) => self.accept(item, permit, reply),
            Some(Command::Flush(reply)) => {
                self.write_all();
                self.flushes.push(reply);
            }
            None => {
                self.write_all();
                self.again.abandon();
                return false;
            }
        }
        true
    }

    /// May the partition get a new object now (outside `flush`)?
    fn eligible(&self, key: &Key) -> bool {
        eligible(&self.last_object, key, self.config.min_object_interval)
    }

    /// Writes the buffers that are due, and the largest ones while the budget is nearly spent.
    fn write_due(&mut self) {
        let min_interval = self.config.min_object_interval;
        self.last_object.retain(|_, at| at.elapsed() < min_interval);
        let (object_bytes, interval) = (self.config.object_bytes, self.config.buffer_interval);
        let last = &self.last_object;
        let due = self.buffers.take_due(|key, buffer| {
            buffer.bytes >= object_bytes
                || (eligible(last, key, min_interval) && buffer.opened.elapsed() >= interval)
        });
        for (key, buffer) in due {
            self.queue(key, buffer);
        }
        // Three quarters of the budget held: write the largest partition early, so that
        // `send` is held back only while nothing may be written.
        let high_water = self.producer.max_buffered_bytes / 4 * 3;
        while self.buffers.bytes() + self.uploading_bytes >= high_water
            && self.ready.is_empty()
            && self.uploading.len() < self.producer.max_in_flight.max(1)
        {
            let Some(key) = self
                .buffers
                .largest(|key| self.eligible(key))
                .or_else(|| self.buffers.largest(|_| true))
            else {
                break;
            };
            let Some(buffer) = self.buffers.take(&key) else {
                break;
            };
            self.queue(key, buffer);
        }
    }

    /// Writes every buffer (`flush`, `shutdown`).
    fn write_all(&mut self) {
        for (key, buffer) in self.buffers.take_due(|_, _| true) {
            self.queue(key, buffer);
        }
    }

    /// Queues a buffer for upload; its key is fixed and its partition's clock restarts now.
    fn queue(&mut self, key: Key, buffer: Buffer<Waiting>) {
        self.last_object.insert(key.clone(), Instant::now());
        self.uploading_bytes += buffer.bytes;
        self.ready.push_back((key, buffer, None));
    }

    /// Starts queued uploads while fewer than `max_in_flight` run.
    fn start_uploads(&mut self) {
        while self.uploading.len() < self.producer.max_in_flight.max(1) {
            let Some((key, buffer, object_key)) = self.ready.pop_front() else {
                break;
            };
            self.upload(key, buffer, object_key);
        }
    }

    /// Encodes a buffer's rows and puts the object, in the background, under `object_key` (an
    /// object stored again) or a new key; with a spool, its intent recorded first.
    fn upload(&mut self, key: Key, buffer: Buffer<Waiting>, object_key: Option<Arc<str>>) {
        let class_uid = key.0;
        let (Some(location), Some(writer)) = (
            self.sources.location(class_uid).map(str::to_owned),
            self.writer(class_uid),
        ) else {
            let failure = Failure::own(
                FailureKind::NoDestination,
                "no table or location for the class",
            );
            self.uploading_bytes -= buffer.bytes;
            for (row, waiting) in buffer.rows {
                self.outcomes.failed(waiting.reply, row, &failure);
            }
            return;
        };
        let again = object_key.is_some();
        let folder = format!("{location}{}", partition_path(&key.1));
        let names = self.names.clone();
        let spool = self.spool.clone();
        let store = self.store.clone();
        // The object's requests end with its oldest event's deadline, as a stream call's do.
        let oldest = buffer
            .rows
            .iter()
            .map(|(_, waiting)| waiting.accepted)
            .min();
        let retry = RetrySettings {
            policy: Arc::clone(&self.policy),
            deadline: self.policy.deadline(oldest.unwrap_or_else(Instant::now)),
            reachability: self.reachability.clone(),
        };
        let bytes = buffer.bytes;
        metrics::histogram!(crate::telemetry::RECORDS_PER_CALL).record(buffer.rows.len() as f64);
        let encoders = self.encoders.clone();
        self.uploading.spawn(async move {
            let rows = buffer.rows;
            let mut size = 0;
            let encoding = encoders.acquire_owned().await;
            let (rows, object_key, encoded) = tokio::task::spawn_blocking(move || {
                let slices: Vec<&[u8]> = rows.iter().map(|(row, _)| row.as_slice()).collect();
                let object_key = match object_key {
                    Some(object_key) => object_key.to_string(),
                    None => names.key(&folder, &slices),
                };
                if let Some(spool) = &spool {
                    let entries = rows
                        .iter()
                        .filter_map(|(_, waiting)| waiting.reply.spool_id())
                        .collect();
                    if let Err(error) = spool.record_intent(&object_key, entries) {
                        // Stored anyway: after a crash its rows may land twice (at least once).
                        tracing::warn!(%error, "object intent not recorded in the spool");
                    }
                }
                let encoded = writer.encode(&slices);
                (rows, object_key, encoded.map_err(|e| not_writable(&e)))
            })
            .await
            .unwrap_or_else(|_| {
                let failure = Failure::own(FailureKind::NotWritable, "the encoder panicked");
                (Vec::new(), String::new(), Err(failure))
            });
            drop(encoding);
            let result = match encoded {
                Err(failure) => Err(failure),
                Ok(encoded) if encoded.rows == 0 => Ok(encoded),
                Ok(mut encoded) => {
                    let body = std::mem::take(&mut encoded.bytes);
                    size = body.len() as u64;
                    if again {
                        store.clear_interrupted(&object_key).await;
                    }
                    match store.put(&object_key, body, retry).await {
                        Ok(()) => {
                            tracing::debug!(rows = encoded.rows, bytes = size, "object stored");
                            metrics::histogram!(crate::telemetry::BYTES_PER_CALL)
                                .record(size as f64);
                            Ok(encoded)
                        }
                        Err(failure) => {
                            let code = failure.code();
                            tracing::warn!(code, rows = encoded.rows, "object not stored");
                            Err(failure)
                        }
                    }
                }
            };
            Uploaded {
                object_key,
                size,
                bytes,
                rows,
                result,
            }
        });
    }

    fn writer(&mut self, class_uid: i64) -> Option<ObjectWriter> {
        if let Some(writer) = self.writers.get(&class_uid) {
            return Some(writer.clone());
        }
        let writer = ObjectWriter::new(self.tables.get(class_uid)?, &DIRECT_PARQUET);
        self.writers.insert(class_uid, writer.clone());
        Some(writer)
    }

    fn resolve(&mut self, uploaded: Uploaded) {
        self.uploading_bytes -= uploaded.bytes;
        metrics::counter!(crate::telemetry::API_CALLS).increment(1);
        self.outcomes.report.api_calls += 1;
        match uploaded.result {
            Ok(encoded) => {
                if let (Some(callback), true) = (&self.on_object, encoded.rows > 0) {
                    callback(&StoredObject {
                        key: uploaded.object_key,
                        rows: encoded.rows as u64,
                        bytes: uploaded.size,
                    });
                }
                let mut rejected: BTreeMap<usize, LakeError> =
                    encoded.rejected.into_iter().collect();
                let now = Instant::now();
                for (index, (row, waiting)) in uploaded.rows.into_iter().enumerate() {
                    match rejected.remove(&index) {
                        None => self
                            .outcomes
                            .delivered(waiting.reply, waiting.accepted, now),
                        Some(error) => {
                            self.outcomes
                                .failed(waiting.reply, row, &not_writable(&error));
                        }
                    }
                }
            }
            Err(failure) => {
                for (row, waiting) in uploaded.rows {
                    self.outcomes.failed(waiting.reply, row, &failure);
                }
            }
        }
    }
}

/// The failure of rows the lake writer could not write: its code and message.
fn not_writable(error: &LakeError) -> Failure {
    Failure::own(
        FailureKind::NotWritable,
        format!("{}: {error}", error.code()),
    )
}

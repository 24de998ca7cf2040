//! The durable spool: a segmented write-ahead log on local disk, so that a producer killed,
//! OOM-killed or redeployed loses nothing it accepted. An event is appended before `send`
//! resolves and acknowledged once it is resolved (delivered, or failed and handed back to the
//! application); on start, the producer sends again every entry not acknowledged, bytes for
//! bytes (its `metadata.uid` included).
//!
//! We keep a small module of our own rather than a WAL crate: the producer needs exactly
//! append, out-of-order acknowledgement and replay, with a promise per durability mode that we
//! can state and test; the crates that come near (`okaywal`, `yaque`) bring their own formats,
//! checkpointing and recovery rules for more than that.
//!
//! Concurrent `send`s share one `write` (`group.rs`); the format is in `segment.rs`, the syncs
//! in `sync.rs`. Segments roll at [`SpoolConfig::segment_bytes`]; a sealed segment whose entries
//! are all acknowledged is deleted. The spool's size on disk is bounded by
//! [`SpoolConfig::max_bytes`]: `send` waits (as it waits for the memory budget) until
//! deliveries free a segment.

mod acks;
mod group;
mod intents;
mod position;
mod segment;
mod sync;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use segment::{
    ack_path, create_wal, entry_header, read_acks, read_entries, remove_segment, wal_path, wal_seq,
    write_entry,
};
pub use segment::{Damage, DamageKind};

/// When an appended entry reaches the disk, and so what a crash can take.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Durability {
    /// `send` resolves once its entry is on disk (`fdatasync`; concurrent sends share one):
    /// neither a crash of the process nor of the machine loses an accepted event. The slowest:
    /// one sync per `send` awaited in turn.
    Event,
    /// `send` resolves once its entry is written to the operating system, which syncs it to
    /// disk every this many entries: a crash of the process loses nothing; a crash of the
    /// machine (power, kernel) loses at most the last batch.
    Batch(u32),
    /// As `Batch`, synced every this long: a crash of the machine loses at most this long.
    Interval(Duration),
}

/// Where the spool lives and how it syncs.
#[derive(Debug, Clone)]
pub struct SpoolConfig {
    /// Its folder (created if missing), used by one producer at a time.
    pub dir: PathBuf,
    /// When entries reach the disk. Default: [`Durability::Batch`] of 500 entries.
    pub durability: Durability,
    /// A segment rolls over at this many bytes. Default 64 MiB.
    pub segment_bytes: u64,
    /// The most bytes on disk: `send` waits beyond it. Default 1 GiB.
    pub max_bytes: u64,
    /// An event that fails for a cause that may pass (throttled, service error, timeout,
    /// endpoint unreachable, the producer stopped first) stays in the spool and is sent again
    /// at the next start, instead of leaving it when its failure is handed back. Default
    /// `false`: the application gets the failure and decides. A batch job that is run again
    /// until everything landed (`ocsf-firehose upload`) sets it.
    pub keep_failed: bool,
}

impl SpoolConfig {
    /// The defaults in `dir`.
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        SpoolConfig {
            dir: dir.into(),
            durability: Durability::Batch(500),
            segment_bytes: 64 * 1024 * 1024,
            max_bytes: 1024 * 1024 * 1024,
            keep_failed: false,
        }
    }
}

/// Why the spool could not be opened or written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("spool {path}: {kind:?}: {message}")]
pub struct SpoolError {
    /// The file or folder.
    pub path: String,
    /// The I/O error's kind.
    pub kind: std::io::ErrorKind,
    /// The I/O error.
    pub message: String,
}

impl SpoolError {
    fn io(path: &Path, error: &std::io::Error) -> Self {
        SpoolError {
            path: path.display().to_string(),
            kind: error.kind(),
            message: error.to_string(),
        }
    }

    /// A stable machine-readable kind.
    pub fn code(&self) -> &'static str {
        "spool_failed"
    }
}

/// An entry found at start, and the ticket that acknowledges it.
pub(crate) type Spooled = (Ticket, Vec<u8>);

/// What opening a spool found: the entries to send again, and where segments were damaged.
#[derive(Debug, Default)]
pub struct Recovery {
    /// Entries not acknowledged, oldest first, each with the ticket that acknowledges it.
    pub(crate) entries: Vec<Spooled>,
    /// Objects of the lake writer that may or may not have been stored: their key and rows, to
    /// store again whole under that key (`intents.rs`).
    pub(crate) objects: Vec<(String, Vec<Spooled>)>,
    /// Segments whose entries stop before the end of their file (a torn last write, or
    /// damage): the bytes after the last whole entry are not replayed.
    pub damage: Vec<Damage>,
    /// One past the highest position of any entry the spool took (delivered since or not):
    /// where a caller reading its input in order goes on. `None` when no entry had one.
    pub next_position: Option<u64>,
}

/// One entry of the spool, acknowledged by [`Ticket::ack`]; dropped unacknowledged, its entry is
/// sent again at the next start.
#[derive(Debug)]
pub(crate) struct Ticket {
    spool: Arc<Spool>,
    segment: u64,
    index: u32,
}

impl Ticket {
    /// The entry's segment and index.
    #[cfg(feature = "lake")]
    pub(crate) fn id(&self) -> (u64, u32) {
        (self.segment, self.index)
    }

    /// The entry is resolved: it leaves the spool.
    pub(crate) fn ack(self) {
        self.spool.ack(self.segment, self.index);
    }

    /// The entry's event failed with `kind`: it leaves the spool, unless the spool keeps
    /// such failures for the next start ([`SpoolConfig::keep_failed`]).
    pub(crate) fn fail(self, kind: crate::failure::FailureKind) {
        let passing = kind.is_retryable() || kind == crate::failure::FailureKind::ProducerClosed;
        if !(self.spool.config.keep_failed && passing) {
            self.ack();
        }
    }
}

/// Where a run of entries went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Placed {
    segment: u64,
    first_index: u32,
    /// The number of the run's last entry among every entry appended.
    appended_end: u64,
    /// Entries in the run.
    entries_in_batch: u32,
}

/// The spool of one producer.
#[derive(Debug)]
pub struct Spool {
    dir: PathBuf,
    config: SpoolConfig,
    state: Mutex<State>,
    /// Acknowledgements not yet applied to the state: `(segment, index)`.
    acked: Mutex<Vec<(u64, u32)>>,
    /// Woken when segments are deleted (room on disk).
    room: tokio::sync::Notify,
    sync: sync::Syncer,
    /// Entries of concurrent `send`s waiting to be written together.
    queue: Mutex<group::Queue>,
    /// `write`s of entries made so far.
    writes: std::sync::atomic::AtomicU64,
    /// The lake writer's objects about to be stored.
    #[cfg_attr(not(feature = "lake"), allow(dead_code))]
    intents: Mutex<Option<intents::Log>>,
}

#[derive(Debug)]
struct State {
    /// The segment appended to.
    current: u64,
    file: Arc<File>,
    written: u64,
    next_index: u32,
    segments: BTreeMap<u64, Segment>,
    /// Bytes of every segment's files on disk.
    disk_bytes: u64,
    /// Entries appended (the sync's watermark counts in them).
    appended: u64,
    /// The position the `position` file holds.
    saved_position: Option<u64>,
}

#[derive(Debug, Default)]
struct Segment {
    /// Entries not acknowledged.
    live: u64,
    /// Bytes of its files.
    bytes: u64,
    /// Its ack file, opened at the first acknowledgement.
    acks: Option<File>,
    /// The highest position of its entries (`position.rs`).
    last_position: Option<u64>,
    /// Ack records applied, not yet written.
    unwritten: Vec<u8>,
}

/// Acknowledgements are queued, then applied and written this many at a time (and when the
/// spool is full, or closes): one `write` per event would cost as much as the entry's own. A
/// crash loses at most these, and their entries are sent again (at least once).
const ACKS_APPLIED_AT: usize = 64;
/// How often a `send` waiting for room in a full spool checks again.
const ROOM_RECHECK: Duration = Duration::from_millis(10);

impl Spool {
    /// Opens (or creates) the spool in `config.dir`: every entry not acknowledged is in the
    /// [`Recovery`], every damaged segment reported (and logged).
    pub fn open(config: SpoolConfig) -> Result<(Arc<Spool>, Recovery), SpoolError> {
        let dir = config.dir.clone();
        std::fs::create_dir_all(&dir).map_err(|e| SpoolError::io(&dir, &e))?;
        let mut seqs: Vec<u64> = std::fs::read_dir(&dir)
            .map_err(|e| SpoolError::io(&dir, &e))?
            .filter_map(|entry| entry.ok()?.file_name().to_str().and_then(wal_seq))
            .collect();
        seqs.sort_unstable();
        let mut segments = BTreeMap::new();
        let mut found: Vec<(u64, u32, Vec<u8>)> = Vec::new();
        let mut empty = Vec::new();
        let mut damage = Vec::new();
        let mut disk_bytes = 0;
        let mut saved_position = position::read(&dir);
        let mut removed_position = None;
        let mut last_position = saved_position;
        for &seq in &seqs {
            let wal = wal_path(&dir, seq);
            let data = std::fs::read(&wal).map_err(|e| SpoolError::io(&wal, &e))?;
            let acks = match std::fs::read(ack_path(&dir, seq)) {
                Ok(acks) => acks,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
                Err(e) => return Err(SpoolError::io(&ack_path(&dir, seq), &e)),
            };
            let acked: std::collections::HashSet<u32> = read_acks(&acks).into_iter().collect();
            let read = read_entries(seq, &data);
            if let Some(d) = read.damage {
                tracing::warn!(
                    segment = d.segment,
                    offset = d.offset,
                    bytes_dropped = d.bytes_dropped,
                    kind = ?d.kind,
                    "spool segment ends before its file: the rest is not replayed"
                );
                damage.push(d);
            }
            let before = found.len();
            for (index, payload) in read.entries {
                if !acked.contains(&index) {
                    found.push((seq, index, payload.to_vec()));
                }
            }
            let live = (found.len() - before) as u64;
            let bytes = (data.len() + acks.len()) as u64;
            last_position = last_position.max(read.last_position);
            if live == 0 {
                removed_position = removed_position.max(read.last_position);
                empty.push(seq);
            } else {
                disk_bytes += bytes;
                segments.insert(
                    seq,
                    Segment {
                        live,
                        bytes,
                        last_position: read.last_position,
                        ..Segment::default()
                    },
                );
            }
        }
        // The segments with nothing live leave, their positions kept first.
        if removed_position > saved_position {
            if let Some(removed) = removed_position {
                position::write(&dir, removed)?;
                saved_position = removed_position;
            }
        }
        for seq in empty {
            remove_segment(&dir, seq);
        }
        let live: HashSet<(u64, u32)> = found.iter().map(|(s, i, _)| (*s, *i)).collect();
        let pending = intents::recover(&dir, &live)?;
        let current = seqs.last().map_or(0, |last| last + 1);
        let file = create_wal(&dir, current)?;
        segments.insert(current, Segment::default());
        let file = Arc::new(file);
        let sync = sync::Syncer::start(config.durability);
        sync.use_file(Arc::clone(&file));
        let spool = Arc::new(Spool {
            sync,
            dir,
            config,
            state: Mutex::new(State {
                current,
                file,
                written: 0,
                next_index: 0,
                segments,
                disk_bytes,
                appended: 0,
                saved_position,
            }),
            acked: Mutex::new(Vec::new()),
            room: tokio::sync::Notify::new(),
            queue: Mutex::new(group::Queue::default()),
            writes: std::sync::atomic::AtomicU64::new(0),
            intents: Mutex::new(None),
        });
        if !found.is_empty() {
            tracing::info!(entries = found.len(), "spool entries to send again");
        }
        let mut tickets: HashMap<(u64, u32), (Ticket, Vec<u8>)> = HashMap::new();
        let mut order = Vec::with_capacity(found.len());
        for (segment, index, bytes) in found {
            let ticket = Ticket {
                spool: Arc::clone(&spool),
                segment,
                index,
            };
            order.push((segment, index));
            tickets.insert((segment, index), (ticket, bytes));
        }
        for id in &pending.stored {
            if let Some((ticket, _)) = tickets.remove(id) {
                ticket.ack();
            }
        }
        let objects = pending
            .objects
            .into_iter()
            .map(|intent| {
                let rows = intent
                    .entries
                    .iter()
                    .filter_map(|id| tickets.remove(id))
                    .collect();
                (intent.key, rows)
            })
            .collect();
        let entries = order
            .into_iter()
            .filter_map(|id| tickets.remove(&id))
            .collect();
        Ok((
            spool,
            Recovery {
                entries,
                objects,
                damage,
                next_position: last_position.map(|p| p.saturating_add(1)),
            },
        ))
    }

    /// Records that the object `key` is about to be stored with the rows of `entries` (the lake
    /// writer, before it stores the object).
    #[cfg(feature = "lake")]
    pub(crate) fn record_intent(
        &self,
        key: &str,
        entries: Vec<(u64, u32)>,
    ) -> Result<(), SpoolError> {
        let intent = intents::Intent {
            key: key.to_owned(),
            entries,
        };
        let mut log = lock(&self.intents);
        if log.is_none() {
            *log = Some(intents::Log::open(&self.dir)?);
        }
        match &*log {
            Some(log) => log.record(&intent),
            None => Ok(()),
        }
    }

    /// The configuration.
    pub fn config(&self) -> &SpoolConfig {
        &self.config
    }

    /// Bytes of the spool's files, once the acknowledgements queued so far are applied.
    pub fn disk_bytes(&self) -> u64 {
        let mut state = self.state();
        self.apply_queued_acks(&mut state);
        state.disk_bytes
    }

    fn state(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock leaves the files consistent (entries are whole or
        // torn, and a torn entry is detected): go on with what the state says.
        lock(&self.state)
    }

    /// Appends `payload` without waiting for the disk or for room (`try_send`), a sync asked
    /// for: `None` when the spool is full.
    pub(crate) fn try_append_now(
        self: &Arc<Self>,
        payload: &[u8],
        position: Option<u64>,
    ) -> Result<Option<Ticket>, SpoolError> {
        let header = entry_header(payload, position);
        let size = (header.len() + payload.len()) as u64;
        let mut state = self.state();
        if !self.make_room(&mut state, size)? {
            return Ok(None);
        }
        let path = wal_path(&self.dir, state.current);
        write_entry(&state.file, &header, payload).map_err(|e| SpoolError::io(&path, &e))?;
        let placed = self.placed(&mut state, 1, size, position);
        self.sync.request();
        Ok(Some(Ticket {
            spool: Arc::clone(self),
            segment: placed.segment,
            index: placed.first_index,
        }))
    }

    /// Rolls the current segment over when `size` more bytes would not fit it, and makes room
    /// for them on disk (the queued acknowledgements applied, a current segment with nothing
    /// live rolled over); `false` when the spool stays full.
    fn make_room(&self, state: &mut State, size: u64) -> Result<bool, SpoolError> {
        self.roll_for(state, size)?;
        if !self.full(state, size) {
            return Ok(true);
        }
        self.apply_queued_acks(state);
        let current = state.current;
        if state.written > 0 && state.segments.get(&current).is_some_and(|s| s.live == 0) {
            self.roll(state)?;
        }
        Ok(!self.full(state, size))
    }

    /// Rolls the current segment over when `size` more bytes would not fit it.
    fn roll_for(&self, state: &mut State, size: u64) -> Result<(), SpoolError> {
        if state.written > 0 && state.written + size > self.config.segment_bytes {
            self.roll(state)?;
        }
        Ok(())
    }

    fn full(&self, state: &State, size: u64) -> bool {
        state.disk_bytes > 0 && state.disk_bytes + size > self.config.max_bytes
    }

    /// The `write`s of entries made so far (concurrent `send`s share one).
    pub fn writes(&self) -> u64 {
        self.writes.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Counts `entries` entries of `size` bytes, the highest position among them
    /// `last_position`, just written to the current segment.
    fn placed(
        &self,
        state: &mut State,
        entries: u32,
        size: u64,
        last_position: Option<u64>,
    ) -> Placed {
        self.writes
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let placed = Placed {
            segment: state.current,
            first_index: state.next_index,
            appended_end: state.appended + u64::from(entries),
            entries_in_batch: entries,
        };
        state.written += size;
        state.disk_bytes += size;
        state.next_index += entries;
        state.appended += u64::from(entries);
        if let Some(current) = state.segments.get_mut(&placed.segment) {
            current.live += u64::from(entries);
            current.bytes += size;
            current.last_position = current.last_position.max(last_position);
        }
        self.sync.track(state.appended);
        placed
    }

    /// Seals the current segment (synced, so that a later segment never outlives an earlier
    /// one's entries) and starts the next.
    fn roll(&self, state: &mut State) -> Result<(), SpoolError> {
        let sealed = state.current;
        state
            .file
            .sync_data()
            .map_err(|e| SpoolError::io(&wal_path(&self.dir, sealed), &e))?;
        let next = sealed + 1;
        state.file = Arc::new(create_wal(&self.dir, next)?);
        self.sync.use_file(Arc::clone(&state.file));
        state.current = next;
        state.written = 0;
        state.next_index = 0;
        state.segments.insert(next, Segment::default());
        if state.segments.get(&sealed).is_some_and(|s| s.live == 0) {
            self.delete(state, sealed);
        }
        Ok(())
    }

    /// Deletes a segment with nothing live, its highest position kept first (a segment whose
    /// position cannot be kept stays: its entries still say it at the next start).
    fn delete(&self, state: &mut State, segment: u64) {
        let last_position = state.segments.get(&segment).and_then(|s| s.last_position);
        if last_position > state.saved_position {
            if let Some(position) = last_position {
                if let Err(error) = position::write(&self.dir, position) {
                    tracing::warn!(%error, segment, "spool position not kept: segment stays");
                    return;
                }
                state.saved_position = last_position;
            }
        }
        if let Some(removed) = state.segments.remove(&segment) {
            state.disk_bytes = state.disk_bytes.saturating_sub(removed.bytes);
        }
        remove_segment(&self.dir, segment);
        self.room.notify_waiters();
    }
}

impl Drop for Spool {
    /// Closed (every ticket gone): a current segment with nothing live leaves with its acks;
    /// the rest write their acknowledgements.
    fn drop(&mut self) {
        let current = {
            let mut state = self.state();
            self.apply_queued_acks(&mut state);
            let current = state.current;
            state
                .segments
                .get(&current)
                .is_some_and(|s| s.live == 0)
                .then_some(current)
        };
        if let Some(current) = current {
            let mut state = self.state();
            self.delete(&mut state, current);
            if state.segments.is_empty() {
                // Nothing live: no object can be pending either.
                intents::remove(&self.dir);
            }
        }
        self.write_all_acks();
    }
}

/// Locks `mutex`; a panic while it was held leaves plain data, still usable.
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    match mutex.lock() {
        Ok(guard) => guard,
        Err(poisoned) => poisoned.into_inner(),
    }
}

#[cfg(test)]
mod tests;

//! Group writes: the entries of `send`s made at the same time go to the disk in one `write`.
//! The first `send` to find no write in progress leads: it yields once (so that the sends ready
//! to run queue theirs; a lone sender's leader only now and then, `yields`), then writes what is
//! queued, again until the queue is empty; the others
//! queue their entry and wait for the batch that took it. Every
//! `send` still resolves only once its own entry is written (and synced as the durability says),
//! so the promise is the same as one `write` each; only the number of system calls falls. A
//! single sender leads every time: one `write` per entry, as before.
//!
//! A `send` dropped while waiting (cancelled) does not leave its entry live for the rest of the
//! run: its [`Waiter`] acknowledges the entry once the batch is written, since nobody will.

use std::ops::Range;
use std::sync::{Arc, Mutex};

use super::segment::entry_header;
use super::{lock, wal_path, Placed, Spool, SpoolError, Ticket, ROOM_RECHECK};

/// The entries queued for the next write.
#[derive(Debug, Default)]
pub(super) struct Queue {
    /// Their frames, end to end.
    frames: Vec<u8>,
    entries: u32,
    /// The highest position among them.
    last_position: Option<u64>,
    /// Where the next write tells its waiters how it went.
    batch: Arc<Batch>,
    /// A `send` is writing.
    leading: bool,
    /// Writes in a row that took one entry: a lone sender's. Its leader then yields only now
    /// and then, to notice concurrent sends coming (`yields`).
    lone_writes: u32,
}

/// Whether the leader yields before writing, after `lone_writes` writes in a row of one entry:
/// always after a shared write and the first few lone ones; then one write in
/// [`LONE_YIELD_EVERY`] (a yield costs a lone sender a trip through the scheduler each time).
pub(super) fn yields(lone_writes: u32) -> bool {
    lone_writes < 4 || lone_writes.is_multiple_of(LONE_YIELD_EVERY)
}

/// How often a lone sender's leader still yields (see [`yields`]).
const LONE_YIELD_EVERY: u32 = 16;

/// One write's outcome, for the entries it took.
#[derive(Debug, Default)]
struct Batch {
    state: Mutex<BatchState>,
    written: tokio::sync::Notify,
}

#[derive(Debug, Default)]
struct BatchState {
    outcome: Option<Result<Placed, SpoolError>>,
    /// Entries whose `send` was dropped before the write: acknowledged once it is done.
    orphans: Vec<u32>,
}

/// Queued entries waiting for their batch (one `send`'s, or a run of them); dropped before
/// they got their tickets, it acknowledges the entries (now, or when the batch is written).
struct Waiter<'a> {
    spool: &'a Arc<Spool>,
    batch: Arc<Batch>,
    /// The entries' offsets in the batch.
    offsets: Range<u32>,
    done: bool,
}

impl Drop for Waiter<'_> {
    fn drop(&mut self) {
        if self.done {
            return;
        }
        let placed = {
            let mut state = lock(&self.batch.state);
            match &state.outcome {
                Some(Ok(placed)) => Some(*placed),
                Some(Err(_)) => None,
                None => {
                    state.orphans.extend(self.offsets.clone());
                    None
                }
            }
        };
        if let Some(placed) = placed {
            for offset in self.offsets.clone() {
                self.spool.ack(placed.segment, placed.first_index + offset);
            }
        }
    }
}

/// The leading `send`: writes the queue when dropped (done writing its wait, or cancelled).
struct Leader<'a>(&'a Arc<Spool>);

impl Drop for Leader<'_> {
    fn drop(&mut self) {
        self.0.write_queued();
    }
}

impl Spool {
    /// Appends `payload`, waiting while the spool is full; returns once the entry is written
    /// (with the entries of the `send`s made meanwhile) and as durable as the configuration
    /// promises.
    pub(crate) async fn append(
        self: &Arc<Self>,
        payload: &[u8],
        position: Option<u64>,
    ) -> Result<Ticket, SpoolError> {
        let (placed, offsets) = self.append_run(&[(payload, position)]).await?;
        Ok(self.ticket(placed, offsets.start))
    }

    /// Appends a run of entries (`(payload, position)`, in order) in one `write`, waiting while
    /// the spool is full: their tickets, in order, once the run is written and as durable as
    /// the configuration promises. A caller handing over many events at once (a batch of an
    /// input read in order) makes one system call and one wait for all of them.
    pub(crate) async fn append_all(
        self: &Arc<Self>,
        entries: &[(&[u8], Option<u64>)],
    ) -> Result<Vec<Ticket>, SpoolError> {
        if entries.is_empty() {
            return Ok(Vec::new());
        }
        let (placed, offsets) = self.append_run(entries).await?;
        Ok(offsets.map(|offset| self.ticket(placed, offset)).collect())
    }

    /// The ticket of the entry at `offset` in the batch `placed` was written in.
    fn ticket(self: &Arc<Self>, placed: Placed, offset: u32) -> Ticket {
        Ticket {
            spool: Arc::clone(self),
            segment: placed.segment,
            index: placed.first_index + offset,
        }
    }

    /// Queues a (non-empty) run, waits until its batch is written and as durable as promised:
    /// where the batch went, and the run's offsets in it.
    async fn append_run(
        self: &Arc<Self>,
        entries: &[(&[u8], Option<u64>)],
    ) -> Result<(Placed, Range<u32>), SpoolError> {
        let size = entries
            .iter()
            .map(|(payload, _)| (super::segment::ENTRY_HEADER_BYTES + payload.len()) as u64)
            .sum();
        self.wait_for_room(size).await?;
        let (mut waiter, lead, write_now) = {
            let mut queue = lock(&self.queue);
            for (payload, position) in entries {
                queue
                    .frames
                    .extend_from_slice(&entry_header(payload, *position));
                queue.frames.extend_from_slice(payload);
                queue.last_position = queue.last_position.max(*position);
            }
            let first = queue.entries;
            // A spool holds far fewer than 2^32 entries per segment.
            let count = u32::try_from(entries.len()).unwrap_or(u32::MAX);
            queue.entries = first.saturating_add(count);
            // A run is many entries already: its leader writes at once.
            let lead = !queue.leading && count == 1 && yields(queue.lone_writes);
            let write_now = !queue.leading && !lead;
            queue.leading = true;
            let waiter = Waiter {
                spool: self,
                batch: Arc::clone(&queue.batch),
                offsets: first..first.saturating_add(count),
                done: false,
            };
            (waiter, lead, write_now)
        };
        if write_now {
            self.write_queued();
        } else if lead {
            // Let the sends ready to run queue their entries first (on one thread, nothing
            // else runs while this one writes); the write happens even if this send is dropped.
            let leader = Leader(self);
            tokio::task::yield_now().await;
            drop(leader);
        }
        let placed = loop {
            let written = waiter.batch.written.notified();
            if let Some(outcome) = &lock(&waiter.batch.state).outcome {
                break outcome.clone();
            }
            written.await;
        };
        waiter.done = true;
        let placed = placed?;
        let entries_before = placed.appended_end - u64::from(placed.entries_in_batch);
        let offsets = waiter.offsets.clone();
        let end = entries_before + u64::from(offsets.end);
        self.sync
            .appended(entries_before + u64::from(offsets.start) + 1..=end)
            .await;
        Ok((placed, offsets))
    }

    /// Waits until `size` more bytes fit (woken when segments leave, and soon in any case, to
    /// apply the acknowledgements queued since). Concurrent `send`s may each pass: the spool
    /// then exceeds its bound by at most their entries.
    async fn wait_for_room(&self, size: u64) -> Result<(), SpoolError> {
        loop {
            let room = self.room.notified();
            {
                let mut state = self.state();
                if self.make_room(&mut state, size)? {
                    return Ok(());
                }
            }
            let _ = tokio::time::timeout(ROOM_RECHECK, room).await;
        }
    }

    /// Writes the queued entries, again until none is queued, and tells each batch's waiters.
    fn write_queued(self: &Arc<Self>) {
        loop {
            let (frames, entries, last_position, batch) = {
                let mut queue = lock(&self.queue);
                if queue.entries == 0 {
                    queue.leading = false;
                    return;
                }
                queue.lone_writes = match queue.entries {
                    1 => queue.lone_writes.saturating_add(1),
                    _ => 0,
                };
                (
                    std::mem::take(&mut queue.frames),
                    std::mem::take(&mut queue.entries),
                    queue.last_position.take(),
                    std::mem::take(&mut queue.batch),
                )
            };
            let outcome = self.write_batch(&frames, entries, last_position);
            let orphans = {
                let mut state = lock(&batch.state);
                state.outcome = Some(outcome.clone());
                std::mem::take(&mut state.orphans)
            };
            batch.written.notify_waiters();
            if let Ok(placed) = outcome {
                for offset in orphans {
                    self.ack(placed.segment, placed.first_index + offset);
                }
            }
        }
    }

    /// Writes `entries` framed entries into the current segment in one `write`.
    fn write_batch(
        &self,
        frames: &[u8],
        entries: u32,
        last_position: Option<u64>,
    ) -> Result<Placed, SpoolError> {
        let size = frames.len() as u64;
        let mut state = self.state();
        self.roll_for(&mut state, size)?;
        let path = wal_path(&self.dir, state.current);
        std::io::Write::write_all(&mut &*state.file, frames)
            .map_err(|e| SpoolError::io(&path, &e))?;
        Ok(self.placed(&mut state, entries, size, last_position))
    }
}

#[cfg(test)]
mod tests {
    use super::super::SpoolConfig;
    use super::*;

    /// A send (one entry, or a run) that queued its entries behind another's write and was
    /// dropped before the batch was written: the leader writes them, positions and all, and
    /// acknowledges them for the send that will never resolve them.
    #[tokio::test]
    async fn entries_dropped_before_their_write_leave_nothing_to_replay() {
        let one: Vec<(&[u8], Option<u64>)> = vec![(b"{\"dropped\":true}", None)];
        let run: Vec<(&[u8], Option<u64>)> = vec![(b"{\"a\":1}", Some(1)), (b"{\"b\":2}", Some(2))];
        for (entries, next_position) in [(one, None), (run, Some(3))] {
            let dir = std::env::temp_dir().join(format!(
                "ocsf-spool-dropped-{}-{}",
                std::process::id(),
                fastrand::u64(..)
            ));
            let (spool, _) = Spool::open(SpoolConfig::new(&dir)).unwrap();
            // Another send is writing: this one queues its entries and waits for the batch.
            lock(&spool.queue).leading = true;
            let mut waiting = Box::pin(spool.append_all(&entries));
            tokio::select! {
                biased;
                _ = &mut waiting => panic!("written without a leader"),
                () = std::future::ready(()) => {}
            }
            assert_eq!(lock(&spool.queue).entries as usize, entries.len(), "queued");
            drop(waiting);
            spool.write_queued();
            assert_eq!(spool.writes(), 1);
            drop(spool);
            let (_spool, recovery) = Spool::open(SpoolConfig::new(&dir)).unwrap();
            assert!(recovery.entries.is_empty(), "not live");
            assert_eq!(recovery.next_position, next_position, "yet written");
            std::fs::remove_dir_all(&dir).unwrap();
        }
    }
}

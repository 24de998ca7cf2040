//! Acknowledgements: queued by the workers resolving events, applied to the spool's state (a
//! segment whose entries are all acknowledged is deleted) and written to the segments' ack
//! files, a batch at a time.

use std::fs::OpenOptions;
use std::io::Write;
use std::path::Path;

use super::segment::{ack_path, encode_ack};
use super::{lock, Segment, Spool, State, ACKS_APPLIED_AT};

impl Spool {
    /// Acknowledges an entry: queued, and applied [`ACKS_APPLIED_AT`] at a time (or when the
    /// spool is full, or closes), so that the worker resolving events never waits for a writer
    /// holding the state in a `write`.
    pub(super) fn ack(&self, segment: u64, index: u32) {
        let batch = {
            let mut acked = lock(&self.acked);
            acked.push((segment, index));
            if acked.len() < ACKS_APPLIED_AT {
                return;
            }
            std::mem::take(&mut *acked)
        };
        let mut state = self.state();
        for (segment, index) in batch {
            self.apply_ack(&mut state, segment, index);
        }
        let state = &mut *state;
        for (&seq, segment) in &mut state.segments {
            state.disk_bytes += write_acks(&self.dir, seq, segment);
        }
    }

    /// Applies the acknowledgements queued so far.
    pub(super) fn apply_queued_acks(&self, state: &mut State) {
        let batch = std::mem::take(&mut *lock(&self.acked));
        for (segment, index) in batch {
            self.apply_ack(state, segment, index);
        }
    }

    pub(super) fn apply_ack(&self, state: &mut State, segment: u64, index: u32) {
        let current = state.current;
        let Some(entry) = state.segments.get_mut(&segment) else {
            return;
        };
        entry.live = entry.live.saturating_sub(1);
        if entry.live == 0 && segment != current {
            self.delete(state, segment);
            return;
        }
        entry.unwritten.extend_from_slice(&encode_ack(index));
        if segment == current && state.segments.get(&segment).is_some_and(|s| s.live == 0) {
            // The writer waiting for room may roll this segment over.
            self.room.notify_waiters();
        }
    }

    /// Writes every ack record not yet written.
    pub(super) fn write_all_acks(&self) {
        let mut state = self.state();
        self.apply_queued_acks(&mut state);
        let state = &mut *state;
        for (&seq, segment) in &mut state.segments {
            state.disk_bytes += write_acks(&self.dir, seq, segment);
        }
    }
}

/// Writes `entry`'s unwritten ack records into segment `seq`'s ack file; the bytes written. A
/// record not written is an entry sent again at the next start (at least once).
pub(super) fn write_acks(dir: &Path, seq: u64, entry: &mut Segment) -> u64 {
    if entry.unwritten.is_empty() {
        return 0;
    }
    if entry.acks.is_none() {
        let path = ack_path(dir, seq);
        match OpenOptions::new().create(true).append(true).open(&path) {
            Ok(file) => entry.acks = Some(file),
            Err(error) => tracing::warn!(segment = seq, %error, "spool ack file not opened"),
        }
    }
    let records = std::mem::take(&mut entry.unwritten);
    match entry.acks.as_mut().map(|file| file.write_all(&records)) {
        Some(Ok(())) => {
            entry.bytes += records.len() as u64;
            records.len() as u64
        }
        Some(Err(error)) => {
            tracing::warn!(segment = seq, %error, "spool acks not recorded");
            0
        }
        None => 0,
    }
}

//! The spool's syncs, on a thread of their own so that no `send` blocks the runtime on
//! `fdatasync`: group commit for [`Durability::Event`] (every `send` waiting when a sync starts
//! is covered by it), every N entries (and every second) for [`Durability::Batch`], every
//! interval for [`Durability::Interval`].

use std::fs::File;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{channel, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::watch;

use super::{lock, Durability};

/// How long written entries of [`Durability::Batch`] wait for a sync at most.
const BATCH_SYNC_EVERY: Duration = Duration::from_secs(1);

/// The sync thread's handle.
#[derive(Debug)]
pub(super) struct Syncer {
    durability: Durability,
    latest: Arc<Latest>,
    wake: Mutex<Sender<()>>,
    synced: watch::Receiver<u64>,
}

/// The number of the last entry appended, and the segment file appended to (set when it
/// changes: a segment rolled over is synced as it is sealed).
#[derive(Debug, Default)]
struct Latest {
    appended: AtomicU64,
    file: Mutex<Option<Arc<File>>>,
}

impl Syncer {
    /// Starts the thread.
    pub(super) fn start(durability: Durability) -> Self {
        let latest = Arc::new(Latest::default());
        let (wake, woken) = channel::<()>();
        let (publish, synced) = watch::channel(0u64);
        let every = match durability {
            Durability::Interval(every) => every.max(Duration::from_millis(1)),
            Durability::Event | Durability::Batch(_) => BATCH_SYNC_EVERY,
        };
        let shared = Arc::clone(&latest);
        let spawned = std::thread::Builder::new()
            .name("ocsf-spool-sync".into())
            .spawn(move || {
                let mut done = 0u64;
                loop {
                    let stop = match woken.recv_timeout(every) {
                        Ok(()) => false,
                        Err(RecvTimeoutError::Timeout) => false,
                        Err(RecvTimeoutError::Disconnected) => true,
                    };
                    // Every request waiting now is covered by this one sync.
                    while woken.try_recv().is_ok() {}
                    // The number first: an entry it counts is in this file, or in one sealed
                    // (synced) since.
                    let appended = shared.appended.load(Ordering::Acquire);
                    let file = lock(&shared.file).clone();
                    if appended > done {
                        if let Some(file) = file {
                            if let Err(error) = file.sync_data() {
                                tracing::warn!(%error, "spool sync failed");
                                if stop {
                                    return;
                                }
                                continue;
                            }
                        }
                        done = appended;
                        let _ = publish.send(done);
                    }
                    if stop {
                        return;
                    }
                }
            });
        if let Err(error) = spawned {
            // Without the thread, entries are still written before `send` resolves (a process
            // crash loses nothing), but never synced: `Event` then resolves without waiting.
            tracing::error!(%error, "spool sync thread not started");
        }
        Syncer {
            durability,
            latest,
            wake: Mutex::new(wake),
            synced,
        }
    }

    /// Entries are appended to `file` from now on.
    pub(super) fn use_file(&self, file: Arc<File>) {
        *lock(&self.latest.file) = Some(file);
    }

    /// Entry number `appended` was written.
    pub(super) fn track(&self, appended: u64) {
        self.latest.appended.store(appended, Ordering::Release);
    }

    /// Asks for a sync soon.
    pub(super) fn request(&self) {
        let _ = lock(&self.wake).send(());
    }

    /// Entries numbered `appended` (a run written together) were written: returns when they
    /// are as durable as promised.
    pub(super) async fn appended(&self, appended: std::ops::RangeInclusive<u64>) {
        match self.durability {
            Durability::Event => {
                self.request();
                let mut synced = self.synced.clone();
                let last = *appended.end();
                // An error: the thread is gone (it stopped, or never started): nothing to wait.
                let _ = synced.wait_for(|done| *done >= last).await;
            }
            Durability::Batch(every) => {
                if reaches_multiple(&appended, every) {
                    self.request();
                }
            }
            Durability::Interval(_) => {}
        }
    }
}

/// Whether the entries numbered `run` include a multiple of `every` (a sync is due for
/// [`Durability::Batch`]).
fn reaches_multiple(run: &std::ops::RangeInclusive<u64>, every: u32) -> bool {
    let every = u64::from(every.max(1));
    run.end() / every > run.start().saturating_sub(1) / every
}

#[cfg(test)]
mod tests {
    use super::reaches_multiple;

    #[test]
    fn a_batch_sync_is_due_when_a_run_reaches_a_multiple() {
        assert!(reaches_multiple(&(500..=500), 500));
        assert!(!reaches_multiple(&(499..=499), 500));
        assert!(
            reaches_multiple(&(372..=628), 500),
            "crossed inside the run"
        );
        assert!(!reaches_multiple(&(501..=999), 500));
        assert!(reaches_multiple(&(1..=1), 0), "every 0 is every 1");
    }
}

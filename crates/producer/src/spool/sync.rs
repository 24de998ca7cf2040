//! The spool's syncs, on a thread of their own so that no `send` blocks the runtime on
//! `fdatasync`: group commit for [`Durability::Event`] (every `send` waiting when a sync starts
//! is covered by it), every N entries (and every second) for [`Durability::Batch`], every
//! interval for [`Durability::Interval`].

use std::fs::File;
use std::sync::mpsc::{channel, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::watch;

use super::Durability;

/// How long written entries of [`Durability::Batch`] wait for a sync at most.
const BATCH_SYNC_EVERY: Duration = Duration::from_secs(1);

/// The sync thread's handle.
#[derive(Debug)]
pub(super) struct Syncer {
    durability: Durability,
    latest: Arc<Mutex<Latest>>,
    wake: Mutex<Sender<()>>,
    synced: watch::Receiver<u64>,
}

/// The last entry appended and the file it is in.
#[derive(Debug, Default)]
struct Latest {
    appended: u64,
    file: Option<Arc<File>>,
}

impl Syncer {
    /// Starts the thread.
    pub(super) fn start(durability: Durability) -> Self {
        let latest = Arc::new(Mutex::new(Latest::default()));
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
                    let (appended, file) = match shared.lock() {
                        Ok(latest) => (latest.appended, latest.file.clone()),
                        Err(poisoned) => {
                            let latest = poisoned.into_inner();
                            (latest.appended, latest.file.clone())
                        }
                    };
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
            // crash loses nothing); `Event` then waits for a sync that never comes, so say so.
            tracing::error!(%error, "spool sync thread not started");
        }
        Syncer {
            durability,
            latest,
            wake: Mutex::new(wake),
            synced,
        }
    }

    /// Entry number `appended` was written to `file`.
    pub(super) fn track(&self, appended: u64, file: Arc<File>) {
        let mut latest = match self.latest.lock() {
            Ok(latest) => latest,
            Err(poisoned) => poisoned.into_inner(),
        };
        latest.appended = appended;
        latest.file = Some(file);
    }

    /// Asks for a sync soon.
    pub(super) fn request(&self, _appended: u64) {
        if let Ok(wake) = self.wake.lock() {
            let _ = wake.send(());
        }
    }

    /// Entry number `appended` was written: returns when it is as durable as promised.
    pub(super) async fn appended(&self, appended: u64) {
        match self.durability {
            Durability::Event => {
                self.request(appended);
                let mut synced = self.synced.clone();
                // An error: the thread is gone (it stopped, or never started): nothing to wait.
                let _ = synced.wait_for(|done| *done >= appended).await;
            }
            Durability::Batch(every) => {
                if appended.is_multiple_of(u64::from(every.max(1))) {
                    self.request(appended);
                }
            }
            Durability::Interval(_) => {}
        }
    }
}

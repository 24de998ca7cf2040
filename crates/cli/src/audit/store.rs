//! The lake `audit` reads: a bucket or a folder ([`Store`]), read by ranges (footers, a column
//! chunk), every byte counted.

use std::sync::atomic::{AtomicU64, Ordering};

use bytes::Bytes;

pub(crate) use crate::store::{Listed, Store};

/// A lake, read by ranges.
pub(crate) struct Lake {
    store: Store,
    bytes_read: AtomicU64,
    requests: AtomicU64,
    /// The longest Parquet footer met so far (0: none yet): how much of the next object's tail
    /// to read first (the objects of a lake have footers of much the same length).
    longest_footer: AtomicU64,
}

impl Lake {
    pub(crate) fn new(store: Store) -> Lake {
        Lake {
            store,
            bytes_read: AtomicU64::new(0),
            requests: AtomicU64::new(0),
            longest_footer: AtomicU64::new(0),
        }
    }

    /// The longest footer met so far (0: none yet).
    pub(crate) fn longest_footer(&self) -> u64 {
        self.longest_footer.load(Ordering::Relaxed)
    }

    /// Notes a footer's length.
    pub(crate) fn footer_met(&self, length: u64) {
        self.longest_footer.fetch_max(length, Ordering::Relaxed);
    }

    /// `s3://bucket/` or the folder.
    pub(crate) fn describe(&self) -> String {
        self.store.describe()
    }

    /// Bytes of object data read so far, and the reads (requests) made.
    pub(crate) fn read_so_far(&self) -> (u64, u64) {
        (
            self.bytes_read.load(Ordering::Relaxed),
            self.requests.load(Ordering::Relaxed),
        )
    }

    /// Every object below `prefix`, sorted by key.
    pub(crate) async fn list(&self, prefix: &str) -> anyhow::Result<Vec<Listed>> {
        self.store.list_sized(prefix).await
    }

    /// `length` bytes of `key` from `start`, counted.
    pub(crate) async fn read(&self, key: &str, start: u64, length: u64) -> anyhow::Result<Bytes> {
        let bytes = self.store.get_range(key, start, length).await?;
        self.requests.fetch_add(1, Ordering::Relaxed);
        self.bytes_read
            .fetch_add(bytes.len() as u64, Ordering::Relaxed);
        Ok(bytes)
    }
}

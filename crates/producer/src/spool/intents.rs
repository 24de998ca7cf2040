//! Exactly-once objects on the direct path. Before the lake writer stores an object, the spool
//! records its intent: the object's key and the entries of its rows (`intents.log`, entries
//! framed as the segments' are). A row's entry is acknowledged only once its object is stored,
//! and all of an object's rows at once. So at the next start, for each intent:
//!
//! * every row's entry still live: the object may or may not be stored. Its rows are written
//!   again as that one object, under that key: stored or not before, it is then stored once.
//! * some live, some acknowledged: the object was stored (acknowledgements come after it); the
//!   live ones are acknowledged now, never written again.
//! * none live: done.
//!
//! The log is rewritten at each start with the intents still pending, so it holds one run's
//! objects at most. (Only the lake writer records intents: a stream producer only reads them.)
#![cfg_attr(not(feature = "lake"), allow(dead_code))]

use std::collections::HashSet;
use std::fs::{File, OpenOptions};
use std::path::{Path, PathBuf};

use super::segment::{entry_header, read_entries, replace_atomically, write_entry};
use super::SpoolError;

/// The intent log's file in the spool's folder.
fn path(dir: &Path) -> PathBuf {
    dir.join("intents.log")
}

/// An object the lake writer was about to store: its key and its rows' entries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Intent {
    pub key: String,
    pub entries: Vec<(u64, u32)>,
}

impl Intent {
    /// `[key length: u16 LE][key][(segment: u64 LE, index: u32 LE)…]`.
    fn encode(&self) -> Vec<u8> {
        let key = self.key.as_bytes();
        let length = u16::try_from(key.len()).unwrap_or(u16::MAX);
        let mut out = Vec::with_capacity(2 + key.len() + 12 * self.entries.len());
        out.extend_from_slice(&length.to_le_bytes());
        out.extend_from_slice(&key[..usize::from(length)]);
        for (segment, index) in &self.entries {
            out.extend_from_slice(&segment.to_le_bytes());
            out.extend_from_slice(&index.to_le_bytes());
        }
        out
    }

    fn decode(bytes: &[u8]) -> Option<Intent> {
        let length = usize::from(u16::from_le_bytes(bytes.get(..2)?.try_into().ok()?));
        let key = String::from_utf8(bytes.get(2..2 + length)?.to_vec()).ok()?;
        let rest = bytes.get(2 + length..)?;
        if rest.len() % 12 != 0 {
            return None;
        }
        let entries = rest
            .chunks_exact(12)
            .filter_map(|chunk| {
                let segment = u64::from_le_bytes(chunk.get(..8)?.try_into().ok()?);
                let index = u32::from_le_bytes(chunk.get(8..)?.try_into().ok()?);
                Some((segment, index))
            })
            .collect();
        Some(Intent { key, entries })
    }
}

/// What the intents of the last run ask for, given the entries still live.
#[derive(Debug, Default)]
pub(crate) struct Pending {
    /// Objects to store again, whole, under their key.
    pub objects: Vec<Intent>,
    /// Live entries whose object was stored: to acknowledge.
    pub stored: HashSet<(u64, u32)>,
}

/// Reads the intent log in `dir` and sorts its intents by the `live` entries; rewrites the log
/// with the objects still pending (atomically), so that a crash during the replay finds them
/// again.
pub(crate) fn recover(dir: &Path, live: &HashSet<(u64, u32)>) -> Result<Pending, SpoolError> {
    let file = path(dir);
    let data = match std::fs::read(&file) {
        Ok(data) => data,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
        Err(e) => return Err(SpoolError::io(&file, &e)),
    };
    // A torn last intent is an object whose upload never started: its rows are live entries.
    let read = read_entries(0, &data);
    let mut pending = Pending::default();
    let mut claimed = HashSet::new();
    for (_, payload) in read.entries {
        let Some(intent) = Intent::decode(payload) else {
            continue;
        };
        let alive = intent.entries.iter().filter(|e| live.contains(e)).count();
        if alive == 0 || intent.entries.iter().any(|e| claimed.contains(e)) {
            continue;
        }
        if alive == intent.entries.len() {
            claimed.extend(intent.entries.iter().copied());
            pending.objects.push(intent);
        } else {
            pending
                .stored
                .extend(intent.entries.iter().filter(|e| live.contains(e)).copied());
        }
    }
    if pending.objects.is_empty() {
        remove(dir);
        return Ok(pending);
    }
    let mut rewritten = Vec::new();
    for intent in &pending.objects {
        let payload = intent.encode();
        rewritten.extend_from_slice(&entry_header(&payload, None));
        rewritten.extend_from_slice(&payload);
    }
    replace_atomically(&file, &rewritten)?;
    Ok(pending)
}

/// Removes the intent log of `dir` (nothing pending).
pub(crate) fn remove(dir: &Path) {
    match std::fs::remove_file(path(dir)) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(error) => tracing::warn!(%error, "spool intent log not removed"),
    }
}

/// The intent log, appended to.
#[derive(Debug)]
pub(crate) struct Log {
    file: File,
    path: PathBuf,
}

impl Log {
    /// Opens the log in `dir` for appending.
    pub(crate) fn open(dir: &Path) -> Result<Log, SpoolError> {
        let path = path(dir);
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .map_err(|e| SpoolError::io(&path, &e))?;
        Ok(Log { file, path })
    }

    /// Records `intent` (one `write`: a process killed after it finds it whole).
    pub(crate) fn record(&self, intent: &Intent) -> Result<(), SpoolError> {
        let payload = intent.encode();
        write_entry(&self.file, &entry_header(&payload, None), &payload)
            .map_err(|e| SpoolError::io(&self.path, &e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn intent(key: &str, entries: &[(u64, u32)]) -> Intent {
        Intent {
            key: key.to_owned(),
            entries: entries.to_vec(),
        }
    }

    #[test]
    fn intents_sort_into_store_again_and_stored() {
        let dir = std::env::temp_dir().join(format!(
            "ocsf-intents-{}-{}",
            std::process::id(),
            fastrand::u64(..)
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let log = Log::open(&dir).unwrap();
        let (again, stored, done) = (
            intent("ext/a/1.parquet", &[(1, 0), (1, 2)]),
            intent("ext/a/2.parquet", &[(1, 1), (2, 0)]),
            intent("ext/a/3.parquet", &[(0, 5)]),
        );
        for i in [&again, &stored, &done] {
            log.record(i).unwrap();
        }
        let live: HashSet<(u64, u32)> = [(1, 0), (1, 2), (2, 0), (3, 3)].into_iter().collect();
        let pending = recover(&dir, &live).unwrap();
        assert_eq!(pending.objects, std::slice::from_ref(&again));
        assert_eq!(pending.stored, [(2, 0)].into_iter().collect());
        // Rewritten with what is pending: found again if the replay is cut short.
        let pending = recover(&dir, &live).unwrap();
        assert_eq!(pending.objects, [again]);
        assert!(pending.stored.is_empty());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

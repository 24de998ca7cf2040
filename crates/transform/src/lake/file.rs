//! Files written whole or not at all: an object of the local lake (Parquet, error documents)
//! or of a folder standing in for a bucket is written under a hidden temporary name in its
//! folder, synced, then renamed into place; on any failure (a full disk) the temporary file is
//! removed. A reader (`read_parquet('**/*.parquet')`) never sees half an object.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// Temporary names taken by this process.
static TAKEN: AtomicU64 = AtomicU64::new(0);

/// Writes `bytes` to `path` (its folders created) atomically: the file is complete, or absent.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    let temporary = temporary_name(path);
    let written = (|| {
        let mut file = std::fs::File::create(&temporary)?;
        file.write_all(bytes)?;
        file.sync_data()?;
        std::fs::rename(&temporary, path)
    })();
    if written.is_err() {
        let _ = std::fs::remove_file(&temporary);
    }
    written
}

/// `.<name>.<pid>-<n>.partial` beside `path`: hidden, and matched by no `*.parquet` glob.
fn temporary_name(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let n = TAKEN.fetch_add(1, Ordering::Relaxed);
    path.with_file_name(format!(".{name}.{}-{n}.partial", std::process::id()))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn a_file_is_written_whole_and_nothing_else_is_left() {
        let dir = std::env::temp_dir().join(format!("ocsf-atomic-{}", std::process::id()));
        let path = dir.join("a/b/object.parquet");
        write_atomically(&path, b"PAR1...PAR1").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"PAR1...PAR1");
        // A failure (here: the target is a folder) leaves no temporary file behind.
        std::fs::create_dir_all(dir.join("a/b/folder")).unwrap();
        assert!(write_atomically(&dir.join("a/b/folder"), b"x").is_err());
        let names: Vec<_> = std::fs::read_dir(dir.join("a/b"))
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        assert_eq!(names.len(), 2, "{names:?}");
        std::fs::remove_dir_all(dir).unwrap();
    }
}

//! The highest input position the spool ever took, kept across the deletion of the segments
//! that held it: a caller that reads its input in order and gives each event its position
//! ([`Producer::send_value_at`](crate::Producer::send_value_at)) resumes after it.
//!
//! Whole segments still on disk carry their entries' positions (acknowledged or not); a
//! segment about to be deleted first raises the `position` file: `[position: u64 LE][CRC-32 of
//! it: u32 LE]`, replaced atomically (`segment::replace_atomically`).

use std::path::{Path, PathBuf};

use super::segment::replace_atomically;
use super::SpoolError;

/// Bytes of the `position` file.
const POSITION_BYTES: usize = 12;

fn path(dir: &Path) -> PathBuf {
    dir.join("position")
}

/// The position the file holds: `None` when it is missing or damaged (damage is logged; the
/// segments on disk still say as much as they hold).
pub(super) fn read(dir: &Path) -> Option<u64> {
    let bytes = std::fs::read(path(dir)).ok()?;
    let decoded = (bytes.len() == POSITION_BYTES)
        .then(|| {
            let position: [u8; 8] = bytes[..8].try_into().ok()?;
            let crc: [u8; 4] = bytes[8..].try_into().ok()?;
            (crc32fast::hash(&position) == u32::from_le_bytes(crc))
                .then(|| u64::from_le_bytes(position))
        })
        .flatten();
    if decoded.is_none() {
        tracing::warn!(bytes = bytes.len(), "spool position file damaged: ignored");
    }
    decoded
}

/// Replaces the file with `position`, durably, before the caller deletes what held it.
pub(super) fn write(dir: &Path, position: u64) -> Result<(), SpoolError> {
    let bytes = position.to_le_bytes();
    let mut record = [0; POSITION_BYTES];
    record[..8].copy_from_slice(&bytes);
    record[8..].copy_from_slice(&crc32fast::hash(&bytes).to_le_bytes());
    replace_atomically(&path(dir), &record)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn written_positions_read_back_and_damage_reads_as_none() {
        let dir = std::env::temp_dir().join(format!(
            "ocsf-spool-position-{}-{}",
            std::process::id(),
            fastrand::u64(..)
        ));
        std::fs::create_dir_all(&dir).unwrap();
        assert_eq!(read(&dir), None, "no file yet");
        write(&dir, 41).unwrap();
        write(&dir, 1_000_000_007).unwrap();
        assert_eq!(read(&dir), Some(1_000_000_007));
        let mut bytes = std::fs::read(path(&dir)).unwrap();
        bytes[3] ^= 0x10;
        std::fs::write(path(&dir), &bytes).unwrap();
        assert_eq!(read(&dir), None, "checksum fails");
        std::fs::write(path(&dir), &bytes[..7]).unwrap();
        assert_eq!(read(&dir), None, "cut short");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

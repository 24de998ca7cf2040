//! The spool's on-disk format. A segment is two files:
//!
//! * `<seq>.wal`: entries, each `[length: u32 LE][CRC-32: u32 LE][position: u64 LE][payload]`,
//!   the CRC over the position and the payload, the position the caller's (where the event was
//!   in its input, `u64::MAX` for none);
//! * `<seq>.ack`: the indices of the entries acknowledged, each `[index: u32 LE][CRC-32 of the
//!   index: u32 LE]`.
//!
//! Reading stops at the first entry that is cut short (a torn write: the process died while
//! appending) or whose checksum or length is wrong (damage): what follows is reported, never
//! replayed. An ack record cut short is ignored (its entry is replayed: at least once).

use std::fs::{File, OpenOptions};
use std::io::{IoSlice, Write};
use std::path::{Path, PathBuf};

/// Bytes of an entry's header (length, checksum and position).
pub(crate) const ENTRY_HEADER_BYTES: usize = 16;
/// The position field of an entry without a position.
const NO_POSITION: u64 = u64::MAX;
/// Bytes of one ack record.
pub(crate) const ACK_BYTES: usize = 8;
/// The largest entry payload read back: an entry claiming more is damage (the producer's
/// events are at most a Firehose record, 1,000 KiB; rows are smaller than 16 MiB too).
pub(crate) const MAX_ENTRY_BYTES: usize = 16 * 1024 * 1024;

/// The file holding segment `seq`'s entries.
pub(crate) fn wal_path(dir: &Path, seq: u64) -> PathBuf {
    dir.join(format!("{seq:020}.wal"))
}

/// The file holding segment `seq`'s acknowledgements.
pub(crate) fn ack_path(dir: &Path, seq: u64) -> PathBuf {
    dir.join(format!("{seq:020}.ack"))
}

/// The segment number of a file name `<seq>.wal`.
pub(crate) fn wal_seq(name: &str) -> Option<u64> {
    let digits = name.strip_suffix(".wal")?;
    (digits.len() == 20 && digits.bytes().all(|b| b.is_ascii_digit()))
        .then(|| digits.parse().ok())
        .flatten()
}

/// The header of `payload`'s entry: its length, checksum and position.
pub(crate) fn entry_header(payload: &[u8], position: Option<u64>) -> [u8; ENTRY_HEADER_BYTES] {
    // Payloads are bounded by the producer's limits, far under 4 GiB.
    let length = u32::try_from(payload.len()).unwrap_or(u32::MAX);
    let position = position.unwrap_or(NO_POSITION).to_le_bytes();
    let mut header = [0; ENTRY_HEADER_BYTES];
    header[..4].copy_from_slice(&length.to_le_bytes());
    header[4..8].copy_from_slice(&checksum(&position, payload).to_le_bytes());
    header[8..].copy_from_slice(&position);
    header
}

/// The CRC-32 of an entry's position and payload.
fn checksum(position: &[u8], payload: &[u8]) -> u32 {
    let mut hasher = crc32fast::Hasher::new();
    hasher.update(position);
    hasher.update(payload);
    hasher.finalize()
}

/// Appends the entry of `header` and `payload` to `file` in one `write` where the system
/// takes both parts at once (no copy of the payload), else in as many as it needs.
pub(crate) fn write_entry(
    mut file: &File,
    header: &[u8; ENTRY_HEADER_BYTES],
    payload: &[u8],
) -> std::io::Result<()> {
    let mut header: &[u8] = header;
    let mut payload = payload;
    while !header.is_empty() || !payload.is_empty() {
        let written = file.write_vectored(&[IoSlice::new(header), IoSlice::new(payload)])?;
        if written == 0 {
            return Err(std::io::ErrorKind::WriteZero.into());
        }
        let from_header = written.min(header.len());
        header = &header[from_header..];
        payload = &payload[written - from_header..];
    }
    Ok(())
}

/// Creates segment `seq`'s file, its name synced with the folder.
pub(crate) fn create_wal(dir: &Path, seq: u64) -> Result<File, super::SpoolError> {
    let path = wal_path(dir, seq);
    let file = OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .map_err(|e| super::SpoolError::io(&path, &e))?;
    // The new file's name reaches the disk with the folder.
    if let Ok(folder) = File::open(dir) {
        let _ = folder.sync_all();
    }
    Ok(file)
}

/// Removes segment `seq`'s files (a failure is logged: the segment comes back at the next start).
pub(crate) fn remove_segment(dir: &Path, seq: u64) {
    for path in [ack_path(dir, seq), wal_path(dir, seq)] {
        match std::fs::remove_file(&path) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(error) => tracing::warn!(segment = seq, %error, "spool segment not removed"),
        }
    }
}

/// Replaces `file` with `bytes`, atomically and durably: a temporary file beside it, synced,
/// renamed over it, the folder synced (the intent log's rewrite, the `position` file).
pub(crate) fn replace_atomically(file: &Path, bytes: &[u8]) -> Result<(), super::SpoolError> {
    let mut temporary = file.as_os_str().to_owned();
    temporary.push(".new");
    let temporary = PathBuf::from(temporary);
    let written = (|| {
        std::fs::write(&temporary, bytes)?;
        File::open(&temporary)?.sync_all()?;
        std::fs::rename(&temporary, file)
    })();
    written.map_err(|e| super::SpoolError::io(file, &e))?;
    if let Some(folder) = file.parent().and_then(|dir| File::open(dir).ok()) {
        let _ = folder.sync_all();
    }
    Ok(())
}

/// Appends the frame of `payload` to `out`.
#[cfg(test)]
pub(crate) fn encode_entry(payload: &[u8], out: &mut Vec<u8>) {
    out.extend_from_slice(&entry_header(payload, None));
    out.extend_from_slice(payload);
}

/// The ack record of entry `index`.
pub(crate) fn encode_ack(index: u32) -> [u8; ACK_BYTES] {
    let bytes = index.to_le_bytes();
    let crc = crc32fast::hash(&bytes).to_le_bytes();
    [
        bytes[0], bytes[1], bytes[2], bytes[3], crc[0], crc[1], crc[2], crc[3],
    ]
}

/// How a segment's entries end when they do not end at the end of the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DamageKind {
    /// The last entry is cut short: the process died while appending it.
    Torn,
    /// An entry's checksum or length is wrong: the file was damaged.
    Corrupt,
}

/// Where a segment's readable entries end, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Damage {
    /// The segment.
    pub segment: u64,
    /// The byte offset of the first entry not read.
    pub offset: u64,
    /// The bytes from there to the end of the file: not replayed.
    pub bytes_dropped: u64,
    /// Why.
    pub kind: DamageKind,
}

/// The entries of one segment's file, in order, and the damage that ended them, if any.
pub(crate) struct Entries<'a> {
    /// `(index, payload)` of every whole entry.
    pub entries: Vec<(u32, &'a [u8])>,
    /// Set when the entries do not end at the end of the file.
    pub damage: Option<Damage>,
    /// The highest position of a whole entry, if any has one.
    pub last_position: Option<u64>,
}

/// Reads the entries of segment `segment` from its file's bytes.
pub(crate) fn read_entries(segment: u64, data: &[u8]) -> Entries<'_> {
    let mut read = Entries {
        entries: Vec::new(),
        damage: None,
        last_position: None,
    };
    let mut at = 0usize;
    let mut index = 0u32;
    let damage = |at: usize, kind| Damage {
        segment,
        offset: at as u64,
        bytes_dropped: (data.len() - at) as u64,
        kind,
    };
    while at < data.len() {
        let Some(header) = data.get(at..at + ENTRY_HEADER_BYTES) else {
            read.damage = Some(damage(at, DamageKind::Torn));
            return read;
        };
        let length = u32::from_le_bytes([header[0], header[1], header[2], header[3]]) as usize;
        let crc = u32::from_le_bytes([header[4], header[5], header[6], header[7]]);
        if length > MAX_ENTRY_BYTES {
            read.damage = Some(damage(at, DamageKind::Corrupt));
            return read;
        }
        let start = at + ENTRY_HEADER_BYTES;
        let Some(payload) = data.get(start..start + length) else {
            read.damage = Some(damage(at, DamageKind::Torn));
            return read;
        };
        let position = &header[8..];
        if checksum(position, payload) != crc {
            // A checksum that fails on the file's very last entry is a torn write whose header
            // reached the disk before its payload; anywhere else it is damage.
            let kind = if start + length == data.len() {
                DamageKind::Torn
            } else {
                DamageKind::Corrupt
            };
            read.damage = Some(damage(at, kind));
            return read;
        }
        let position = u64::from_le_bytes(position.try_into().unwrap_or([0xff; 8]));
        if position != NO_POSITION {
            read.last_position = read.last_position.max(Some(position));
        }
        read.entries.push((index, payload));
        index += 1;
        at = start + length;
    }
    read
}

/// The entry indices an ack file's bytes acknowledge (a record cut short or failing its
/// checksum is ignored: its entry is replayed).
pub(crate) fn read_acks(data: &[u8]) -> Vec<u32> {
    data.chunks_exact(ACK_BYTES)
        .filter_map(|record| {
            let bytes = [record[0], record[1], record[2], record[3]];
            let crc = u32::from_le_bytes([record[4], record[5], record[6], record[7]]);
            (crc32fast::hash(&bytes) == crc).then(|| u32::from_le_bytes(bytes))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn segment(payloads: &[&[u8]]) -> Vec<u8> {
        let mut data = Vec::new();
        for payload in payloads {
            encode_entry(payload, &mut data);
        }
        data
    }

    #[test]
    fn entries_read_back_in_order() {
        let data = segment(&[b"{\"a\":1}", b"", b"{\"b\":2}"]);
        let read = read_entries(7, &data);
        assert_eq!(
            read.entries,
            [
                (0, &b"{\"a\":1}"[..]),
                (1, &b""[..]),
                (2, &b"{\"b\":2}"[..])
            ]
        );
        assert_eq!(read.damage, None);
    }

    #[test]
    fn a_flipped_byte_inside_is_corruption_and_ends_the_segment() {
        let mut data = segment(&[b"first", b"second", b"third"]);
        data[ENTRY_HEADER_BYTES + 5 + ENTRY_HEADER_BYTES + 1] ^= 0x40;
        let read = read_entries(1, &data);
        assert_eq!(read.entries, [(0, &b"first"[..])]);
        let damage = read.damage.unwrap();
        assert_eq!(damage.kind, DamageKind::Corrupt);
        assert_eq!(damage.offset, (ENTRY_HEADER_BYTES + 5) as u64);
        assert_eq!(
            damage.bytes_dropped,
            (2 * ENTRY_HEADER_BYTES + 6 + 5) as u64
        );
    }

    #[test]
    fn an_absurd_length_is_corruption() {
        let mut data = segment(&[b"x"]);
        data.extend_from_slice(&u32::MAX.to_le_bytes());
        data.extend_from_slice(&[0; 12]);
        let read = read_entries(1, &data);
        assert_eq!(read.entries.len(), 1);
        assert_eq!(read.damage.unwrap().kind, DamageKind::Corrupt);
    }

    #[test]
    fn acks_read_back_and_a_cut_or_damaged_record_is_ignored() {
        let mut data = Vec::new();
        for index in [3, 0, 9] {
            data.extend_from_slice(&encode_ack(index));
        }
        data[ACK_BYTES + 1] ^= 1;
        data.extend_from_slice(&encode_ack(4)[..5]);
        assert_eq!(read_acks(&data), [3, 9]);
    }

    #[test]
    fn segment_file_names() {
        let dir = Path::new("/spool");
        assert_eq!(
            wal_path(dir, 42),
            Path::new("/spool/00000000000000000042.wal")
        );
        assert_eq!(wal_seq("00000000000000000042.wal"), Some(42));
        assert_eq!(wal_seq("42.wal"), None);
        assert_eq!(wal_seq("00000000000000000042.ack"), None);
    }

    proptest! {
        /// A segment cut at any byte gives back exactly the entries wholly before the cut, and
        /// reports the rest as torn.
        #[test]
        fn a_cut_anywhere_keeps_every_whole_entry_and_reports_the_rest(
            payloads in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..64), 1..20),
            cut in any::<proptest::sample::Index>(),
        ) {
            let refs: Vec<&[u8]> = payloads.iter().map(Vec::as_slice).collect();
            let data = segment(&refs);
            let cut = cut.index(data.len() + 1);
            let read = read_entries(0, &data[..cut]);
            let mut ends = Vec::new();
            let mut end = 0;
            for payload in &payloads {
                end += ENTRY_HEADER_BYTES + payload.len();
                ends.push(end);
            }
            let whole = ends.iter().filter(|e| **e <= cut).count();
            prop_assert_eq!(read.entries.len(), whole);
            for (i, (index, payload)) in read.entries.iter().enumerate() {
                prop_assert_eq!(*index as usize, i);
                prop_assert_eq!(*payload, &payloads[i][..]);
            }
            let consumed = if whole == 0 { 0 } else { ends[whole - 1] };
            match read.damage {
                None => prop_assert_eq!(consumed, cut),
                Some(damage) => {
                    prop_assert_eq!(damage.kind, DamageKind::Torn);
                    prop_assert_eq!(damage.offset as usize, consumed);
                    prop_assert_eq!(damage.bytes_dropped as usize, cut - consumed);
                }
            }
        }
    }
}

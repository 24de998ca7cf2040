//! Object keys derived from what the object holds: a BLAKE3 digest (128 bits, 32 hex digits) of
//! its partition's folder and its rows. Writing the same rows again (a retried upload, a run repeated on the same input, a
//! replay after a crash) replaces the same object instead of adding one. Two objects of one
//! run that hold exactly the same rows in the same partition (an input that repeats itself)
//! are both kept: the second gets `-1`, the third `-2`, in the order their keys are asked for.

use std::collections::HashMap;
use std::fmt::Write;
use std::sync::{Arc, Mutex};

/// Bytes of the digest in a key: 128 bits, as long as the MD5 keys were.
const DIGEST_BYTES: usize = 16;

/// The suffix of every object the lake writer stores.
pub(crate) const OBJECT_SUFFIX: &str = ".zstd.parquet";

/// Names the objects of one producer.
#[derive(Debug, Clone, Default)]
pub(crate) struct Names {
    /// How many objects of this run got each name.
    used: Arc<Mutex<HashMap<String, u32>>>,
}

impl Names {
    /// The key of an object holding `rows` in `folder` (`<location>region=…/accountId=…/
    /// eventDay=…/`): `<folder><digest hex><suffix>`.
    pub(crate) fn key(&self, folder: &str, rows: &[&[u8]]) -> String {
        let mut digest = blake3::Hasher::new();
        digest.update(&(folder.len() as u64).to_le_bytes());
        digest.update(folder.as_bytes());
        for row in rows {
            // Each row framed by its length: rows that only split differently differ.
            digest.update(&(row.len() as u64).to_le_bytes());
            digest.update(row);
        }
        let mut name = String::with_capacity(folder.len() + 48);
        name.push_str(folder);
        for byte in digest.finalize().as_bytes().iter().take(DIGEST_BYTES) {
            let _ = write!(name, "{byte:02x}");
        }
        let repeat = {
            let mut used = crate::spool::lock(&self.used);
            let count = used.entry(name.clone()).or_insert(0);
            *count += 1;
            *count - 1
        };
        if repeat > 0 {
            let _ = write!(name, "-{repeat}");
        }
        name.push_str(OBJECT_SUFFIX);
        name
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FOLDER: &str = "ext/a/region=eu-west-1/accountId=111122223333/eventDay=20261125/";

    #[test]
    fn the_same_rows_get_the_same_key_in_any_run() {
        let rows: [&[u8]; 2] = [b"{\"a\":1}", b"{\"b\":2}"];
        let first = Names::default().key(FOLDER, &rows);
        assert_eq!(first, Names::default().key(FOLDER, &rows));
        assert!(first.starts_with(FOLDER) && first.ends_with(OBJECT_SUFFIX));
        assert_eq!(first.len(), FOLDER.len() + 32 + OBJECT_SUFFIX.len());
    }

    #[test]
    fn other_rows_order_framing_or_folder_give_another_key() {
        let names = Names::default();
        let base = names.key(FOLDER, &[b"ab", b"c"]);
        let others = [
            names.key(FOLDER, &[b"a", b"bc"]),
            names.key(FOLDER, &[b"c", b"ab"]),
            names.key(FOLDER, &[b"ab"]),
            names.key(&FOLDER.replace("20261125", "20261126"), &[b"ab", b"c"]),
        ];
        for other in others {
            assert_ne!(base, other);
        }
    }

    #[test]
    fn identical_objects_of_one_run_are_all_kept() {
        let names = Names::default();
        let rows: [&[u8]; 1] = [b"{\"same\":true}"];
        let keys: Vec<String> = (0..3).map(|_| names.key(FOLDER, &rows)).collect();
        assert!(keys[1].ends_with(&format!("-1{OBJECT_SUFFIX}")), "{keys:?}");
        assert!(keys[2].ends_with(&format!("-2{OBJECT_SUFFIX}")));
        assert_eq!(keys[0], Names::default().key(FOLDER, &rows));
    }
}

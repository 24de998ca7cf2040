//! Where the OCSF project's example events are: `OCSF_EXAMPLES_DIR`, else `../shared/ocsf-examples`
//! beside the repository. Shared by the corpus tests of the transform and CLI crates (the latter
//! includes this file by path).
#![allow(dead_code, clippy::panic)]

use std::path::{Path, PathBuf};

/// The corpus folder; `None` (the test skips) only outside CI.
pub fn corpus_dir() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("OCSF_EXAMPLES_DIR") {
        return Some(PathBuf::from(dir));
    }
    let beside = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/ocsf-examples");
    if beside.is_dir() {
        return Some(beside);
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "CI must set OCSF_EXAMPLES_DIR"
    );
    eprintln!("skipping: no OCSF example corpus (set OCSF_EXAMPLES_DIR)");
    None
}

//! What `local` and `upload` share: their async runtime, JSON-lines inputs (files or stdin),
//! `--source` names, and the progress bar.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};

use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};

/// The inputs to read: the paths given, or stdin (`-`).
pub(crate) fn inputs(paths: &[PathBuf]) -> Vec<PathBuf> {
    if paths.is_empty() {
        vec![PathBuf::from("-")]
    } else {
        paths.to_vec()
    }
}

/// Opens an input (`-`: stdin).
pub(crate) fn open(input: &Path) -> anyhow::Result<Box<dyn Read>> {
    if input.as_os_str() == "-" {
        return Ok(Box::new(std::io::stdin()));
    }
    let file =
        std::fs::File::open(input).with_context(|| format!("cannot open {}", input.display()))?;
    Ok(Box::new(file))
}

/// `--source CLASS_UID=NAME` values: class → source name.
pub(crate) fn parse_sources(values: &[String]) -> anyhow::Result<BTreeMap<i64, String>> {
    let mut sources = BTreeMap::new();
    for source in values {
        let (class, name) = source
            .split_once('=')
            .with_context(|| format!("--source {source}: expected CLASS_UID=NAME"))?;
        let class: i64 = class
            .trim()
            .parse()
            .with_context(|| format!("--source {source}: bad class_uid"))?;
        sources.insert(class, name.trim().to_owned());
    }
    Ok(sources)
}

/// A progress bar on stderr (drawn only on a terminal): events, their rate, the time, and
/// whatever message the command sets.
pub(crate) fn progress_bar(total: Option<usize>) -> ProgressBar {
    let (bar, template) = match total {
        Some(n) => (
            ProgressBar::new(n as u64),
            "{bar:30} {pos}/{len} events, {per_sec}, {elapsed} (eta {eta}) {msg}",
        ),
        None => (
            ProgressBar::new_spinner(),
            "{spinner} {pos} events, {per_sec}, {elapsed} {msg}",
        ),
    };
    if let Ok(style) = ProgressStyle::with_template(template) {
        bar.set_style(style);
    }
    bar
}

/// The runtime the producer runs on: two workers (the machine's cores), timers and I/O.
pub(crate) fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("cannot start the async runtime")
}

//! Inputs: files or stdin (`-`), each split into JSON documents.

use std::io::Read;
use std::path::PathBuf;

use ocsf_firehose_transform::documents::{documents, Document};

/// One input source.
#[derive(Debug, Clone)]
pub(crate) enum Source {
    /// Standard input.
    Stdin,
    /// A file.
    File(PathBuf),
}

impl Source {
    /// Sources from the command line; none means stdin.
    pub(crate) fn all(paths: &[PathBuf]) -> Vec<Source> {
        if paths.is_empty() {
            return vec![Source::Stdin];
        }
        paths
            .iter()
            .map(|p| {
                if p.as_os_str() == "-" {
                    Source::Stdin
                } else {
                    Source::File(p.clone())
                }
            })
            .collect()
    }

    /// The name printed as `source`.
    pub(crate) fn name(&self) -> String {
        match self {
            Source::Stdin => "-".to_owned(),
            Source::File(path) => path.display().to_string(),
        }
    }

    /// Reads the whole source.
    pub(crate) fn read(&self) -> std::io::Result<Vec<u8>> {
        match self {
            Source::Stdin => {
                let mut bytes = Vec::new();
                std::io::stdin().lock().read_to_end(&mut bytes)?;
                Ok(bytes)
            }
            Source::File(path) => std::fs::read(path),
        }
    }
}

/// Runs `each` on every document of every source; unreadable sources are reported on stderr
/// and counted. Returns whether any source failed to read.
pub(crate) fn for_each_document(
    paths: &[PathBuf],
    mut each: impl FnMut(&str, Document) -> std::io::Result<()>,
) -> std::io::Result<bool> {
    let mut failed = false;
    for source in Source::all(paths) {
        let name = source.name();
        match source.read() {
            Ok(bytes) => {
                for document in documents(&bytes) {
                    each(&name, document)?;
                }
            }
            Err(error) => {
                eprintln!("ocsf-firehose: cannot read {name}: {error}");
                failed = true;
            }
        }
    }
    Ok(failed)
}

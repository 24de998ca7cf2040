//! Helpers shared by the integration tests.
#![allow(clippy::unwrap_used, clippy::expect_used)]
#![allow(dead_code)]

pub mod corpus;
pub mod leaves;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use ocsf_firehose_transform::{Code, Engine, Severity};
use serde_json::Value;

/// The repository's `tests/fixtures` folder.
pub fn fixtures_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures")
}

/// The `*.json` files of a folder, sorted.
pub fn json_files(dir: &Path) -> Vec<PathBuf> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    paths.sort();
    paths
}

/// `(code, path)` of the error findings of `event`.
pub fn errors(engine: &Engine, event: &Value) -> BTreeSet<(Code, String)> {
    engine
        .validate(event)
        .findings
        .into_iter()
        .filter(|f| f.severity == Severity::Error)
        .map(|f| (f.code, f.path))
        .collect()
}

/// The fixture event `tests/fixtures/events/<name>.json`.
pub fn fixture(name: &str) -> Value {
    let path = fixtures_dir().join("events").join(format!("{name}.json"));
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

/// The valid fixture events (OCSF 1.1.0), with their names.
pub fn fixture_events() -> Vec<(String, Value)> {
    let events = named_events("events");
    assert!(events.len() >= 5, "fixtures in tests/fixtures/events");
    events
}

/// The events of `tests/fixtures/<folder>/*.json` (one each), named by their file stems.
pub fn named_events(folder: &str) -> Vec<(String, Value)> {
    json_files(&fixtures_dir().join(folder))
        .into_iter()
        .map(|p| {
            let name = p.file_stem().unwrap().to_string_lossy().into_owned();
            (
                name,
                serde_json::from_slice(&std::fs::read(&p).unwrap()).unwrap(),
            )
        })
        .collect()
}

/// Escapes a key for a JSON pointer.
pub fn escape(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

/// The fixture events and every parseable document of the OCSF example corpus (when present),
/// each named `file#index` (a fixture by its name).
pub fn fixture_and_corpus_events() -> Vec<(String, Value)> {
    let mut events = fixture_events();
    if let Some(dir) = corpus::corpus_dir() {
        for path in json_files(&dir) {
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            let bytes = std::fs::read(&path).unwrap();
            for document in ocsf_firehose_transform::documents::documents(&bytes) {
                if let Ok(event) = document.value {
                    events.push((format!("{name}#{}", document.index), event));
                }
            }
        }
    }
    events
}

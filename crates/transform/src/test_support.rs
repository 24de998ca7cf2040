//! Helpers for the unit tests.

use serde_json::Value;

/// A fixture event from the repository's `tests/fixtures/events/<name>.json`.
pub(crate) fn fixture(name: &str) -> Value {
    let path = format!(
        "{}/../../tests/fixtures/events/{name}.json",
        env!("CARGO_MANIFEST_DIR")
    );
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

/// The names of the fixture events.
pub(crate) const FIXTURES: [&str; 5] = [
    "authentication",
    "api_activity",
    "network_activity",
    "detection_finding",
    "dns_activity",
];

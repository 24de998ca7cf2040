//! What the fuzz targets share: one engine per target version, built once, and the reading of
//! an input as a selector byte and an event.

use std::sync::OnceLock;

use ocsf_firehose_transform::{Engine, EngineConfig, OcsfRelease, OcsfVersion};
use serde_json::Value;

/// The engine of each target version (default configuration otherwise).
pub fn engine(target: OcsfVersion) -> &'static Engine {
    static ENGINES: OnceLock<Vec<Engine>> = OnceLock::new();
    let engines = ENGINES.get_or_init(|| {
        OcsfVersion::ALL
            .iter()
            .filter_map(|&version| {
                Engine::new(EngineConfig {
                    version,
                    ..EngineConfig::default()
                })
                .ok()
            })
            .collect()
    });
    let index = OcsfVersion::ALL.iter().position(|v| *v == target).unwrap_or(0);
    &engines[index]
}

/// An input as `(target, event)`: the first byte picks the target version (bit 4) and, when
/// the rest is a JSON object with a `metadata` object, the release it declares (low bits,
/// modulo the embedded releases; 0xF keeps the event's own `metadata.version`).
pub fn event(input: &[u8]) -> Option<(OcsfVersion, Value)> {
    let (&selector, json) = input.split_first()?;
    let mut event: Value = serde_json::from_slice(json).ok()?;
    let target = OcsfVersion::ALL[usize::from(selector >> 4) % OcsfVersion::ALL.len()];
    let release = usize::from(selector & 0xF);
    if let (Some(release), Some(metadata)) = (
        OcsfRelease::ALL.get(release),
        event.get_mut("metadata").and_then(Value::as_object_mut),
    ) {
        metadata.insert("version".into(), Value::from(release.as_str()));
    }
    Some((target, event))
}

//! Engine options shared by the commands.

use std::collections::BTreeSet;

use anyhow::Context;
use clap::Args;
use ocsf_firehose_transform::{
    Engine, EngineConfig, OcsfVersion, SeverityPolicy, UnknownAttributes,
};

/// How the OCSF engine is configured.
#[derive(Debug, Clone, Args)]
pub(crate) struct EngineArgs {
    /// Target OCSF version (1.1.0 or 1.3.0).
    #[arg(long = "ocsf-version", default_value_t = OcsfVersion::default(), value_parser = parse_version)]
    pub version: OcsfVersion,
    /// Accept only this class_uid (repeat for several); others get `class_not_allowed`.
    #[arg(long = "class-uid", value_name = "N")]
    pub class_uids: Vec<i64>,
    /// Re-level finding codes: `code=ignore|warning|error` (repeat or comma-separate).
    #[arg(long = "severity", value_name = "CODE=LEVEL")]
    pub severity: Vec<String>,
    /// Unknown attributes: move under `unmapped`, keep (warning) or reject (error).
    #[arg(long = "unknown-attributes", value_name = "POLICY", default_value_t = UnknownAttributes::default(), value_parser = parse_unknown)]
    pub unknown_attributes: UnknownAttributes,
    /// Also warn about missing recommended attributes.
    #[arg(long = "warn-recommended")]
    pub warn_recommended: bool,
}

pub(crate) fn parse_version(s: &str) -> Result<OcsfVersion, String> {
    s.parse().map_err(|e| format!("{e}"))
}

fn parse_unknown(s: &str) -> Result<UnknownAttributes, String> {
    s.parse().map_err(|e| format!("{e}"))
}

impl EngineArgs {
    /// Builds the engine these options describe.
    pub(crate) fn engine(&self) -> anyhow::Result<Engine> {
        let severity: SeverityPolicy = self
            .severity
            .join(",")
            .parse()
            .context("invalid --severity")?;
        let allowed_classes = (!self.class_uids.is_empty())
            .then(|| self.class_uids.iter().copied().collect::<BTreeSet<_>>());
        let config = EngineConfig {
            version: self.version,
            allowed_classes,
            unknown_attributes: self.unknown_attributes,
            severity,
            warn_recommended: self.warn_recommended,
            ..EngineConfig::default()
        };
        Engine::new(config).context("invalid engine configuration")
    }
}

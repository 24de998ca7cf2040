//! The Lambda's configuration as every command reads it: the `OCSF_*` environment variables,
//! overridden by a `--config` file of `KEY=VALUE` lines, overridden by the flags; and the
//! stream's region, the Lambda's last fallback for `region`.

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::Args;
use ocsf_firehose_transform::firehose::{TransformConfig, Transformer};
use ocsf_firehose_transform::translate::{parse_source_versions, Direction, FromVersion};
use ocsf_firehose_transform::{OcsfVersion, SeverityPolicy, TimeUnits, UnknownAttributes};

/// How the transformation Lambda is configured, and where its stream runs.
#[derive(Debug, Clone, Args)]
pub(crate) struct LambdaArgs {
    /// `KEY=VALUE` lines with the Lambda's `OCSF_*` variables (they win over the environment;
    /// the flags below win over both).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Target OCSF version, 1.1.0 or 1.3.0 (`OCSF_VERSION`; default 1.1.0).
    #[arg(long = "ocsf-version", value_name = "V", value_parser = parse_version)]
    pub version: Option<OcsfVersion>,
    /// The release events are in: `auto` (each event's `metadata.version`) or one of
    /// 1.0.0-rc.2, 1.0.0 … 1.8.0 (`OCSF_FROM_VERSION`; default auto). Events of another release
    /// than the target are translated to it.
    #[arg(long = "from-version", value_name = "auto|V", value_parser = parse_from)]
    pub from_version: Option<FromVersion>,
    /// The source releases accepted, comma-separated, or `all` (`OCSF_SOURCE_VERSIONS`; default
    /// all); events of others get `version_not_accepted`.
    #[arg(long = "source-versions", value_name = "LIST")]
    pub source_versions: Option<String>,
    /// Which way to translate events of other releases: both, down (from newer only), up (from
    /// older only) or none (`OCSF_TRANSLATE`; default both).
    #[arg(long = "translate", value_name = "WAY", value_parser = parse_direction)]
    pub translate: Option<Direction>,
    /// Accept only this class_uid (repeat for several; `OCSF_ALLOWED_CLASSES`); others get
    /// `class_not_allowed`.
    #[arg(long = "class-uid", value_name = "N")]
    pub class_uids: Vec<i64>,
    /// Re-level finding codes: `code=ignore|warning|error` (repeat or comma-separate; on top of
    /// `OCSF_SEVERITY`).
    #[arg(long = "severity", value_name = "CODE=LEVEL")]
    pub severity: Vec<String>,
    /// Unknown attributes: move under `unmapped`, keep (warning) or reject (error)
    /// (`OCSF_UNKNOWN_ATTRIBUTES`; default unmapped).
    #[arg(long = "unknown-attributes", value_name = "POLICY", value_parser = parse_unknown)]
    pub unknown_attributes: Option<UnknownAttributes>,
    /// `timestamp_t` numbers in seconds, microseconds or nanoseconds (told by magnitude): repair
    /// them to milliseconds, or strict (taken as milliseconds) (`OCSF_TIME_UNITS`; default
    /// repair).
    #[arg(long = "time-units", value_name = "repair|strict", value_parser = parse_time_units)]
    pub time_units: Option<TimeUnits>,
    /// Also warn about missing recommended attributes.
    #[arg(long = "warn-recommended")]
    pub warn_recommended: bool,
    /// A compiled OCSF schema with your own extension (`ocsf-schema-compiler --legacy-mode`
    /// output), replacing the embedded release of its version (repeat; on top of
    /// `OCSF_EXTENSIONS`).
    #[arg(long = "extension", value_name = "FILE")]
    pub extensions: Vec<PathBuf>,
    /// The stream's region: the Lambda's last fallback for `region` (on AWS, the invocation's).
    #[arg(long, default_value = "us-east-1")]
    pub region: String,
}

pub(crate) fn parse_version(s: &str) -> Result<OcsfVersion, String> {
    s.parse().map_err(|e| format!("{e}"))
}

fn parse_from(s: &str) -> Result<FromVersion, String> {
    s.parse().map_err(|e| format!("{e}"))
}

fn parse_direction(s: &str) -> Result<Direction, String> {
    s.parse().map_err(|e| format!("{e}"))
}

fn parse_unknown(s: &str) -> Result<UnknownAttributes, String> {
    s.parse().map_err(|e| format!("{e}"))
}

fn parse_time_units(s: &str) -> Result<TimeUnits, String> {
    s.parse().map_err(|e| format!("{e}"))
}

/// Reads `KEY=VALUE` lines (blank lines, `#` comments, `export ` prefixes and quotes allowed).
fn read_config_file(path: &Path) -> anyhow::Result<HashMap<String, String>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let mut values = HashMap::new();
    for (number, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let line = line.strip_prefix("export ").unwrap_or(line);
        let (key, value) = line
            .split_once('=')
            .with_context(|| format!("{}:{}: expected KEY=VALUE", path.display(), number + 1))?;
        let value = value.trim().trim_matches('"').trim_matches('\'');
        values.insert(key.trim().to_owned(), value.to_owned());
    }
    Ok(values)
}

impl LambdaArgs {
    /// The Lambda's configuration: environment, then the file, then the flags.
    pub(crate) fn transform_config(&self) -> anyhow::Result<TransformConfig> {
        let file_values = match &self.config {
            Some(path) => read_config_file(path)?,
            None => HashMap::new(),
        };
        let mut config = TransformConfig::from_lookup(|name| {
            file_values
                .get(name)
                .cloned()
                .or_else(|| std::env::var(name).ok())
        })?;
        let engine = &mut config.engine;
        if let Some(version) = self.version {
            engine.version = version;
        }
        if let Some(from) = self.from_version {
            engine.translate.from = from;
        }
        if let Some(list) = &self.source_versions {
            engine.translate.accepted =
                parse_source_versions(list).context("invalid --source-versions")?;
        }
        if let Some(direction) = self.translate {
            engine.translate.direction = direction;
        }
        if !self.class_uids.is_empty() {
            engine.allowed_classes = Some(self.class_uids.iter().copied().collect::<BTreeSet<_>>());
        }
        let flags: SeverityPolicy = self
            .severity
            .join(",")
            .parse()
            .context("invalid --severity")?;
        engine.severity.merge(&flags);
        if let Some(policy) = self.unknown_attributes {
            engine.unknown_attributes = policy;
        }
        if let Some(units) = self.time_units {
            engine.time_units = units;
        }
        engine.warn_recommended |= self.warn_recommended;
        engine.schema_files.extend(self.extensions.iter().cloned());
        Ok(config)
    }

    /// The transformation Lambda these options describe.
    pub(crate) fn transformer(&self) -> anyhow::Result<Transformer> {
        let config = self.transform_config()?;
        Transformer::new(config).context("invalid Lambda configuration")
    }
}

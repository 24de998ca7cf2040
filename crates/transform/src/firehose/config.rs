//! Configuration from environment variables, validated once at cold start: a bad value fails
//! the function's init with a message naming the variable, instead of failing every record. The
//! CLI reads the same variables (overridden by `--config FILE` and its flags), and so judges
//! events with the same configuration as the deployed Lambda.
//!
//! | variable | default | meaning |
//! |---|---|---|
//! | `OCSF_VERSION` | `1.1.0` | target OCSF version (`1.1.0` or `1.3.0`) |
//! | `OCSF_FROM_VERSION` | `auto` | the release events are in: `auto` (their `metadata.version`) or one of `1.0.0-rc.2`, `1.0.0` … `1.8.0` |
//! | `OCSF_SOURCE_VERSIONS` | `all` | comma-separated source releases accepted; others get `version_not_accepted` |
//! | `OCSF_TRANSLATE` | `both` | translate events of other releases to the target: `both`, `down` (from newer only), `up` (from older only) or `none` |
//! | `OCSF_ALLOWED_CLASSES` | all | comma-separated `class_uid` allow-list (one class per Security Lake source) |
//! | `OCSF_ON_INVALID` | `fail` | records with invalid events: `fail` (`ProcessingFailed`) or `drop` (`Dropped`); undecodable data always fails |
//! | `OCSF_UNKNOWN_ATTRIBUTES` | `unmapped` | `unmapped` (move under `unmapped`), `keep` (warning) or `reject` (error) |
//! | `OCSF_TIME_UNITS` | `repair` | `timestamp_t` numbers in seconds, microseconds or nanoseconds: `repair` (to milliseconds, `time_unit_repaired`) or `strict` (taken as milliseconds) |
//! | `OCSF_SEVERITY` | — | severity overrides, `code=ignore\|warning\|error,…` (record-level codes are fixed) |
//! | `OCSF_DEFAULT_REGION` | — | `region` for events without `cloud.region` (else the stream's region) |
//! | `OCSF_DEFAULT_ACCOUNT_ID` | — | `accountId` for events without a 12-digit `cloud.account.uid` (else `external`) |
//! | `OCSF_MAX_RESPONSE_BYTES` | `6000000` | response size limit, at most 6291456 (Lambda's 6 MB) |
//! | `OCSF_MAX_RECORD_BYTES` | `1024000` | decoded record size limit (Firehose's 1,000 KiB) |
//! | `OCSF_MAX_DEPTH` | `32` | object nesting limit |
//! | `OCSF_TABLE_PROFILES` | all | profiles whose attributes the Glue tables have columns for (as given to `glue-schema --profile`) |
//! | `OCSF_TABLE_COLUMNS` | — | attribute paths with a column beyond the default rule (`extra_columns` of the generated schema: `glue-schema --column`, `--from-events`) |
//! | `OCSF_EXTENSIONS` | — | comma-separated compiled schema files (`ocsf-schema-compiler --legacy-mode` output of a release with your own extension), each replacing the embedded release of its version |
//! | `OCSF_LOG_LEVEL` | `info` | `off`, `error`, `warn` (records not delivered), `info` (+ one summary per invocation), `debug` |
//! | `OCSF_METRICS_NAMESPACE` | `OcsfFirehose` | CloudWatch namespace of the metrics |

use std::collections::BTreeSet;
use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

use thiserror::Error;

use crate::contract::limits::{FIREHOSE_MAX_RECORD_BYTES, LAMBDA_MAX_RESPONSE_BYTES};
use crate::contract::partition::PartitionDefaults;
use crate::engine::{ConfigError, EngineConfig};

/// Default response limit: a margin below Lambda's
/// [`LAMBDA_MAX_RESPONSE_BYTES`].
pub const DEFAULT_MAX_RESPONSE_BYTES: usize = 6_000_000;
/// Default limit on a record's decoded data: Firehose's maximum record size
/// ([`FIREHOSE_MAX_RECORD_BYTES`]).
pub const DEFAULT_MAX_RECORD_BYTES: usize = FIREHOSE_MAX_RECORD_BYTES;

/// `OCSF_VERSION`: target OCSF version.
pub const ENV_VERSION: &str = "OCSF_VERSION";
/// `OCSF_FROM_VERSION`: `auto` or the release every event is in.
pub const ENV_FROM_VERSION: &str = "OCSF_FROM_VERSION";
/// `OCSF_SOURCE_VERSIONS`: `all` or the comma-separated source releases accepted.
pub const ENV_SOURCE_VERSIONS: &str = "OCSF_SOURCE_VERSIONS";
/// `OCSF_TRANSLATE`: `both`, `down`, `up` or `none`.
pub const ENV_TRANSLATE: &str = "OCSF_TRANSLATE";
/// `OCSF_ALLOWED_CLASSES`: comma-separated class_uid allow-list.
pub const ENV_ALLOWED_CLASSES: &str = "OCSF_ALLOWED_CLASSES";
/// `OCSF_ON_INVALID`: `fail` or `drop`.
pub const ENV_ON_INVALID: &str = "OCSF_ON_INVALID";
/// `OCSF_UNKNOWN_ATTRIBUTES`: `unmapped`, `keep` or `reject`.
pub const ENV_UNKNOWN_ATTRIBUTES: &str = "OCSF_UNKNOWN_ATTRIBUTES";
/// `OCSF_TIME_UNITS`: `repair` or `strict`.
pub const ENV_TIME_UNITS: &str = "OCSF_TIME_UNITS";
/// `OCSF_SEVERITY`: `code=level,…` overrides.
pub const ENV_SEVERITY: &str = "OCSF_SEVERITY";
/// `OCSF_DEFAULT_REGION`: partition region for events without `cloud.region`.
pub const ENV_DEFAULT_REGION: &str = "OCSF_DEFAULT_REGION";
/// `OCSF_DEFAULT_ACCOUNT_ID`: partition account for events without an AWS account id.
pub const ENV_DEFAULT_ACCOUNT_ID: &str = "OCSF_DEFAULT_ACCOUNT_ID";
/// `OCSF_MAX_RESPONSE_BYTES`: response size limit.
pub const ENV_MAX_RESPONSE_BYTES: &str = "OCSF_MAX_RESPONSE_BYTES";
/// `OCSF_MAX_RECORD_BYTES`: decoded record size limit.
pub const ENV_MAX_RECORD_BYTES: &str = "OCSF_MAX_RECORD_BYTES";
/// `OCSF_MAX_DEPTH`: object nesting limit.
pub const ENV_MAX_DEPTH: &str = "OCSF_MAX_DEPTH";
/// `OCSF_TABLE_PROFILES`: comma-separated profiles whose attributes the Glue tables have
/// columns for (as given to `ocsf-firehose glue-schema --profile`); unset: every profile of
/// each class, the generated tables' default.
pub const ENV_TABLE_PROFILES: &str = "OCSF_TABLE_PROFILES";
/// `OCSF_TABLE_COLUMNS`: comma-separated attribute paths the Glue tables have columns for beyond
/// the default rule (`extra_columns` of `ocsf-firehose glue-schema`); unset: none.
pub const ENV_TABLE_COLUMNS: &str = "OCSF_TABLE_COLUMNS";
/// `OCSF_EXTENSIONS`: compiled schema files with the user's extensions.
pub const ENV_EXTENSIONS: &str = "OCSF_EXTENSIONS";
/// `OCSF_METRICS_NAMESPACE`: the CloudWatch namespace of the Lambda's metrics (read by the
/// Lambda binary, default [`DEFAULT_METRICS_NAMESPACE`]).
pub const ENV_METRICS_NAMESPACE: &str = "OCSF_METRICS_NAMESPACE";
/// The CloudWatch namespace of the Lambda's metrics when `OCSF_METRICS_NAMESPACE` is unset
/// (`metricsNamespace` in `infra/defaults.json`).
pub const DEFAULT_METRICS_NAMESPACE: &str = "OcsfFirehose";
/// `OCSF_LOG_LEVEL`: `off`, `error`, `warn`, `info` or `debug`.
pub const ENV_LOG_LEVEL: &str = "OCSF_LOG_LEVEL";

/// What becomes of records with invalid events.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum OnInvalid {
    /// `ProcessingFailed`: Firehose keeps the raw record under `processing-failed/`.
    #[default]
    Fail,
    /// `Dropped`: the record is discarded (counted and logged).
    Drop,
}

/// How much the handler logs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord)]
pub enum LogLevel {
    /// Nothing.
    Off,
    /// Errors only.
    Error,
    /// Records not delivered.
    Warn,
    /// Plus one summary line per invocation.
    #[default]
    Info,
    /// Everything.
    Debug,
}

impl LogLevel {
    /// The level name used in log lines.
    pub fn as_str(self) -> &'static str {
        match self {
            LogLevel::Off => "OFF",
            LogLevel::Error => "ERROR",
            LogLevel::Warn => "WARN",
            LogLevel::Info => "INFO",
            LogLevel::Debug => "DEBUG",
        }
    }
}

impl fmt::Display for LogLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The transformation's configuration.
#[derive(Debug, Clone)]
pub struct TransformConfig {
    /// The OCSF engine's configuration.
    pub engine: EngineConfig,
    /// What becomes of records with invalid events.
    pub on_invalid: OnInvalid,
    /// The response never exceeds this many bytes.
    pub max_response_bytes: usize,
    /// Records whose decoded data exceeds this fail with `record_too_large`.
    pub max_record_bytes: usize,
    /// Log level.
    pub log_level: LogLevel,
}

impl Default for TransformConfig {
    fn default() -> Self {
        TransformConfig {
            engine: EngineConfig::default(),
            on_invalid: OnInvalid::default(),
            max_response_bytes: DEFAULT_MAX_RESPONSE_BYTES,
            max_record_bytes: DEFAULT_MAX_RECORD_BYTES,
            log_level: LogLevel::default(),
        }
    }
}

/// A bad configuration value, naming its variable.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("invalid {variable}: {reason}")]
pub struct EnvError {
    /// The environment variable.
    pub variable: &'static str,
    /// What is wrong with it.
    pub reason: String,
}

impl EnvError {
    pub(crate) fn new(variable: &'static str, reason: impl fmt::Display) -> Self {
        EnvError {
            variable,
            reason: reason.to_string(),
        }
    }

    /// Attributes an engine configuration error to the variable it comes from.
    pub fn from_engine(error: ConfigError) -> Self {
        let variable = match &error {
            ConfigError::Schema(_) => ENV_VERSION,
            ConfigError::SchemaFile(_) => ENV_EXTENSIONS,
            ConfigError::DefaultRegion(_) => ENV_DEFAULT_REGION,
            ConfigError::DefaultAccount(_) => ENV_DEFAULT_ACCOUNT_ID,
            ConfigError::FixedSeverity(_) => ENV_SEVERITY,
            ConfigError::MaxDepth => ENV_MAX_DEPTH,
            ConfigError::UnknownClass { .. } => ENV_ALLOWED_CLASSES,
            ConfigError::UnknownProfile { .. } => ENV_TABLE_PROFILES,
            ConfigError::TableColumn { .. } => ENV_TABLE_COLUMNS,
        };
        EnvError::new(variable, error)
    }
}

fn parse<T: FromStr>(variable: &'static str, value: &str) -> Result<T, EnvError>
where
    T::Err: fmt::Display,
{
    value.trim().parse().map_err(|e| EnvError::new(variable, e))
}

/// The non-empty, trimmed items of a comma-separated value.
/// The schema files an `OCSF_EXTENSIONS` value names (comma-separated paths).
pub fn schema_files(value: &str) -> Vec<PathBuf> {
    comma_list(value).map(PathBuf::from).collect()
}

fn comma_list(value: &str) -> impl Iterator<Item = &str> {
    value
        .split(',')
        .map(str::trim)
        .filter(|item| !item.is_empty())
}

impl TransformConfig {
    /// Reads the configuration from the process environment.
    pub fn from_env() -> Result<Self, EnvError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads the configuration through `lookup` (a variable set to an empty string counts as
    /// unset). Engine-level checks (e.g. the default region) happen when the
    /// [`Transformer`](super::Transformer) is built.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, EnvError> {
        let get = |name: &str| lookup(name).filter(|v| !v.trim().is_empty());
        let mut config = TransformConfig::default();
        if let Some(v) = get(ENV_VERSION) {
            config.engine.version = parse(ENV_VERSION, &v)?;
        }
        if let Some(v) = get(ENV_FROM_VERSION) {
            config.engine.translate.from = parse(ENV_FROM_VERSION, &v)?;
        }
        if let Some(v) = get(ENV_SOURCE_VERSIONS) {
            config.engine.translate.accepted = crate::translate::parse_source_versions(&v)
                .map_err(|e| EnvError::new(ENV_SOURCE_VERSIONS, e))?;
        }
        if let Some(v) = get(ENV_TRANSLATE) {
            config.engine.translate.direction = parse(ENV_TRANSLATE, &v)?;
        }
        if let Some(v) = get(ENV_ALLOWED_CLASSES) {
            let classes = comma_list(&v)
                .map(|c| {
                    c.parse::<i64>().map_err(|_| {
                        EnvError::new(ENV_ALLOWED_CLASSES, format!("`{c}` is not a class_uid"))
                    })
                })
                .collect::<Result<BTreeSet<_>, _>>()?;
            config.engine.allowed_classes = Some(classes);
        }
        if let Some(v) = get(ENV_ON_INVALID) {
            config.on_invalid = match v.trim().to_ascii_lowercase().as_str() {
                "fail" => OnInvalid::Fail,
                "drop" => OnInvalid::Drop,
                _ => {
                    return Err(EnvError::new(
                        ENV_ON_INVALID,
                        format!("`{v}`: expected fail or drop"),
                    ))
                }
            };
        }
        if let Some(v) = get(ENV_UNKNOWN_ATTRIBUTES) {
            config.engine.unknown_attributes = parse(ENV_UNKNOWN_ATTRIBUTES, &v)?;
        }
        if let Some(v) = get(ENV_TIME_UNITS) {
            config.engine.time_units = parse(ENV_TIME_UNITS, &v)?;
        }
        if let Some(v) = get(ENV_SEVERITY) {
            config.engine.severity = parse(ENV_SEVERITY, &v)?;
        }
        config.engine.partition = PartitionDefaults {
            region: get(ENV_DEFAULT_REGION).map(|v| v.trim().to_owned()),
            account_id: get(ENV_DEFAULT_ACCOUNT_ID).map(|v| v.trim().to_owned()),
        };
        if let Some(v) = get(ENV_MAX_RESPONSE_BYTES) {
            let limit: usize = parse(ENV_MAX_RESPONSE_BYTES, &v)?;
            if !(1024..=LAMBDA_MAX_RESPONSE_BYTES).contains(&limit) {
                return Err(EnvError::new(
                    ENV_MAX_RESPONSE_BYTES,
                    format!(
                        "{limit} is outside 1024..={LAMBDA_MAX_RESPONSE_BYTES} (Lambda's limit)"
                    ),
                ));
            }
            config.max_response_bytes = limit;
        }
        if let Some(v) = get(ENV_MAX_RECORD_BYTES) {
            let limit: usize = parse(ENV_MAX_RECORD_BYTES, &v)?;
            if limit == 0 {
                return Err(EnvError::new(ENV_MAX_RECORD_BYTES, "must be at least 1"));
            }
            config.max_record_bytes = limit;
        }
        if let Some(v) = get(ENV_MAX_DEPTH) {
            config.engine.max_depth = parse(ENV_MAX_DEPTH, &v)?;
        }
        if let Some(v) = get(ENV_TABLE_PROFILES) {
            let profiles = comma_list(&v).map(str::to_owned).collect();
            config.engine.table.profiles = Some(profiles);
        }
        if let Some(v) = get(ENV_TABLE_COLUMNS) {
            config.engine.table.columns = comma_list(&v).map(str::to_owned).collect();
        }
        if let Some(v) = get(ENV_EXTENSIONS) {
            config.engine.schema_files = schema_files(&v);
        }
        if let Some(v) = get(ENV_LOG_LEVEL) {
            config.log_level = match v.trim().to_ascii_lowercase().as_str() {
                "off" => LogLevel::Off,
                "error" => LogLevel::Error,
                "warn" | "warning" => LogLevel::Warn,
                "info" => LogLevel::Info,
                "debug" | "trace" => LogLevel::Debug,
                _ => {
                    return Err(EnvError::new(
                        ENV_LOG_LEVEL,
                        format!("`{v}`: expected off, error, warn, info or debug"),
                    ))
                }
            };
        }
        Ok(config)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;
    use crate::finding::{Code, Level, Severity};
    use crate::normalize::{TimeUnits, UnknownAttributes};
    use crate::translate::{Direction, FromVersion};
    use crate::version::{OcsfRelease, OcsfVersion};

    fn from(pairs: &[(&str, &str)]) -> Result<TransformConfig, EnvError> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| ((*k).into(), (*v).into()))
            .collect();
        TransformConfig::from_lookup(|name| map.get(name).cloned())
    }

    #[test]
    fn defaults_without_variables() {
        let config = from(&[]).unwrap();
        assert_eq!(config.engine.version, OcsfVersion::V1_1_0);
        assert_eq!(config.on_invalid, OnInvalid::Fail);
        assert_eq!(config.max_response_bytes, DEFAULT_MAX_RESPONSE_BYTES);
        assert_eq!(config.max_record_bytes, 1_024_000);
        assert_eq!(config.log_level, LogLevel::Info);
        assert!(config.engine.allowed_classes.is_none());
        assert_eq!(config.engine.translate, Default::default());
        assert_eq!(config.engine.time_units, TimeUnits::Repair);
    }

    #[test]
    fn every_variable_is_read() {
        let config = from(&[
            (ENV_VERSION, "1.3.0"),
            (ENV_ALLOWED_CLASSES, " 3002, 6003 ,"),
            (ENV_ON_INVALID, "DROP"),
            (ENV_UNKNOWN_ATTRIBUTES, "keep"),
            (ENV_TIME_UNITS, " Strict"),
            (ENV_SEVERITY, "constraint_failed=warning"),
            (ENV_DEFAULT_REGION, "eu-west-1"),
            (ENV_DEFAULT_ACCOUNT_ID, "123456789012"),
            (ENV_MAX_RESPONSE_BYTES, "1000000"),
            (ENV_MAX_RECORD_BYTES, "2048"),
            (ENV_MAX_DEPTH, "8"),
            (ENV_LOG_LEVEL, "warn"),
            (ENV_FROM_VERSION, "1.0.0-rc.2"),
            (ENV_SOURCE_VERSIONS, "1.0.0-rc.2, 1.5"),
            (ENV_TRANSLATE, "up"),
        ])
        .unwrap();
        let translate = &config.engine.translate;
        assert_eq!(translate.from, FromVersion::Fixed(OcsfRelease::V1_0_0Rc2));
        assert_eq!(
            translate.accepted,
            Some([OcsfRelease::V1_0_0Rc2, OcsfRelease::V1_5_0].into())
        );
        assert_eq!(translate.direction, Direction::Up);
        assert_eq!(config.engine.version, OcsfVersion::V1_3_0);
        assert_eq!(config.engine.allowed_classes, Some([3002, 6003].into()));
        assert_eq!(config.on_invalid, OnInvalid::Drop);
        assert_eq!(config.engine.unknown_attributes, UnknownAttributes::Keep);
        assert_eq!(config.engine.time_units, TimeUnits::Strict);
        assert_eq!(
            config.engine.severity.level(Code::ConstraintFailed),
            Level::Report(Severity::Warning)
        );
        assert_eq!(config.engine.partition.region.as_deref(), Some("eu-west-1"));
        assert_eq!(
            config.engine.partition.account_id.as_deref(),
            Some("123456789012")
        );
        assert_eq!(
            (config.max_response_bytes, config.max_record_bytes),
            (1_000_000, 2048)
        );
        assert_eq!(config.engine.max_depth, 8);
        assert_eq!(config.log_level, LogLevel::Warn);
        assert_eq!(
            from(&[(ENV_VERSION, "  ")]).unwrap().engine.version,
            OcsfVersion::V1_1_0,
            "empty = unset"
        );
    }

    #[test]
    fn bad_values_name_their_variable() {
        let cases = [
            (ENV_VERSION, "2.0"),
            (ENV_ALLOWED_CLASSES, "3002,auth"),
            (ENV_ON_INVALID, "ignore"),
            (ENV_UNKNOWN_ATTRIBUTES, "delete"),
            (ENV_TIME_UNITS, "seconds"),
            (ENV_SEVERITY, "constraint_failed"),
            (ENV_MAX_RESPONSE_BYTES, "7000000"),
            (ENV_MAX_RESPONSE_BYTES, "lots"),
            (ENV_MAX_RECORD_BYTES, "0"),
            (ENV_MAX_DEPTH, "-1"),
            (ENV_LOG_LEVEL, "loud"),
            (ENV_FROM_VERSION, "1.9"),
            (ENV_SOURCE_VERSIONS, "1.1.0,0.9"),
            (ENV_TRANSLATE, "sideways"),
        ];
        for (variable, value) in cases {
            let error = from(&[(variable, value)]).unwrap_err();
            assert_eq!(error.variable, variable, "{value}");
            assert!(
                error
                    .to_string()
                    .starts_with(&format!("invalid {variable}: ")),
                "{error}"
            );
        }
    }

    #[test]
    fn table_profiles_are_read_and_checked_against_the_schema() {
        let config = from(&[(ENV_TABLE_PROFILES, " cloud, host ,")]).unwrap();
        assert_eq!(
            config.engine.table.profiles,
            Some(vec!["cloud".to_owned(), "host".to_owned()])
        );
        assert!(super::super::Transformer::new(config).is_ok());
        let unknown = from(&[(ENV_TABLE_PROFILES, "cloud,shoes")]).unwrap();
        let error = super::super::Transformer::new(unknown).unwrap_err();
        assert_eq!(error.variable, ENV_TABLE_PROFILES);
        assert!(error.to_string().contains("`shoes`"), "{error}");
    }

    #[test]
    fn table_columns_are_read_and_checked_against_the_allowed_classes() {
        let config = from(&[
            (ENV_ALLOWED_CLASSES, "3002"),
            (
                ENV_TABLE_COLUMNS,
                "actor.process.cmd_line, user.ldap_person.job_title",
            ),
        ])
        .unwrap();
        assert_eq!(
            config.engine.table.columns,
            vec!["actor.process.cmd_line", "user.ldap_person.job_title"]
        );
        let transformer = super::super::Transformer::new(config).unwrap();
        let table = transformer.engine().tables().get(3002).unwrap();
        assert!(table.type_at("actor.process.cmd_line").is_some());
        let typo = from(&[
            (ENV_ALLOWED_CLASSES, "3002"),
            (ENV_TABLE_COLUMNS, "actor.shoe"),
        ])
        .unwrap();
        let error = super::super::Transformer::new(typo).unwrap_err();
        assert_eq!(error.variable, ENV_TABLE_COLUMNS);
        assert!(error.to_string().contains("actor.shoe"), "{error}");
    }
}

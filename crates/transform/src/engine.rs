//! The engine: one configured schema, validator, normalizer and set of Glue tables, and the
//! per-event pipeline (normalize → validate → partition keys, then the fit to the table) that
//! gives [`Engine::judge`]'s [`Verdict`]: the Lambda's, and so everyone's.

use std::collections::BTreeSet;
use std::path::PathBuf;

use serde_json::Value;
use thiserror::Error;

use crate::contract::partition::{self, PartitionDefaults, PartitionFields, PartitionKeys};
use crate::finding::{Code, Finding, Level, Severity, SeverityPolicy};
use crate::normalize::{Action, NormalizeOptions, Normalizer, TimeUnits, UnknownAttributes};
use crate::schema::{Schema, SchemaError, SchemaFileError};
use crate::table::{TableModel, TableSpec, Tables};
use crate::translate::{TranslateOptions, Translation, Translator};
use crate::validate::{ValidateOptions, Validation, Validator, DEFAULT_MAX_DEPTH};
use crate::verdict::Verdict;
use crate::version::OcsfVersion;

/// Everything an [`Engine`] can be configured with.
#[derive(Debug, Clone)]
pub struct EngineConfig {
    /// Target OCSF version (default 1.1.0, what Security Lake's own sources emit).
    pub version: OcsfVersion,
    /// Only these `class_uid`s are accepted (Security Lake wants one class per custom source).
    pub allowed_classes: Option<BTreeSet<i64>>,
    /// Policy for attributes the schema does not define.
    pub unknown_attributes: UnknownAttributes,
    /// Whether `timestamp_t` numbers in seconds, microseconds or nanoseconds are repaired to
    /// milliseconds (default) or taken as milliseconds.
    pub time_units: TimeUnits,
    /// Per-code severity overrides.
    pub severity: SeverityPolicy,
    /// Partition fallbacks.
    pub partition: PartitionDefaults,
    /// Report missing recommended attributes as warnings.
    pub warn_recommended: bool,
    /// Maximum object nesting below the event.
    pub max_depth: usize,
    /// What the Glue tables have columns for: profiles (`glue-schema --profile`; `None`: every
    /// profile of each class) and attribute paths beyond the default rule
    /// (`glue-schema --column`, `--from-events`).
    pub table: TableSpec,
    /// Version translation: which source releases are accepted and which way they are
    /// translated to `version` ([`crate::translate`]).
    pub translate: TranslateOptions,
    /// Compiled schema files with the user's own extensions (`OCSF_EXTENSIONS`), each replacing
    /// the embedded release of its version for the whole process; installed
    /// ([`Schema::install_file`]) before the engine loads any schema.
    pub schema_files: Vec<PathBuf>,
}

impl Default for EngineConfig {
    fn default() -> Self {
        EngineConfig {
            version: OcsfVersion::default(),
            allowed_classes: None,
            unknown_attributes: UnknownAttributes::default(),
            time_units: TimeUnits::default(),
            severity: SeverityPolicy::default(),
            partition: PartitionDefaults::default(),
            warn_recommended: false,
            max_depth: DEFAULT_MAX_DEPTH,
            table: TableSpec::default(),
            translate: TranslateOptions::default(),
            schema_files: Vec::new(),
        }
    }
}

/// A configuration the engine refuses.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ConfigError {
    /// The embedded schema could not be loaded.
    #[error(transparent)]
    Schema(#[from] SchemaError),
    /// A schema file could not be installed.
    #[error(transparent)]
    SchemaFile(#[from] SchemaFileError),
    /// The default region is not a safe partition value.
    #[error("default region `{0}` is not a valid partition value (1-64 of A-Z a-z 0-9 _ . -)")]
    DefaultRegion(String),
    /// The default account is neither a 12-digit account id nor `external[_<id>]`.
    #[error(
        "default account id `{0}` must be a 12-digit AWS account id, `external` or `external_<id>`"
    )]
    DefaultAccount(String),
    /// Some codes cannot be re-levelled (see [`Code::is_fixed`]).
    #[error("the severity of `{0}` cannot be changed: what it reports cannot be delivered")]
    FixedSeverity(Code),
    /// `max_depth` must be at least 1.
    #[error("max depth must be at least 1")]
    MaxDepth,
    /// A table profile does not exist in the target version.
    #[error("OCSF {version} has no profile `{profile}`")]
    UnknownProfile {
        /// The profile.
        profile: String,
        /// The target version.
        version: OcsfVersion,
    },
    /// A table column path is not an attribute of an allowed class.
    #[error("table column `{path}`: {reason}")]
    TableColumn {
        /// The path.
        path: String,
        /// Why the tables cannot have it.
        reason: String,
    },
    /// A class in the allow-list does not exist in the target version.
    #[error("class_uid {uid} in the allow-list is not a class of OCSF {version}")]
    UnknownClass {
        /// The class uid.
        uid: i64,
        /// The target version.
        version: OcsfVersion,
    },
}

/// Every table column path must be a column of some class the engine accepts (all of them, or
/// the allow-list's): a typo in `OCSF_TABLE_COLUMNS` fails at start-up, not silently. One
/// lenient table per class, and only when paths are named.
fn check_table_columns(schema: &'static Schema, config: &EngineConfig) -> Result<(), ConfigError> {
    if config.table.columns.is_empty() {
        return Ok(());
    }
    let uids: Vec<i64> = match &config.allowed_classes {
        Some(uids) => uids.iter().copied().collect(),
        None => schema.class_uids().collect(),
    };
    let spec = TableSpec {
        profiles: None,
        columns: config.table.columns.clone(),
    };
    let tables: Vec<TableModel> = uids
        .iter()
        .filter_map(|uid| TableModel::lenient(schema, *uid, &spec).ok())
        .collect();
    let Some(path) = config
        .table
        .columns
        .iter()
        .find(|path| !tables.iter().any(|t| t.type_at(path).is_some()))
    else {
        return Ok(());
    };
    // Why, in the words of the first class's table.
    let one = TableSpec {
        profiles: None,
        columns: vec![path.clone()],
    };
    let reason = uids
        .first()
        .and_then(|uid| TableModel::new(schema, *uid, &one).err())
        .map_or_else(|| "no class is accepted".to_owned(), |e| e.to_string());
    Err(ConfigError::TableColumn {
        path: path.clone(),
        reason,
    })
}

/// A configured OCSF engine. Cheap to share (`&Engine` is `Sync`); build it once at start-up.
#[derive(Debug, Clone)]
pub struct Engine {
    config: EngineConfig,
    policy: SeverityPolicy,
    validator: Validator<'static>,
    normalizer: Normalizer<'static>,
    translator: Translator,
    tables: Tables,
}

impl Engine {
    /// Builds an engine, rejecting invalid configuration.
    pub fn new(config: EngineConfig) -> Result<Engine, ConfigError> {
        for path in &config.schema_files {
            Schema::install_file(path)?;
        }
        let schema = Schema::get(config.version)?;
        if let Some(region) = &config.partition.region {
            if !partition::is_safe_partition_value(region) {
                return Err(ConfigError::DefaultRegion(region.clone()));
            }
        }
        if let Some(account) = &config.partition.account_id {
            if !partition::is_account_partition_value(account) {
                return Err(ConfigError::DefaultAccount(account.clone()));
            }
        }
        if let Some(code) = Code::ALL
            .iter()
            .find(|c| c.is_fixed() && config.severity.overrides(**c))
        {
            return Err(ConfigError::FixedSeverity(*code));
        }
        if config.max_depth == 0 {
            return Err(ConfigError::MaxDepth);
        }
        if let Some(uid) = config
            .allowed_classes
            .iter()
            .flatten()
            .find(|uid| schema.class(**uid).is_none())
        {
            return Err(ConfigError::UnknownClass {
                uid: *uid,
                version: config.version,
            });
        }
        if let Some(profile) = config
            .table
            .profiles
            .iter()
            .flatten()
            .find(|p| schema.profile_id(p).is_none())
        {
            return Err(ConfigError::UnknownProfile {
                profile: profile.clone(),
                version: config.version,
            });
        }
        check_table_columns(schema, &config)?;
        let tables = Tables::new(schema, config.table.clone());
        let mut policy = config.severity.clone();
        if config.unknown_attributes == UnknownAttributes::Keep
            && !policy.overrides(Code::AttributeUnknown)
        {
            policy.set(Code::AttributeUnknown, Level::Report(Severity::Warning));
        }
        let validator = Validator::new(
            schema,
            ValidateOptions {
                warn_recommended: config.warn_recommended,
                max_depth: config.max_depth,
                allowed_classes: config.allowed_classes.clone(),
            },
        );
        let normalizer = Normalizer::new(
            schema,
            NormalizeOptions {
                unknown_attributes: config.unknown_attributes,
                time_units: config.time_units,
                max_depth: config.max_depth,
                severity: policy.clone(),
            },
        );
        let translator = Translator::new(schema, config.translate.clone(), config.max_depth);
        Ok(Engine {
            config,
            policy,
            validator,
            normalizer,
            translator,
            tables,
        })
    }

    /// The configuration the engine was built with.
    pub fn config(&self) -> &EngineConfig {
        &self.config
    }

    /// The target schema.
    pub fn schema(&self) -> &'static Schema {
        self.validator.schema()
    }

    /// The Glue tables events are fitted to (built per class on first use).
    pub fn tables(&self) -> &Tables {
        &self.tables
    }

    /// The OCSF schema check alone, on the event as it is: the OCSF server's validator
    /// (`/api/v2/validate`), without normalization, partition keys or the table. Not a verdict:
    /// an event valid here may still be rejected by the Lambda ([`Engine::judge`]).
    pub fn validate(&self, event: &Value) -> Validation {
        self.validator.validate(event, &self.policy)
    }

    /// Translates an event in place to the target version: the first stage of
    /// [`Engine::judge`], exposed for tests of its own properties (no leaf lost, idempotence).
    pub fn translate(&self, event: &mut Value) -> Translation {
        self.translator.translate(event)
    }

    /// The class uid an event of class `uid` declaring `declared` has once judged (translation
    /// may move it: 1.0.0-rc.2's 3005 is 6003): what a pipeline with one stream per class
    /// routes it by.
    pub fn class_in_target(&self, uid: i64, declared: Option<&str>) -> i64 {
        self.translator.class_in_target(uid, declared)
    }

    /// Normalizes an event in place: the second stage of [`Engine::judge`], exposed for tests
    /// of its own properties (idempotence, no added error).
    pub fn normalize(&self, event: &mut Value) -> Vec<Action> {
        // Profiles judged by the engine's validator, as in `judge`.
        self.normalizer.normalize_judging(event, &self.validator).0
    }

    /// A stage's problem as a finding at its configured level (`None`: ignored).
    fn finding(&self, code: Code, path: &str, message: String) -> Option<Finding> {
        let Level::Report(severity) = self.policy.level(code) else {
            return None;
        };
        Some(Finding {
            code,
            severity,
            path: path.to_owned(),
            message,
        })
    }

    /// The partition keys of an event (`None` when it cannot be partitioned) and the findings
    /// met on the way.
    fn partition_keys(
        &self,
        event: &Value,
        fallback_region: Option<&str>,
    ) -> (Option<PartitionKeys>, Vec<Finding>) {
        let region_level = self.policy.level(Code::PartitionRegionInvalid);
        let fatal = region_level == Level::Report(Severity::Error);
        let partitioned = partition::partition_keys(
            &PartitionFields::of(event),
            &self.config.partition,
            fallback_region,
            fatal,
        );
        // `partition_time_invalid` is fixed (`Engine::new` refuses to re-level it): always an error.
        let findings = partitioned
            .problems
            .into_iter()
            .filter_map(|p| self.finding(p.code, p.path, p.message.to_owned()))
            .collect();
        (partitioned.keys, findings)
    }

    /// The verdict on one event, the Lambda's: translate it to the target version, normalize
    /// it, validate the result, compute its partition keys (`fallback_region`: the region of
    /// the Firehose stream, the last fallback for `region`); an accepted event's row is its fit
    /// to the class's Glue table ([`Verdict::into_row`]).
    pub fn judge(&self, mut event: Value, fallback_region: Option<&str>) -> Verdict<'_> {
        let translation = self.translate(&mut event);
        let mut actions = translation.actions;
        let (normalized, validated) = self
            .normalizer
            .normalize_judging(&mut event, &self.validator);
        actions.extend(normalized);
        // The profile trials' validation of the event as it now stands, when they made one.
        let mut validation = validated.unwrap_or_else(|| self.validate(&event));
        // Translation's problems first: the first stage's.
        let problems = translation
            .problems
            .into_iter()
            .filter_map(|p| self.finding(p.code, p.path, p.message));
        validation.findings.splice(0..0, problems);
        let partition = if event.is_object() {
            let (keys, findings) = self.partition_keys(&event, fallback_region);
            validation.findings.extend(findings);
            keys
        } else {
            None
        };
        Verdict {
            event,
            validation,
            actions,
            partition,
            tables: &self.tables,
        }
    }
}

#[cfg(test)]
mod tests;

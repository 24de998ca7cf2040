//! The engine: one configured schema, validator and normalizer, and the per-event pipeline
//! (normalize → validate → partition keys) that the Lambda, the CLI, the producer and the local
//! pipeline share.

use std::collections::BTreeSet;

use serde_json::Value;
use thiserror::Error;

use crate::finding::{Code, Finding, Level, Severity, SeverityPolicy};
use crate::normalize::{Action, NormalizeOptions, Normalizer, UnknownAttributes};
use crate::partition::{self, PartitionDefaults, PartitionKeys, EXTERNAL_ACCOUNT};
use crate::schema::{Schema, SchemaError};
use crate::validate::{ValidateOptions, Validation, Validator, DEFAULT_MAX_DEPTH};
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
    /// Per-code severity overrides.
    pub severity: SeverityPolicy,
    /// Partition fallbacks.
    pub partition: PartitionDefaults,
    /// Report missing recommended attributes as warnings.
    pub warn_recommended: bool,
    /// Maximum object nesting below the event.
    pub max_depth: usize,
}

impl Default for EngineConfig {
    fn default() -> Self {
        EngineConfig {
            version: OcsfVersion::default(),
            allowed_classes: None,
            unknown_attributes: UnknownAttributes::default(),
            severity: SeverityPolicy::default(),
            partition: PartitionDefaults::default(),
            warn_recommended: false,
            max_depth: DEFAULT_MAX_DEPTH,
        }
    }
}

/// A configuration the engine refuses.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ConfigError {
    /// The embedded schema could not be loaded.
    #[error(transparent)]
    Schema(#[from] SchemaError),
    /// The default region is not a safe partition value.
    #[error("default region `{0}` is not a valid partition value (1-64 of A-Z a-z 0-9 _ . -)")]
    DefaultRegion(String),
    /// The default account is neither a 12-digit account id nor `external[_<id>]`.
    #[error(
        "default account id `{0}` must be a 12-digit AWS account id, `external` or `external_<id>`"
    )]
    DefaultAccount(String),
    /// `partition_time_invalid` cannot be re-levelled: an event without a day has no partition.
    #[error("the severity of `{0}` cannot be changed: such events cannot be partitioned")]
    FixedSeverity(Code),
    /// `max_depth` must be at least 1.
    #[error("max depth must be at least 1")]
    MaxDepth,
    /// A class in the allow-list does not exist in the target version.
    #[error("class_uid {uid} in the allow-list is not a class of OCSF {version}")]
    UnknownClass {
        /// The class uid.
        uid: i64,
        /// The target version.
        version: OcsfVersion,
    },
}

/// The outcome of [`Engine::process`] for one event.
#[derive(Debug, Clone, PartialEq)]
pub struct Processed {
    /// The normalized event.
    pub event: Value,
    /// The validation of the normalized event, plus any partition findings.
    pub validation: Validation,
    /// What normalization changed.
    pub actions: Vec<Action>,
    /// The partition keys, when the event can be partitioned.
    pub partition: Option<PartitionKeys>,
}

impl Processed {
    /// `true` when the event has no error finding and can be partitioned.
    pub fn is_valid(&self) -> bool {
        self.validation.is_valid() && self.partition.is_some()
    }
}

/// A configured OCSF engine. Cheap to share (`&Engine` is `Sync`); build it once at start-up.
#[derive(Debug, Clone)]
pub struct Engine {
    config: EngineConfig,
    policy: SeverityPolicy,
    validator: Validator<'static>,
    normalizer: Normalizer<'static>,
}

impl Engine {
    /// Builds an engine, rejecting invalid configuration.
    pub fn new(config: EngineConfig) -> Result<Engine, ConfigError> {
        let schema = Schema::get(config.version)?;
        if let Some(region) = &config.partition.region {
            if !partition::is_safe_partition_value(region) {
                return Err(ConfigError::DefaultRegion(region.clone()));
            }
        }
        if let Some(account) = &config.partition.account_id {
            let external = account == EXTERNAL_ACCOUNT
                || account
                    .strip_prefix("external_")
                    .is_some_and(partition::is_safe_partition_value);
            if !(partition::is_aws_account_id(account) || external) {
                return Err(ConfigError::DefaultAccount(account.clone()));
            }
        }
        if config.severity.overrides(Code::PartitionTimeInvalid) {
            return Err(ConfigError::FixedSeverity(Code::PartitionTimeInvalid));
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
                max_depth: config.max_depth,
            },
        );
        Ok(Engine {
            config,
            policy,
            validator,
            normalizer,
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

    /// Validates an event as it is.
    pub fn validate(&self, event: &Value) -> Validation {
        self.validator.validate(event, &self.policy)
    }

    /// Normalizes an event in place.
    pub fn normalize(&self, event: &mut Value) -> Vec<Action> {
        self.normalizer.normalize(event)
    }

    /// The partition keys of an event, or the findings that prevent them.
    pub fn partition_keys(
        &self,
        event: &Value,
        fallback_region: Option<&str>,
    ) -> Result<PartitionKeys, Vec<Finding>> {
        let region_level = self.policy.level(Code::PartitionRegionInvalid);
        let fatal = region_level == Level::Report(Severity::Error);
        partition::partition_keys(event, &self.config.partition, fallback_region, fatal).map_err(
            |problems| {
                problems
                    .into_iter()
                    .filter_map(|p| {
                        let severity = match self.policy.level(p.code) {
                            Level::Report(s) => s,
                            Level::Ignore if p.code == Code::PartitionTimeInvalid => {
                                Severity::Error
                            }
                            Level::Ignore => return None,
                        };
                        Some(Finding {
                            code: p.code,
                            severity,
                            path: p.path.to_owned(),
                            message: p.message,
                        })
                    })
                    .collect()
            },
        )
    }

    /// The full pipeline for one event: normalize, validate the result, compute its partition.
    pub fn process(&self, mut event: Value, fallback_region: Option<&str>) -> Processed {
        let actions = self.normalize(&mut event);
        let mut validation = self.validate(&event);
        let partition = if event.is_object() {
            match self.partition_keys(&event, fallback_region) {
                Ok(keys) => Some(keys),
                Err(findings) => {
                    validation.findings.extend(findings);
                    None
                }
            }
        } else {
            None
        };
        Processed {
            event,
            validation,
            actions,
            partition,
        }
    }
}

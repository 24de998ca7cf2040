//! # ocsf-firehose-transform
//!
//! The OCSF engine of ocsf-firehose: schema-driven validation with the OCSF server's
//! `/api/v2/validate` semantics, deterministic normalization, and the Amazon Security Lake
//! partition keys (`region`, `accountId`, `eventDay`).

pub mod schema;
pub mod version;

pub use schema::Schema;
pub use version::OcsfVersion;
pub mod documents;
pub mod engine;
pub mod finding;
pub mod normalize;
pub mod partition;
mod path;
pub mod validate;

pub use engine::{ConfigError, Engine, EngineConfig, Processed};
pub use finding::{Code, Finding, Level, Severity, SeverityPolicy};
pub use normalize::{Action, ActionKind, NormalizeOptions, Normalizer, UnknownAttributes};
pub use partition::{PartitionDefaults, PartitionKeys};
pub use validate::{ValidateOptions, Validation, Validator};

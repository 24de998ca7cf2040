//! # ocsf-firehose-transform
//!
//! The OCSF engine of ocsf-firehose: schema-driven validation with the OCSF server's
//! `/api/v2/validate` semantics, deterministic normalization, and the Amazon Security Lake
//! partition keys (`region`, `accountId`, `eventDay`), targeting OCSF 1.1.0 or 1.3.0, with every
//! release from 1.0.0-rc.2 to 1.8.0 embedded and translated to the target ([`translate`]).
//!
//! ```
//! use ocsf_firehose_transform::{Engine, EngineConfig};
//! use serde_json::json;
//!
//! let engine = Engine::new(EngineConfig::default())?; // OCSF 1.1.0, unknowns → `unmapped`
//! let event = json!({
//!     "class_uid": 3002, "activity_name": "Logon", "severity_id": 1,
//!     "time": "2023-04-28T12:00:00Z",
//!     "metadata": {"product": {"name": "MyApp", "vendor_name": "Example"}},
//!     "user": {"name": "alice"}, "service": {"name": "console"},
//!     "cloud": {"provider": "AWS", "region": "eu-west-1"},
//!     "shoe_size": 44
//! });
//! let verdict = engine.judge(event, None); // the Lambda's verdict
//! assert!(verdict.is_accepted(), "{:?}", verdict.validation.findings);
//! assert_eq!(verdict.event["type_uid"], 300201); // derived from the activity
//! assert_eq!(verdict.event["time"], 1682683200000_i64); // RFC 3339 → epoch ms
//! assert_eq!(verdict.event["unmapped"]["shoe_size"], 44); // unknown: kept, not lost
//! let row = verdict.into_row().unwrap(); // what the Lambda emits: fitted to the Glue table
//! assert_eq!(row.event["unmapped"]["shoe_size"], "44"); // map<string,string>, by path
//! let keys = row.partition;
//! assert_eq!((keys.region.as_str(), keys.event_day.as_str()), ("eu-west-1", "20230428"));
//! # Ok::<(), ocsf_firehose_transform::ConfigError>(())
//! ```
//!
//! Modules, in pipeline order: [`documents`] (bytes → JSON documents), [`translate`],
//! [`normalize`],
//! [`validate`] (with [`finding`] codes and severities), [`partition`], [`table`] (the Glue
//! table model and the fit to it); [`engine`] ties them to one configured [`schema`] and gives
//! the one [`verdict`] on an event ([`Engine::judge`]); [`contract`] holds the AWS limits,
//! framing, prefixes and Parquet settings; [`firehose`] is the Firehose transformation Lambda's
//! handler and [`local`] (feature `local`) Firehose's delivery path on one machine.
//!
//! Cargo features: `lambda` (the `ocsf-firehose-lambda` binary) and `local` (the local
//! pipeline: Parquet through `arrow`/`parquet`), both on by default; libraries embedding the
//! engine (the producer) turn them off. The operator CLI is the `ocsf-firehose` crate.

pub mod contract;
pub use ocsf_firehose_contract::{documents, finding};
pub mod engine;
pub mod firehose;
#[cfg(feature = "lake")]
pub mod lake;
#[cfg(feature = "local")]
pub mod local;
pub mod normalize;
pub use contract::partition;
mod path;
pub mod schema;
pub mod table;
#[cfg(test)]
mod test_support;
pub mod translate;
pub mod validate;
pub mod verdict;
pub mod version;

pub use engine::{ConfigError, Engine, EngineConfig};
pub use finding::{Code, Finding, Level, Severity, SeverityPolicy};
pub use normalize::{
    Action, ActionKind, NormalizeOptions, Normalizer, TimeUnits, UnknownAttributes,
};
pub use partition::{PartitionDefaults, PartitionKeys};
pub use schema::{Schema, SchemaFileError};
pub use validate::{ValidateOptions, Validation, Validator};
pub use verdict::{Row, Verdict};
pub use version::{OcsfRelease, OcsfVersion};

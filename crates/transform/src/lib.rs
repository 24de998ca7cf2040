//! # ocsf-firehose-transform
//!
//! The OCSF engine of ocsf-firehose: schema-driven validation with the OCSF server's
//! `/api/v2/validate` semantics, deterministic normalization, and the Amazon Security Lake
//! partition keys (`region`, `accountId`, `eventDay`).

pub mod schema;
pub mod version;

pub use schema::Schema;
pub use version::OcsfVersion;

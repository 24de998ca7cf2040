//! The contract with AWS, defined once: the service limits ([`limits`]), the Security Lake
//! partition rule and its one key type ([`partition`]), JSON-lines framing in both directions
//! ([`framing`]), the S3 prefix templates and their evaluation ([`prefix`]) and the Parquet
//! settings ([`parquet`]). The Lambda, the local pipeline and the producer (which re-exports
//! what it needs) read these and nothing else; `tests/contract.rs` checks every value the
//! infrastructure shares (`infra/defaults.json`) against them.

pub mod framing;
pub mod limits;
pub mod metrics;
pub mod parquet;
pub mod partition;
pub mod prefix;

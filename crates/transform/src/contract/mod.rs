//! The contract with AWS, defined once in `ocsf-firehose-contract` (no schema needed) and
//! re-exported here at its former paths: the service limits ([`limits`]), the Security Lake
//! partition rule and its one key type ([`partition`]), JSON-lines framing in both directions
//! ([`framing`]), the S3 prefix templates and their evaluation ([`prefix`]), the Parquet
//! settings ([`parquet`]) and the Firehose metrics ([`metrics`]). `tests/contract.rs` checks every
//! value the infrastructure shares (`infra/defaults.json`) against them.

pub use ocsf_firehose_contract::{framing, limits, metrics, parquet, partition, prefix};

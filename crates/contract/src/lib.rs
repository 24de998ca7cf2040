//! # ocsf-firehose-contract
//!
//! The contract with AWS and with the transformation Lambda, defined once, without the OCSF
//! schemas: the service limits ([`limits`]), the Security Lake partition rule and its one key
//! type ([`partition`]), JSON-lines framing in both directions ([`framing`], over the document
//! reader [`documents`]), the S3 prefix templates and their evaluation ([`prefix`]), the Parquet
//! settings ([`parquet`]), the Firehose metrics ([`metrics`]), time parsing ([`time`]) and the
//! findings' codes and severities ([`finding`]: the one vocabulary of a verdict).
//!
//! The Lambda, the local pipeline and the producer read these and nothing else. The producer's
//! stream path depends on this crate alone, so an application that streams events builds no
//! schema; `ocsf-firehose-transform` re-exports every module at its former path
//! (`ocsf_firehose_transform::contract::limits`, `ocsf_firehose_transform::finding`, …).

pub mod documents;
pub mod finding;
pub mod framing;
pub mod json_text;
pub mod limits;
pub mod metrics;
pub mod parquet;
pub mod partition;
pub mod prefix;
pub mod time;

pub use finding::{Code, Finding, Level, Severity, SeverityPolicy};
pub use partition::{PartitionDefaults, PartitionKeys};

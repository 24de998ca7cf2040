//! # ocsf-firehose-producer
//!
//! Streams OCSF events into Amazon Data Firehose (Direct PUT, `PutRecordBatch`) or a Kinesis
//! data stream (`PutRecords`) that feeds Firehose, for an Amazon Security Lake custom source; or,
//! with the feature `lake`, writes them as Security Lake objects straight into the source's S3
//! location ([`lake`]).
//!
//! ```no_run
//! # async fn example(client: aws_sdk_firehose::Client) -> Result<(), Box<dyn std::error::Error>> {
//! use ocsf_firehose_producer::{ProducerBuilder, ProducerConfig};
//!
//! // `client`: an `aws_sdk_firehose::Client` built from your own `aws-config`.
//! let producer = ProducerBuilder::firehose(client, "ocsf-authentication")
//!     .config(ProducerConfig::default()) // aggregation on: the stream needs RecordDeAggregation
//!     .on_failure(|failed| eprintln!("not delivered: {}", failed.kind))
//!     .build()?;
//! let event = serde_json::json!({"class_uid": 3002, "time": 1682683200000_i64});
//! let delivery = producer.send(&event).await?; // waits while the buffer is full
//! delivery.outcome().await.map_err(|failed| failed.kind.code())?; // or drop it: fire and forget
//! let report = producer.shutdown().await; // delivers everything accepted
//! assert!(report.failed.is_empty());
//! # Ok(()) }
//! ```
//!
//! The public surface is what applications call: [`ProducerBuilder`], [`Producer`], the
//! [`Delivery`] of each event and the [`Report`] of `flush`/`shutdown`, the errors
//! ([`SendError`], [`TrySendError`], [`EncodeError`], [`ConfigError`]), the tuning
//! ([`ProducerConfig`]) and the metric names ([`telemetry`]).
//!
//! Inside, one module per stage: the producer's two fronts over one generic handle, the byte
//! budget and the channel to the task behind it (`producer`, `command`); event encoding with
//! `metadata.uid` stamping, size checks and the Security Lake partition group (`event`);
//! aggregation into Firehose JSON-lines records (same partition only) or KPL aggregated Kinesis
//! records (`aggregate`); packing records into calls (`batch`); one small transport per service,
//! each making one call and answering per entry, with what the service is (its limits, its
//! aggregator: `transport`, `transport/service.rs`); why events fail, typed (`failure`:
//! [`FailureKind`]); the one retry policy: partial-failure splitting, backoff with full jitter,
//! the attempt limit, the deadline and the retry budget every producer of a configuration shares
//! (`retry`); the stream worker: linger, in-flight limit, retry queue, per-event outcomes
//! (`worker`); and the lake writer (`lake`). The AWS limits are the contract crate's
//! (`ocsf_firehose_contract::limits`, also at `ocsf_firehose_transform::contract::limits`).
//!
//! Cargo features: `ocsf` (off by default): `ProducerBuilder::ocsf(engine)` gives every event
//! the transformation Lambda's verdict before accepting it, so that events the Lambda would
//! reject fail at `send` ([`SendError::Invalid`]); `local`: `ProducerBuilder::local` and
//! `::local_by_class` send into the local pipeline of `ocsf-firehose-transform`; `lake` (implies
//! `ocsf`): `ProducerBuilder::s3`, `::s3_sources` and `::dir`, each given the engine whose
//! verdict makes the rows, write zstd Parquet objects per Security Lake partition into S3 or a
//! folder ([`lake`]). Without `ocsf`, `local` and `lake`, the producer depends on
//! `ocsf-firehose-contract` alone: no OCSF schema is built into the application.
//!
//! Example program: `examples/send.rs` (JSON lines from a file or stdin to a stream).

mod aggregate;
mod batch;
mod builder;
mod command;
pub mod config;
mod event;
mod failure;
#[cfg(feature = "lake")]
pub mod lake;
mod limits;
mod outcome;
mod producer;
mod retry;
pub mod spool;
pub mod telemetry;
mod transport;
mod worker;

pub use builder::ProducerBuilder;
pub use config::{ConfigError, ProducerConfig, SharedRetryBudget};
pub use event::EncodeError;
pub use failure::{Failure, FailureKind};
pub use outcome::{Delivery, FailedEvent, FailureCallback, Report, SendError, TrySendError};
pub use producer::{Judged, Producer, Recovered};

/// The producer's stages, for its own tests and benchmarks: not part of the public API and
/// without any stability promise.
#[doc(hidden)]
pub mod internals {
    pub use crate::aggregate::{json_lines, kpl, PartitionKeyFn, Record};
    pub use crate::batch::{Batcher, CallLimits};
    pub use crate::config::Service;
    pub use crate::event::{EncodedEvent, Encoder, GroupKey};
    pub use crate::retry::{
        attempt, classify, split, Attempt, Backoff, EntryOutcome, Failure, GiveUp, Next, Payment,
        Reachability, RetryAction, RetryBudget, RetryPolicy, RetryState, Split,
    };
    pub use crate::transport::firehose::FirehoseTransport;
    pub use crate::transport::kinesis::KinesisTransport;
    #[cfg(feature = "local")]
    pub use crate::transport::local::LocalTransport;
    pub use crate::transport::Transport;
    pub use ocsf_firehose_contract::limits;

    /// A producer over any transport (the tests' mock endpoints), with the production worker.
    pub fn producer<T: Transport>(
        transport: T,
        config: crate::ProducerConfig,
    ) -> Result<crate::Producer, crate::ConfigError> {
        crate::Producer::start(transport, config, crate::producer::Hooks::default())
    }
}

//! # ocsf-firehose-producer
//!
//! Streams OCSF events into Amazon Data Firehose (Direct PUT, `PutRecordBatch`) or a Kinesis
//! data stream (`PutRecords`) that feeds Firehose, for an Amazon Security Lake custom source.
//!
//! ```no_run
//! # async fn example(client: aws_sdk_firehose::Client) -> Result<(), Box<dyn std::error::Error>> {
//! use ocsf_firehose_producer::{ProducerBuilder, ProducerConfig};
//!
//! // `client`: an `aws_sdk_firehose::Client` built from your own `aws-config`.
//! let producer = ProducerBuilder::firehose(client, "ocsf-authentication")
//!     .config(ProducerConfig::default()) // aggregation on: the stream needs RecordDeAggregation
//!     .on_failure(|failed| eprintln!("not delivered: {}", failed.code))
//!     .build()?;
//! let event = serde_json::json!({"class_uid": 3002, "time": 1682683200000_i64});
//! let delivery = producer.send(&event).await?; // waits while the buffer is full
//! delivery.outcome().await.map_err(|failed| failed.code)?; // or drop it: fire and forget
//! let report = producer.shutdown().await; // delivers everything accepted
//! assert!(report.failed.is_empty());
//! # Ok(()) }
//! ```
//!
//! Stages, one module each: the AWS [`limits`]; tuning ([`config`]); event encoding with
//! `metadata.uid` stamping, size checks and the Security Lake partition group ([`event`]);
//! aggregation into Firehose JSON-lines records (same partition only) or KPL aggregated Kinesis
//! records ([`aggregate`]); packing records into calls ([`batch`]); the retry policy: backoff
//! with full jitter, error classification, partial-failure splitting ([`retry`]); one call's
//! delivery through the SDK, resending only the failed entries ([`sink`]); and the producer
//! itself: backpressure, linger, in-flight limit, per-event outcomes ([`producer`]). Metrics and
//! tracing: [`telemetry`].
//!
//! Cargo feature `ocsf` (off by default): `ProducerBuilder::ocsf(engine)` normalizes and
//! validates every event with the OCSF engine before accepting it, so that events the
//! transformation Lambda would reject fail at `send` ([`SendError::Invalid`]).
//!
//! Example program: `examples/send.rs` (JSON lines from a file or stdin to a stream).

pub mod aggregate;
pub mod batch;
pub mod config;
pub mod event;
pub mod limits;
pub mod producer;
pub mod retry;
pub mod sink;
pub mod telemetry;
mod worker;

pub use config::{ConfigError, ProducerConfig};
pub use producer::{
    Delivery, FailedEvent, Producer, ProducerBuilder, Report, SendError, TrySendError,
};

//! # ocsf-firehose-producer
//!
//! Streams OCSF events into Amazon Data Firehose (Direct PUT, `PutRecordBatch`) or a Kinesis
//! data stream (`PutRecords`) that feeds Firehose, for an Amazon Security Lake custom source.
//!
//! **Work in progress.** Built so far, each unit-tested and SDK-independent: the AWS
//! [`limits`]; event encoding with `metadata.uid` stamping and size checks ([`event`]);
//! aggregation into Firehose JSON-lines records grouped by Security Lake partition and into KPL
//! aggregated Kinesis records ([`aggregate`]); packing records into calls within the per-call
//! limits ([`batch`]); the retry policy: exponential backoff with full jitter, error classification and
//! partial-failure splitting ([`retry`]); and delivering one call's records through the SDK
//! clients with that policy, resending only failed entries ([`sink`]). The asynchronous
//! producer (send / try_send / flush / shutdown, backpressure, linger) and metrics come next.

pub mod aggregate;
pub mod batch;
pub mod event;
pub mod limits;
pub mod retry;
pub mod sink;

//! The Firehose data-transformation contract: the Lambda handler shared by the
//! `ocsf-firehose-lambda` binary and `ocsf-firehose transform`.
//!
//! Firehose invokes the function with a batch of base64 records
//! (<https://docs.aws.amazon.com/firehose/latest/dev/data-transformation.html>); the response
//! must return every `recordId` exactly once with `Ok`, `Dropped` or `ProcessingFailed`, the
//! transformed `data`, and for `Ok` records the partition keys that the stream's
//! `!{partitionKeyFromLambda:…}` prefix uses. Stages, one module each: configuration
//! ([`config`]), the wire types ([`event`], [`response`]), one record ([`record`]), the batch with the
//! response-size guard ([`handler`]), and what is logged and counted ([`report`]); the error
//! documents Firehose writes for the records that fail ([`error_document`]).

pub mod config;
pub mod error_document;
pub mod event;
pub mod handler;
pub mod record;
pub mod report;
pub mod response;

pub use config::{EnvError, LogLevel, OnInvalid, TransformConfig};
pub use error_document::{error_documents, ErrorDocument, ErrorDocumentError};
pub use event::{FirehoseEvent, FirehoseRecord, KinesisRecordMetadata, TransformResult};
pub use handler::{HandlerError, Transformer};
pub use report::{InvocationReport, RecordFailure};
pub use response::{Base64Data, FirehoseResponse, FirehoseResponseRecord, ResponseMetadata};

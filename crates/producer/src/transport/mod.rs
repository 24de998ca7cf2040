//! Transports: one small [`Transport`] per service, each making one API call for a batch of
//! records and answering per entry, in request order: [`firehose`] (`PutRecordBatch`),
//! [`kinesis`] (`PutRecords`) and, with the feature `local`, [`local`] (the local pipeline's
//! delivery streams). They never retry: the one retry policy ([`crate::retry`]) drives any of
//! them (the SDK's own retries are disabled per call).

pub mod firehose;
pub mod kinesis;
#[cfg(feature = "local")]
pub mod local;
mod service;

pub use service::{Service, DEFAULT_KPL_TARGET_BYTES};

use std::future::Future;

use aws_sdk_firehose::config::http::HttpResponse;
use aws_sdk_firehose::error::{ProvideErrorMetadata, SdkError};

use crate::aggregate::Record;

pub use crate::failure::Failure;

/// What the service answered for one entry of a call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EntryOutcome {
    /// Accepted by the service.
    Delivered,
    /// Rejected, with the entry's error code and message.
    Failed(Failure),
}

/// One service the producer sends records to.
pub trait Transport: Send + Sync + 'static {
    /// The service, whose limits the records and calls are built to.
    fn service(&self) -> Service;

    /// The region of the stream: the transformation Lambda's last fallback for `region`.
    fn region(&self) -> Option<String>;

    /// One API call with `records`: per-entry outcomes in request order (a partial failure is
    /// an `Ok` with failed entries), or the failure of the whole call.
    fn put<Id: Sync>(
        &self,
        records: &[Record<Id>],
    ) -> impl Future<Output = Result<Vec<EntryOutcome>, Failure>> + Send;
}

/// The error code of a failed SDK call: the wire code when the response had one, else the
/// modeled error's name, else the kind of transport failure.
pub(crate) fn call_failure<E: ProvideErrorMetadata>(
    error: &SdkError<E, HttpResponse>,
    modeled: impl Fn(&E) -> Option<&'static str>,
) -> Failure {
    let fallback = match error {
        SdkError::ServiceError(service) => modeled(service.err()).unwrap_or_else(|| {
            // No error code (a gateway's 502/504, an empty 500): the HTTP status decides.
            match service.raw().status().as_u16() {
                429 => "TooManyRequests",
                500..=599 => "ServerError",
                _ => "UnknownError",
            }
        }),
        SdkError::TimeoutError(_) => "TimeoutError",
        SdkError::DispatchFailure(_) => "DispatchFailure",
        SdkError::ResponseError(_) => "ResponseError",
        SdkError::ConstructionFailure(_) => "ConstructionFailure",
        _ => "UnknownError",
    };
    Failure::service(
        error.code().unwrap_or(fallback),
        error.message().unwrap_or_default(),
    )
}

/// The request entries of `records`, one per record (`entry`: data, partition key); a record
/// the SDK refuses fails the call (`ConstructionFailure`).
pub(crate) fn request_entries<Id, T, E: std::fmt::Display>(
    records: &[Record<Id>],
    entry: impl Fn(Vec<u8>, Option<String>) -> Result<T, E>,
) -> Result<Vec<T>, Failure> {
    records
        .iter()
        .map(|r| entry(r.data.clone(), r.partition_key.clone()))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| Failure::service("ConstructionFailure", e.to_string()))
}

/// The SDK's own retries, off for a call: the retry policy decides alone (one `RetryConfig`
/// type serves every SDK crate).
pub(crate) fn no_sdk_retries() -> aws_sdk_firehose::config::retry::RetryConfig {
    aws_sdk_firehose::config::retry::RetryConfig::disabled()
}

/// One entry of a batch response: an error code and message when the entry failed.
pub(crate) trait ResponseEntry {
    /// The entry's error code, if it failed.
    fn error_code(&self) -> Option<&str>;
    /// The entry's error message.
    fn error_message(&self) -> Option<&str>;
}

/// Per-entry outcomes of a batch response, in request order.
pub(crate) fn entry_outcomes<E: ResponseEntry>(entries: &[E]) -> Vec<EntryOutcome> {
    entries
        .iter()
        .map(|entry| match entry.error_code() {
            Some(code) => EntryOutcome::Failed(Failure::service(
                code,
                entry.error_message().unwrap_or_default(),
            )),
            None => EntryOutcome::Delivered,
        })
        .collect()
}

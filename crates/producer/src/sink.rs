//! Delivering one call's records to Firehose (`PutRecordBatch`) or Kinesis (`PutRecords`),
//! with the retry policy of [`crate::retry`]: whole-call transient errors are retried with
//! backoff; a partial failure (HTTP 200 with `FailedPutCount > 0`, which the SDK does not
//! retry) resends **only** the failed entries; permanent errors fail fast; past the attempt
//! limit or the deadline the remaining records fail with the last error code.
//!
//! The SDK's own retries are disabled for these calls (per-operation config override), so
//! that one policy, this one, decides.

use aws_sdk_firehose::error::ProvideErrorMetadata;
use tokio::time::Instant;

use crate::aggregate::Record;
pub use crate::retry::Failure;
use crate::retry::{classify, split, Backoff, EntryOutcome, RetryAction};

/// Where records are sent. Users bring their own SDK clients (built from their `aws-config`).
#[derive(Debug, Clone)]
pub enum Destination {
    /// A Firehose stream with Direct PUT.
    Firehose {
        /// The client.
        client: aws_sdk_firehose::Client,
        /// Delivery stream name.
        stream: String,
    },
    /// A Kinesis data stream (feeding Firehose).
    Kinesis {
        /// The client.
        client: aws_sdk_kinesis::Client,
        /// Stream name.
        stream: String,
    },
    /// Delivery streams of the local pipeline (feature `local`): Firehose's de-aggregation →
    /// Lambda → partitioning → Parquet chain on this machine, for development and tests. Calls
    /// run the pipeline's stages on tokio's blocking pool, one at a time (under its lock).
    #[cfg(feature = "local")]
    Local {
        /// The local pipeline, shared by every producer that sends to it.
        pipeline: std::sync::Arc<std::sync::Mutex<ocsf_firehose_transform::local::LocalFirehose>>,
        /// The stream (a source name, one class per stream), or `None`: each record to the
        /// stream of its class.
        stream: Option<String>,
    },
}

/// How long and how often a call is retried.
#[derive(Debug, Clone)]
pub struct RetryPolicy {
    /// Attempts per record, the first included.
    pub max_attempts: u32,
    /// No retry starts after this deadline.
    pub deadline: Instant,
    /// Backoff between attempts.
    pub backoff: Backoff,
}

/// The outcome of delivering one call's records.
#[derive(Debug)]
pub struct CallReport<Id> {
    /// Accepted records.
    pub delivered: Vec<Record<Id>>,
    /// Records given up on, with why.
    pub failed: Vec<(Record<Id>, Failure)>,
    /// API calls made.
    pub api_calls: u32,
    /// Records sent again after a failure.
    pub retried_records: usize,
}

/// The error code of a failed call: the wire code when the response had one, else the modeled
/// error's name, else the kind of transport failure.
fn call_error<E: ProvideErrorMetadata>(
    error: &aws_sdk_firehose::error::SdkError<E, aws_sdk_firehose::config::http::HttpResponse>,
    modeled: impl Fn(&E) -> Option<&'static str>,
) -> Failure {
    use aws_sdk_firehose::error::SdkError;
    let fallback = match error {
        SdkError::ServiceError(service) => modeled(service.err()).unwrap_or("UnknownError"),
        SdkError::TimeoutError(_) => "TimeoutError",
        SdkError::DispatchFailure(_) => "DispatchFailure",
        SdkError::ResponseError(_) => "ResponseError",
        SdkError::ConstructionFailure(_) => "ConstructionFailure",
        _ => "UnknownError",
    };
    Failure::new(
        error.code().unwrap_or(fallback),
        error.message().unwrap_or_default(),
    )
}

fn firehose_error_name(
    error: &aws_sdk_firehose::operation::put_record_batch::PutRecordBatchError,
) -> Option<&'static str> {
    use aws_sdk_firehose::operation::put_record_batch::PutRecordBatchError as E;
    Some(match error {
        E::InvalidArgumentException(_) => "InvalidArgumentException",
        E::InvalidKmsResourceException(_) => "InvalidKMSResourceException",
        E::InvalidSourceException(_) => "InvalidSourceException",
        E::ResourceNotFoundException(_) => "ResourceNotFoundException",
        E::ServiceUnavailableException(_) => "ServiceUnavailableException",
        _ => return None,
    })
}

fn kinesis_error_name(
    error: &aws_sdk_kinesis::operation::put_records::PutRecordsError,
) -> Option<&'static str> {
    use aws_sdk_kinesis::operation::put_records::PutRecordsError as E;
    Some(match error {
        E::AccessDeniedException(_) => "AccessDeniedException",
        E::InternalFailureException(_) => "InternalFailureException",
        E::InvalidArgumentException(_) => "InvalidArgumentException",
        E::KmsAccessDeniedException(_) => "KMSAccessDeniedException",
        E::KmsDisabledException(_) => "KMSDisabledException",
        E::KmsInvalidStateException(_) => "KMSInvalidStateException",
        E::KmsNotFoundException(_) => "KMSNotFoundException",
        E::KmsOptInRequired(_) => "KMSOptInRequired",
        E::KmsThrottlingException(_) => "KMSThrottlingException",
        E::ProvisionedThroughputExceededException(_) => "ProvisionedThroughputExceededException",
        E::ResourceNotFoundException(_) => "ResourceNotFoundException",
        _ => return None,
    })
}

fn construction_failure(error: impl std::fmt::Display) -> Failure {
    Failure::new("ConstructionFailure", error.to_string())
}

/// Per-entry outcomes from `(error code, error message)` of each response entry.
fn entry_outcomes<'a>(
    entries: impl Iterator<Item = (Option<&'a str>, Option<&'a str>)>,
) -> Vec<EntryOutcome> {
    entries
        .map(|(code, message)| match code {
            Some(code) => EntryOutcome::Failed(Failure::new(code, message.unwrap_or_default())),
            None => EntryOutcome::Delivered,
        })
        .collect()
}

impl Destination {
    /// The region of the stream: the transformation Lambda's last fallback for `region`.
    pub fn region(&self) -> Option<String> {
        match self {
            Destination::Firehose { client, .. } => {
                client.config().region().map(ToString::to_string)
            }
            Destination::Kinesis { client, .. } => {
                client.config().region().map(ToString::to_string)
            }
            #[cfg(feature = "local")]
            Destination::Local { pipeline, .. } => {
                pipeline.lock().ok().map(|local| local.region().to_owned())
            }
        }
    }

    /// One API call; per-entry outcomes in request order.
    async fn put<Id>(&self, records: &[Record<Id>]) -> Result<Vec<EntryOutcome>, Failure> {
        match self {
            Destination::Firehose { client, stream } => {
                let entries = records
                    .iter()
                    .map(|r| {
                        aws_sdk_firehose::types::Record::builder()
                            .data(aws_sdk_firehose::primitives::Blob::new(r.data.clone()))
                            .build()
                    })
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(construction_failure)?;
                let override_retries = aws_sdk_firehose::config::Builder::default()
                    .retry_config(aws_sdk_firehose::config::retry::RetryConfig::disabled());
                let output = client
                    .put_record_batch()
                    .delivery_stream_name(stream)
                    .set_records(Some(entries))
                    .customize()
                    .config_override(override_retries)
                    .send()
                    .await
                    .map_err(|e| call_error(&e, firehose_error_name))?;
                Ok(entry_outcomes(
                    output
                        .request_responses()
                        .iter()
                        .map(|e| (e.error_code(), e.error_message())),
                ))
            }
            Destination::Kinesis { client, stream } => {
                let entries = records
                    .iter()
                    .map(|r| {
                        aws_sdk_kinesis::types::PutRecordsRequestEntry::builder()
                            .data(aws_sdk_kinesis::primitives::Blob::new(r.data.clone()))
                            .partition_key(r.partition_key.clone().unwrap_or_default())
                            .build()
                    })
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(construction_failure)?;
                let override_retries = aws_sdk_kinesis::config::Builder::default()
                    .retry_config(aws_sdk_kinesis::config::retry::RetryConfig::disabled());
                let output = client
                    .put_records()
                    .stream_name(stream)
                    .set_records(Some(entries))
                    .customize()
                    .config_override(override_retries)
                    .send()
                    .await
                    .map_err(|e| call_error(&e, kinesis_error_name))?;
                Ok(entry_outcomes(
                    output
                        .records()
                        .iter()
                        .map(|e| (e.error_code(), e.error_message())),
                ))
            }
            #[cfg(feature = "local")]
            Destination::Local { pipeline, stream } => {
                // The pipeline's stages (the handler, Parquet writes on a flush) are CPU and file
                // work: on the blocking pool, never on an async worker.
                let pipeline = std::sync::Arc::clone(pipeline);
                let stream = stream.clone();
                let data: Vec<Vec<u8>> = records.iter().map(|r| r.data.clone()).collect();
                tokio::task::spawn_blocking(move || {
                    let mut local = pipeline.lock().map_err(|_| {
                        Failure::new(
                            "LocalPipelinePoisoned",
                            "a previous call panicked inside the local pipeline",
                        )
                    })?;
                    match &stream {
                        Some(stream) => local.put_record_batch(stream, data),
                        None => local.put_routed(data),
                    }
                    .map_err(|e| Failure::new(e.code(), e.to_string()))
                })
                .await
                .map_err(|e| Failure::new("LocalPipelinePanicked", e.to_string()))??;
                Ok(vec![EntryOutcome::Delivered; records.len()])
            }
        }
    }

    /// Delivers `records` (one call's worth), retrying as [`RetryPolicy`] allows.
    pub async fn deliver<Id>(
        &self,
        mut records: Vec<Record<Id>>,
        policy: &mut RetryPolicy,
    ) -> CallReport<Id> {
        let mut report = CallReport {
            delivered: Vec::new(),
            failed: Vec::new(),
            api_calls: 0,
            retried_records: 0,
        };
        let mut attempt: u32 = 0;
        while !records.is_empty() {
            report.api_calls += 1;
            attempt += 1;
            tracing::debug!(attempt, records = records.len(), "put");
            let last = match self.put(&records).await {
                Ok(outcomes) => {
                    let split = split(records, outcomes);
                    report.delivered.extend(split.delivered);
                    if let Some((_, failure)) = split.failed.first() {
                        tracing::warn!(
                            attempt,
                            failed = split.failed.len(),
                            code = failure.code.as_str(),
                            "records failed permanently"
                        );
                    }
                    report.failed.extend(split.failed);
                    if let Some((_, failure)) = split.retry.first() {
                        tracing::warn!(
                            attempt,
                            failed = split.retry.len(),
                            code = failure.code.as_str(),
                            "partial failure: resending only the failed records"
                        );
                    }
                    let last = split.retry.first().map(|(_, failure)| failure.clone());
                    records = split.retry.into_iter().map(|(record, _)| record).collect();
                    match last {
                        Some(last) => last,
                        None => break,
                    }
                }
                Err(failure) => {
                    let fatal = classify(&failure.code) == RetryAction::Fail;
                    tracing::warn!(
                        attempt,
                        records = records.len(),
                        code = failure.code.as_str(),
                        retryable = !fatal,
                        "call failed"
                    );
                    if fatal {
                        report
                            .failed
                            .extend(records.drain(..).map(|r| (r, failure.clone())));
                        break;
                    }
                    failure
                }
            };
            let delay = policy.backoff.delay(attempt - 1);
            if attempt >= policy.max_attempts || Instant::now() + delay > policy.deadline {
                tracing::warn!(
                    attempt,
                    records = records.len(),
                    code = last.code.as_str(),
                    "giving up: attempt limit or deadline reached"
                );
                report
                    .failed
                    .extend(records.drain(..).map(|r| (r, last.clone())));
                break;
            }
            report.retried_records += records.len();
            tokio::time::sleep(delay).await;
        }
        report
    }
}

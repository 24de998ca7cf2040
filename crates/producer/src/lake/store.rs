//! Where the lake writer's objects go: an [`ObjectStore`] puts one object under one key. Two
//! stores sit behind the one writer: [`S3Store`] (the custom source's bucket, through the user's
//! `aws-sdk-s3` client: one `PutObject`, or a multipart upload for large objects) and
//! [`DirStore`] (a local folder standing in for the bucket). Every S3 request is retried alone
//! under the producer's retry policy (a failed part is sent again, not the object), and a put
//! of the same key replaces the object, so a retried upload lands once.
//!
//! We use `aws-sdk-s3` rather than the `object_store` crate: the producer already speaks to AWS
//! through the SDK (the application's credentials, region, endpoint and timeouts come with its
//! client), and its errors classify into the same retry policy as Firehose's and Kinesis's.

use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use aws_sdk_s3::config::http::HttpResponse;
use aws_sdk_s3::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{CompletedMultipartUpload, CompletedPart};

use ocsf_firehose_transform::lake::file::write_atomically;

use crate::failure::{Failure, FailureKind};
use crate::retry::{Next, RetryState};
pub use crate::retry::{Reachability, RetryBudget, RetryPolicy};
use crate::transport::call_failure;

/// The smallest part S3 accepts in a multipart upload, the last one excepted (5 MiB):
/// <https://docs.aws.amazon.com/AmazonS3/latest/userguide/qfacts.html>.
pub const S3_MIN_PART_BYTES: usize = 5 * 1024 * 1024;
/// The largest object one `PutObject` may carry (5 GiB), same page.
pub const S3_MAX_PUT_BYTES: usize = 5 * 1024 * 1024 * 1024;
/// The most parts of one multipart upload (10,000), same page.
pub const S3_MAX_PARTS: usize = 10_000;

/// Where objects are put.
pub trait ObjectStore: Send + Sync + 'static {
    /// Stores `body` under `key`, replacing any object there, retrying transient failures under
    /// `retry`.
    fn put(
        &self,
        key: &str,
        body: Vec<u8>,
        retry: RetrySettings,
    ) -> impl Future<Output = Result<(), Failure>> + Send;

    /// The region of the bucket, if known: the last fallback for an event's `region`.
    fn region(&self) -> Option<String> {
        None
    }

    /// Removes what a put of `key` cut short by a crash left behind, before the object is
    /// stored again (an S3 multipart upload never completed; a folder's hidden `.partial`
    /// file). Best effort: what stays is never visible as an object. Default: nothing.
    fn clear_interrupted(&self, key: &str) -> impl Future<Output = ()> + Send {
        let _ = key;
        std::future::ready(())
    }
}

/// How one object's requests are retried.
#[derive(Debug, Clone)]
pub struct RetrySettings {
    /// The producer's retry policy
    /// ([`ProducerConfig::retry_policy`](crate::ProducerConfig::retry_policy)), with the budget
    /// stream calls pay too; a store times each attempt with its own timeout.
    pub policy: Arc<RetryPolicy>,
    /// No retry starts after this: the deadline of the object's oldest event
    /// ([`RetryPolicy::deadline`]).
    pub deadline: tokio::time::Instant,
    /// Whether the endpoint answers, shared by every object of the writer (`None`: not
    /// tracked, requests are retried until the deadline).
    pub reachability: Option<Arc<Reachability>>,
}

/// Runs `request` until it succeeds, fails permanently, or the policy gives up: a retry is
/// paid from the shared budget, and an endpoint that has answered nothing for a while is given
/// up at once ([`Reachability`]), with the last cause.
async fn with_retries<T, F, Fut>(retry: &RetrySettings, mut request: F) -> Result<T, Failure>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, Failure>>,
{
    let reachability = retry.reachability.as_deref();
    let mut attempts = 0;
    loop {
        if let Some(failure) = reachability.and_then(Reachability::refuse) {
            return Err(failure);
        }
        attempts += 1;
        let failure = match request().await {
            Ok(value) => {
                if let Some(reachability) = reachability {
                    reachability.answered();
                }
                retry.policy.answered();
                return Ok(value);
            }
            Err(failure) => failure,
        };
        if let Some(reachability) = reachability {
            match failure.kind == FailureKind::Unreachable {
                true => reachability.unanswered(&failure),
                false => reachability.answered(),
            }
        }
        if !failure.kind.is_retryable() {
            return Err(failure);
        }
        let state = RetryState {
            attempts,
            deadline: retry.deadline,
            whole_call_failed: true,
        };
        let now = tokio::time::Instant::now();
        match retry.policy.next(state, now, fastrand::f64()) {
            Next::Retry { after, pay } => {
                tracing::debug!(code = failure.code(), attempts, "S3 request retried");
                tokio::time::sleep(after).await;
                if pay && retry.policy.paid(retry.deadline).await.is_err() {
                    return Err(failure);
                }
            }
            Next::GiveUp(_) => return Err(failure),
        }
    }
}

/// Sends an S3 request with the store's overrides (its attempt timeout, the SDK's retries
/// off), its error mapped by [`s3_failure`].
macro_rules! send {
    ($store:expr, $request:expr) => {
        $request
            .customize()
            .config_override($store.overrides())
            .send()
            .await
            .map_err(|e| s3_failure(&e))
    };
}

/// The error of a failed S3 request: the one mapping of every SDK call's error
/// (`transport::call_failure`: the code, or for an answer without one its HTTP status, or the
/// kind of failure without an answer), and for an empty message the SDK's whole cause (the
/// connection refused, the DNS name not found, …).
fn s3_failure<E>(error: &SdkError<E, HttpResponse>) -> Failure
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    let mut failure = call_failure(error, |_| None);
    if failure.message.is_empty() {
        failure.message = aws_sdk_s3::error::DisplayErrorContext(error).to_string();
    }
    failure
}

/// The custom source's bucket, through the user's S3 client.
#[derive(Debug, Clone)]
pub struct S3Store {
    client: aws_sdk_s3::Client,
    bucket: String,
    multipart_threshold: usize,
    part_bytes: usize,
    attempt_timeout: Duration,
    endpoint_label: Option<String>,
}

impl S3Store {
    /// Objects larger than this go up in parts (16 MiB).
    pub const DEFAULT_MULTIPART_THRESHOLD: usize = 16 * 1024 * 1024;
    /// The size of each part (8 MiB).
    pub const DEFAULT_PART_BYTES: usize = 8 * 1024 * 1024;
    /// How long one request may take before it is abandoned and retried (a stalled connection
    /// must not hold an object forever): 60 s.
    pub const DEFAULT_ATTEMPT_TIMEOUT: Duration = Duration::from_secs(60);

    /// Puts objects into `bucket` with `client`.
    pub fn new(client: aws_sdk_s3::Client, bucket: impl Into<String>) -> Self {
        S3Store {
            client,
            bucket: bucket.into(),
            multipart_threshold: Self::DEFAULT_MULTIPART_THRESHOLD,
            part_bytes: Self::DEFAULT_PART_BYTES,
            attempt_timeout: Self::DEFAULT_ATTEMPT_TIMEOUT,
            endpoint_label: None,
        }
    }

    /// How errors name the endpoint (the client's custom endpoint URL, say); by default
    /// `S3 in <region>`.
    pub fn endpoint_label(mut self, label: impl Into<String>) -> Self {
        self.endpoint_label = Some(label.into());
        self
    }

    /// Multipart above `threshold` bytes, in parts of `part_bytes` (at least S3's 5 MiB).
    pub fn multipart(mut self, threshold: usize, part_bytes: usize) -> Self {
        self.part_bytes = part_bytes.max(S3_MIN_PART_BYTES);
        self.multipart_threshold = threshold.clamp(self.part_bytes, S3_MAX_PUT_BYTES);
        self
    }

    /// The timeout of one request attempt.
    pub fn attempt_timeout(mut self, timeout: Duration) -> Self {
        self.attempt_timeout = timeout;
        self
    }

    /// The SDK's own retries off (the policy decides alone) and the attempt timeout on.
    fn overrides(&self) -> aws_sdk_s3::config::Builder {
        aws_sdk_s3::config::Builder::default()
            .retry_config(aws_sdk_s3::config::retry::RetryConfig::disabled())
            .timeout_config(
                aws_sdk_s3::config::timeout::TimeoutConfig::builder()
                    .operation_attempt_timeout(self.attempt_timeout)
                    .build(),
            )
    }

    async fn put_whole(
        &self,
        key: &str,
        body: Vec<u8>,
        retry: &RetrySettings,
    ) -> Result<(), Failure> {
        with_retries(retry, || async {
            send!(
                self,
                self.client
                    .put_object()
                    .bucket(&self.bucket)
                    .key(key)
                    .content_type("application/vnd.apache.parquet")
                    .body(ByteStream::from(body.clone()))
            )
            .map(|_| ())
        })
        .await
    }

    async fn put_parts(
        &self,
        key: &str,
        body: Vec<u8>,
        retry: &RetrySettings,
    ) -> Result<(), Failure> {
        let part_bytes = self.part_bytes.max(body.len().div_ceil(S3_MAX_PARTS));
        let upload = with_retries(retry, || async {
            send!(
                self,
                self.client
                    .create_multipart_upload()
                    .bucket(&self.bucket)
                    .key(key)
                    .content_type("application/vnd.apache.parquet")
            )
        })
        .await?;
        let Some(upload_id) = upload.upload_id().map(str::to_owned) else {
            return Err(Failure::own(
                FailureKind::ServiceError,
                "no upload id in the answer",
            ));
        };
        let mut parts = Vec::new();
        let mut result = Ok(());
        for (index, chunk) in body.chunks(part_bytes).enumerate() {
            let number = i32::try_from(index + 1).unwrap_or(i32::MAX);
            let uploaded = with_retries(retry, || async {
                send!(
                    self,
                    self.client
                        .upload_part()
                        .bucket(&self.bucket)
                        .key(key)
                        .upload_id(&upload_id)
                        .part_number(number)
                        .body(ByteStream::from(chunk.to_vec()))
                )
            })
            .await;
            match uploaded {
                Ok(part) => parts.push(
                    CompletedPart::builder()
                        .part_number(number)
                        .set_e_tag(part.e_tag().map(str::to_owned))
                        .build(),
                ),
                Err(failure) => {
                    result = Err(failure);
                    break;
                }
            }
        }
        if result.is_ok() {
            let completed = CompletedMultipartUpload::builder()
                .set_parts(Some(parts))
                .build();
            result = with_retries(retry, || async {
                send!(
                    self,
                    self.client
                        .complete_multipart_upload()
                        .bucket(&self.bucket)
                        .key(key)
                        .upload_id(&upload_id)
                        .multipart_upload(completed.clone())
                )
                .map(|_| ())
            })
            .await;
        }
        if result.is_err() {
            // Best effort: an abandoned upload's parts would otherwise be billed until a
            // lifecycle rule removes them.
            let _ = send!(
                self,
                self.client
                    .abort_multipart_upload()
                    .bucket(&self.bucket)
                    .key(key)
                    .upload_id(&upload_id)
            );
        }
        result
    }
}

impl ObjectStore for S3Store {
    async fn put(&self, key: &str, body: Vec<u8>, retry: RetrySettings) -> Result<(), Failure> {
        let result = if body.len() > self.multipart_threshold {
            self.put_parts(key, body, &retry).await
        } else {
            self.put_whole(key, body, &retry).await
        };
        result.map_err(|failure| {
            // Where it was going, so that an operator sees which endpoint did not answer.
            let endpoint = self.endpoint_label.clone().unwrap_or_else(|| {
                let region = self.client.config().region().map(ToString::to_string);
                format!(
                    "S3 in {}",
                    region.as_deref().unwrap_or("the default region")
                )
            });
            Failure {
                message: format!("{endpoint} (bucket {}): {}", self.bucket, failure.message),
                ..failure
            }
        })
    }

    fn region(&self) -> Option<String> {
        self.client.config().region().map(ToString::to_string)
    }

    /// Aborts the multipart uploads of `key` never completed (billed until a lifecycle rule
    /// removes them).
    async fn clear_interrupted(&self, key: &str) {
        let listed = send!(
            self,
            self.client
                .list_multipart_uploads()
                .bucket(&self.bucket)
                .prefix(key)
        );
        let uploads = match listed {
            Ok(listed) => listed.uploads().to_vec(),
            Err(failure) => {
                tracing::warn!(code = failure.code(), "multipart uploads not listed");
                return;
            }
        };
        for upload in uploads.iter().filter(|u| u.key() == Some(key)) {
            let Some(upload_id) = upload.upload_id() else {
                continue;
            };
            let aborted = send!(
                self,
                self.client
                    .abort_multipart_upload()
                    .bucket(&self.bucket)
                    .key(key)
                    .upload_id(upload_id)
            );
            match aborted {
                Ok(_) => tracing::info!("interrupted multipart upload aborted"),
                Err(failure) => {
                    tracing::warn!(code = failure.code(), "multipart upload not aborted")
                }
            }
        }
    }
}

/// A local folder standing in for the bucket: each key a file below `root`, written whole or
/// not at all ([`write_atomically`]).
#[derive(Debug, Clone)]
pub struct DirStore {
    root: PathBuf,
    region: Option<String>,
}

impl DirStore {
    /// Objects go below `root`.
    pub fn new(root: impl Into<PathBuf>) -> Self {
        DirStore {
            root: root.into(),
            region: None,
        }
    }

    /// The region of the bucket the folder stands in for: the last fallback for an event's
    /// `region`, as an S3 store's client region is.
    pub fn in_region(mut self, region: impl Into<String>) -> Self {
        self.region = Some(region.into());
        self
    }
}

impl ObjectStore for DirStore {
    async fn put(&self, key: &str, body: Vec<u8>, _retry: RetrySettings) -> Result<(), Failure> {
        let path = self.root.join(key);
        let target = path.clone();
        // Complete or absent, even on a full disk (no `.partial` left behind).
        let written = tokio::task::spawn_blocking(move || write_atomically(&target, &body)).await;
        let error = match written {
            Ok(Ok(())) => return Ok(()),
            Ok(Err(error)) => error.to_string(),
            Err(_) => "the writing task failed".to_owned(),
        };
        Err(Failure::own(
            FailureKind::NotWritable,
            format!("{}: {error}", path.display()),
        ))
    }

    fn region(&self) -> Option<String> {
        self.region.clone()
    }

    /// Removes the hidden `.partial` files of `key` (`write_atomically`'s temporary names).
    async fn clear_interrupted(&self, key: &str) {
        let path = self.root.join(key);
        let (Some(folder), Some(name)) = (path.parent(), path.file_name()) else {
            return;
        };
        let prefix = format!(".{}.", name.to_string_lossy());
        let Ok(entries) = std::fs::read_dir(folder) else {
            return;
        };
        for entry in entries.flatten() {
            let file = entry.file_name().to_string_lossy().into_owned();
            if file.starts_with(&prefix) && file.ends_with(".partial") {
                let _ = std::fs::remove_file(entry.path());
            }
        }
    }
}

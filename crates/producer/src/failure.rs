//! Why events were not delivered, typed: a [`FailureKind`] an application matches on, with a
//! stable [`code`](FailureKind::code) for logs and metrics, and the service's own error code as a
//! detail. One table ([`FailureKind::of_service_code`]) turns every AWS error code the producer
//! meets (Firehose, Kinesis, S3, and the SDK's own for calls without an answer) into its kind,
//! and the retry policy retries by kind, so every transport and the S3 store answer alike.
//!
//! | kind | code | retried | what |
//! |---|---|---|---|
//! | [`Throttled`](FailureKind::Throttled) | `throttled` | yes | the service asked to slow down (`ProvisionedThroughputExceededException`, `ThrottlingException`, `SlowDown`, HTTP 429, …) |
//! | [`ServiceError`](FailureKind::ServiceError) | `service_error` | yes | the service failed (`ServiceUnavailableException`, `InternalFailure`, `InternalError`, HTTP 5xx, …) |
//! | [`Timeout`](FailureKind::Timeout) | `timeout` | yes | the service timed the request out (`RequestTimeout`) |
//! | [`Unreachable`](FailureKind::Unreachable) | `unreachable` | yes | no answer: the connection failed (`DispatchFailure`), the answer was unreadable (`ResponseError`), or the call went unanswered past the attempt timeout (`TimeoutError`); an endpoint unreachable for long is given up at once |
//! | [`AccessDenied`](FailureKind::AccessDenied) | `access_denied` | no | credentials, permissions or the KMS key refused (`AccessDeniedException`, `ExpiredToken`, `KMSAccessDeniedException`, …) |
//! | [`NotFound`](FailureKind::NotFound) | `not_found` | no | no such stream or bucket (`ResourceNotFoundException`, `NoSuchBucket`) |
//! | [`Rejected`](FailureKind::Rejected) | `rejected` | no | any other refusal (`InvalidArgumentException`, `ValidationException`, an unknown code) |
//! | [`NotWritable`](FailureKind::NotWritable) | `not_writable` | no | the lake writer could not make or store the object (Parquet encoding, the local folder) |
//! | [`NoDestination`](FailureKind::NoDestination) | `no_destination` | no | the lake writer has no table or source location for the event's class |
//! | [`ProducerClosed`](FailureKind::ProducerClosed) | `producer_closed` | no | the producer stopped before the event was resolved |

use std::fmt;

/// Why an event was not delivered (see the module's table).
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FailureKind {
    /// The service asked to slow down.
    Throttled,
    /// The service failed (5xx).
    ServiceError,
    /// The service timed the request out.
    Timeout,
    /// No answer from the endpoint.
    Unreachable,
    /// Credentials, permissions or the KMS key refused.
    AccessDenied,
    /// No such stream or bucket.
    NotFound,
    /// Any other refusal.
    Rejected,
    /// The lake writer could not make or store the object.
    NotWritable,
    /// The lake writer has no table or location for the event's class.
    NoDestination,
    /// The producer stopped before the event was resolved.
    ProducerClosed,
}

impl FailureKind {
    /// The stable machine-readable code (`throttled`, `access_denied`, …).
    pub fn code(self) -> &'static str {
        match self {
            FailureKind::Throttled => "throttled",
            FailureKind::ServiceError => "service_error",
            FailureKind::Timeout => "timeout",
            FailureKind::Unreachable => "unreachable",
            FailureKind::AccessDenied => "access_denied",
            FailureKind::NotFound => "not_found",
            FailureKind::Rejected => "rejected",
            FailureKind::NotWritable => "not_writable",
            FailureKind::NoDestination => "no_destination",
            FailureKind::ProducerClosed => "producer_closed",
        }
    }

    /// Whether a failure of this kind is worth retrying (transient).
    pub fn is_retryable(self) -> bool {
        matches!(
            self,
            FailureKind::Throttled
                | FailureKind::ServiceError
                | FailureKind::Timeout
                | FailureKind::Unreachable
        )
    }

    /// The kind of an AWS error code: a whole call's, an entry's inside a partial failure, an
    /// S3 request's (<https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html>), or
    /// the SDK's own for a call without an answer. Unknown codes are [`FailureKind::Rejected`].
    pub fn of_service_code(code: &str) -> FailureKind {
        match code {
            "ProvisionedThroughputExceededException"
            | "ThrottlingException"
            | "Throttling"
            | "ThrottledException"
            | "RequestLimitExceeded"
            | "LimitExceededException"
            | "KMSThrottlingException"
            | "TooManyRequests"
            | "SlowDown" => FailureKind::Throttled,
            "ServiceUnavailableException"
            | "ServiceUnavailable"
            | "InternalFailure"
            | "InternalServerError"
            | "InternalFailureException"
            | "InternalError"
            | "ServerError"
            | "OperationAborted" => FailureKind::ServiceError,
            "RequestTimeout" | "RequestTimeoutException" => FailureKind::Timeout,
            "DispatchFailure" | "ResponseError" | "TimeoutError" => FailureKind::Unreachable,
            "AccessDenied"
            | "AccessDeniedException"
            | "UnrecognizedClientException"
            | "InvalidClientTokenId"
            | "InvalidAccessKeyId"
            | "SignatureDoesNotMatch"
            | "ExpiredToken"
            | "ExpiredTokenException"
            | "KMSAccessDeniedException"
            | "KMSDisabledException"
            | "KMSInvalidStateException"
            | "KMSNotFoundException"
            | "InvalidKMSResourceException" => FailureKind::AccessDenied,
            "ResourceNotFoundException" | "NoSuchBucket" => FailureKind::NotFound,
            _ => FailureKind::Rejected,
        }
    }
}

impl fmt::Display for FailureKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// Why records (or an object) were not delivered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// The kind.
    pub kind: FailureKind,
    /// The service's error code, as received (`ThrottlingException`, `SlowDown`, the SDK's
    /// `DispatchFailure`…); `None` for the producer's own failures.
    pub service_code: Option<String>,
    /// Explanation (never event contents).
    pub message: String,
}

impl Failure {
    /// A failure the service (or the SDK) reported with `code`, of the kind the code has.
    pub fn service(code: impl Into<String>, message: impl Into<String>) -> Failure {
        let code = code.into();
        Failure {
            kind: FailureKind::of_service_code(&code),
            service_code: Some(code),
            message: message.into(),
        }
    }

    /// One of the producer's own failures.
    pub fn own(kind: FailureKind, message: impl Into<String>) -> Failure {
        Failure {
            kind,
            service_code: None,
            message: message.into(),
        }
    }

    /// The service's code if there is one, else the kind's: for logs.
    pub fn code(&self) -> &str {
        self.service_code.as_deref().unwrap_or(self.kind.code())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn service_codes_have_one_kind_and_retries_follow_the_kind() {
        for (code, kind) in [
            (
                "ProvisionedThroughputExceededException",
                FailureKind::Throttled,
            ),
            ("SlowDown", FailureKind::Throttled),
            ("InternalError", FailureKind::ServiceError),
            ("ServiceUnavailableException", FailureKind::ServiceError),
            ("RequestTimeout", FailureKind::Timeout),
            ("DispatchFailure", FailureKind::Unreachable),
            ("TimeoutError", FailureKind::Unreachable),
            ("AccessDeniedException", FailureKind::AccessDenied),
            ("ResourceNotFoundException", FailureKind::NotFound),
            ("InvalidArgumentException", FailureKind::Rejected),
            ("SomethingNew", FailureKind::Rejected),
        ] {
            assert_eq!(FailureKind::of_service_code(code), kind, "{code}");
            let failure = Failure::service(code, "m");
            assert_eq!((failure.kind, failure.code()), (kind, code));
        }
        assert!(FailureKind::Throttled.is_retryable() && FailureKind::Unreachable.is_retryable());
        assert!(!FailureKind::AccessDenied.is_retryable() && !FailureKind::Rejected.is_retryable());
        let own = Failure::own(FailureKind::ProducerClosed, "stopped");
        assert_eq!(
            (own.code(), own.service_code.as_deref()),
            ("producer_closed", None)
        );
    }
}

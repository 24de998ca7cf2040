//! The retry policy: which errors are worth retrying, exponential backoff with full jitter,
//! and the split of a partially failed call so that only the failed entries are sent again
//! (never the delivered ones: no duplicates from retries).

use std::time::Duration;

/// What to do about an error code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RetryAction {
    /// Transient (throttling, internal errors, timeouts): retry with backoff.
    Retry,
    /// Permanent (access denied, no such stream, invalid request): fail the events now.
    Fail,
}

/// Classifies an AWS error code (of a whole call, or of one entry of a partial failure).
pub fn classify(code: &str) -> RetryAction {
    match code {
        "ServiceUnavailableException"
        | "ServiceUnavailable"
        | "InternalFailure"
        | "InternalServerError"
        | "InternalFailureException"
        | "ProvisionedThroughputExceededException"
        | "ThrottlingException"
        | "Throttling"
        | "ThrottledException"
        | "RequestLimitExceeded"
        | "LimitExceededException"
        | "KMSThrottlingException"
        | "RequestTimeout"
        | "RequestTimeoutException"
        | "TimeoutError"
        | "DispatchFailure"
        | "ResponseError" => RetryAction::Retry,
        _ => RetryAction::Fail,
    }
}

/// Exponential backoff with full jitter: attempt `n` waits a uniformly random time in
/// `[0, min(max, base × 2ⁿ)]`
/// (<https://aws.amazon.com/blogs/architecture/exponential-backoff-and-jitter/>).
#[derive(Debug, Clone)]
pub struct Backoff {
    base: Duration,
    max: Duration,
    rng: fastrand::Rng,
}

impl Backoff {
    /// A backoff starting at `base`, capped at `max`.
    pub fn new(base: Duration, max: Duration) -> Self {
        Backoff {
            base,
            max,
            rng: fastrand::Rng::new(),
        }
    }

    /// The same with a seeded random source (deterministic tests).
    pub fn with_seed(base: Duration, max: Duration, seed: u64) -> Self {
        Backoff {
            base,
            max,
            rng: fastrand::Rng::with_seed(seed),
        }
    }

    /// The ceiling of attempt `attempt` (0-based): `min(max, base × 2^attempt)`.
    pub fn ceiling(&self, attempt: u32) -> Duration {
        let factor = 1u32.checked_shl(attempt.min(31)).unwrap_or(u32::MAX);
        self.base.saturating_mul(factor).min(self.max)
    }

    /// The delay before retry number `attempt` (0-based).
    pub fn delay(&mut self, attempt: u32) -> Duration {
        let ceiling = u64::try_from(self.ceiling(attempt).as_micros()).unwrap_or(u64::MAX);
        Duration::from_micros(self.rng.u64(0..=ceiling))
    }
}

/// Why records were not delivered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// The AWS error code (or `TimeoutError`, `DispatchFailure`, …).
    pub code: String,
    /// The service's message.
    pub message: String,
}

impl Failure {
    /// A failure with this code and message.
    pub fn new(code: impl Into<String>, message: impl Into<String>) -> Failure {
        Failure {
            code: code.into(),
            message: message.into(),
        }
    }
}

/// What the service answered for one entry of a call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EntryOutcome {
    /// Accepted by the service.
    Delivered,
    /// Rejected, with the entry's error code and message.
    Failed(Failure),
}

/// A call's entries sorted by what happens next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Split<T> {
    /// Accepted: done.
    pub delivered: Vec<T>,
    /// To send again, with why they failed.
    pub retry: Vec<(T, Failure)>,
    /// Failed for good, with why.
    pub failed: Vec<(T, Failure)>,
}

/// Splits `entries` by their `outcomes` (same order, as `PutRecordBatch`/`PutRecords` answer).
/// Entries without an outcome (a malformed response) are retried: nothing is assumed delivered.
pub fn split<T>(entries: Vec<T>, outcomes: Vec<EntryOutcome>) -> Split<T> {
    let mut result = Split {
        delivered: Vec::new(),
        retry: Vec::new(),
        failed: Vec::new(),
    };
    let mut outcomes = outcomes.into_iter();
    for entry in entries {
        match outcomes.next() {
            Some(EntryOutcome::Delivered) => result.delivered.push(entry),
            Some(EntryOutcome::Failed(failure)) => match classify(&failure.code) {
                RetryAction::Retry => result.retry.push((entry, failure)),
                RetryAction::Fail => result.failed.push((entry, failure)),
            },
            None => result.retry.push((
                entry,
                Failure::new(
                    "MissingEntryResult",
                    "the response had no entry for this record",
                ),
            )),
        }
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transient_codes_retry_and_the_rest_fail_fast() {
        for code in [
            "ServiceUnavailableException",
            "InternalFailure",
            "ProvisionedThroughputExceededException",
            "ThrottlingException",
            "KMSThrottlingException",
        ] {
            assert_eq!(classify(code), RetryAction::Retry, "{code}");
        }
        for code in [
            "AccessDeniedException",
            "ResourceNotFoundException",
            "InvalidArgumentException",
            "ValidationException",
            "KMSAccessDeniedException",
            "KMSDisabledException",
        ] {
            assert_eq!(classify(code), RetryAction::Fail, "{code}");
        }
    }

    #[test]
    fn full_jitter_stays_under_an_exponential_ceiling() {
        let mut backoff = Backoff::with_seed(Duration::from_millis(100), Duration::from_secs(5), 7);
        assert_eq!(backoff.ceiling(0), Duration::from_millis(100));
        assert_eq!(backoff.ceiling(3), Duration::from_millis(800));
        assert_eq!(backoff.ceiling(10), Duration::from_secs(5));
        assert_eq!(backoff.ceiling(u32::MAX), Duration::from_secs(5));
        let delays: Vec<Duration> = (0..200).map(|_| backoff.delay(4)).collect();
        assert!(delays.iter().all(|d| *d <= Duration::from_millis(1_600)));
        let distinct: std::collections::BTreeSet<_> = delays.iter().collect();
        assert!(distinct.len() > 150, "jittered, not fixed");
        let mut again = Backoff::with_seed(Duration::from_millis(100), Duration::from_secs(5), 7);
        assert_eq!(again.delay(4), delays[0], "deterministic with a seed");
    }

    #[test]
    fn partial_failures_resend_only_the_failed_entries() {
        let outcomes = vec![
            EntryOutcome::Delivered,
            EntryOutcome::Failed(Failure::new("ServiceUnavailableException", "slow down")),
            EntryOutcome::Delivered,
            EntryOutcome::Failed(Failure::new("AccessDeniedException", "no")),
        ];
        let split = split(vec!["a", "b", "c", "d", "e"], outcomes);
        let codes = |entries: &[(&'static str, Failure)]| -> Vec<(&'static str, String)> {
            entries.iter().map(|(e, f)| (*e, f.code.clone())).collect()
        };
        assert_eq!(split.delivered, ["a", "c"]);
        assert_eq!(
            codes(&split.retry),
            [
                ("b", "ServiceUnavailableException".to_owned()),
                ("e", "MissingEntryResult".to_owned())
            ]
        );
        assert_eq!(
            codes(&split.failed),
            [("d", "AccessDeniedException".to_owned())]
        );
        assert_eq!(
            split.retry[0].1.message, "slow down",
            "each entry keeps its own message"
        );
    }
}

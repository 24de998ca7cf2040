//! The retry policy, separate from the transports it drives (as tower's `retry::Policy` is from
//! the service): which errors are worth retrying ([`classify`]), the split of a partially failed
//! call so that only the failed entries are sent again, never the delivered ones ([`split`]),
//! exponential backoff with full jitter ([`Backoff`]), and when to stop ([`RetryPolicy`]).

use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;

use super::budget::RetryBudget;

pub use crate::transport::{EntryOutcome, Failure};

/// What to do about an error code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RetryAction {
    /// Transient (throttling, internal errors, timeouts): retry with backoff.
    Retry,
    /// Permanent (access denied, no such stream, invalid request): fail the events now.
    Fail,
}

/// Classifies an AWS error code (of a whole call, or of one entry of a partial failure) by its
/// kind ([`FailureKind::of_service_code`](crate::failure::FailureKind::of_service_code)).
pub fn classify(code: &str) -> RetryAction {
    if crate::failure::FailureKind::of_service_code(code).is_retryable() {
        RetryAction::Retry
    } else {
        RetryAction::Fail
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

/// Why records are given up: out of attempts or time.
const GIVE_UP_LIMIT: &str = "attempt limit or deadline reached";
/// Why records are given up: no retry could be paid for in time.
pub(crate) const GIVE_UP_BUDGET: &str = "the retry budget stayed empty until the deadline";

/// What happens to records after a failed attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Next {
    /// Send them again `after` this wait; `paid: false` when the retry still has to be paid
    /// from the budget then ([`RetryPolicy::try_pay`]).
    Retry {
        /// The wait.
        after: Duration,
        /// Whether the budget has paid for it.
        paid: bool,
    },
    /// Fail them, for this reason.
    GiveUp(&'static str),
}

/// The budget's answer to a retry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Payment {
    /// Paid: retry.
    Paid,
    /// Empty: ask again after this wait.
    Wait(Duration),
    /// It cannot pay before the deadline.
    Never,
}

/// How long and how often a call's records are retried.
#[derive(Debug, Clone)]
pub struct RetryPolicy {
    /// Attempts per record, the first included; `None`: no limit, retryable failures are
    /// retried until the deadline.
    pub max_attempts: Option<u32>,
    /// No retry starts after this deadline.
    pub deadline: Instant,
    /// Backoff between attempts.
    pub backoff: Backoff,
    /// The retry budget shared with the other calls (`None`: retries are not rationed).
    pub budget: Option<Arc<RetryBudget>>,
    /// How long one attempt may go unanswered ([`RetryPolicy::attempt_limit`]).
    pub attempt_timeout: Duration,
}

/// The least time an attempt is given, even at or past the deadline: a call is tried once.
pub const MIN_ATTEMPT_TIMEOUT: Duration = Duration::from_secs(1);

/// How long an attempt starting now may take: `attempt_timeout`, cut to what is left before
/// `deadline` (an attempt in flight counts against it), never under [`MIN_ATTEMPT_TIMEOUT`].
pub fn attempt_limit(attempt_timeout: Duration, deadline: Instant) -> Duration {
    let left = deadline.saturating_duration_since(Instant::now());
    attempt_timeout.min(left).max(MIN_ATTEMPT_TIMEOUT)
}

impl RetryPolicy {
    /// How long the next attempt may take ([`attempt_limit`] of this policy's timeout and
    /// deadline).
    pub fn attempt_limit(&self) -> Duration {
        attempt_limit(self.attempt_timeout, self.deadline)
    }

    /// The wait before the next attempt after `attempts` attempts (`attempts` ≥ 1), or `None`
    /// when the policy gives up: the attempt limit is reached, or the retry would start past
    /// the deadline.
    pub fn next_delay(&mut self, attempts: u32) -> Option<Duration> {
        let delay = self.backoff.delay(attempts.saturating_sub(1));
        let attempts_left = self.max_attempts.is_none_or(|max| attempts < max);
        (attempts_left && Instant::now() + delay <= self.deadline).then_some(delay)
    }

    /// What happens to records that failed their `attempts`-th attempt: the retry after a
    /// backoff, or giving up (the attempt limit, the deadline). Retrying a failed call
    /// (`whole_call`) is paid from the shared budget, or waits until it can be; entries failed
    /// inside an answer are resent unrationed: the endpoint answered, and asked for them again.
    pub fn after_failure(&mut self, attempts: u32, whole_call: bool) -> Next {
        let Some(delay) = self.next_delay(attempts) else {
            return Next::GiveUp(GIVE_UP_LIMIT);
        };
        if !whole_call {
            return Next::Retry {
                after: delay,
                paid: true,
            };
        }
        match self.try_pay() {
            Payment::Paid => Next::Retry {
                after: delay,
                paid: true,
            },
            Payment::Wait(wait) => Next::Retry {
                after: delay.max(wait),
                paid: false,
            },
            Payment::Never => Next::GiveUp(GIVE_UP_BUDGET),
        }
    }

    /// Pays for a retry from the shared budget, now or after a wait, or never before the
    /// deadline.
    pub fn try_pay(&self) -> Payment {
        let Some(budget) = &self.budget else {
            return Payment::Paid;
        };
        match budget.withdraw() {
            Ok(()) => Payment::Paid,
            Err(wait) if Instant::now() + wait > self.deadline => Payment::Never,
            Err(wait) => Payment::Wait(wait),
        }
    }

    /// Pays for a retry, waiting while the budget is empty; `Err` with why when it could not be
    /// paid before the deadline.
    pub async fn pay_for_retry(&self) -> Result<(), &'static str> {
        loop {
            match self.try_pay() {
                Payment::Paid => return Ok(()),
                Payment::Wait(wait) => tokio::time::sleep(wait).await,
                Payment::Never => return Err(GIVE_UP_BUDGET),
            }
        }
    }
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
            Some(EntryOutcome::Failed(failure)) => match classify(failure.code()) {
                RetryAction::Retry => result.retry.push((entry, failure)),
                RetryAction::Fail => result.failed.push((entry, failure)),
            },
            None => result.retry.push((
                entry,
                Failure::service(
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

    #[tokio::test(start_paused = true)]
    async fn the_policy_gives_up_at_the_attempt_limit_or_the_deadline() {
        let backoff = Backoff::with_seed(Duration::from_millis(100), Duration::from_secs(5), 3);
        let mut limited = RetryPolicy {
            max_attempts: Some(3),
            deadline: Instant::now() + Duration::from_secs(3600),
            backoff: backoff.clone(),
            budget: None,
            attempt_timeout: Duration::from_secs(20),
        };
        assert!(limited.next_delay(1).is_some());
        assert!(limited.next_delay(2).is_some());
        assert_eq!(limited.next_delay(3), None, "three attempts made");
        let mut late = RetryPolicy {
            max_attempts: None,
            deadline: Instant::now() + Duration::from_millis(150),
            backoff,
            budget: None,
            attempt_timeout: Duration::from_secs(20),
        };
        assert_eq!(
            late.attempt_limit(),
            MIN_ATTEMPT_TIMEOUT,
            "an attempt in flight counts against the deadline (at least a second)"
        );
        assert_eq!(limited.attempt_limit(), Duration::from_secs(20));
        let first = late.next_delay(1).unwrap();
        assert!(first <= Duration::from_millis(100));
        tokio::time::advance(Duration::from_millis(200)).await;
        assert_eq!(late.next_delay(2), None, "past the deadline");
    }

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
            EntryOutcome::Failed(Failure::service("ServiceUnavailableException", "slow down")),
            EntryOutcome::Delivered,
            EntryOutcome::Failed(Failure::service("AccessDeniedException", "no")),
        ];
        let split = split(vec!["a", "b", "c", "d", "e"], outcomes);
        let codes = |entries: &[(&'static str, Failure)]| -> Vec<(&'static str, String)> {
            entries
                .iter()
                .map(|(e, f)| (*e, f.code().to_owned()))
                .collect()
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

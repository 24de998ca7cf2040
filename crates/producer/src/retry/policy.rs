//! The retry policy, separate from the drivers that follow it (as tower's `retry::Policy` is
//! from the service): which errors are worth retrying ([`classify`]), the split of a partially
//! failed call so that only the failed entries are sent again, never the delivered ones
//! ([`split`]), exponential backoff with full jitter ([`Backoff`]), and what follows a failed
//! attempt ([`RetryPolicy::next`], a pure decision over a [`RetryState`]).
//!
//! The policy holds settings only and is built once from the configuration
//! ([`ProducerConfig::retry_policy`](crate::ProducerConfig::retry_policy)); what changes
//! (attempts made, the deadline) is the driver's [`RetryState`], and the one shared thing, the
//! retry budget, is paid through [`RetryPolicy::pay`] when a retry is due.

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

/// Exponential backoff with full jitter: retry `n` (0-based) waits a uniformly random time in
/// `[0, min(max, base × 2ⁿ)]`
/// (<https://aws.amazon.com/blogs/architecture/exponential-backoff-and-jitter/>). The random
/// draw is the caller's, so that the wait is a pure function of its inputs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    base: Duration,
    max: Duration,
}

impl Backoff {
    /// A backoff starting at `base`, capped at `max`.
    pub fn new(base: Duration, max: Duration) -> Self {
        Backoff { base, max }
    }

    /// The ceiling of retry `retry` (0-based): `min(max, base × 2^retry)`.
    pub fn ceiling(&self, retry: u32) -> Duration {
        let factor = 1u32.checked_shl(retry.min(31)).unwrap_or(u32::MAX);
        self.base.saturating_mul(factor).min(self.max)
    }

    /// The wait before retry `retry` (0-based) for a uniform draw `jitter` in `[0, 1]` (clamped
    /// there): `ceiling(retry) × jitter`.
    pub fn delay(&self, retry: u32, jitter: f64) -> Duration {
        let jitter = if jitter.is_nan() {
            0.0
        } else {
            jitter.clamp(0.0, 1.0)
        };
        self.ceiling(retry).mul_f64(jitter)
    }
}

/// Why records are given up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GiveUp {
    /// They have had the configured number of attempts.
    AttemptLimit,
    /// The next retry would start after their deadline.
    Deadline,
    /// No retry could be paid for before the deadline: the budget stayed empty.
    Budget,
}

impl GiveUp {
    /// The reason, as logged.
    pub fn as_str(self) -> &'static str {
        match self {
            GiveUp::AttemptLimit => "attempt limit reached",
            GiveUp::Deadline => "the next retry would start after the deadline",
            GiveUp::Budget => "the retry budget stayed empty until the deadline",
        }
    }
}

/// Where one unit of retries stands after a failed attempt: a call's records in the worker's
/// queue, or one S3 request of the lake writer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryState {
    /// Attempts made so far, the failed one included (at least 1).
    pub attempts: u32,
    /// No retry starts after this ([`RetryPolicy::deadline`] of the oldest event).
    pub deadline: Instant,
    /// The whole call failed without an answer: its retry is paid from the budget. Entries
    /// failed inside an answer are resent unrationed: the endpoint answered, and asked for them.
    pub whole_call_failed: bool,
}

/// What follows a failed attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Next {
    /// Send again `after` this wait; when `pay` is set, the retry is paid from the budget when
    /// it is due ([`RetryPolicy::pay`]), and waits while the budget is empty.
    Retry {
        /// The wait.
        after: Duration,
        /// Whether the retry must be paid from the budget.
        pay: bool,
    },
    /// Fail the records, for this reason.
    GiveUp(GiveUp),
}

/// The budget's answer to a due retry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Payment {
    /// Paid: retry.
    Paid,
    /// Empty: ask again after this wait.
    Wait(Duration),
    /// It cannot pay before the deadline.
    Never,
}

/// The least time an attempt is given, even at or past the deadline: a call is tried once.
pub const MIN_ATTEMPT_TIMEOUT: Duration = Duration::from_secs(1);

/// How long and how often records are retried: settings only, built once from the
/// configuration ([`ProducerConfig::retry_policy`](crate::ProducerConfig::retry_policy)) and
/// shared by every driver (the worker's retry queue, the S3 store) with its retry budget.
#[derive(Debug, Clone)]
pub struct RetryPolicy {
    max_attempts: Option<u32>,
    event_timeout: Duration,
    attempt_timeout: Duration,
    backoff: Backoff,
    budget: Arc<RetryBudget>,
}

impl RetryPolicy {
    /// A policy: `max_attempts` per record, the first included (`None`: retried until the
    /// deadline), `event_timeout` from an event's acceptance to its deadline, `attempt_timeout`
    /// for one attempt, the `backoff` between attempts, and the `budget` retries of failed calls
    /// are paid from.
    pub(crate) fn new(
        max_attempts: Option<u32>,
        event_timeout: Duration,
        attempt_timeout: Duration,
        backoff: Backoff,
        budget: Arc<RetryBudget>,
    ) -> Self {
        RetryPolicy {
            max_attempts: max_attempts.map(|n| n.max(1)),
            event_timeout,
            attempt_timeout,
            backoff,
            budget,
        }
    }

    /// The deadline of records whose oldest event was accepted at `accepted`.
    pub fn deadline(&self, accepted: Instant) -> Instant {
        accepted + self.event_timeout
    }

    /// How long an attempt starting at `now` may take: the attempt timeout, cut to what is left
    /// before `deadline` (an attempt in flight counts against it), never under
    /// `MIN_ATTEMPT_TIMEOUT`.
    pub fn attempt_limit(&self, deadline: Instant, now: Instant) -> Duration {
        let left = deadline.saturating_duration_since(now);
        self.attempt_timeout.min(left).max(MIN_ATTEMPT_TIMEOUT)
    }

    /// What follows the failed attempt of `state`, at `now`, for a uniform draw `jitter` in
    /// `[0, 1]`: a retry after a backoff, or giving up (the attempt limit, the deadline). A pure
    /// decision: the same inputs give the same answer, and nothing is paid or changed.
    pub fn next(&self, state: RetryState, now: Instant, jitter: f64) -> Next {
        if self.max_attempts.is_some_and(|max| state.attempts >= max) {
            return Next::GiveUp(GiveUp::AttemptLimit);
        }
        let after = self.backoff.delay(state.attempts.saturating_sub(1), jitter);
        if now + after > state.deadline {
            return Next::GiveUp(GiveUp::Deadline);
        }
        Next::Retry {
            after,
            pay: state.whole_call_failed,
        }
    }

    /// Pays for a due retry of records with `deadline` from the shared budget: now, after a
    /// wait, or never before the deadline.
    pub fn pay(&self, deadline: Instant, now: Instant) -> Payment {
        match self.budget.withdraw() {
            Ok(()) => Payment::Paid,
            Err(wait) if now + wait > deadline => Payment::Never,
            Err(wait) => Payment::Wait(wait),
        }
    }

    /// Pays for a due retry, waiting while the budget is empty; [`GiveUp::Budget`] when it
    /// could not be paid before `deadline`.
    pub async fn paid(&self, deadline: Instant) -> Result<(), GiveUp> {
        loop {
            match self.pay(deadline, Instant::now()) {
                Payment::Paid => return Ok(()),
                Payment::Wait(wait) => tokio::time::sleep(wait).await,
                Payment::Never => return Err(GiveUp::Budget),
            }
        }
    }

    /// An attempt was answered: the budget regains a deposit.
    pub fn answered(&self) {
        self.budget.deposit();
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

    fn policy(max_attempts: Option<u32>, event_timeout: Duration) -> RetryPolicy {
        RetryPolicy::new(
            max_attempts,
            event_timeout,
            Duration::from_secs(20),
            Backoff::new(Duration::from_millis(100), Duration::from_secs(5)),
            Arc::new(RetryBudget::new(10)),
        )
    }

    fn failed(attempts: u32, deadline: Instant, whole_call_failed: bool) -> RetryState {
        RetryState {
            attempts,
            deadline,
            whole_call_failed,
        }
    }

    #[test]
    fn the_policy_gives_up_at_the_attempt_limit_or_the_deadline() {
        let now = Instant::now();
        let limited = policy(Some(3), Duration::from_secs(3600));
        let deadline = limited.deadline(now);
        assert_eq!(deadline, now + Duration::from_secs(3600));
        for attempts in [1, 2] {
            assert!(matches!(
                limited.next(failed(attempts, deadline, false), now, 0.5),
                Next::Retry { pay: false, .. }
            ));
        }
        assert_eq!(
            limited.next(failed(3, deadline, false), now, 0.5),
            Next::GiveUp(GiveUp::AttemptLimit),
            "three attempts made"
        );
        let late = policy(None, Duration::from_millis(150));
        let deadline = late.deadline(now);
        assert_eq!(
            late.next(failed(1, deadline, true), now, 1.0),
            Next::Retry {
                after: Duration::from_millis(100),
                pay: true
            },
            "a failed call's retry is paid from the budget"
        );
        assert_eq!(
            late.next(failed(2, deadline, false), now, 1.0),
            Next::GiveUp(GiveUp::Deadline),
            "a 200 ms wait would end past the deadline"
        );
        assert_eq!(
            late.next(
                failed(2, deadline, false),
                now + Duration::from_millis(200),
                0.0
            ),
            Next::GiveUp(GiveUp::Deadline),
            "past the deadline"
        );
        assert_eq!(
            policy(Some(0), Duration::from_secs(1)).next(failed(1, deadline, false), now, 0.0),
            Next::GiveUp(GiveUp::AttemptLimit),
            "an attempt limit of 0 is one attempt"
        );
    }

    #[test]
    fn the_decision_is_pure_and_pays_nothing() {
        let policy = RetryPolicy::new(
            None,
            Duration::from_secs(60),
            Duration::from_secs(20),
            Backoff::new(Duration::from_millis(100), Duration::from_secs(5)),
            Arc::new(RetryBudget::new(5)),
        );
        let now = Instant::now();
        let state = failed(4, policy.deadline(now), true);
        let first = policy.next(state, now, 0.25);
        for _ in 0..100 {
            assert_eq!(policy.next(state, now, 0.25), first);
        }
        assert_eq!(
            first,
            Next::Retry {
                after: Duration::from_millis(200),
                pay: true
            },
            "retry 3's ceiling is 800 ms"
        );
        assert_eq!(policy.pay(state.deadline, now), Payment::Paid, "unspent");
        assert!(
            matches!(policy.pay(state.deadline, now), Payment::Wait(_)),
            "one retry's worth, spent"
        );
        assert_eq!(
            policy.pay(now + Duration::from_millis(10), now),
            Payment::Never,
            "the budget refills too slowly for this deadline"
        );
    }

    #[test]
    fn an_attempt_gets_its_timeout_cut_to_the_deadline_never_under_a_second() {
        let policy = policy(None, Duration::from_secs(300));
        let now = Instant::now();
        assert_eq!(
            policy.attempt_limit(policy.deadline(now), now),
            Duration::from_secs(20)
        );
        assert_eq!(
            policy.attempt_limit(now + Duration::from_secs(5), now),
            Duration::from_secs(5)
        );
        assert_eq!(
            policy.attempt_limit(now + Duration::from_millis(150), now),
            MIN_ATTEMPT_TIMEOUT,
            "an attempt in flight counts against the deadline (at least a second)"
        );
        assert_eq!(
            policy.attempt_limit(now, now + Duration::from_secs(9)),
            MIN_ATTEMPT_TIMEOUT
        );
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
        let backoff = Backoff::new(Duration::from_millis(100), Duration::from_secs(5));
        assert_eq!(backoff.ceiling(0), Duration::from_millis(100));
        assert_eq!(backoff.ceiling(3), Duration::from_millis(800));
        assert_eq!(backoff.ceiling(10), Duration::from_secs(5));
        assert_eq!(backoff.ceiling(u32::MAX), Duration::from_secs(5));
        assert_eq!(backoff.delay(4, 0.0), Duration::ZERO);
        assert_eq!(backoff.delay(4, 1.0), Duration::from_millis(1_600));
        assert_eq!(backoff.delay(4, 0.5), Duration::from_millis(800));
        assert_eq!(
            backoff.delay(4, 7.0),
            Duration::from_millis(1_600),
            "clamped"
        );
        assert_eq!(backoff.delay(4, -1.0), Duration::ZERO, "clamped");
        assert_eq!(backoff.delay(4, f64::NAN), Duration::ZERO);
        let mut rng = fastrand::Rng::with_seed(7);
        let delays: Vec<Duration> = (0..200).map(|_| backoff.delay(4, rng.f64())).collect();
        assert!(delays.iter().all(|d| *d <= Duration::from_millis(1_600)));
        let distinct: std::collections::BTreeSet<_> = delays.iter().collect();
        assert!(distinct.len() > 150, "jittered, not fixed");
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

//! Delivering one call's records through any [`Transport`] under the one [`RetryPolicy`]:
//! whole-call transient errors are retried with backoff; a partial failure (HTTP 200 with failed
//! entries, which the SDK does not retry) resends **only** the failed entries; permanent errors
//! fail fast; when the policy gives up, the remaining records fail with the last error code.

mod budget;
mod policy;
mod reachability;

pub use budget::{RetryBudget, SharedRetryBudget};
pub(crate) use policy::GIVE_UP_BUDGET;
pub use policy::{
    attempt_limit, classify, split, Backoff, EntryOutcome, Failure, Next, Payment, RetryAction,
    RetryPolicy, Split,
};
pub use reachability::Reachability;

use std::time::Duration;

use crate::aggregate::Record;
use crate::transport::Transport;

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

/// One attempt at a call: what was delivered, what failed for good, and what to send again.
#[derive(Debug)]
pub struct Attempt<Id> {
    /// Accepted records.
    pub delivered: Vec<Record<Id>>,
    /// Records that failed permanently, with why.
    pub failed: Vec<(Record<Id>, Failure)>,
    /// Records that failed transiently, with why: retried as the policy decides.
    pub retry: Vec<(Record<Id>, Failure)>,
    /// The whole call failed (no answer): its retry is paid from the budget.
    pub whole_call_failed: bool,
}

/// Sends `records` (one call's worth) once through `transport`, abandoning the call when it is
/// not answered within `limit` (`TimeoutError`, retried like any timeout): an answer deposits
/// into the `budget`, a partial failure sorts the entries ([`split`]), a failed call keeps every
/// record for a retry unless its error is permanent.
pub async fn attempt<T: Transport, Id: Sync>(
    transport: &T,
    records: Vec<Record<Id>>,
    budget: Option<&RetryBudget>,
    limit: Duration,
) -> Attempt<Id> {
    tracing::debug!(records = records.len(), "put");
    let answered = match tokio::time::timeout(limit, transport.put(&records)).await {
        Ok(answered) => answered,
        Err(_) => Err(Failure::service(
            "TimeoutError",
            format!(
                "no answer within {} ms (attempt timeout)",
                limit.as_millis()
            ),
        )),
    };
    match answered {
        Ok(outcomes) => {
            if let Some(budget) = budget {
                budget.deposit();
            }
            let split = split(records, outcomes);
            if let Some((_, failure)) = split.failed.first() {
                tracing::warn!(
                    failed = split.failed.len(),
                    code = failure.code(),
                    "records failed permanently"
                );
            }
            if let Some((_, failure)) = split.retry.first() {
                tracing::warn!(
                    failed = split.retry.len(),
                    code = failure.code(),
                    "partial failure: resending only the failed records"
                );
            }
            Attempt {
                delivered: split.delivered,
                failed: split.failed,
                retry: split.retry,
                whole_call_failed: false,
            }
        }
        Err(failure) => {
            let fatal = !failure.kind.is_retryable();
            tracing::warn!(
                records = records.len(),
                code = failure.code(),
                retryable = !fatal,
                "call failed"
            );
            let failed = records.into_iter().map(|r| (r, failure.clone())).collect();
            let (failed, retry) = if fatal {
                (failed, Vec::new())
            } else {
                (Vec::new(), failed)
            };
            Attempt {
                delivered: Vec::new(),
                failed,
                retry,
                whole_call_failed: !fatal,
            }
        }
    }
}

/// Delivers `records` (one call's worth) through `transport`, retrying as `policy` allows, in
/// this task (the producer's worker schedules retries itself instead, see `worker.rs`).
pub async fn deliver<T: Transport, Id: Sync>(
    transport: &T,
    mut records: Vec<Record<Id>>,
    policy: &mut RetryPolicy,
) -> CallReport<Id> {
    let mut report = CallReport {
        delivered: Vec::new(),
        failed: Vec::new(),
        api_calls: 0,
        retried_records: 0,
    };
    let mut attempts: u32 = 0;
    while !records.is_empty() {
        report.api_calls += 1;
        attempts += 1;
        let limit = policy.attempt_limit();
        let tried = attempt(transport, records, policy.budget.as_deref(), limit).await;
        report.delivered.extend(tried.delivered);
        report.failed.extend(tried.failed);
        let Some(last) = tried.retry.first().map(|(_, failure)| failure.clone()) else {
            break;
        };
        records = tried.retry.into_iter().map(|(record, _)| record).collect();
        let delay = match policy.after_failure(attempts, tried.whole_call_failed) {
            Next::Retry { after, paid: true } => Ok(after),
            Next::Retry { after, paid: false } => {
                tokio::time::sleep(after).await;
                policy.pay_for_retry().await.map(|()| Duration::ZERO)
            }
            Next::GiveUp(why) => Err(why),
        };
        match delay {
            Ok(delay) => {
                report.retried_records += records.len();
                tokio::time::sleep(delay).await;
            }
            Err(why) => {
                give_up(&records, &last, why);
                report
                    .failed
                    .extend(records.drain(..).map(|r| (r, last.clone())));
            }
        }
    }
    report
}

/// Logs records given up (their count, the last code, why).
pub(crate) fn give_up<Id>(records: &[Record<Id>], last: &Failure, why: &str) {
    tracing::warn!(
        records = records.len(),
        code = last.code(),
        why,
        "giving up"
    );
}

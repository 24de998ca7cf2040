//! One attempt at a call through any [`Transport`] ([`attempt`]), and the one [`RetryPolicy`]
//! that decides what follows ([`RetryPolicy::next`]), which the worker's retry queue
//! (`worker.rs`) and the lake writer's S3 store (`lake/store.rs`) drive: whole-call transient errors are retried with backoff and paid from the retry
//! budget; a partial failure (HTTP 200 with failed entries, which the SDK does not retry) resends
//! **only** the failed entries; permanent errors fail fast; when the policy gives up, the
//! remaining records fail with the last error.

mod budget;
mod policy;
mod reachability;

pub use budget::{RetryBudget, SharedRetryBudget};
pub use policy::{
    classify, split, Backoff, EntryOutcome, Failure, GiveUp, Next, Payment, RetryAction,
    RetryPolicy, RetryState, Split,
};
pub use reachability::Reachability;

use std::time::Duration;

use crate::aggregate::Record;
use crate::transport::Transport;

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
/// into the `policy`'s budget, a partial failure sorts the entries ([`split`]), a failed call keeps every
/// record for a retry unless its error is permanent.
pub async fn attempt<T: Transport, Id: Sync>(
    transport: &T,
    records: Vec<Record<Id>>,
    policy: &RetryPolicy,
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
            policy.answered();
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

/// Logs records given up (their count, the last code, why).
pub(crate) fn give_up<Id>(records: &[Record<Id>], last: &Failure, why: GiveUp) {
    tracing::warn!(
        records = records.len(),
        code = last.code(),
        why = why.as_str(),
        "giving up"
    );
}

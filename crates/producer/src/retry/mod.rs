//! Delivering one call's records through any [`Transport`] under the one [`RetryPolicy`]:
//! whole-call transient errors are retried with backoff; a partial failure (HTTP 200 with failed
//! entries, which the SDK does not retry) resends **only** the failed entries; permanent errors
//! fail fast; when the policy gives up, the remaining records fail with the last error code.

mod budget;
mod policy;

pub use budget::RetryBudget;
pub use policy::{
    classify, split, Backoff, EntryOutcome, Failure, RetryAction, RetryPolicy, Split,
};

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

/// Delivers `records` (one call's worth) through `transport`, retrying as `policy` allows.
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
        tracing::debug!(attempt = attempts, records = records.len(), "put");
        let mut whole_call_failed = false;
        let last = match transport.put(&records).await {
            Ok(outcomes) => {
                policy.succeeded();
                let split = split(records, outcomes);
                report.delivered.extend(split.delivered);
                if let Some((_, failure)) = split.failed.first() {
                    tracing::warn!(
                        attempt = attempts,
                        failed = split.failed.len(),
                        code = failure.code.as_str(),
                        "records failed permanently"
                    );
                }
                report.failed.extend(split.failed);
                if let Some((_, failure)) = split.retry.first() {
                    tracing::warn!(
                        attempt = attempts,
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
                    attempt = attempts,
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
                whole_call_failed = true;
                failure
            }
        };
        // Retrying a failed call is paid from the shared budget, or waits for it: a failing
        // endpoint gets fewer retries, not fewer events. Entries failed inside an answer are
        // resent unrationed: the endpoint answered, and asked for them again.
        let delay = match policy.next_delay(attempts) {
            None => Err("attempt limit or deadline reached"),
            Some(_) if whole_call_failed && !policy.pay_for_retry().await => {
                Err("the retry budget stayed empty until the deadline")
            }
            Some(delay) => Ok(delay),
        };
        let delay = match delay {
            Ok(delay) => delay,
            Err(why) => {
                tracing::warn!(
                    attempt = attempts,
                    records = records.len(),
                    code = last.code.as_str(),
                    why,
                    "giving up"
                );
                report
                    .failed
                    .extend(records.drain(..).map(|r| (r, last.clone())));
                break;
            }
        };
        report.retried_records += records.len();
        tokio::time::sleep(delay).await;
    }
    report
}

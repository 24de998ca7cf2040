//! A retry budget shared by every in-flight call of a producer, so that a failing or dead
//! endpoint is not hammered by retries (the idea of tower's `retry::budget` and of the AWS SDKs'
//! retry quota): each retry of a failed call withdraws tokens, each answered call deposits one,
//! and the bucket also refills slowly with time, so that a recovered endpoint is always probed
//! again. Entries failed inside an answer (a partial failure) are resent without it.
//!
//! An empty budget never gives an event up: the retry waits until the budget can pay for it
//! (the event's deadline still applies).

use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::time::Instant;

/// Tokens the bucket holds at most (the AWS SDKs' retry quota).
pub const DEFAULT_CAPACITY: u32 = 500;
/// Tokens one retry costs.
pub const RETRY_COST: u32 = 5;
/// Tokens a successful call deposits.
pub const SUCCESS_DEPOSIT: u32 = 1;
/// Tokens the bucket regains per second without any success: one retry every second at least.
pub const REFILL_PER_SECOND: u32 = RETRY_COST;

/// The shared budget.
#[derive(Debug)]
pub struct RetryBudget {
    capacity: u32,
    state: Mutex<State>,
}

#[derive(Debug)]
struct State {
    tokens: f64,
    refilled: Instant,
}

impl Default for RetryBudget {
    fn default() -> Self {
        RetryBudget::new(DEFAULT_CAPACITY)
    }
}

impl RetryBudget {
    /// A full budget of `capacity` tokens (at least one retry's worth).
    pub fn new(capacity: u32) -> Self {
        let capacity = capacity.max(RETRY_COST);
        RetryBudget {
            capacity,
            state: Mutex::new(State {
                tokens: f64::from(capacity),
                refilled: Instant::now(),
            }),
        }
    }

    fn with_state<T>(&self, f: impl FnOnce(&mut State, f64) -> T) -> T {
        let mut state = match self.state.lock() {
            Ok(state) => state,
            // A panic elsewhere while holding the lock leaves plain numbers: still usable.
            Err(poisoned) => poisoned.into_inner(),
        };
        let now = Instant::now();
        let elapsed = now.saturating_duration_since(state.refilled).as_secs_f64();
        let capacity = f64::from(self.capacity);
        state.tokens = (state.tokens + elapsed * f64::from(REFILL_PER_SECOND)).min(capacity);
        state.refilled = now;
        f(&mut state, capacity)
    }

    /// A call succeeded.
    pub fn deposit(&self) {
        self.with_state(|state, capacity| {
            state.tokens = (state.tokens + f64::from(SUCCESS_DEPOSIT)).min(capacity);
        });
    }

    /// Pays for one retry: `Ok` when paid, else how long until the budget can pay.
    pub fn withdraw(&self) -> Result<(), Duration> {
        self.with_state(|state, _| {
            let cost = f64::from(RETRY_COST);
            if state.tokens >= cost {
                state.tokens -= cost;
                Ok(())
            } else {
                // Whole milliseconds, at least one: the timer's resolution (a shorter sleep
                // could return before any refill is due).
                let missing = cost - state.tokens;
                let millis = (missing * 1000.0 / f64::from(REFILL_PER_SECOND)).ceil();
                Err(Duration::from_millis((millis as u64).max(1)))
            }
        })
    }

    /// Tokens available now (for metrics and tests).
    pub fn available(&self) -> u32 {
        self.with_state(|state, _| state.tokens as u32)
    }
}

/// One [`RetryBudget`] shared by every producer built from one configuration
/// ([`ProducerConfig::retry_budget`](crate::ProducerConfig::retry_budget)): their stream calls and
/// their S3 requests all pay from it, as an AWS SDK client's operations share its retry quota.
/// Cloning shares it; a new one (`default`, [`SharedRetryBudget::new`]) is full. Two are equal
/// when they are the same budget.
#[derive(Clone, Default)]
pub struct SharedRetryBudget(Arc<RetryBudget>);

impl SharedRetryBudget {
    /// A new full budget of `capacity` tokens.
    pub fn new(capacity: u32) -> Self {
        SharedRetryBudget(Arc::new(RetryBudget::new(capacity)))
    }

    /// The budget.
    pub fn budget(&self) -> &Arc<RetryBudget> {
        &self.0
    }

    /// Tokens available now.
    pub fn available(&self) -> u32 {
        self.0.available()
    }
}

impl PartialEq for SharedRetryBudget {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

impl Eq for SharedRetryBudget {}

impl fmt::Debug for SharedRetryBudget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SharedRetryBudget")
            .field("capacity", &self.0.capacity)
            .field("available", &self.available())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn retries_drain_the_budget_successes_and_time_refill_it() {
        let budget = RetryBudget::new(20);
        for _ in 0..4 {
            assert_eq!(budget.withdraw(), Ok(()));
        }
        let wait = budget.withdraw().unwrap_err();
        assert_eq!(wait, Duration::from_secs(1), "one retry's worth per second");
        for _ in 0..5 {
            budget.deposit();
        }
        assert_eq!(budget.withdraw(), Ok(()), "five successes pay for a retry");
        tokio::time::advance(Duration::from_secs(2)).await;
        assert_eq!(budget.available(), 10);
        tokio::time::advance(Duration::from_secs(3600)).await;
        assert_eq!(budget.available(), 20, "capped");
    }
}

//! Whether an endpoint answers at all, shared by every request of a writer: the circuit breaker
//! that turns a dead endpoint (connection refused, DNS failing, every request timing out) into
//! a prompt, explained failure instead of each object retrying alone until its deadline.
//!
//! Requests that get no answer open the circuit once the endpoint has answered nothing for
//! `give_up_after`; while open, requests fail at once with the last cause, except one probe
//! every [`PROBE_INTERVAL`], so that an endpoint that comes back is used again. Any answer (an
//! error response included: the endpoint is there) closes it.

use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

use super::Failure;
use crate::failure::FailureKind;

/// While the circuit is open, one request is let through this often to see whether the
/// endpoint is back.
pub const PROBE_INTERVAL: Duration = Duration::from_secs(5);

/// The shared state of one endpoint.
#[derive(Debug)]
pub struct Reachability {
    give_up_after: Duration,
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    /// Since when requests have gone unanswered (`None`: the last one was answered).
    failing_since: Option<Instant>,
    /// The last request's failure without an answer.
    last: Option<Failure>,
    /// When the last probe went through an open circuit.
    probed: Option<Instant>,
}

impl Reachability {
    /// An endpoint given up once it has answered nothing for `give_up_after`.
    pub fn new(give_up_after: Duration) -> Self {
        Reachability {
            give_up_after,
            state: Mutex::new(State::default()),
        }
    }

    fn with_state<T>(&self, f: impl FnOnce(&mut State) -> T) -> T {
        match self.state.lock() {
            Ok(mut state) => f(&mut state),
            Err(poisoned) => f(&mut poisoned.into_inner()),
        }
    }

    /// A request was answered (successfully or not): the endpoint is there.
    pub fn answered(&self) {
        self.with_state(|state| *state = State::default());
    }

    /// A request got no answer, with this failure.
    pub fn unanswered(&self, failure: &Failure) {
        self.with_state(|state| {
            state.failing_since.get_or_insert_with(Instant::now);
            state.last = Some(failure.clone());
        });
    }

    /// `Some(failure)` when a request must not be made: the endpoint has answered nothing for
    /// `give_up_after` and no probe is due. The failure says for how long and the last cause.
    pub fn refuse(&self) -> Option<Failure> {
        self.with_state(|state| {
            let since = state.failing_since?;
            let now = Instant::now();
            if now.duration_since(since) < self.give_up_after {
                return None;
            }
            if state
                .probed
                .is_none_or(|probed| now.duration_since(probed) >= PROBE_INTERVAL)
            {
                state.probed = Some(now);
                return None;
            }
            let last = state.last.as_ref();
            Some(Failure::own(
                FailureKind::Unreachable,
                format!(
                    "no answer for {} s; last cause: {}: {}",
                    now.duration_since(since).as_secs(),
                    last.map_or("", Failure::code),
                    last.map_or("", |f| f.message.as_str())
                ),
            ))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn an_endpoint_that_answers_nothing_is_refused_with_its_cause_then_probed() {
        let reachability = Reachability::new(Duration::from_secs(60));
        let refused = Failure::service("DispatchFailure", "connection refused");
        assert_eq!(reachability.refuse(), None);
        reachability.unanswered(&refused);
        tokio::time::advance(Duration::from_secs(30)).await;
        assert_eq!(reachability.refuse(), None, "not yet given up");
        tokio::time::advance(Duration::from_secs(31)).await;
        assert_eq!(reachability.refuse(), None, "the first probe goes through");
        let failure = reachability.refuse().unwrap();
        assert_eq!(
            (failure.kind, failure.service_code),
            (FailureKind::Unreachable, None)
        );
        assert!(
            failure.message.contains("no answer for 61 s")
                && failure
                    .message
                    .contains("DispatchFailure: connection refused"),
            "{}",
            failure.message
        );
        tokio::time::advance(PROBE_INTERVAL).await;
        assert_eq!(reachability.refuse(), None, "a probe is due again");
        reachability.answered();
        assert_eq!(reachability.refuse(), None, "it answered: closed");
    }
}

//! The answer to `POST /v1/events`: one entry per event of the body, in order, and the HTTP
//! status that sums them up.
//!
//! | status | when | what the client does |
//! |---|---|---|
//! | `200` | every event accepted (`?wait=delivered`: delivered) | nothing |
//! | `422` | some events rejected (findings given), the others accepted | fix the rejected ones; never resend the accepted |
//! | `502` | `?wait=delivered`: some accepted events failed at the destination | resend those marked `failed` |
//! | `429` | the buffer is full (the destination is slower than the senders) | after `Retry-After`, resend those marked `retry` |
//! | `503` | the agent is stopping | after `Retry-After`, resend those marked `retry` (to this or another agent) |
//!
//! The worst wins: `503`, `429`, `502`, `422`, `200`. Every event of the body is in the
//! answer: `accepted` (or `delivered`), `rejected` with its findings, `failed` with the
//! failure's code, or `retry` (not taken: nothing of it is kept).

use ocsf_firehose_producer::FailedEvent;
use ocsf_firehose_transform::Finding;
use serde::Serialize;

/// What became of one event of a request.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "status", rename_all = "lowercase")]
pub(crate) enum Status {
    /// Taken by the producer: it will be delivered (or fail, reported in the agent's metrics
    /// and summary).
    Accepted,
    /// `?wait=delivered`: acknowledged by the destination.
    Delivered,
    /// The Lambda's verdict rejects it (or it is not a JSON object): never sent.
    Rejected { findings: Vec<Finding> },
    /// `?wait=delivered`: accepted, then given up on.
    Failed { code: String, message: String },
    /// Not taken (the buffer is full, or the agent is stopping): send it again later.
    Retry { reason: &'static str },
}

impl Status {
    /// An event the destination did not take.
    pub(crate) fn failed(failure: &FailedEvent) -> Self {
        Status::Failed {
            code: failure.kind.code().to_owned(),
            message: failure.message.clone(),
        }
    }

    /// The name counted in the answer's totals and the agent's metrics.
    pub(crate) fn name(&self) -> &'static str {
        match self {
            Status::Accepted => "accepted",
            Status::Delivered => "delivered",
            Status::Rejected { .. } => "rejected",
            Status::Failed { .. } => "failed",
            Status::Retry { .. } => "retry",
        }
    }
}

/// Why an event was not taken.
pub(crate) const RETRY_BUFFER_FULL: &str = "buffer_full";
/// … the agent is stopping.
pub(crate) const RETRY_STOPPING: &str = "stopping";

/// One event's entry in the answer.
#[derive(Debug, Serialize)]
pub(crate) struct EventAnswer {
    /// The event's 0-based index in the body.
    pub index: usize,
    #[serde(flatten)]
    pub status: Status,
}

/// The answer to one request.
#[derive(Debug, Default, Serialize)]
pub(crate) struct Answer {
    pub accepted: usize,
    pub delivered: usize,
    pub rejected: usize,
    pub failed: usize,
    pub retry: usize,
    pub events: Vec<EventAnswer>,
}

impl Answer {
    /// Adds the next event's status.
    pub(crate) fn push(&mut self, status: Status) {
        *self.total(status.name()) += 1;
        let index = self.events.len();
        self.events.push(EventAnswer { index, status });
    }

    /// Replaces the status of the event at `index` (an accepted one, once delivered or failed).
    pub(crate) fn resolve(&mut self, index: usize, status: Status) {
        let Some(entry) = self.events.get_mut(index) else {
            return;
        };
        let after = status.name();
        let before = std::mem::replace(&mut entry.status, status).name();
        *self.total(before) -= 1;
        *self.total(after) += 1;
    }

    /// The total of the statuses called `name` ([`Status::name`]).
    fn total(&mut self, name: &str) -> &mut usize {
        match name {
            "accepted" => &mut self.accepted,
            "delivered" => &mut self.delivered,
            "rejected" => &mut self.rejected,
            "failed" => &mut self.failed,
            _ => &mut self.retry,
        }
    }

    /// The HTTP status and, for `429`/`503`, the seconds of its `Retry-After`.
    pub(crate) fn http_status(&self, retry_after: u64) -> (u16, Option<u64>) {
        let stopping = self.events.iter().any(|e| {
            matches!(
                e.status,
                Status::Retry {
                    reason: RETRY_STOPPING
                }
            )
        });
        if stopping {
            (503, Some(retry_after))
        } else if self.retry > 0 {
            (429, Some(retry_after))
        } else if self.failed > 0 {
            (502, None)
        } else if self.rejected > 0 {
            (422, None)
        } else {
            (200, None)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_worst_status_wins_and_totals_follow_each_event() {
        let mut answer = Answer::default();
        answer.push(Status::Accepted);
        assert_eq!(answer.http_status(1), (200, None));
        answer.push(Status::Rejected { findings: vec![] });
        assert_eq!(answer.http_status(1), (422, None));
        answer.resolve(
            0,
            Status::Failed {
                code: "throttled".into(),
                message: String::new(),
            },
        );
        assert_eq!((answer.accepted, answer.failed), (0, 1));
        assert_eq!(answer.http_status(1), (502, None));
        answer.push(Status::Retry {
            reason: RETRY_BUFFER_FULL,
        });
        assert_eq!(answer.http_status(2), (429, Some(2)));
        answer.push(Status::Retry {
            reason: RETRY_STOPPING,
        });
        assert_eq!(answer.http_status(5), (503, Some(5)));
        let json = serde_json::to_value(&answer).unwrap();
        assert_eq!(json["events"][1]["status"], "rejected");
        assert_eq!(json["events"][2]["reason"], "buffer_full");
        assert_eq!(json["retry"], 2);
    }
}

//! What becomes of events: a [`Delivery`] for each accepted event, resolved with its outcome;
//! [`FailedEvent`]s for those not delivered; the [`Report`] of `flush` and `shutdown`; and the
//! errors of `send` and `try_send`.

use std::sync::Arc;

use thiserror::Error;
use tokio::sync::oneshot;

use crate::event::EncodeError;

/// Called with every event that fails, for fire-and-forget callers.
pub type FailureCallback = Arc<dyn Fn(&FailedEvent) + Send + Sync>;

/// An event that was not delivered: the reason, and the event (its encoded JSON) back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FailedEvent {
    /// The AWS error code, or the producer's own (`event_too_large`, `producer_closed`, …).
    pub code: String,
    /// Explanation.
    pub message: String,
    /// The event as it would have been sent.
    pub event: Vec<u8>,
}

/// Why `send` did not accept an event (the event is never sent).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum SendError {
    /// The event cannot be encoded or is over the record limit.
    #[error(transparent)]
    Encode(#[from] EncodeError),
    /// The producer is shut down.
    #[error("the producer is shut down")]
    Closed,
    /// Client-side OCSF validation (feature `ocsf`) found errors: the event would be rejected by
    /// the transformation Lambda, so it is not sent.
    #[error("the event is not valid OCSF ({} error findings)", .0.len())]
    Invalid(Vec<ocsf_firehose_transform::Finding>),
}

impl SendError {
    /// A stable machine-readable kind.
    pub fn code(&self) -> &'static str {
        match self {
            SendError::Encode(error) => error.code(),
            SendError::Closed => "producer_closed",
            SendError::Invalid(_) => "ocsf_invalid",
        }
    }
}

/// Why `try_send` did not accept an event.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum TrySendError {
    /// The buffer is full: try later (the encoded event is handed back).
    #[error("the producer's buffer is full")]
    Full(Vec<u8>),
    /// As for `send`.
    #[error(transparent)]
    Send(#[from] SendError),
}

/// The outcome of one accepted event; await it, or drop it (failures then reach the failure
/// callback, or the next `flush`/`shutdown` report).
#[derive(Debug)]
pub struct Delivery {
    receiver: oneshot::Receiver<Result<(), FailedEvent>>,
}

impl Delivery {
    pub(crate) fn new(receiver: oneshot::Receiver<Result<(), FailedEvent>>) -> Self {
        Delivery { receiver }
    }

    /// Waits for the event's outcome.
    pub async fn outcome(self) -> Result<(), FailedEvent> {
        self.receiver.await.unwrap_or_else(|_| {
            Err(FailedEvent {
                code: "producer_closed".into(),
                message: "the producer stopped before the event was resolved".into(),
                event: Vec::new(),
            })
        })
    }
}

/// Totals reported by `flush` and `shutdown`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    /// Events delivered since the previous report.
    pub delivered: u64,
    /// Events failed since the previous report whose outcome nobody else received.
    pub failed: Vec<FailedEvent>,
    /// Events failed since the previous report, in all.
    pub failed_count: u64,
    /// API calls made since the previous report.
    pub api_calls: u64,
    /// Records sent again after a transient failure since the previous report.
    pub retried_records: u64,
}

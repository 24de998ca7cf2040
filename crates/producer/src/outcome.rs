//! What becomes of events: a [`Delivery`] for each accepted event, resolved with its outcome;
//! [`FailedEvent`]s for those not delivered; the [`Report`] of `flush` and `shutdown`; and the
//! errors of `send` and `try_send`.

use std::sync::Arc;

use thiserror::Error;
use tokio::sync::oneshot;
use tokio::time::Instant;

use crate::event::EncodeError;
use crate::failure::{Failure, FailureKind};
use crate::spool::{SpoolError, Ticket};
use crate::telemetry;

/// Called with every event that fails, for fire-and-forget callers.
pub type FailureCallback = Arc<dyn Fn(&FailedEvent) + Send + Sync>;

/// An event that was not delivered: why, and the event (its encoded JSON) back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FailedEvent {
    /// Why, as a kind to match on ([`FailureKind::code`] for logs and metrics).
    pub kind: FailureKind,
    /// The service's own error code, as received (`ResourceNotFoundException`, `SlowDown`,
    /// the SDK's `DispatchFailure`…): a detail; `None` for the producer's own failures.
    pub service_code: Option<String>,
    /// Explanation (never event contents).
    pub message: String,
    /// The event as it would have been sent.
    pub event: Vec<u8>,
}

impl std::fmt::Display for FailedEvent {
    /// `kind (service code): message`, e.g. `not_found (ResourceNotFoundException): …`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.service_code {
            Some(code) => write!(f, "{} ({code}): {}", self.kind, self.message),
            None => write!(f, "{}: {}", self.kind, self.message),
        }
    }
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
    /// The event could not be written to the spool (so it is not accepted).
    #[error(transparent)]
    Spool(#[from] SpoolError),
    /// Client-side OCSF validation (feature `ocsf`) found errors: the event would be rejected by
    /// the transformation Lambda, so it is not sent.
    #[error("the event is not valid OCSF ({} error findings)", .0.len())]
    Invalid(Vec<ocsf_firehose_contract::Finding>),
    /// A [`Judged`](crate::Judged) event given to a producer of another kind (a stream's to the
    /// lake writer's, or the other way round) than the one that judged it.
    #[error("the event was judged by a producer of another kind")]
    JudgedElsewhere,
}

impl SendError {
    /// A stable machine-readable kind.
    pub fn code(&self) -> &'static str {
        match self {
            SendError::Encode(error) => error.code(),
            SendError::Closed => "producer_closed",
            SendError::Spool(error) => error.code(),
            SendError::Invalid(_) => "ocsf_invalid",
            SendError::JudgedElsewhere => "judged_elsewhere",
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
                kind: FailureKind::ProducerClosed,
                service_code: None,
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

/// The reply of one accepted event, and its spool entry (acknowledged when the reply is sent:
/// the event is resolved).
#[derive(Debug)]
pub(crate) struct Reply {
    sender: oneshot::Sender<Result<(), FailedEvent>>,
    spooled: Option<Ticket>,
}

impl Reply {
    /// A reply to `sender`, acknowledging `spooled` when sent.
    pub(crate) fn new(
        sender: oneshot::Sender<Result<(), FailedEvent>>,
        spooled: Option<Ticket>,
    ) -> Self {
        Reply { sender, spooled }
    }

    /// The event's spool entry (segment, index), when the producer has a spool.
    #[cfg(feature = "lake")]
    pub(crate) fn spool_id(&self) -> Option<(u64, u32)> {
        self.spooled.as_ref().map(Ticket::id)
    }

    /// Resolves the event: its spool entry leaves the spool (unless the spool keeps the
    /// failure for the next start), its outcome goes to whoever awaits
    /// it (`Err` with the outcome back when nobody does).
    pub(crate) fn send(
        self,
        outcome: Result<(), FailedEvent>,
    ) -> Result<(), Result<(), FailedEvent>> {
        if let Some(ticket) = self.spooled {
            match &outcome {
                Ok(()) => ticket.ack(),
                Err(failed) => ticket.fail(failed.kind),
            }
        }
        self.sender.send(outcome)
    }
}

/// Resolves accepted events and keeps the totals of the next report: shared by the stream
/// worker and the lake writer.
pub(crate) struct Outcomes {
    /// What the next `flush`/`shutdown` reports.
    pub report: Report,
    on_failure: Option<FailureCallback>,
}

impl Outcomes {
    pub(crate) fn new(on_failure: Option<FailureCallback>) -> Self {
        Outcomes {
            report: Report::default(),
            on_failure,
        }
    }

    /// The event accepted at `accepted` is delivered, `now` (read once for the events an
    /// object or a call delivered together: a clock read per event was 2 % of `upload`).
    pub(crate) fn delivered(&mut self, reply: Reply, accepted: Instant, now: Instant) {
        self.report.delivered += 1;
        metrics::counter!(telemetry::EVENTS_DELIVERED).increment(1);
        metrics::histogram!(telemetry::SECONDS_TO_DELIVERY)
            .record(now.saturating_duration_since(accepted).as_secs_f64());
        let _ = reply.send(Ok(()));
    }

    /// The event `event` failed with `failure`: its awaiting caller, else the failure callback,
    /// else the next report gets it back.
    pub(crate) fn failed(&mut self, reply: Reply, event: Vec<u8>, failure: &Failure) {
        metrics::counter!(telemetry::EVENTS_FAILED, "code" => failure.kind.code()).increment(1);
        let failed = FailedEvent {
            kind: failure.kind,
            service_code: failure.service_code.clone(),
            message: failure.message.clone(),
            event,
        };
        self.report.failed_count += 1;
        if let Some(callback) = &self.on_failure {
            callback(&failed);
        }
        // Nobody awaits the outcome and no callback saw it: the report hands the event back.
        let unheard = reply.send(Err(failed)).err().and_then(Result::err);
        if let (Some(failed), None) = (unheard, &self.on_failure) {
            self.report.failed.push(failed);
        }
    }
}

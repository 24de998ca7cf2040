//! The asynchronous producer: `send` / `try_send` with byte-bounded backpressure, a worker task
//! (`worker`) that aggregates, batches and dispatches calls (at most `max_in_flight` at once),
//! and an outcome for every accepted event: delivered, or failed with the reason and the event
//! back.

use std::sync::Arc;

use serde::Serialize;
use thiserror::Error;
use tokio::sync::{mpsc, oneshot, OwnedSemaphorePermit, Semaphore};

use crate::config::{ConfigError, ProducerConfig, Service};
use crate::event::{EncodeError, EncodedEvent, Encoder};
use crate::sink::Destination;
use crate::worker::{Command, Worker};

/// Derives a Kinesis partition key from an encoded event.
pub type PartitionKeyFn = Arc<dyn Fn(&[u8]) -> String + Send + Sync>;
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

/// Builds a [`Producer`].
pub struct ProducerBuilder {
    destination: Destination,
    config: ProducerConfig,
    partition_key: Option<PartitionKeyFn>,
    on_failure: Option<FailureCallback>,
    #[cfg(feature = "ocsf")]
    engine: Option<ocsf_firehose_transform::Engine>,
}

impl ProducerBuilder {
    /// Sends to a Firehose stream (Direct PUT).
    pub fn firehose(client: aws_sdk_firehose::Client, stream: impl Into<String>) -> Self {
        Self::new(Destination::Firehose {
            client,
            stream: stream.into(),
        })
    }

    /// Sends to a Kinesis data stream.
    pub fn kinesis(client: aws_sdk_kinesis::Client, stream: impl Into<String>) -> Self {
        Self::new(Destination::Kinesis {
            client,
            stream: stream.into(),
        })
    }

    /// Sends to a delivery stream of the local pipeline (feature `local`): the whole
    /// Firehose → Security Lake path on this machine, for development and tests.
    #[cfg(feature = "local")]
    pub fn local(
        pipeline: Arc<std::sync::Mutex<ocsf_firehose_transform::local::LocalFirehose>>,
        stream: impl Into<String>,
    ) -> Self {
        Self::new(Destination::Local {
            pipeline,
            stream: Some(stream.into()),
        })
    }

    /// Sends each record to the local delivery stream of its class (feature `local`), as an
    /// application holding one Firehose stream per class does; records whose class cannot be
    /// read go to [`UNCLASSIFIED_STREAM`](ocsf_firehose_transform::local::UNCLASSIFIED_STREAM).
    /// Aggregated records hold one class each (events are grouped by class).
    #[cfg(feature = "local")]
    pub fn local_by_class(
        pipeline: Arc<std::sync::Mutex<ocsf_firehose_transform::local::LocalFirehose>>,
    ) -> Self {
        Self::new(Destination::Local {
            pipeline,
            stream: None,
        })
    }

    fn new(destination: Destination) -> Self {
        ProducerBuilder {
            destination,
            config: ProducerConfig::default(),
            partition_key: None,
            on_failure: None,
            #[cfg(feature = "ocsf")]
            engine: None,
        }
    }

    /// Sets the tuning.
    pub fn config(mut self, config: ProducerConfig) -> Self {
        self.config = config;
        self
    }

    /// Derives Kinesis partition keys from events (default: random, for an even shard spread).
    pub fn partition_key(mut self, key: impl Fn(&[u8]) -> String + Send + Sync + 'static) -> Self {
        self.partition_key = Some(Arc::new(key));
        self
    }

    /// Calls `callback` with every failed event.
    pub fn on_failure(mut self, callback: impl Fn(&FailedEvent) + Send + Sync + 'static) -> Self {
        self.on_failure = Some(Arc::new(callback));
        self
    }

    /// Judges every event with `engine` before accepting it (feature `ocsf`), with the
    /// transformation Lambda's verdict ([`Engine::judge`](ocsf_firehose_transform::Engine::judge):
    /// normalization, validation and partition keys; the stream's region is the last fallback
    /// for `region`, as in the Lambda): events the Lambda would reject fail at `send` with
    /// [`SendError::Invalid`] and their error findings, accepted ones are sent normalized.
    /// Configure `engine` as the Lambda is (`TransformConfig::from_env` reads the same `OCSF_*`
    /// variables).
    #[cfg(feature = "ocsf")]
    pub fn ocsf(mut self, engine: ocsf_firehose_transform::Engine) -> Self {
        self.engine = Some(engine);
        self
    }

    /// Validates the tuning and starts the worker on the current Tokio runtime.
    pub fn build(self) -> Result<Producer, ConfigError> {
        let service = match self.destination {
            Destination::Firehose { .. } => Service::Firehose,
            Destination::Kinesis { .. } => Service::Kinesis,
            #[cfg(feature = "local")]
            Destination::Local { .. } => Service::Firehose,
        };
        self.config.validate(service)?;
        #[cfg(feature = "ocsf")]
        let fallback_region = self.destination.region();
        let buffer = Arc::new(Semaphore::new(self.config.max_buffered_bytes));
        let encoder = Encoder {
            stamp_uid: self.config.stamp_uid,
            max_bytes: service.max_record_bytes() - 1,
        };
        let (tx, rx) = mpsc::unbounded_channel();
        let worker = Worker::new(
            self.destination,
            service,
            self.config,
            self.partition_key,
            self.on_failure,
        );
        let handle = tokio::spawn(worker.run(rx));
        Ok(Producer {
            tx: Some(tx),
            buffer,
            encoder,
            handle: Some(handle),
            #[cfg(feature = "ocsf")]
            ocsf: self.engine.map(|engine| OcsfCheck {
                engine,
                fallback_region,
            }),
        })
    }
}

/// Streams events to Firehose or Kinesis. Cheap to share behind an `Arc`; dropping it without
/// [`Producer::shutdown`] lets the worker deliver what was accepted in the background.
pub struct Producer {
    tx: Option<mpsc::UnboundedSender<Command>>,
    buffer: Arc<Semaphore>,
    encoder: Encoder,
    handle: Option<tokio::task::JoinHandle<Report>>,
    #[cfg(feature = "ocsf")]
    ocsf: Option<OcsfCheck>,
}

/// The client-side verdict (feature `ocsf`): the engine, configured as the Lambda is, and the
/// region of the stream (the Lambda's last fallback for `region`).
#[cfg(feature = "ocsf")]
struct OcsfCheck {
    engine: ocsf_firehose_transform::Engine,
    fallback_region: Option<String>,
}

impl Producer {
    /// Accepts an event, waiting while the buffer is full.
    pub async fn send<T: Serialize + ?Sized>(&self, event: &T) -> Result<Delivery, SendError> {
        let encoded = self.encode(event)?;
        self.enqueue(encoded).await
    }

    /// Accepts raw JSON (one object), waiting while the buffer is full.
    pub async fn send_json(&self, event: &[u8]) -> Result<Delivery, SendError> {
        #[cfg(feature = "ocsf")]
        if self.ocsf.is_some() {
            let value: serde_json::Value = serde_json::from_slice(event)
                .map_err(|e| SendError::Encode(EncodeError::NotAnObject(e.to_string())))?;
            return self.send(&value).await;
        }
        let encoded = self.encoder.encode_json(event)?;
        self.enqueue(encoded).await
    }

    /// Encodes an event; with an engine (feature `ocsf`), only when the transformation
    /// Lambda's verdict accepts it, and then the normalized event (which the Lambda judges
    /// identically).
    fn encode<T: Serialize + ?Sized>(&self, event: &T) -> Result<EncodedEvent, SendError> {
        #[cfg(feature = "ocsf")]
        if let Some(check) = &self.ocsf {
            let value = serde_json::to_value(event)
                .map_err(|e| SendError::Encode(EncodeError::Serialize(e.to_string())))?;
            let verdict = check.engine.judge(value, check.fallback_region.as_deref());
            if !verdict.is_accepted() {
                return Err(SendError::Invalid(verdict.errors().cloned().collect()));
            }
            return Ok(self.encoder.encode(&verdict.event)?);
        }
        Ok(self.encoder.encode(event)?)
    }

    /// Accepts an event if the buffer has room now.
    pub fn try_send<T: Serialize + ?Sized>(&self, event: &T) -> Result<Delivery, TrySendError> {
        let encoded = self.encode(event)?;
        let permit = match self
            .buffer
            .clone()
            .try_acquire_many_owned(permits(&encoded))
        {
            Ok(permit) => permit,
            Err(tokio::sync::TryAcquireError::NoPermits) => {
                return Err(TrySendError::Full(encoded.bytes))
            }
            Err(tokio::sync::TryAcquireError::Closed) => return Err(SendError::Closed.into()),
        };
        self.submit(encoded, permit).map_err(TrySendError::from)
    }

    async fn enqueue(&self, encoded: EncodedEvent) -> Result<Delivery, SendError> {
        let permit = self
            .buffer
            .clone()
            .acquire_many_owned(permits(&encoded))
            .await
            .map_err(|_| SendError::Closed)?;
        self.submit(encoded, permit)
    }

    fn submit(
        &self,
        encoded: EncodedEvent,
        permit: OwnedSemaphorePermit,
    ) -> Result<Delivery, SendError> {
        let (reply, receiver) = oneshot::channel();
        let tx = self.tx.as_ref().ok_or(SendError::Closed)?;
        tx.send(Command::Event {
            encoded,
            permit,
            reply,
        })
        .map_err(|_| SendError::Closed)?;
        Ok(Delivery { receiver })
    }

    /// Sends everything accepted so far and waits until each event is resolved.
    pub async fn flush(&self) -> Report {
        let (reply, receiver) = oneshot::channel();
        let sent = self
            .tx
            .as_ref()
            .is_some_and(|tx| tx.send(Command::Flush(reply)).is_ok());
        if !sent {
            return Report::default();
        }
        receiver.await.unwrap_or_default()
    }

    /// Delivers everything accepted, stops the worker, and reports what was not delivered.
    pub async fn shutdown(mut self) -> Report {
        self.tx = None;
        self.buffer.close();
        match self.handle.take() {
            Some(handle) => handle.await.unwrap_or_default(),
            None => Report::default(),
        }
    }
}

/// Buffer permits an event holds: its size (at least 1).
fn permits(encoded: &EncodedEvent) -> u32 {
    u32::try_from(encoded.bytes.len().max(1)).unwrap_or(u32::MAX)
}

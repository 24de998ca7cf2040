//! The asynchronous producer: `send` / `try_send` with byte-bounded backpressure in front of a
//! worker task ([`crate::worker`]) that aggregates, batches and dispatches calls (at most
//! `max_in_flight` at once) through one transport, and resolves every accepted event with its
//! outcome: delivered, or failed with the reason and the event back.

use std::sync::Arc;

use serde::Serialize;
use tokio::sync::{mpsc, oneshot, OwnedSemaphorePermit, Semaphore};

use crate::aggregate::PartitionKeyFn;
use crate::config::{ConfigError, ProducerConfig};
#[cfg(feature = "ocsf")]
use crate::event::EncodeError;
use crate::event::{EncodedEvent, Encoder};
use crate::outcome::{Delivery, FailureCallback, Report, SendError, TrySendError};
use crate::transport::Transport;
use crate::worker::{Command, Worker};

/// What a builder hands the producer besides the transport and the tuning.
#[derive(Default)]
pub(crate) struct Hooks {
    pub partition_key: Option<PartitionKeyFn>,
    pub on_failure: Option<FailureCallback>,
    #[cfg(feature = "ocsf")]
    pub engine: Option<ocsf_firehose_transform::Engine>,
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
    /// Checks the tuning against the transport's service and starts the worker on the current
    /// Tokio runtime.
    pub(crate) fn start<T: Transport>(
        transport: T,
        config: ProducerConfig,
        hooks: Hooks,
    ) -> Result<Producer, ConfigError> {
        let service = transport.service();
        config.validate(service)?;
        #[cfg(feature = "ocsf")]
        let fallback_region = transport.region();
        let buffer = Arc::new(Semaphore::new(config.max_buffered_bytes));
        let encoder = Encoder {
            stamp_uid: config.stamp_uid,
            max_bytes: service.max_record_bytes() - 1,
        };
        let (tx, rx) = mpsc::unbounded_channel();
        let worker = Worker::new(transport, config, hooks.partition_key, hooks.on_failure);
        let handle = tokio::spawn(worker.run(rx));
        Ok(Producer {
            tx: Some(tx),
            buffer,
            encoder,
            handle: Some(handle),
            #[cfg(feature = "ocsf")]
            ocsf: hooks.engine.map(|engine| OcsfCheck {
                engine,
                fallback_region,
            }),
        })
    }

    /// Accepts an event, waiting while the buffer is full.
    pub async fn send<T: Serialize + ?Sized>(&self, event: &T) -> Result<Delivery, SendError> {
        let encoded = self.encode(event)?;
        self.enqueue(encoded).await
    }

    /// Accepts raw JSON (one object), waiting while the buffer is full.
    pub async fn send_json(&self, event: &[u8]) -> Result<Delivery, SendError> {
        #[cfg(feature = "ocsf")]
        if let Some(check) = &self.ocsf {
            let value = serde_json::from_slice(event)
                .map_err(|e| SendError::Encode(EncodeError::NotAnObject(e.to_string())))?;
            let encoded = self.judged(check, value)?;
            return self.enqueue(encoded).await;
        }
        let encoded = self.encoder.encode_json(event)?;
        self.enqueue(encoded).await
    }

    /// Encodes an event; with an engine (feature `ocsf`), only when the Lambda's verdict
    /// accepts it.
    fn encode<T: Serialize + ?Sized>(&self, event: &T) -> Result<EncodedEvent, SendError> {
        #[cfg(feature = "ocsf")]
        if let Some(check) = &self.ocsf {
            let value = serde_json::to_value(event)
                .map_err(|e| SendError::Encode(EncodeError::Serialize(e.to_string())))?;
            return self.judged(check, value);
        }
        Ok(self.encoder.encode(event)?)
    }

    /// The Lambda's verdict on `event` (feature `ocsf`): its error findings, or the normalized
    /// event encoded (the Lambda judges it identically).
    #[cfg(feature = "ocsf")]
    fn judged(
        &self,
        check: &OcsfCheck,
        event: serde_json::Value,
    ) -> Result<EncodedEvent, SendError> {
        let verdict = check.engine.judge(event, check.fallback_region.as_deref());
        if !verdict.is_accepted() {
            return Err(SendError::Invalid(verdict.errors().cloned().collect()));
        }
        Ok(self.encoder.encode(&verdict.event)?)
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
        Ok(Delivery::new(receiver))
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

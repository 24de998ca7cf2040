//! The asynchronous producer: `send` / `try_send` with byte-bounded backpressure in front of a
//! worker task ([`crate::worker`]) that aggregates, batches and dispatches calls (at most
//! `max_in_flight` at once) through one transport, and resolves every accepted event with its
//! outcome: delivered, or failed with the reason and the event back.

use std::sync::Arc;

use serde::Serialize;
use tokio::sync::{mpsc, oneshot, OwnedSemaphorePermit, Semaphore};

use crate::aggregate::PartitionKeyFn;
use crate::command::Command;
use crate::config::{ConfigError, ProducerConfig};
#[cfg(feature = "ocsf")]
use crate::event::EncodeError;
use crate::event::{EncodedEvent, Encoder};
use crate::outcome::{Delivery, FailureCallback, Report, SendError, TrySendError};
use crate::transport::Transport;
use crate::worker::Worker;

/// What a builder hands the producer besides the transport and the tuning.
#[derive(Default)]
pub(crate) struct Hooks {
    pub partition_key: Option<PartitionKeyFn>,
    pub on_failure: Option<FailureCallback>,
    #[cfg(feature = "ocsf")]
    pub engine: Option<ocsf_firehose_transform::Engine>,
    #[cfg(feature = "lake")]
    pub on_object: Option<crate::lake::ObjectCallback>,
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
/// region of the stream (the Lambda's last fallback for `region`). With `rows` (the direct
/// path), accepted events are sent as the Lambda's rows.
#[cfg(feature = "ocsf")]
struct OcsfCheck {
    engine: ocsf_firehose_transform::Engine,
    fallback_region: Option<String>,
    #[cfg(feature = "lake")]
    rows: bool,
}

/// What `send` hands the worker: an encoded event (streams) or a row (the lake writer).
enum Accepted {
    Event(EncodedEvent),
    #[cfg(feature = "lake")]
    Row(crate::command::LakeRow),
}

impl Accepted {
    fn bytes(&self) -> &[u8] {
        match self {
            Accepted::Event(encoded) => &encoded.bytes,
            #[cfg(feature = "lake")]
            Accepted::Row(row) => &row.bytes,
        }
    }

    fn into_bytes(self) -> Vec<u8> {
        match self {
            Accepted::Event(encoded) => encoded.bytes,
            #[cfg(feature = "lake")]
            Accepted::Row(row) => row.bytes,
        }
    }
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
        let max_record_bytes = service.max_record_bytes();
        #[cfg(feature = "ocsf")]
        let ocsf = hooks.engine.map(|engine| OcsfCheck {
            engine,
            fallback_region,
            #[cfg(feature = "lake")]
            rows: false,
        });
        let worker = Worker::new(
            transport,
            config.clone(),
            hooks.partition_key,
            hooks.on_failure,
        );
        Ok(Self::launch(
            &config,
            max_record_bytes,
            |rx| worker.run(rx),
            #[cfg(feature = "ocsf")]
            ocsf,
        ))
    }

    /// What every producer is: the byte budget, the encoder, the command channel and the
    /// worker task (spawned on the current Tokio runtime).
    fn launch<F: std::future::Future<Output = Report> + Send + 'static>(
        config: &ProducerConfig,
        max_record_bytes: usize,
        run: impl FnOnce(mpsc::UnboundedReceiver<Command>) -> F,
        #[cfg(feature = "ocsf")] ocsf: Option<OcsfCheck>,
    ) -> Producer {
        let (tx, rx) = mpsc::unbounded_channel();
        Producer {
            tx: Some(tx),
            buffer: Arc::new(Semaphore::new(config.max_buffered_bytes)),
            encoder: Encoder {
                stamp_uid: config.stamp_uid,
                max_bytes: max_record_bytes - 1,
            },
            handle: Some(tokio::spawn(run(rx))),
            #[cfg(feature = "ocsf")]
            ocsf,
        }
    }

    /// Starts the lake writer (the direct path) on the current Tokio runtime: every event is
    /// judged by `engine` and its row written into `store` under its class's source location.
    #[cfg(feature = "lake")]
    pub(crate) fn start_lake<S: crate::lake::store::ObjectStore>(
        store: S,
        sources: crate::lake::Sources,
        lake: crate::lake::LakeConfig,
        config: ProducerConfig,
        hooks: Hooks,
    ) -> Result<Producer, ConfigError> {
        let engine = hooks.engine.ok_or(crate::config::NO_ENGINE)?;
        // Every key stays inside the bucket (or the folder standing in for it).
        for class_uid in sources.classes() {
            if let Some(location) = sources.location(class_uid) {
                ocsf_firehose_contract::prefix::check_key_prefix(location)?;
            }
        }
        config.validate(crate::config::Service::Firehose)?;
        if lake.object_bytes == 0 {
            return Err(ConfigError::Invalid {
                field: "object_bytes",
                value: lake.object_bytes.to_string(),
                reason: "must be at least 1",
            });
        }
        let fallback_region = store.region();
        let worker = crate::lake::LakeWorker::new(
            store,
            sources,
            engine.tables().clone(),
            lake,
            config.clone(),
            hooks.on_failure,
            hooks.on_object,
        );
        let ocsf = OcsfCheck {
            engine,
            fallback_region,
            rows: true,
        };
        Ok(Self::launch(
            &config,
            ocsf_firehose_contract::limits::FIREHOSE_MAX_RECORD_BYTES,
            |rx| worker.run(rx),
            Some(ocsf),
        ))
    }

    /// Accepts an event, waiting while the buffer is full.
    pub async fn send<T: Serialize + ?Sized>(&self, event: &T) -> Result<Delivery, SendError> {
        let accepted = self.encode(event)?;
        self.enqueue(accepted).await
    }

    /// Accepts raw JSON (one object), waiting while the buffer is full.
    pub async fn send_json(&self, event: &[u8]) -> Result<Delivery, SendError> {
        #[cfg(feature = "ocsf")]
        if self.ocsf.is_some() {
            let value = serde_json::from_slice(event)
                .map_err(|e| SendError::Encode(EncodeError::of_raw(event, e)))?;
            return self.send_value(value).await;
        }
        let encoded = self.encoder.encode_json(event)?;
        self.enqueue(Accepted::Event(encoded)).await
    }

    /// Accepts an event already parsed (the caller read it to check it), waiting while the
    /// buffer is full; with an engine (feature `ocsf`) it is judged as it is, never parsed
    /// again.
    pub async fn send_value(&self, event: serde_json::Value) -> Result<Delivery, SendError> {
        #[cfg(feature = "ocsf")]
        if let Some(check) = &self.ocsf {
            let accepted = self.judged(check, event)?;
            return self.enqueue(accepted).await;
        }
        let encoded = self.encoder.encode(&event)?;
        self.enqueue(Accepted::Event(encoded)).await
    }

    /// Encodes an event; with an engine (feature `ocsf`), only when the Lambda's verdict
    /// accepts it.
    fn encode<T: Serialize + ?Sized>(&self, event: &T) -> Result<Accepted, SendError> {
        #[cfg(feature = "ocsf")]
        if let Some(check) = &self.ocsf {
            let value = serde_json::to_value(event)
                .map_err(|e| SendError::Encode(EncodeError::Serialize(e.to_string())))?;
            return self.judged(check, value);
        }
        Ok(Accepted::Event(self.encoder.encode(event)?))
    }

    /// The Lambda's verdict on `event` (feature `ocsf`): its error findings, or the normalized
    /// event encoded (the Lambda judges it identically), or on the direct path its row.
    #[cfg(feature = "ocsf")]
    fn judged(&self, check: &OcsfCheck, event: serde_json::Value) -> Result<Accepted, SendError> {
        let verdict = check.engine.judge(event, check.fallback_region.as_deref());
        if !verdict.is_accepted() {
            return Err(SendError::Invalid(verdict.errors().cloned().collect()));
        }
        #[cfg(feature = "lake")]
        if check.rows {
            let mut verdict = verdict;
            if self.encoder.stamp_uid {
                // As the stream paths stamp the encoded event (a uid never changes a verdict).
                crate::event::stamp_uid_into(&mut verdict.event);
            }
            let class_uid = verdict
                .event
                .get("class_uid")
                .and_then(serde_json::Value::as_i64);
            let (Some(row), Some(class_uid)) = (verdict.into_row(), class_uid) else {
                return Err(SendError::Invalid(Vec::new()));
            };
            let bytes = serde_json::to_vec(&row.event)
                .map_err(|e| SendError::Encode(EncodeError::Serialize(e.to_string())))?;
            return Ok(Accepted::Row(crate::command::LakeRow {
                bytes,
                class_uid,
                keys: row.partition,
            }));
        }
        Ok(Accepted::Event(self.encoder.encode(&verdict.event)?))
    }

    /// Accepts an event if the buffer has room now.
    pub fn try_send<T: Serialize + ?Sized>(&self, event: &T) -> Result<Delivery, TrySendError> {
        let accepted = self.encode(event)?;
        let permit = match self
            .buffer
            .clone()
            .try_acquire_many_owned(permits(accepted.bytes()))
        {
            Ok(permit) => permit,
            Err(tokio::sync::TryAcquireError::NoPermits) => {
                return Err(TrySendError::Full(accepted.into_bytes()))
            }
            Err(tokio::sync::TryAcquireError::Closed) => return Err(SendError::Closed.into()),
        };
        self.submit(accepted, permit).map_err(TrySendError::from)
    }

    async fn enqueue(&self, accepted: Accepted) -> Result<Delivery, SendError> {
        let permit = self
            .buffer
            .clone()
            .acquire_many_owned(permits(accepted.bytes()))
            .await
            .map_err(|_| SendError::Closed)?;
        self.submit(accepted, permit)
    }

    fn submit(
        &self,
        accepted: Accepted,
        permit: OwnedSemaphorePermit,
    ) -> Result<Delivery, SendError> {
        let (reply, receiver) = oneshot::channel();
        let tx = self.tx.as_ref().ok_or(SendError::Closed)?;
        let command = match accepted {
            Accepted::Event(encoded) => Command::Event {
                encoded,
                permit,
                reply,
            },
            #[cfg(feature = "lake")]
            Accepted::Row(row) => Command::Row { row, permit, reply },
        };
        tx.send(command).map_err(|_| SendError::Closed)?;
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
fn permits(bytes: &[u8]) -> u32 {
    u32::try_from(bytes.len().max(1)).unwrap_or(u32::MAX)
}

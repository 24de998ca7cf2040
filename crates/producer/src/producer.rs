//! The asynchronous producer: `send` / `try_send` with byte-bounded backpressure in front of the
//! task behind it. Two fronts over one generic [`Handle`]: the stream front hands encoded events
//! to the worker ([`crate::worker`]) that aggregates, batches and dispatches calls through one
//! transport; the lake front (feature `lake`) hands the Lambda's rows to the lake writer. Either
//! resolves every accepted event with its outcome: delivered, or failed with the reason and the
//! event back.

use serde::Serialize;
use serde_json::Value;

use crate::aggregate::PartitionKeyFn;
use std::sync::Arc;

use crate::command::{Handle, Item};
use crate::config::{ConfigError, ProducerConfig};
use crate::event::{EncodeError, EncodedEvent, Encoder};
use crate::outcome::{Delivery, FailureCallback, Report, SendError, TrySendError};
use crate::spool::{Recovery, Spool};
use crate::transport::Transport;
use crate::worker::Worker;

/// What a builder hands the producer besides the destination and the tuning.
#[derive(Default)]
pub(crate) struct Hooks {
    pub partition_key: Option<PartitionKeyFn>,
    pub on_failure: Option<FailureCallback>,
    /// The client-side verdict of a stream producer; on the direct path, the engine that
    /// replaces the destination's.
    #[cfg(feature = "ocsf")]
    pub engine: Option<ocsf_firehose_transform::Engine>,
    #[cfg(feature = "lake")]
    pub on_object: Option<crate::lake::ObjectCallback>,
    /// The durable spool of a stream producer.
    pub spool: Option<crate::spool::SpoolConfig>,
}

/// Streams events to Firehose or Kinesis, or writes them into the lake. Cheap to share behind
/// an `Arc`; dropping it without [`Producer::shutdown`] lets the task behind it deliver what was
/// accepted in the background.
pub struct Producer {
    front: Front,
    encoder: Encoder,
    task: Option<tokio::task::JoinHandle<Report>>,
    /// What the spool held at start, being sent again.
    replay: Option<tokio::task::JoinHandle<()>>,
    recovered: Recovered,
}

/// What a producer's spool held when the producer started ([`Producer::recovered`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Recovered {
    /// Entries an earlier run accepted and did not resolve: sent again.
    pub entries: u64,
    /// Segments whose entries end before their file (a write torn by the crash, or damage):
    /// the bytes after the last whole entry, not replayed.
    pub damage: Vec<crate::spool::Damage>,
    /// One past the highest position an earlier run's [`Producer::send_value_at`] put in the
    /// spool: where an input read in order goes on (`None`: no position was ever spooled).
    pub next_position: Option<u64>,
}

/// What the producer hands its task.
enum Front {
    /// Encoded events, judged first when the builder has an engine (feature `ocsf`).
    Stream(StreamFront),
    /// The Lambda's rows: every event is judged.
    #[cfg(feature = "lake")]
    Lake {
        handle: Handle<crate::command::LakeRow>,
        judge: Judge,
    },
}

/// The stream front: its handle and, with an engine (feature `ocsf`), its verdict.
struct StreamFront {
    handle: Handle<EncodedEvent>,
    #[cfg(feature = "ocsf")]
    judge: Option<Judge>,
}

impl StreamFront {
    /// An event encoded, and with an engine only when the Lambda's verdict accepts it.
    fn item<T: Serialize + ?Sized>(
        &self,
        encoder: &Encoder,
        input: Input<'_, T>,
    ) -> Result<EncodedEvent, SendError> {
        #[cfg(feature = "ocsf")]
        if let Some(judge) = &self.judge {
            return judge.event(encoder, input.into_value()?);
        }
        Ok(input.encode(encoder)?)
    }
}

/// An event judged and encoded by [`Producer::judge_value`]: ready for the producer's buffer.
#[derive(Debug)]
pub struct Judged(Ready);

/// What the front of a producer hands its buffer.
#[derive(Debug)]
enum Ready {
    Stream(EncodedEvent),
    #[cfg(feature = "lake")]
    Lake(crate::command::LakeRow),
}

/// An event as `send`, `send_json` and `send_value` take it.
enum Input<'a, T: ?Sized> {
    Typed(&'a T),
    Raw(&'a [u8]),
    Value(Value),
}

impl<T: Serialize + ?Sized> Input<'_, T> {
    /// The event as JSON, for the verdict.
    #[cfg(feature = "ocsf")]
    fn into_value(self) -> Result<Value, SendError> {
        match self {
            Input::Typed(event) => serde_json::to_value(event)
                .map_err(|e| SendError::Encode(EncodeError::Serialize(e.to_string()))),
            Input::Raw(raw) => serde_json::from_slice(raw)
                .map_err(|e| SendError::Encode(EncodeError::of_raw(raw, e))),
            Input::Value(value) => Ok(value),
        }
    }

    /// The event encoded for a stream, unjudged.
    fn encode(self, encoder: &Encoder) -> Result<EncodedEvent, EncodeError> {
        match self {
            Input::Typed(event) => encoder.encode(event),
            Input::Raw(raw) => encoder.encode_json(raw),
            Input::Value(value) => encoder.encode(&value),
        }
    }
}

/// The client-side verdict (feature `ocsf`): the engine, configured as the Lambda is, and the
/// region of the destination (the Lambda's last fallback for `region`).
#[cfg(feature = "ocsf")]
struct Judge {
    engine: ocsf_firehose_transform::Engine,
    fallback_region: Option<String>,
}

#[cfg(feature = "ocsf")]
impl Judge {
    /// The Lambda's verdict: its error findings, or the accepted (normalized) event.
    fn accept(&self, event: Value) -> Result<ocsf_firehose_transform::Verdict<'_>, SendError> {
        let verdict = self.engine.judge(event, self.fallback_region.as_deref());
        if !verdict.is_accepted() {
            return Err(SendError::Invalid(verdict.errors().cloned().collect()));
        }
        Ok(verdict)
    }

    /// An accepted event encoded for a stream (the Lambda judges it identically again).
    fn event(&self, encoder: &Encoder, event: Value) -> Result<EncodedEvent, SendError> {
        Ok(encoder.encode(&self.accept(event)?.event)?)
    }

    /// An accepted event's row for the lake writer.
    #[cfg(feature = "lake")]
    fn row(&self, encoder: &Encoder, event: Value) -> Result<crate::command::LakeRow, SendError> {
        let mut verdict = self.accept(event)?;
        if encoder.stamp_uid {
            // As the stream paths stamp the encoded event (a uid never changes a verdict).
            crate::event::stamp_uid_into(&mut verdict.event);
        }
        let class_uid = verdict.event.get("class_uid").and_then(Value::as_i64);
        let (Some(row), Some(class_uid)) = (verdict.into_row(), class_uid) else {
            return Err(SendError::Invalid(Vec::new()));
        };
        let bytes = ocsf_firehose_contract::json_text::to_vec(&row.event);
        Ok(crate::command::LakeRow {
            bytes,
            class_uid,
            keys: row.partition,
            object: None,
        })
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
        let judge = hooks.engine.map(|engine| Judge {
            engine,
            fallback_region: transport.region(),
        });
        let (spool, recovery) = open_spool(hooks.spool)?;
        let (handle, rx) = Handle::new(config.max_buffered_bytes, spool);
        let encoder = encoder(&config, service.max_record_bytes());
        let worker = Worker::new(transport, config, hooks.partition_key, hooks.on_failure);
        let task = tokio::spawn(worker.run(rx));
        // An entry is the encoded event as it was accepted (its `metadata.uid` stamped, its
        // verdict given): framed again without a second stamp.
        let reencoder = Encoder {
            stamp_uid: false,
            ..encoder.clone()
        };
        let (replay, recovered) = start_replay(&handle, recovery, move |bytes, _| {
            reencoder.encode_json(bytes).map_err(|e| e.code())
        });
        Ok(Producer {
            front: Front::Stream(StreamFront {
                handle,
                #[cfg(feature = "ocsf")]
                judge,
            }),
            encoder,
            task: Some(task),
            replay,
            recovered,
        })
    }

    /// Starts the lake writer (the direct path) on the current Tokio runtime: every event is
    /// judged by `engine` and its row written into `store` under its class's source location.
    #[cfg(feature = "lake")]
    pub(crate) fn start_lake<S: crate::lake::store::ObjectStore>(
        store: S,
        sources: crate::lake::Sources,
        lake: crate::lake::LakeConfig,
        config: ProducerConfig,
        engine: ocsf_firehose_transform::Engine,
        hooks: Hooks,
    ) -> Result<Producer, ConfigError> {
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
        let judge = Judge {
            fallback_region: store.region(),
            engine,
        };
        let (spool, recovery) = open_spool(hooks.spool)?;
        let (handle, rx) = Handle::new(config.max_buffered_bytes, spool.clone());
        let (replay, recovered) = start_replay(&handle, recovery, |bytes, object| {
            let mut row =
                crate::command::LakeRow::from_spooled(bytes).ok_or("spool_entry_invalid")?;
            row.object = object.map(|(key, rows)| crate::command::ObjectOfRow { key, rows });
            Ok(row)
        });
        let encoder = encoder(
            &config,
            ocsf_firehose_contract::limits::FIREHOSE_MAX_RECORD_BYTES,
        );
        let worker = crate::lake::LakeWorker::new(
            store,
            sources,
            judge.engine.tables().clone(),
            lake,
            config,
            hooks.on_failure,
            hooks.on_object,
        )
        .with_spool(spool);
        Ok(Producer {
            front: Front::Lake { handle, judge },
            encoder,
            task: Some(tokio::spawn(worker.run(rx))),
            replay,
            recovered,
        })
    }

    /// Accepts an event, waiting while the buffer is full.
    pub async fn send<T: Serialize + ?Sized>(&self, event: &T) -> Result<Delivery, SendError> {
        self.accept(Input::Typed(event), None).await
    }

    /// Accepts raw JSON (one object), waiting while the buffer is full.
    pub async fn send_json(&self, event: &[u8]) -> Result<Delivery, SendError> {
        self.accept(Input::<()>::Raw(event), None).await
    }

    /// As [`Producer::send_json`], with the event's `position` in an input read in order (see
    /// [`Producer::send_value_at`]).
    pub async fn send_json_at(&self, event: &[u8], position: u64) -> Result<Delivery, SendError> {
        self.accept(Input::<()>::Raw(event), Some(position)).await
    }

    /// Accepts an event already parsed (the caller read it to check it), waiting while the
    /// buffer is full; with an engine (feature `ocsf`) it is judged as it is, never parsed
    /// again.
    pub async fn send_value(&self, event: Value) -> Result<Delivery, SendError> {
        self.accept(Input::<()>::Value(event), None).await
    }

    /// As [`Producer::send_value`], for a caller that reads its input in order: `position` is
    /// the event's place in that input (growing from call to call), kept with the event in the
    /// spool. After a crash, [`Recovered::next_position`] is one past the highest position the
    /// spool took: the caller reads on from there, and nothing before it is sent twice (what
    /// was accepted and not delivered is in the spool's replay). Without a spool it is
    /// `send_value`.
    pub async fn send_value_at(&self, event: Value, position: u64) -> Result<Delivery, SendError> {
        self.accept(Input::<()>::Value(event), Some(position)).await
    }

    /// Accepts an event if the buffer has room now.
    pub fn try_send<T: Serialize + ?Sized>(&self, event: &T) -> Result<Delivery, TrySendError> {
        self.try_send_judged(self.judged(Input::Typed(event))?)
    }

    /// Accepts an event already parsed if the buffer has room now (as [`Producer::send_value`]:
    /// with an engine it is judged as it is, and a rejected event is an error whether or not the
    /// buffer has room).
    pub fn try_send_value(&self, event: Value) -> Result<Delivery, TrySendError> {
        self.try_send_judged(self.judge_value(event)?)
    }

    /// As [`Producer::send_value`], waiting at most `wait` for room in the buffer: `Full`
    /// (nothing of the event kept) when there is none by then. For a caller that answers
    /// someone (an HTTP agent) and must not wait for a stalled destination.
    pub async fn send_value_within(
        &self,
        event: Value,
        wait: std::time::Duration,
    ) -> Result<Delivery, TrySendError> {
        self.send_judged_within(self.judge_value(event)?, wait)
            .await
    }

    /// The work of a send before the buffer: the Lambda's verdict (with an engine) and the
    /// encoding, or the lake row. Plain CPU work, callable from any thread: a caller with many
    /// events judges them where it likes (a blocking pool, a thread per core) and hands them
    /// over in order with [`Producer::send_judged`] and its kin. A rejected event is the same
    /// error as a send's.
    pub fn judge_value(&self, event: Value) -> Result<Judged, SendError> {
        self.judged(Input::<()>::Value(event))
    }

    /// Accepts an event judged by [`Producer::judge_value`], waiting while the buffer is full;
    /// `position` as for [`Producer::send_value_at`].
    pub async fn send_judged(
        &self,
        judged: Judged,
        position: Option<u64>,
    ) -> Result<Delivery, SendError> {
        match (&self.front, judged.0) {
            (Front::Stream(front), Ready::Stream(item)) => {
                front.handle.enqueue(item, position).await
            }
            #[cfg(feature = "lake")]
            (Front::Lake { handle, .. }, Ready::Lake(row)) => handle.enqueue(row, position).await,
            #[cfg(feature = "lake")]
            _ => Err(SendError::JudgedElsewhere),
        }
    }

    /// Accepts events judged by [`Producer::judge_value`] in order, each with its position (as
    /// [`Producer::send_judged`]), waiting while the buffer is full: the outcome of each, in
    /// order. One spool `write` and one wake of the producer's task serve a run of them, where
    /// `send_judged` makes one of each per event: for a caller handing over batches of an
    /// input (`ocsf-firehose upload` and `send`). An event judged by a producer of the other
    /// kind is `JudgedElsewhere`, in its place.
    pub async fn send_judged_all(
        &self,
        events: Vec<(Judged, Option<u64>)>,
    ) -> Vec<Result<Delivery, SendError>> {
        match &self.front {
            Front::Stream(front) => {
                enqueue_own(&front.handle, events, |ready| match ready {
                    Ready::Stream(item) => Some(item),
                    #[cfg(feature = "lake")]
                    Ready::Lake(_) => None,
                })
                .await
            }
            #[cfg(feature = "lake")]
            Front::Lake { handle, .. } => {
                enqueue_own(handle, events, |ready| match ready {
                    Ready::Lake(row) => Some(row),
                    Ready::Stream(_) => None,
                })
                .await
            }
        }
    }

    /// Accepts an event judged by [`Producer::judge_value`] if the buffer has room now.
    pub fn try_send_judged(&self, judged: Judged) -> Result<Delivery, TrySendError> {
        match (&self.front, judged.0) {
            (Front::Stream(front), Ready::Stream(item)) => front.handle.try_enqueue(item),
            #[cfg(feature = "lake")]
            (Front::Lake { handle, .. }, Ready::Lake(row)) => handle.try_enqueue(row),
            #[cfg(feature = "lake")]
            _ => Err(SendError::JudgedElsewhere.into()),
        }
    }

    /// As [`Producer::send_value_within`], for an event judged by [`Producer::judge_value`].
    pub async fn send_judged_within(
        &self,
        judged: Judged,
        wait: std::time::Duration,
    ) -> Result<Delivery, TrySendError> {
        match (&self.front, judged.0) {
            (Front::Stream(front), Ready::Stream(item)) => {
                front.handle.enqueue_within(item, wait).await
            }
            #[cfg(feature = "lake")]
            (Front::Lake { handle, .. }, Ready::Lake(row)) => {
                handle.enqueue_within(row, wait).await
            }
            #[cfg(feature = "lake")]
            _ => Err(SendError::JudgedElsewhere.into()),
        }
    }

    fn judged<T: Serialize + ?Sized>(&self, input: Input<'_, T>) -> Result<Judged, SendError> {
        Ok(Judged(match &self.front {
            Front::Stream(front) => Ready::Stream(front.item(&self.encoder, input)?),
            #[cfg(feature = "lake")]
            Front::Lake { judge, .. } => {
                Ready::Lake(judge.row(&self.encoder, input.into_value()?)?)
            }
        }))
    }

    async fn accept<T: Serialize + ?Sized>(
        &self,
        input: Input<'_, T>,
        position: Option<u64>,
    ) -> Result<Delivery, SendError> {
        self.send_judged(self.judged(input)?, position).await
    }

    /// Sends everything accepted so far and waits until each event is resolved.
    pub async fn flush(&self) -> Report {
        match &self.front {
            Front::Stream(front) => front.handle.flush().await,
            #[cfg(feature = "lake")]
            Front::Lake { handle, .. } => handle.flush().await,
        }
    }

    /// What the spool held when the producer started (nothing without a spool).
    pub fn recovered(&self) -> &Recovered {
        &self.recovered
    }

    /// Delivers everything accepted (what the spool held at start included), stops the task
    /// behind the producer, and reports what was not delivered.
    pub async fn shutdown(mut self) -> Report {
        if let Some(replay) = self.replay.take() {
            let _ = replay.await;
        }
        match &mut self.front {
            Front::Stream(front) => front.handle.close(),
            #[cfg(feature = "lake")]
            Front::Lake { handle, .. } => handle.close(),
        }
        match self.task.take() {
            Some(task) => task.await.unwrap_or_default(),
            None => Report::default(),
        }
    }
}

/// Hands the events `own` takes (those judged by a producer of `handle`'s kind) over in one
/// run; the others are `JudgedElsewhere`, in their places.
async fn enqueue_own<T: Item>(
    handle: &Handle<T>,
    events: Vec<(Judged, Option<u64>)>,
    own: fn(Ready) -> Option<T>,
) -> Vec<Result<Delivery, SendError>> {
    let mut outcomes = Vec::with_capacity(events.len());
    let mut items = Vec::with_capacity(events.len());
    for (judged, position) in events {
        match own(judged.0) {
            Some(item) => {
                items.push((item, position));
                outcomes.push(None);
            }
            None => outcomes.push(Some(Err(SendError::JudgedElsewhere))),
        }
    }
    let mut handed = handle.enqueue_all(items).await.into_iter();
    outcomes
        .into_iter()
        .map(|outcome| {
            outcome
                .or_else(|| handed.next())
                .unwrap_or(Err(SendError::Closed))
        })
        .collect()
}

/// Opens the spool of `config`, if any: the spool and what it held.
fn open_spool(
    config: Option<crate::spool::SpoolConfig>,
) -> Result<(Option<Arc<Spool>>, Option<Recovery>), ConfigError> {
    Ok(match config {
        Some(config) => {
            let (spool, recovery) = Spool::open(config)?;
            (Some(spool), Some(recovery))
        }
        None => (None, None),
    })
}

/// The object a replayed lake row is stored again in: its key and its rows.
type ObjectAgain = Option<(Arc<str>, usize)>;

/// Starts sending again what the spool held at start, each entry made an item by `decode` (with
/// the object it must be stored again in, for the lake writer's rows).
fn start_replay<T: Item>(
    handle: &Handle<T>,
    recovery: Option<Recovery>,
    decode: impl Fn(&[u8], ObjectAgain) -> Result<T, &'static str> + Send + 'static,
) -> (Option<tokio::task::JoinHandle<()>>, Recovered) {
    let Some(recovery) = recovery else {
        return (None, Recovered::default());
    };
    let in_objects: usize = recovery.objects.iter().map(|(_, rows)| rows.len()).sum();
    let recovered = Recovered {
        entries: (recovery.entries.len() + in_objects) as u64,
        damage: recovery.damage.clone(),
        next_position: recovery.next_position,
    };
    let task = tokio::spawn(replay(handle.sender(), recovery, decode));
    (Some(task), recovered)
}

/// Hands over the spool's entries, the rows of objects to store again first: an entry that is
/// no item any more (the producer's limits changed) leaves the spool with a warning; one not
/// handed over (the producer shut down first) stays for the next start.
async fn replay<T: Item>(
    handle: Handle<T>,
    recovery: Recovery,
    decode: impl Fn(&[u8], ObjectAgain) -> Result<T, &'static str>,
) {
    let objects = recovery.objects.into_iter().flat_map(|(key, rows)| {
        let object: Arc<str> = key.into();
        let count = rows.len();
        rows.into_iter()
            .map(move |(ticket, bytes)| (ticket, bytes, Some((Arc::clone(&object), count))))
    });
    let entries = recovery
        .entries
        .into_iter()
        .map(|(ticket, bytes)| (ticket, bytes, None));
    for (ticket, bytes, object) in objects.chain(entries) {
        let item = match decode(&bytes, object) {
            Ok(item) => item,
            Err(code) => {
                tracing::warn!(code, bytes = bytes.len(), "spool entry dropped");
                ticket.ack();
                continue;
            }
        };
        if handle.enqueue_spooled(item, ticket).await.is_err() {
            return;
        }
    }
}

/// The encoder of a producer: `metadata.uid` stamping as configured, events up to one byte
/// under the record limit (a JSON-lines record adds its newline).
fn encoder(config: &ProducerConfig, max_record_bytes: usize) -> Encoder {
    Encoder {
        stamp_uid: config.stamp_uid,
        max_bytes: max_record_bytes - 1,
    }
}

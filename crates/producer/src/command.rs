//! The front of every producer, generic over what it carries (tower's `buffer`: a handle that
//! sends a request and its reply to one worker): [`Handle<T>`] holds the byte budget and the
//! channel to the task behind it, the stream worker (`T` = an encoded event, `worker.rs`) or the
//! lake writer (`T` = the Lambda's row, `lake/`). Each worker receives only its own items, so
//! neither has an arm for the other's.

use std::borrow::Cow;
use std::sync::Arc;

#[cfg(feature = "lake")]
use ocsf_firehose_contract::partition::PartitionKeys;
use tokio::sync::{mpsc, oneshot, OwnedSemaphorePermit, Semaphore};

use crate::event::EncodedEvent;
use crate::outcome::{Delivery, Reply, Report, SendError, TrySendError};
use crate::spool::{Spool, Ticket};

/// What a producer asks of its worker.
pub(crate) enum Command<T> {
    /// One accepted item, holding its share of the byte budget until it is resolved.
    Item {
        item: T,
        permit: OwnedSemaphorePermit,
        reply: Reply,
    },
    /// Resolve everything accepted so far, then report.
    Flush(oneshot::Sender<Report>),
}

/// What a worker takes: its bytes count against the byte budget.
pub(crate) trait Item: Send + Sized + 'static {
    /// The item's bytes.
    fn bytes(&self) -> &[u8];
    /// The bytes, handed back when the buffer is full.
    fn into_bytes(self) -> Vec<u8>;
    /// The item as the spool keeps it (default: its bytes).
    fn spooled(&self) -> Cow<'_, [u8]> {
        Cow::Borrowed(self.bytes())
    }
}

impl Item for EncodedEvent {
    fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    fn into_bytes(self) -> Vec<u8> {
        self.bytes
    }
}

/// The row of one accepted event, as the Lambda emits it.
#[cfg(feature = "lake")]
#[derive(Debug)]
pub struct LakeRow {
    /// The row's JSON (fitted to the class's table).
    pub bytes: Vec<u8>,
    /// The event's class.
    pub class_uid: i64,
    /// The event's Security Lake partition.
    pub keys: PartitionKeys,
    /// Set on a row of an object the spool's replay stores again whole under its key.
    pub(crate) object: Option<ObjectOfRow>,
}

/// The object a replayed row belongs to: its key and how many rows it holds.
#[cfg(feature = "lake")]
#[derive(Debug, Clone)]
pub(crate) struct ObjectOfRow {
    pub key: Arc<str>,
    pub rows: usize,
}

#[cfg(feature = "lake")]
impl Item for LakeRow {
    fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    fn into_bytes(self) -> Vec<u8> {
        self.bytes
    }

    /// `[class_uid: i64 LE]` and the three partition values, each `[length: u8][UTF-8]`, then
    /// the row.
    fn spooled(&self) -> Cow<'_, [u8]> {
        let keys = [
            &self.keys.region,
            &self.keys.account_id,
            &self.keys.event_day,
        ];
        let mut out = Vec::with_capacity(
            8 + 3 + keys.iter().map(|k| k.len()).sum::<usize>() + self.bytes.len(),
        );
        out.extend_from_slice(&self.class_uid.to_le_bytes());
        for key in keys {
            // Partition values are short (a region, 12 digits, 8 digits); longer is no row.
            let length = u8::try_from(key.len()).unwrap_or(u8::MAX);
            out.push(length);
            out.extend_from_slice(&key.as_bytes()[..usize::from(length)]);
        }
        out.extend_from_slice(&self.bytes);
        Cow::Owned(out)
    }
}

#[cfg(feature = "lake")]
impl LakeRow {
    /// A row as [`Item::spooled`] kept it; `None` for bytes that are not one.
    pub(crate) fn from_spooled(spooled: &[u8]) -> Option<LakeRow> {
        let class_uid = i64::from_le_bytes(spooled.get(..8)?.try_into().ok()?);
        let mut at = 8;
        let mut keys: [String; 3] = Default::default();
        for key in &mut keys {
            let length = usize::from(*spooled.get(at)?);
            *key = String::from_utf8(spooled.get(at + 1..at + 1 + length)?.to_vec()).ok()?;
            at += 1 + length;
        }
        let [region, account_id, event_day] = keys;
        Some(LakeRow {
            bytes: spooled.get(at..)?.to_vec(),
            class_uid,
            keys: PartitionKeys {
                region,
                account_id,
                event_day,
            },
            object: None,
        })
    }
}

/// The sending side of a worker: the byte budget, the spool (when the producer has one) and
/// the command channel.
pub(crate) struct Handle<T> {
    tx: Option<mpsc::UnboundedSender<Command<T>>>,
    buffer: Arc<Semaphore>,
    spool: Option<Arc<Spool>>,
}

impl<T: Item> Handle<T> {
    /// A handle with a budget of `max_buffered_bytes` and an optional spool every item is
    /// appended to before it is accepted, and the receiver its worker reads.
    pub(crate) fn new(
        max_buffered_bytes: usize,
        spool: Option<Arc<Spool>>,
    ) -> (Self, mpsc::UnboundedReceiver<Command<T>>) {
        let (tx, rx) = mpsc::unbounded_channel();
        let handle = Handle {
            tx: Some(tx),
            buffer: Arc::new(Semaphore::new(max_buffered_bytes)),
            spool,
        };
        (handle, rx)
    }

    /// A second handle onto the same worker, budget and spool (the spool's replay).
    pub(crate) fn sender(&self) -> Self {
        Handle {
            tx: self.tx.clone(),
            buffer: Arc::clone(&self.buffer),
            spool: self.spool.clone(),
        }
    }

    /// Hands `item` over, waiting while the buffer (or the spool) is full; with a spool, once
    /// the item is in it, with its input `position` if it has one.
    pub(crate) async fn enqueue(
        &self,
        item: T,
        position: Option<u64>,
    ) -> Result<Delivery, SendError> {
        let permit = self.permit(permits(item.bytes())).await?;
        let ticket = match &self.spool {
            Some(spool) => Some(spool.append(&item.spooled(), position).await?),
            None => None,
        };
        self.submit(item, permit, ticket)
    }

    /// Hands over `items` in order, each with its input position, as [`Handle::enqueue`] each
    /// would, but with one spool `write` and one wake of the worker for a run of them: the
    /// outcome of each, in order. When the buffer fills midway, the run taken so far goes
    /// first (its items may be what frees the budget), then the rest waits for room.
    pub(crate) async fn enqueue_all(
        &self,
        items: Vec<(T, Option<u64>)>,
    ) -> Vec<Result<Delivery, SendError>> {
        let mut outcomes = Vec::with_capacity(items.len());
        let mut run = Vec::with_capacity(items.len());
        for (item, position) in items {
            let wanted = permits(item.bytes());
            let permit = match Arc::clone(&self.buffer).try_acquire_many_owned(wanted) {
                Ok(permit) => Ok(permit),
                Err(tokio::sync::TryAcquireError::Closed) => Err(SendError::Closed),
                Err(tokio::sync::TryAcquireError::NoPermits) => {
                    self.submit_run(std::mem::take(&mut run), &mut outcomes)
                        .await;
                    self.permit(wanted).await
                }
            };
            match permit {
                Ok(permit) => run.push((item, position, permit)),
                Err(error) => {
                    self.submit_run(std::mem::take(&mut run), &mut outcomes)
                        .await;
                    outcomes.push(Err(error));
                }
            }
        }
        self.submit_run(run, &mut outcomes).await;
        outcomes
    }

    /// Spools a run of items holding their permits in one `write`, then submits each.
    async fn submit_run(
        &self,
        run: Vec<(T, Option<u64>, OwnedSemaphorePermit)>,
        outcomes: &mut Vec<Result<Delivery, SendError>>,
    ) {
        if run.is_empty() {
            return;
        }
        // One ticket per item, in order, when spooled.
        let mut tickets = match &self.spool {
            Some(spool) => {
                let spooled: Vec<_> = run.iter().map(|(item, ..)| item.spooled()).collect();
                let entries: Vec<(&[u8], Option<u64>)> = spooled
                    .iter()
                    .zip(&run)
                    .map(|(bytes, (_, position, _))| (bytes.as_ref(), *position))
                    .collect();
                match spool.append_all(&entries).await {
                    Ok(tickets) => Some(tickets.into_iter()),
                    Err(error) => {
                        outcomes.extend(run.iter().map(|_| Err(SendError::from(error.clone()))));
                        return;
                    }
                }
            }
            None => None,
        };
        for (item, _, permit) in run {
            let ticket = tickets.as_mut().and_then(Iterator::next);
            outcomes.push(self.submit(item, permit, ticket));
        }
    }

    /// Hands over `item`, already in the spool under `ticket`, waiting while the buffer is
    /// full.
    pub(crate) async fn enqueue_spooled(
        &self,
        item: T,
        ticket: Ticket,
    ) -> Result<Delivery, SendError> {
        let permit = self.permit(permits(item.bytes())).await?;
        self.submit(item, permit, Some(ticket))
    }

    /// Hands `item` over, waiting at most `wait` for room in the buffer (`Full` then, with
    /// the event back).
    pub(crate) async fn enqueue_within(
        &self,
        item: T,
        wait: std::time::Duration,
    ) -> Result<Delivery, TrySendError> {
        // Cancel-safe: a semaphore acquisition dropped at the timeout holds nothing.
        let permit = match tokio::time::timeout(wait, self.permit(permits(item.bytes()))).await {
            Ok(permit) => permit?,
            Err(_) => return Err(TrySendError::Full(item.into_bytes())),
        };
        let ticket = match &self.spool {
            Some(spool) => Some(
                spool
                    .append(&item.spooled(), None)
                    .await
                    .map_err(SendError::from)?,
            ),
            None => None,
        };
        self.submit(item, permit, ticket)
            .map_err(TrySendError::from)
    }

    async fn permit(&self, permits: u32) -> Result<OwnedSemaphorePermit, SendError> {
        Arc::clone(&self.buffer)
            .acquire_many_owned(permits)
            .await
            .map_err(|_| SendError::Closed)
    }

    /// Hands `item` over if the buffer has room now.
    pub(crate) fn try_enqueue(&self, item: T) -> Result<Delivery, TrySendError> {
        let permit = match Arc::clone(&self.buffer).try_acquire_many_owned(permits(item.bytes())) {
            Ok(permit) => permit,
            Err(tokio::sync::TryAcquireError::NoPermits) => {
                return Err(TrySendError::Full(item.into_bytes()))
            }
            Err(tokio::sync::TryAcquireError::Closed) => return Err(SendError::Closed.into()),
        };
        // With a spool: written, synced as the durability says without waiting for it.
        let ticket = match &self.spool {
            Some(spool) => match spool
                .try_append_now(&item.spooled(), None)
                .map_err(SendError::from)?
            {
                Some(ticket) => Some(ticket),
                None => return Err(TrySendError::Full(item.into_bytes())),
            },
            None => None,
        };
        self.submit(item, permit, ticket)
            .map_err(TrySendError::from)
    }

    fn submit(
        &self,
        item: T,
        permit: OwnedSemaphorePermit,
        ticket: Option<Ticket>,
    ) -> Result<Delivery, SendError> {
        let (sender, receiver) = oneshot::channel();
        let tx = self.tx.as_ref().ok_or(SendError::Closed)?;
        tx.send(Command::Item {
            item,
            permit,
            reply: Reply::new(sender, ticket),
        })
        .map_err(|_| SendError::Closed)?;
        Ok(Delivery::new(receiver))
    }

    /// Asks the worker to resolve everything accepted so far; its report.
    pub(crate) async fn flush(&self) -> Report {
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

    /// Closes the channel and the budget: the worker delivers what it holds, then stops.
    pub(crate) fn close(&mut self) {
        self.tx = None;
        self.buffer.close();
    }
}

/// Buffer permits an item holds: its size (at least 1).
fn permits(bytes: &[u8]) -> u32 {
    u32::try_from(bytes.len().max(1)).unwrap_or(u32::MAX)
}

//! The producer's worker task: accepts encoded events from `Producer`, aggregates them into
//! records, packs records into calls, dispatches at most `max_in_flight` calls at once through
//! its transport, and resolves every event with its outcome (metrics and spans in `telemetry`).
//!
//! A call is one attempt. Records to retry leave the call: they wait in the worker's retry
//! queue for their backoff (and, after a failed call, for the retry budget), then go out again
//! packed with other retries, ahead of new records. A slot in flight is never held by a sleeping
//! retry, so a high failure rate slows delivery by the retried volume, not by the backoff.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, VecDeque};
use std::sync::Arc;

use tokio::sync::{mpsc, oneshot, OwnedSemaphorePermit};
use tokio::task::JoinSet;
use tokio::time::Instant;
use tracing::Instrument;

use crate::aggregate::{Aggregator, PartitionKeyFn, Record};
use crate::batch::Batcher;
use crate::command::Command;
use crate::config::ProducerConfig;
use crate::event::EncodedEvent;
use crate::outcome::{FailureCallback, Outcomes, Reply, Report};
use crate::retry::{
    attempt, give_up, Attempt, Failure, GiveUp, Next, Payment, RetryPolicy, RetryState,
};
use crate::telemetry;
use crate::transport::Transport;

struct Pending {
    event: Vec<u8>,
    accepted: Instant,
    /// Failed attempts of the records that carried it.
    attempts: u32,
    reply: Reply,
    _permit: OwnedSemaphorePermit,
}

/// Records waiting to be sent again.
struct Waiting {
    /// When they may go.
    at: Instant,
    /// Order among those due at the same instant.
    seq: u64,
    records: Vec<Record<u64>>,
    /// Their retry still has to be paid from the budget (a failed call's).
    unpaid: bool,
    /// The last failure, given when they are given up.
    failure: Failure,
    /// The deadline of their oldest event.
    deadline: Instant,
}

impl PartialEq for Waiting {
    fn eq(&self, other: &Self) -> bool {
        (self.at, self.seq) == (other.at, other.seq)
    }
}

impl Eq for Waiting {}

impl PartialOrd for Waiting {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Waiting {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (self.at, self.seq).cmp(&(other.at, other.seq))
    }
}

/// The task behind a `Producer`: aggregates, batches, dispatches and resolves.
pub(crate) struct Worker<T> {
    transport: Arc<T>,
    config: ProducerConfig,
    partition_key: Option<PartitionKeyFn>,
    aggregator: Aggregator<u64>,
    batcher: Batcher<u64>,
    ready: VecDeque<Vec<Record<u64>>>,
    /// Records waiting for their retry, earliest first.
    retries: BinaryHeap<Reverse<Waiting>>,
    /// Packs due retries into calls.
    retry_batcher: Batcher<u64>,
    retry_seq: u64,
    in_flight: JoinSet<Attempt<u64>>,
    pending: HashMap<u64, Pending>,
    next_id: u64,
    oldest_buffered: Option<Instant>,
    /// Bytes of the events in `pending`.
    buffered_bytes: usize,
    flushes: Vec<oneshot::Sender<Report>>,
    outcomes: Outcomes,
    /// The configuration's retry policy, with the budget every call of this producer pays.
    policy: Arc<RetryPolicy>,
    /// The backoff's random draws.
    jitter: fastrand::Rng,
}

impl<T: Transport> Worker<T> {
    pub(crate) fn new(
        transport: T,
        config: ProducerConfig,
        partition_key: Option<PartitionKeyFn>,
        on_failure: Option<FailureCallback>,
    ) -> Self {
        let service = transport.service();
        let aggregator = service.aggregator(config.aggregate, config.target_bytes(service));
        let limits = service.call_limits();
        let policy = Arc::new(config.retry_policy());
        Worker {
            transport: Arc::new(transport),
            config,
            partition_key,
            aggregator,
            batcher: Batcher::new(limits),
            ready: VecDeque::new(),
            retries: BinaryHeap::new(),
            retry_batcher: Batcher::new(limits),
            retry_seq: 0,
            in_flight: JoinSet::new(),
            pending: HashMap::new(),
            next_id: 0,
            oldest_buffered: None,
            buffered_bytes: 0,
            flushes: Vec::new(),
            outcomes: Outcomes::new(on_failure),
            policy,
            jitter: fastrand::Rng::new(),
        }
    }

    pub(crate) async fn run(
        mut self,
        mut rx: mpsc::UnboundedReceiver<Command<EncodedEvent>>,
    ) -> Report {
        let mut open = true;
        loop {
            let linger_at = self.oldest_buffered.map(|t| t + self.config.linger);
            let retry_at = self.retries.peek().map(|Reverse(waiting)| waiting.at);
            tokio::select! {
                command = rx.recv(), if open => match command {
                    Some(Command::Item { item, permit, reply }) => self.accept(item, permit, reply),
                    Some(Command::Flush(reply)) => {
                        self.flush_buffers();
                        self.flushes.push(reply);
                    }
                    None => {
                        open = false;
                        self.flush_buffers();
                    }
                },
                Some(done) = self.in_flight.join_next(), if !self.in_flight.is_empty() => {
                    if let Ok(report) = done {
                        self.resolve(report);
                    }
                }
                () = sleep_until(linger_at), if linger_at.is_some() => self.flush_buffers(),
                () = sleep_until(retry_at), if retry_at.is_some() => self.release_retries(),
            }
            self.dispatch();
            if self.pending.is_empty() {
                for reply in self.flushes.drain(..) {
                    let _ = reply.send(std::mem::take(&mut self.outcomes.report));
                }
                if !open {
                    return std::mem::take(&mut self.outcomes.report);
                }
            }
        }
    }

    fn accept(&mut self, encoded: EncodedEvent, permit: OwnedSemaphorePermit, reply: Reply) {
        let id = self.next_id;
        self.next_id += 1;
        let now = Instant::now();
        self.pending.insert(
            id,
            Pending {
                event: encoded.bytes.clone(),
                accepted: now,
                attempts: 0,
                reply,
                _permit: permit,
            },
        );
        metrics::counter!(telemetry::EVENTS_ACCEPTED).increment(1);
        self.buffered_bytes += encoded.bytes.len();
        metrics::gauge!(telemetry::BUFFERED_BYTES).set(self.buffered_bytes as f64);
        let partition_key = self.partition_key.as_ref();
        let records = self
            .aggregator
            .push(id, encoded, |event| partition_key.map(|key| key(event)));
        self.oldest_buffered.get_or_insert(now);
        for record in records {
            let full = self.batcher.push(record);
            self.ready.extend(full);
        }
    }

    /// Closes open records and the partial batch (linger expired, flush or shutdown).
    fn flush_buffers(&mut self) {
        for record in self.aggregator.flush() {
            let full = self.batcher.push(record);
            self.ready.extend(full);
        }
        if !self.batcher.is_empty() {
            self.ready.push_back(self.batcher.take());
        }
        self.oldest_buffered = None;
    }

    /// Starts ready calls while there is room in flight.
    fn dispatch(&mut self) {
        while self.in_flight.len() < self.config.max_in_flight {
            let Some(records) = self.ready.pop_front() else {
                break;
            };
            let now = Instant::now();
            let in_buffer = metrics::histogram!(telemetry::SECONDS_IN_BUFFER);
            // One pass over the call's events: the buffer time of first sends, and the oldest
            // event, whose deadline bounds the call.
            let mut oldest = now;
            for pending in records
                .iter()
                .flat_map(|r| &r.events)
                .filter_map(|id| self.pending.get(id))
            {
                oldest = oldest.min(pending.accepted);
                if pending.attempts == 0 {
                    in_buffer.record((now - pending.accepted).as_secs_f64());
                }
            }
            let bytes = records.iter().map(Record::size).sum::<usize>();
            metrics::histogram!(telemetry::RECORDS_PER_CALL).record(records.len() as f64);
            metrics::histogram!(telemetry::BYTES_PER_CALL).record(bytes as f64);
            let span = tracing::debug_span!(
                telemetry::CALL_SPAN,
                service = self.transport.service().name(),
                records = records.len(),
                bytes
            );
            let limit = self.policy.attempt_limit(self.policy.deadline(oldest), now);
            let transport = Arc::clone(&self.transport);
            let policy = Arc::clone(&self.policy);
            self.in_flight.spawn(
                async move { attempt(transport.as_ref(), records, &policy, limit).await }
                    .instrument(span),
            );
        }
    }

    fn resolve(&mut self, report: Attempt<u64>) {
        metrics::counter!(telemetry::API_CALLS).increment(1);
        metrics::counter!(telemetry::RETRIED_RECORDS).increment(report.retry.len() as u64);
        self.outcomes.report.api_calls += 1;
        self.outcomes.report.retried_records += report.retry.len() as u64;
        let now = Instant::now();
        for record in report.delivered {
            for id in record.events {
                if let Some(pending) = self.pending.remove(&id) {
                    self.buffered_bytes -= pending.event.len();
                    self.outcomes
                        .delivered(pending.reply, pending.accepted, now);
                }
            }
        }
        for (record, failure) in report.failed {
            for id in record.events {
                self.fail(id, &failure);
            }
        }
        if let Some((_, failure)) = report.retry.first() {
            let failure = failure.clone();
            let records = report.retry.into_iter().map(|(record, _)| record).collect();
            self.schedule_retry(records, failure, report.whole_call_failed);
        }
        metrics::gauge!(telemetry::BUFFERED_BYTES).set(self.buffered_bytes as f64);
    }

    /// Records that failed an attempt: into the retry queue after their backoff, or given up.
    fn schedule_retry(&mut self, records: Vec<Record<u64>>, failure: Failure, whole_call: bool) {
        let now = Instant::now();
        let (mut attempts, mut accepted) = (0, now);
        for id in records.iter().flat_map(|r| &r.events) {
            if let Some(pending) = self.pending.get_mut(id) {
                pending.attempts += 1;
                attempts = attempts.max(pending.attempts);
                accepted = accepted.min(pending.accepted);
            }
        }
        let state = RetryState {
            attempts,
            deadline: self.policy.deadline(accepted),
            whole_call_failed: whole_call,
        };
        match self.policy.next(state, now, self.jitter.f64()) {
            Next::Retry { after, pay } => self.wait(Waiting {
                at: now + after,
                seq: 0,
                records,
                unpaid: pay,
                failure,
                deadline: state.deadline,
            }),
            Next::GiveUp(why) => self.give_up(records, &failure, why),
        }
    }

    fn wait(&mut self, mut waiting: Waiting) {
        waiting.seq = self.retry_seq;
        self.retry_seq += 1;
        self.retries.push(Reverse(waiting));
    }

    /// Sends the due retries (a failed call's once the budget pays), packed together, ahead of
    /// new records.
    fn release_retries(&mut self) {
        let now = Instant::now();
        while self.retries.peek().is_some_and(|Reverse(w)| w.at <= now) {
            let Some(Reverse(mut waiting)) = self.retries.pop() else {
                break;
            };
            if waiting.unpaid {
                match self.policy.pay(waiting.deadline, now) {
                    Payment::Paid => {}
                    Payment::Wait(wait) => {
                        waiting.at = now + wait;
                        self.wait(waiting);
                        continue;
                    }
                    Payment::Never => {
                        self.give_up(waiting.records, &waiting.failure, GiveUp::Budget);
                        continue;
                    }
                }
            }
            for record in waiting.records {
                let full = self.retry_batcher.push(record);
                for batch in full {
                    self.ready.push_front(batch);
                }
            }
        }
        if !self.retry_batcher.is_empty() {
            self.ready.push_front(self.retry_batcher.take());
        }
    }

    fn give_up(&mut self, records: Vec<Record<u64>>, failure: &Failure, why: GiveUp) {
        give_up(&records, failure, why);
        for id in records.into_iter().flat_map(|r| r.events) {
            self.fail(id, failure);
        }
    }

    fn fail(&mut self, id: u64, failure: &Failure) {
        let Some(pending) = self.pending.remove(&id) else {
            return;
        };
        self.buffered_bytes -= pending.event.len();
        self.outcomes.failed(pending.reply, pending.event, failure);
    }
}

async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(deadline) => tokio::time::sleep_until(deadline).await,
        None => std::future::pending().await,
    }
}

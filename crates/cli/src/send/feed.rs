//! Feeding the producer (`upload`, `send`): one thread reads the inputs, batches of documents
//! are parsed and judged ([`Producer::judge_value`]) on the blocking pool, several at a time
//! (every core), and the judged events are handed to the producer in input order, each with
//! its position: the spool's resume point and the rejection report stay what one thread
//! judging in turn would make them.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use anyhow::Context;
use ocsf_firehose_producer::lake::StoredObject;
use ocsf_firehose_producer::{Judged, Producer, SendError};
use tokio::task::JoinHandle;

use super::report::RunSummary;
use super::{rejection_codes, stop_signal, Job, PROGRESS_EVERY};
use crate::input::{Document, Documents};
use crate::lines::progress_bar;

/// Documents read ahead of the ones being judged.
const READ_AHEAD: usize = 1_024;
/// Documents judged together on the blocking pool.
const BATCH: usize = 128;
/// Batches being judged at once: enough to keep every core busy while the first is sent.
const JUDGING_AHEAD: usize = 4;

/// One document judged: where it was, and the event ready for the producer or the codes it
/// was rejected with.
struct Verdict {
    position: u64,
    source: Arc<str>,
    index: usize,
    event: Result<Judged, Vec<String>>,
}

/// Reads every input document (on a thread of its own, so that a signal is heard while the
/// input waits): those before `resume_at` are skipped (an earlier run took them), the others
/// judged and sent with their position; rejected ones are reported. `SIGINT` or `SIGTERM` stops
/// the reading between two batches: what was accepted is then delivered as at the end.
pub(super) async fn feed(
    job: &Job,
    producer: &Arc<Producer>,
    resume_at: u64,
    max_record_bytes: usize,
    objects: &Mutex<Vec<StoredObject>>,
    summary: &mut RunSummary,
) -> anyhow::Result<()> {
    let started = Instant::now();
    let progress = progress_bar(None, "events");
    let (documents, mut read) = tokio::sync::mpsc::channel(READ_AHEAD);
    let inputs = job.inputs.clone();
    std::thread::Builder::new()
        .name("ocsf-firehose-read".into())
        .spawn(move || {
            for document in Documents::of_paths(&inputs) {
                if documents.blocking_send(document).is_err() {
                    return;
                }
            }
        })
        .context("cannot start the input reader")?;
    let mut stop = std::pin::pin!(stop_signal());
    let mut judging: VecDeque<JoinHandle<Vec<Verdict>>> = VecDeque::new();
    let mut reading = true;
    let mut position = 0u64;
    loop {
        let room = reading && judging.len() < JUDGING_AHEAD;
        tokio::select! {
            biased;
            () = &mut stop, if reading => {
                summary.interrupted = true;
                reading = false;
            }
            verdicts = next_judged(&mut judging), if !judging.is_empty() => {
                judging.pop_front();
                hand_over(producer, verdicts?, summary).await?;
            }
            document = read.recv(), if room => {
                let Some(first) = document else {
                    reading = false;
                    continue;
                };
                let events_before = summary.events;
                let mut batch = Vec::with_capacity(BATCH);
                let mut next = Some(first);
                while let Some(document) = next.take() {
                    let document = document?;
                    summary.events += 1;
                    summary.input_bytes += document.bytes.len() as u64;
                    if position < resume_at {
                        summary.skipped += 1;
                    } else {
                        batch.push((position, document));
                    }
                    position += 1;
                    if batch.len() < BATCH {
                        next = read.try_recv().ok();
                    }
                }
                progress.set_position(summary.events);
                if events_before / PROGRESS_EVERY != summary.events / PROGRESS_EVERY {
                    let seconds = started.elapsed().as_secs_f64().max(1e-9);
                    let rate = summary.input_bytes as f64 / 1e6 / seconds;
                    let stored = objects.lock().map_or(0, |o| o.len());
                    progress.set_message(match stored {
                        0 => format!("{rate:.1} MB/s"),
                        n => format!("{rate:.1} MB/s, {n} objects"),
                    });
                }
                if !batch.is_empty() {
                    let producer = Arc::clone(producer);
                    judging.push_back(tokio::task::spawn_blocking(move || {
                        judge(&producer, batch, max_record_bytes)
                    }));
                }
            }
            else => break,
        }
    }
    progress.finish_and_clear();
    Ok(())
}

/// The first batch being judged, once judged.
async fn next_judged(
    judging: &mut VecDeque<JoinHandle<Vec<Verdict>>>,
) -> anyhow::Result<Vec<Verdict>> {
    match judging.front_mut() {
        Some(batch) => Ok(batch.await?),
        None => std::future::pending().await,
    }
}

/// Parses and judges a batch of documents (on the blocking pool).
fn judge(
    producer: &Producer,
    batch: Vec<(u64, Document)>,
    max_record_bytes: usize,
) -> Vec<Verdict> {
    batch
        .into_iter()
        .map(|(position, document)| {
            let event = match document.event(max_record_bytes) {
                Err(finding) => Err(vec![finding.code.as_str().to_owned()]),
                // Parsed once, by the check: the producer judges the value as it is.
                Ok(event) => producer
                    .judge_value(event)
                    .map_err(|error| rejection_codes(&error)),
            };
            Verdict {
                position,
                source: document.source,
                index: document.index,
                event,
            }
        })
        .collect()
}

/// Hands a judged batch to the producer in one run (waiting for room), and reports the
/// rejected events, in input order.
async fn hand_over(
    producer: &Producer,
    verdicts: Vec<Verdict>,
    summary: &mut RunSummary,
) -> anyhow::Result<()> {
    let mut judged = Vec::with_capacity(verdicts.len());
    let mut in_order = Vec::with_capacity(verdicts.len());
    for verdict in verdicts {
        match verdict.event {
            Ok(event) => {
                judged.push((event, Some(verdict.position)));
                in_order.push((verdict.source, verdict.index, None));
            }
            Err(codes) => in_order.push((verdict.source, verdict.index, Some(codes))),
        }
    }
    let mut outcomes = producer.send_judged_all(judged).await.into_iter();
    for (source, index, codes) in in_order {
        let codes = match codes {
            Some(codes) => codes,
            None => match outcomes.next() {
                Some(Ok(_delivery)) => {
                    summary.accepted += 1;
                    continue;
                }
                Some(Err(SendError::Closed)) | None => anyhow::bail!("the producer stopped"),
                Some(Err(error)) => rejection_codes(&error),
            },
        };
        summary.reject(&source, index, codes)?;
    }
    Ok(())
}

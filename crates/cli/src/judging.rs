//! Judging documents on every core (`validate`, `normalize`): one thread reads the inputs
//! ([`Documents`]) into batches, a worker per core judges a batch into its output, and the
//! calling thread writes the batches' output in input order. The output is what one thread
//! judging the documents in turn would write; memory is bounded by the batches in flight.

use std::collections::BTreeMap;
use std::io::{BufWriter, Write};
use std::num::NonZeroUsize;
use std::path::PathBuf;
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::sync::{Arc, Mutex};

use crate::input::{Document, Documents, EventInputs, Judge, ReadError};
use crate::summary::Outcome;

/// Documents per batch: enough that handing a batch over costs little against judging it.
const BATCH_DOCUMENTS: usize = 256;
/// Bytes of documents per batch, for inputs of large documents.
const BATCH_BYTES: usize = 1 << 20;
/// Workers at most, whatever the machine has.
const MAX_WORKERS: usize = 16;

/// What judging one document writes: to the command's stdout and to its stderr.
#[derive(Debug, Default)]
pub(crate) struct DocumentOutput {
    /// The command's output.
    pub stdout: Vec<u8>,
    /// Reports for stderr (`normalize`'s rejected events).
    pub stderr: Vec<u8>,
}

impl EventInputs {
    /// Runs `each` on every document with the configured Lambda's engine, on a worker per
    /// core, each document's output written in input order; `each` says whether the document
    /// passed.
    pub(crate) fn judge_each(
        &self,
        each: impl Fn(&Judge<'_>, &Document, &mut DocumentOutput) -> std::io::Result<bool> + Sync,
    ) -> anyhow::Result<Outcome> {
        let transformer = self.lambda.transformer()?;
        let judge = Judge {
            engine: transformer.engine(),
            region: Some(&self.lambda.region),
            max_record_bytes: transformer.config().max_record_bytes,
        };
        Ok(judge_documents(&self.paths, |document, out| {
            each(&judge, document, out)
        })?)
    }
}

/// Documents read in a row, numbered in input order.
struct Batch {
    number: usize,
    items: Vec<Result<Document, ReadError>>,
    bytes: usize,
}

/// A batch judged: its output, whether a document did not pass, whether a source could not be
/// read.
#[derive(Default)]
struct Judged {
    output: DocumentOutput,
    failed: bool,
    unreadable: bool,
}

/// Runs `each` on every document of `paths` (on a worker per core) and writes each one's output
/// in input order; `each` says whether the document passed. Unreadable sources are reported on
/// stderr and counted. The outcome: some document did not pass, some source could not be read.
pub(crate) fn judge_documents(
    paths: &[PathBuf],
    each: impl Fn(&Document, &mut DocumentOutput) -> std::io::Result<bool> + Sync,
) -> std::io::Result<Outcome> {
    let workers = std::thread::available_parallelism()
        .map_or(1, NonZeroUsize::get)
        .clamp(1, MAX_WORKERS);
    let stdout = std::io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    let mut outcome = Outcome::default();
    std::thread::scope(|scope| {
        let (batches, to_judge) = sync_channel(workers * 2);
        let (judged_tx, judged) = sync_channel(workers * 2);
        let paths = paths.to_vec();
        scope.spawn(move || read_batches(&paths, &batches));
        let to_judge = Arc::new(Mutex::new(to_judge));
        for _ in 0..workers {
            let (to_judge, judged_tx, each) = (Arc::clone(&to_judge), judged_tx.clone(), &each);
            scope.spawn(move || judge_batches(&to_judge, &judged_tx, each));
        }
        drop(judged_tx);
        // Returning early (stdout closed) drops `judged`: the workers, then the reader, stop.
        write_in_order(judged, &mut out, &mut outcome)
    })?;
    out.flush()?;
    Ok(outcome)
}

/// The reader: documents in batches, until the inputs end or no one judges any more.
fn read_batches(paths: &[PathBuf], batches: &SyncSender<Batch>) {
    let new = |number| Batch {
        number,
        items: Vec::with_capacity(BATCH_DOCUMENTS),
        bytes: 0,
    };
    let mut batch = new(0);
    for item in Documents::of_paths(paths) {
        batch.bytes += item.as_ref().map_or(0, |document| document.bytes.len());
        batch.items.push(item);
        if batch.items.len() >= BATCH_DOCUMENTS || batch.bytes >= BATCH_BYTES {
            let next = new(batch.number + 1);
            if batches.send(std::mem::replace(&mut batch, next)).is_err() {
                return;
            }
        }
    }
    if !batch.items.is_empty() {
        let _ = batches.send(batch);
    }
}

/// A worker: judges batches until there are none, or no one writes their output.
fn judge_batches(
    to_judge: &Mutex<Receiver<Batch>>,
    judged: &SyncSender<(usize, std::io::Result<Judged>)>,
    each: &(impl Fn(&Document, &mut DocumentOutput) -> std::io::Result<bool> + Sync),
) {
    loop {
        let next = to_judge.lock().ok().and_then(|batches| batches.recv().ok());
        let Some(batch) = next else {
            return;
        };
        let result = judge_batch(batch.items, each);
        if judged.send((batch.number, result)).is_err() {
            return;
        }
    }
}

fn judge_batch(
    items: Vec<Result<Document, ReadError>>,
    each: &impl Fn(&Document, &mut DocumentOutput) -> std::io::Result<bool>,
) -> std::io::Result<Judged> {
    let mut judged = Judged::default();
    for item in items {
        match item {
            Ok(document) => judged.failed |= !each(&document, &mut judged.output)?,
            Err(error) => {
                writeln!(judged.output.stderr, "ocsf-firehose: {error}")?;
                judged.unreadable = true;
            }
        }
    }
    Ok(judged)
}

/// The writer: each batch's output once every batch before it is written.
fn write_in_order(
    judged: Receiver<(usize, std::io::Result<Judged>)>,
    out: &mut impl Write,
    outcome: &mut Outcome,
) -> std::io::Result<()> {
    let mut waiting = BTreeMap::new();
    let mut next = 0;
    for (number, result) in judged {
        waiting.insert(number, result);
        while let Some(result) = waiting.remove(&next) {
            let batch = result?;
            out.write_all(&batch.output.stdout)?;
            if !batch.output.stderr.is_empty() {
                // What goes to stderr follows what went to stdout before it.
                out.flush()?;
                std::io::stderr().write_all(&batch.output.stderr)?;
            }
            outcome.invalid |= batch.failed;
            outcome.io_error |= batch.unreadable;
            next += 1;
        }
    }
    Ok(())
}

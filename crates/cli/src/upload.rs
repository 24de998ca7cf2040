//! `ocsf-firehose upload`: JSON lines → Security Lake objects, straight into the custom sources'
//! locations (no Firehose): the back-fill and batch-upload tool. Every event gets the Lambda's
//! verdict; accepted rows go through the producer's lake writer (zstd Parquet per partition)
//! into the bucket (`--bucket`), or a local folder (`--out`); `--dry-run` does everything but
//! store the objects. Rejected events are reported on stderr with their codes (never their
//! contents) and counted; the summary gives rows per partition, objects and bytes.
//!
//! Running the same command again lands every event once (`upload_state.rs`): it stores what an
//! earlier run left (killed, or objects not stored), skips the events that run took, and reads
//! on. Objects are named by what they hold, so rows written again replace their object.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context;
use clap::Args as ClapArgs;
use ocsf_firehose_producer::lake::store::{DirStore, S3Store};
use ocsf_firehose_producer::lake::{LakeConfig, StoredObject};
use ocsf_firehose_producer::spool::SpoolConfig;
use ocsf_firehose_producer::{ProducerBuilder, ProducerConfig, SendError};
use ocsf_firehose_transform::Engine;
use serde::Serialize;

use crate::input::Documents;
use crate::lambda_args::LambdaArgs;
use crate::lines::{aws_config, lake_sources, progress_bar, runtime, s3_client};
use crate::summary::{count, count_failed, Outcome, SummaryFormat};
use crate::upload_state::{Destination, UploadState};

/// Events between two updates of the progress bar's rate and object count.
const PROGRESS_EVERY: u64 = 1_000;

/// Arguments of `upload`.
#[derive(Debug, ClapArgs)]
#[command(group(clap::ArgGroup::new("store").required(true).args(["bucket", "out"])))]
pub(crate) struct Args {
    /// JSON-lines files of events (`-` or nothing: stdin).
    inputs: Vec<PathBuf>,
    /// The Security Lake bucket.
    #[arg(long, value_name = "BUCKET")]
    bucket: Option<String>,
    /// A local folder standing in for the bucket.
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// Source name of a class: `CLASS_UID=NAME` (repeat); default: the class name.
    #[arg(long = "source", value_name = "CLASS_UID=NAME")]
    sources: Vec<String>,
    /// The source location of every class, `{source}` standing for its source name (the key
    /// part of the `provider.location` registration returned).
    #[arg(long, default_value = "ext/{source}/")]
    prefix: String,
    /// S3 endpoint (moto, LocalStack, a VPC endpoint); path-style addressing.
    #[arg(long, value_name = "URL")]
    endpoint_url: Option<String>,
    /// Judge, partition and encode everything, but store nothing.
    #[arg(long)]
    dry_run: bool,
    /// Memory for buffered rows, in MiB (`send` waits beyond it; the largest partition is then
    /// written early).
    #[arg(long, default_value_t = 512)]
    budget_mib: usize,
    /// A partition's object rolls over at this many MiB of rows.
    #[arg(long, default_value_t = 128)]
    object_mib: usize,
    /// In a bucket, objects over this many MiB are stored as multipart uploads in parts of this
    /// size (at least 5, S3's smallest part; default: over 16 MiB, in parts of 8).
    #[arg(long, value_name = "MIB")]
    part_mib: Option<usize>,
    /// Give the bucket's endpoint up once it has answered nothing for this many seconds
    /// (refused connections, names not resolving, timeouts): the events not yet stored fail
    /// at once with the cause, and the command exits 2.
    #[arg(long, default_value_t = 120, value_name = "SECONDS")]
    give_up_after: u64,
    /// Where the upload keeps its progress and the rows not yet stored, so that running the
    /// same command again lands every event once (default: a folder per inputs and destination
    /// under `$XDG_STATE_HOME/ocsf-firehose/uploads/`; none for stdin).
    #[arg(long, value_name = "DIR")]
    state: Option<PathBuf>,
    /// Forget what an earlier run of this upload did: every event is uploaded again.
    #[arg(long)]
    restart: bool,
    /// The Lambda's configuration; `--region`: the bucket's, the last fallback for `region`.
    #[command(flatten)]
    lambda: LambdaArgs,
    #[command(flatten)]
    summary: SummaryFormat,
}

/// What an upload did. Every event is accounted for: `events = skipped + rejectedEvents +
/// accepted`, and `accepted + replayed = delivered + notDelivered`.
#[derive(Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
struct UploadSummary {
    events: u64,
    input_bytes: u64,
    /// Events an earlier run of the same upload took (stored then, stored now from its state,
    /// or rejected then): not read again.
    skipped: u64,
    /// Events an earlier run accepted and did not store, stored by this run from the state.
    replayed: u64,
    accepted: u64,
    /// Events the Lambda's verdict rejects (or that are not JSON objects).
    rejected_events: u64,
    /// Their codes (an event may have several), counted.
    rejected: BTreeMap<String, u64>,
    delivered: u64,
    /// Accepted events whose object could not be stored, by code.
    not_delivered: BTreeMap<String, u64>,
    objects: u64,
    bytes: u64,
    /// Rows per partition (`<location>region=…/accountId=…/eventDay=…`).
    rows: BTreeMap<String, u64>,
    dry_run: bool,
    /// The upload's state folder, if it has one.
    state: Option<PathBuf>,
}

pub(crate) fn run(args: Args) -> anyhow::Result<Outcome> {
    runtime()?.block_on(run_async(args))
}

async fn s3_store(args: &Args, bucket: &str) -> S3Store {
    let endpoint = args.endpoint_url.as_deref();
    let shared = aws_config(&args.lambda.region, endpoint).await;
    let mut store = S3Store::new(s3_client(&shared, endpoint.is_some()), bucket);
    if let Some(part) = args.part_mib {
        let part = part.saturating_mul(1024 * 1024);
        store = store.multipart(part, part);
    }
    match endpoint {
        Some(endpoint) => store.endpoint_label(endpoint),
        None => store,
    }
}

async fn run_async(args: Args) -> anyhow::Result<Outcome> {
    let started = Instant::now();
    let engine = Engine::new(args.lambda.transform_config()?.engine)
        .context("invalid Lambda configuration")?;
    let sources = lake_sources(&args.sources, &args.prefix, &engine)?;
    let config = ProducerConfig {
        max_buffered_bytes: args.budget_mib.max(2).saturating_mul(1024 * 1024),
        ..ProducerConfig::default()
    };
    let lake = LakeConfig {
        object_bytes: args.object_mib.max(1).saturating_mul(1024 * 1024),
        give_up_unreachable_after: Some(Duration::from_secs(args.give_up_after.max(1))),
        ..LakeConfig::default()
    };
    let objects: Arc<Mutex<Vec<StoredObject>>> = Arc::default();
    let seen = objects.clone();
    let progress = progress_bar(None, "events");
    let scratch = args.dry_run.then(|| {
        std::env::temp_dir().join(format!("ocsf-firehose-dry-run-{}", uuid::Uuid::new_v4()))
    });
    let folder = |root: &PathBuf| DirStore::new(root).in_region(&args.lambda.region);
    let state = match (&args.bucket, &args.out) {
        _ if args.dry_run => None,
        (Some(bucket), _) => Some(Destination::Bucket(bucket, args.endpoint_url.as_deref())),
        (None, Some(out)) => Some(Destination::Folder(out)),
        (None, None) => None,
    }
    .map(|destination| {
        UploadState::open(
            &args.inputs,
            &destination,
            &args.prefix,
            args.state.as_deref(),
            args.restart,
        )
    })
    .transpose()?
    .flatten();
    let builder = match (&args.bucket, &args.out, &scratch) {
        // A folder stands in for the bucket, in the bucket's region (`--region`).
        (_, _, Some(scratch)) => ProducerBuilder::dir_store(folder(scratch), sources, engine),
        (Some(bucket), _, None) => {
            ProducerBuilder::s3_sources(s3_store(&args, bucket).await, sources, engine)
        }
        (None, Some(out), None) => ProducerBuilder::dir_store(folder(out), sources, engine),
        (None, None, None) => anyhow::bail!("--bucket or --out is required"),
    };
    let builder = match &state {
        // What could not be stored stays in the state for the next run.
        Some(state) => builder.spool(SpoolConfig {
            keep_failed: true,
            max_bytes: (config.max_buffered_bytes as u64 * 2).max(1 << 30),
            ..SpoolConfig::new(state.spool())
        }),
        None => builder,
    };
    let producer = builder
        .config(config)
        .lake_config(lake)
        .on_object(move |object| {
            if let Ok(mut objects) = seen.lock() {
                objects.push(object.clone());
            }
        })
        .build()?;
    let recovered = producer.recovered();
    let resume_at = match &state {
        Some(state) if state.resumable => recovered.next_position.unwrap_or(0),
        _ => 0,
    };
    let mut summary = UploadSummary {
        dry_run: args.dry_run,
        replayed: recovered.entries,
        state: state.as_ref().map(|s| s.dir.clone()),
        ..UploadSummary::default()
    };
    let max_record_bytes = args.lambda.transform_config()?.max_record_bytes;
    for (position, document) in (0u64..).zip(Documents::of_paths(&args.inputs)) {
        let document = document?;
        summary.events += 1;
        summary.input_bytes += document.bytes.len() as u64;
        progress.inc(1);
        if position < resume_at {
            summary.skipped += 1;
            continue;
        }
        if summary.events.is_multiple_of(PROGRESS_EVERY) {
            let stored = objects.lock().map_or(0, |o| o.len());
            let seconds = started.elapsed().as_secs_f64().max(1e-9);
            let rate = summary.input_bytes as f64 / 1e6 / seconds;
            progress.set_message(format!("{rate:.1} MB/s, {stored} objects"));
        }
        let codes = match document.event(max_record_bytes) {
            Err(finding) => vec![finding.code.as_str().to_owned()],
            // Parsed once, by the check: the producer judges the value as it is.
            Ok(event) => match producer.send_value_at(event, position).await {
                Ok(_delivery) => {
                    summary.accepted += 1;
                    continue;
                }
                Err(SendError::Closed) => anyhow::bail!("the producer stopped"),
                Err(error) => rejection_codes(&error),
            },
        };
        reject(&mut summary, &document.source, document.index, codes)?;
    }
    let report = producer.shutdown().await;
    progress.finish_and_clear();
    if let Some(scratch) = &scratch {
        let _ = std::fs::remove_dir_all(scratch);
    }
    summary.delivered = report.delivered;
    count_failed(&mut summary.not_delivered, &report.failed);
    for object in objects.lock().map(|o| o.clone()).unwrap_or_default() {
        summary.objects += 1;
        summary.bytes += object.bytes;
        let partition = object.key.rsplit_once('/').map_or("", |(dir, _)| dir);
        *summary.rows.entry(partition.to_owned()).or_default() += object.rows;
    }
    args.summary.print(&summary, |out, summary| {
        print_summary(out, summary, started.elapsed())
    })?;
    if let Some(failed) = report.failed.first() {
        let again = match &state {
            Some(state) => format!(
                "; those that may pass are kept in {}: run the same command again",
                state.dir.display()
            ),
            None => String::new(),
        };
        anyhow::bail!(
            "{} events were not stored: {failed}{again}",
            report.failed_count
        );
    }
    Ok(Outcome {
        invalid: summary.rejected_events > 0,
        io_error: false,
    })
}

/// Counts a rejected input document and reports it on stderr (its codes, never its contents).
fn reject(
    summary: &mut UploadSummary,
    input: &str,
    index: usize,
    codes: Vec<String>,
) -> anyhow::Result<()> {
    summary.rejected_events += 1;
    for code in &codes {
        count(&mut summary.rejected, code);
    }
    let line = serde_json::json!({"input": input, "line": index + 1, "codes": codes});
    // Unlocked between lines: the libraries' warnings go to stderr from the runtime's threads.
    writeln!(std::io::stderr(), "{line}")?;
    Ok(())
}

/// The codes of a refused event: its error findings' codes, or the refusal's own.
fn rejection_codes(error: &SendError) -> Vec<String> {
    match error {
        SendError::Invalid(findings) if !findings.is_empty() => {
            let mut codes: Vec<String> = findings.iter().map(|f| f.code.to_string()).collect();
            codes.dedup();
            codes
        }
        other => vec![other.code().to_owned()],
    }
}

fn print_summary(
    out: &mut dyn Write,
    summary: &UploadSummary,
    elapsed: Duration,
) -> std::io::Result<()> {
    let seconds = elapsed.as_secs_f64().max(1e-9);
    let verb = if summary.dry_run {
        "would write"
    } else {
        "wrote"
    };
    writeln!(
        out,
        "{} events ({:.1} MB) in {seconds:.1} s ({:.0} events/s, {:.1} MB/s): {} accepted, {} rejected; {verb} {} objects, {:.1} MB",
        summary.events,
        summary.input_bytes as f64 / 1e6,
        summary.events as f64 / seconds,
        summary.input_bytes as f64 / 1e6 / seconds,
        summary.accepted,
        summary.rejected_events,
        summary.objects,
        summary.bytes as f64 / 1e6,
    )?;
    if summary.skipped > 0 || summary.replayed > 0 {
        writeln!(
            out,
            "  skipped {} events an earlier run took (stored, or rejected then); stored {} it had left",
            summary.skipped, summary.replayed
        )?;
    }
    if let (Some(state), true) = (&summary.state, summary.skipped > 0) {
        writeln!(
            out,
            "  state {} (--restart uploads everything again)",
            state.display()
        )?;
    }
    for (code, n) in &summary.rejected {
        writeln!(out, "  rejected {code}: {n}")?;
    }
    for (code, n) in &summary.not_delivered {
        writeln!(out, "  not stored {code}: {n}")?;
    }
    for (partition, rows) in &summary.rows {
        writeln!(out, "  {partition}  {rows}")?;
    }
    Ok(())
}

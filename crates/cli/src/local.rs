//! `ocsf-firehose local`: the whole app → Firehose → Security Lake path on this machine. Events
//! (JSON lines, or `--demo N`) go through the real producer (aggregation on, as in production),
//! which sends each record to the local delivery stream of its class; the local pipeline
//! de-aggregates, invokes the Lambda handler, partitions and writes Parquet under
//! `<out>/ext/<source>/region=…/accountId=…/eventDay=…/`, failures under `<out>/errors/<source>/…`.
//! Events the producer refuses at `send` (not a JSON object, too large) are kept under
//! `<out>/errors/producer-refused.jsonl`. The summary accounts for every event.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context;
use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use clap::Args as ClapArgs;
use indicatif::ProgressBar;
use ocsf_firehose_producer::{Producer, ProducerBuilder, ProducerConfig, Report, SendError};
use ocsf_firehose_transform::lake::file::write_atomically;
use ocsf_firehose_transform::local::{demo, LocalConfig, LocalFirehose, Summary};
use serde::Serialize;

use crate::input::{Document, Documents};
use crate::lambda_args::LambdaArgs;
use crate::lines::{parse_sources, pipeline_config, progress_bar, runtime};
use crate::summary::{count, count_failed, write_counts, Outcome, SummaryFormat};

/// Where the events the producer refuses at `send` are kept, below the output root.
const REFUSED_FILE: &str = "errors/producer-refused.jsonl";

/// Arguments of `local`.
#[derive(Debug, ClapArgs)]
pub(crate) struct Args {
    /// JSON-lines files of events (`-`: stdin); ignored with `--demo`.
    inputs: Vec<PathBuf>,
    /// Generate this many realistic demo events (≈1 % deliberately invalid) instead of reading.
    #[arg(long, value_name = "N")]
    demo: Option<usize>,
    /// Seed of the demo generator.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Output root (the Security Lake bucket's stand-in).
    #[arg(long, default_value = "lake")]
    out: PathBuf,
    /// Source name of a class: `CLASS_UID=NAME` (repeat); default: the class name.
    #[arg(long = "source", value_name = "CLASS_UID=NAME")]
    sources: Vec<String>,
    /// The Lambda's configuration; `--region`: the delivery streams'.
    #[command(flatten)]
    lambda: LambdaArgs,
    /// Send one event per record (the producer's aggregation off).
    #[arg(long)]
    no_aggregation: bool,
    /// Do not split JSON-lines records (a stream without `RecordDeAggregation`).
    #[arg(long)]
    no_deaggregation: bool,
    /// S3 buffer size per partition in MiB (Firehose: 64-128 with format conversion).
    #[arg(long, default_value_t = 128)]
    buffer_mib: usize,
    /// S3 buffer interval per partition in seconds.
    #[arg(long, default_value_t = 300)]
    buffer_seconds: u64,
    #[command(flatten)]
    summary: SummaryFormat,
}

/// What a run did: the input, the producer and the pipeline. Every event is accounted for:
/// `events = refused + sent + not_delivered`.
#[derive(Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
struct RunSummary {
    /// Events read (or generated).
    events: u64,
    /// Bytes of those events.
    input_bytes: u64,
    /// Events the producer refused at `send`, by code (kept in `errors/producer-refused.jsonl`).
    refused: BTreeMap<String, u64>,
    /// Events the producer delivered into the local streams.
    sent: u64,
    /// Events the producer could not deliver (the pipeline failed), by code.
    not_delivered: BTreeMap<String, u64>,
    /// `PutRecordBatch` calls into the local streams.
    api_calls: u64,
    /// The pipeline's own accounting (records, Lambda answers, rows, files).
    #[serde(flatten)]
    pipeline: Summary,
}

pub(crate) fn run(args: Args) -> anyhow::Result<Outcome> {
    runtime()?.block_on(run_async(args))
}

async fn run_async(args: Args) -> anyhow::Result<Outcome> {
    let started = Instant::now();
    let pipeline = Arc::new(Mutex::new(LocalFirehose::new(local_config(&args)?)?));
    let producer = ProducerBuilder::local_by_class(pipeline.clone())
        .config(ProducerConfig {
            aggregate: !args.no_aggregation,
            ..ProducerConfig::default()
        })
        .build()?;
    let mut sender = Sender {
        producer: &producer,
        summary: RunSummary::default(),
        refused: Refused::new(&args.out),
        progress: progress_bar(args.demo, "events"),
    };
    // Every input, the demo's events included, is framed as the Lambda frames a record.
    let max_record_bytes = args.lambda.transform_config()?.max_record_bytes;
    let documents = match args.demo {
        Some(n) => {
            let events = demo::events(n, args.seed).map(|event| event.bytes);
            Documents::of_stream("demo", JsonLines::new(events))
        }
        None => Documents::of_paths(&args.inputs),
    };
    for document in documents {
        sender.send(document?, max_record_bytes).await?;
    }
    let Sender {
        mut summary,
        refused,
        progress,
        ..
    } = sender;
    progress.finish_and_clear();
    let report = producer.shutdown().await;
    let pipeline = Arc::try_unwrap(pipeline)
        .map_err(|_| anyhow::anyhow!("the local pipeline is still in use"))?
        .into_inner()
        .map_err(|_| anyhow::anyhow!("the local pipeline panicked"))?;
    summary.pipeline = pipeline.finish()?;
    summary.refused = refused.finish()?;
    account(&mut summary, &report);
    let elapsed = started.elapsed();
    args.summary.print(&summary, |out, summary| {
        print_summary(out, summary, elapsed, &args.out)
    })?;
    if let Some(failed) = report.failed.first() {
        anyhow::bail!(
            "{} events were not delivered into the local pipeline: {failed}",
            report.failed_count
        );
    }
    // As `validate`: 1 when any event did not land (refused at `send`, or failed by the Lambda
    // or the table), so that a script can tell.
    let pipeline = &summary.pipeline;
    Ok(Outcome {
        invalid: !summary.refused.is_empty() || pipeline.failed > 0 || pipeline.rows_failed > 0,
        io_error: false,
    })
}

fn local_config(args: &Args) -> anyhow::Result<LocalConfig> {
    let mut config = pipeline_config(
        args.out.clone(),
        args.lambda.transform_config()?,
        &args.lambda.region,
        parse_sources(&args.sources)?,
    );
    config.deaggregate = !args.no_deaggregation;
    config.buffer_bytes = args.buffer_mib.saturating_mul(1024 * 1024);
    config.buffer_interval = Duration::from_secs(args.buffer_seconds);
    Ok(config)
}

/// Events as one JSON-lines stream (the demo's), read as any input is.
struct JsonLines<I> {
    events: I,
    current: Vec<u8>,
    at: usize,
}

impl<I: Iterator<Item = Vec<u8>>> JsonLines<I> {
    fn new(events: I) -> Self {
        JsonLines {
            events,
            current: Vec::new(),
            at: 0,
        }
    }
}

impl<I: Iterator<Item = Vec<u8>>> Read for JsonLines<I> {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        while self.at == self.current.len() {
            let Some(mut event) = self.events.next() else {
                return Ok(0);
            };
            event.push(b'\n');
            self.current = event;
            self.at = 0;
        }
        let n = out.len().min(self.current.len() - self.at);
        out[..n].copy_from_slice(&self.current[self.at..self.at + n]);
        self.at += n;
        Ok(n)
    }
}

/// Where an event came from: its input and document (1-based: its line in JSON lines).
struct Origin<'a> {
    input: &'a str,
    line: usize,
}

impl<'a> Origin<'a> {
    fn new(input: &'a str, index: usize) -> Self {
        Origin {
            input,
            line: index + 1,
        }
    }
}

/// Sends the events, counting them and keeping those the producer refuses.
struct Sender<'p> {
    producer: &'p Producer,
    summary: RunSummary,
    refused: Refused,
    progress: ProgressBar,
}

impl Sender<'_> {
    /// Sends one input document, or refuses what is not an event with the code every command
    /// and the Lambda give it (not JSON, too large, not UTF-8, an input without any document),
    /// or what the producer refuses at `send`.
    async fn send(&mut self, document: Document, max_record_bytes: usize) -> anyhow::Result<()> {
        self.summary.events += 1;
        self.summary.input_bytes += document.bytes.len() as u64;
        self.progress.inc(1);
        let origin = Origin::new(&document.source, document.index);
        if let Err(finding) = document.event(max_record_bytes) {
            return self.refused.keep(
                &origin,
                finding.code.as_str(),
                &finding.message,
                &document.bytes,
            );
        }
        match self.producer.send_json(&document.bytes).await {
            // The outcome comes back in the shutdown report; nothing waits for each event.
            Ok(_delivery) => Ok(()),
            Err(SendError::Closed) => anyhow::bail!("the producer stopped"),
            Err(error) => {
                self.refused
                    .keep(&origin, error.code(), &error.to_string(), &document.bytes)
            }
        }
    }
}

/// The input documents refused before any stream (not JSON, too large, not UTF-8, or refused by
/// the producer), as JSON lines: where each came from, the code, the message and the bytes
/// (`rawData`, base64), like Firehose's error documents. Kept in memory (they are the few) and
/// written whole at the end, so that a full disk never leaves a cut line.
struct Refused {
    path: PathBuf,
    lines: Vec<u8>,
    counts: BTreeMap<String, u64>,
}

impl Refused {
    fn new(out: &Path) -> Self {
        Refused {
            path: out.join(REFUSED_FILE),
            lines: Vec::new(),
            counts: BTreeMap::new(),
        }
    }

    fn keep(
        &mut self,
        origin: &Origin<'_>,
        code: &str,
        message: &str,
        bytes: &[u8],
    ) -> anyhow::Result<()> {
        count(&mut self.counts, code);
        let document = serde_json::json!({
            "input": origin.input,
            "line": origin.line,
            "errorCode": code,
            "errorMessage": message,
            "rawData": STANDARD.encode(bytes),
        });
        serde_json::to_writer(&mut self.lines, &document)?;
        self.lines.push(b'\n');
        Ok(())
    }

    fn finish(self) -> anyhow::Result<BTreeMap<String, u64>> {
        if !self.lines.is_empty() {
            write_atomically(&self.path, &self.lines)
                .with_context(|| format!("cannot write {}", self.path.display()))?;
        }
        Ok(self.counts)
    }
}

/// What the producer reported: delivered events, and those it could not deliver, by code.
fn account(summary: &mut RunSummary, report: &Report) {
    summary.sent = report.delivered;
    summary.api_calls = report.api_calls;
    count_failed(&mut summary.not_delivered, &report.failed);
}

fn print_summary(
    out: &mut dyn Write,
    summary: &RunSummary,
    elapsed: Duration,
    root: &Path,
) -> std::io::Result<()> {
    let pipeline = &summary.pipeline;
    let seconds = elapsed.as_secs_f64().max(1e-9);
    writeln!(
        out,
        "{} events in {:.2} s: {:.0} events/s, {:.1} MB/s of input",
        summary.events,
        seconds,
        summary.events as f64 / seconds,
        summary.input_bytes as f64 / seconds / 1e6
    )?;
    let refused: u64 = summary.refused.values().sum();
    writeln!(
        out,
        "producer: {} events sent as {} records in {} calls; {refused} refused at send{}",
        summary.sent,
        pipeline.records_in,
        summary.api_calls,
        if refused > 0 {
            format!(" (kept in {})", root.join(REFUSED_FILE).display())
        } else {
            String::new()
        }
    )?;
    writeln!(
        out,
        "pipeline: {} records to the Lambda in {} invocations: {} ok, {} failed, {} dropped",
        pipeline.records, pipeline.invocations, pipeline.ok, pipeline.failed, pipeline.dropped
    )?;
    writeln!(
        out,
        "written under {}: {} rows in {} Parquet files, {} error objects, {:.1} MB",
        root.display(),
        pipeline.rows_written(),
        pipeline.files,
        pipeline.error_files,
        pipeline.bytes as f64 / 1e6
    )?;
    if pipeline.rows_failed > 0 {
        writeln!(
            out,
            "rows not converted (error prefix): {}",
            pipeline.rows_failed
        )?;
    }
    write_counts(
        out,
        &[
            ("refused at send by code:", &summary.refused),
            ("failed records by code:", &pipeline.failures),
            ("not delivered by code:", &summary.not_delivered),
        ],
    )?;
    writeln!(out, "rows per partition:")?;
    for (partition, rows) in &pipeline.rows {
        writeln!(out, "  {partition}  {rows}")?;
    }
    Ok(())
}

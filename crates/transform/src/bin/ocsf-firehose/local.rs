//! `ocsf-firehose local`: the whole Firehose → Security Lake path on this machine: events in
//! (JSON lines, or `--demo N`), Parquet out under `<out>/ext/<source>/region=…/accountId=…/
//! eventDay=…/`, failures under `<out>/errors/<source>/…`, and a summary.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, IsTerminal, Read, Write};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::Context;
use clap::Args as ClapArgs;
use ocsf_firehose_transform::local::{demo, LocalConfig, LocalFirehose, Summary};

use crate::transform::transform_config;
use crate::Outcome;

/// Records per `PutRecordBatch` (Firehose's limit).
const BATCH_RECORDS: usize = 500;

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
    /// The streams' region (the Lambda's last fallback for `region`).
    #[arg(long, default_value = "us-east-1")]
    region: String,
    /// `KEY=VALUE` lines with the Lambda's `OCSF_*` variables (they win over the environment).
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Do not split JSON-lines records (a stream without `RecordDeAggregation`).
    #[arg(long)]
    no_deaggregation: bool,
    /// S3 buffer size per partition in MiB (Firehose: 64-128 with format conversion).
    #[arg(long, default_value_t = 128)]
    buffer_mib: usize,
    /// S3 buffer interval per partition in seconds.
    #[arg(long, default_value_t = 300)]
    buffer_seconds: u64,
    /// Print the summary as JSON.
    #[arg(long)]
    json: bool,
}

pub(crate) fn run(args: Args) -> anyhow::Result<Outcome> {
    let mut config = LocalConfig::new(&args.out);
    config.transform = transform_config(args.config.as_deref())?;
    config.region = args.region.clone();
    config.deaggregate = !args.no_deaggregation;
    config.buffer_bytes = args.buffer_mib.saturating_mul(1024 * 1024);
    config.buffer_interval = Duration::from_secs(args.buffer_seconds);
    for source in &args.sources {
        let (class, name) = source
            .split_once('=')
            .with_context(|| format!("--source {source}: expected CLASS_UID=NAME"))?;
        let class: i64 = class
            .trim()
            .parse()
            .with_context(|| format!("--source {source}: bad class_uid"))?;
        config.sources.insert(class, name.trim().to_owned());
    }
    let mut local = LocalFirehose::new(config)?;
    let mut router = Router::default();
    let started = Instant::now();
    let mut progress = Progress::new();
    match args.demo {
        Some(n) => {
            for event in demo::events(n, args.seed) {
                router.put(&mut local, event.bytes)?;
                progress.tick(router.events, Some(n));
            }
        }
        None => {
            let inputs = if args.inputs.is_empty() {
                vec![PathBuf::from("-")]
            } else {
                args.inputs.clone()
            };
            for input in &inputs {
                let reader: Box<dyn Read> = if input.as_os_str() == "-" {
                    Box::new(std::io::stdin())
                } else {
                    Box::new(
                        std::fs::File::open(input)
                            .with_context(|| format!("cannot open {}", input.display()))?,
                    )
                };
                for line in BufReader::new(reader).split(b'\n') {
                    let line = line.with_context(|| format!("cannot read {}", input.display()))?;
                    if line.iter().all(u8::is_ascii_whitespace) {
                        continue;
                    }
                    router.put(&mut local, line)?;
                    progress.tick(router.events, None);
                }
            }
        }
    }
    router.flush(&mut local)?;
    let summary = local.finish()?;
    progress.done();
    let elapsed = started.elapsed();
    let mut out = std::io::stdout().lock();
    if args.json {
        serde_json::to_writer(&mut out, &summary)?;
        writeln!(out)?;
    } else {
        print_summary(
            &mut out,
            &summary,
            router.events,
            router.bytes,
            elapsed,
            &args.out,
        )?;
    }
    Ok(Outcome::default())
}

/// Sends each event to its class's stream, in `PutRecordBatch`-sized batches.
#[derive(Default)]
struct Router {
    batches: BTreeMap<String, Vec<Vec<u8>>>,
    events: u64,
    bytes: u64,
}

impl Router {
    fn put(&mut self, local: &mut LocalFirehose, event: Vec<u8>) -> anyhow::Result<()> {
        self.events += 1;
        self.bytes += event.len() as u64;
        let stream = local.stream_for(&event);
        let batch = self.batches.entry(stream.clone()).or_default();
        batch.push(event);
        if batch.len() == BATCH_RECORDS {
            let records = std::mem::take(batch);
            local.put_record_batch(&stream, records)?;
        }
        Ok(())
    }

    fn flush(&mut self, local: &mut LocalFirehose) -> anyhow::Result<()> {
        for (stream, records) in std::mem::take(&mut self.batches) {
            if !records.is_empty() {
                local.put_record_batch(&stream, records)?;
            }
        }
        Ok(())
    }
}

/// A progress line on stderr, once a second, when stderr is a terminal.
struct Progress {
    enabled: bool,
    last: Instant,
}

impl Progress {
    fn new() -> Self {
        Progress {
            enabled: std::io::stderr().is_terminal(),
            last: Instant::now(),
        }
    }

    fn tick(&mut self, events: u64, total: Option<usize>) {
        if !self.enabled || self.last.elapsed() < Duration::from_secs(1) {
            return;
        }
        self.last = Instant::now();
        match total {
            Some(total) => eprint!(
                "\r{events}/{total} events ({}%)",
                events * 100 / (total.max(1) as u64)
            ),
            None => eprint!("\r{events} events"),
        }
    }

    fn done(&self) {
        if self.enabled {
            eprint!("\r\x1b[K");
        }
    }
}

fn print_summary(
    out: &mut impl Write,
    summary: &Summary,
    events: u64,
    bytes: u64,
    elapsed: Duration,
    root: &std::path::Path,
) -> std::io::Result<()> {
    let seconds = elapsed.as_secs_f64().max(1e-9);
    writeln!(
        out,
        "{events} events in {:.2} s: {:.0} events/s, {:.1} MB/s of input",
        seconds,
        events as f64 / seconds,
        bytes as f64 / seconds / 1e6
    )?;
    writeln!(
        out,
        "records: {} put, {} to the Lambda in {} invocations: {} ok, {} failed, {} dropped",
        summary.records_in,
        summary.records,
        summary.invocations,
        summary.ok,
        summary.failed,
        summary.dropped
    )?;
    writeln!(
        out,
        "written under {}: {} rows in {} Parquet files, {} error objects, {:.1} MB",
        root.display(),
        summary.rows_written(),
        summary.files,
        summary.error_files,
        summary.bytes as f64 / 1e6
    )?;
    if summary.rows_failed > 0 {
        writeln!(
            out,
            "rows not converted (error prefix): {}",
            summary.rows_failed
        )?;
    }
    if !summary.failures.is_empty() {
        writeln!(out, "failed records by code:")?;
        for (code, count) in &summary.failures {
            writeln!(out, "  {code:<32} {count}")?;
        }
    }
    writeln!(out, "rows per partition:")?;
    for (partition, rows) in &summary.rows {
        writeln!(out, "  {partition}  {rows}")?;
    }
    Ok(())
}

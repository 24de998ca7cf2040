//! `ocsf-firehose send` and `upload`: JSON events through the producer, each with the Lambda's
//! verdict first, into a Firehose or Kinesis stream (`send --firehose`/`--kinesis`, aggregated
//! by default) or straight into the sources' locations (`--bucket`, `--out`: the direct path,
//! zstd Parquet per partition; `upload` is `send` to those two). Rejected events are reported on
//! stderr with their codes (never their contents) and counted; the summary accounts for every
//! event.
//!
//! Running the same command again delivers every event (`state.rs`): it first sends what an
//! earlier run left (killed, or events not delivered), skips the events that run took, and
//! reads on; on the direct path each lands once (objects are named by what they hold).

pub(crate) mod args;
mod feed;
pub(crate) mod report;
pub(crate) mod state;

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context;
use clap::Args as ClapArgs;
use ocsf_firehose_producer::lake::store::{DirStore, S3Store};
use ocsf_firehose_producer::lake::{LakeConfig, StoredObject};
use ocsf_firehose_producer::spool::SpoolConfig;
use ocsf_firehose_producer::{ProducerBuilder, SendError};
use ocsf_firehose_transform::Engine;

use crate::lines::{aws_config, lake_sources, runtime, s3_client};
use crate::summary::{count_failed, finding_codes, Outcome};
use args::{ConnectArgs, DestinationArgs, JobArgs, LakeArgs};
use report::RunSummary;
use state::{Destination, RunState};

/// Events between two updates of the progress bar's rate and object count.
const PROGRESS_EVERY: u64 = 1_000;

/// Arguments of `send`.
#[derive(Debug, ClapArgs)]
pub(crate) struct Args {
    /// JSON events: JSON lines, concatenated or pretty-printed JSON (`-` or nothing: stdin).
    inputs: Vec<PathBuf>,
    #[command(flatten)]
    destination: DestinationArgs,
    #[command(flatten)]
    job: JobArgs,
}

/// Where a run's events go.
#[derive(Debug, Clone)]
pub(crate) enum Target {
    Firehose(String),
    Kinesis(String),
    Bucket(String),
    Folder(PathBuf),
    /// The direct path into a scratch folder, removed at the end (`upload --dry-run`).
    DryRun,
}

impl Target {
    /// A Firehose or Kinesis stream (else the direct path).
    fn is_stream(&self) -> bool {
        matches!(self, Target::Firehose(_) | Target::Kinesis(_))
    }
}

/// One run of `send` or `upload`.
pub(crate) struct Job {
    pub inputs: Vec<PathBuf>,
    pub target: Target,
    pub aggregate: bool,
    /// The aggregated records' target size in bytes (`None`: the producer's default).
    pub record_bytes: Option<usize>,
    pub args: JobArgs,
}

pub(crate) fn run(args: Args) -> anyhow::Result<Outcome> {
    run_job(Job {
        inputs: args.inputs,
        target: args.destination.target()?,
        aggregate: !args.destination.no_aggregation,
        record_bytes: args.destination.record_bytes(),
        args: args.job,
    })
}

/// Runs `job` to the end: every event judged and sent, everything delivered or accounted for.
pub(crate) fn run_job(job: Job) -> anyhow::Result<Outcome> {
    runtime()?.block_on(run_async(job))
}

async fn run_async(job: Job) -> anyhow::Result<Outcome> {
    let started = Instant::now();
    let transform = job.args.lambda.transform_config()?;
    let max_record_bytes = transform.max_record_bytes;
    let engine = Engine::new(transform.engine).context("invalid Lambda configuration")?;
    let config = job
        .args
        .run
        .connect
        .producer_config(job.aggregate, job.record_bytes);
    let destination = destination(&job.target, &job.args.run.connect)
        .map(|d| d.name())
        .transpose()?;
    let state = match &destination {
        Some(destination) => RunState::open(
            &job.inputs,
            destination,
            &job.args.lake.prefix,
            job.args.run.state.as_deref(),
            job.args.run.restart,
        )?,
        None => None,
    };
    let scratch = matches!(job.target, Target::DryRun).then(|| {
        std::env::temp_dir().join(format!("ocsf-firehose-dry-run-{}", uuid::Uuid::new_v4()))
    });
    let objects: Arc<Mutex<Vec<StoredObject>>> = Arc::default();
    let reach = Reach {
        target: &job.target,
        lake: &job.args.lake,
        connect: &job.args.run.connect,
        region: &job.args.lambda.region,
        buffer_interval: None,
    };
    let mut builder = builder(&reach, engine, scratch.as_ref(), &objects).await?;
    if let Some(state) = &state {
        // What could not be delivered stays in the state for the next run.
        builder = builder.spool(SpoolConfig {
            keep_failed: true,
            max_bytes: (config.max_buffered_bytes as u64 * 2).max(1 << 30),
            ..SpoolConfig::new(state.spool())
        });
    }
    // Shared with the threads that judge the events; alone again once they are done.
    let producer = Arc::new(builder.config(config).build()?);
    let recovered = producer.recovered();
    let mut summary = RunSummary {
        destination,
        stream: job.target.is_stream(),
        dry_run: scratch.is_some(),
        replayed: recovered.entries,
        state: state.as_ref().map(|s| s.dir.clone()),
        ..RunSummary::default()
    };
    let resume_at = match &state {
        Some(state) if state.resumable => recovered.next_position.unwrap_or(0),
        _ => 0,
    };
    feed::feed(
        &job,
        &producer,
        resume_at,
        max_record_bytes,
        &objects,
        &mut summary,
    )
    .await?;
    // Every event read is now accepted (and in the state, if there is one): what follows stores
    // or delivers what the buffers hold.
    tracing::info!(
        events = summary.events,
        accepted = summary.accepted,
        "input read; flushing"
    );
    let Ok(producer) = Arc::try_unwrap(producer) else {
        anyhow::bail!("the producer is still shared after the input was read");
    };
    let report = producer.shutdown().await;
    if let Some(scratch) = &scratch {
        let _ = std::fs::remove_dir_all(scratch);
    }
    summary.delivered = report.delivered;
    summary.api_calls = report.api_calls;
    summary.retried_records = report.retried_records;
    count_failed(&mut summary.not_delivered, &report.failed);
    for object in objects.lock().map(|o| o.clone()).unwrap_or_default() {
        summary.add_object(&object);
    }
    job.args.summary.print(&summary, |out, summary| {
        summary.write(out, started.elapsed())
    })?;
    if let Some(failed) = report.failed.first() {
        let again = match &state {
            Some(state) => format!(
                "; those that may pass are kept in {}: run the same command again",
                state.dir.display()
            ),
            None => String::new(),
        };
        let verb = if job.target.is_stream() {
            "delivered"
        } else {
            "stored"
        };
        anyhow::bail!(
            "{} events were not {verb}: {failed}{again}",
            report.failed_count
        );
    }
    Ok(Outcome {
        invalid: summary.rejected_events > 0,
        io_error: false,
    })
}

/// The destination as a run's state (and a summary) names it (none for a dry run).
pub(crate) fn destination<'a>(
    target: &'a Target,
    connect: &'a ConnectArgs,
) -> Option<Destination<'a>> {
    let endpoint = connect.endpoint_url.as_deref();
    match target {
        Target::Firehose(name) => Some(Destination::Stream("firehose", name, endpoint)),
        Target::Kinesis(name) => Some(Destination::Stream("kinesis", name, endpoint)),
        Target::Bucket(bucket) => Some(Destination::Bucket(bucket, endpoint)),
        Target::Folder(out) => Some(Destination::Folder(out)),
        Target::DryRun => None,
    }
}

/// How a producer reaches its destination: what [`builder`] needs.
pub(crate) struct Reach<'a> {
    pub target: &'a Target,
    pub lake: &'a LakeArgs,
    pub connect: &'a ConnectArgs,
    /// The destination's region (a folder stands in for a bucket of this region).
    pub region: &'a str,
    /// On the direct path, a partition's rows become an object once the first has waited this
    /// long (`None`: the lake writer's default).
    pub buffer_interval: Option<Duration>,
}

/// The producer's builder for `reach`'s target, judging with `engine`; the direct path records
/// each object stored in `objects`.
pub(crate) async fn builder(
    reach: &Reach<'_>,
    engine: Engine,
    scratch: Option<&PathBuf>,
    objects: &Arc<Mutex<Vec<StoredObject>>>,
) -> anyhow::Result<ProducerBuilder> {
    let endpoint = reach.connect.endpoint_url.as_deref();
    let shared = aws_config(reach.region, endpoint).await;
    let folder = |root: &PathBuf| DirStore::new(root).in_region(reach.region);
    let lake = |builder: ProducerBuilder| {
        let seen = Arc::clone(objects);
        let defaults = LakeConfig::default();
        builder
            .lake_config(LakeConfig {
                object_bytes: reach.lake.object_mib.max(1).saturating_mul(1024 * 1024),
                give_up_unreachable_after: Some(Duration::from_secs(
                    reach.connect.give_up_after.max(1),
                )),
                buffer_interval: reach.buffer_interval.unwrap_or(defaults.buffer_interval),
                min_object_interval: reach
                    .buffer_interval
                    .map_or(defaults.min_object_interval, |interval| {
                        interval.min(defaults.min_object_interval)
                    }),
            })
            .on_object(move |object| {
                if let Ok(mut objects) = seen.lock() {
                    objects.push(object.clone());
                }
            })
    };
    Ok(match (reach.target, scratch) {
        (Target::Firehose(name), _) => {
            ProducerBuilder::firehose(aws_sdk_firehose::Client::new(&shared), name).ocsf(engine)
        }
        (Target::Kinesis(name), _) => {
            ProducerBuilder::kinesis(aws_sdk_kinesis::Client::new(&shared), name).ocsf(engine)
        }
        (Target::Bucket(bucket), _) => {
            let sources = lake_sources(&reach.lake.sources, &reach.lake.prefix, &engine)?;
            let mut store = S3Store::new(s3_client(&shared, endpoint.is_some()), bucket);
            if let Some(part) = reach.lake.part_mib {
                let part = part.saturating_mul(1024 * 1024);
                store = store.multipart(part, part);
            }
            if let Some(endpoint) = endpoint {
                store = store.endpoint_label(endpoint);
            }
            lake(ProducerBuilder::s3_sources(store, sources, engine))
        }
        // A folder stands in for the bucket, in the bucket's region (`--region`).
        (Target::Folder(root), _) | (Target::DryRun, Some(root)) => {
            let sources = lake_sources(&reach.lake.sources, &reach.lake.prefix, &engine)?;
            lake(ProducerBuilder::dir_store(folder(root), sources, engine))
        }
        (Target::DryRun, None) => anyhow::bail!("a dry run needs its scratch folder"),
    })
}

/// Resolves at the first `SIGINT` (Ctrl-C) or, on Unix, `SIGTERM`; never when they cannot be
/// listened to.
pub(crate) async fn stop_signal() {
    let interrupt = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut terminate) => {
                terminate.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => {}
        () = terminate => {}
    }
}

/// The codes of a refused event: its error findings' codes, or the refusal's own.
fn rejection_codes(error: &SendError) -> Vec<String> {
    match error {
        SendError::Invalid(findings) if !findings.is_empty() => finding_codes(findings),
        other => vec![other.code().to_owned()],
    }
}

//! `ocsf-firehose`: the operator CLI of ocsf-firehose, over its two libraries (the OCSF engine
//! and Lambda of `ocsf-firehose-transform`, the producer of `ocsf-firehose-producer`). Every
//! command that judges an event gives the transformation Lambda's verdict, configured as the
//! Lambda is (`OCSF_*` variables, `--config FILE`, flags).
//!
//! Exit codes: 0 when every event is accepted (valid), 1 when any is not, 2 on usage or I/O
//! errors.

mod audit;
mod demo;
mod glue_schema;
mod input;
mod judging;
mod lambda_args;
mod lines;
mod local;
mod normalize;
mod output;
mod redrive;
mod send;
mod serve;
mod store;
mod summary;
mod transform;
mod upload;
mod validate;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Judge, normalize and land OCSF events exactly as the ocsf-firehose pipeline does.
#[derive(Debug, Parser)]
#[command(name = "ocsf-firehose", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// The transformation Lambda's verdict on OCSF events (one JSON event, JSON lines, or
    /// concatenated JSON per input): accepted or rejected, with the findings and the partition
    /// keys; `--schema-only` for the OCSF schema check alone.
    Validate(validate::Args),
    /// Print the events the Lambda accepts, normalized, as JSON lines; rejected ones go to
    /// stderr.
    Normalize(normalize::Args),
    /// Run the Firehose transformation Lambda's handler on a Firehose event and print the
    /// response (exit 1 when a record is not `Ok`).
    Transform(transform::Args),
    /// Print the Glue table columns (name and Hive type) of an OCSF class, generated from the
    /// schema: what the Lambda's output is fitted to.
    GlueSchema(glue_schema::Args),
    /// Run the whole path locally: events (JSON lines or `--demo N`) through the producer
    /// (aggregation on) into local Firehose streams, one per class: de-aggregation, the Lambda
    /// handler, dynamic partitioning and Parquet under
    /// `<out>/ext/<source>/region=…/accountId=…/eventDay=…/`.
    Local(local::Args),
    /// Write events straight into Security Lake custom sources (no Firehose): JSON lines →
    /// zstd Parquet objects under `<source location>region=…/accountId=…/eventDay=…/` in the
    /// bucket (`--bucket`) or a folder (`--out`); the back-fill and batch-upload tool.
    Upload(upload::Args),
    /// Send events through the producer, each judged as the Lambda judges it: into a Firehose
    /// (`--firehose`) or Kinesis (`--kinesis`) stream, aggregated, or straight into the sources'
    /// locations (`--bucket`, `--out`, as `upload`); the same command run again after a crash
    /// sends what the earlier run left and skips what it took.
    Send(send::Args),
    /// Re-send the records under Firehose's error prefix (from `--bucket` or a local `--dir`)
    /// that the Lambda's verdict, as now configured, accepts: through the producer to a Firehose
    /// or Kinesis stream, or into the local pipeline; idempotent (a ledger of event identities: uid and digest),
    /// `--dry-run` to see what would pass, `--delete-redriven` to clear what was delivered.
    Redrive(redrive::Args),
    /// An HTTP ingest agent running the producer for apps in any language: `POST /v1/events`
    /// (a JSON event, an array or JSON lines; gzip), each event judged as the Lambda judges it
    /// and answered (accepted, rejected with findings, or `retry` when the buffer is full: 429),
    /// into the same destinations as `send`; `/healthz`, `/metrics`; SIGTERM delivers and exits.
    Serve(serve::Args),
    /// Check what is already in a lake's custom sources, whoever wrote it: the key layout and
    /// partition values, each object from its Parquet footer (one class, sorted by `time`,
    /// page and row-group limits, codec, `eventDay` of every row), each schema against the
    /// source's Glue table, the native types and the source's other objects; `--rows` judges
    /// the rows too. Exit 1 when anything is wrong.
    Audit(audit::Args),
    /// Print the demo events of `local --demo N` as JSON lines (about 1 % deliberately
    /// invalid; the truncated ones are not JSON).
    Demo(demo::Args),
}

/// jemalloc instead of glibc's allocator: judging builds and drops a JSON tree per event and the
/// lake writer many column buffers per object, from several threads. Measured on 200,000 demo
/// events (CPU s, median of 3 interleaved runs): `upload --out` 8.39 → 7.49, `validate` 3.09 →
/// 2.79, peak RSS 361 → 388 MiB. mimalloc cut user time as much but, returning pages to the
/// kernel between objects, spent it again zeroing fresh ones (system time 1.2 → 2.0 s, RSS
/// 525 MiB).
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

fn main() -> ExitCode {
    let cli = Cli::parse();
    // The libraries' warnings (a call failing, an object not stored: codes and counts, never
    // event contents) on stderr; `OCSF_LOG` sets the filter (`debug`, `ocsf_firehose_producer=info`).
    let filter = tracing_subscriber::EnvFilter::try_from_env("OCSF_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .init();
    let result = match cli.command {
        Command::Validate(args) => validate::run(args),
        Command::Normalize(args) => normalize::run(args),
        Command::Transform(args) => transform::run(args),
        Command::GlueSchema(args) => glue_schema::run(args),
        Command::Local(args) => local::run(args),
        Command::Demo(args) => demo::run(args),
        Command::Upload(args) => upload::run(args),
        Command::Send(args) => send::run(args),
        Command::Redrive(args) => redrive::run(args),
        Command::Serve(args) => serve::run(args),
        Command::Audit(args) => audit::run(args),
    };
    match result {
        Ok(outcome) => outcome.exit_code(),
        // The reader of stdout went away (`… | head`): nothing is wrong, nobody is listening.
        Err(error) if is_broken_pipe(&error) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("ocsf-firehose: {error:#}");
            ExitCode::from(2)
        }
    }
}

fn is_broken_pipe(error: &anyhow::Error) -> bool {
    error.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

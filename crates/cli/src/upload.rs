//! `ocsf-firehose upload`: JSON events → Security Lake objects, straight into the custom
//! sources' locations (no Firehose): the back-fill and batch-upload tool, `send` to a bucket
//! (`--bucket`) or a local folder (`--out`) (`send/`). `--dry-run` does everything but store the
//! objects. Running the same command again lands every event once.

use std::path::PathBuf;

use clap::Args as ClapArgs;

use crate::send::args::JobArgs;
use crate::send::{run_job, Job, Target};
use crate::summary::Outcome;

/// Arguments of `upload`.
#[derive(Debug, ClapArgs)]
#[command(group(clap::ArgGroup::new("store").required(true).args(["bucket", "out"])))]
pub(crate) struct Args {
    /// JSON events: JSON lines, concatenated or pretty-printed JSON (`-` or nothing: stdin).
    inputs: Vec<PathBuf>,
    /// The Security Lake bucket.
    #[arg(long, value_name = "BUCKET")]
    bucket: Option<String>,
    /// A local folder standing in for the bucket.
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// Judge, partition and encode everything, but store nothing.
    #[arg(long)]
    dry_run: bool,
    #[command(flatten)]
    job: JobArgs,
}

pub(crate) fn run(args: Args) -> anyhow::Result<Outcome> {
    let target = match (args.dry_run, args.bucket, args.out) {
        (true, _, _) => Target::DryRun,
        (false, Some(bucket), _) => Target::Bucket(bucket),
        (false, None, Some(out)) => Target::Folder(out),
        (false, None, None) => anyhow::bail!("--bucket or --out is required"),
    };
    run_job(Job {
        inputs: args.inputs,
        target,
        aggregate: true,
        record_bytes: None,
        args: args.job,
    })
}

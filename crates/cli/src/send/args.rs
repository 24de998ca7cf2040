//! The flags `send` and `upload` share ([`JobArgs`]): the direct path's ([`LakeArgs`]), a
//! run's ([`RunArgs`]), the Lambda's and the summary's.

use std::path::PathBuf;

use clap::Args;

use crate::lambda_args::LambdaArgs;
use crate::summary::SummaryFormat;

/// Everything of a run but its inputs and destination.
#[derive(Debug, Args)]
pub(crate) struct JobArgs {
    #[command(flatten)]
    pub lake: LakeArgs,
    #[command(flatten)]
    pub run: RunArgs,
    /// The Lambda's configuration (the verdict every event gets first); `--region`: the
    /// destination's, the last fallback for `region`.
    #[command(flatten)]
    pub lambda: LambdaArgs,
    #[command(flatten)]
    pub summary: SummaryFormat,
}

/// How events are written straight into the sources' locations (`--bucket`, `--out`).
#[derive(Debug, Args)]
pub(crate) struct LakeArgs {
    /// Source name of a class: `CLASS_UID=NAME` (repeat); default: the class name.
    #[arg(long = "source", value_name = "CLASS_UID=NAME")]
    pub sources: Vec<String>,
    /// The source location of every class, `{source}` standing for its source name (the key
    /// part of the `provider.location` registration returned).
    #[arg(long, default_value = "ext/{source}/")]
    pub prefix: String,
    /// A partition's object rolls over at this many MiB of rows.
    #[arg(long, default_value_t = 128)]
    pub object_mib: usize,
    /// In a bucket, objects over this many MiB are stored as multipart uploads in parts of this
    /// size (at least 5, S3's smallest part; default: over 16 MiB, in parts of 8).
    #[arg(long, value_name = "MIB")]
    pub part_mib: Option<usize>,
}

/// How a run goes: the endpoint, memory, giving up, and the state that makes it resumable.
#[derive(Debug, Args)]
pub(crate) struct RunArgs {
    /// The AWS endpoint (moto, LocalStack, a VPC endpoint); S3 with path-style addressing.
    #[arg(long, value_name = "URL")]
    pub endpoint_url: Option<String>,
    /// Memory for buffered events, in MiB (`send` waits beyond it; on the direct path the
    /// largest partition is then written early).
    #[arg(long, default_value_t = 512)]
    pub budget_mib: usize,
    /// Give the endpoint up once it has answered nothing for this many seconds (refused
    /// connections, names not resolving, timeouts): the events not yet delivered fail at once
    /// with the cause, and the command exits 2 (the direct path; a stream gives up at the
    /// events' deadline).
    #[arg(long, default_value_t = 120, value_name = "SECONDS")]
    pub give_up_after: u64,
    /// Where the run keeps its progress and the events not yet delivered, so that running the
    /// same command again delivers every event (once on the direct path) (default: a folder per
    /// inputs and destination under `$XDG_STATE_HOME/ocsf-firehose/uploads/`; none for stdin).
    #[arg(long, value_name = "DIR")]
    pub state: Option<PathBuf>,
    /// Forget what an earlier run of this command did: every event is sent again.
    #[arg(long)]
    pub restart: bool,
}

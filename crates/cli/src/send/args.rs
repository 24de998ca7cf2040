//! The flags `send`, `upload` and `serve` share: a stream or lake destination
//! ([`DestinationArgs`]), the direct path's ([`LakeArgs`]), the endpoint's and memory's
//! ([`ConnectArgs`]); and `send`'s and `upload`'s ([`JobArgs`]: a run's state, the Lambda's and
//! the summary's).

use std::path::PathBuf;

use clap::Args;

use super::Target;

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

/// Where events go: a stream, or the direct path into a bucket or a folder.
#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("destination").required(true)
    .args(["firehose", "kinesis", "bucket", "out"])))]
pub(crate) struct DestinationArgs {
    /// Into this Firehose stream (Direct PUT).
    #[arg(long, value_name = "NAME")]
    firehose: Option<String>,
    /// Into this Kinesis data stream (feeding Firehose).
    #[arg(long, value_name = "NAME")]
    kinesis: Option<String>,
    /// Straight into the sources' locations in this Security Lake bucket (the direct path).
    #[arg(long, value_name = "BUCKET")]
    bucket: Option<String>,
    /// The direct path into a local folder standing in for the bucket.
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// One event per record (for a stream without Firehose's `RecordDeAggregation`).
    #[arg(long)]
    pub no_aggregation: bool,
    /// Aggregated records of about this many KiB (default: 50, Firehose's 5 KB billing unit
    /// times ten; the producer keeps under each service's record limit).
    #[arg(long, value_name = "KIB", conflicts_with = "no_aggregation")]
    record_kib: Option<usize>,
}

impl DestinationArgs {
    /// The destination named.
    pub(crate) fn target(&self) -> anyhow::Result<Target> {
        Ok(
            match (&self.firehose, &self.kinesis, &self.bucket, &self.out) {
                (Some(name), ..) => Target::Firehose(name.clone()),
                (None, Some(name), ..) => Target::Kinesis(name.clone()),
                (None, None, Some(bucket), _) => Target::Bucket(bucket.clone()),
                (None, None, None, Some(out)) => Target::Folder(out.clone()),
                (None, None, None, None) => anyhow::bail!("a destination is required"),
            },
        )
    }

    /// The aggregated records' target size in bytes (`None`: the producer's default).
    pub(crate) fn record_bytes(&self) -> Option<usize> {
        self.record_kib.map(|kib| kib.saturating_mul(1024))
    }
}

/// How the producer reaches its destination: the endpoint, memory, giving up.
#[derive(Debug, Args)]
pub(crate) struct ConnectArgs {
    /// The AWS endpoint (moto, LocalStack, a VPC endpoint); S3 with path-style addressing.
    #[arg(long, value_name = "URL")]
    pub endpoint_url: Option<String>,
    /// Memory for buffered events, in MiB (`send` waits beyond it; on the direct path the
    /// largest partition is then written early).
    #[arg(long, default_value_t = 512)]
    pub budget_mib: usize,
    /// Calls to a stream in flight at once (`PutRecordBatch`/`PutRecords`).
    #[arg(long, default_value_t = 4, value_name = "N")]
    pub max_in_flight: usize,
    /// Give the endpoint up once it has answered nothing for this many seconds (refused
    /// connections, names not resolving, timeouts): the events not yet delivered fail at once
    /// with the cause, and the command exits 2 (the direct path; a stream gives up at the
    /// events' deadline).
    #[arg(long, default_value_t = 120, value_name = "SECONDS")]
    pub give_up_after: u64,
}

impl ConnectArgs {
    /// The producer's tuning from these flags: the buffer budget, the calls in flight, and
    /// the aggregation asked for (`record_bytes`: the aggregated records' target size).
    pub(crate) fn producer_config(
        &self,
        aggregate: bool,
        record_bytes: Option<usize>,
    ) -> ocsf_firehose_producer::ProducerConfig {
        ocsf_firehose_producer::ProducerConfig {
            max_buffered_bytes: self.budget_mib.max(2).saturating_mul(1024 * 1024),
            aggregate,
            aggregation_target_bytes: record_bytes,
            max_in_flight: self.max_in_flight.max(1),
            ..ocsf_firehose_producer::ProducerConfig::default()
        }
    }
}

/// How a run goes: the destination's connection, and the state that makes it resumable.
#[derive(Debug, Args)]
pub(crate) struct RunArgs {
    #[command(flatten)]
    pub connect: ConnectArgs,
    /// Where the run keeps its progress and the events not yet delivered, so that running the
    /// same command again delivers every event (once on the direct path) (default: a folder per
    /// inputs and destination under `$XDG_STATE_HOME/ocsf-firehose/uploads/`; none for stdin).
    #[arg(long, value_name = "DIR")]
    pub state: Option<PathBuf>,
    /// Forget what an earlier run of this command did: every event is sent again.
    #[arg(long)]
    pub restart: bool,
}

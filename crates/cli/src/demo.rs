//! `ocsf-firehose demo`: the demo events of `local --demo`, as JSON lines, for the other
//! commands (and benchmarks) to read.

use std::io::{BufWriter, Write};

use anyhow::Context;
use ocsf_firehose_transform::local::demo;

use crate::summary::Outcome;

/// Arguments of `demo`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// How many events.
    #[arg(value_name = "N")]
    count: usize,
    /// Seed of the generator (`local --demo N --seed S` sends the same events).
    #[arg(long, default_value_t = 1)]
    seed: u64,
}

pub(crate) fn run(args: Args) -> anyhow::Result<Outcome> {
    let mut out = BufWriter::new(std::io::stdout().lock());
    for event in demo::events(args.count, args.seed) {
        out.write_all(&event.bytes)?;
        out.write_all(b"\n")?;
    }
    out.flush().context("cannot write the events")?;
    Ok(Outcome::default())
}

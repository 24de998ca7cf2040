//! `ocsf-firehose transform`: the Lambda's handler on a Firehose event, locally.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Context;
use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use ocsf_firehose_transform::contract::limits::DEFAULT_PROCESSOR_BUFFER_BYTES;
use ocsf_firehose_transform::firehose::FirehoseEvent;
use serde_json::Value;

use crate::input::{Documents, Source, MAX_DOCUMENT_BYTES};
use crate::lambda_args::LambdaArgs;
use crate::summary::Outcome;

/// Arguments of `transform`.
#[derive(Debug, clap::Args)]
#[command(group(clap::ArgGroup::new("input").required(true).args(["event", "records"])))]
pub(crate) struct Args {
    /// A Firehose transformation event (JSON), as Firehose sends it to the Lambda.
    #[arg(long, value_name = "FILE")]
    event: Option<PathBuf>,
    /// Plain OCSF events (one JSON event, JSON lines or concatenated), wrapped into Firehose
    /// events with one record per event, read as Firehose's processor buffers them: an
    /// invocation per 1 MiB of records, each answered in turn (one response per invocation,
    /// memory bounded by one). An unparseable document is a record of its own bytes.
    #[arg(long, value_name = "FILE")]
    records: Option<PathBuf>,
    /// The Lambda's configuration; `--region`: the wrapped event's (with `--records`).
    #[command(flatten)]
    lambda: LambdaArgs,
    /// Print each record's `data` decoded as text instead of base64.
    #[arg(long)]
    decode: bool,
}

/// The arrival time of wrapped records: now.
fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// Reads `path`'s documents as records and hands `answer` one Firehose event per
/// [`DEFAULT_PROCESSOR_BUFFER_BYTES`] of records (at least one record each), as Firehose's
/// processor buffers them; an unparseable document is a record of its own bytes (the handler
/// reports it). Returns the documents larger than the reader holds (not read, not sent).
fn for_each_invocation(
    path: &Path,
    region: &str,
    mut answer: impl FnMut(FirehoseEvent) -> anyhow::Result<()>,
) -> anyhow::Result<u64> {
    let mut unread = 0;
    let mut payloads: Vec<Vec<u8>> = Vec::new();
    let mut buffered = 0;
    for document in Documents::new(vec![Source::File(path.to_owned())]).records_only() {
        let document = document?;
        if document.unread() {
            unread += 1;
            eprintln!(
                "ocsf-firehose: document {} is larger than {MAX_DOCUMENT_BYTES} bytes: record_too_large, not read",
                document.index
            );
            continue;
        }
        // A document that is not parseable JSON is a record of its bytes: the handler says why.
        let payload = document.bytes;
        if buffered + payload.len() > DEFAULT_PROCESSOR_BUFFER_BYTES && !payloads.is_empty() {
            answer(FirehoseEvent::from_payloads(
                payloads.drain(..),
                region,
                now_ms(),
            ))?;
            buffered = 0;
        }
        buffered += payload.len();
        payloads.push(payload);
    }
    if !payloads.is_empty() {
        answer(FirehoseEvent::from_payloads(payloads, region, now_ms()))?;
    }
    Ok(unread)
}

/// Replaces each record's base64 `data` by its text.
fn decode_data(response: &mut Value) {
    let records = response.get_mut("records").and_then(Value::as_array_mut);
    for record in records.into_iter().flatten() {
        if let Some(data) = record.get_mut("data") {
            let text = data
                .as_str()
                .and_then(|b64| STANDARD.decode(b64).ok())
                .map(|bytes| String::from_utf8_lossy(&bytes).into_owned());
            if let Some(text) = text {
                *data = Value::String(text);
            }
        }
    }
}

pub(crate) fn run(args: Args) -> anyhow::Result<Outcome> {
    let transformer = args.lambda.transformer()?;
    let level = transformer.config().log_level;
    let mut invalid = false;
    let mut answer = |event: FirehoseEvent| -> anyhow::Result<()> {
        let (response, report) = transformer.handle(&event)?;
        let mut stderr = std::io::stderr().lock();
        for line in report.log_lines(level) {
            writeln!(stderr, "{line}")?;
        }
        drop(stderr);
        invalid |= report.ok != report.records;
        // Buffered: the serializer writes token by token, and each write through stdout's
        // line buffer costs as much as the token (6 % of `transform --event`).
        let mut stdout = std::io::BufWriter::with_capacity(1 << 16, std::io::stdout().lock());
        if args.decode {
            let mut response = serde_json::to_value(&response)?;
            decode_data(&mut response);
            serde_json::to_writer_pretty(&mut stdout, &response)?;
        } else {
            // Written as it is: no copy of the response as a JSON tree.
            serde_json::to_writer_pretty(&mut stdout, &response)?;
        }
        writeln!(stdout)?;
        stdout.flush()?;
        Ok(())
    };
    match (&args.event, &args.records) {
        (Some(path), _) => {
            let bytes =
                std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
            let event = serde_json::from_slice(&bytes).with_context(|| {
                format!("{} is not a Firehose transformation event", path.display())
            })?;
            answer(event)?;
        }
        (None, Some(path)) => {
            let unread = for_each_invocation(path, &args.lambda.region, &mut answer)?;
            invalid |= unread > 0;
        }
        (None, None) => anyhow::bail!("give --event or --records"),
    }
    Ok(Outcome {
        invalid,
        io_error: false,
    })
}

//! `ocsf-firehose transform`: the Lambda's handler on a Firehose event, locally.

use std::io::Write;
use std::path::PathBuf;

use anyhow::Context;
use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use ocsf_firehose_transform::documents::documents;
use ocsf_firehose_transform::firehose::FirehoseEvent;
use serde_json::Value;

use crate::lambda_args::LambdaArgs;
use crate::Outcome;

/// Arguments of `transform`.
#[derive(Debug, clap::Args)]
#[command(group(clap::ArgGroup::new("input").required(true).args(["event", "records"])))]
pub(crate) struct Args {
    /// A Firehose transformation event (JSON), as Firehose sends it to the Lambda.
    #[arg(long, value_name = "FILE")]
    event: Option<PathBuf>,
    /// Plain OCSF events (one JSON event, JSON lines or concatenated), wrapped into a Firehose
    /// event with one record per event.
    #[arg(long, value_name = "FILE")]
    records: Option<PathBuf>,
    /// The Lambda's configuration; `--region`: the wrapped event's (with `--records`).
    #[command(flatten)]
    lambda: LambdaArgs,
    /// Print each record's `data` decoded as text instead of base64.
    #[arg(long)]
    decode: bool,
}

/// One record per document; an unparseable document and what follows it become one last
/// record, so that the handler reports it.
fn wrap(bytes: &[u8], region: &str) -> FirehoseEvent {
    let mut payloads = Vec::new();
    for document in documents(bytes) {
        match document.value {
            Ok(value) => payloads.push(serde_json::to_vec(&value).unwrap_or_default()),
            Err(_) => payloads.push(bytes.get(document.offset..).unwrap_or_default().to_vec()),
        }
    }
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
    FirehoseEvent::from_payloads(payloads, region, now_ms)
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
    let event = match (&args.event, &args.records) {
        (Some(path), _) => {
            let bytes =
                std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
            serde_json::from_slice(&bytes).with_context(|| {
                format!("{} is not a Firehose transformation event", path.display())
            })?
        }
        (None, Some(path)) => {
            let bytes =
                std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
            wrap(&bytes, &args.lambda.region)
        }
        (None, None) => anyhow::bail!("give --event or --records"),
    };
    let (response, report) = transformer.handle(&event)?;
    let mut stderr = std::io::stderr().lock();
    for line in report.log_lines(level) {
        writeln!(stderr, "{line}")?;
    }
    let mut response = serde_json::to_value(&response)?;
    if args.decode {
        decode_data(&mut response);
    }
    let mut stdout = std::io::stdout().lock();
    serde_json::to_writer_pretty(&mut stdout, &response)?;
    writeln!(stdout)?;
    Ok(Outcome {
        invalid: report.ok != report.records,
        io_error: false,
    })
}

//! `ocsf-firehose redrive`: the records Firehose could not deliver, back into the pipeline once
//! their cause is fixed (a new version translation, a relaxed setting, a schema update).
//!
//! It reads Firehose's error documents under the error prefix (`processing-failed/`,
//! `format-conversion-failed/`, partitioning failures, …) from a bucket or a local folder (the
//! local pipeline's `--out`), gives each record the transformation Lambda's verdict as now
//! configured (the Lambda's own record verdict, on the document's decoded `rawData`), and sends the
//! events of the records that pass through the producer: into a Firehose or Kinesis stream (one
//! per source with `{source}` in the name), into the local pipeline, or straight into the
//! sources' locations (the direct path of `upload`). Records that still fail
//! are reported on stderr with their codes (never their contents).
//!
//! Idempotent: every delivered event's identity (`metadata.uid` and a digest of its bytes) is
//! added to a ledger under `--ledger-prefix`; later runs skip what it names, and an event found
//! twice in one run goes once. Nothing is deleted unless `--delete-redriven` is given, and then
//! only error objects whose every record was delivered. `--dry-run` judges and reports only.

mod destination;
mod ledger;

use std::collections::{BTreeMap, HashSet};
use std::io::Write;
use std::path::PathBuf;
use std::time::Instant;

use anyhow::Context;
use clap::Args as ClapArgs;
use ocsf_firehose_producer::lake::store::S3Store;
use ocsf_firehose_producer::{Delivery, ProducerConfig, SendError};
use ocsf_firehose_transform::contract::framing;
use ocsf_firehose_transform::contract::prefix::{check_key_prefix, parse_error_key};
use ocsf_firehose_transform::firehose::record::{transform_decoded, transform_record};
use ocsf_firehose_transform::firehose::{
    error_documents, ErrorDocument, TransformResult, Transformer,
};
use ocsf_firehose_transform::local::Summary;
use serde::Serialize;
use serde_json::json;

use crate::lambda_args::LambdaArgs;
use crate::lines::{
    aws_config, lake_sources, parse_sources, pipeline_config, progress_bar, runtime, s3_client,
};
use crate::store::Store;
use crate::summary::{count, count_failed, write_counts, Outcome, SummaryFormat};
use destination::{Destinations, Lake, LakeStore, Target};
use ledger::{identity, Entry, Ledger};

/// The first bytes of a gzip stream: an error object Firehose compressed (a stream whose S3
/// compression is on; record format conversion requires it off).
const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// Arguments of `redrive`.
#[derive(Debug, ClapArgs)]
#[command(group(clap::ArgGroup::new("input").required(true).args(["bucket", "dir"])))]
#[command(group(clap::ArgGroup::new("to").args(["firehose", "kinesis", "local", "lake_bucket", "lake_dir"])))]
pub(crate) struct Args {
    /// Read the error objects from this bucket.
    #[arg(long, value_name = "BUCKET")]
    bucket: Option<String>,
    /// Read them from a folder standing in for the bucket (the local pipeline's `--out`).
    #[arg(long, value_name = "DIR")]
    dir: Option<PathBuf>,
    /// The error objects' key prefix (the stream's error output prefix, or a part of it:
    /// `errors/<source>/processing-failed/`).
    #[arg(long, default_value = "errors/")]
    prefix: String,
    /// S3, Firehose and Kinesis endpoint (moto, LocalStack, a VPC endpoint).
    #[arg(long, value_name = "URL")]
    endpoint_url: Option<String>,
    /// Send to this Firehose stream (Direct PUT); `{source}` stands for each error object's
    /// source (`ocsf-{source}`).
    #[arg(long, value_name = "NAME")]
    firehose: Option<String>,
    /// Send to this Kinesis data stream; `{source}` as for `--firehose`.
    #[arg(long, value_name = "NAME")]
    kinesis: Option<String>,
    /// Send into the local pipeline writing under this folder (`local --out`).
    #[arg(long, value_name = "DIR")]
    local: Option<PathBuf>,
    /// Write Security Lake objects straight into the sources' locations in this bucket (the
    /// direct path of `upload`, no Firehose).
    #[arg(long, value_name = "BUCKET")]
    lake_bucket: Option<String>,
    /// The direct path into a folder standing in for that bucket.
    #[arg(long, value_name = "DIR")]
    lake_dir: Option<PathBuf>,
    /// The direct path's source location of every class, `{source}` standing for its source
    /// name.
    #[arg(long, default_value = "ext/{source}/", value_name = "TEMPLATE")]
    lake_prefix: String,
    /// Source name of a class in the local pipeline or the direct path: `CLASS_UID=NAME`
    /// (repeat).
    #[arg(long = "source", value_name = "CLASS_UID=NAME")]
    sources: Vec<String>,
    /// Judge and report only: send, record and delete nothing.
    #[arg(long, conflicts_with = "delete_redriven")]
    dry_run: bool,
    /// Delete the error objects whose every record has been delivered (now or by an earlier
    /// run).
    #[arg(long)]
    delete_redriven: bool,
    /// Where the ledger of delivered events is kept, in the same bucket or folder.
    #[arg(long, default_value = "redrive-ledger/", value_name = "PREFIX")]
    ledger_prefix: String,
    /// Send one event per record (for a stream without `RecordDeAggregation`).
    #[arg(long)]
    no_aggregation: bool,
    /// The Lambda's configuration, as it now is; `--region`: the bucket's and the streams'.
    #[command(flatten)]
    lambda: LambdaArgs,
    #[command(flatten)]
    summary: SummaryFormat,
}

/// What a run did. Every record is accounted for: `documents = unreadableDocuments +
/// stillFailing + passing`; every event of a passing record too: `events = alreadyRedriven +
/// duplicates + wouldSend + sent + refused + notDelivered`.
#[derive(Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
struct RedriveSummary {
    /// Error objects read.
    objects: u64,
    /// Error documents (records) in them.
    documents: u64,
    /// Documents (or whole objects) that could not be read, by code.
    unreadable: BTreeMap<String, u64>,
    unreadable_documents: u64,
    /// Records the verdict still refuses, and their codes (a record once per distinct code).
    still_failing: u64,
    failing: BTreeMap<String, u64>,
    /// Records the verdict now accepts, and their events.
    passing: u64,
    events: u64,
    already_redriven: u64,
    duplicates: u64,
    would_send: u64,
    sent: u64,
    /// The producer's `PutRecordBatch`/`PutRecords` calls.
    api_calls: u64,
    /// Events the producer refused at `send`, by code.
    refused: BTreeMap<String, u64>,
    /// Events the producer could not deliver, by code.
    not_delivered: BTreeMap<String, u64>,
    /// The ledger object this run added.
    ledger: Option<String>,
    deleted_objects: u64,
    dry_run: bool,
    /// The local pipeline's accounting (`--local`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pipeline: Option<Summary>,
}

/// An event sent, waiting for its delivery.
struct Sent {
    key: String,
    object: usize,
    delivery: Delivery,
}

/// An error object: its key, and whether all of its records may be deleted.
struct ErrorObject {
    key: String,
    /// Something in it was not delivered (unreadable, still failing, refused).
    kept: bool,
    /// The identities of its events (only with `--delete-redriven`).
    events: Vec<String>,
}

pub(crate) fn run(args: Args) -> anyhow::Result<Outcome> {
    runtime()?.block_on(run_async(args))
}

async fn run_async(args: Args) -> anyhow::Result<Outcome> {
    let started = Instant::now();
    // The prefixes name keys below the bucket, or paths below `--dir`: never outside it.
    for (flag, prefix) in [
        ("--prefix", &args.prefix),
        ("--ledger-prefix", &args.ledger_prefix),
    ] {
        check_key_prefix(prefix).with_context(|| flag.to_owned())?;
    }
    if args.ledger_prefix.is_empty() {
        anyhow::bail!("--ledger-prefix: the ledger needs a prefix of its own");
    }
    let transformer = args.lambda.transformer()?;
    let endpoint = args.endpoint_url.as_deref();
    let shared = aws_config(&args.lambda.region, endpoint).await;
    let store = match (&args.bucket, &args.dir) {
        (Some(bucket), _) => Store::S3 {
            client: s3_client(&shared, endpoint.is_some()),
            bucket: bucket.clone(),
        },
        (None, Some(dir)) => Store::Dir(dir.clone()),
        (None, None) => anyhow::bail!("--bucket or --dir is required"),
    };
    let target = if args.dry_run {
        None // a dry run names its destination at most: nothing is sent
    } else {
        Some(target(&args, &transformer, &shared)?)
    };
    let config = ProducerConfig {
        aggregate: !args.no_aggregation,
        ..ProducerConfig::default()
    };
    let mut destinations = target.map(|t| Destinations::new(t, config, shared.clone()));
    let mut ledger = Ledger::load(&store, &args.ledger_prefix).await?;
    let keys: Vec<String> = store
        .list(&args.prefix)
        .await?
        .into_iter()
        .filter(|key| !key.starts_with(&args.ledger_prefix))
        .collect();
    let mut run = Run {
        transformer: &transformer,
        region: &args.lambda.region,
        keep_identities: args.delete_redriven,
        summary: RedriveSummary {
            dry_run: args.dry_run,
            ..RedriveSummary::default()
        },
        objects: Vec::with_capacity(keys.len()),
        sent: Vec::new(),
        seen: HashSet::new(),
        report: std::io::stderr(),
    };
    let progress = progress_bar(Some(keys.len()), "error objects");
    for key in keys {
        let bytes = store.get(&key).await;
        run.object(key, bytes, &ledger, destinations.as_mut())
            .await?;
        progress.inc(1);
        progress.set_message(format!(
            "{} records, {} passing",
            run.summary.documents, run.summary.passing
        ));
    }
    progress.finish_and_clear();
    let Run {
        mut summary,
        mut objects,
        sent,
        mut report,
        ..
    } = run;
    if let Some(destinations) = destinations {
        let finished = destinations.finish().await?;
        summary.pipeline = finished.pipeline;
        summary.api_calls = finished.reports.iter().map(|r| r.api_calls).sum();
        let now = time::OffsetDateTime::now_utc().unix_timestamp() * 1000;
        let mut entries = Vec::with_capacity(sent.len());
        for Sent {
            key,
            object,
            delivery,
        } in sent
        {
            match delivery.outcome().await {
                Ok(()) => {
                    summary.sent += 1;
                    entries.push(Entry {
                        key,
                        object: objects[object].key.clone(),
                        at: now,
                    });
                }
                Err(failed) => {
                    count_failed(&mut summary.not_delivered, [&failed]);
                    objects[object].kept = true;
                    let line =
                        json!({"object": objects[object].key, "codes": [failed.kind.code()]});
                    writeln!(report, "{line}")?;
                }
            }
        }
        summary.ledger = ledger.append(&store, &args.ledger_prefix, entries).await?;
    }
    if args.delete_redriven {
        let deletable: Vec<String> = objects
            .iter_mut()
            .filter(|o| !o.kept && o.events.iter().all(|e| ledger.contains(e)))
            .map(|o| std::mem::take(&mut o.key))
            .collect();
        store.delete(&deletable).await?;
        summary.deleted_objects = deletable.len() as u64;
    }
    args.summary.print(&summary, |out, summary| {
        print_summary(out, summary, &store, started.elapsed().as_secs_f64())
    })?;
    if !summary.not_delivered.is_empty() {
        anyhow::bail!(
            "{} events were not delivered (they stay in the error prefix)",
            summary.not_delivered.values().sum::<u64>()
        );
    }
    Ok(Outcome {
        invalid: summary.still_failing + summary.unreadable_documents > 0
            || !summary.refused.is_empty(),
        io_error: false,
    })
}

/// The destination the flags name.
fn target(
    args: &Args,
    transformer: &Transformer,
    shared: &aws_config::SdkConfig,
) -> anyhow::Result<Target> {
    if let Some(name) = &args.firehose {
        return Ok(Target::Firehose(name.clone()));
    }
    if let Some(name) = &args.kinesis {
        return Ok(Target::Kinesis(name.clone()));
    }
    if let Some(out) = &args.local {
        return Ok(Target::Local(Box::new(pipeline_config(
            out.clone(),
            transformer.config().clone(),
            &args.lambda.region,
            parse_sources(&args.sources)?,
        ))));
    }
    let store = match (&args.lake_bucket, &args.lake_dir) {
        (Some(bucket), _) => {
            let client = s3_client(shared, args.endpoint_url.is_some());
            LakeStore::S3(S3Store::new(client, bucket))
        }
        (None, Some(dir)) => LakeStore::Dir(dir.clone()),
        (None, None) => anyhow::bail!(
            "where to: --firehose NAME, --kinesis NAME, --local DIR, --lake-bucket B or --lake-dir DIR (or --dry-run)"
        ),
    };
    let engine = transformer.engine().clone();
    let sources = lake_sources(&args.sources, &args.lake_prefix, &engine)?;
    Ok(Target::Lake(Box::new(Lake {
        store,
        sources,
        engine,
    })))
}

/// The state of one run over the error objects.
struct Run<'a> {
    transformer: &'a Transformer,
    region: &'a str,
    keep_identities: bool,
    summary: RedriveSummary,
    objects: Vec<ErrorObject>,
    sent: Vec<Sent>,
    seen: HashSet<String>,
    /// Not locked: each line locks it briefly, since the libraries' warnings are written to
    /// stderr from the runtime's threads while this task awaits.
    report: std::io::Stderr,
}

impl Run<'_> {
    /// Judges the records of one error object and sends the events of those that pass.
    async fn object(
        &mut self,
        key: String,
        bytes: anyhow::Result<Vec<u8>>,
        ledger: &Ledger,
        mut destinations: Option<&mut Destinations>,
    ) -> anyhow::Result<()> {
        self.summary.objects += 1;
        let index = self.objects.len();
        let source = parse_error_key(&key).map(|k| k.source.to_owned());
        self.objects.push(ErrorObject {
            key,
            kept: false,
            events: Vec::new(),
        });
        let bytes = match bytes {
            Ok(bytes) if bytes.starts_with(&GZIP_MAGIC) => {
                return self.unreadable(index, None, "error_object_compressed", None);
            }
            Ok(bytes) => bytes,
            Err(error) => {
                let message = format!("{error:#}");
                return self.unreadable(index, None, "error_object_unreadable", Some(&message));
            }
        };
        for (line, document) in error_documents(&bytes) {
            self.summary.documents += 1;
            let document = match document {
                Ok(document) => document,
                Err(error) => {
                    self.summary.unreadable_documents += 1;
                    self.unreadable(index, Some(line), error.code(), None)?;
                    continue;
                }
            };
            let Some(raw) = self.passing(index, line, &document)? else {
                continue;
            };
            for event in framing::sub_records(&raw) {
                self.event(
                    index,
                    event,
                    ledger,
                    destinations.as_deref_mut(),
                    source.as_deref(),
                )
                .await?;
            }
        }
        Ok(())
    }

    /// The record of a document when the verdict now accepts it; else it is reported.
    fn passing(
        &mut self,
        index: usize,
        line: usize,
        document: &ErrorDocument,
    ) -> anyhow::Result<Option<Vec<u8>>> {
        let (engine, config) = (self.transformer.engine(), self.transformer.config());
        let decoded = document.raw();
        let outcome = match &decoded {
            Ok(raw) => transform_decoded(engine, config, raw, Some(self.region)),
            // Not base64: the Lambda's own refusal of such a record.
            Err(_) => transform_record(engine, config, &document.raw_data, Some(self.region)),
        };
        let raw = match (outcome.result, decoded) {
            (TransformResult::Ok, Ok(raw)) => raw,
            (result, _) => {
                let mut codes: Vec<&str> = outcome.errors().map(|f| f.code.as_str()).collect();
                codes.sort_unstable();
                codes.dedup();
                self.summary.still_failing += 1;
                for code in &codes {
                    count(&mut self.summary.failing, code);
                }
                self.objects[index].kept = true;
                let report = json!({
                    "object": self.objects[index].key,
                    "line": line,
                    "errorCode": document.code(),
                    "result": result,
                    "codes": codes,
                });
                writeln!(self.report, "{report}")?;
                return Ok(None);
            }
        };
        self.summary.passing += 1;
        Ok(Some(raw))
    }

    /// One event of a passing record: skipped when already redriven or seen, else sent.
    async fn event(
        &mut self,
        index: usize,
        event: &[u8],
        ledger: &Ledger,
        destinations: Option<&mut Destinations>,
        source: Option<&str>,
    ) -> anyhow::Result<()> {
        self.summary.events += 1;
        let key = identity(event);
        if self.keep_identities {
            self.objects[index].events.push(key.clone());
        }
        if ledger.contains(&key) {
            self.summary.already_redriven += 1;
            return Ok(());
        }
        if !self.seen.insert(key.clone()) {
            self.summary.duplicates += 1;
            return Ok(());
        }
        let Some(destinations) = destinations else {
            self.summary.would_send += 1;
            return Ok(());
        };
        let producer = match destinations.producer(source) {
            Ok(producer) => producer,
            Err(error) => {
                let cause = format!("{error:#}");
                return self.refuse(index, "destination_unknown", Some(&cause));
            }
        };
        match producer.send_json(event).await {
            Ok(delivery) => self.sent.push(Sent {
                key,
                object: index,
                delivery,
            }),
            Err(SendError::Closed) => anyhow::bail!("the producer stopped"),
            Err(error) => return self.refuse(index, error.code(), None),
        }
        Ok(())
    }

    /// Reports an event that could not be sent; its object is kept.
    fn refuse(&mut self, index: usize, code: &str, cause: Option<&str>) -> anyhow::Result<()> {
        count(&mut self.summary.refused, code);
        self.objects[index].kept = true;
        let line = json!({"object": self.objects[index].key, "codes": [code], "cause": cause});
        writeln!(self.report, "{line}").context("cannot write the report")
    }

    /// Reports a document (`line`) or a whole object that cannot be read (with the cause, which
    /// never quotes the object); the object is kept.
    fn unreadable(
        &mut self,
        index: usize,
        line: Option<usize>,
        code: &str,
        cause: Option<&str>,
    ) -> anyhow::Result<()> {
        count(&mut self.summary.unreadable, code);
        self.objects[index].kept = true;
        let report = json!({"object": self.objects[index].key, "line": line, "codes": [code], "cause": cause});
        writeln!(self.report, "{report}").context("cannot write the report")
    }
}

fn print_summary(
    out: &mut dyn Write,
    summary: &RedriveSummary,
    store: &Store,
    seconds: f64,
) -> std::io::Result<()> {
    writeln!(
        out,
        "{} error objects under {}, {} records in {seconds:.1} s: {} pass now, {} still fail, {} unreadable",
        summary.objects,
        store.describe(),
        summary.documents,
        summary.passing,
        summary.still_failing,
        summary.unreadable_documents,
    )?;
    let sent = if summary.dry_run {
        format!("{} would be sent (dry run)", summary.would_send)
    } else {
        format!("{} sent in {} calls", summary.sent, summary.api_calls)
    };
    writeln!(
        out,
        "{} events: {sent}, {} already redriven, {} duplicates",
        summary.events, summary.already_redriven, summary.duplicates
    )?;
    if let Some(pipeline) = &summary.pipeline {
        writeln!(
            out,
            "local pipeline: {} records to the Lambda, {} ok; {} rows in {} Parquet files",
            pipeline.records,
            pipeline.ok,
            pipeline.rows_written(),
            pipeline.files
        )?;
    }
    write_counts(
        out,
        &[
            ("still failing by code:", &summary.failing),
            ("unreadable by code:", &summary.unreadable),
            ("refused at send by code:", &summary.refused),
            ("not delivered by code:", &summary.not_delivered),
        ],
    )?;
    if let Some(ledger) = &summary.ledger {
        writeln!(out, "ledger: {}{ledger}", store.describe())?;
    }
    if summary.deleted_objects > 0 {
        writeln!(
            out,
            "deleted {} fully redriven error objects",
            summary.deleted_objects
        )?;
    }
    Ok(())
}

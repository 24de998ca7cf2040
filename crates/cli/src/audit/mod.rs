//! `ocsf-firehose audit`: what is already in a lake's custom sources, whoever wrote it, against
//! Security Lake's requirements and the sources' Glue tables:
//!
//! * `layout.rs`: every key `ext/<source>/region=…/accountId=…/eventDay=…/<file>`, values valid;
//! * `object.rs` (with `footer.rs`): each object from its footer (one ranged read): Parquet, one
//!   class, sorted by `time`, pages and row groups within the limits, the codec, `eventDay` the
//!   UTC day of each row's `time`; a column chunk read only when statistics cannot decide;
//! * `source.rs`: a source's objects together: one class, each schema against the Glue table
//!   (`glue-schema`'s for the class and the Lambda options, or `--table-from`) and the native
//!   types, and drift from the source's usual schema;
//! * `rows.rs` (`--rows`): rows judged by the Lambda's verdict;
//! * `report.rs`: the summary per source, every problem with its key, text or JSON.

mod footer;
mod hive_type;
mod layout;
mod object;
mod report;
mod rows;
mod source;
mod store;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use clap::{Args as ClapArgs, ValueEnum};
use ocsf_firehose_transform::local::default_source_name;
use ocsf_firehose_transform::Engine;
use serde::Serialize;

use crate::lambda_args::LambdaArgs;
use crate::lines::{aws_config, progress_bar, runtime, s3_client};
use crate::summary::Outcome;
use object::Checked;
use source::TableColumns;
use store::{Lake, Listed, Store};

/// Output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum Format {
    /// A summary table per source, then every problem with its key.
    Text,
    /// One JSON document: the sources, every problem, the bytes read.
    Json,
}

/// Arguments of `audit`.
#[derive(Debug, ClapArgs)]
#[command(group(clap::ArgGroup::new("lake").required(true).args(["bucket", "dir"])))]
pub(crate) struct Args {
    /// The Security Lake bucket.
    #[arg(long, value_name = "BUCKET")]
    bucket: Option<String>,
    /// A local folder laid out as the bucket (`local --out`, `upload --out`).
    #[arg(long, value_name = "DIR")]
    dir: Option<PathBuf>,
    /// Only keys below this prefix.
    #[arg(long, default_value = "ext/")]
    prefix: String,
    /// Only this source (repeat); `CLASS_UID=NAME` also says which class it must hold (else its
    /// default name's class, or the class most of its objects hold).
    #[arg(long = "source", value_name = "[CLASS_UID=]NAME")]
    sources: Vec<String>,
    /// The sources' Glue table as JSON (`aws glue get-table` output, or `glue-schema`'s): used
    /// instead of the table generated for the class and the Lambda options.
    #[arg(long = "table-from", value_name = "FILE")]
    table_from: Option<PathBuf>,
    /// Also judge each object's rows by the Lambda's verdict (reads the objects whole).
    #[arg(long)]
    rows: bool,
    /// With `--rows`: only the first N rows of each object.
    #[arg(long, value_name = "N", requires = "rows")]
    sample: Option<usize>,
    /// Objects read at once.
    #[arg(long, default_value_t = 16, value_parser = clap::value_parser!(u16).range(1..))]
    concurrency: u16,
    /// S3 endpoint (moto, LocalStack, a VPC endpoint).
    #[arg(long, value_name = "URL")]
    endpoint_url: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
    #[command(flatten)]
    lambda: LambdaArgs,
}

/// A kind of problem.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum ProblemKind {
    /// A key outside `ext/<source>/region=…/accountId=…/eventDay=…/<file>`.
    KeyLayout,
    /// A partition value Security Lake does not take (region, accountId, eventDay).
    PartitionValue,
    /// Not a (readable) Parquet object.
    NotParquet,
    /// More than one class in an object (or no `class_uid` column).
    ClassesMixed,
    /// An object of another class than its source's.
    SourceClassesMixed,
    /// Rows not sorted by `time`.
    Unsorted,
    /// A page over 1 MB uncompressed.
    PageTooLarge,
    /// A row group over 256 MB compressed.
    RowGroupTooLarge,
    /// Rows whose `time` is not in the key's `eventDay` (UTC).
    EventDayMismatch,
    /// A column typed otherwise than in the table.
    ColumnType,
    /// A column the table does not have.
    ColumnNotInTable,
    /// A struct whose fields differ from the table's (order, fields missing or added).
    StructFields,
    /// A type other than the native tables' (`*_dt` timestamp, `unmapped` map).
    NativeType,
    /// A schema other than the source's usual one.
    SchemaDrift,
    /// No table to check the source's objects against (class unknown to the schema).
    NoTable,
    /// Rows the Lambda's verdict rejects (`--rows`).
    RowsRejected,
}

impl ProblemKind {
    /// The kind's code, as JSON spells it.
    pub(crate) fn code(self) -> String {
        serde_json::to_value(self)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default()
    }
}

/// One problem, with the key it was found at.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct Problem {
    /// The object's key (or the source's location, for a source's problem).
    pub key: String,
    /// Its kind.
    pub kind: ProblemKind,
    /// What exactly.
    pub detail: String,
}

/// An object and what its checks found (`None`: its key is out of the layout).
struct Audited {
    listed: Listed,
    source: String,
    checked: Option<Checked>,
    problems: Vec<Problem>,
    judged: Option<rows::Judged>,
}

/// `--source` values: names, with the class a name must hold when given.
fn parse_sources(values: &[String]) -> anyhow::Result<BTreeMap<String, Option<i64>>> {
    values
        .iter()
        .map(|value| match value.split_once('=') {
            Some((class, name)) => {
                let class: i64 = class
                    .trim()
                    .parse()
                    .with_context(|| format!("--source {value}: bad class_uid"))?;
                Ok((name.trim().to_owned(), Some(class)))
            }
            None => Ok((value.trim().to_owned(), None)),
        })
        .collect()
}

/// The columns of a Glue table JSON: `get-table`'s `Table.StorageDescriptor.Columns` or
/// `glue-schema`'s `columns` (with the class it is for, when it says).
fn read_table(path: &PathBuf) -> anyhow::Result<(Option<i64>, TableColumns)> {
    let text = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    let json: serde_json::Value =
        serde_json::from_slice(&text).with_context(|| format!("{} is not JSON", path.display()))?;
    let columns = json
        .pointer("/Table/StorageDescriptor/Columns")
        .or_else(|| json.get("columns"))
        .and_then(serde_json::Value::as_array)
        .with_context(|| {
            format!(
                "{}: no `Table.StorageDescriptor.Columns` or `columns`",
                path.display()
            )
        })?;
    let pairs: Vec<(&str, &str)> = columns
        .iter()
        .filter_map(|c| Some((c.get("Name")?.as_str()?, c.get("Type")?.as_str()?)))
        .collect();
    let table =
        source::table_columns(pairs).map_err(|why| anyhow::anyhow!("{}: {why}", path.display()))?;
    Ok((
        json.get("class_uid").and_then(serde_json::Value::as_i64),
        table,
    ))
}

pub(crate) fn run(args: Args) -> anyhow::Result<Outcome> {
    let transform = args.lambda.transform_config()?;
    let engine = Arc::new(Engine::new(transform.engine).context("invalid Lambda configuration")?);
    let wanted = parse_sources(&args.sources)?;
    let table_from = args.table_from.as_ref().map(read_table).transpose()?;
    let runtime = runtime()?;
    let audit = runtime.block_on(async {
        let place = match (&args.bucket, &args.dir) {
            (Some(bucket), _) => {
                let endpoint = args.endpoint_url.as_deref();
                let shared = aws_config(&args.lambda.region, endpoint).await;
                Store::S3 {
                    client: s3_client(&shared, endpoint.is_some()),
                    bucket: bucket.clone(),
                }
            }
            (None, Some(dir)) if dir.is_dir() => Store::Dir(dir.clone()),
            (None, Some(dir)) => anyhow::bail!("{} is not a folder", dir.display()),
            (None, None) => anyhow::bail!("--bucket or --dir is required"),
        };
        let lake = Arc::new(Lake::new(place));
        let (hidden, listed): (Vec<Listed>, Vec<Listed>) = lake
            .list(&args.prefix)
            .await?
            .into_iter()
            .filter(|l| {
                wanted.is_empty()
                    || layout::source_of(&l.key).is_some_and(|s| wanted.contains_key(s))
            })
            .partition(|l| layout::is_hidden(&l.key));
        let audited = check_objects(&lake, &engine, &args, listed).await?;
        let tables = Tables {
            engine: &engine,
            wanted: &wanted,
            table_from: table_from.as_ref(),
        };
        let mut audit = report::build(&lake, &args.prefix, audited, &tables);
        audit.hidden = hidden.len() as u64;
        Ok(audit)
    })?;
    report::print(&audit, args.format)?;
    Ok(Outcome {
        invalid: !audit.problems.is_empty(),
        io_error: false,
    })
}

/// Checks every object, `--concurrency` at a time, with a progress bar; in key order.
async fn check_objects(
    lake: &Arc<Lake>,
    engine: &Arc<Engine>,
    args: &Args,
    listed: Vec<Listed>,
) -> anyhow::Result<Vec<Audited>> {
    let bar = progress_bar(Some(listed.len()), "objects");
    let limit = Arc::new(tokio::sync::Semaphore::new(usize::from(args.concurrency)));
    let mut tasks = tokio::task::JoinSet::new();
    let (rows, sample, region) = (args.rows, args.sample, args.lambda.region.clone());
    let mut audited = Vec::new();
    let mut take = |done: Result<(usize, anyhow::Result<Audited>), tokio::task::JoinError>| {
        let (index, one) = done?;
        audited.push((index, one?));
        bar.inc(1);
        anyhow::Ok(())
    };
    for (index, listed) in listed.into_iter().enumerate() {
        let permit = limit.clone().acquire_owned().await?;
        let (lake, engine, region) = (lake.clone(), engine.clone(), region.clone());
        tasks.spawn(async move {
            let rows = rows.then_some((region.as_str(), sample));
            let audited = audit_one(&lake, &engine, listed, rows).await;
            drop(permit);
            (index, audited)
        });
        while let Some(done) = tasks.try_join_next() {
            take(done)?;
        }
    }
    while let Some(done) = tasks.join_next().await {
        take(done)?;
    }
    bar.finish_and_clear();
    audited.sort_by_key(|(index, _)| *index);
    Ok(audited.into_iter().map(|(_, a)| a).collect())
}

async fn audit_one(
    lake: &Lake,
    engine: &Engine,
    listed: Listed,
    rows: Option<(&str, Option<usize>)>,
) -> anyhow::Result<Audited> {
    let source = layout::source_of(&listed.key)
        .unwrap_or_default()
        .to_owned();
    let key = match layout::parse(&listed.key) {
        Ok(key) => key,
        Err(problem) => {
            let (kind, detail) = match problem {
                layout::KeyProblem::Layout(why) => (ProblemKind::KeyLayout, why),
                layout::KeyProblem::Value(name, why) => {
                    (ProblemKind::PartitionValue, format!("{name}: {why}"))
                }
            };
            let problems = vec![Problem {
                key: listed.key.clone(),
                kind,
                detail,
            }];
            return Ok(Audited {
                listed,
                source,
                checked: None,
                problems,
                judged: None,
            });
        }
    };
    let (mut checked, metadata) = object::check(lake, &listed, &key).await?;
    let problems = std::mem::take(&mut checked.problems);
    let readable = !problems.iter().any(|p| p.kind == ProblemKind::NotParquet);
    let judged = match (rows, metadata) {
        (Some((region, sample)), Some(metadata)) if readable => {
            Some(rows::judge(lake, &listed, metadata, engine, region, sample).await?)
        }
        _ => None,
    };
    Ok(Audited {
        listed,
        source,
        checked: Some(checked),
        problems,
        judged,
    })
}

/// Where each source's table comes from.
struct Tables<'a> {
    engine: &'a Engine,
    wanted: &'a BTreeMap<String, Option<i64>>,
    table_from: Option<&'a (Option<i64>, TableColumns)>,
}

impl Tables<'_> {
    /// The class source `name` must hold: named with `--source`, else the class whose default
    /// source name it is, else the one most of its objects hold.
    fn class_of(&self, name: &str, objects: &[&Checked]) -> Option<i64> {
        if let Some(Some(class)) = self.wanted.get(name) {
            return Some(*class);
        }
        let schema = self.engine.schema();
        schema
            .class_uids()
            .find(|uid| default_source_name(schema, *uid) == name)
            .or_else(|| source::majority_class(objects.iter().copied()))
    }

    /// The table of `class`: `--table-from` (when it is for that class), else the generated one.
    fn table(&self, class: i64) -> Option<TableColumns> {
        if let Some((for_class, columns)) = self.table_from {
            if for_class.is_none_or(|c| c == class) {
                return Some(columns.clone());
            }
        }
        let table = self.engine.tables().get(class)?.glue_schema();
        source::table_columns(
            table
                .columns
                .iter()
                .map(|c| (c.name.as_str(), c.ty.as_str())),
        )
        .ok()
    }
}

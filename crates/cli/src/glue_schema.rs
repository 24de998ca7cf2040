//! `ocsf-firehose glue-schema`: the Glue table columns of an OCSF class, generated from the
//! schema by the same table model the Lambda fits events to.

use std::io::Write;
use std::path::PathBuf;

use anyhow::Context;
use clap::{Args as ClapArgs, ValueEnum};
use ocsf_firehose_transform::firehose::config::{schema_files, ENV_EXTENSIONS};
use ocsf_firehose_transform::table::{used_paths, TableModel, TableSpec};
use ocsf_firehose_transform::{OcsfVersion, Schema};
use serde_json::Value;

use crate::input::{Documents, MAX_DOCUMENT_BYTES};
use crate::lambda_args::parse_version;
use crate::summary::Outcome;

/// Output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum Format {
    /// The class, version, profiles, extra column paths and `columns` as `[{"Name", "Type"}]`
    /// (what CDK and Terraform read, and Glue's own `Column` shape).
    Json,
    /// One `` `name` type`` line per column, comma-separated: the column list of a Hive
    /// `CREATE TABLE`, and a DDL schema Spark reads (`spark.read.schema(…)`).
    Hive,
}

/// Arguments of `glue-schema`.
#[derive(Debug, ClapArgs)]
pub(crate) struct Args {
    /// The OCSF class.
    #[arg(long = "class-uid", value_name = "N")]
    class_uid: i64,
    /// OCSF version (1.1.0 or 1.3.0).
    #[arg(long = "ocsf-version", default_value_t = OcsfVersion::default(), value_parser = parse_version)]
    version: OcsfVersion,
    /// Only these profiles' attributes (repeat); default: every profile the class supports.
    /// The Lambda must then be given the same list (`OCSF_TABLE_PROFILES`).
    #[arg(long = "profile", value_name = "P")]
    profiles: Vec<String>,
    /// A column for this attribute path beyond the default set (repeat; `actor.process.cmd_line`;
    /// an object path adds the object with its default columns). The Lambda must be given the
    /// same list (`OCSF_TABLE_COLUMNS`, the JSON's `extra_columns`).
    #[arg(long = "column", value_name = "PATH")]
    columns: Vec<String>,
    /// Add a column for every attribute path events of the class in these JSON files use
    /// (repeat; `-`: stdin).
    #[arg(long = "from-events", value_name = "FILE")]
    from_events: Vec<PathBuf>,
    /// A compiled OCSF schema with your own extension, replacing the embedded release of its
    /// version (repeat; on top of `OCSF_EXTENSIONS`): its attributes get columns.
    #[arg(long = "extension", value_name = "FILE")]
    extensions: Vec<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Json)]
    format: Format,
}

pub(crate) fn run(args: Args) -> anyhow::Result<Outcome> {
    let from_env = schema_files(&std::env::var(ENV_EXTENSIONS).unwrap_or_default());
    for file in from_env.iter().chain(&args.extensions) {
        Schema::install_file(file)?;
    }
    let schema = Schema::get(args.version)?;
    let profiles = (!args.profiles.is_empty()).then(|| args.profiles.clone());
    let mut spec = TableSpec {
        profiles,
        columns: args.columns.clone(),
    };
    // Checks the class, the profiles and the named paths before reading any sample.
    let named = TableModel::new(schema, args.class_uid, &spec)?;
    if !args.from_events.is_empty() {
        spec.columns
            .extend(sampled_paths(schema, &named, &spec, &args.from_events)?);
    }
    let table = TableModel::new(schema, args.class_uid, &spec)?;
    let mut out = std::io::stdout().lock();
    match args.format {
        Format::Json => {
            serde_json::to_writer_pretty(&mut out, &table.glue_schema())?;
            writeln!(out)?;
        }
        Format::Hive => {
            let columns = table.columns();
            for (i, column) in columns.iter().enumerate() {
                let comma = if i + 1 < columns.len() { "," } else { "" };
                writeln!(out, "`{}` {}{comma}", column.name, column.ty)?;
            }
        }
    }
    out.flush().context("cannot write the schema")?;
    Ok(Outcome::default())
}

/// The paths the sample's events of the class use that the table has no column for yet and can
/// have one for (with its profiles, down to its depth); what it cannot hold stays in
/// `unmapped`.
fn sampled_paths(
    schema: &'static Schema,
    table: &TableModel,
    spec: &TableSpec,
    files: &[PathBuf],
) -> anyhow::Result<Vec<String>> {
    let mut events: Vec<Value> = Vec::new();
    for document in Documents::of_paths(files) {
        // Only the events' shapes matter: no record limit applies to a sample.
        if let Ok(event) = document?.event(MAX_DOCUMENT_BYTES) {
            events.push(event);
        }
    }
    let uid = table.class_uid();
    let candidates: Vec<String> = used_paths(schema, uid, &events)
        .into_iter()
        .filter(|path| table.type_at(path).is_none())
        .collect();
    let spec = TableSpec {
        profiles: spec.profiles.clone(),
        columns: candidates,
    };
    let out = TableModel::lenient(schema, uid, &spec)?
        .glue_schema()
        .extra_columns;
    Ok(out)
}

//! `ocsf-firehose glue-schema`: the Glue table columns of an OCSF class, generated from the
//! schema by the same table model the Lambda fits events to.

use std::io::Write;

use anyhow::Context;
use clap::{Args as ClapArgs, ValueEnum};
use ocsf_firehose_transform::table::TableModel;
use ocsf_firehose_transform::{OcsfVersion, Schema};

use crate::lambda_args::parse_version;
use crate::Outcome;

/// Output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum Format {
    /// The class, version, profiles and `columns` as `[{"Name", "Type"}]` (what CDK and
    /// Terraform read, and Glue's own `Column` shape).
    Json,
    /// One `name type` line per column, as in a Hive `CREATE TABLE`.
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
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Json)]
    format: Format,
}

pub(crate) fn run(args: Args) -> anyhow::Result<Outcome> {
    let schema = Schema::get(args.version)?;
    let profiles = (!args.profiles.is_empty()).then_some(args.profiles.as_slice());
    let table = TableModel::new(schema, args.class_uid, profiles)?;
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

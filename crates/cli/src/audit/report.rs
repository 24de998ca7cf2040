//! What `audit` found: per source (objects, rows, bytes, problems by kind, codecs, findings of
//! `--rows`), every problem with its key, and the bytes read; as text or one JSON document.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;

use serde::Serialize;

use super::rows::Judged;
use super::store::Lake;
use super::{source, Audited, Format, Problem, ProblemKind, Tables};

/// One source's summary.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct SourceReport {
    /// The source name (`ext/<source>/`; empty for keys outside `ext/`).
    pub source: String,
    /// The class its objects must hold.
    pub class_uid: Option<i64>,
    pub objects: u64,
    pub rows: u64,
    pub bytes: u64,
    /// Problems by kind.
    pub problems: BTreeMap<String, u64>,
    /// Codecs other than zstd in its objects (Security Lake prefers zstd): codec → objects.
    pub codecs_not_zstd: BTreeMap<String, u64>,
    /// `--rows`: rows judged, rejected, and findings by code.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub verdicts: Option<Judged>,
}

/// The whole audit.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Audit {
    /// The bucket or folder, and the prefix audited.
    pub lake: String,
    pub prefix: String,
    pub objects: u64,
    pub bytes: u64,
    /// Files whose name starts with `_` or `.` (`_SUCCESS`, `.crc`): Athena and Glue skip
    /// them, and so does the audit.
    pub hidden: u64,
    /// Bytes of object data read (footers, and the chunks checks needed), and the reads made.
    pub bytes_read: u64,
    pub reads: u64,
    pub sources: Vec<SourceReport>,
    /// Every problem, by key.
    pub problems: Vec<Problem>,
}

/// Schema problems: an object with one of these is not also reported as drift.
const SCHEMA_KINDS: [ProblemKind; 5] = [
    ProblemKind::NotParquet,
    ProblemKind::ColumnType,
    ProblemKind::ColumnNotInTable,
    ProblemKind::StructFields,
    ProblemKind::NativeType,
];

/// The source-level checks over the objects' results, and the summary.
pub(crate) fn build(lake: &Lake, prefix: &str, audited: Vec<Audited>, tables: &Tables) -> Audit {
    let mut by_source: BTreeMap<String, Vec<Audited>> = BTreeMap::new();
    for one in audited {
        by_source.entry(one.source.clone()).or_default().push(one);
    }
    let mut sources = Vec::new();
    let mut problems = Vec::new();
    for (name, mut objects) in by_source {
        let checked: Vec<&super::Checked> =
            objects.iter().filter_map(|a| a.checked.as_ref()).collect();
        let class = (!name.is_empty())
            .then(|| tables.class_of(&name, &checked))
            .flatten();
        let table = class.and_then(|class| tables.table(class));
        if let (Some(class), None) = (class, &table) {
            problems.push(Problem {
                key: format!("ext/{name}/"),
                kind: ProblemKind::NoTable,
                detail: format!("class {class} has no table in the schema"),
            });
        }
        for one in &mut objects {
            let Some(checked) = &one.checked else {
                continue;
            };
            let key = one.listed.key.as_str();
            if let Some(class) = class {
                one.problems
                    .extend(source::check_source_class(key, checked, class));
            }
            if let Some(table) = &table {
                one.problems
                    .extend(source::check_schema(key, checked, table));
            }
            if let Some(judged) = one.judged.as_ref().filter(|j| j.rejected > 0) {
                one.problems.push(Problem {
                    key: key.to_owned(),
                    kind: ProblemKind::RowsRejected,
                    detail: format!(
                        "{} of {} rows judged would be rejected by the Lambda",
                        judged.rejected, judged.rows
                    ),
                });
            }
        }
        for (index, problem) in drift(&objects) {
            if let Some(one) = objects.get_mut(index) {
                one.problems.push(problem);
            }
        }
        sources.push(summary(&name, class, &objects));
        problems.extend(objects.into_iter().flat_map(|a| a.problems));
    }
    problems.sort_by(|a, b| (&a.key, a.kind).cmp(&(&b.key, b.kind)));
    let (bytes_read, reads) = lake.read_so_far();
    Audit {
        lake: lake.describe(),
        prefix: prefix.to_owned(),
        objects: sources.iter().map(|s| s.objects).sum(),
        bytes: sources.iter().map(|s| s.bytes).sum(),
        hidden: 0,
        bytes_read,
        reads,
        sources,
        problems,
    }
}

/// Drift among a source's objects with a schema: `(index in objects, problem)`.
fn drift(objects: &[Audited]) -> Vec<(usize, Problem)> {
    let with_schema: Vec<(usize, &Audited, &super::Checked)> = objects
        .iter()
        .enumerate()
        .filter_map(|(i, a)| Some((i, a, a.checked.as_ref()?)))
        .filter(|(_, _, c)| !c.columns.is_empty())
        .collect();
    let pairs: Vec<(&str, &super::Checked)> = with_schema
        .iter()
        .map(|(_, a, c)| (a.listed.key.as_str(), *c))
        .collect();
    source::check_drift(&pairs, |i| {
        with_schema[i]
            .1
            .problems
            .iter()
            .any(|p| SCHEMA_KINDS.contains(&p.kind))
    })
    .into_iter()
    .map(|(i, problem)| (with_schema[i].0, problem))
    .collect()
}

fn summary(name: &str, class: Option<i64>, objects: &[Audited]) -> SourceReport {
    let mut report = SourceReport {
        source: name.to_owned(),
        class_uid: class,
        objects: objects.len() as u64,
        rows: 0,
        bytes: 0,
        problems: BTreeMap::new(),
        codecs_not_zstd: BTreeMap::new(),
        verdicts: None,
    };
    for one in objects {
        report.bytes += one.listed.size;
        if let Some(checked) = &one.checked {
            report.rows += checked.rows;
            for codec in &checked.codecs {
                *report.codecs_not_zstd.entry(codec.clone()).or_default() += 1;
            }
        }
        for problem in &one.problems {
            *report.problems.entry(problem.kind.code()).or_default() += 1;
        }
        if let Some(judged) = &one.judged {
            report
                .verdicts
                .get_or_insert_with(Judged::default)
                .add(judged);
        }
    }
    report
}

/// Prints the audit on stdout.
pub(crate) fn print(audit: &Audit, format: Format) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    match format {
        Format::Json => {
            serde_json::to_writer_pretty(&mut out, audit)?;
            writeln!(out)?;
        }
        Format::Text => text(&mut out, audit)?,
    }
    Ok(())
}

fn text(out: &mut dyn Write, audit: &Audit) -> std::io::Result<()> {
    writeln!(
        out,
        "{}{}: {} objects, {} bytes; read {} bytes in {} reads",
        audit.lake, audit.prefix, audit.objects, audit.bytes, audit.bytes_read, audit.reads
    )?;
    if audit.hidden > 0 {
        writeln!(
            out,
            "skipped {} files named `_…` or `.…` (Athena skips them too)",
            audit.hidden
        )?;
    }
    writeln!(
        out,
        "{:<24} {:>6} {:>8} {:>10} {:>12}  problems",
        "source", "class", "objects", "rows", "bytes"
    )?;
    for source in &audit.sources {
        let name = if source.source.is_empty() {
            "(outside ext/)"
        } else {
            &source.source
        };
        let class = source.class_uid.map_or("-".to_owned(), |c| c.to_string());
        let problems: Vec<String> = source
            .problems
            .iter()
            .map(|(kind, n)| format!("{kind} {n}"))
            .collect();
        writeln!(
            out,
            "{name:<24} {class:>6} {:>8} {:>10} {:>12}  {}",
            source.objects,
            source.rows,
            source.bytes,
            if problems.is_empty() {
                "none".to_owned()
            } else {
                problems.join(", ")
            }
        )?;
    }
    let codecs: BTreeSet<&String> = audit
        .sources
        .iter()
        .flat_map(|s| s.codecs_not_zstd.keys())
        .collect();
    if !codecs.is_empty() {
        let list: Vec<&str> = codecs.iter().map(|c| c.as_str()).collect();
        writeln!(
            out,
            "note: objects compressed with {} (Security Lake prefers zstd)",
            list.join(", ")
        )?;
    }
    for source in &audit.sources {
        if let Some(verdicts) = &source.verdicts {
            writeln!(
                out,
                "rows of {}: {} judged, {} rejected",
                source.source, verdicts.rows, verdicts.rejected
            )?;
            for (code, count) in &verdicts.findings {
                writeln!(out, "  {code:<32} {count}")?;
            }
        }
    }
    if audit.problems.is_empty() {
        writeln!(out, "no problems")?;
    } else {
        writeln!(out, "{} problems:", audit.problems.len())?;
        for problem in &audit.problems {
            writeln!(
                out,
                "{} {}: {}",
                problem.kind.code(),
                problem.key,
                problem.detail
            )?;
        }
    }
    Ok(())
}

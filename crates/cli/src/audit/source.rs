//! A source's objects together: one class for the source, each object's schema against the
//! source's Glue table and Security Lake's native types, and against the schema most of the
//! source's objects have (drift: what Athena meets as `HIVE_PARTITION_SCHEMA_MISMATCH`).

use std::collections::BTreeMap;

use super::hive_type::{differences, Difference, HiveType};
use super::object::Checked;
use super::{Problem, ProblemKind};

/// A table's columns, in order, with their types.
pub(crate) type TableColumns = Vec<(String, HiveType)>;

/// Reads Glue columns (`[{"Name", "Type"}]`) into a table.
pub(crate) fn table_columns<'c>(
    columns: impl IntoIterator<Item = (&'c str, &'c str)>,
) -> Result<TableColumns, String> {
    columns
        .into_iter()
        .map(|(name, ty)| {
            HiveType::parse(ty)
                .map(|ty| (name.to_ascii_lowercase(), ty))
                .map_err(|why| format!("column `{name}`: {why}"))
        })
        .collect()
}

/// The class most of the objects hold (the first such, by class, on a tie).
pub(crate) fn majority_class<'a>(objects: impl Iterator<Item = &'a Checked>) -> Option<i64> {
    let mut counts: BTreeMap<i64, usize> = BTreeMap::new();
    for object in objects {
        for class in &object.classes {
            *counts.entry(*class).or_default() += 1;
        }
    }
    let most = counts.values().copied().max()?;
    counts
        .into_iter()
        .find(|(_, count)| *count == most)
        .map(|(class, _)| class)
}

/// Objects holding another class than the source's.
pub(crate) fn check_source_class(key: &str, object: &Checked, class: i64) -> Option<Problem> {
    let others: Vec<String> = object
        .classes
        .iter()
        .filter(|c| **c != class)
        .map(i64::to_string)
        .collect();
    (!others.is_empty() && object.classes.len() == 1).then(|| Problem {
        key: key.to_owned(),
        kind: ProblemKind::SourceClassesMixed,
        detail: format!(
            "class {} in a source of class {class} (one class per source)",
            others.join(", ")
        ),
    })
}

/// The type Security Lake's native tables give a column or field `name`, where they fix one:
/// `timestamp` for `*_dt`, `map<string,string>` for `unmapped`, `array<float>` for a location's
/// `coordinates` (AWS's source-version-2 tables; `../shared/docs/aws-contracts.md`).
fn native_type(name: &str) -> Option<HiveType> {
    let text = if name.ends_with("_dt") {
        "timestamp"
    } else if name == "unmapped" {
        "map<string,string>"
    } else if name == "coordinates" {
        "array<float>"
    } else {
        return None;
    };
    HiveType::parse(text).ok()
}

/// Paths in `ty` (below `path`) whose type is not the native tables' type.
fn non_native(path: &str, name: &str, ty: &HiveType, out: &mut Vec<String>) {
    if let Some(native) = native_type(name) {
        if *ty != native {
            out.push(format!("`{path}` is {ty}, {native} in the native tables"));
        }
        return;
    }
    match ty {
        HiveType::Struct(fields) => {
            for (field, ty) in fields {
                non_native(&format!("{path}.{field}"), field, ty, out);
            }
        }
        HiveType::Array(element) => non_native(path, name, element, out),
        _ => {}
    }
}

/// At most this many differences are spelled out per column.
const DIFFERENCES_SHOWN: usize = 3;

/// An object's columns against its source's table and the native types: a problem per column.
pub(crate) fn check_schema(key: &str, object: &Checked, table: &TableColumns) -> Vec<Problem> {
    let mut problems = Vec::new();
    let problem = |kind, detail| Problem {
        key: key.to_owned(),
        kind,
        detail,
    };
    for (name, ty) in &object.columns {
        let Some(ty) = ty else {
            problems.push(problem(
                ProblemKind::ColumnType,
                format!("`{name}` has a type Glue cannot read"),
            ));
            continue;
        };
        let Some((_, expected)) = table.iter().find(|(column, _)| column == name) else {
            problems.push(problem(
                ProblemKind::ColumnNotInTable,
                format!("`{name}` ({ty}) is not a column of the table: queries never see it"),
            ));
            continue;
        };
        let found = differences(name, ty, expected);
        if found.is_empty() {
            let mut native = Vec::new();
            non_native(name, name, ty, &mut native);
            if !native.is_empty() {
                problems.push(problem(ProblemKind::NativeType, native.join("; ")));
            }
            continue;
        }
        let kind = if found.iter().any(|d| matches!(d, Difference::Type(..))) {
            ProblemKind::ColumnType
        } else {
            ProblemKind::StructFields
        };
        let mut detail: Vec<String> = found
            .iter()
            .take(DIFFERENCES_SHOWN)
            .map(ToString::to_string)
            .collect();
        if found.len() > DIFFERENCES_SHOWN {
            detail.push(format!("{} more", found.len() - DIFFERENCES_SHOWN));
        }
        problems.push(problem(kind, detail.join("; ")));
    }
    problems
}

/// An object's schema as one comparable text.
fn fingerprint(object: &Checked) -> String {
    object
        .columns
        .iter()
        .map(|(name, ty)| match ty {
            Some(ty) => format!("{name}:{ty}"),
            None => format!("{name}:?"),
        })
        .collect::<Vec<_>>()
        .join(",")
}

/// Objects whose schema differs from the one most of the source's objects have, where no other
/// schema problem already says how: `(index, problem)`.
pub(crate) fn check_drift(
    objects: &[(&str, &Checked)],
    already: impl Fn(usize) -> bool,
) -> Vec<(usize, Problem)> {
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    let prints: Vec<Option<String>> = objects
        .iter()
        .map(|(_, o)| (!o.columns.is_empty()).then(|| fingerprint(o)))
        .collect();
    for print in prints.iter().flatten() {
        *counts.entry(print.clone()).or_default() += 1;
    }
    let Some(most) = counts.values().copied().max() else {
        return Vec::new();
    };
    let Some(norm) = counts
        .iter()
        .find(|(_, n)| **n == most)
        .map(|(p, _)| p.clone())
    else {
        return Vec::new();
    };
    let norm_object = objects
        .iter()
        .zip(&prints)
        .find(|(_, p)| p.as_deref() == Some(norm.as_str()))
        .map(|((_, o), _)| *o);
    let Some(norm_object) = norm_object else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for (index, ((key, object), print)) in objects.iter().zip(&prints).enumerate() {
        if print.as_deref().is_none_or(|p| p == norm) || already(index) {
            continue;
        }
        out.push((
            index,
            Problem {
                key: (*key).to_owned(),
                kind: ProblemKind::SchemaDrift,
                detail: drift(object, norm_object, most),
            },
        ));
    }
    out
}

/// How `object`'s columns differ from those of the `count` objects with the usual schema.
fn drift(object: &Checked, usual: &Checked, count: usize) -> String {
    let names = |o: &Checked| -> Vec<String> { o.columns.iter().map(|(n, _)| n.clone()).collect() };
    let (mine, theirs) = (names(object), names(usual));
    let missing: Vec<&String> = theirs.iter().filter(|n| !mine.contains(n)).collect();
    let added: Vec<&String> = mine.iter().filter(|n| !theirs.contains(n)).collect();
    let changed: Vec<&String> = object
        .columns
        .iter()
        .filter(|(name, ty)| {
            usual
                .columns
                .iter()
                .any(|(other, usual_ty)| other == name && usual_ty != ty)
        })
        .map(|(name, _)| name)
        .collect();
    let list = |names: &[&String]| {
        names
            .iter()
            .map(|n| format!("`{n}`"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut parts = Vec::new();
    if !missing.is_empty() {
        parts.push(format!("lacks {}", list(&missing)));
    }
    if !added.is_empty() {
        parts.push(format!("adds {}", list(&added)));
    }
    if !changed.is_empty() {
        parts.push(format!("changes the type of {}", list(&changed)));
    }
    if parts.is_empty() {
        parts.push("orders its columns differently".to_owned());
    }
    format!(
        "its schema {} against the {count} objects of the source with the usual one",
        parts.join(", ")
    )
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    fn object(columns: &[(&str, &str)]) -> Checked {
        Checked {
            rows: 1,
            classes: BTreeSet::from([3002]),
            columns: columns
                .iter()
                .map(|(n, t)| ((*n).to_owned(), HiveType::parse(t).ok()))
                .collect(),
            codecs: BTreeSet::new(),
            problems: Vec::new(),
        }
    }

    #[test]
    fn columns_are_checked_against_the_table_and_the_native_types() {
        let table = table_columns([
            ("time", "bigint"),
            ("time_dt", "timestamp"),
            ("actor", "struct<a:string,b:int>"),
            ("message", "string"),
        ])
        .unwrap();
        let good = object(&[("time", "bigint"), ("time_dt", "timestamp")]);
        assert!(
            check_schema("k", &good, &table).is_empty(),
            "missing columns read as null"
        );
        let bad = object(&[
            ("time_dt", "string"),
            ("actor", "struct<b:int,a:string>"),
            ("extra", "int"),
        ]);
        let kinds: Vec<ProblemKind> = check_schema("k", &bad, &table)
            .into_iter()
            .map(|p| p.kind)
            .collect();
        assert_eq!(
            kinds,
            [
                ProblemKind::ColumnType,
                ProblemKind::StructFields,
                ProblemKind::ColumnNotInTable
            ]
        );
        // A table that itself types `*_dt` as string: the object agrees with it, not with AWS.
        let stringly = table_columns([("time_dt", "string")]).unwrap();
        let problems = check_schema("k", &object(&[("time_dt", "string")]), &stringly);
        assert_eq!(problems.len(), 1);
        assert_eq!(problems[0].kind, ProblemKind::NativeType);
        let doubles = table_columns([("geo", "struct<coordinates:array<double>>")]).unwrap();
        let geo = object(&[("geo", "struct<coordinates:array<double>>")]);
        let problems = check_schema("k", &geo, &doubles);
        assert_eq!(problems.len(), 1);
        assert!(
            problems[0].detail.contains("`geo.coordinates`"),
            "{}",
            problems[0].detail
        );
    }

    #[test]
    fn drift_is_against_the_usual_schema_of_the_source() {
        let usual = object(&[("time", "bigint"), ("message", "string")]);
        let fewer = object(&[("time", "bigint")]);
        let objects = [("a", &usual), ("b", &fewer), ("c", &usual)];
        let drifted = check_drift(&objects, |_| false);
        assert_eq!(drifted.len(), 1);
        assert_eq!(drifted[0].0, 1);
        assert!(
            drifted[0].1.detail.contains("lacks `message`"),
            "{}",
            drifted[0].1.detail
        );
        assert!(check_drift(&objects, |i| i == 1).is_empty());
        assert_eq!(majority_class(objects.iter().map(|(_, o)| *o)), Some(3002));
    }
}

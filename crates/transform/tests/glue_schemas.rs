//! The Glue schemas committed under `infra/schemas/` (read by CDK and Terraform) are exactly
//! what the table model generates today. Regenerate them with
//! `UPDATE_SCHEMAS=1 cargo test -p ocsf-firehose-transform --test glue_schemas`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;

use ocsf_firehose_transform::table::TableModel;
use ocsf_firehose_transform::{OcsfVersion, Schema};

/// The classes users need most, pre-generated for both versions: ten core classes and the
/// Windows extension's Registry Key Query (205004, one of the extension classes Security Lake
/// lists for custom sources; `win/registry_key_info` in 1.1.0).
const CLASSES: [i64; 12] = [
    1007, 2001, 2002, 2003, 2004, 3001, 3002, 4001, 4002, 4003, 6003, 205_004,
];

/// The classes pre-generated for `version`: [`CLASSES`], and from 1.3.0 Data Security Finding
/// (2006), the Security Hub preset's fourth class (`infra/presets/security-hub.json`).
fn classes(version: OcsfVersion) -> Vec<i64> {
    let mut classes = CLASSES.to_vec();
    if version != OcsfVersion::V1_1_0 {
        classes.push(2006);
    }
    classes
}

fn schemas_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../infra/schemas")
}

fn generated(version: OcsfVersion, uid: i64) -> (String, String) {
    let table = TableModel::new(Schema::get(version).unwrap(), uid, &Default::default()).unwrap();
    let glue = table.glue_schema();
    let name = format!("{version}/{uid}-{}.json", glue.class_name.replace('/', "_"));
    (name, serde_json::to_string_pretty(&glue).unwrap() + "\n")
}

#[test]
fn committed_schemas_equal_the_generated_ones() {
    let update = std::env::var_os("UPDATE_SCHEMAS").is_some();
    let mut expected = Vec::new();
    for version in OcsfVersion::ALL {
        for uid in classes(version) {
            let Ok(_) = TableModel::new(Schema::get(version).unwrap(), uid, &Default::default())
            else {
                panic!("{version} has no class {uid}");
            };
            let (name, text) = generated(version, uid);
            let path = schemas_dir().join(&name);
            if update {
                std::fs::create_dir_all(path.parent().unwrap()).unwrap();
                std::fs::write(&path, &text).unwrap();
            }
            let committed = std::fs::read_to_string(&path)
                .unwrap_or_else(|e| panic!("{name}: {e} (run with UPDATE_SCHEMAS=1)"));
            assert!(
                committed == text,
                "{name} differs from the generated schema (run with UPDATE_SCHEMAS=1)"
            );
            expected.push(name);
        }
    }
    let mut present = Vec::new();
    for version in std::fs::read_dir(schemas_dir()).unwrap() {
        let version = version.unwrap();
        if !version.file_type().unwrap().is_dir() {
            continue;
        }
        for file in std::fs::read_dir(version.path()).unwrap() {
            let file = file.unwrap().file_name().into_string().unwrap();
            present.push(format!("{}/{file}", version.file_name().to_string_lossy()));
        }
    }
    present.sort();
    expected.sort();
    assert_eq!(present, expected, "no stale schema files");
}

/// Security Lake's own OCSF tables hold a few dozen leaf columns per class; ours stay lean too
/// (every Parquet object carries a footer entry per leaf column). Prints the counts.
#[test]
fn every_pregenerated_table_has_at_most_400_leaf_columns() {
    const MAX_LEAF_COLUMNS: usize = 400;
    for version in OcsfVersion::ALL {
        for uid in classes(version) {
            let table =
                TableModel::new(Schema::get(version).unwrap(), uid, &Default::default()).unwrap();
            let leaves = table.leaf_columns();
            let chars: usize = table.glue_schema().columns.iter().map(|c| c.ty.len()).sum();
            println!("OCSF {version} class {uid}: {leaves} leaf columns, {chars} type characters");
            assert!(
                leaves <= MAX_LEAF_COLUMNS,
                "OCSF {version} class {uid}: {leaves} leaf columns"
            );
        }
    }
}

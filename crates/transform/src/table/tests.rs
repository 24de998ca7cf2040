use serde_json::{json, Value};

use super::*;
use crate::test_support::{fixture, FIXTURES};
use crate::{Engine, EngineConfig};

fn table(version: OcsfVersion, uid: i64) -> TableModel {
    TableModel::new(Schema::get(version).unwrap(), uid, None).unwrap()
}

/// The type of the column at a dotted path (`[]` steps into arrays).
fn type_at(table: &TableModel, path: &str) -> Option<String> {
    let mut ty: Option<ColumnType> = None;
    for step in path.split('.') {
        let (name, arrays) = (step.trim_end_matches("[]"), step.matches("[]").count());
        let column = match &ty {
            None => table.column(name)?.clone(),
            Some(t) => t.field(name)?.clone(),
        };
        let mut next = column.ty;
        for _ in 0..arrays {
            next = match next {
                ColumnType::Array(element) => *element,
                _ => return None,
            };
        }
        ty = Some(next);
    }
    ty.map(|t| t.to_string())
}

#[test]
fn ocsf_types_map_to_hive_types() {
    let auth = table(OcsfVersion::V1_1_0, 3002);
    let at = |path| type_at(&auth, path);
    assert_eq!(at("time").as_deref(), Some("bigint"), "timestamp_t");
    assert_eq!(at("severity_id").as_deref(), Some("int"), "integer_t enum");
    assert_eq!(at("src_endpoint.port").as_deref(), Some("int"), "port_t");
    assert_eq!(at("is_mfa").as_deref(), Some("boolean"));
    assert_eq!(at("message").as_deref(), Some("string"));
    assert_eq!(at("src_endpoint.ip").as_deref(), Some("string"), "ip_t");
    assert_eq!(
        at("unmapped").as_deref(),
        Some("string"),
        "open object: JSON text"
    );
    assert_eq!(at("metadata.profiles").as_deref(), Some("array<string>"));
    assert_eq!(
        at("enrichments[].data").as_deref(),
        Some("string"),
        "json_t"
    );
    assert!(at("user").unwrap().starts_with("struct<"));
    assert!(at("user").unwrap().contains(",name:string,"));
    assert!(at("observables").unwrap().starts_with("array<struct<"));
    let network = table(OcsfVersion::V1_1_0, 4001);
    assert_eq!(
        type_at(&network, "traffic.bytes").as_deref(),
        Some("bigint"),
        "long_t"
    );
    let finding = table(OcsfVersion::V1_1_0, 2004);
    assert!(type_at(&finding, "finding_info.src_url").is_some());
    let schema = Schema::get(OcsfVersion::V1_1_0).unwrap();
    let floats = schema.classes().iter().any(|class| {
        table(OcsfVersion::V1_1_0, class.uid)
            .glue_schema()
            .columns
            .iter()
            .any(|c| c.ty.contains(":double"))
    });
    assert!(floats, "float_t becomes double");
}

#[test]
fn objects_nest_to_the_documented_depth_and_no_deeper() {
    let process = table(OcsfVersion::V1_1_0, 1007);
    assert!(
        type_at(&process, "actor.process.parent_process.file").is_some(),
        "level 4"
    );
    assert!(type_at(&process, "actor.process.parent_process.file.name").is_some());
    assert!(
        type_at(&process, "actor.process.parent_process.parent_process").is_some(),
        "level 4"
    );
    assert!(
        type_at(&process, "actor.process.parent_process.parent_process.file").is_none(),
        "level 5 is not a column"
    );
    assert!(type_at(&process, "actor.process.parent_process.parent_process.pid").is_some());
}

#[test]
fn every_class_of_both_versions_fits_glue_limits() {
    for version in [OcsfVersion::V1_1_0, OcsfVersion::V1_3_0] {
        let schema = Schema::get(version).unwrap();
        for class in schema.classes() {
            let glue = table(version, class.uid).glue_schema();
            assert!(glue.columns.iter().any(|c| c.name == "class_uid"));
            for column in &glue.columns {
                assert!(
                    column.ty.len() < MAX_GLUE_TYPE_CHARS / 2,
                    "{version} {}: {} is {} characters",
                    class.uid,
                    column.name,
                    column.ty.len()
                );
            }
        }
    }
}

#[test]
fn profiles_select_columns_and_unknown_ones_are_refused() {
    let schema = Schema::get(OcsfVersion::V1_1_0).unwrap();
    let all = TableModel::new(schema, 3002, None).unwrap();
    assert!(all.column("cloud").is_some() && all.column("device").is_some());
    let cloud_only = TableModel::new(schema, 3002, Some(&["cloud".to_owned()])).unwrap();
    assert!(cloud_only.column("cloud").is_some());
    assert!(
        cloud_only.column("device").is_none(),
        "host profile not asked for"
    );
    assert!(
        cloud_only.column("time_dt").is_none(),
        "datetime profile not asked for"
    );
    assert_eq!(cloud_only.glue_schema().profiles, vec!["cloud".to_owned()]);
    let error = TableModel::new(schema, 3002, Some(&["nope".to_owned()])).unwrap_err();
    assert_eq!(error.code(), "unknown_profile");
    assert!(error.to_string().contains("cloud"), "{error}");
    assert_eq!(
        TableModel::new(schema, 1, None).unwrap_err().code(),
        "unknown_class"
    );
}

#[test]
fn fitting_moves_what_the_table_cannot_hold_under_unmapped() {
    let process = table(OcsfVersion::V1_1_0, 1007);
    let deep = json!({"pid": 4, "file": {"name": "init"}});
    let mut event = json!({
        "class_uid": 1007, "time": 1_682_683_200_000_i64,
        "actor": {"process": {"parent_process": {"parent_process": {"pid": 3, "parent_process": deep}}}},
        "severity_id": 5_000_000_000_i64,
        "message": 42,
        "enrichments": [{"name": "a", "value": "b", "data": {"score": 9}}],
        "observables": [{"name": "x", "type_id": 1}, {"name": "y", "type_id": 1}],
        "shoe_size": 44,
        "unmapped": {"already": true},
    });
    let fitted = process.fit(&mut event);
    assert_eq!(
        fitted.moved,
        vec![
            "actor.process.parent_process.parent_process.parent_process",
            "message",
            "severity_id",
            "shoe_size"
        ]
    );
    let unmapped: Value = serde_json::from_str(event["unmapped"].as_str().unwrap()).unwrap();
    assert_eq!(
        unmapped,
        json!({"already": true, "shoe_size": 44, "message": 42, "severity_id": 5_000_000_000_i64,
               "actor.process.parent_process.parent_process.parent_process": deep})
    );
    assert_eq!(
        event["enrichments"][0]["data"],
        json!("{\"score\":9}"),
        "json_t as JSON text"
    );
    let mut text = json!({"enrichments": [{"name": "a", "value": "b", "data": "plain"}]});
    process.fit(&mut text);
    assert_eq!(
        text["enrichments"][0]["data"],
        json!("plain"),
        "strings stay as they are"
    );
    assert_eq!(
        event["actor"]["process"]["parent_process"]["parent_process"],
        json!({"pid": 3})
    );
    assert!(event.get("message").is_none() && event["observables"][1]["name"] == "y");
    let again = event.clone();
    assert_eq!(process.fit(&mut event).moved, Vec::<String>::new());
    assert_eq!(event, again, "fitting is idempotent");
}

#[test]
fn arrays_keep_their_indices_in_moved_paths_and_move_whole_when_an_element_does_not_fit() {
    let auth = table(OcsfVersion::V1_1_0, 3002);
    let mut event = json!({
        "observables": [{"name": "a", "type_id": 1, "extra": 1}],
        "metadata": {"profiles": ["cloud", 7]},
    });
    assert_eq!(
        auth.fit(&mut event).moved,
        vec!["metadata.profiles", "observables[0].extra"]
    );
    assert_eq!(event["metadata"], json!({}));
    let mut untouched = json!({"class_uid": 3002, "user": {"name": "a"}});
    assert_eq!(auth.fit(&mut untouched), Fitted::default());
    assert!(
        untouched.get("unmapped").is_none(),
        "nothing to carry: no unmapped added"
    );
}

fn assert_every_field_has_a_column(table: &TableModel, event: &Value) {
    let out = table.unheld_paths(event);
    assert!(
        out.is_empty(),
        "class {}: no column for {out:?}",
        table.class_uid()
    );
}

#[test]
fn every_field_of_normalized_fixture_events_has_a_column() {
    let engine = Engine::new(EngineConfig::default()).unwrap();
    for name in FIXTURES {
        let mut event = fixture(name);
        event["unknown_thing"] = json!({"deep": [1, 2]});
        event["actor"]["process"] = json!({"pid": 1, "parent_process": {"parent_process":
            {"parent_process": {"parent_process": {"pid": 9, "file": {"name": "x"}}}}}});
        let processed = engine.judge(event, None);
        let uid = processed.event["class_uid"].as_i64().unwrap();
        let table = table(OcsfVersion::V1_1_0, uid);
        assert!(
            !table.unheld_paths(&processed.event).is_empty(),
            "unfitted: unmapped is an object"
        );
        let mut fitted = processed.event.clone();
        table.fit(&mut fitted);
        let unmapped = fitted["unmapped"].as_str().unwrap();
        assert!(
            unmapped.contains(r#""pid":9"#),
            "{name}: the deep process is carried"
        );
        assert!(unmapped.contains("unknown_thing"), "{name}");
        assert_every_field_has_a_column(&table, &fitted);
    }
}

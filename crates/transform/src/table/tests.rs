use serde_json::{json, Value};

use super::*;
use crate::test_support::{fixture, FIXTURES};
use crate::{Engine, EngineConfig, OcsfVersion};

fn table(version: OcsfVersion, uid: i64) -> TableModel {
    TableModel::new(Schema::get(version).unwrap(), uid, &TableSpec::default()).unwrap()
}

fn with_columns(
    version: OcsfVersion,
    uid: i64,
    columns: &[&str],
) -> Result<TableModel, TableError> {
    let spec = TableSpec {
        profiles: None,
        columns: columns.iter().map(|c| (*c).to_owned()).collect(),
    };
    TableModel::new(Schema::get(version).unwrap(), uid, &spec)
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
fn ocsf_types_map_to_the_types_of_security_lakes_own_tables() {
    let auth = table(OcsfVersion::V1_1_0, 3002);
    let at = |path| type_at(&auth, path);
    assert_eq!(at("time").as_deref(), Some("bigint"), "timestamp_t");
    assert_eq!(at("time_dt").as_deref(), Some("timestamp"), "datetime_t");
    assert_eq!(at("end_time_dt").as_deref(), Some("timestamp"));
    assert_eq!(at("severity_id").as_deref(), Some("int"), "integer_t enum");
    assert_eq!(at("type_uid").as_deref(), Some("bigint"), "long_t");
    assert_eq!(at("src_endpoint.port").as_deref(), Some("int"), "port_t");
    assert_eq!(at("is_mfa").as_deref(), Some("boolean"));
    assert_eq!(at("message").as_deref(), Some("string"));
    assert_eq!(at("src_endpoint.ip").as_deref(), Some("string"), "ip_t");
    assert_eq!(at("unmapped").as_deref(), Some("map<string,string>"));
    assert_eq!(at("metadata.profiles").as_deref(), Some("array<string>"));
    assert_eq!(
        at("enrichments[].data").as_deref(),
        Some("string"),
        "json_t"
    );
    assert!(at("user").unwrap().starts_with("struct<"));
    assert!(at("user").unwrap().contains("name:string"));
    assert!(at("observables").unwrap().starts_with("array<struct<"));
    let located = with_columns(
        OcsfVersion::V1_1_0,
        3002,
        &["src_endpoint.location.coordinates"],
    )
    .unwrap();
    assert_eq!(
        type_at(&located, "src_endpoint.location.coordinates").as_deref(),
        Some("array<float>"),
        "float_t, as Security Lake's coordinates"
    );
    let finding = table(OcsfVersion::V1_1_0, 2004);
    assert_eq!(
        type_at(&finding, "metadata.processed_time_dt").as_deref(),
        Some("timestamp")
    );
}

#[test]
fn the_default_rule_keeps_class_attributes_and_what_objects_require_or_recommend() {
    let auth = table(OcsfVersion::V1_1_0, 3002);
    let has = |path: &str| auth.type_at(path).is_some();
    assert!(
        has("auth_protocol") && has("logon_type_id"),
        "class attributes"
    );
    assert!(has("user.name") && has("user.uid"), "recommended in user");
    assert!(
        has("user.type_id") && has("user.type"),
        "an enum brings its caption"
    );
    assert!(
        has("cloud.region") && has("cloud.account.uid"),
        "partition sources"
    );
    assert!(
        has("metadata.profiles") && has("observables.value"),
        "commonly queried"
    );
    assert!(!has("user.ldap_person"), "optional in user");
    assert!(
        has("actor.user.name") && has("actor.user.account.uid") && !has("actor.user.account.type_id"),
        "an optional class object keeps two levels; the native table's `actor.user.account.uid` is named"
    );
    assert!(!has("user.email_addr"), "optional in user");
    let schema = Schema::get(OcsfVersion::V1_1_0).unwrap();
    let class = schema.class(3002).unwrap();
    let deprecated: Vec<&str> = class
        .item
        .attributes
        .iter()
        .filter(|a| a.deprecated.is_some())
        .map(|a| a.name)
        .collect();
    for name in &deprecated {
        assert!(
            auth.column(name).is_none(),
            "deprecated {name} has no column"
        );
    }
    let process = table(OcsfVersion::V1_1_0, 1007);
    assert!(type_at(&process, "process.pid").is_some());
    assert!(
        type_at(&process, "process.parent_process").is_none(),
        "a process inside a process is cut"
    );
    assert!(
        type_at(&process, "actor.process.user.name").is_some(),
        "level 3"
    );
    assert!(
        type_at(&process, "actor.process.file.hashes").is_none() || LEAN_OBJECT_DEPTH >= 4,
        "level 4 objects are not structs by default"
    );
}

#[test]
fn named_paths_add_columns_down_to_the_maximum_depth_and_unknown_ones_are_refused() {
    let process = with_columns(
        OcsfVersion::V1_1_0,
        1007,
        &[
            "process.parent_process.cmd_line",
            "actor.process.parent_process.file",
            "process.file.signature.certificate.subject",
        ],
    )
    .unwrap();
    let has = |path: &str| process.type_at(path).is_some();
    assert!(has("process.parent_process.cmd_line"));
    assert!(!has("process.parent_process.pid"), "only the named leaf");
    assert!(
        has("actor.process.parent_process.file.name"),
        "an object with its defaults"
    );
    assert!(has("process.file.signature.certificate.subject"), "level 4");
    assert_eq!(
        process.glue_schema().extra_columns,
        vec![
            "actor.process.parent_process.file",
            "process.file.signature.certificate.subject",
            "process.parent_process.cmd_line"
        ]
    );
    for bad in [
        "process.shoe_size",
        "actor.process.parent_process.parent_process.file.name",
    ] {
        let error = with_columns(OcsfVersion::V1_1_0, 1007, &[bad]).unwrap_err();
        assert_eq!(error.code(), "unknown_path", "{bad}");
        assert!(error.to_string().contains(bad), "{error}");
    }
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
    let profiles = |names: &[&str]| TableSpec {
        profiles: Some(names.iter().map(|n| (*n).to_owned()).collect()),
        columns: Vec::new(),
    };
    let all = TableModel::new(schema, 3002, &TableSpec::default()).unwrap();
    assert!(all.column("cloud").is_some() && all.column("device").is_some());
    let cloud_only = TableModel::new(schema, 3002, &profiles(&["cloud"])).unwrap();
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
    let error = TableModel::new(schema, 3002, &profiles(&["nope"])).unwrap_err();
    assert_eq!(error.code(), "unknown_profile");
    assert!(error.to_string().contains("cloud"), "{error}");
    assert_eq!(
        TableModel::new(schema, 1, &TableSpec::default())
            .unwrap_err()
            .code(),
        "unknown_class"
    );
}

#[test]
fn fitting_moves_what_the_table_cannot_hold_under_unmapped_as_strings_by_path() {
    let process = table(OcsfVersion::V1_1_0, 1007);
    let parent = json!({"pid": 3, "file": {"name": "init"}});
    let mut event = json!({
        "class_uid": 1007, "time": 1_682_683_200_000_i64,
        "time_dt": "2023-04-28T14:00:00.5+02:00",
        "start_time_dt": "yesterday",
        "actor": {"process": {"pid": 4, "parent_process": parent}},
        "severity_id": 5_000_000_000_i64,
        "message": 42,
        "enrichments": [{"name": "a", "value": "b", "data": {"score": 9}}],
        "observables": [{"name": "x", "type_id": 1}, {"name": "y", "type_id": 1}],
        "shoe_size": 44,
        "unmapped": {"already": true, "text": "kept as it is", "nested": {"k": [1]}},
    });
    let fitted = process.fit(&mut event);
    assert_eq!(
        fitted.moved,
        vec![
            "actor.process.parent_process",
            "message",
            "severity_id",
            "shoe_size",
            "start_time_dt"
        ]
    );
    assert_eq!(
        event["unmapped"],
        json!({"already": "true", "text": "kept as it is", "nested": "{\"k\":[1]}",
               "shoe_size": "44", "message": "42", "severity_id": "5000000000",
               "start_time_dt": "yesterday",
               "actor.process.parent_process": parent.to_string()}),
        "map<string,string>: keyed by path, every value a string"
    );
    assert_eq!(
        event["time_dt"],
        json!("2023-04-28T12:00:00.500Z"),
        "a datetime in its canonical UTC text"
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
    assert_eq!(event["actor"]["process"], json!({"pid": 4}));
    assert!(event.get("message").is_none() && event["observables"][1]["name"] == "y");
    let again = event.clone();
    assert_eq!(process.fit(&mut event).moved, Vec::<String>::new());
    assert_eq!(event, again, "fitting is idempotent");
    let mut legacy = json!({"class_uid": 1007, "unmapped": "{\"a\":1}"});
    process.fit(&mut legacy);
    assert_eq!(
        legacy["unmapped"],
        json!({"a": "1"}),
        "JSON text of an object: its entries"
    );
}

#[test]
fn used_paths_are_the_schema_leaves_a_sample_gives_values_to() {
    let schema = Schema::get(OcsfVersion::V1_1_0).unwrap();
    let events = [
        json!({"class_uid": 3002, "user": {"name": "a", "ldap_person": {"job_title": "x"}},
               "observables": [{"name": "n", "value": "v"}], "shoe_size": 4,
               "unmapped": {"a": 1}, "enrichments": [{"data": {"deep": 1}}]}),
        json!({"class_uid": 3002, "src_endpoint": {"location": {"city": "Oslo"}}, "user": null}),
        json!({"class_uid": 1007, "process": {"pid": 1}}),
    ];
    let paths: Vec<String> = used_paths(schema, 3002, &events).into_iter().collect();
    assert_eq!(
        paths,
        vec![
            "class_uid",
            "enrichments.data",
            "observables.name",
            "observables.value",
            "src_endpoint.location.city",
            "unmapped",
            "user.ldap_person.job_title",
            "user.name"
        ]
    );
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
            "unfitted: unmapped holds objects"
        );
        let mut fitted = processed.event.clone();
        table.fit(&mut fitted);
        let unmapped = fitted["unmapped"].as_object().unwrap();
        assert!(
            unmapped
                .iter()
                .any(|(path, value)| path.starts_with("actor")
                    && value.as_str().unwrap().contains(r#""pid":9"#)),
            "{name}: the deep process is carried"
        );
        assert!(unmapped.contains_key("unknown_thing"), "{name}");
        assert_every_field_has_a_column(&table, &fitted);
    }
}

/// The struct columns of `fields` (arrays stepped through), with the object each holds: the
/// schema attribute of the same name in `item`.
fn struct_columns<'t>(
    schema: &'static Schema,
    item: &'static crate::schema::Item,
    fields: &'t [Column],
    path: String,
    out: &mut Vec<(String, &'static crate::schema::Item, &'t [Column])>,
) {
    for column in fields {
        let mut ty = &column.ty;
        while let ColumnType::Array(element) = ty {
            ty = element;
        }
        let (ColumnType::Struct(children), Some(attr)) = (ty, item.attribute(column.name)) else {
            continue;
        };
        let crate::schema::AttrType::Object(id) = attr.ty else {
            continue;
        };
        let Some(object) = schema.object(id) else {
            continue;
        };
        let here = format!("{path}{}", column.name);
        out.push((here.clone(), object, children));
        struct_columns(schema, object, children, format!("{here}."), out);
    }
}

/// Every struct column of a class's table, at any depth, with its path and object.
fn class_structs<'t>(
    schema: &'static Schema,
    uid: i64,
    table: &'t TableModel,
) -> Vec<(String, &'static crate::schema::Item, &'t [Column])> {
    let mut structs = Vec::new();
    if let Some(class) = schema.class(uid) {
        struct_columns(
            schema,
            &class.item,
            table.columns(),
            String::new(),
            &mut structs,
        );
    }
    structs
}

/// Issue 21, item 1: a row can meet every constraint of the objects its table holds. In every
/// pre-generated table, an object's struct has a field for at least one attribute of each of its
/// `at_least_one` / `just_one` constraints; `attacks[]` carries the MITRE tactic and technique,
/// `resources[]` the resource's `uid`, `name` and `type`.
#[test]
fn tables_hold_what_the_constraints_of_their_objects_name() {
    let mut checked = 0;
    for (version, uid) in [1007, 2001, 2004, 3001, 3002, 4001, 4002, 4003, 6003]
        .into_iter()
        .flat_map(|uid| [(OcsfVersion::V1_1_0, uid), (OcsfVersion::V1_3_0, uid)])
    {
        let schema = Schema::get(version).unwrap();
        let table = table(version, uid);
        for (path, object, fields) in class_structs(schema, uid, &table) {
            for constraint in &object.constraints {
                let names: Vec<&str> = constraint
                    .paths
                    .iter()
                    .filter_map(|p| p.first().copied())
                    .collect();
                let held: Vec<&str> = names
                    .iter()
                    .copied()
                    .filter(|n| find(fields, n).is_some())
                    .collect();
                assert!(
                    !held.is_empty(),
                    "{version} {uid} {path}: none of {names:?}"
                );
                checked += 1;
            }
        }
        if [2004, 2001].contains(&uid) || (uid == 6003) {
            let at = |p: &str| type_at(&table, p);
            assert!(
                at("resources[].uid").is_some() && at("resources[].name").is_some(),
                "{version} {uid}"
            );
            assert!(at("resources[].type").is_some(), "{version} {uid}");
        }
        if uid == 2004 {
            let at = |p: &str| type_at(&table, p);
            for path in [
                "attacks[].tactic.name",
                "attacks[].tactic.uid",
                "attacks[].technique.uid",
                "attacks[].technique.name",
            ] {
                assert!(at(path).is_some(), "{version} {path}");
            }
        }
    }
    assert!(checked > 100, "{checked} constraints checked");
}

/// The column at a dotted path, arrays stepped through.
fn column_through_arrays(table: &TableModel, path: &str) -> Option<ColumnType> {
    let mut ty: Option<ColumnType> = None;
    for step in path.split('.') {
        let column = match &ty {
            None => table.column(step)?.clone(),
            Some(t) => {
                let mut t = t;
                while let ColumnType::Array(element) = t {
                    t = element.as_ref();
                }
                t.field(step)?.clone()
            }
        };
        ty = Some(column.ty);
    }
    ty
}

/// Whether the schema defines `path` in the class (objects stepped into, arrays through, at
/// most [`MAX_OBJECT_DEPTH`] object levels, profiles the class supports), and it is not
/// deprecated.
fn defines(schema: &'static Schema, uid: i64, path: &str) -> bool {
    let class = schema.class(uid).unwrap();
    let mut item = &class.item;
    let steps: Vec<&str> = path.split('.').collect();
    for (level, step) in steps.iter().enumerate() {
        let Some(attr) = item.attribute(step) else {
            return false;
        };
        if attr.deprecated.is_some() || attr.profile.is_some_and(|p| !class.profiles.contains(&p)) {
            return false;
        }
        if level + 1 == steps.len() {
            return true;
        }
        match attr.ty {
            crate::schema::AttrType::Object(id) if level < MAX_OBJECT_DEPTH => {
                match schema.object(id) {
                    Some(object) if !object.is_open() => item = object,
                    _ => return false,
                }
            }
            _ => return false,
        }
    }
    false
}

/// Issue 21, item 1: per pre-generated class, the leaves AWS's native table holds
/// (`native::native_leaves`) that are not columns of our default table: none, wherever the
/// schema defines them. The leaves the schema does not define are printed.
#[test]
fn every_native_leaf_the_schema_defines_is_a_column() {
    let mut missing = Vec::new();
    let mut columns = 0;
    for (version, uid) in [2004, 3001, 3002, 4001, 4002, 4003, 6003]
        .into_iter()
        .flat_map(|uid| [(OcsfVersion::V1_1_0, uid), (OcsfVersion::V1_3_0, uid)])
    {
        let schema = Schema::get(version).unwrap();
        let table = table(version, uid);
        let (defined, undefined): (Vec<&str>, Vec<&str>) =
            native_leaves(uid).partition(|p| defines(schema, uid, p));
        if !undefined.is_empty() {
            println!("{version} {uid}: not in the schema {undefined:?}");
        }
        for path in defined {
            match column_through_arrays(&table, path) {
                Some(_) => columns += 1,
                None => missing.push(format!("{version} {uid} {path}")),
            }
        }
    }
    assert!(
        missing.is_empty(),
        "native leaves without a column: {missing:#?}"
    );
    assert!(columns > 500, "{columns} native leaves checked");
}

/// Issue 21, item 3: in every class of both versions, every `observables` struct holds its fields
/// in the native tables' order (`name, value, type, type_id`), every other struct and the
/// top-level columns by name (the schema's order), and every field is found by name.
#[test]
fn struct_fields_are_in_the_native_order_where_aws_declares_one_and_by_name_elsewhere() {
    let mut observables = 0;
    for version in [OcsfVersion::V1_1_0, OcsfVersion::V1_3_0] {
        let schema = Schema::get(version).unwrap();
        for class in schema.classes() {
            let table = table(version, class.uid);
            let names = |fields: &[Column]| fields.iter().map(|f| f.name).collect::<Vec<_>>();
            assert!(
                table.columns().is_sorted_by_key(|c| c.name),
                "{version} {}",
                class.uid
            );
            for (path, object, fields) in class_structs(schema, class.uid, &table) {
                for field in fields {
                    assert_eq!(find(fields, field.name).map(|f| f.name), Some(field.name));
                }
                if object.name == "observable" {
                    assert_eq!(
                        names(fields).get(..4),
                        Some(&["name", "value", "type", "type_id"][..]),
                        "{version} {} {path}",
                        class.uid
                    );
                    observables += 1;
                } else {
                    assert!(
                        fields.is_sorted_by_key(|f| f.name),
                        "{version} {} {path}",
                        class.uid
                    );
                }
            }
        }
    }
    assert!(
        observables > 100,
        "{observables} observables structs checked"
    );
}

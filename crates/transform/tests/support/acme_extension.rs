//! A user's own OCSF extension, `acme`, compiled into 1.3.0 as `ocsf-schema-compiler --legacy-mode`
//! lays out an extension (`win`, `linux` in the vendored files): a profile, an object
//! (`acme/badge`) and an attribute on `device` gated by the profile. Shared by the transform
//! crate's `schema_files` test and the CLI's.
#![allow(dead_code)]

use std::path::Path;

use serde_json::{json, Value};

/// The extension's profile.
pub const PROFILE: &str = "acme/badge_access";

/// The vendored compiled schema of `version`.
pub fn vendored(version: &str) -> Value {
    // `crates/<this crate>/../transform`: the same folder from the transform and CLI crates.
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../transform/ocsf-schema")
        .join(format!("schema-{version}.json"));
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn attribute(ty: &str, requirement: &str) -> Value {
    json!({"caption": ty, "description": "x", "type": ty, "requirement": requirement,
           "extension": "acme", "extension_id": 999})
}

/// The vendored 1.3.0 with the `acme` extension, as the compiler lays an extension out.
pub fn acme_schema() -> Value {
    let mut schema = vendored("1.3.0");
    let mut issued_dt = attribute("datetime_t", "optional");
    issued_dt["profile"] = json!("datetime");
    schema["objects"]["acme/badge"] = json!({
        "caption": "Badge", "description": "A door badge.", "name": "badge",
        "extends": "object", "extension": "acme", "extension_id": 999,
        "profiles": ["datetime"],
        "attributes": {
            "uid": attribute("string_t", "required"),
            "door": attribute("string_t", "recommended"),
            "issued_time": attribute("timestamp_t", "optional"),
            "issued_time_dt": issued_dt,
        }
    });
    let mut badge = attribute("object_t", "optional");
    badge["object_type"] = json!("acme/badge");
    badge["profile"] = json!(PROFILE);
    let device = &mut schema["objects"]["device"];
    device["attributes"]["badge"] = badge;
    device["profiles"]
        .as_array_mut()
        .unwrap()
        .push(json!(PROFILE));
    for class in schema["classes"].as_object_mut().unwrap().values_mut() {
        if class["attributes"].get("device").is_some() {
            class["profiles"]
                .as_array_mut()
                .unwrap()
                .push(json!(PROFILE));
        }
    }
    schema
}

/// An OCSF 1.3.0 Process Activity event whose device carries `badge`.
pub fn badged_event(badge: Value) -> Value {
    json!({
        "class_uid": 1007, "category_uid": 1, "activity_id": 1, "type_uid": 100_701,
        "severity_id": 1,
        "time": 1_682_683_200_000_i64,
        "metadata": {"version": "1.3.0", "profiles": [PROFILE],
                     "product": {"name": "doors", "vendor_name": "Acme"}},
        "actor": {"process": {"pid": 1, "name": "systemd"}},
        "device": {"type_id": 1, "hostname": "web-1", "badge": badge},
        "process": {"pid": 4242, "name": "badge-reader"},
        "cloud": {"provider": "AWS", "region": "eu-west-1"}
    })
}

//! Pre-compiles the vendored OCSF schema exports into the compact model of
//! `src/schema/model.rs`, serialized with postcard into `OUT_DIR/schema-<version>.postcard`.
//!
//! Doing this at build time keeps Lambda cold starts free of the 1–2 MB JSON parse and of all
//! index building, and turns any schema shape we do not understand into a build error instead of
//! a runtime surprise.

use std::error::Error;
use std::path::Path;

use serde_json::{Map, Value};

#[allow(dead_code, missing_docs)]
#[path = "src/schema/model.rs"]
mod model;

#[allow(dead_code)]
#[path = "src/schema/compile.rs"]
mod compile;

use compile::{compile, obj, string};

/// The OCSF releases embedded in the library, oldest first (file names under `ocsf-schema/`; see
/// its README). The one list: `embedded.rs` (written below) carries it into the crate, and
/// `Schema::load` checks it against `OcsfRelease`.
const VERSIONS: &[&str] = &[
    "1.0.0-rc.2",
    "1.0.0",
    "1.1.0",
    "1.2.0",
    "1.3.0",
    "1.4.0",
    "1.5.0",
    "1.6.0",
    "1.7.0",
    "1.8.0",
];

type BuildResult<T> = Result<T, Box<dyn Error>>;

fn main() -> BuildResult<()> {
    println!("cargo:rerun-if-changed=src/schema/model.rs");
    println!("cargo:rerun-if-changed=src/schema/compile.rs");
    let out_dir = std::env::var("OUT_DIR")?;
    let extensions = vendor_extensions()?;
    for version in VERSIONS {
        let source = format!("ocsf-schema/schema-{version}.json");
        println!("cargo:rerun-if-changed={source}");
        let text = std::fs::read_to_string(&source)?;
        let mut raw: Value = serde_json::from_str(&text)?;
        for (file, extension) in &extensions {
            apply_extension(&mut raw, extension, version).map_err(|e| format!("{file}: {e}"))?;
        }
        let data = compile(&raw).map_err(|e| format!("{source}: {e}"))?;
        if data.version != *version {
            return Err(format!("{source} declares version {}", data.version).into());
        }
        // Each class and object on its own, decoded at run time when first used.
        let classes = data
            .classes
            .iter()
            .map(|class| Ok((class.uid, postcard::to_allocvec(class)?)))
            .collect::<Result<Vec<_>, postcard::Error>>()?;
        let objects = data
            .objects
            .iter()
            .map(postcard::to_allocvec)
            .collect::<Result<Vec<_>, postcard::Error>>()?;
        let embedded = model::SchemaData {
            version: data.version,
            types: data.types,
            objects: objects
                .iter()
                .map(|bytes| model::EncodedItem { bytes })
                .collect(),
            classes: classes
                .iter()
                .map(|(uid, bytes)| model::EncodedClass { uid: *uid, bytes })
                .collect(),
            profiles: data.profiles,
            extensions: data.extensions,
        };
        let bytes = postcard::to_allocvec(&embedded)?;
        std::fs::write(
            Path::new(&out_dir).join(format!("schema-{version}.postcard")),
            bytes,
        )?;
    }
    let entries: String = VERSIONS
        .iter()
        .map(|v| {
            format!("    include_bytes!(concat!(env!(\"OUT_DIR\"), \"/schema-{v}.postcard\")),\n")
        })
        .collect();
    std::fs::write(
        Path::new(&out_dir).join("embedded.rs"),
        format!(
            "/// The compiled schemas, oldest first (`build.rs`'s `VERSIONS`).\n\
             static EMBEDDED: [&[u8]; {}] = [\n{entries}];\n",
            VERSIONS.len()
        ),
    )?;
    Ok(())
}

/// The vendor extensions under `ocsf-schema/extensions/` (see its README), by file name.
fn vendor_extensions() -> BuildResult<Vec<(String, Value)>> {
    let dir = Path::new("ocsf-schema/extensions");
    println!("cargo:rerun-if-changed={}", dir.display());
    let mut files: Vec<_> = std::fs::read_dir(dir)?
        .map(|entry| entry.map(|e| e.path()))
        .collect::<Result<_, _>>()?;
    files.retain(|path| path.extension().is_some_and(|e| e == "json"));
    files.sort();
    files
        .into_iter()
        .map(|path| {
            println!("cargo:rerun-if-changed={}", path.display());
            let text = std::fs::read_to_string(&path)?;
            Ok((path.display().to_string(), serde_json::from_str(&text)?))
        })
        .collect()
}

/// Merges a vendor extension into a release from its `since` release on: its new objects, and
/// its attributes on existing objects, each gated by the extension's profile unless it names
/// its own (a `_dt` sibling is the `datetime` profile's). An attribute the release already
/// defines stays as the release defines it; the profile is listed on every object it extends.
fn apply_extension(raw: &mut Value, extension: &Value, version: &str) -> BuildResult<()> {
    let since = string(extension, "since")?;
    let position = |v: &str| VERSIONS.iter().position(|known| *known == v);
    let since_index = position(since).ok_or_else(|| format!("unknown release {since}"))?;
    if position(version).is_none_or(|index| index < since_index) {
        return Ok(());
    }
    let profile = string(extension, "profile")?.to_owned();
    let gated = |attributes: &Map<String, Value>| -> Map<String, Value> {
        attributes
            .iter()
            .map(|(name, attr)| {
                let mut attr = attr.clone();
                if let Some(fields) = attr.as_object_mut() {
                    fields
                        .entry("profile")
                        .or_insert_with(|| Value::String(profile.clone()));
                }
                (name.clone(), attr)
            })
            .collect()
    };
    let objects = raw
        .get_mut("objects")
        .and_then(Value::as_object_mut)
        .ok_or("objects is not an object")?;
    for (name, object) in obj(&extension["objects"], "objects")? {
        if objects.contains_key(name) {
            return Err(format!("object {name} exists already").into());
        }
        let mut object = object.clone();
        object["name"] = Value::String(name.clone());
        object["attributes"] = Value::Object(gated(obj(&object["attributes"], "attributes")?));
        objects.insert(name.clone(), object);
    }
    for (object_name, added) in obj(&extension["attributes"], "attributes")? {
        let object = objects
            .get_mut(object_name)
            .and_then(Value::as_object_mut)
            .ok_or_else(|| format!("no object {object_name} to extend"))?;
        let attributes = object
            .get_mut("attributes")
            .and_then(Value::as_object_mut)
            .ok_or_else(|| format!("{object_name} has no attributes"))?;
        for (name, attr) in gated(obj(added, "attributes")?) {
            attributes.entry(name).or_insert(attr);
        }
        let profiles = object
            .entry("profiles")
            .or_insert_with(|| Value::Array(Vec::new()));
        if let Some(list) = profiles.as_array_mut() {
            if !list.iter().any(|p| p.as_str() == Some(profile.as_str())) {
                list.push(Value::String(profile.clone()));
            }
        }
    }
    Ok(())
}

//! Schema files installed at run time (`OCSF_EXTENSIONS`): a release compiled with the user's
//! own extension, replacing the embedded release of its version for the whole process, so
//! events using that extension get real validation, known profiles and table columns.
//!
//! The file is what the OCSF compiler writes in legacy mode (`ocsf-schema-compiler
//! --legacy-mode --extensions-path <your extensions> <ocsf-schema tree>`), the same layout as
//! the vendored releases, and it is compiled by the same code as those (`compile.rs`).

use std::path::{Path, PathBuf};

use serde_json::Value;
use thiserror::Error;

use super::compile::compile;
use super::{Schema, LOADED};
use crate::version::OcsfRelease;

/// A schema file cannot be installed. [`SchemaFileError::kind`] names the variant for machines.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum SchemaFileError {
    /// The file cannot be read.
    #[error("schema file {}: cannot be read: {reason}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The operating system's message.
        reason: String,
    },
    /// The file is not JSON.
    #[error("schema file {}: not JSON: {reason}", path.display())]
    Json {
        /// The file.
        path: PathBuf,
        /// The parser's message.
        reason: String,
    },
    /// The file's `version` is not a release the engine embeds (and so translates).
    #[error(
        "schema file {}: OCSF `{version}` is not a release this engine knows (1.0.0-rc.2, 1.0.0 … 1.8.0)",
        path.display()
    )]
    UnknownRelease {
        /// The file.
        path: PathBuf,
        /// The file's `version`, as written.
        version: String,
    },
    /// The file is not a compiled OCSF schema the engine's model can hold.
    #[error("schema file {}: not a compiled OCSF schema in the legacy layout: {reason}", path.display())]
    Compile {
        /// The file.
        path: PathBuf,
        /// The first shape the model cannot hold.
        reason: String,
    },
    /// The release is already in use in this process, from the embedded schema or another file:
    /// install schema files before anything judges an event.
    #[error(
        "schema file {}: OCSF {version} is already in use in this process (from {}); install schema files before building any engine",
        path.display(),
        current.as_deref().map_or_else(|| "the embedded schema".to_owned(), |p| p.display().to_string())
    )]
    AlreadyLoaded {
        /// The file.
        path: PathBuf,
        /// Its release.
        version: OcsfRelease,
        /// The file the release in use came from (`None`: the embedded schema).
        current: Option<PathBuf>,
    },
}

impl SchemaFileError {
    /// A stable machine-readable name of the variant.
    pub fn kind(&self) -> &'static str {
        match self {
            SchemaFileError::Read { .. } => "read",
            SchemaFileError::Json { .. } => "json",
            SchemaFileError::UnknownRelease { .. } => "unknown_release",
            SchemaFileError::Compile { .. } => "compile",
            SchemaFileError::AlreadyLoaded { .. } => "already_loaded",
        }
    }
}

impl Schema {
    /// Installs a compiled schema file as its release's schema for this process, and returns
    /// it. Every later [`Schema::get`] of that release (the engine's target, translation's
    /// source releases, the table model) uses it.
    ///
    /// Installing the same file again is a no-op; a release already in use (embedded, or from
    /// another file) is [`SchemaFileError::AlreadyLoaded`]. The file is parsed and compiled
    /// once (a 1.3.0 export: about 2 MB of JSON); the compiled model borrows its strings, so
    /// they stay in memory for the life of the process, as the embedded schemas do.
    pub fn install_file(path: &Path) -> Result<&'static Schema, SchemaFileError> {
        let read_error = |e: std::io::Error| SchemaFileError::Read {
            path: path.to_owned(),
            reason: e.to_string(),
        };
        let canonical = std::fs::canonicalize(path).map_err(read_error)?;
        let text = std::fs::read_to_string(&canonical).map_err(read_error)?;
        let mut raw: Value = serde_json::from_str(&text).map_err(|e| SchemaFileError::Json {
            path: path.to_owned(),
            reason: e.to_string(),
        })?;
        drop(text);
        let written = raw.get("version").and_then(Value::as_str).unwrap_or("");
        let unknown = || SchemaFileError::UnknownRelease {
            path: path.to_owned(),
            version: written.to_owned(),
        };
        let version: OcsfRelease = written.parse().map_err(|_| unknown())?;
        let cell = LOADED.get(version.index()).ok_or_else(unknown)?;
        if let Some(loaded) = cell.get() {
            return installed_as(loaded, path, &canonical, version);
        }
        // The model keeps no descriptions: drop them before the tree is kept for good.
        strip_descriptions(&mut raw);
        let raw: &'static Value = Box::leak(Box::new(raw));
        let data = compile(raw).map_err(|e| SchemaFileError::Compile {
            path: path.to_owned(),
            reason: e.0,
        })?;
        let schema = Schema::compiled(version, data, Some(canonical.clone()));
        // Another thread may have loaded the release meanwhile: then the answer is as above.
        let loaded = cell.get_or_init(|| Ok(schema));
        installed_as(loaded, path, &canonical, version)
    }

    /// The schema file this release was installed from ([`Schema::install_file`]); `None` for
    /// the embedded schema.
    pub fn file(&self) -> Option<&Path> {
        self.file.as_deref()
    }
}

/// `loaded` if it came from `canonical`, else why the file cannot replace it.
fn installed_as(
    loaded: &'static Result<Schema, super::SchemaError>,
    path: &Path,
    canonical: &Path,
    version: OcsfRelease,
) -> Result<&'static Schema, SchemaFileError> {
    match loaded {
        Ok(schema) if schema.file.as_deref() == Some(canonical) => Ok(schema),
        Ok(schema) => Err(SchemaFileError::AlreadyLoaded {
            path: path.to_owned(),
            version,
            current: schema.file.clone(),
        }),
        Err(_) => Err(SchemaFileError::AlreadyLoaded {
            path: path.to_owned(),
            version,
            current: None,
        }),
    }
}

/// Removes every `description` text (prose the compiled model never reads) below `value`. An
/// attribute or enum value called `description` is an object, and stays.
fn strip_descriptions(value: &mut Value) {
    match value {
        Value::Object(map) => {
            if map.get("description").is_some_and(Value::is_string) {
                map.remove("description");
            }
            map.values_mut().for_each(strip_descriptions);
        }
        Value::Array(items) => items.iter_mut().for_each(strip_descriptions),
        _ => {}
    }
}

//! The table model: the columns of the Glue table (and of the Parquet files) that hold one OCSF
//! class, derived from the schema, and the one place that decides what an event row may carry.
//!
//! Firehose converts JSON records to Parquet through a Glue table and silently drops every field
//! the table lacks. So the table is generated, never hand-written ([`TableModel::columns`],
//! `ocsf-firehose glue-schema`), and the transformation Lambda fits each event to the very same
//! model before answering ([`TableModel::fit`]): what the table cannot hold moves under
//! `unmapped`, nothing is dropped.
//!
//! Column types (Hive names, as Glue wants them) follow Security Lake's own OCSF tables where an
//! OCSF type could map to more than one:
//!
//! | OCSF | column |
//! |---|---|
//! | `boolean_t` | `boolean` |
//! | `integer_t` and its subtypes (`port_t`, enums) | `int` |
//! | `long_t`, `timestamp_t` (epoch ms, like `time`) | `bigint` |
//! | `float_t` | `float` (Security Lake's `coordinates` are `array<float>`) |
//! | `datetime_t` (`time_dt`, every `*_dt`) | `timestamp` (RFC 3339 text in the row, UTC milliseconds in Parquet) |
//! | `string_t` and its subtypes | `string` |
//! | `unmapped` | `map<string,string>`: attribute path → value (JSON text for objects, arrays, numbers) |
//! | `json_t`, and other open objects (`xattributes`) | `string`: JSON text (a JSON string value is stored as it is) |
//! | an object | `struct<…>` of its columns |
//! | `is_array` | `array<…>` |
//!
//! Which attributes get a column is `columns`' rule (lean by default, plus the paths a
//! [`TableSpec`] names); an attribute without a column, an object deeper than
//! [`MAX_OBJECT_DEPTH`], an integer outside 32 bits or a datetime that is not RFC 3339 moves to
//! `unmapped`, keyed by its path (`actor.process.parent_process.parent_process`).

mod columns;
mod fit;
mod native;

use std::fmt::{self, Write};
use std::sync::{Arc, OnceLock};

use serde::Serialize;
use thiserror::Error;

pub use columns::{used_paths, TableSpec, LEAN_OBJECT_DEPTH};
pub use fit::Fitted;
pub use native::native_leaves;

use crate::schema::{ProfileSet, Schema};
use crate::version::OcsfRelease;

/// Object levels below the event that may become struct columns at all (a named path
/// included): `actor` is level 1, `actor.process` 2, `actor.process.parent_process` 3,
/// `actor.process.parent_process.file` 4. Deeper objects are carried under `unmapped`.
pub const MAX_OBJECT_DEPTH: usize = 4;

/// Longest column type Glue accepts (`Column.Type`, 131,072 characters):
/// <https://docs.aws.amazon.com/glue/latest/webapi/API_Column.html>.
pub const MAX_GLUE_TYPE_CHARS: usize = 131_072;

/// A scalar column type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scalar {
    /// `boolean`
    Boolean,
    /// `int` (32-bit)
    Int,
    /// `bigint`
    Bigint,
    /// `float` (32-bit)
    Float,
    /// `timestamp`: a `datetime_t`, written as RFC 3339 UTC text with milliseconds in the row
    /// (a format Firehose's OpenX JSON SerDe parses), UTC milliseconds in Parquet.
    Timestamp,
    /// `string`
    String,
    /// `string` holding JSON text (`json_t`, open objects other than `unmapped`).
    Json,
}

impl Scalar {
    /// The Hive type name.
    pub fn hive(self) -> &'static str {
        match self {
            Scalar::Boolean => "boolean",
            Scalar::Int => "int",
            Scalar::Bigint => "bigint",
            Scalar::Float => "float",
            Scalar::Timestamp => "timestamp",
            Scalar::String | Scalar::Json => "string",
        }
    }
}

/// A column's type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ColumnType {
    /// A scalar.
    Scalar(Scalar),
    /// A struct of named fields.
    Struct(Arc<[Column]>),
    /// An array of elements.
    Array(Box<ColumnType>),
    /// `map<string,string>`: `unmapped`, keyed by attribute path.
    StringMap,
}

/// A named column (or struct field).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Column {
    /// The attribute name.
    pub name: &'static str,
    /// Its type.
    pub ty: ColumnType,
}

impl ColumnType {
    /// Field `name` of a struct type.
    pub fn field(&self, name: &str) -> Option<&Column> {
        match self {
            ColumnType::Struct(fields) => find(fields, name),
            _ => None,
        }
    }

    /// Leaf columns (Parquet columns) of this type: 1 for a scalar or an array of scalars, 2 for
    /// a map (keys and values).
    pub fn leaves(&self) -> usize {
        match self {
            ColumnType::Scalar(_) => 1,
            ColumnType::StringMap => 2,
            ColumnType::Array(element) => element.leaves(),
            ColumnType::Struct(fields) => fields.iter().map(|f| f.ty.leaves()).sum(),
        }
    }
}

impl fmt::Display for ColumnType {
    /// The Hive type: `struct<name:string,port:int>`, `array<string>`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ColumnType::Scalar(s) => f.write_str(s.hive()),
            ColumnType::StringMap => f.write_str("map<string,string>"),
            ColumnType::Array(element) => write!(f, "array<{element}>"),
            ColumnType::Struct(fields) => {
                f.write_str("struct<")?;
                for (i, field) in fields.iter().enumerate() {
                    if i > 0 {
                        f.write_char(',')?;
                    }
                    write!(f, "{}:{}", field.name, field.ty)?;
                }
                f.write_char('>')
            }
        }
    }
}

/// The column `name`. Columns are sorted by name (the schema's attribute order) except the
/// fields of a struct put in the native tables' order (`native::order_fields`): a binary search,
/// which never finds a wrong column, and a scan when it misses.
fn find<'c>(columns: &'c [Column], name: &str) -> Option<&'c Column> {
    match columns.binary_search_by(|c| c.name.cmp(name)) {
        Ok(i) => columns.get(i),
        Err(_) => columns.iter().find(|c| c.name == name),
    }
}

/// Why a table cannot be built.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum TableError {
    /// No such class in the schema.
    #[error("OCSF {version} has no class {uid}")]
    UnknownClass {
        /// The class uid.
        uid: i64,
        /// The schema version.
        version: OcsfRelease,
    },
    /// The class does not support this profile.
    #[error("class {uid} does not support profile `{profile}` (supported: {supported})")]
    UnknownProfile {
        /// The class uid.
        uid: i64,
        /// The profile asked for.
        profile: String,
        /// The class's profiles, comma-separated.
        supported: String,
    },
    /// A named column path is not an attribute of the class (with the table's profiles), or
    /// lies deeper than [`MAX_OBJECT_DEPTH`].
    #[error(
        "class {uid} has no attribute path `{path}` that can be a column (with profiles {profiles}; at most {MAX_OBJECT_DEPTH} object levels)"
    )]
    UnknownPath {
        /// The class uid.
        uid: i64,
        /// The path asked for.
        path: String,
        /// The table's profiles, comma-separated.
        profiles: String,
    },
}

impl TableError {
    /// A stable machine-readable kind.
    pub fn code(&self) -> &'static str {
        match self {
            TableError::UnknownClass { .. } => "unknown_class",
            TableError::UnknownProfile { .. } => "unknown_profile",
            TableError::UnknownPath { .. } => "unknown_path",
        }
    }
}

/// The table of one class: its columns and the rules that fit events to them.
#[derive(Debug, Clone)]
pub struct TableModel {
    class_uid: i64,
    class_name: &'static str,
    version: OcsfRelease,
    profiles: Vec<&'static str>,
    extra_columns: Vec<String>,
    columns: Arc<[Column]>,
}

/// One column in the generated JSON (`infra/schemas/*.json`), as Glue takes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GlueColumn {
    /// Column name.
    #[serde(rename = "Name")]
    pub name: String,
    /// Hive type.
    #[serde(rename = "Type")]
    pub ty: String,
}

/// The generated description of a table (what `glue-schema --format json` prints).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GlueSchema {
    /// `class_uid`.
    pub class_uid: i64,
    /// The class name, e.g. `authentication` (`win/registry_key_query` for an extension class).
    pub class_name: String,
    /// The Glue table's name, which CDK and Terraform use: the class name and the version,
    /// `/` and `.` as `_` (Glue names hold lowercase letters, digits and `_`), e.g.
    /// `authentication_1_1_0`, `win_registry_key_query_1_3_0`.
    pub table_name: String,
    /// OCSF version.
    pub ocsf_version: String,
    /// Profiles whose attributes may have columns (`OCSF_TABLE_PROFILES` of the Lambda).
    pub profiles: Vec<String>,
    /// Attribute paths with a column beyond the default set (`OCSF_TABLE_COLUMNS`).
    pub extra_columns: Vec<String>,
    /// Object levels that may be structs ([`MAX_OBJECT_DEPTH`]).
    pub max_object_depth: usize,
    /// Leaf (Parquet) columns of the table.
    pub leaf_columns: usize,
    /// The columns, in order.
    pub columns: Vec<GlueColumn>,
}

impl TableModel {
    /// The table of class `uid` with the columns `spec` asks for. Every profile and path of the
    /// spec must apply to the class.
    pub fn new(
        schema: &'static Schema,
        uid: i64,
        spec: &TableSpec,
    ) -> Result<TableModel, TableError> {
        Self::build(schema, uid, spec, true)
    }

    /// The table; with `strict`, a named path without a column is an error, else it is left
    /// out.
    fn build(
        schema: &'static Schema,
        uid: i64,
        spec: &TableSpec,
        strict: bool,
    ) -> Result<TableModel, TableError> {
        let class = schema.class(uid).ok_or(TableError::UnknownClass {
            uid,
            version: schema.version(),
        })?;
        let mut set = ProfileSet::EMPTY;
        match &spec.profiles {
            None => class.profiles.iter().for_each(|p| set.insert(*p)),
            Some(names) => {
                for name in names {
                    let id = schema
                        .profile_id(name)
                        .filter(|id| class.profiles.contains(id))
                        .ok_or_else(|| TableError::UnknownProfile {
                            uid,
                            profile: name.clone(),
                            supported: class
                                .profiles
                                .iter()
                                .map(|p| schema.profile_name(*p))
                                .collect::<Vec<_>>()
                                .join(", "),
                        })?;
                    set.insert(id);
                }
            }
        }
        let profiles: Vec<&'static str> = set.iter().map(|p| schema.profile_name(p)).collect();
        let columns = columns::build(
            schema,
            &class.item,
            set,
            native::native_leaves(uid),
            &spec.columns,
        );
        let mut extra_columns: Vec<String> = spec.columns.clone();
        extra_columns.sort();
        extra_columns.dedup();
        let mut table = TableModel {
            class_uid: uid,
            class_name: class.item.name,
            version: schema.version(),
            profiles,
            extra_columns,
            columns,
        };
        let unknown: Vec<String> = table.unknown_paths().map(str::to_owned).collect();
        if let (true, Some(path)) = (strict, unknown.first()) {
            return Err(TableError::UnknownPath {
                uid,
                path: path.clone(),
                profiles: table.profiles.join(", "),
            });
        }
        table.extra_columns.retain(|path| !unknown.contains(path));
        Ok(table)
    }

    /// The table of class `uid` with every path of `spec` that applies to it; the others are
    /// left out (one build, whatever the number of paths).
    pub fn lenient(
        schema: &'static Schema,
        uid: i64,
        spec: &TableSpec,
    ) -> Result<TableModel, TableError> {
        Self::build(schema, uid, spec, false)
    }

    /// The named paths that have no column.
    fn unknown_paths(&self) -> impl Iterator<Item = &str> {
        self.extra_columns
            .iter()
            .map(String::as_str)
            .filter(|path| self.type_at(path).is_none())
    }

    /// `class_uid`.
    pub fn class_uid(&self) -> i64 {
        self.class_uid
    }

    /// The top-level columns, sorted by name.
    pub fn columns(&self) -> &[Column] {
        &self.columns
    }

    /// The top-level column `name`.
    pub fn column(&self, name: &str) -> Option<&Column> {
        find(&self.columns, name)
    }

    /// The type of the column at a dotted attribute path (`actor.user.name`; arrays are
    /// stepped through: `observables.name`).
    pub fn type_at(&self, path: &str) -> Option<&ColumnType> {
        let mut steps = path.split('.');
        let mut ty = &self.column(steps.next()?)?.ty;
        for step in steps {
            while let ColumnType::Array(element) = ty {
                ty = element;
            }
            ty = &ty.field(step)?.ty;
        }
        Some(ty)
    }

    /// Leaf (Parquet) columns of the table.
    pub fn leaf_columns(&self) -> usize {
        self.columns.iter().map(|c| c.ty.leaves()).sum()
    }

    /// The description Glue, CDK and Terraform take.
    pub fn glue_schema(&self) -> GlueSchema {
        GlueSchema {
            class_uid: self.class_uid,
            class_name: self.class_name.to_owned(),
            table_name: format!("{}_{}", self.class_name, self.version).replace(['/', '.'], "_"),
            ocsf_version: self.version.to_string(),
            profiles: self.profiles.iter().map(|p| (*p).to_owned()).collect(),
            extra_columns: self.extra_columns.clone(),
            max_object_depth: MAX_OBJECT_DEPTH,
            leaf_columns: self.leaf_columns(),
            columns: self
                .columns
                .iter()
                .map(|c| GlueColumn {
                    name: c.name.to_owned(),
                    ty: c.ty.to_string(),
                })
                .collect(),
        }
    }
}

/// The tables of every class of a schema, each built on first use (the Lambda fits events of
/// whatever classes arrive; building all of them at cold start would be wasted work).
#[derive(Debug, Clone)]
pub struct Tables {
    schema: &'static Schema,
    spec: TableSpec,
    /// One slot per class, in the order of [`Schema::classes`].
    slots: Box<[OnceLock<Option<TableModel>>]>,
}

impl Tables {
    /// Tables with the columns of `spec`; for each class, a listed profile the class does not
    /// support and a path the class does not have are ignored ([`TableModel::lenient`]; check
    /// them per class with [`TableModel::new`]).
    pub fn new(schema: &'static Schema, spec: TableSpec) -> Tables {
        Tables {
            schema,
            spec,
            slots: schema.class_uids().map(|_| OnceLock::new()).collect(),
        }
    }

    /// The spec the tables are built with.
    pub fn spec(&self) -> &TableSpec {
        &self.spec
    }

    /// The table of class `uid`, if the schema has that class.
    pub fn get(&self, uid: i64) -> Option<&TableModel> {
        let index = self.schema.class_index(uid)?;
        self.slots
            .get(index)?
            .get_or_init(|| {
                let class = self.schema.class(uid)?;
                let profiles = self.spec.profiles.as_ref().map(|names| {
                    names
                        .iter()
                        .filter(|name| {
                            self.schema
                                .profile_id(name)
                                .is_some_and(|id| class.profiles.contains(&id))
                        })
                        .cloned()
                        .collect::<Vec<_>>()
                });
                let spec = TableSpec {
                    profiles,
                    columns: self.spec.columns.clone(),
                };
                TableModel::lenient(self.schema, uid, &spec).ok()
            })
            .as_ref()
    }

    /// Fits an event to the table of its `class_uid` (nothing happens for an unknown class).
    pub fn fit(&self, event: &mut serde_json::Value) -> Fitted {
        let uid = event.get("class_uid").and_then(serde_json::Value::as_i64);
        match uid.and_then(|uid| self.get(uid)) {
            Some(table) => table.fit(event),
            None => Fitted::default(),
        }
    }
}

#[cfg(test)]
mod tests;

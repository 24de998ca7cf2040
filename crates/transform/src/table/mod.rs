//! The table model: the columns of the Glue table (and of the Parquet files) that hold one OCSF
//! class, derived from the schema, and the one place that decides what an event row may carry.
//!
//! Firehose converts JSON records to Parquet through a Glue table and silently drops every field
//! the table lacks. So the table is generated, never hand-written ([`TableModel::columns`],
//! `ocsf-firehose glue-schema`), and the transformation Lambda fits each event to the very same
//! model before answering ([`TableModel::fit`]): what the table cannot hold moves under
//! `unmapped`, nothing is dropped.
//!
//! Column types (Hive names, as Glue wants them):
//!
//! | OCSF | column |
//! |---|---|
//! | `boolean_t` | `boolean` |
//! | `integer_t` and its subtypes (`port_t`, enums) | `int` |
//! | `long_t`, `timestamp_t` | `bigint` |
//! | `float_t` | `double` |
//! | `string_t` and its subtypes | `string` |
//! | `json_t`, and the open objects `unmapped` and `xattributes` | `string`: JSON text (a JSON string value is stored as it is) |
//! | an object | `struct<…>` of its attributes |
//! | `is_array` | `array<…>` |
//!
//! OCSF objects are recursive (`process.parent_process`, `user.groups`…): objects nest as
//! structs down to [`MAX_OBJECT_DEPTH`] levels below the event; an object value deeper than
//! that, an integer outside 32 bits, or any attribute the table has no column for, is moved to
//! `unmapped` keyed by its path (`actor.process.parent_process.parent_process`).

mod fit;

use std::collections::HashMap;
use std::fmt::{self, Write};
use std::sync::{Arc, OnceLock};

use serde::Serialize;
use thiserror::Error;

pub use fit::Fitted;

use crate::schema::{AttrType, BaseType, Item, ObjectId, ProfileId, ProfileSet, Schema};
use crate::version::OcsfVersion;

/// Object levels below the event that become struct columns: `actor` is level 1,
/// `actor.process` 2, `actor.process.parent_process` 3, `actor.process.parent_process.file` 4.
/// Deep enough for what events carry in practice; shallow enough that the largest column type
/// of any class stays well under Glue's limit of 131,072 characters per column type
/// ([`MAX_GLUE_TYPE_CHARS`]; a test checks every class).
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
    /// `double`
    Double,
    /// `string`
    String,
    /// `string` holding JSON text (`json_t`, open objects).
    Json,
}

impl Scalar {
    /// The Hive type name.
    pub fn hive(self) -> &'static str {
        match self {
            Scalar::Boolean => "boolean",
            Scalar::Int => "int",
            Scalar::Bigint => "bigint",
            Scalar::Double => "double",
            Scalar::String | Scalar::Json => "string",
        }
    }
}

/// A column's type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ColumnType {
    /// A scalar.
    Scalar(Scalar),
    /// A struct of named fields (shared between identical subtrees).
    Struct(Arc<[Column]>),
    /// An array of elements.
    Array(Box<ColumnType>),
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
}

impl fmt::Display for ColumnType {
    /// The Hive type: `struct<name:string,port:int>`, `array<string>`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ColumnType::Scalar(s) => f.write_str(s.hive()),
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

/// Columns are sorted by name (the schema's attribute order): binary search.
fn find<'c>(columns: &'c [Column], name: &str) -> Option<&'c Column> {
    columns
        .binary_search_by(|c| c.name.cmp(name))
        .ok()
        .and_then(|i| columns.get(i))
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
        version: OcsfVersion,
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
}

impl TableError {
    /// A stable machine-readable kind.
    pub fn code(&self) -> &'static str {
        match self {
            TableError::UnknownClass { .. } => "unknown_class",
            TableError::UnknownProfile { .. } => "unknown_profile",
        }
    }
}

/// The table of one class: its columns and the rules that fit events to them.
#[derive(Debug, Clone)]
pub struct TableModel {
    class_uid: i64,
    class_name: &'static str,
    version: OcsfVersion,
    profiles: Vec<&'static str>,
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
    /// The class name, e.g. `authentication`.
    pub class_name: String,
    /// OCSF version.
    pub ocsf_version: String,
    /// Profiles whose attributes have columns.
    pub profiles: Vec<String>,
    /// Object levels that are structs ([`MAX_OBJECT_DEPTH`]).
    pub max_object_depth: usize,
    /// The columns, in order.
    pub columns: Vec<GlueColumn>,
}

impl TableModel {
    /// The table of class `uid` with the attributes of `profiles` (`None`: every profile the
    /// class supports).
    pub fn new(
        schema: &'static Schema,
        uid: i64,
        profiles: Option<&[String]>,
    ) -> Result<TableModel, TableError> {
        let class = schema.class(uid).ok_or(TableError::UnknownClass {
            uid,
            version: schema.version(),
        })?;
        let mut set = ProfileSet::EMPTY;
        match profiles {
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
        let mut builder = Builder {
            schema,
            profiles: set,
            memo: HashMap::new(),
        };
        let columns = builder.item_columns(&class.item, 0);
        Ok(TableModel {
            class_uid: uid,
            class_name: class.item.name,
            version: schema.version(),
            profiles: set.iter().map(|p| schema.profile_name(p)).collect(),
            columns,
        })
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

    /// The description Glue, CDK and Terraform take.
    pub fn glue_schema(&self) -> GlueSchema {
        GlueSchema {
            class_uid: self.class_uid,
            class_name: self.class_name.to_owned(),
            ocsf_version: self.version.to_string(),
            profiles: self.profiles.iter().map(|p| (*p).to_owned()).collect(),
            max_object_depth: MAX_OBJECT_DEPTH,
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
    profiles: Option<Vec<String>>,
    /// One slot per class, in the order of [`Schema::classes`].
    slots: Box<[OnceLock<Option<TableModel>>]>,
}

impl Tables {
    /// Tables with the attributes of `profiles` (`None`: every profile each class supports;
    /// a listed profile a class does not support is ignored for that class).
    pub fn new(schema: &'static Schema, profiles: Option<Vec<String>>) -> Tables {
        Tables {
            schema,
            profiles,
            slots: schema.classes().iter().map(|_| OnceLock::new()).collect(),
        }
    }

    /// The table of class `uid`, if the schema has that class.
    pub fn get(&self, uid: i64) -> Option<&TableModel> {
        let index = self
            .schema
            .classes()
            .binary_search_by_key(&uid, |c| c.uid)
            .ok()?;
        self.slots
            .get(index)?
            .get_or_init(|| {
                let class = self.schema.class(uid)?;
                let profiles = self.profiles.as_ref().map(|names| {
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
                TableModel::new(self.schema, uid, profiles.as_deref()).ok()
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

struct Builder {
    schema: &'static Schema,
    profiles: ProfileSet,
    /// Identical subtrees (same object, same level) are built once and shared.
    memo: HashMap<(ObjectId, usize), Arc<[Column]>>,
}

impl Builder {
    /// Columns of an item at `level` (the event is level 0).
    fn item_columns(&mut self, item: &'static Item, level: usize) -> Arc<[Column]> {
        let mut columns = Vec::with_capacity(item.attributes.len());
        for attr in &item.attributes {
            if !self.admits(attr.profile) {
                continue;
            }
            let element = match attr.ty {
                AttrType::Scalar(id) => {
                    let base = self
                        .schema
                        .type_def(id)
                        .map_or(BaseType::String, |t| t.base);
                    ColumnType::Scalar(match base {
                        BaseType::Boolean => Scalar::Boolean,
                        BaseType::Integer => Scalar::Int,
                        BaseType::Long => Scalar::Bigint,
                        BaseType::Float => Scalar::Double,
                        BaseType::String => Scalar::String,
                        BaseType::Json => Scalar::Json,
                    })
                }
                AttrType::Object(id) => {
                    let Some(object) = self.schema.object(id) else {
                        continue;
                    };
                    if object.is_open() {
                        ColumnType::Scalar(Scalar::Json)
                    } else if level + 1 > MAX_OBJECT_DEPTH {
                        continue; // deeper than the table: carried under `unmapped`
                    } else {
                        let fields = self.object_columns(id, object, level + 1);
                        if fields.is_empty() {
                            continue; // `struct<>` is not a type: carried under `unmapped`
                        }
                        ColumnType::Struct(fields)
                    }
                }
            };
            let ty = if attr.is_array {
                ColumnType::Array(Box::new(element))
            } else {
                element
            };
            columns.push(Column {
                name: attr.name,
                ty,
            });
        }
        columns.into()
    }

    fn object_columns(
        &mut self,
        id: ObjectId,
        object: &'static Item,
        level: usize,
    ) -> Arc<[Column]> {
        if let Some(columns) = self.memo.get(&(id, level)) {
            return columns.clone();
        }
        let columns = self.item_columns(object, level);
        self.memo.insert((id, level), columns.clone());
        columns
    }

    fn admits(&self, profile: Option<ProfileId>) -> bool {
        self.profiles.admits(profile)
    }
}

#[cfg(test)]
mod tests;

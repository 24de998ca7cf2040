//! Which attributes of a class get a column: the lean default rule, plus the paths a user names.
//!
//! Security Lake's own OCSF tables hold a few dozen leaf columns per class; a table with every
//! attribute of every object (OCSF objects nest and recurse: `process.parent_process`,
//! `user.manager`…) holds thousands, and every Parquet object then carries a footer entry per
//! leaf column, most of them empty. The default rule keeps what events of the class carry and
//! what users filter on, and leaves the rest to `unmapped`, keyed by path (nothing is lost):
//!
//! 1. every attribute of the class itself (level 1: `time`, `severity_id`, `actor`, `src_endpoint`,
//!    `unmapped`…), deprecated ones excepted;
//! 2. inside objects, only the attributes the object itself marks *required* or *recommended*
//!    or names in a constraint (`at_least_one`, `just_one`: a row needs them to validate), every
//!    attribute of `attack` and `resource_details` (what a finding's `attacks[]` and
//!    `resources[]` hold), never a deprecated one, and none that a profile adds there (`container` in every endpoint
//!    and process under the `container` profile: a profile's attributes get their columns at
//!    the event level, deeper only when named);
//! 3. objects nest as structs down to [`LEAN_OBJECT_DEPTH`] levels (2 below an object the class
//!    only allows, such as `proxy_endpoint` or `load_balancer`), and an object never nests
//!    inside an object of its own type (`process.parent_process`, `user.manager`, `file.*.file`
//!    are cut at the first repetition);
//! 4. an admitted enum brings its caption (`type` with `type_id`) and an admitted timestamp its
//!    `_dt` text (with the `datetime` profile), as Security Lake's own tables hold them;
//! 5. the attributes the Security Lake partition is computed from (`cloud.region`,
//!    `cloud.account.uid`) and a few that every query reads (`metadata.profiles`,
//!    `cloud.account`, `metadata.uid`, `metadata.event_code`, `metadata.logged_time`, `metadata.processed_time`,
//!    `observables.value`) always have a column when the class has them;
//! 6. profiles select attributes as before: an attribute a profile adds needs that profile;
//! 7. every leaf AWS's own table of the class holds ([`super::native`]), where the schema
//!    defines it.
//!
//! A [`TableSpec`] adds columns by attribute path (`actor.process.cmd_line`; an object path adds
//! the object with its default columns), down to [`MAX_OBJECT_DEPTH`](super::MAX_OBJECT_DEPTH)
//! object levels. `glue-schema --from-events` finds the paths a sample of events uses
//! ([`used_paths`]). The Lambda builds its tables from the same spec (`OCSF_TABLE_PROFILES`,
//! `OCSF_TABLE_COLUMNS`), so its rows always fit the Glue table.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use serde_json::Value;

use super::{Column, ColumnType, Scalar, MAX_OBJECT_DEPTH};
use crate::contract::partition::PARTITION_SOURCE_PATHS;
use crate::schema::{
    AttrType, Attribute, BaseType, Item, ObjectId, ProfileSet, Requirement, Schema,
};

/// Object levels that are structs under the default rule (`actor` 1, `actor.user` 2,
/// `actor.user.account` 3).
pub const LEAN_OBJECT_DEPTH: usize = 3;

/// Attributes inside objects that the default rule would leave out but that queries of every
/// class read: the event's profiles and identity, and observables' values.
const COMMONLY_QUERIED: &[&str] = &[
    "cloud.account",
    "metadata.profiles",
    "metadata.uid",
    "metadata.event_code",
    "metadata.logged_time",
    "metadata.processed_time",
    "observables.value",
];

/// Objects whose every attribute has a column under the default rule: what a finding's MITRE
/// ATT&CK mapping (`attacks[]`) and its resources (`resources[]`, AWS's native tables query
/// `resources[].uid` and `type`) carry is what queries of those classes read.
const WHOLE_OBJECTS: &[&str] = &["attack", "resource_details"];

/// The name of the open object that receives what the table cannot hold.
pub(super) const UNMAPPED: &str = "unmapped";

/// The `datetime_t` type: a `timestamp` column.
const DATETIME_TYPE: &str = "datetime_t";

/// What a table has columns for, beyond the class.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TableSpec {
    /// Profiles whose attributes may have columns; `None`: every profile the class supports.
    pub profiles: Option<Vec<String>>,
    /// Attribute paths that get a column beyond the default rule (`actor.process.cmd_line`).
    pub columns: Vec<String>,
}

/// A tree of named paths.
#[derive(Debug, Default)]
struct Named<'p> {
    /// The path ends here: the whole attribute (an object with its default columns).
    whole: bool,
    children: BTreeMap<&'p str, Named<'p>>,
}

impl<'p> Named<'p> {
    fn insert(&mut self, path: &'p str) {
        let mut node = self;
        for step in path.split('.') {
            node = node.children.entry(step).or_default();
        }
        node.whole = true;
    }
}

/// The columns of a class `item` under `profiles`, with the default rule plus the leaves AWS's
/// native table of the class holds (`native`, where the schema defines them) plus `paths`.
pub(super) fn build(
    schema: &'static Schema,
    item: &'static Item,
    profiles: ProfileSet,
    native: impl Iterator<Item = &'static str>,
    paths: &[String],
) -> Arc<[Column]> {
    let mut named = Named::default();
    for path in PARTITION_SOURCE_PATHS
        .iter()
        .chain(COMMONLY_QUERIED)
        .copied()
        .chain(native)
    {
        named.insert(path);
    }
    for path in paths {
        named.insert(path);
    }
    let builder = Builder { schema, profiles };
    builder.item_columns(
        item,
        0,
        &mut Vec::new(),
        Some(&named),
        Some(LEAN_OBJECT_DEPTH),
    )
}

struct Builder {
    schema: &'static Schema,
    profiles: ProfileSet,
}

impl Builder {
    /// Columns of an item at `level` (the event is level 0). `depth`: the default rule applies,
    /// with objects as structs above this level (`None`: only `named` attributes have columns);
    /// `ancestors`: the object types on the path.
    fn item_columns(
        &self,
        item: &'static Item,
        level: usize,
        ancestors: &mut Vec<ObjectId>,
        named: Option<&Named<'_>>,
        depth: Option<usize>,
    ) -> Arc<[Column]> {
        let lean = depth.is_some();
        let named_of = |attr: &Attribute| named.and_then(|n| n.children.get(attr.name));
        let rule = |attr: &Attribute| lean && default_rule(item, attr, level);
        let mut admitted: Vec<bool> = item
            .attributes
            .iter()
            .map(|attr| {
                self.profiles.admits(attr.profile) && (rule(attr) || named_of(attr).is_some())
            })
            .collect();
        // Companions of what is admitted: an enum's caption (`type` of `type_id`) and a
        // timestamp's `_dt` text, as Security Lake's tables carry them side by side.
        if lean {
            for (index, attr) in item.attributes.iter().enumerate() {
                if !admitted.get(index).copied().unwrap_or(false) {
                    continue;
                }
                let dt = format!("{}_dt", attr.name);
                for companion in [attr.sibling, Some(dt.as_str())].into_iter().flatten() {
                    if let Some((at, other)) = item.attribute_entry(companion) {
                        if self.profiles.admits(other.profile) && other.deprecated.is_none() {
                            if let Some(slot) = admitted.get_mut(usize::from(at)) {
                                *slot = true;
                            }
                        }
                    }
                }
            }
        }
        let mut columns = Vec::new();
        for (attr, admitted) in item.attributes.iter().zip(admitted) {
            if !admitted {
                continue;
            }
            let named = named_of(attr);
            let by_rule = rule(attr);
            let Some(element) = self.element(
                attr,
                level,
                ancestors,
                named,
                depth.filter(|_| by_rule || named.is_none()),
            ) else {
                continue;
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
        if level > 0 {
            super::native::order_fields(item.name, &mut columns);
        }
        columns.into()
    }

    /// The element type of an admitted attribute; `None` when it cannot be a column here.
    /// `depth`: the default rule's depth limit when the rule admitted the attribute.
    fn element(
        &self,
        attr: &'static Attribute,
        level: usize,
        ancestors: &mut Vec<ObjectId>,
        named: Option<&Named<'_>>,
        depth: Option<usize>,
    ) -> Option<ColumnType> {
        match attr.ty {
            AttrType::Scalar(id) => Some(ColumnType::Scalar(self.scalar(id))),
            AttrType::Object(id) => {
                let object = self.schema.object(id)?;
                if object.is_open() {
                    return Some(if level == 0 && attr.name == UNMAPPED {
                        ColumnType::StringMap
                    } else {
                        ColumnType::Scalar(Scalar::Json)
                    });
                }
                if level + 1 > MAX_OBJECT_DEPTH {
                    return None;
                }
                let by_rule = depth.is_some_and(|d| level < d) && !ancestors.contains(&id);
                if !by_rule && named.is_none() {
                    return None;
                }
                // An object the class only allows (optional) keeps its own attributes, not
                // the objects below them.
                let child_depth =
                    if by_rule && level == 0 && attr.requirement == Requirement::Optional {
                        Some(2)
                    } else if by_rule {
                        depth
                    } else {
                        named.filter(|n| n.whole).map(|_| LEAN_OBJECT_DEPTH)
                    };
                ancestors.push(id);
                let fields = self.item_columns(object, level + 1, ancestors, named, child_depth);
                ancestors.pop();
                // `struct<>` is not a type: such an object is carried under `unmapped`.
                (!fields.is_empty()).then_some(ColumnType::Struct(fields))
            }
        }
    }

    fn scalar(&self, id: crate::schema::TypeId) -> Scalar {
        let mut current = self.schema.type_def(id);
        let base = current.map_or(BaseType::String, |t| t.base);
        while let Some(def) = current {
            if def.name == DATETIME_TYPE {
                return Scalar::Timestamp;
            }
            current = def.parent.and_then(|parent| self.schema.type_def(parent));
        }
        match base {
            BaseType::Boolean => Scalar::Boolean,
            BaseType::Integer => Scalar::Int,
            BaseType::Long => Scalar::Bigint,
            BaseType::Float => Scalar::Float,
            BaseType::String => Scalar::String,
            BaseType::Json => Scalar::Json,
        }
    }
}

/// The default rule for one attribute of `item` (recursion and depth are checked by the
/// caller): every attribute of the class; inside objects, what the object requires, recommends,
/// or names in a constraint (`at_least_one: [name, uid]`: a row needs one of them to validate),
/// and every attribute of the objects in [`WHOLE_OBJECTS`].
fn default_rule(item: &Item, attr: &Attribute, level: usize) -> bool {
    if attr.deprecated.is_some() {
        return false;
    }
    if level == 0 {
        return true;
    }
    attr.profile.is_none()
        && (matches!(
            attr.requirement,
            Requirement::Required | Requirement::Recommended
        ) || WHOLE_OBJECTS.contains(&item.name)
            || item
                .constraints
                .iter()
                .any(|c| c.paths.iter().any(|p| p.first() == Some(&attr.name))))
}

/// The attribute paths (`actor.user.name`, arrays stepped through) that `events` of class
/// `item` give a value to and that the schema defines under `profiles`, down to
/// [`MAX_OBJECT_DEPTH`] object levels: what `glue-schema --from-events` adds as columns. Leaves
/// only (an object's path is implied by its fields); values of open objects and `json_t` are
/// one leaf.
pub fn used_paths<'e>(
    schema: &'static Schema,
    uid: i64,
    events: impl IntoIterator<Item = &'e Value>,
) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let Some(class) = schema.class(uid) else {
        return out;
    };
    for event in events {
        if event.get("class_uid").and_then(Value::as_i64) != Some(uid) {
            continue;
        }
        if let Value::Object(map) = event {
            walk_used(schema, &class.item, map, 0, "", &mut out);
        }
    }
    out
}

fn walk_used(
    schema: &'static Schema,
    item: &'static Item,
    map: &serde_json::Map<String, Value>,
    level: usize,
    prefix: &str,
    out: &mut BTreeSet<String>,
) {
    for (key, value) in map {
        let Some(attr) = item.attribute(key) else {
            continue;
        };
        if value.is_null() {
            continue;
        }
        let path = if prefix.is_empty() {
            key.clone()
        } else {
            format!("{prefix}.{key}")
        };
        let object = match attr.ty {
            AttrType::Object(id) => schema.object(id).filter(|o| !o.is_open()),
            AttrType::Scalar(_) => None,
        };
        let Some(object) = object else {
            out.insert(path);
            continue;
        };
        if level + 1 > MAX_OBJECT_DEPTH {
            continue;
        }
        let items: Vec<&Value> = match value {
            Value::Array(items) => items.iter().collect(),
            other => vec![other],
        };
        for item_value in items {
            if let Value::Object(fields) = item_value {
                walk_used(schema, object, fields, level + 1, &path, out);
            }
        }
    }
}

//! Compiles an OCSF schema export (the legacy layout of the OCSF server's `/export/schema`, as
//! `ocsf-schema-compiler --legacy-mode` writes it) into the compact model of [`super::model`].
//!
//! Shared by `build.rs`, which compiles the vendored releases once at build time, and by
//! [`super::Schema::install_file`], which compiles a user's schema file (a release with their
//! own extension) at run time. Any shape it does not understand is an error, never a panic.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde_json::{Map, Value};

use super::model::*;

/// Why an export cannot be compiled: the first shape the model cannot hold, in words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CompileError(pub(crate) String);

impl fmt::Display for CompileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for CompileError {}

impl From<String> for CompileError {
    fn from(reason: String) -> Self {
        CompileError(reason)
    }
}

impl From<&str> for CompileError {
    fn from(reason: &str) -> Self {
        CompileError(reason.to_owned())
    }
}

impl From<std::num::TryFromIntError> for CompileError {
    fn from(e: std::num::TryFromIntError) -> Self {
        CompileError(format!("an index does not fit the model: {e}"))
    }
}

pub(crate) type CompileResult<T> = Result<T, CompileError>;

pub(crate) fn obj<'a>(v: &'a Value, what: &str) -> CompileResult<&'a Map<String, Value>> {
    v.as_object()
        .ok_or_else(|| format!("{what} is not an object").into())
}

pub(crate) fn string<'a>(v: &'a Value, key: &str) -> CompileResult<&'a str> {
    v.get(key)
        .and_then(Value::as_str)
        .ok_or_else(|| format!("missing string `{key}`").into())
}

fn opt_str<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key).and_then(Value::as_str)
}

fn deprecation(v: &Value) -> CompileResult<Option<Deprecation<'_>>> {
    match v.get("@deprecated") {
        None | Some(Value::Null) => Ok(None),
        Some(d) => Ok(Some(Deprecation {
            message: opt_str(d, "message").unwrap_or(""),
            since: opt_str(d, "since").unwrap_or(""),
        })),
    }
}

pub(crate) fn compile(raw: &Value) -> CompileResult<SchemaData<'_>> {
    let version = string(raw, "version")?;
    let types_raw = obj(&raw["types"], "types")?;
    let objects_raw = obj(&raw["objects"], "objects")?;
    let classes_raw = obj(&raw["classes"], "classes")?;

    // serde_json's default map is ordered, so every index below is deterministic.
    let type_ids: BTreeMap<&str, TypeId> = types_raw
        .keys()
        .enumerate()
        .map(|(i, k)| Ok((k.as_str(), TypeId::try_from(i)?)))
        .collect::<CompileResult<_>>()?;
    let object_ids: BTreeMap<&str, ObjectId> = objects_raw
        .keys()
        .enumerate()
        .map(|(i, k)| Ok((k.as_str(), ObjectId::try_from(i)?)))
        .collect::<CompileResult<_>>()?;

    let mut profile_names = BTreeSet::new();
    for item in objects_raw.values().chain(classes_raw.values()) {
        if let Some(list) = item.get("profiles").and_then(Value::as_array) {
            profile_names.extend(list.iter().filter_map(Value::as_str));
        }
        for attr in obj(&item["attributes"], "attributes")?.values() {
            profile_names.extend(opt_str(attr, "profile"));
        }
    }
    let profiles: Vec<&str> = profile_names.into_iter().collect();
    let extensions: BTreeSet<&str> = classes_raw
        .keys()
        .chain(objects_raw.keys())
        .map(String::as_str)
        .chain(profiles.iter().copied())
        .filter_map(|name| name.split_once('/').map(|(extension, _)| extension))
        .collect();
    if profiles.len() > 64 {
        return Err("more than 64 profiles: the runtime profile set is a u64 bitset".into());
    }
    let ctx = Ctx {
        type_ids: &type_ids,
        object_ids: &object_ids,
        types_raw,
        profiles: &profiles,
    };

    let types = types_raw
        .iter()
        .map(|(name, t)| ctx.type_data(name, t))
        .collect::<CompileResult<Vec<_>>>()?;
    let objects = objects_raw
        .iter()
        .map(|(name, o)| ctx.item(name, o))
        .collect::<CompileResult<Vec<_>>>()?;
    let mut classes = classes_raw
        .iter()
        .map(|(name, c)| {
            Ok(ClassData {
                uid: c["uid"].as_i64().ok_or("class without integer uid")?,
                category_uid: c["category_uid"].as_i64().unwrap_or(0),
                category_name: opt_str(c, "category_name").unwrap_or(""),
                profiles: c
                    .get("profiles")
                    .and_then(Value::as_array)
                    .map(|l| {
                        l.iter()
                            .filter_map(Value::as_str)
                            .map(|p| ctx.profile(p))
                            .collect()
                    })
                    .transpose()?
                    .unwrap_or_default(),
                item: ctx.item(name, c)?,
            })
        })
        .collect::<CompileResult<Vec<_>>>()?;
    classes.sort_by_key(|c| c.uid);
    if classes.windows(2).any(|w| w[0].uid == w[1].uid) {
        return Err("duplicate class uid".into());
    }
    Ok(SchemaData {
        version,
        types,
        objects,
        classes,
        profiles,
        extensions: extensions.into_iter().collect(),
    })
}

struct Ctx<'r, 'a> {
    type_ids: &'r BTreeMap<&'a str, TypeId>,
    object_ids: &'r BTreeMap<&'a str, ObjectId>,
    types_raw: &'a Map<String, Value>,
    profiles: &'r [&'a str],
}

impl<'a> Ctx<'_, 'a> {
    fn profile(&self, name: &str) -> CompileResult<ProfileId> {
        let index = self
            .profiles
            .binary_search(&name)
            .map_err(|_| format!("unknown profile {name}"))?;
        Ok(ProfileId::try_from(index)?)
    }

    fn base_type(&self, name: &str) -> CompileResult<BaseType> {
        Ok(match name {
            "boolean_t" => BaseType::Boolean,
            "integer_t" => BaseType::Integer,
            "long_t" => BaseType::Long,
            "float_t" => BaseType::Float,
            "string_t" => BaseType::String,
            "json_t" => BaseType::Json,
            // 1.0.0-rc.2 lists `object_t` among its types, and gives `bytestring_t` and
            // `uuid_t` no base; later releases derive both from `string_t`.
            "object_t" => BaseType::Json,
            "bytestring_t" | "uuid_t"
                if self
                    .types_raw
                    .get(name)
                    .is_some_and(|t| opt_str(t, "type").is_none()) =>
            {
                BaseType::String
            }
            other => {
                let parent = self.types_raw.get(other).ok_or("unknown type")?;
                let parent_name = opt_str(parent, "type")
                    .ok_or_else(|| format!("type {other} has no primitive base"))?;
                self.base_type(parent_name)?
            }
        })
    }

    fn type_data(&self, name: &'a str, t: &'a Value) -> CompileResult<TypeData<'a>> {
        let parent = opt_str(t, "type")
            .map(|p| self.type_ids.get(p).copied().ok_or("unknown parent type"))
            .transpose()?;
        let range = match t.get("range").and_then(Value::as_array) {
            Some(r) if r.len() == 2 => Some((
                r[0].as_f64().ok_or("bad range")?,
                r[1].as_f64().ok_or("bad range")?,
            )),
            Some(_) => return Err(format!("type {name}: range is not [low, high]").into()),
            None => None,
        };
        let values = t
            .get("values")
            .and_then(Value::as_array)
            .map(|vs| {
                vs.iter()
                    .map(|v| {
                        Ok(match v {
                            Value::Bool(b) => TypeValue::Bool(*b),
                            Value::String(s) => TypeValue::Str(s),
                            Value::Number(n) => match n.as_i64() {
                                Some(i) => TypeValue::Int(i),
                                None => TypeValue::Float(n.as_f64().ok_or("bad number")?),
                            },
                            _ => return Err(format!("type {name}: unsupported value")),
                        })
                    })
                    .collect::<Result<Vec<_>, String>>()
            })
            .transpose()?;
        Ok(TypeData {
            name,
            base: self.base_type(name)?,
            parent,
            regex: opt_str(t, "regex"),
            max_len: t.get("max_len").and_then(Value::as_u64),
            range,
            values,
        })
    }

    fn item(&self, name: &'a str, item: &'a Value) -> CompileResult<ItemData<'a>> {
        let attrs_raw = obj(&item["attributes"], "attributes")?;
        let mut attributes = attrs_raw
            .iter()
            .map(|(n, a)| {
                self.attribute(n, a)
                    .map_err(|e| format!("{name}.{n}: {e}").into())
            })
            .collect::<CompileResult<Vec<_>>>()?;
        attributes.sort_by(|a, b| a.name.cmp(b.name));
        let positions = |keep: &dyn Fn(&AttributeData<'_>) -> bool| {
            attributes
                .iter()
                .enumerate()
                .filter(|(_, a)| keep(a))
                .map(|(i, _)| u16::try_from(i))
                .collect::<Result<Vec<_>, _>>()
        };
        let required = positions(&|a| a.requirement == Requirement::Required)?;
        let recommended = positions(&|a| a.requirement == Requirement::Recommended)?;
        let captioned_enums = positions(&|a| a.enum_values.is_some() && a.sibling.is_some())?;
        let names: Vec<&str> = attributes.iter().map(|a| a.name).collect();
        if names.len() > 128 {
            return Err(format!(
                "{name}: more than 128 attributes (normalization keeps a 128-bit presence set)"
            )
            .into());
        }
        for attr in &mut attributes {
            attr.sibling_index = attr
                .sibling
                .and_then(|s| names.iter().position(|n| *n == s))
                .map(u16::try_from)
                .transpose()?;
        }
        let renames = attributes
            .iter()
            .map(|attr| {
                replacement(attr, &attributes)
                    .map(u16::try_from)
                    .transpose()
            })
            .collect::<Result<Vec<_>, _>>()?;
        for (attr, renamed_to) in attributes.iter_mut().zip(renames) {
            attr.renamed_to = renamed_to;
        }
        let lookup = hash_table(&names)?;
        let mut constraints = Vec::new();
        if let Some(c) = item.get("constraints") {
            for (kind, list) in obj(c, "constraints")? {
                let kind = match kind.as_str() {
                    "at_least_one" => ConstraintKind::AtLeastOne,
                    "just_one" => ConstraintKind::JustOne,
                    other => return Err(format!("{name}: unsupported constraint {other}").into()),
                };
                let paths = list
                    .as_array()
                    .ok_or("constraint is not a list")?
                    .iter()
                    .map(|p| Ok(p.as_str().ok_or("constraint entry")?.split('.').collect()))
                    .collect::<CompileResult<Vec<_>>>()?;
                constraints.push(Constraint { kind, paths });
            }
        }
        Ok(ItemData {
            name,
            caption: opt_str(item, "caption").unwrap_or(name),
            attributes,
            lookup,
            required,
            recommended,
            captioned_enums,
            constraints,
            deprecated: deprecation(item)?,
        })
    }

    fn attribute(&self, name: &'a str, a: &'a Value) -> CompileResult<AttributeData<'a>> {
        let type_name = string(a, "type")?;
        let ty = if type_name == "object_t" {
            let object = string(a, "object_type")?;
            AttrType::Object(*self.object_ids.get(object).ok_or("unknown object type")?)
        } else {
            AttrType::Scalar(*self.type_ids.get(type_name).ok_or("unknown type")?)
        };
        let requirement = match opt_str(a, "requirement") {
            Some("required") => Requirement::Required,
            Some("recommended") => Requirement::Recommended,
            _ => Requirement::Optional,
        };
        let integer_enum = match ty {
            AttrType::Scalar(_) => matches!(
                self.base_type(type_name)?,
                BaseType::Integer | BaseType::Long
            ),
            AttrType::Object(_) => false,
        };
        let enum_values = a
            .get("enum")
            .map(|e| {
                let mut values = obj(e, "enum")?
                    .iter()
                    .map(|(k, v)| {
                        let key = if integer_enum {
                            EnumKey::Int(k.parse().map_err(|_| "non-integer enum key")?)
                        } else {
                            EnumKey::Str(k)
                        };
                        Ok(EnumValue {
                            key,
                            caption: opt_str(v, "caption").unwrap_or(k),
                            deprecated: deprecation(v)?,
                        })
                    })
                    .collect::<CompileResult<Vec<_>>>()?;
                values.sort_by(|x, y| x.key.cmp(&y.key));
                CompileResult::Ok(values)
            })
            .transpose()?;
        Ok(AttributeData {
            name,
            requirement,
            ty,
            is_array: a.get("is_array").and_then(Value::as_bool).unwrap_or(false),
            enum_values,
            sibling: opt_str(a, "sibling"),
            sibling_index: None,
            profile: opt_str(a, "profile").map(|p| self.profile(p)).transpose()?,
            deprecated: deprecation(a)?,
            renamed_to: None,
        })
    }
}

/// The replacement a deprecation message names in the same item ("Use the <code>X</code>
/// attribute instead", "Use X instead", "deprecated in favor of X"), when it is another
/// attribute of that item with the same type and arity.
fn replacement(attr: &AttributeData<'_>, attributes: &[AttributeData<'_>]) -> Option<usize> {
    let message = attr.deprecated.as_ref()?.message;
    let mut text = String::new();
    let mut in_tag = false;
    for c in message.chars() {
        match c {
            '<' => in_tag = true,
            '>' => {
                in_tag = false;
                text.push(' ');
            }
            c if !in_tag => text.push(c),
            _ => {}
        }
    }
    let words: Vec<&str> = text
        .split(|c: char| c.is_whitespace() || c == ',')
        .map(|w| w.trim_end_matches('.'))
        .filter(|w| !w.is_empty())
        .collect();
    let own = attributes.iter().position(|a| a.name == attr.name)?;
    let index = words
        .windows(2)
        .filter(|w| matches!(w[0], "Use" | "use" | "the" | "of"))
        .find_map(|w| {
            attributes
                .iter()
                .position(|a| a.name == w[1])
                .filter(|i| *i != own)
        })?;
    let target = attributes.get(index)?;
    (target.ty == attr.ty && target.is_array == attr.is_array).then_some(index)
}

/// The open-addressing table of [`ItemData::lookup`]: at most half full, linear probing.
fn hash_table(names: &[&str]) -> CompileResult<Vec<u16>> {
    let size = (names.len() * 2).next_power_of_two().max(1);
    let mut table = vec![EMPTY_SLOT; size];
    let mask = size - 1;
    for (index, name) in names.iter().enumerate() {
        let mut slot = name_hash(name) as usize & mask;
        while table[slot] != EMPTY_SLOT {
            slot = (slot + 1) & mask;
        }
        table[slot] = u16::try_from(index)?;
    }
    Ok(table)
}

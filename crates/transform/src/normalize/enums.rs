//! Enum ids and their caption siblings, in both directions: a caption from a defined id (filled
//! when absent, rewritten when it names another value), an id from a caption (ASCII
//! case-insensitive), 99 (Other) for a caption that names no value.

use serde_json::{Map, Value};

use super::ActionKind;
use crate::schema::{Attribute, EnumKey, Item, ProfileSet};
use crate::validate::{is_absent, OTHER};

fn is_integer_enum(attr: &Attribute) -> bool {
    attr.enum_values
        .as_deref()
        .and_then(|values| values.first())
        .is_some_and(|v| matches!(v.key, EnumKey::Int(_)))
}

/// Whether `item.<name>` is an enum defining `value`.
pub(super) fn is_defined(item: &Item, name: &str, value: i64) -> bool {
    item.attribute(name)
        .and_then(|a| a.enum_value(&EnumKey::Int(value)))
        .is_some()
}

/// The id of a caption: the defined value, else 99 (Other) when the enum has it.
fn id_of(attr: &Attribute, caption: &str) -> Option<(i64, bool)> {
    match attr.enum_value_by_caption(caption).map(|v| &v.key) {
        Some(EnumKey::Int(id)) => Some((*id, false)),
        Some(EnumKey::Str(_)) => None,
        None => attr.enum_value(&EnumKey::Int(OTHER)).map(|_| (OTHER, true)),
    }
}

/// Fills the id `attr` from its caption sibling when the id is absent.
pub(super) fn fill_id(map: &mut Map<String, Value>, attr: &Attribute) -> Option<ActionKind> {
    let sibling = attr.sibling?;
    if !is_absent(map.get(attr.name)) || !is_integer_enum(attr) {
        return None;
    }
    let (id, other) = match map.get(sibling)? {
        Value::String(caption) if !attr.is_array => {
            let (id, other) = id_of(attr, caption)?;
            (Value::from(id), other)
        }
        Value::Array(captions) if attr.is_array && !captions.is_empty() => {
            let mut any_other = false;
            let ids = captions
                .iter()
                .map(|c| {
                    let (id, other) = id_of(attr, c.as_str()?)?;
                    any_other |= other;
                    Some(Value::from(id))
                })
                .collect::<Option<Vec<_>>>()?;
            (Value::Array(ids), any_other)
        }
        _ => return None,
    };
    map.insert(attr.name.to_owned(), id);
    Some(if other {
        ActionKind::OtherFromCaption
    } else {
        ActionKind::IdFromCaption
    })
}

/// The caption of a defined id other than 99.
fn caption_of(attr: &Attribute, id: &Value) -> Option<&'static str> {
    let value = attr.enum_value(&EnumKey::Int(id.as_i64()?))?;
    (value.key != EnumKey::Int(OTHER)).then_some(value.caption)
}

/// Fills the caption sibling of `attr` when it is absent and the id is defined (and not 99,
/// whose caption must come from the source). Returns the sibling's name.
pub(super) fn fill_caption(
    map: &mut Map<String, Value>,
    item: &Item,
    attr: &Attribute,
    profiles: ProfileSet,
) -> Option<&'static str> {
    let sibling = attr.sibling?;
    let sibling_attr = item
        .attribute(sibling)
        .filter(|a| profiles.admits(a.profile))?;
    if !is_absent(map.get(sibling)) || sibling_attr.is_array != attr.is_array {
        return None;
    }
    let caption = match map.get(attr.name)? {
        Value::Array(ids) if attr.is_array && !ids.is_empty() => Value::Array(
            ids.iter()
                .map(|id| caption_of(attr, id).map(Value::from))
                .collect::<Option<Vec<_>>>()?,
        ),
        id if !attr.is_array => Value::from(caption_of(attr, id)?),
        _ => return None,
    };
    map.insert(sibling.to_owned(), caption);
    Some(sibling)
}

/// Rewrites the caption sibling of `attr` when it is present and is not the caption of the
/// defined id (ids of 99 keep the source's own caption, element by element in enum arrays): the
/// id is what the event means, the caption derives from it. Returns the sibling's name and the
/// caption as it was.
pub(super) fn rewrite_caption(
    map: &mut Map<String, Value>,
    item: &Item,
    attr: &Attribute,
    profiles: ProfileSet,
) -> Option<(&'static str, Value)> {
    let sibling = attr.sibling?;
    let sibling_attr = item
        .attribute(sibling)
        .filter(|a| profiles.admits(a.profile))?;
    if sibling_attr.is_array != attr.is_array {
        return None;
    }
    let current = map.get(sibling)?;
    let rewritten = match (map.get(attr.name)?, current) {
        (Value::Array(ids), Value::Array(captions))
            if attr.is_array && ids.len() == captions.len() =>
        {
            let mut changed = false;
            let mut out = Vec::with_capacity(ids.len());
            for (id, caption) in ids.iter().zip(captions) {
                match caption_of(attr, id) {
                    Some(defined) if caption.as_str() != Some(defined) => {
                        changed = true;
                        out.push(Value::from(defined));
                    }
                    _ => out.push(caption.clone()),
                }
            }
            changed.then_some(Value::Array(out))?
        }
        (id, Value::String(caption)) if !attr.is_array => {
            let defined = caption_of(attr, id)?;
            (caption != defined).then(|| Value::from(defined))?
        }
        _ => return None,
    };
    let before = map.insert(sibling.to_owned(), rewritten)?;
    Some((sibling, before))
}

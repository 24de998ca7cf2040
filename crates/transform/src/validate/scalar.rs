//! Scalar values: the JSON type of the OCSF base type, then the type's (or else its super
//! type's) `range`, `max_len`, `regex` and `values`.

use serde_json::Value;

use super::{json_type, Report};
use crate::finding::Code;
use crate::path::JsonPath;
use crate::schema::{BaseType, Schema, TypeDef, TypeId, TypeValue};

/// Checks `value` against `ty`. Returns `false` when the JSON type is wrong (nothing else is
/// then checked, and the caller skips enum checks).
pub(super) fn check(
    schema: &Schema,
    ty: &TypeDef,
    type_id: TypeId,
    value: &Value,
    path: &JsonPath<'_>,
    report: &mut Report<'_>,
) -> bool {
    let type_ok = match ty.base {
        BaseType::Json => return true,
        BaseType::Boolean => value.is_boolean(),
        BaseType::Integer => value.as_i64().is_some(),
        BaseType::Long => value.as_i64().is_some() || value.as_u64().is_some(),
        BaseType::Float => value.is_number(),
        BaseType::String => value.is_string(),
    };
    let parent = ty.parent.and_then(|id| Some((id, schema.type_def(id)?)));
    if !type_ok {
        let expected = match parent {
            Some((_, p)) => format!("{} ({})", ty.name, p.name),
            None => ty.name.to_owned(),
        };
        report.add(Code::AttributeWrongType, path.to_string(), |p| {
            format!(
                "Attribute \"{p}\" value has wrong type; expected {expected}, got {}.",
                json_type(value)
            )
        });
        return false;
    }
    if let Some(number) = value.as_f64() {
        check_range(ty, parent.map(|(_, p)| p), number, path, report);
    }
    if let Some(text) = value.as_str() {
        check_max_len(ty, parent.map(|(_, p)| p), text, path, report);
        check_regex(schema, ty, type_id, parent, text, path, report);
    }
    check_values(ty, parent.map(|(_, p)| p), value, path, report);
    true
}

fn check_range(
    ty: &TypeDef,
    parent: Option<&TypeDef>,
    number: f64,
    path: &JsonPath<'_>,
    report: &mut Report<'_>,
) {
    let (code, owner, (low, high)) = match (ty.range, parent.and_then(|p| p.range.map(|r| (p, r))))
    {
        (Some(range), _) => (Code::AttributeValueExceedsRange, ty, range),
        (None, Some((p, range))) => (Code::AttributeValueExceedsSuperTypeRange, p, range),
        (None, None) => return,
    };
    if number < low || number > high {
        report.add(code, path.to_string(), |p| {
            format!(
                "Attribute \"{p}\" value is outside type \"{}\" range of {low} to {high}.",
                owner.name
            )
        });
    }
}

fn check_max_len(
    ty: &TypeDef,
    parent: Option<&TypeDef>,
    text: &str,
    path: &JsonPath<'_>,
    report: &mut Report<'_>,
) {
    let (code, owner, max_len) = match (ty.max_len, parent.and_then(|p| p.max_len.map(|m| (p, m))))
    {
        (Some(max), _) => (Code::AttributeValueExceedsMaxLen, ty, max),
        (None, Some((p, max))) => (Code::AttributeValueExceedsSuperTypeMaxLen, p, max),
        (None, None) => return,
    };
    // A string never has more code points than bytes: count only when it could matter.
    if text.len() as u64 <= max_len {
        return;
    }
    let length = text.chars().count() as u64;
    if length > max_len {
        report.add(code, path.to_string(), |p| {
            format!(
                "Attribute \"{p}\" value length of {length} exceeds type \"{}\" max length {max_len}.",
                owner.name
            )
        });
    }
}

fn check_regex(
    schema: &Schema,
    ty: &TypeDef,
    type_id: TypeId,
    parent: Option<(TypeId, &TypeDef)>,
    text: &str,
    path: &JsonPath<'_>,
    report: &mut Report<'_>,
) {
    let (code, owner, id) = match (ty.regex, parent.filter(|(_, p)| p.regex.is_some())) {
        (Some(_), _) => (Code::AttributeValueRegexNotMatched, ty, type_id),
        (None, Some((id, p))) => (Code::AttributeValueSuperTypeRegexNotMatched, p, id),
        (None, None) => return,
    };
    if !report.wants(code) {
        return;
    }
    if let Some(regex) = schema.regex(id) {
        if !regex.is_match(text) {
            report.add(code, path.to_string(), |p| {
                format!(
                    "Attribute \"{p}\" value does not match the regex of type \"{}\".",
                    owner.name
                )
            });
        }
    }
}

fn check_values(
    ty: &TypeDef,
    parent: Option<&TypeDef>,
    value: &Value,
    path: &JsonPath<'_>,
    report: &mut Report<'_>,
) {
    let (code, owner, values) = match (
        &ty.values,
        parent.and_then(|p| p.values.as_ref().map(|v| (p, v))),
    ) {
        (Some(values), _) => (Code::AttributeValueNotInTypeValues, ty, values),
        (None, Some((p, values))) => (Code::AttributeValueNotInSuperTypeValues, p, values),
        (None, None) => return,
    };
    if !values.iter().any(|allowed| matches(allowed, value)) {
        report.add(code, path.to_string(), |p| {
            format!(
                "Attribute \"{p}\" value is not in type \"{}\" list of allowed values.",
                owner.name
            )
        });
    }
}

fn matches(allowed: &TypeValue<'_>, value: &Value) -> bool {
    match allowed {
        TypeValue::Bool(b) => value.as_bool() == Some(*b),
        TypeValue::Int(i) => value.as_i64() == Some(*i),
        TypeValue::Float(f) => value.as_f64() == Some(*f),
        TypeValue::Str(s) => value.as_str() == Some(*s),
    }
}

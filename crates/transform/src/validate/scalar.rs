//! Scalar values: the JSON type of the OCSF base type, then the type's (or else its super
//! type's) `range`, `max_len`, `regex` and `values`.

use serde_json::Value;

use super::{json_type, Report};
use crate::finding::Code;
use crate::path::JsonPath;
use crate::schema::{BaseType, Schema, TypeDef, TypeId, TypeValue};

/// A type together with its super type, for constraints the OCSF server looks up on the type
/// first and on the super type second (with `…_super_type_…` codes).
struct Typed<'t> {
    ty: (TypeId, &'t TypeDef),
    parent: Option<(TypeId, &'t TypeDef)>,
}

impl<'t> Typed<'t> {
    /// The constraint `get` extracts, from the type or else the super type, with the code to
    /// report it under (`own` or `inherited`) and the type that defines it.
    fn constraint<T>(
        &self,
        get: impl Fn(&'t TypeDef) -> Option<T>,
        own: Code,
        inherited: Code,
    ) -> Option<(Code, TypeId, &'t TypeDef, T)> {
        let (id, ty) = self.ty;
        if let Some(found) = get(ty) {
            return Some((own, id, ty, found));
        }
        let (parent_id, parent) = self.parent?;
        get(parent).map(|found| (inherited, parent_id, parent, found))
    }
}

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
    let typed = Typed {
        ty: (type_id, ty),
        parent: ty.parent.and_then(|id| Some((id, schema.type_def(id)?))),
    };
    if !type_ok {
        let expected = match typed.parent {
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
        check_range(&typed, number, path, report);
    }
    if let Some(text) = value.as_str() {
        check_max_len(&typed, text, path, report);
        check_regex(schema, &typed, text, path, report);
    }
    check_values(&typed, value, path, report);
    true
}

fn check_range(typed: &Typed<'_>, number: f64, path: &JsonPath<'_>, report: &mut Report<'_>) {
    let Some((code, _, owner, (low, high))) = typed.constraint(
        |t| t.range,
        Code::AttributeValueExceedsRange,
        Code::AttributeValueExceedsSuperTypeRange,
    ) else {
        return;
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

fn check_max_len(typed: &Typed<'_>, text: &str, path: &JsonPath<'_>, report: &mut Report<'_>) {
    let Some((code, _, owner, max_len)) = typed.constraint(
        |t| t.max_len,
        Code::AttributeValueExceedsMaxLen,
        Code::AttributeValueExceedsSuperTypeMaxLen,
    ) else {
        return;
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
    typed: &Typed<'_>,
    text: &str,
    path: &JsonPath<'_>,
    report: &mut Report<'_>,
) {
    let Some((code, id, owner, _)) = typed.constraint(
        |t| t.regex,
        Code::AttributeValueRegexNotMatched,
        Code::AttributeValueSuperTypeRegexNotMatched,
    ) else {
        return;
    };
    if !report.wants(code) {
        return;
    }
    if schema.regex_matches(id, text) == Some(false) {
        report.add(code, path.to_string(), |p| {
            format!(
                "Attribute \"{p}\" value does not match the regex of type \"{}\".",
                owner.name
            )
        });
    }
}

fn check_values(typed: &Typed<'_>, value: &Value, path: &JsonPath<'_>, report: &mut Report<'_>) {
    let Some((code, _, owner, values)) = typed.constraint(
        |t| t.values.as_deref(),
        Code::AttributeValueNotInTypeValues,
        Code::AttributeValueNotInSuperTypeValues,
    ) else {
        return;
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

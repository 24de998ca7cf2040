//! What a value must look like to stay in place in the target: its shape, and the requirements
//! and constraints the target adds.

use serde_json::{Map, Value};

use crate::schema::{AttrType, Attribute, BaseType, Item, ProfileSet, Requirement, Schema};
use crate::validate::{constraint_met, is_absent};

/// Whether `map` meets what `target` asks for and `source` did not: each constraint the source
/// lacks, and each required attribute (of the active profiles) the source did not require.
pub(super) fn new_requirements_met(
    map: &Map<String, Value>,
    source: Option<&Item>,
    target: &Item,
    profiles: ProfileSet,
) -> bool {
    let Some(source) = source else {
        return true;
    };
    let constraints = target
        .constraints
        .iter()
        .filter(|c| {
            !source
                .constraints
                .iter()
                .any(|s| s.kind == c.kind && s.paths == c.paths)
        })
        .all(|c| constraint_met(map, c).0);
    let required = target.required().all(|attr| {
        let was_required = source
            .attribute(attr.name)
            .is_some_and(|s| s.requirement == Requirement::Required);
        was_required || !profiles.admits(attr.profile) || !is_absent(map.get(attr.name))
    });
    constraints && required
}

/// Whether `value` has the shape `attr` of `schema` asks for: object or scalar, array or not,
/// and a JSON type of its base type (null fits anything).
pub(super) fn fits(schema: &Schema, value: Option<&Value>, attr: &Attribute) -> bool {
    let base = match attr.ty {
        AttrType::Object(_) => None,
        AttrType::Scalar(id) => schema.type_def(id).map(|t| t.base),
    };
    let one = |value: &Value| match (attr.ty, base, value) {
        (_, _, Value::Null) => true,
        (AttrType::Object(_), _, value) => value.is_object(),
        (_, Some(BaseType::Json) | None, _) => true,
        (_, Some(BaseType::Boolean), value) => value.is_boolean(),
        (_, Some(BaseType::Integer | BaseType::Long), value) => value.is_i64() || value.is_u64(),
        (_, Some(BaseType::Float), value) => value.is_number(),
        (_, Some(BaseType::String), value) => value.is_string(),
    };
    match value {
        None | Some(Value::Null) => true,
        Some(Value::Array(items)) if attr.is_array => items.iter().all(one),
        Some(Value::Array(_)) => base == Some(BaseType::Json),
        Some(_) if attr.is_array => false,
        Some(value) => one(value),
    }
}

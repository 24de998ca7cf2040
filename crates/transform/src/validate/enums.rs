//! Enums: the value must be defined; its caption sibling should match (`activity_id` →
//! `activity_name`); 99 (Other) keeps the source's own caption; deprecated values warn.

use serde_json::{Map, Value};

use super::Report;
use crate::finding::Code;
use crate::path::JsonPath;
use crate::schema::{Attribute, EnumKey, EnumValue};

/// The enum value that stands for "Other: see the sibling caption".
pub const OTHER: i64 = 99;

/// The enum value that stands for "Unknown".
pub const UNKNOWN: i64 = 0;

/// The enum key a JSON value denotes, if it can denote one.
pub fn enum_key(value: &Value) -> Option<EnumKey<'_>> {
    match value {
        Value::Number(n) => n.as_i64().map(EnumKey::Int),
        Value::String(s) => Some(EnumKey::Str(s)),
        _ => None,
    }
}

/// Checks one enum value (`index` is `Some` for an element of an enum array); `path` points at
/// the value and `parent` is the object holding the attribute and its sibling.
pub(super) fn check(
    parent: &Map<String, Value>,
    value: &Value,
    attr: &Attribute,
    index: Option<usize>,
    path: &JsonPath<'_>,
    report: &mut Report<'_>,
) {
    let Some(defined) = enum_key(value).and_then(|key| attr.enum_value(&key)) else {
        let code = match index {
            Some(_) => Code::AttributeEnumArrayValueUnknown,
            None => Code::AttributeEnumValueUnknown,
        };
        report.add(code, path.to_string(), |p| {
            format!(
                "Unknown enum value at \"{p}\"; the value is not defined for enum \"{}\".",
                attr.name
            )
        });
        return;
    };
    if let Some(sibling) = attr.sibling {
        match index {
            None => check_sibling(parent.get(sibling), defined, sibling, path, report),
            Some(i) => check_array_sibling(parent.get(sibling), defined, i, sibling, path, report),
        }
    }
    if let Some(deprecated) = &defined.deprecated {
        let code = match index {
            Some(_) => Code::AttributeEnumArrayValueDeprecated,
            None => Code::AttributeEnumValueDeprecated,
        };
        report.add(code, path.to_string(), |p| {
            format!(
                "Deprecated enum value at \"{p}\" (\"{}\") since {}. {}",
                defined.caption, deprecated.since, deprecated.message
            )
        });
    }
}

fn check_sibling(
    sibling_value: Option<&Value>,
    defined: &EnumValue,
    sibling: &str,
    path: &JsonPath<'_>,
    report: &mut Report<'_>,
) {
    let Some(sibling_value) = sibling_value.filter(|v| !v.is_null()) else {
        return;
    };
    let matches = sibling_value.as_str() == Some(defined.caption);
    if defined.key == EnumKey::Int(OTHER) {
        if matches {
            report.add(Code::AttributeEnumSiblingSuspiciousOther, path.render_sibling(sibling), |p| {
                format!(
                    "Attribute \"{p}\" is the literal caption \"{}\" of value 99; for 99 it should carry the source's own value.",
                    defined.caption
                )
            });
        }
    } else if !matches {
        report.add(
            Code::AttributeEnumSiblingIncorrect,
            path.render_sibling(sibling),
            |p| {
                format!(
                "Attribute \"{p}\" does not match the caption of enum \"{path}\"; expected \"{}\".",
                defined.caption
            )
            },
        );
    }
}

fn check_array_sibling(
    sibling_value: Option<&Value>,
    defined: &EnumValue,
    index: usize,
    sibling: &str,
    path: &JsonPath<'_>,
    report: &mut Report<'_>,
) {
    if defined.key == EnumKey::Int(OTHER) {
        return;
    }
    let Some(siblings) = sibling_value.and_then(Value::as_array) else {
        return;
    };
    match siblings.get(index).filter(|v| !v.is_null()) {
        None => report.add(Code::AttributeEnumArraySiblingMissing, path.render_sibling(sibling), |p| {
            format!(
                "Attribute \"{p}\" is missing (the array is too short) for enum array \"{path}\"; expected \"{}\".",
                defined.caption
            )
        }),
        Some(v) if v.as_str() != Some(defined.caption) => {
            report.add(Code::AttributeEnumArraySiblingIncorrect, path.render_sibling(sibling), |p| {
                format!(
                    "Attribute \"{p}\" does not match the caption of enum array \"{path}\"; expected \"{}\".",
                    defined.caption
                )
            })
        }
        Some(_) => {}
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::finding::SeverityPolicy;
    use crate::schema::{AttrType, Deprecation, Requirement};

    /// No enum value of the embedded schemas is deprecated, so the rule is checked on a
    /// hand-made attribute.
    #[test]
    fn deprecated_enum_values_warn() {
        let deprecated = Some(Deprecation {
            message: "Use 2.",
            since: "1.1.0",
        });
        let attr = Attribute {
            name: "kind_id",
            requirement: Requirement::Optional,
            ty: AttrType::Scalar(0),
            is_array: false,
            enum_values: Some(vec![
                EnumValue {
                    key: EnumKey::Int(1),
                    caption: "Old",
                    deprecated,
                },
                EnumValue {
                    key: EnumKey::Int(2),
                    caption: "New",
                    deprecated: None,
                },
            ]),
            sibling: Some("kind"),
            sibling_index: None,
            profile: None,
            deprecated: None,
            renamed_to: None,
        };
        let policy = SeverityPolicy::default();
        let parent = json!({"kind_id": 1, "kind": "Old"});
        let parent = parent.as_object().unwrap();
        let mut path = JsonPath::default();
        path.push_key("kind_id");
        let mut report = Report::new(&policy);
        check(parent, &json!(1), &attr, None, &path, &mut report);
        check(parent, &json!(2), &attr, None, &path, &mut report);
        path.push_index(0);
        check(parent, &json!(1), &attr, Some(0), &path, &mut report);
        let codes: Vec<Code> = report.into_findings().into_iter().map(|f| f.code).collect();
        assert_eq!(
            codes,
            [
                Code::AttributeEnumValueDeprecated,
                Code::AttributeEnumSiblingIncorrect,
                Code::AttributeEnumArrayValueDeprecated
            ]
        );
    }
}

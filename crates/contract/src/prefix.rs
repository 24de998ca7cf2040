//! The S3 prefixes of a Security Lake custom source and their evaluation: the templates the
//! infrastructure configures (`sourceLocationTemplate`, `partitionTemplate` and
//! `errorPrefixTemplate` of `infra/defaults.json`, checked by a test) and an evaluator of
//! Firehose's prefix expressions, from which the local pipeline builds its object paths, so that
//! the local layout cannot drift from the deployed one.
//! (<https://docs.aws.amazon.com/firehose/latest/dev/s3-prefixes.html>,
//! <https://docs.aws.amazon.com/security-lake/latest/userguide/custom-sources.html>)

use time::OffsetDateTime;

use crate::limits::MAX_SOURCE_NAME_LEN;
use crate::partition::PartitionKeys;

/// The literal of [`SOURCE_LOCATION_TEMPLATE`], for `concat!`.
macro_rules! source_location_template {
    () => {
        "ext/{source}/"
    };
}

/// The literal of [`PARTITION_TEMPLATE`], for `concat!`.
macro_rules! partition_template {
    () => {
        "region=!{partitionKeyFromLambda:region}/accountId=!{partitionKeyFromLambda:accountId}/eventDay=!{partitionKeyFromLambda:eventDay}/"
    };
}

/// `ext/{source}/`: the key prefix Security Lake assigns a custom source (the path of the
/// `provider.location` that `CreateCustomLogSource` returns).
pub const SOURCE_LOCATION_TEMPLATE: &str = source_location_template!();
/// `region=…/accountId=…/eventDay=…/` below the source location, from the Lambda's partition keys.
pub const PARTITION_TEMPLATE: &str = partition_template!();
/// The whole data prefix: [`SOURCE_LOCATION_TEMPLATE`] then [`PARTITION_TEMPLATE`].
pub const PREFIX_TEMPLATE: &str = concat!(source_location_template!(), partition_template!());
/// The error prefix: outside `ext/`, so that Security Lake's crawler never reads error JSON.
pub const ERROR_PREFIX_TEMPLATE: &str =
    "errors/{source}/!{firehose:error-output-type}/!{timestamp:yyyy/MM/dd}/";

/// What the expressions of a template evaluate to for one object.
pub struct Values<'a> {
    /// `{source}`: the custom source name.
    pub source: &'a str,
    /// `!{partitionKeyFromLambda:<key>}`: the keys the Lambda returned.
    pub partition: Option<&'a PartitionKeys>,
    /// `!{firehose:error-output-type}`, for error prefixes.
    pub error_output_type: Option<&'a str>,
    /// `!{timestamp:<pattern>}`: Firehose uses the arrival time of the oldest record (UTC).
    pub timestamp: OffsetDateTime,
}

/// Expands `template` in one pass (a substituted value is never read as an expression). An
/// expression without a value stays as written, so that a mistake shows in the path.
pub fn expand(template: &str, values: &Values<'_>) -> String {
    let mut out = String::with_capacity(template.len() + 32);
    let mut rest = template;
    while let Some(start) = rest.find('{') {
        let bang = start > 0 && rest.as_bytes()[start - 1] == b'!';
        let Some(length) = rest[start..].find('}') else {
            break;
        };
        let expression = &rest[start + 1..start + length];
        let literal = &rest[..if bang { start - 1 } else { start }];
        out.push_str(literal);
        match value(expression, bang, values) {
            Some(value) => out.push_str(&value),
            None => out.push_str(&rest[literal.len()..=start + length]),
        }
        rest = &rest[start + length + 1..];
    }
    out.push_str(rest);
    out
}

fn value(expression: &str, bang: bool, values: &Values<'_>) -> Option<String> {
    if !bang {
        return (expression == "source").then(|| values.source.to_owned());
    }
    let (namespace, name) = expression.split_once(':')?;
    match namespace {
        "partitionKeyFromLambda" => values
            .partition
            .and_then(|keys| keys.get(name))
            .map(str::to_owned),
        "firehose" if name == "error-output-type" => values.error_output_type.map(str::to_owned),
        "timestamp" => Some(timestamp(name, values.timestamp)),
        _ => None,
    }
}

/// The `DateTimeFormatter` fields Firehose prefixes use (`yyyy`, `MM`, `dd`, `HH`); other
/// characters are copied.
fn timestamp(pattern: &str, at: OffsetDateTime) -> String {
    pattern
        .replace("yyyy", &format!("{:04}", at.year()))
        .replace("MM", &format!("{:02}", u8::from(at.month())))
        .replace("dd", &format!("{:02}", at.day()))
        .replace("HH", &format!("{:02}", at.hour()))
}

/// What the key of an error object says, read back through [`ERROR_PREFIX_TEMPLATE`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ErrorKey<'k> {
    /// The custom source (`{source}`).
    pub source: &'k str,
    /// `!{firehose:error-output-type}`: `processing-failed`, `format-conversion-failed`, …
    pub error_output_type: &'k str,
}

/// Reads the source and error output type of an object key written under
/// [`ERROR_PREFIX_TEMPLATE`]; `None` when the key does not follow it.
pub fn parse_error_key(key: &str) -> Option<ErrorKey<'_>> {
    let captured = captures(ERROR_PREFIX_TEMPLATE, key)?;
    let find = |name: &str| captured.iter().find(|(e, _)| *e == name).map(|(_, v)| *v);
    Some(ErrorKey {
        source: find("source")?,
        error_output_type: find("firehose:error-output-type")?,
    })
}

/// Matches the start of `key` against `template`, the inverse of [`expand`]: each expression
/// (`source`, `firehose:error-output-type`, …) captures the text up to the template's next
/// literal, a timestamp exactly as many characters as its pattern, digits only. Values are never
/// empty.
fn captures<'t, 'k>(template: &'t str, key: &'k str) -> Option<Vec<(&'t str, &'k str)>> {
    let mut captured = Vec::new();
    let (mut rest, mut at) = (template, key);
    loop {
        let Some(start) = rest.find('{') else {
            return at.starts_with(rest).then_some(captured);
        };
        let bang = start > 0 && rest.as_bytes()[start - 1] == b'!';
        let length = rest[start..].find('}')?;
        let expression = &rest[start + 1..start + length];
        let literal = &rest[..if bang { start - 1 } else { start }];
        at = at.strip_prefix(literal)?;
        rest = &rest[start + length + 1..];
        let value = match expression.strip_prefix("timestamp:") {
            Some(pattern) => {
                let value = at.get(..pattern.len())?;
                let digits_where_the_pattern_has_fields =
                    value.bytes().zip(pattern.bytes()).all(|(v, p)| {
                        if p.is_ascii_alphabetic() {
                            v.is_ascii_digit()
                        } else {
                            v == p
                        }
                    });
                digits_where_the_pattern_has_fields.then_some(value)?
            }
            None => {
                let next = rest.find(['{', '!']).map_or(rest, |end| &rest[..end]);
                let end = if next.is_empty() {
                    at.len()
                } else {
                    at.find(next)?
                };
                at.get(..end)
                    .filter(|v| !v.is_empty() && !v.contains('/'))?
            }
        };
        captured.push((expression, value));
        at = &at[value.len()..];
    }
}

/// A source name or key prefix given by an operator that cannot be used: it would leave the
/// bucket's (or folder's) layout, or Security Lake would refuse it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NameError {
    /// Not 1 to [`MAX_SOURCE_NAME_LEN`] letters, digits, `-` or `_`.
    #[error("source name `{0}`: 1-{MAX_SOURCE_NAME_LEN} letters, digits, - or _")]
    SourceName(String),
    /// A key prefix that is absolute, climbs out of its root or has an empty segment.
    #[error("key prefix `{prefix}`: {reason}")]
    KeyPrefix {
        /// The prefix as given.
        prefix: String,
        /// What is wrong with it.
        reason: &'static str,
    },
}

impl NameError {
    /// The machine-readable kind: `source_name_invalid` or `key_prefix_invalid`.
    pub fn code(&self) -> &'static str {
        match self {
            NameError::SourceName(_) => "source_name_invalid",
            NameError::KeyPrefix { .. } => "key_prefix_invalid",
        }
    }
}

/// Checks a custom source name (`{source}` of every template): 1 to [`MAX_SOURCE_NAME_LEN`]
/// ASCII letters, digits, `-` or `_`, so that it is one key segment and Security Lake's
/// provider role name fits.
pub fn check_source_name(name: &str) -> Result<(), NameError> {
    let valid = (1..=MAX_SOURCE_NAME_LEN).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    match valid {
        true => Ok(()),
        false => Err(NameError::SourceName(name.to_owned())),
    }
}

/// Checks a key prefix (or a template, or a prefix expanded from one) for use below a bucket or
/// a folder standing in for it: relative, no `.` or `..` segment, no empty segment (`a//b`), no
/// backslash or control character. The empty prefix (the whole bucket) is allowed.
pub fn check_key_prefix(prefix: &str) -> Result<(), NameError> {
    let refuse = |reason| {
        Err(NameError::KeyPrefix {
            prefix: prefix.to_owned(),
            reason,
        })
    };
    if prefix.starts_with('/') {
        return refuse("it must be relative (no leading /)");
    }
    if prefix.chars().any(|c| c == '\\' || c.is_control()) {
        return refuse("no backslash or control character");
    }
    let segments = prefix.strip_suffix('/').unwrap_or(prefix);
    if segments.is_empty() {
        return Ok(());
    }
    for segment in segments.split('/') {
        match segment {
            "" => return refuse("no empty segment (//)"),
            "." | ".." => return refuse("no . or .. segment"),
            _ => {}
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;

    fn values<'a>(keys: Option<&'a PartitionKeys>, error: Option<&'a str>) -> Values<'a> {
        Values {
            source: "authentication",
            partition: keys,
            error_output_type: error,
            timestamp: datetime!(2026-11-28 06:05:00 UTC),
        }
    }

    #[test]
    fn the_data_prefix_is_the_security_lake_layout() {
        let keys = PartitionKeys {
            region: "us-east-1".into(),
            account_id: "123456789012".into(),
            event_day: "20230428".into(),
        };
        assert_eq!(
            expand(PREFIX_TEMPLATE, &values(Some(&keys), None)),
            "ext/authentication/region=us-east-1/accountId=123456789012/eventDay=20230428/"
        );
    }

    #[test]
    fn the_error_prefix_names_the_output_type_and_the_day() {
        assert_eq!(
            expand(
                ERROR_PREFIX_TEMPLATE,
                &values(None, Some("processing-failed"))
            ),
            "errors/authentication/processing-failed/2026/11/28/"
        );
    }

    #[test]
    fn values_are_not_expanded_again_and_unknown_expressions_stay() {
        let keys = PartitionKeys {
            region: "!{firehose:error-output-type}{source}".into(),
            account_id: "a".into(),
            event_day: "d".into(),
        };
        assert_eq!(
            expand(
                "{source}/!{partitionKeyFromLambda:region}/!{partitionKeyFromLambda:other}/{x}",
                &values(Some(&keys), Some("boom"))
            ),
            "authentication/!{firehose:error-output-type}{source}/!{partitionKeyFromLambda:other}/{x}"
        );
    }

    #[test]
    fn error_keys_are_read_back_through_the_template() {
        let key = expand(
            ERROR_PREFIX_TEMPLATE,
            &Values {
                source: "api-activity",
                partition: None,
                error_output_type: Some("format-conversion-failed"),
                timestamp: datetime!(2026-11-28 06:05:00 UTC),
            },
        ) + "ocsf-api-activity-1-2026-11-28-06-05-00-uuid";
        assert_eq!(
            parse_error_key(&key),
            Some(ErrorKey {
                source: "api-activity",
                error_output_type: "format-conversion-failed"
            })
        );
        for other in [
            "errors/api-activity/processing-failed/2026/11/x",
            "errors/api-activity/processing-failed/2026/1x/28/x",
            "errors//processing-failed/2026/11/28/x",
            "ext/api-activity/region=us-east-1/x",
            "errors/a/b/c/processing-failed/2026/11/28/x",
        ] {
            assert_eq!(parse_error_key(other), None, "{other}");
        }
    }

    #[test]
    fn operator_names_and_prefixes_stay_inside_their_root() {
        for name in ["authentication", "api-activity", "a_1", "x"] {
            assert_eq!(check_source_name(name), Ok(()), "{name}");
        }
        for name in [
            "",
            "../../../x",
            "a/b",
            "a b",
            "win/registry",
            "twenty-one-characters",
        ] {
            let error = check_source_name(name).unwrap_err();
            assert_eq!(error.code(), "source_name_invalid", "{name}");
        }
        for prefix in [
            "",
            "errors/",
            "ext/{source}/",
            "errors/a/processing-failed/",
            "a.b/c",
        ] {
            assert_eq!(check_key_prefix(prefix), Ok(()), "{prefix}");
        }
        for prefix in [
            "../",
            "../../x/{source}/",
            "/etc/",
            "a/../b",
            "./a",
            "a//b",
            "a\\b",
            "a\nb",
        ] {
            let error = check_key_prefix(prefix).unwrap_err();
            assert_eq!(error.code(), "key_prefix_invalid", "{prefix}");
        }
    }
}

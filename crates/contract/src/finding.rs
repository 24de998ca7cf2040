//! Findings: what validation reports, with machine-readable codes and configurable severities.
//!
//! Codes are the OCSF server's (`lib/schema/validator2.ex`) where the server has one; the ones
//! this crate adds are marked *(ours)*. Messages name paths, types and schema captions but never
//! repeat an event value: events hold user data. A code's level is re-set with
//! [`SeverityPolicy`] (`OCSF_SEVERITY`, `--severity code=ignore|warning|error`), except the
//! *fixed* ones: what they report cannot be delivered.
//!
//! | code | default | meaning |
//! |---|---|---|
//! | `attribute_required_missing` | error | A required attribute is missing or null. |
//! | `attribute_recommended_missing` | warning | A recommended attribute is missing (only with `--warn-recommended`). |
//! | `attribute_unknown` | error | Not defined for this class/object, or needs a profile the event does not list. |
//! | `attribute_wrong_type` | error | The JSON type does not match the OCSF type. |
//! | `attribute_deprecated` | warning | The attribute is deprecated. |
//! | `attribute_enum_value_unknown` | error | The enum value is not defined. |
//! | `attribute_enum_value_deprecated` | warning | The enum value is deprecated. |
//! | `attribute_enum_sibling_incorrect` | warning | The caption sibling does not match the enum value. |
//! | `attribute_enum_sibling_suspicious_other` | warning | The sibling of 99 (Other) is the literal `Other`. |
//! | `attribute_enum_array_value_unknown` | error | An enum array element is not defined. |
//! | `attribute_enum_array_value_deprecated` | warning | An enum array element is deprecated. |
//! | `attribute_enum_array_sibling_missing` | error | The sibling array is too short. |
//! | `attribute_enum_array_sibling_incorrect` | error | A sibling array element does not match. |
//! | `attribute_value_exceeds_range` / `…_super_type_range` | error | Number outside the (super) type's range. |
//! | `attribute_value_exceeds_max_len` / `…_super_type_max_len` | error | String longer than the (super) type allows. |
//! | `attribute_value_not_in_type_values` / `…_super_type_values` | error | Not one of the (super) type's values. |
//! | `attribute_value_regex_not_matched` / `…_super_type_regex_not_matched` | warning | String does not match the (super) type's regex. |
//! | `class_uid_unknown` | error | No class has this `class_uid`. |
//! | `class_deprecated` / `object_deprecated` | warning | The class / object is deprecated. |
//! | `profile_unknown` | warning | `metadata.profiles` names a profile the schema does not define (an extension's the engine does not know: the name stays listed, its attributes go under `unmapped` like any unknown attribute; the server's level is error). |
//! | `profile_extension_name` | warning | *(ours)* `metadata.profiles` names a platform extension (AWS's `linux`), which stands for that extension's profiles. |
//! | `constraint_failed` | error | An `at_least_one` / `just_one` constraint is not met. |
//! | `observable_name_invalid_reference` | error | `observables[].name` names no attribute of the class. |
//! | `type_uid_incorrect` | error | `type_uid` is not `class_uid * 100 + activity_id`. |
//! | `version_earlier` | warning | `metadata.version` is earlier than the target. |
//! | `version_incompatible_later` | error | `metadata.version` is later than the target. |
//! | `version_incompatible_prerelease` | error | `metadata.version` is an earlier prerelease (e.g. `1.0.0-rc.2`). |
//! | `version_incompatible_initial_development` | error | `metadata.version` is 0.x. |
//! | `version_invalid_format` | error | `metadata.version` is not a semantic version. |
//! | `version_not_accepted` | error | *(ours)* `metadata.version` is a release the configuration does not accept (`OCSF_SOURCE_VERSIONS`, `OCSF_TRANSLATE`). |
//! | `version_untranslatable` | error | *(ours)* The event's class has no counterpart in the target version (e.g. a 1.5.0 class sent to 1.3.0). |
//! | `json_invalid` | error | *(ours)* Not parseable JSON (message gives the byte offset). |
//! | `event_not_object` | error | *(ours)* JSON but not an object (e.g. an array). |
//! | `class_not_allowed` | error | *(ours)* Class outside the configured allow-list. |
//! | `depth_exceeded` | error | *(ours)* Objects nested deeper than the limit. |
//! | `partition_time_invalid` | error, fixed | *(ours)* `time` missing or not epoch ms in 2000–2100: no `eventDay`. |
//! | `partition_region_invalid` | error | *(ours)* No usable region (`cloud.region` unsafe as an S3 value, no default). As a warning, the fallbacks apply. |
//! | `data_not_base64` | error, fixed | *(ours)* A Firehose record's `data` is not base64. |
//! | `data_not_utf8` | error, fixed | *(ours)* A record's decoded data is not UTF-8. |
//! | `record_too_large` | error, fixed | *(ours)* A record's decoded data is over `OCSF_MAX_RECORD_BYTES`. |
//! | `record_empty` | error, fixed | *(ours)* A record holds no JSON document. |
//! | `partition_keys_mixed` | error, fixed | *(ours)* The events of one record have different partition keys. |
//! | `response_too_large` | error, fixed | *(ours)* The record's output did not fit in the Lambda's response limit. |

use std::fmt;
use std::str::FromStr;

use serde::{Serialize, Serializer};
use thiserror::Error;

/// How serious a reported finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Reported, does not make the event invalid.
    Warning,
    /// Makes the event invalid.
    Error,
}

impl Severity {
    /// `"warning"` or `"error"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

/// The level a code is configured to: a severity, or not reported at all.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Level {
    /// Not reported.
    Ignore,
    /// Reported with this severity.
    Report(Severity),
}

impl FromStr for Level {
    type Err = PolicyError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "ignore" | "off" => Ok(Level::Ignore),
            "warning" | "warn" => Ok(Level::Report(Severity::Warning)),
            "error" => Ok(Level::Report(Severity::Error)),
            _ => Err(PolicyError::UnknownLevel(s.trim().to_owned())),
        }
    }
}

macro_rules! codes {
    ($( $(#[$doc:meta])* $variant:ident = $name:literal, $severity:ident; )*) => {
        /// A finding code.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Code {
            $( $(#[$doc])* $variant, )*
        }

        impl Code {
            /// Every code, in declaration order.
            pub const ALL: &'static [Code] = &[$(Code::$variant),*];

            /// The code's wire name, e.g. `attribute_required_missing`.
            pub fn as_str(self) -> &'static str {
                match self { $(Code::$variant => $name,)* }
            }

            /// The severity the OCSF server gives this code.
            pub fn default_severity(self) -> Severity {
                match self { $(Code::$variant => Severity::$severity,)* }
            }
        }

        impl FromStr for Code {
            type Err = PolicyError;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s.trim() {
                    $($name => Ok(Code::$variant),)*
                    other => Err(PolicyError::UnknownCode(other.to_owned())),
                }
            }
        }
    };
}

codes! {
    /// A required attribute is missing or null.
    AttributeRequiredMissing = "attribute_required_missing", Error;
    /// A recommended attribute is missing or null (only when asked for).
    AttributeRecommendedMissing = "attribute_recommended_missing", Warning;
    /// The attribute is not defined for this class/object (or needs a profile the event lacks).
    AttributeUnknown = "attribute_unknown", Error;
    /// The JSON type does not match the attribute's OCSF type.
    AttributeWrongType = "attribute_wrong_type", Error;
    /// The attribute is deprecated.
    AttributeDeprecated = "attribute_deprecated", Warning;
    /// The enum value is not defined.
    AttributeEnumValueUnknown = "attribute_enum_value_unknown", Error;
    /// The enum value is deprecated.
    AttributeEnumValueDeprecated = "attribute_enum_value_deprecated", Warning;
    /// The enum sibling does not hold the value's caption.
    AttributeEnumSiblingIncorrect = "attribute_enum_sibling_incorrect", Warning;
    /// The sibling of a 99 (Other) value is the literal caption `Other`.
    AttributeEnumSiblingSuspiciousOther = "attribute_enum_sibling_suspicious_other", Warning;
    /// An enum array element is not defined.
    AttributeEnumArrayValueUnknown = "attribute_enum_array_value_unknown", Error;
    /// An enum array element is deprecated.
    AttributeEnumArrayValueDeprecated = "attribute_enum_array_value_deprecated", Warning;
    /// The sibling array has no element for an enum array element.
    AttributeEnumArraySiblingMissing = "attribute_enum_array_sibling_missing", Error;
    /// The sibling array element does not hold the caption.
    AttributeEnumArraySiblingIncorrect = "attribute_enum_array_sibling_incorrect", Error;
    /// The number is outside the type's range.
    AttributeValueExceedsRange = "attribute_value_exceeds_range", Error;
    /// The number is outside the super type's range.
    AttributeValueExceedsSuperTypeRange = "attribute_value_exceeds_super_type_range", Error;
    /// The string is longer than the type allows (Unicode code points).
    AttributeValueExceedsMaxLen = "attribute_value_exceeds_max_len", Error;
    /// The string is longer than the super type allows.
    AttributeValueExceedsSuperTypeMaxLen = "attribute_value_exceeds_super_type_max_len", Error;
    /// The value is not one of the type's values.
    AttributeValueNotInTypeValues = "attribute_value_not_in_type_values", Error;
    /// The value is not one of the super type's values.
    AttributeValueNotInSuperTypeValues = "attribute_value_not_in_super_type_values", Error;
    /// The string does not match the type's regex.
    AttributeValueRegexNotMatched = "attribute_value_regex_not_matched", Warning;
    /// The string does not match the super type's regex.
    AttributeValueSuperTypeRegexNotMatched = "attribute_value_super_type_regex_not_matched", Warning;
    /// No class has this `class_uid`.
    ClassUidUnknown = "class_uid_unknown", Error;
    /// The class is deprecated.
    ClassDeprecated = "class_deprecated", Warning;
    /// The object is deprecated.
    ObjectDeprecated = "object_deprecated", Warning;
    /// `metadata.profiles` names a profile the schema does not define: a vendor's or a later
    /// extension's (AWS's `cloud_resources`, 1.8's macOS), carried with a warning. The name stays
    /// in the list (an `array<string>` column, queryable, as AWS's own findings list names no
    /// profile defines) and the profile's attributes, unknown to the schema, go under `unmapped`
    /// by path like any unknown attribute; `profile_unknown=error` rejects such events, as the
    /// OCSF server does.
    ProfileUnknown = "profile_unknown", Warning;
    /// (ocsf-firehose) `metadata.profiles` names a platform extension (`linux`, as AWS's own
    /// findings do); it stands for the extension's profiles.
    ProfileExtensionName = "profile_extension_name", Warning;
    /// An `at_least_one` / `just_one` constraint is not met.
    ConstraintFailed = "constraint_failed", Error;
    /// `observables[].name` does not name an attribute of the class.
    ObservableNameInvalidReference = "observable_name_invalid_reference", Error;
    /// `type_uid` is not `class_uid * 100 + activity_id`.
    TypeUidIncorrect = "type_uid_incorrect", Error;
    /// `metadata.version` is earlier than the target version.
    VersionEarlier = "version_earlier", Warning;
    /// `metadata.version` is later than the target version.
    VersionIncompatibleLater = "version_incompatible_later", Error;
    /// `metadata.version` is an earlier prerelease.
    VersionIncompatiblePrerelease = "version_incompatible_prerelease", Error;
    /// `metadata.version` is a 0.x version.
    VersionIncompatibleInitialDevelopment = "version_incompatible_initial_development", Error;
    /// `metadata.version` is not a semantic version.
    VersionInvalidFormat = "version_invalid_format", Error;
    /// (ocsf-firehose) `metadata.version` is an embedded release the configuration does not
    /// accept or translate.
    VersionNotAccepted = "version_not_accepted", Error;
    /// (ocsf-firehose) The event cannot be translated to the target version: its class has no
    /// counterpart there.
    VersionUntranslatable = "version_untranslatable", Error;
    /// (ocsf-firehose) The document is not parseable JSON.
    JsonInvalid = "json_invalid", Error;
    /// (ocsf-firehose) The document is JSON but not an object (e.g. an array).
    EventNotObject = "event_not_object", Error;
    /// (ocsf-firehose) The class is not in the configured allow-list.
    ClassNotAllowed = "class_not_allowed", Error;
    /// (ocsf-firehose) Objects are nested deeper than the configured limit.
    DepthExceeded = "depth_exceeded", Error;
    /// (ocsf-firehose) `time` is missing or not a plausible epoch-milliseconds value, so the
    /// event has no `eventDay` partition.
    PartitionTimeInvalid = "partition_time_invalid", Error;
    /// (ocsf-firehose) `cloud.region` cannot be used as an S3 partition value.
    PartitionRegionInvalid = "partition_region_invalid", Error;
    /// (ocsf-firehose) A Firehose record's `data` is not valid base64.
    DataNotBase64 = "data_not_base64", Error;
    /// (ocsf-firehose) A Firehose record's decoded data is not UTF-8.
    DataNotUtf8 = "data_not_utf8", Error;
    /// (ocsf-firehose) A Firehose record's decoded data is larger than the configured limit.
    RecordTooLarge = "record_too_large", Error;
    /// (ocsf-firehose) A Firehose record holds no JSON document.
    RecordEmpty = "record_empty", Error;
    /// (ocsf-firehose) The events of one Firehose record have different partition keys.
    PartitionKeysMixed = "partition_keys_mixed", Error;
    /// (ocsf-firehose) The record's output did not fit in the Lambda response size limit.
    ResponseTooLarge = "response_too_large", Error;
}

impl Code {
    /// Codes whose severity cannot be configured: the event or record they describe cannot be
    /// delivered whatever the configuration says.
    pub fn is_fixed(self) -> bool {
        matches!(
            self,
            Code::JsonInvalid
                | Code::EventNotObject
                | Code::PartitionTimeInvalid
                | Code::DataNotBase64
                | Code::DataNotUtf8
                | Code::RecordTooLarge
                | Code::RecordEmpty
                | Code::PartitionKeysMixed
                | Code::ResponseTooLarge
        )
    }
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Code {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

/// One problem found in an event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// Machine-readable code.
    pub code: Code,
    /// Severity after configuration.
    pub severity: Severity,
    /// Where: `actor.user.uid`, `observables[2].name`; empty for the whole event.
    pub path: String,
    /// Human-readable explanation; never contains an event value.
    pub message: String,
}

/// A bad severity configuration.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum PolicyError {
    /// The code is not one this crate reports.
    #[error("unknown finding code `{0}`")]
    UnknownCode(String),
    /// The level is not `ignore`, `warning` or `error`.
    #[error("unknown level `{0}`: expected ignore, warning or error")]
    UnknownLevel(String),
    /// An entry is not `code=level`.
    #[error("`{0}` is not of the form code=level")]
    Malformed(String),
}

/// Per-code severity overrides; codes without one keep the OCSF server's severity.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SeverityPolicy {
    overrides: Vec<(Code, Level)>,
}

impl SeverityPolicy {
    /// Sets the level of `code` (a later call for the same code wins).
    pub fn set(&mut self, code: Code, level: Level) -> &mut Self {
        self.overrides.retain(|(c, _)| *c != code);
        self.overrides.push((code, level));
        self
    }

    /// Applies `other`'s overrides on top of this policy's (e.g. command-line flags over
    /// `OCSF_SEVERITY`).
    pub fn merge(&mut self, other: &SeverityPolicy) -> &mut Self {
        for (code, level) in &other.overrides {
            self.set(*code, *level);
        }
        self
    }

    /// Whether `code` has an explicit override.
    pub fn overrides(&self, code: Code) -> bool {
        self.overrides.iter().any(|(c, _)| *c == code)
    }

    /// The configured level of `code`.
    pub fn level(&self, code: Code) -> Level {
        self.overrides
            .iter()
            .find(|(c, _)| *c == code)
            .map_or(Level::Report(code.default_severity()), |(_, l)| *l)
    }
}

impl FromStr for SeverityPolicy {
    type Err = PolicyError;

    /// Parses `code=level,code=level` (whitespace allowed, empty entries ignored).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut policy = SeverityPolicy::default();
        for entry in s.split(',').map(str::trim).filter(|e| !e.is_empty()) {
            let (code, level) = entry
                .split_once('=')
                .ok_or_else(|| PolicyError::Malformed(entry.to_owned()))?;
            policy.set(code.parse()?, level.parse()?);
        }
        Ok(policy)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_through_their_names() {
        for &code in Code::ALL {
            assert_eq!(code.as_str().parse::<Code>(), Ok(code));
            assert_eq!(
                serde_json::to_string(&code).unwrap(),
                format!("\"{}\"", code.as_str())
            );
        }
        assert_eq!(
            Code::AttributeValueRegexNotMatched.default_severity(),
            Severity::Warning
        );
        assert_eq!(Code::ConstraintFailed.default_severity(), Severity::Error);
    }

    #[test]
    fn policy_parses_and_relevels() {
        let policy: SeverityPolicy =
            " constraint_failed=warning, version_earlier=ignore,,attribute_unknown=ERROR "
                .parse()
                .unwrap();
        assert_eq!(
            policy.level(Code::ConstraintFailed),
            Level::Report(Severity::Warning)
        );
        assert_eq!(policy.level(Code::VersionEarlier), Level::Ignore);
        assert_eq!(
            policy.level(Code::AttributeUnknown),
            Level::Report(Severity::Error)
        );
        assert_eq!(
            policy.level(Code::ProfileUnknown),
            Level::Report(Severity::Warning)
        );
        assert!(policy.overrides(Code::AttributeUnknown));
        assert!(!policy.overrides(Code::ProfileUnknown));
        let mut merged: SeverityPolicy = "constraint_failed=error,profile_unknown=error"
            .parse()
            .unwrap();
        merged.merge(&policy);
        assert_eq!(
            merged.level(Code::ConstraintFailed),
            Level::Report(Severity::Warning),
            "the merged policy wins"
        );
        assert_eq!(
            merged.level(Code::ProfileUnknown),
            Level::Report(Severity::Error),
            "kept"
        );
    }

    #[test]
    fn policy_rejects_bad_entries_with_specific_errors() {
        assert_eq!(
            "nope=error".parse::<SeverityPolicy>(),
            Err(PolicyError::UnknownCode("nope".into()))
        );
        assert_eq!(
            "constraint_failed=fatal".parse::<SeverityPolicy>(),
            Err(PolicyError::UnknownLevel("fatal".into()))
        );
        assert_eq!(
            "constraint_failed".parse::<SeverityPolicy>(),
            Err(PolicyError::Malformed("constraint_failed".into()))
        );
    }
}

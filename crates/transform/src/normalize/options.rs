//! Normalization settings: the unknown-attribute policy, time units, depth and severities.

use std::fmt;
use std::str::FromStr;

use thiserror::Error;

use super::TimeUnits;
use crate::finding::SeverityPolicy;
use crate::validate::DEFAULT_MAX_DEPTH;

/// What to do with attributes the schema does not define for their class/object.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum UnknownAttributes {
    /// Move them under the event's `unmapped` object, keyed by their path (`actor.user.foo`).
    #[default]
    Unmapped,
    /// Leave them in place and report `attribute_unknown` as a warning.
    Keep,
    /// Leave them in place and report `attribute_unknown` as an error (the server's behaviour).
    Reject,
}

/// A policy name that is not `unmapped`, `keep` or `reject`.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("unknown attribute policy `{0}`: expected unmapped, keep or reject")]
pub struct UnknownPolicyError(pub String);

impl FromStr for UnknownAttributes {
    type Err = UnknownPolicyError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "unmapped" => Ok(UnknownAttributes::Unmapped),
            "keep" => Ok(UnknownAttributes::Keep),
            "reject" => Ok(UnknownAttributes::Reject),
            _ => Err(UnknownPolicyError(s.trim().to_owned())),
        }
    }
}

impl fmt::Display for UnknownAttributes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            UnknownAttributes::Unmapped => "unmapped",
            UnknownAttributes::Keep => "keep",
            UnknownAttributes::Reject => "reject",
        })
    }
}

/// Normalization settings.
#[derive(Debug, Clone)]
pub struct NormalizeOptions {
    /// Policy for unknown attributes.
    pub unknown_attributes: UnknownAttributes,
    /// Whether `timestamp_t` numbers in seconds, microseconds or nanoseconds become
    /// milliseconds.
    pub time_units: TimeUnits,
    /// Objects nested deeper than this are left untouched (validation reports them).
    pub max_depth: usize,
    /// The severities under which "adding a profile adds no error" is judged (see
    /// [`ActionKind::ProfileAdded`](super::ActionKind::ProfileAdded)); the engine passes its own.
    pub severity: SeverityPolicy,
}

impl Default for NormalizeOptions {
    fn default() -> Self {
        NormalizeOptions {
            unknown_attributes: UnknownAttributes::default(),
            time_units: TimeUnits::default(),
            max_depth: DEFAULT_MAX_DEPTH,
            severity: SeverityPolicy::default(),
        }
    }
}

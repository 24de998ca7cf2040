//! Version translation: an event of any embedded OCSF release (1.0.0-rc.2 … 1.8.0) carried to
//! the engine's target version, before normalization and validation, so that every caller of
//! the one verdict gets it.
//!
//! The rules, all read from the two releases' schemas:
//! - **Source version**: `metadata.version` (or the configured [`FromVersion`]). An event
//!   already at the target, or of no embedded release, is left as it is (and costs one string
//!   comparison).
//! - **Class**: uids that changed meaning are mapped ([`classes::CLASS_MOVES`]); a class the
//!   target lacks is not translatable (`version_untranslatable`).
//! - **Attributes**: one the source defines and the target lacks moves under `unmapped` by its
//!   path (`moved_to_unmapped`); so does one whose shape (object or scalar, array or not, base
//!   type) differs between the two. One renamed between them (a deprecation naming its
//!   replacement in the same object, with the same type) is carried to its new name
//!   (`attribute_renamed`). Attributes the source does not define either are left to the
//!   unknown-attribute policy of normalization.
//! - **Enums**: a value the target lacks becomes 99 (Other), its caption kept in the sibling
//!   (`enum_to_other`).
//! - **Profiles** the target lacks leave `metadata.profiles`.
//! - **Nothing lost**: whatever translation changes or removes is kept under `unmapped` by its
//!   path (`metadata.version` included: it records the source release), unless that key is
//!   already taken, in which case the value stays and validation reports it.
//! - `metadata.version` becomes the target (`version_translated`).

pub mod classes;
mod event_level;
mod shape;
mod unmapped;
mod walk;

use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;

use serde_json::Value;
use thiserror::Error;

use crate::finding::Code;
use crate::normalize::Action;
use crate::schema::Schema;
use crate::version::{OcsfRelease, UnknownRelease};

/// Which release an event is in.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum FromVersion {
    /// The release `metadata.version` names (`--from-version auto`, the default).
    #[default]
    Auto,
    /// Every event is in this release, whatever it declares (for producers that set
    /// `metadata.version` wrongly or not at all).
    Fixed(OcsfRelease),
}

impl FromStr for FromVersion {
    type Err = UnknownRelease;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim() {
            "auto" | "" => Ok(FromVersion::Auto),
            other => other.parse().map(FromVersion::Fixed),
        }
    }
}

impl fmt::Display for FromVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FromVersion::Auto => f.write_str("auto"),
            FromVersion::Fixed(release) => write!(f, "{release}"),
        }
    }
}

/// Which way events may be translated.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum Direction {
    /// Down from newer releases and up from older ones (the default).
    #[default]
    Both,
    /// Only down from newer releases; older events are validated as they are (the server's
    /// rule: a warning, an error for a prerelease).
    Down,
    /// Only up from older releases; newer events are validated as they are (an error).
    Up,
    /// No translation: events are validated as they are, with the OCSF server's version rules
    /// (later is an error, earlier a warning).
    None,
}

/// A direction name that is not `both`, `down`, `up` or `none`.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("unknown translation direction `{0}`: expected both, down, up or none")]
pub struct DirectionError(pub String);

impl FromStr for Direction {
    type Err = DirectionError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "both" => Ok(Direction::Both),
            "down" => Ok(Direction::Down),
            "up" => Ok(Direction::Up),
            "none" | "off" => Ok(Direction::None),
            _ => Err(DirectionError(s.trim().to_owned())),
        }
    }
}

impl fmt::Display for Direction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Direction::Both => "both",
            Direction::Down => "down",
            Direction::Up => "up",
            Direction::None => "none",
        })
    }
}

/// Translation settings (`OCSF_FROM_VERSION`, `OCSF_SOURCE_VERSIONS`, `OCSF_TRANSLATE`;
/// `--from-version`, `--source-versions`, `--translate`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TranslateOptions {
    /// Which release an event is in.
    pub from: FromVersion,
    /// The source releases accepted (`None`: every embedded release). An event of another
    /// embedded release gets `version_not_accepted`.
    pub accepted: Option<BTreeSet<OcsfRelease>>,
    /// Which way events may be translated.
    pub direction: Direction,
}

/// Parses an `OCSF_SOURCE_VERSIONS` list: `all`, or comma-separated releases.
pub fn parse_source_versions(text: &str) -> Result<Option<BTreeSet<OcsfRelease>>, UnknownRelease> {
    if text.trim().eq_ignore_ascii_case("all") || text.trim().is_empty() {
        return Ok(None);
    }
    text.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::parse)
        .collect::<Result<BTreeSet<_>, _>>()
        .map(Some)
}

/// A problem translation reports: a code, a path and a message without event values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// `version_not_accepted` or `version_untranslatable`.
    pub code: Code,
    /// Where.
    pub path: &'static str,
    /// Why, in schema terms.
    pub message: String,
}

/// What translating one event did.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Translation {
    /// The release the event was translated from (`None`: it was not translated).
    pub source: Option<OcsfRelease>,
    /// Every change, in order.
    pub actions: Vec<Action>,
    /// Why the event could not be translated, if it could not.
    pub problems: Vec<Problem>,
}

impl Translation {
    /// An event left as it is, for `code` at `path`.
    pub(crate) fn refused(code: Code, path: &'static str, message: String) -> Translation {
        Translation {
            source: None,
            actions: Vec::new(),
            problems: vec![Problem {
                code,
                path,
                message,
            }],
        }
    }
}

/// Translates events to one target schema.
#[derive(Debug, Clone)]
pub struct Translator {
    target: &'static Schema,
    options: TranslateOptions,
    max_depth: usize,
}

impl Translator {
    /// A translator to `target`; objects deeper than `max_depth` are left as they are.
    pub fn new(target: &'static Schema, options: TranslateOptions, max_depth: usize) -> Self {
        Translator {
            target,
            options,
            max_depth,
        }
    }

    /// The settings.
    pub fn options(&self) -> &TranslateOptions {
        &self.options
    }

    /// Translates `event` in place to the target version (see the module documentation).
    pub fn translate(&self, event: &mut Value) -> Translation {
        let target = self.target.version();
        let declared = event
            .get("metadata")
            .and_then(|m| m.get("version"))
            .and_then(Value::as_str);
        // The common case, an event at the target, decides here.
        if declared == Some(target.as_str()) && self.options.from == FromVersion::Auto {
            return Translation::default();
        }
        let source = match self.options.from {
            FromVersion::Fixed(release) => release,
            FromVersion::Auto => match declared.and_then(OcsfRelease::of_event_version) {
                Some(release) => release,
                None => return Translation::default(),
            },
        };
        if source == target {
            let declared = declared.map(str::to_owned);
            return walk::restamp(event, target, declared);
        }
        match self.plan(source) {
            Plan::Translate => {}
            Plan::Leave => return Translation::default(),
            Plan::Refuse(why) => {
                return Translation::refused(Code::VersionNotAccepted, "metadata.version", why)
            }
        }
        let source_schema = match Schema::get(source) {
            Ok(schema) => schema,
            Err(error) => {
                return Translation::refused(
                    Code::VersionUntranslatable,
                    "metadata.version",
                    error.to_string(),
                )
            }
        };
        walk::translate(source_schema, self.target, self.max_depth, event)
    }

    /// The class uid an event of class `uid` declaring `declared` (`metadata.version`) has once
    /// translated: what a pipeline with one stream per class routes it by.
    pub fn class_in_target(&self, uid: i64, declared: Option<&str>) -> i64 {
        let target = self.target.version();
        let source = match self.options.from {
            FromVersion::Fixed(release) => Some(release),
            FromVersion::Auto => declared.and_then(OcsfRelease::of_event_version),
        };
        match source {
            Some(source) if source != target && matches!(self.plan(source), Plan::Translate) => {
                classes::target_uid(source, target, uid)
            }
            _ => uid,
        }
    }

    /// Whether events of `source` are translated, left as they are, or refused.
    fn plan(&self, source: OcsfRelease) -> Plan {
        let target = self.target.version();
        let accepted = self
            .options
            .accepted
            .as_ref()
            .is_none_or(|set| set.contains(&source));
        if !accepted {
            return Plan::Refuse(format!(
                "Event version at \"metadata.version\": OCSF {source} is not an accepted source version."
            ));
        }
        let translate = match self.options.direction {
            Direction::Both => true,
            Direction::Down => source > target,
            Direction::Up => source < target,
            Direction::None => false,
        };
        if translate {
            Plan::Translate
        } else {
            Plan::Leave
        }
    }
}

/// What happens to an event of a release other than the target.
enum Plan {
    Translate,
    /// Validated as it is, with the server's version rules.
    Leave,
    /// `version_not_accepted`, with why.
    Refuse(String),
}

#[cfg(test)]
mod tests;

//! What the engine's stages report they changed: version translation, normalization and the
//! fit to the table, one [`Action`] per change.

use serde::Serialize;

/// The kind of change the engine made (translation, normalization, the fit to the table).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ActionKind {
    /// `category_uid`, `type_uid` or `activity_id` derived from the class and the other ids.
    DerivedFilled,
    /// A caption sibling filled from its enum id (`activity_name`, `class_name`, `severity`, …).
    CaptionFilled,
    /// A caption sibling that named another value than its defined enum id (not 99) set to the
    /// id's caption; the caption as it came is kept under `unmapped`.
    CaptionRewritten,
    /// An enum id filled from its caption sibling (case-insensitive).
    IdFromCaption,
    /// An enum id set to 99 (Other) because its caption sibling names no defined value.
    OtherFromCaption,
    /// `metadata.version` set to the target OCSF version.
    VersionFilled,
    /// An RFC 3339 string in a `timestamp_t` attribute converted to epoch milliseconds.
    TimestampConverted,
    /// A `timestamp_t` number in seconds, microseconds or nanoseconds (told by its magnitude:
    /// [`EpochUnit`](super::EpochUnit)) set to epoch milliseconds; when digits below the
    /// millisecond were cut, the value as it came is kept under `unmapped` by its path.
    TimeUnitRepaired,
    /// A missing `*_dt` attribute filled from its epoch-milliseconds sibling (`time_dt` from
    /// `time`); the `datetime` profile is listed first when the event does not list it. One that
    /// was not text is replaced, and kept under `unmapped` by its path.
    DatetimeFilled,
    /// An unknown attribute moved under `unmapped`.
    MovedToUnmapped,
    /// A profile added to `metadata.profiles` because the event carries its attributes and
    /// validates with it no worse than without it (so `cloud` is not hidden in `unmapped`
    /// just because the producer forgot to list the `cloud` profile).
    ProfileAdded,
    /// A value the class's table cannot hold (a struct deeper than the table, an integer
    /// beyond its column, another type) moved under `unmapped` by [`crate::table`].
    FittedToTable,
    /// `metadata.version` set to the target by version translation ([`crate::translate`]);
    /// the original is kept under `unmapped`.
    VersionTranslated,
    /// `class_uid` mapped to the uid the class has in the target version.
    ClassTranslated,
    /// An attribute carried to the name it has in the target version ([`Action::from`] is
    /// where it was).
    AttributeRenamed,
    /// An enum value the target version lacks set to 99 (Other), its caption kept in the
    /// sibling and the original under `unmapped`.
    EnumToOther,
    /// A required enum the target version added, which the source release could not express,
    /// set to 0 (Unknown).
    UnknownFilled,
}

impl ActionKind {
    /// Every kind, in declaration order.
    pub const ALL: [ActionKind; 17] = [
        ActionKind::DerivedFilled,
        ActionKind::CaptionFilled,
        ActionKind::CaptionRewritten,
        ActionKind::IdFromCaption,
        ActionKind::OtherFromCaption,
        ActionKind::VersionFilled,
        ActionKind::TimestampConverted,
        ActionKind::TimeUnitRepaired,
        ActionKind::DatetimeFilled,
        ActionKind::MovedToUnmapped,
        ActionKind::ProfileAdded,
        ActionKind::FittedToTable,
        ActionKind::VersionTranslated,
        ActionKind::ClassTranslated,
        ActionKind::AttributeRenamed,
        ActionKind::EnumToOther,
        ActionKind::UnknownFilled,
    ];

    /// The snake_case name used in logs and metrics.
    pub fn as_str(self) -> &'static str {
        match self {
            ActionKind::DerivedFilled => "derived_filled",
            ActionKind::CaptionFilled => "caption_filled",
            ActionKind::CaptionRewritten => "caption_rewritten",
            ActionKind::IdFromCaption => "id_from_caption",
            ActionKind::OtherFromCaption => "other_from_caption",
            ActionKind::VersionFilled => "version_filled",
            ActionKind::TimestampConverted => "timestamp_converted",
            ActionKind::TimeUnitRepaired => "time_unit_repaired",
            ActionKind::DatetimeFilled => "datetime_filled",
            ActionKind::MovedToUnmapped => "moved_to_unmapped",
            ActionKind::ProfileAdded => "profile_added",
            ActionKind::FittedToTable => "fitted_to_table",
            ActionKind::VersionTranslated => "version_translated",
            ActionKind::ClassTranslated => "class_translated",
            ActionKind::AttributeRenamed => "attribute_renamed",
            ActionKind::EnumToOther => "enum_to_other",
            ActionKind::UnknownFilled => "unknown_filled",
        }
    }
}

/// One change the engine made.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Action {
    /// What was done.
    pub kind: ActionKind,
    /// The attribute it was done to (for moves: the original path, now the `unmapped` key).
    pub path: String,
    /// For [`ActionKind::AttributeRenamed`]: the path the attribute had before.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
}

//! OCSF versions: the releases whose schemas are embedded ([`OcsfRelease`], what events may
//! arrive in) and the ones the engine can target ([`OcsfVersion`], what Security Lake accepts).

use std::fmt;
use std::str::FromStr;

use thiserror::Error;

/// An OCSF release whose schema is embedded in this crate: every release from 1.0.0-rc.2 to
/// 1.8.0, with the `linux` and `win` platform extensions from 1.0.0 on (rc.2 predates them).
/// Events in any of them can be translated to the target version (see [`crate::translate`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum OcsfRelease {
    /// OCSF 1.0.0-rc.2, Security Lake's own "source version 1" data.
    V1_0_0Rc2,
    /// OCSF 1.0.0.
    V1_0_0,
    /// OCSF 1.1.0.
    V1_1_0,
    /// OCSF 1.2.0.
    V1_2_0,
    /// OCSF 1.3.0.
    V1_3_0,
    /// OCSF 1.4.0.
    V1_4_0,
    /// OCSF 1.5.0.
    V1_5_0,
    /// OCSF 1.6.0.
    V1_6_0,
    /// OCSF 1.7.0.
    V1_7_0,
    /// OCSF 1.8.0.
    V1_8_0,
}

impl OcsfRelease {
    /// Every embedded release, oldest first.
    pub const ALL: [OcsfRelease; 10] = [
        OcsfRelease::V1_0_0Rc2,
        OcsfRelease::V1_0_0,
        OcsfRelease::V1_1_0,
        OcsfRelease::V1_2_0,
        OcsfRelease::V1_3_0,
        OcsfRelease::V1_4_0,
        OcsfRelease::V1_5_0,
        OcsfRelease::V1_6_0,
        OcsfRelease::V1_7_0,
        OcsfRelease::V1_8_0,
    ];

    /// The version string as it appears in `metadata.version`.
    pub fn as_str(self) -> &'static str {
        match self {
            OcsfRelease::V1_0_0Rc2 => "1.0.0-rc.2",
            OcsfRelease::V1_0_0 => "1.0.0",
            OcsfRelease::V1_1_0 => "1.1.0",
            OcsfRelease::V1_2_0 => "1.2.0",
            OcsfRelease::V1_3_0 => "1.3.0",
            OcsfRelease::V1_4_0 => "1.4.0",
            OcsfRelease::V1_5_0 => "1.5.0",
            OcsfRelease::V1_6_0 => "1.6.0",
            OcsfRelease::V1_7_0 => "1.7.0",
            OcsfRelease::V1_8_0 => "1.8.0",
        }
    }

    /// Position in [`OcsfRelease::ALL`].
    pub(crate) fn index(self) -> usize {
        self as usize
    }

    /// The release a `metadata.version` names: exactly one of [`OcsfRelease::as_str`], or its
    /// `major.minor` short form (`1.5`). Anything else (`1.9.0-dev`, `0.1`) names none.
    pub fn of_event_version(text: &str) -> Option<OcsfRelease> {
        OcsfRelease::ALL.into_iter().find(|r| {
            let full = r.as_str();
            text == full || (full.ends_with(".0") && Some(text) == full.strip_suffix(".0"))
        })
    }

    /// The target version this release is, if the engine can target it.
    pub fn target(self) -> Option<OcsfVersion> {
        OcsfVersion::ALL.into_iter().find(|v| v.release() == self)
    }
}

impl fmt::Display for OcsfRelease {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A version string that names no embedded release.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("unknown OCSF release `{0}`: expected one of 1.0.0-rc.2, 1.0.0, 1.1.0 … 1.8.0")]
pub struct UnknownRelease(pub String);

impl FromStr for OcsfRelease {
    type Err = UnknownRelease;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        OcsfRelease::of_event_version(s.trim()).ok_or_else(|| UnknownRelease(s.trim().to_owned()))
    }
}

/// An OCSF version the engine can target.
///
/// Amazon Security Lake's own sources emit 1.1.0 (the default); 1.3.0 is the newest version
/// Security Lake accepts for custom sources
/// (<https://docs.aws.amazon.com/security-lake/latest/userguide/open-cybersecurity-schema-framework.html>).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum OcsfVersion {
    /// OCSF 1.1.0.
    #[default]
    V1_1_0,
    /// OCSF 1.3.0.
    V1_3_0,
}

impl OcsfVersion {
    /// Every target version, oldest first.
    pub const ALL: [OcsfVersion; 2] = [OcsfVersion::V1_1_0, OcsfVersion::V1_3_0];

    /// The version string as it appears in `metadata.version`.
    pub fn as_str(self) -> &'static str {
        self.release().as_str()
    }

    /// The embedded release of this version.
    pub fn release(self) -> OcsfRelease {
        match self {
            OcsfVersion::V1_1_0 => OcsfRelease::V1_1_0,
            OcsfVersion::V1_3_0 => OcsfRelease::V1_3_0,
        }
    }
}

impl From<OcsfVersion> for OcsfRelease {
    fn from(version: OcsfVersion) -> Self {
        version.release()
    }
}

impl fmt::Display for OcsfVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A version string that names no target version.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("unsupported OCSF version `{0}`: expected one of 1.1.0, 1.3.0")]
pub struct UnsupportedVersion(pub String);

impl FromStr for OcsfVersion {
    type Err = UnsupportedVersion;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        OcsfRelease::of_event_version(s.trim())
            .and_then(OcsfRelease::target)
            .ok_or_else(|| UnsupportedVersion(s.trim().to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_full_and_short_forms() {
        assert_eq!("1.1.0".parse(), Ok(OcsfVersion::V1_1_0));
        assert_eq!("1.3".parse(), Ok(OcsfVersion::V1_3_0));
        assert_eq!(OcsfVersion::default(), OcsfVersion::V1_1_0);
        let err = "1.8.0".parse::<OcsfVersion>().unwrap_err();
        assert!(err.to_string().contains("1.8.0"));
    }

    #[test]
    fn releases_parse_and_order() {
        assert_eq!("1.0.0-rc.2".parse(), Ok(OcsfRelease::V1_0_0Rc2));
        assert_eq!("1.5".parse(), Ok(OcsfRelease::V1_5_0));
        assert_eq!(OcsfRelease::of_event_version("1.9.0-dev"), None);
        assert_eq!(
            OcsfRelease::of_event_version("1.0"),
            Some(OcsfRelease::V1_0_0)
        );
        assert!(OcsfRelease::V1_0_0Rc2 < OcsfRelease::V1_0_0);
        assert!(OcsfRelease::V1_8_0 > OcsfVersion::V1_3_0.release());
        for (i, r) in OcsfRelease::ALL.iter().enumerate() {
            assert_eq!(r.index(), i);
            assert_eq!(r.as_str().parse(), Ok(*r));
        }
        assert_eq!(OcsfRelease::V1_3_0.target(), Some(OcsfVersion::V1_3_0));
        assert_eq!(OcsfRelease::V1_2_0.target(), None);
    }
}

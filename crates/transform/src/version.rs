//! The OCSF versions the engine can target.

use std::fmt;
use std::str::FromStr;

use thiserror::Error;

/// An OCSF schema version embedded in this crate.
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
    /// Every embedded version, oldest first.
    pub const ALL: [OcsfVersion; 2] = [OcsfVersion::V1_1_0, OcsfVersion::V1_3_0];

    /// The version string as it appears in `metadata.version`.
    pub fn as_str(self) -> &'static str {
        match self {
            OcsfVersion::V1_1_0 => "1.1.0",
            OcsfVersion::V1_3_0 => "1.3.0",
        }
    }
}

impl fmt::Display for OcsfVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A version string that names no embedded schema.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("unsupported OCSF version `{0}`: expected one of 1.1.0, 1.3.0")]
pub struct UnsupportedVersion(pub String);

impl FromStr for OcsfVersion {
    type Err = UnsupportedVersion;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim() {
            "1.1.0" | "1.1" => Ok(OcsfVersion::V1_1_0),
            "1.3.0" | "1.3" => Ok(OcsfVersion::V1_3_0),
            other => Err(UnsupportedVersion(other.to_owned())),
        }
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
}

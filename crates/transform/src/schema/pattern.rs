//! The schema types' `regex` patterns, checked without compiling them where the OCSF releases'
//! own patterns allow it.
//!
//! Compiling the `regex` crate's automata for the patterns a first event meets (ip_t alone is a
//! 2 KB alternation) was most of a Lambda's cold start. Each pattern the releases publish has a
//! hand-written check here that is *sure* of a match: when it says yes, the regex matches too
//! (the property tests below hold each against the regex). When it says no, the regex decides,
//! compiled then: a value that fails the check is rare in good data, and only such a value pays
//! the compilation. Any other pattern (a release's quirk, a later release) is compiled as it is.

use std::sync::OnceLock;

use regex::Regex;

/// One type's pattern: its sure check, if it has one, and the regex, compiled on first need.
#[derive(Debug)]
pub(crate) struct Pattern {
    source: &'static str,
    sure: Option<fn(&str) -> bool>,
    compiled: OnceLock<Option<Regex>>,
}

impl Pattern {
    /// The pattern of a type's `regex`.
    pub(crate) fn new(source: &'static str) -> Self {
        Pattern {
            source,
            sure: sure_check(source),
            compiled: OnceLock::new(),
        }
    }

    /// The compiled regex, if it compiles.
    ///
    /// `\d` is rewritten to `[0-9]`: the schema's regexes are written for PCRE, where `\d` is
    /// ASCII-only, while the `regex` crate's `\d` is any Unicode digit.
    pub(crate) fn regex(&self) -> Option<&Regex> {
        self.compiled
            .get_or_init(|| Regex::new(&self.source.replace("\\d", "[0-9]")).ok())
            .as_ref()
    }

    /// Whether `text` matches; `None` when the pattern does not compile (no check).
    pub(crate) fn is_match(&self, text: &str) -> Option<bool> {
        if self.sure.is_some_and(|sure| sure(text)) {
            return Some(true);
        }
        self.regex().map(|regex| regex.is_match(text))
    }
}

/// The sure check of the patterns the OCSF releases publish, by their exact text.
fn sure_check(source: &str) -> Option<fn(&str) -> bool> {
    Some(match source {
        MAC => is_mac,
        UUID => is_uuid,
        DATETIME_1_1 => |t| is_datetime(t, false),
        DATETIME_1_4 => |t| is_datetime(t, true),
        HOSTNAME => is_hostname,
        EMAIL_1_0 => |t| is_email(t, |b| b.is_ascii_alphanumeric() || b"_.+-".contains(&b)),
        EMAIL_1_2 => |t| is_email(t, is_email_local_1_2),
        FILE_HASH => |t| !t.is_empty() && t.bytes().all(|b| b.is_ascii_hexdigit()),
        IP => |t| t.parse::<std::net::IpAddr>().is_ok(),
        _ => return None,
    })
}

/// mac_t, every release.
const MAC: &str = r"^([0-9A-Fa-f]{2}[:-]){5}([0-9A-Fa-f]{2})$";
/// uuid_t, every release (not anchored: a UUID anywhere in the text).
const UUID: &str = r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}";
/// datetime_t, 1.1.0 to 1.3.0.
const DATETIME_1_1: &str = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(Z|[\+-]\d{2}:\d{2})?$";
/// datetime_t, 1.4.0 on (`t` and `z` too).
const DATETIME_1_4: &str =
    r"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(?:\.\d+)?([Zz]|[\+-]\d{2}:\d{2})?$";
/// hostname_t, 1.0.0-rc.2 to 1.3.0.
const HOSTNAME: &str = r"^(([a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9\-]*[a-zA-Z0-9])\.)*([A-Za-z0-9]|[A-Za-z0-9][A-Za-z0-9\-]*[A-Za-z0-9])$";
/// email_t, 1.0.0-rc.2 to 1.1.0.
const EMAIL_1_0: &str = r"^[a-zA-Z0-9_.+-]+@[a-zA-Z0-9-]+\.[a-zA-Z0-9-.]+$";
/// email_t, 1.2.0 on.
const EMAIL_1_2: &str = r"^[a-zA-Z0-9!#$%&'*+-/=?^_`{|}~.]+@[a-zA-Z0-9-]+\.[a-zA-Z0-9-.]+$";
/// file_hash_t, 1.4.0 to 1.7.0.
const FILE_HASH: &str = r"^[a-fA-F0-9]+$";
/// ip_t, 1.1.0 on: dotted IPv4 and every IPv6 text form (with an optional zone and spaces
/// around). Every address Rust's parser takes matches it.
const IP: &str = r"((^\s*((([0-9]|[1-9][0-9]|1[0-9]{2}|2[0-4][0-9]|25[0-5]).){3}([0-9]|[1-9][0-9]|1[0-9]{2}|2[0-4][0-9]|25[0-5]))\s*$)|(^\s*((([0-9A-Fa-f]{1,4}:){7}([0-9A-Fa-f]{1,4}|:))|(([0-9A-Fa-f]{1,4}:){6}(:[0-9A-Fa-f]{1,4}|((25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3})|:))|(([0-9A-Fa-f]{1,4}:){5}(((:[0-9A-Fa-f]{1,4}){1,2})|:((25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3})|:))|(([0-9A-Fa-f]{1,4}:){4}(((:[0-9A-Fa-f]{1,4}){1,3})|((:[0-9A-Fa-f]{1,4})?:((25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}))|:))|(([0-9A-Fa-f]{1,4}:){3}(((:[0-9A-Fa-f]{1,4}){1,4})|((:[0-9A-Fa-f]{1,4}){0,2}:((25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}))|:))|(([0-9A-Fa-f]{1,4}:){2}(((:[0-9A-Fa-f]{1,4}){1,5})|((:[0-9A-Fa-f]{1,4}){0,3}:((25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}))|:))|(([0-9A-Fa-f]{1,4}:){1}(((:[0-9A-Fa-f]{1,4}){1,6})|((:[0-9A-Fa-f]{1,4}){0,4}:((25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}))|:))|(:(((:[0-9A-Fa-f]{1,4}){1,7})|((:[0-9A-Fa-f]{1,4}){0,5}:((25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}))|:)))(%.+)?\s*$))";

fn is_mac(text: &str) -> bool {
    let bytes = text.as_bytes();
    bytes.len() == 17
        && bytes.iter().enumerate().all(|(i, b)| match i % 3 {
            2 => matches!(b, b':' | b'-'),
            _ => b.is_ascii_hexdigit(),
        })
}

/// Whether the whole text is a UUID (the pattern takes one anywhere in a text; the regex
/// decides the rest).
fn is_uuid(text: &str) -> bool {
    let bytes = text.as_bytes();
    bytes.len() == 36
        && bytes.iter().enumerate().all(|(i, b)| match i {
            8 | 13 | 18 | 23 => *b == b'-',
            _ => b.is_ascii_hexdigit(),
        })
}

/// `YYYY-MM-DDThh:mm:ss[.f+][Z|±hh:mm]` in ASCII digits (no range checks: the pattern has
/// none); `any_case`: `t` and `z` too.
fn is_datetime(text: &str, any_case: bool) -> bool {
    let bytes = text.as_bytes();
    let digits = |range: std::ops::Range<usize>| {
        bytes
            .get(range)
            .is_some_and(|d| d.iter().all(u8::is_ascii_digit))
    };
    let at = |i: usize, wanted: u8| {
        bytes
            .get(i)
            .is_some_and(|b| *b == wanted || (any_case && b.to_ascii_uppercase() == wanted))
    };
    let head = digits(0..4)
        && at(4, b'-')
        && digits(5..7)
        && at(7, b'-')
        && digits(8..10)
        && at(10, b'T')
        && digits(11..13)
        && at(13, b':')
        && digits(14..16)
        && at(16, b':')
        && digits(17..19);
    if !head {
        return false;
    }
    let mut i = 19;
    if at(i, b'.') {
        let fraction = bytes
            .get(i + 1..)
            .unwrap_or_default()
            .iter()
            .take_while(|b| b.is_ascii_digit())
            .count();
        if fraction == 0 {
            return false;
        }
        i += 1 + fraction;
    }
    match bytes.get(i) {
        None => true,
        Some(_) if at(i, b'Z') => i + 1 == bytes.len(),
        Some(b'+' | b'-') => {
            bytes.len() == i + 6 && digits(i + 1..i + 3) && at(i + 3, b':') && digits(i + 4..i + 6)
        }
        Some(_) => false,
    }
}

/// Dot-separated labels of ASCII letters, digits and inner hyphens.
fn is_hostname(text: &str) -> bool {
    text.split('.').all(|label| {
        let bytes = label.as_bytes();
        match (bytes.first(), bytes.last()) {
            (Some(first), Some(last)) => {
                first.is_ascii_alphanumeric()
                    && last.is_ascii_alphanumeric()
                    && bytes
                        .iter()
                        .all(|b| b.is_ascii_alphanumeric() || *b == b'-')
            }
            _ => false,
        }
    })
}

/// `local@label.rest`: `local` of `local_byte`s, `label` of letters, digits and hyphens, `rest`
/// of those and dots.
fn is_email(text: &str, local_byte: fn(u8) -> bool) -> bool {
    let Some((local, domain)) = text.split_once('@') else {
        return false;
    };
    let Some((label, rest)) = domain.split_once('.') else {
        return false;
    };
    let domain_byte = |b: &u8| b.is_ascii_alphanumeric() || *b == b'-';
    !local.is_empty()
        && local.bytes().all(local_byte)
        && !label.is_empty()
        && label.bytes().all(|b| domain_byte(&b))
        && !rest.is_empty()
        && rest.bytes().all(|b| domain_byte(&b) || b == b'.')
}

/// The 1.2.0 local part: letters, digits and ``!#$%&'*+,-./=?^_`{|}~`` (`+-/` in the pattern is
/// the range `+`…`/`).
fn is_email_local_1_2(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+,-./=?^_`{|}~".contains(&b)
}

#[cfg(test)]
mod tests;

//! Each sure check against its regex: never yes where the regex says no, and for the patterns
//! the check copies exactly, the same answer everywhere.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::{Ipv4Addr, Ipv6Addr};

use proptest::prelude::*;

use super::*;
use crate::{OcsfVersion, Schema};

fn regex(source: &'static str) -> Regex {
    Pattern::new(source).regex().unwrap().clone()
}

fn sure(source: &'static str) -> fn(&str) -> bool {
    sure_check(source).unwrap()
}

/// The check and the regex give the same answer on `text`.
fn same(source: &'static str, text: &str) -> Result<(), TestCaseError> {
    prop_assert_eq!(
        sure(source)(text),
        regex(source).is_match(text),
        "{:?} on {:?}",
        source,
        text
    );
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2_000))]

    #[test]
    fn mac_is_exact(
        text in prop_oneof!["([0-9A-Fa-fg]{2}[:\\-.]){5}[0-9A-Fa-f]{2}", "([0-9A-Fa-fgx]{1,3}[:\\-.]?){5,7}"]
    ) {
        same(MAC, &text)?;
    }

    #[test]
    fn datetime_is_exact(
        text in "[0-9]{3,5}-[0-9]{1,3}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}:[0-9]{1,2}(\\.[0-9]{0,3})?([Zz]|[+\\-][0-9]{2}:?[0-9]{2}|x|)?"
    ) {
        same(DATETIME_1_1, &text)?;
        same(DATETIME_1_4, &text)?;
    }

    #[test]
    fn hostname_is_exact(text in "[a-z0-9\\-.]{0,24}") {
        same(HOSTNAME, &text)?;
    }

    #[test]
    fn email_is_exact(text in "[a-z0-9!#%'*+,\\-./=?_~ @]{0,12}@?[a-z0-9\\-._@]{0,12}") {
        same(EMAIL_1_0, &text)?;
        same(EMAIL_1_2, &text)?;
    }

    #[test]
    fn file_hash_is_exact(text in "[0-9a-fA-Fg ]{0,8}") {
        same(FILE_HASH, &text)?;
    }

    #[test]
    fn a_uuid_is_a_match(text in "[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}") {
        prop_assert!(sure(UUID)(&text) && regex(UUID).is_match(&text));
    }

    #[test]
    fn uuid_is_sure(text in "[0-9a-fA-F\\-x]{30,40}") {
        prop_assert!(!sure(UUID)(&text) || regex(UUID).is_match(&text), "{:?}", text);
    }

    #[test]
    fn every_address_rust_reads_matches_ip_t(
        v4 in any::<u32>(),
        v6 in any::<u128>(),
        groups in proptest::collection::vec((0u16..=0xffff, 1usize..=4, any::<bool>()), 8),
        cut in (0usize..=8, 0usize..=8),
        dotted in any::<bool>(),
        noise in "[0-9a-fA-F:.]{0,40}",
    ) {
        let ip = regex(IP);
        let check = sure(IP);
        for text in [
            Ipv4Addr::from(v4).to_string(),
            Ipv6Addr::from(v6).to_string(),
            Ipv6Addr::from(u128::from(v4)).to_string(),
            Ipv4Addr::from(v4).to_ipv6_mapped().to_string(),
            written(&groups, cut, dotted.then_some(Ipv4Addr::from(v4))),
            noise,
        ] {
            prop_assert!(!check(&text) || ip.is_match(&text), "{:?}", text);
        }
    }
}

/// An IPv6 address as people write it: groups with leading zeros (1 to 4 digits, either
/// case), the groups from `cut.0` to `cut.1` compressed to `::`, the last two as dotted IPv4.
fn written(groups: &[(u16, usize, bool)], cut: (usize, usize), v4: Option<Ipv4Addr>) -> String {
    let count = if v4.is_some() { 6 } else { 8 };
    let mut parts: Vec<String> = groups[..count]
        .iter()
        .map(|(value, width, upper)| {
            let hex = format!("{value:0width$x}");
            if *upper {
                hex.to_uppercase()
            } else {
                hex
            }
        })
        .collect();
    if let Some(v4) = v4 {
        parts.push(v4.to_string());
    }
    let (from, to) = (
        cut.0.min(cut.1).min(parts.len()),
        cut.1.max(cut.0).min(parts.len()),
    );
    if from < to {
        let head = parts[..from].join(":");
        let tail = parts[to..].join(":");
        format!("{head}::{tail}")
    } else {
        parts.join(":")
    }
}

#[test]
fn examples() {
    for (source, yes, no) in [
        (
            IP,
            &["10.0.0.1", "::", "fe80::1", "::ffff:192.0.2.1"][..],
            &["256.0.0.1", "1::2::3", "host"][..],
        ),
        (
            MAC,
            &["00:1A:2b:3c:4D:5e", "00-1a-2b-3c-4d-5e"],
            &["00:1a:2b:3c:4d", "001a2b3c4d5e"],
        ),
        (
            UUID,
            &["123e4567-e89b-12d3-a456-426614174000"],
            &["123e4567-e89b-12d3-a456"],
        ),
        (
            DATETIME_1_1,
            &["2024-03-01T12:00:00Z", "2024-03-01T12:00:00.123+01:00"],
            &["2024-03-01 12:00:00", "2024-03-01T12:00:00.Z"],
        ),
        (
            HOSTNAME,
            &["a", "a-b.example.com"],
            &["", "-a.b", "a..b", "a.b."],
        ),
        (
            EMAIL_1_2,
            &["a.b+c@example.com"],
            &["a@b", "@b.c", "a b@c.d"],
        ),
    ] {
        for text in yes {
            assert!(Pattern::new(source).is_match(text) == Some(true), "{text}");
        }
        for text in no {
            assert!(Pattern::new(source).is_match(text) == Some(false), "{text}");
        }
    }
    // Only the regex knows these: spaces around an address, a zone, a UUID inside text.
    for (source, text) in [
        (IP, " 10.0.0.1 "),
        (IP, "fe80::1%eth0"),
        (UUID, "id 123e4567-e89b-12d3-a456-426614174000"),
    ] {
        assert!(!sure(source)(text));
        assert_eq!(Pattern::new(source).is_match(text), Some(true), "{text}");
    }
}

/// The validation targets' patterns all have a sure check (a pattern text changed upstream
/// would silently fall back to compiling).
#[test]
fn the_targets_patterns_have_a_sure_check() {
    for version in OcsfVersion::ALL {
        let schema = Schema::load(version).unwrap();
        for name in [
            "ip_t",
            "mac_t",
            "uuid_t",
            "datetime_t",
            "email_t",
            "hostname_t",
        ] {
            let def = schema.type_def(schema.type_id(name).unwrap()).unwrap();
            let source = def.regex.unwrap();
            assert!(sure_check(source).is_some(), "{name} of {version}");
        }
    }
}

//! Where a custom source's objects must be: `ext/<source>/region=<region>/accountId=<accountId>/
//! eventDay=<YYYYMMDD>/<file>` below the lake bucket (Security Lake's custom-sources page), with
//! the values the partition rule accepts.

use ocsf_firehose_transform::contract::partition::{
    is_account_partition_value, is_safe_partition_value, EARLIEST_EVENT_MS, LATEST_EVENT_MS,
};
use time::{Date, Month, OffsetDateTime};

/// A key that follows the layout: what the object checks need of it (the source is
/// [`source_of`] the key).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ObjectKey<'k> {
    /// The `eventDay` value.
    pub event_day: &'k str,
    /// The instants of `eventDay`: `[start, end)` in epoch milliseconds.
    pub day_ms: (i64, i64),
}

/// What is wrong with a key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum KeyProblem {
    /// Not `ext/<source>/region=…/accountId=…/eventDay=…/<file>`.
    Layout(String),
    /// The layout holds, a value does not: (its name, why).
    Value(&'static str, String),
}

/// The source name of a key under `ext/` (even when the rest of its layout is wrong).
pub(crate) fn source_of(key: &str) -> Option<&str> {
    key.strip_prefix("ext/")?
        .split('/')
        .next()
        .filter(|s| !s.is_empty())
}

/// Whether a key names a file Athena and Glue skip: its name starts with `_` or `.` (Spark's
/// `_SUCCESS`, Hadoop's `.crc` files).
pub(crate) fn is_hidden(key: &str) -> bool {
    key.rsplit('/')
        .next()
        .is_some_and(|name| name.starts_with(['_', '.']))
}

/// Reads a key (relative to the bucket) against the layout.
pub(crate) fn parse<'k>(key: &'k str) -> Result<ObjectKey<'k>, KeyProblem> {
    let layout = |why: &str| {
        KeyProblem::Layout(format!(
            "{why}: expected ext/<source>/region=<region>/accountId=<accountId>/eventDay=<YYYYMMDD>/<file>"
        ))
    };
    let rest = key
        .strip_prefix("ext/")
        .ok_or_else(|| layout("not under ext/"))?;
    let parts: Vec<&str> = rest.split('/').collect();
    let [source, region, account, day, file] = parts[..] else {
        return Err(layout(&format!("{} levels below ext/", parts.len())));
    };
    if source.is_empty() || file.is_empty() {
        return Err(layout("an empty level"));
    }
    let named = |level: &str, name: &str| -> Result<(), KeyProblem> {
        match level.split_once('=') {
            Some((found, _)) if found == name => Ok(()),
            _ => Err(layout(&format!("`{level}` where `{name}=…` belongs"))),
        }
    };
    named(region, "region")?;
    named(account, "accountId")?;
    named(day, "eventDay")?;
    let value_of = |level: &'k str| level.split_once('=').map_or("", |(_, v)| v);
    let (region_value, account_value, day_value) =
        (value_of(region), value_of(account), value_of(day));
    if !is_safe_partition_value(region_value) {
        return Err(KeyProblem::Value(
            "region",
            format!("`{region_value}` is not a region"),
        ));
    }
    if !is_account_partition_value(account_value) {
        return Err(KeyProblem::Value(
            "accountId",
            format!(
                "`{account_value}` is not a 12-digit account id, `external` or `external_<id>`"
            ),
        ));
    }
    let day_ms = day_range(day_value).ok_or_else(|| {
        KeyProblem::Value(
            "eventDay",
            format!("`{day_value}` is not a day (YYYYMMDD, 2000 to 2099)"),
        )
    })?;
    Ok(ObjectKey {
        event_day: day_value,
        day_ms,
    })
}

/// `[start, end)` of a `YYYYMMDD` day in epoch milliseconds, within the partition rule's range.
fn day_range(text: &str) -> Option<(i64, i64)> {
    if text.len() != 8 || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let number = |range: std::ops::Range<usize>| text.get(range)?.parse::<u32>().ok();
    let year = i32::try_from(number(0..4)?).ok()?;
    let month = Month::try_from(u8::try_from(number(4..6)?).ok()?).ok()?;
    let day = u8::try_from(number(6..8)?).ok()?;
    let date = Date::from_calendar_date(year, month, day).ok()?;
    let start = OffsetDateTime::new_utc(date, time::Time::MIDNIGHT).unix_timestamp() * 1000;
    let end = start + 86_400_000;
    (start >= EARLIEST_EVENT_MS && end <= LATEST_EVENT_MS).then_some((start, end))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_in_the_layout_gives_its_day() {
        let key = parse(
            "ext/auth/region=us-east-1/accountId=123456789012/eventDay=20240229/a.zstd.parquet",
        )
        .unwrap();
        assert_eq!(key.event_day, "20240229");
        assert_eq!(key.day_ms, (1_709_164_800_000, 1_709_251_200_000));
        for account in ["external", "external_partner-1"] {
            let key = format!("ext/a/region=eu-west-1/accountId={account}/eventDay=20240101/f");
            assert!(parse(&key).is_ok(), "{key}");
        }
    }

    #[test]
    fn keys_out_of_the_layout_and_bad_values_are_told_apart() {
        for key in [
            "other/auth/region=us-east-1/accountId=123456789012/eventDay=20240101/f",
            "ext/auth/region=us-east-1/eventDay=20240101/f",
            "ext/auth/accountId=123456789012/region=us-east-1/eventDay=20240101/f",
            "ext/auth/region=us-east-1/accountId=123456789012/eventDay=20240101/x/f",
        ] {
            assert!(matches!(parse(key), Err(KeyProblem::Layout(_))), "{key}");
        }
        for (key, name) in [
            (
                "ext/a/region=us east/accountId=123456789012/eventDay=20240101/f",
                "region",
            ),
            (
                "ext/a/region=us-east-1/accountId=12345/eventDay=20240101/f",
                "accountId",
            ),
            (
                "ext/a/region=us-east-1/accountId=123456789012/eventDay=20240230/f",
                "eventDay",
            ),
            (
                "ext/a/region=us-east-1/accountId=123456789012/eventDay=2024-01-01/f",
                "eventDay",
            ),
            (
                "ext/a/region=us-east-1/accountId=123456789012/eventDay=19991231/f",
                "eventDay",
            ),
        ] {
            match parse(key) {
                Err(KeyProblem::Value(found, _)) => assert_eq!(found, name, "{key}"),
                other => panic!("{key}: {other:?}"),
            }
        }
        assert_eq!(source_of("ext/auth/whatever"), Some("auth"));
        assert!(is_hidden(
            "ext/a/region=r/accountId=external/eventDay=20240101/_SUCCESS"
        ));
        assert!(is_hidden("ext/a/.part-0.parquet.crc") && !is_hidden("ext/a/x_y.parquet"));
        assert_eq!(source_of("other/auth"), None);
    }
}

//! Time as the contract reads it: RFC 3339 strings → epoch milliseconds (what OCSF's
//! `timestamp_t` and the Glue `bigint` columns hold, and what the partition's `eventDay` is
//! computed from), and the one text form of a `datetime_t` the tables hold: UTC with
//! milliseconds, `2023-04-28T12:00:00.123Z` (valid RFC 3339 for OCSF, and the
//! `yyyy-MM-dd'T'HH:mm:ss[.S]'Z'` form Firehose's OpenX JSON SerDe parses into a `timestamp`).

use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

/// Epoch milliseconds of an RFC 3339 date-time (with offset), rounded down.
pub fn rfc3339_to_epoch_ms(text: &str) -> Option<i64> {
    let instant = OffsetDateTime::parse(text, &Rfc3339).ok()?;
    i64::try_from(instant.unix_timestamp_nanos().div_euclid(1_000_000)).ok()
}

/// The canonical `datetime_t` text of epoch milliseconds: `YYYY-MM-DDTHH:MM:SS.mmmZ` (UTC);
/// `None` outside years 0000–9999.
pub fn epoch_ms_to_datetime(ms: i64) -> Option<String> {
    let instant = OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000).ok()?;
    let year = instant.year();
    if !(0..=9999).contains(&year) {
        return None;
    }
    Some(format!(
        "{year:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        u8::from(instant.month()),
        instant.day(),
        instant.hour(),
        instant.minute(),
        instant.second(),
        instant.millisecond()
    ))
}

/// The canonical text ([`epoch_ms_to_datetime`]) of an RFC 3339 date-time, rounded down to the
/// millisecond; `None` when `text` is not RFC 3339 with an offset.
pub fn canonical_datetime(text: &str) -> Option<String> {
    rfc3339_to_epoch_ms(text).and_then(epoch_ms_to_datetime)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn converts_rfc3339_with_offsets_and_fractions() {
        assert_eq!(rfc3339_to_epoch_ms("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(
            rfc3339_to_epoch_ms("2023-04-28T12:00:00.123Z"),
            Some(1_682_683_200_123)
        );
        assert_eq!(
            rfc3339_to_epoch_ms("2023-04-28T14:00:00.123456+02:00"),
            Some(1_682_683_200_123)
        );
        assert_eq!(rfc3339_to_epoch_ms("1969-12-31T23:59:59.9995Z"), Some(-1));
        assert_eq!(
            rfc3339_to_epoch_ms("2023-04-28T12:00:00"),
            None,
            "no offset"
        );
        assert_eq!(rfc3339_to_epoch_ms("yesterday"), None);
    }

    #[test]
    fn datetimes_have_one_canonical_utc_millisecond_text() {
        assert_eq!(
            epoch_ms_to_datetime(1_682_683_200_123).as_deref(),
            Some("2023-04-28T12:00:00.123Z")
        );
        assert_eq!(
            epoch_ms_to_datetime(-1).as_deref(),
            Some("1969-12-31T23:59:59.999Z")
        );
        assert_eq!(
            canonical_datetime("2023-04-28T14:00:00.123456+02:00").as_deref(),
            Some("2023-04-28T12:00:00.123Z")
        );
        assert_eq!(
            canonical_datetime("2023-04-28T12:00:00Z").as_deref(),
            Some("2023-04-28T12:00:00.000Z")
        );
        assert_eq!(canonical_datetime("2023-04-28 12:00:00"), None);
        assert_eq!(epoch_ms_to_datetime(i64::MAX), None);
    }
}

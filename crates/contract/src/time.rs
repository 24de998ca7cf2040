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

/// Milliseconds of the first instant of year 10000: the canonical text has four year digits.
const YEAR_10000_MS: i64 = 253_402_300_800_000;
/// Milliseconds of 0000-01-01T00:00:00Z (proleptic Gregorian).
const YEAR_0_MS: i64 = -62_167_219_200_000;
const DAY_MS: i64 = 86_400_000;

/// The canonical `datetime_t` text of epoch milliseconds: `YYYY-MM-DDTHH:MM:SS.mmmZ` (UTC);
/// `None` outside years 0000–9999. Written digit by digit (the proleptic Gregorian calendar
/// from the day number, Howard Hinnant's `civil_from_days`): every `*_dt` column of every
/// event takes this, and `format!` through the `time` crate was 4.6 % of the Lambda's work.
pub fn epoch_ms_to_datetime(ms: i64) -> Option<String> {
    if !(YEAR_0_MS..YEAR_10000_MS).contains(&ms) {
        return None;
    }
    let days = ms.div_euclid(DAY_MS);
    let of_day = ms.rem_euclid(DAY_MS);
    let (year, month, day) = civil_from_days(days);
    let mut text = [0u8; 24];
    put_digits(&mut text[0..4], year);
    text[4] = b'-';
    put_digits(&mut text[5..7], month);
    text[7] = b'-';
    put_digits(&mut text[8..10], day);
    text[10] = b'T';
    put_digits(&mut text[11..13], of_day / 3_600_000);
    text[13] = b':';
    put_digits(&mut text[14..16], of_day / 60_000 % 60);
    text[16] = b':';
    put_digits(&mut text[17..19], of_day / 1_000 % 60);
    text[19] = b'.';
    put_digits(&mut text[20..23], of_day % 1_000);
    text[23] = b'Z';
    Some(text.iter().map(|&b| char::from(b)).collect())
}

/// The year, month and day of a day number (days since 1970-01-01; Hinnant's algorithm).
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z.rem_euclid(146_097);
    let year_of_era =
        (day_of_era - day_of_era / 1_460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let shifted_month = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * shifted_month + 2) / 5 + 1;
    let month = if shifted_month < 10 {
        shifted_month + 3
    } else {
        shifted_month - 9
    };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// `value`'s last `out.len()` decimal digits into `out`, zero-padded.
fn put_digits(out: &mut [u8], mut value: i64) {
    for slot in out.iter_mut().rev() {
        // A digit 0–9: the cast cannot truncate.
        *slot = b'0' + value.rem_euclid(10) as u8;
        value /= 10;
    }
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
        assert_eq!(epoch_ms_to_datetime(i64::MIN), None);
        assert_eq!(
            epoch_ms_to_datetime(YEAR_0_MS).as_deref(),
            Some("0000-01-01T00:00:00.000Z")
        );
        assert_eq!(
            epoch_ms_to_datetime(YEAR_10000_MS - 1).as_deref(),
            Some("9999-12-31T23:59:59.999Z")
        );
        assert_eq!(epoch_ms_to_datetime(YEAR_0_MS - 1), None);
        assert_eq!(epoch_ms_to_datetime(YEAR_10000_MS), None);
        assert_eq!(
            epoch_ms_to_datetime(951_782_400_000).as_deref(),
            Some("2000-02-29T00:00:00.000Z"),
            "a leap day of a 400-year leap year"
        );
    }

    /// The text the `time` crate formats, for the hand-written one to agree with.
    fn formatted_by_time(ms: i64) -> Option<String> {
        let instant = OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000).ok()?;
        (0..=9999).contains(&instant.year()).then(|| {
            format!(
                "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
                instant.year(),
                u8::from(instant.month()),
                instant.day(),
                instant.hour(),
                instant.minute(),
                instant.second(),
                instant.millisecond()
            )
        })
    }

    proptest::proptest! {
        #[test]
        fn the_written_text_is_the_time_crate_s(ms in YEAR_0_MS - DAY_MS..YEAR_10000_MS + DAY_MS) {
            proptest::prop_assert_eq!(epoch_ms_to_datetime(ms), formatted_by_time(ms));
        }

        #[test]
        fn around_the_epoch_and_today_too(ms in -5 * 365 * DAY_MS..60 * 365 * DAY_MS) {
            proptest::prop_assert_eq!(epoch_ms_to_datetime(ms), formatted_by_time(ms));
        }
    }
}

//! RFC 3339 strings in `timestamp_t` attributes → epoch milliseconds (what OCSF and the Glue
//! `bigint` column expect), and the one text form of a `datetime_t` the tables hold: UTC with
//! milliseconds, `2023-04-28T12:00:00.123Z` (valid RFC 3339 for OCSF, and the
//! `yyyy-MM-dd'T'HH:mm:ss[.S]'Z'` form Firehose's OpenX JSON SerDe parses into a `timestamp`);
//! and numbers in seconds, microseconds or nanoseconds repaired to milliseconds ([`EpochUnit`]).

use std::fmt;
use std::str::FromStr;

use serde_json::Value;
use thiserror::Error;

use super::{ActionKind, Walk};
use crate::contract::partition::{EARLIEST_EVENT_MS, LATEST_EVENT_MS};
pub use ocsf_firehose_contract::time::{
    canonical_datetime, epoch_ms_to_datetime, rfc3339_to_epoch_ms,
};

/// What normalization does with a `timestamp_t` number in another unit than milliseconds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum TimeUnits {
    /// Seconds, microseconds and nanoseconds since the epoch, recognised by magnitude
    /// ([`EpochUnit::of`]), become milliseconds (`time_unit_repaired`).
    #[default]
    Repair,
    /// Numbers are taken as milliseconds, whatever their magnitude: a `time` in seconds has no
    /// `eventDay` and is rejected (`partition_time_invalid`).
    Strict,
}

/// A time-unit policy that is not `repair` or `strict`.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("unknown time-unit policy `{0}`: expected repair or strict")]
pub struct TimeUnitsError(pub String);

impl FromStr for TimeUnits {
    type Err = TimeUnitsError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "repair" => Ok(TimeUnits::Repair),
            "strict" => Ok(TimeUnits::Strict),
            _ => Err(TimeUnitsError(s.trim().to_owned())),
        }
    }
}

impl fmt::Display for TimeUnits {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TimeUnits::Repair => "repair",
            TimeUnits::Strict => "strict",
        })
    }
}

/// The unit of an epoch number, told by its magnitude: each unit's range is the plausible
/// event range ([`EARLIEST_EVENT_MS`] 2000-01-01 to [`LATEST_EVENT_MS`] 2100-01-01) in that
/// unit, and the four ranges are disjoint (each spans a factor of 4.3, the units a factor of
/// 1,000 apart), so a number in one of them has one reading:
///
/// | unit | range |
/// |---|---|
/// | seconds | 946,684,800 ≤ n < 4,102,444,800 |
/// | milliseconds | 946,684,800,000 ≤ n < 4,102,444,800,000 |
/// | microseconds | 946,684,800,000,000 ≤ n < 4,102,444,800,000,000 |
/// | nanoseconds | 946,684,800,000,000,000 ≤ n < 4,102,444,800,000,000,000 |
///
/// A number in none of them (a day count, a 1990 instant, one between two ranges) is
/// ambiguous and left as it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EpochUnit {
    /// Seconds since the epoch.
    Seconds,
    /// Milliseconds since the epoch: OCSF's `timestamp_t`.
    Milliseconds,
    /// Microseconds since the epoch.
    Microseconds,
    /// Nanoseconds since the epoch.
    Nanoseconds,
}

impl EpochUnit {
    /// Each unit with the bounds of its range (`EARLIEST_EVENT_MS..LATEST_EVENT_MS` in it:
    /// exact, both being whole seconds).
    const RANGES: [(EpochUnit, i64, i64); 4] = [
        (
            EpochUnit::Seconds,
            EARLIEST_EVENT_MS / 1_000,
            LATEST_EVENT_MS / 1_000,
        ),
        (EpochUnit::Milliseconds, EARLIEST_EVENT_MS, LATEST_EVENT_MS),
        (
            EpochUnit::Microseconds,
            EARLIEST_EVENT_MS * 1_000,
            LATEST_EVENT_MS * 1_000,
        ),
        (
            EpochUnit::Nanoseconds,
            EARLIEST_EVENT_MS * 1_000_000,
            LATEST_EVENT_MS * 1_000_000,
        ),
    ];

    /// The unit whose plausible range holds the integer `n`, if one does.
    pub fn of(n: i64) -> Option<EpochUnit> {
        Self::RANGES
            .iter()
            .find_map(|&(unit, start, end)| (start..end).contains(&n).then_some(unit))
    }

    /// The unit whose plausible range holds the number `x`, if one does (a bound is exact in
    /// `f64` to the nanosecond range's 512 ns: far below a unit's reading).
    pub fn of_f64(x: f64) -> Option<EpochUnit> {
        Self::RANGES
            .iter()
            .find_map(|&(unit, start, end)| (start as f64..end as f64).contains(&x).then_some(unit))
    }
}

/// A `timestamp_t` number repaired to epoch milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Repaired {
    /// The instant in milliseconds (sub-millisecond digits cut, toward the past).
    pub ms: i64,
    /// Whether digits below the millisecond were cut (the original must then be kept).
    pub lossy: bool,
}

/// `value` in milliseconds when it is a number in seconds, microseconds or nanoseconds
/// ([`EpochUnit::of`]); `None` for text, milliseconds and numbers of no unit. Fractions count
/// to the microsecond (a float's last digits are noise): `1682683200.5` seconds is
/// `1682683200500` exactly; a float in the milliseconds range is a type problem, not a unit
/// one, and is left to validation.
pub(super) fn repair_unit(value: &Value) -> Option<Repaired> {
    if let Some(n) = value.as_i64() {
        return match EpochUnit::of(n)? {
            EpochUnit::Milliseconds => None,
            EpochUnit::Seconds => Some(Repaired {
                ms: n.checked_mul(1_000)?,
                lossy: false,
            }),
            EpochUnit::Microseconds => Some(cut(n, 1_000)),
            EpochUnit::Nanoseconds => Some(cut(n, 1_000_000)),
        };
    }
    let x = value.as_f64().filter(|x| x.is_finite())?;
    let micros = match EpochUnit::of_f64(x)? {
        EpochUnit::Milliseconds => return None,
        EpochUnit::Seconds => x * 1e6,
        EpochUnit::Microseconds => x,
        EpochUnit::Nanoseconds => x / 1e3,
    };
    // Within ±4.1e15 by the ranges: exact as an i64.
    Some(cut(micros.round() as i64, 1_000))
}

impl Walk<'_, '_> {
    /// The `timestamp_t` value (or list of them) at `self.path`.
    pub(super) fn timestamps(&mut self, value: &mut Value) {
        match value {
            Value::Array(elements) => {
                for (index, element) in elements.iter_mut().enumerate() {
                    self.path.push_index(index);
                    self.timestamp(element);
                    self.path.pop();
                }
            }
            other => self.timestamp(other),
        }
    }

    /// One `timestamp_t` value at `self.path`: RFC 3339 text converted, a number in another
    /// unit repaired (per [`TimeUnits`]).
    fn timestamp(&mut self, value: &mut Value) {
        if convert(value) {
            self.act(ActionKind::TimestampConverted, self.path.to_string());
            return;
        }
        if self.options.time_units != TimeUnits::Repair {
            return;
        }
        let Some(repaired) = repair_unit(value) else {
            return;
        };
        let path = self.path.to_string();
        if repaired.lossy {
            // Digits below the millisecond would be lost: the value as it came is kept under
            // `unmapped` by its path, or, where it cannot be, left as it is.
            if !self.can_keep(&path) {
                return;
            }
            self.keep(path.clone(), value.take());
        }
        *value = Value::from(repaired.ms);
        self.act(ActionKind::TimeUnitRepaired, path);
    }
}

/// `n` units of `per_ms` to the millisecond.
fn cut(n: i64, per_ms: i64) -> Repaired {
    Repaired {
        ms: n.div_euclid(per_ms),
        lossy: n.rem_euclid(per_ms) != 0,
    }
}

/// Converts `value` in place when it is an RFC 3339 string; returns whether it did.
/// Strings without an offset are left alone: their instant is not derivable.
pub(super) fn convert(value: &mut Value) -> bool {
    let Some(ms) = value.as_str().and_then(rfc3339_to_epoch_ms) else {
        return false;
    };
    *value = Value::from(ms);
    true
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use serde_json::json;

    use super::*;

    const T_MS: i64 = 1_682_683_200_123; // 2023-04-28T12:00:00.123Z

    #[test]
    fn each_unit_is_repaired_to_milliseconds() {
        let repaired = |v: Value| repair_unit(&v).map(|r| (r.ms, r.lossy));
        assert_eq!(
            repaired(json!(1_682_683_200)),
            Some((1_682_683_200_000, false))
        );
        assert_eq!(repaired(json!(1_682_683_200.123)), Some((T_MS, false)));
        assert_eq!(repaired(json!(1_682_683_200.123_4)), Some((T_MS, true)));
        assert_eq!(repaired(json!(T_MS * 1_000)), Some((T_MS, false)));
        assert_eq!(repaired(json!(T_MS * 1_000 + 456)), Some((T_MS, true)));
        assert_eq!(repaired(json!(T_MS * 1_000_000)), Some((T_MS, false)));
        assert_eq!(repaired(json!(T_MS * 1_000_000 + 7)), Some((T_MS, true)));
        assert_eq!(repaired(json!(1.682_683_200_123e15)), Some((T_MS, false)));
    }

    #[test]
    fn milliseconds_text_and_numbers_of_no_unit_are_left() {
        for value in [
            json!(T_MS),
            json!(T_MS as f64),
            json!("1682683200"),
            json!(0),
            json!(19_475),                 // a day count
            json!(631_152_000),            // 1990-01-01 in seconds: before the range
            json!(631_152_000_000_i64),    // 1990-01-01 in milliseconds
            json!(10_000_000_000_000_i64), // between milliseconds and microseconds
            json!(-1_682_683_200),
            json!(u64::MAX),
            json!(f64::MAX),
        ] {
            assert_eq!(repair_unit(&value), None, "{value}");
        }
    }

    #[test]
    fn the_ranges_meet_the_plausible_range_at_both_ends() {
        let first_s = EARLIEST_EVENT_MS / 1_000;
        let last_s = LATEST_EVENT_MS / 1_000 - 1;
        assert_eq!(EpochUnit::of(first_s), Some(EpochUnit::Seconds));
        assert_eq!(EpochUnit::of(first_s - 1), None);
        assert_eq!(EpochUnit::of(last_s), Some(EpochUnit::Seconds));
        assert_eq!(EpochUnit::of(last_s + 1), None);
        assert_eq!(EpochUnit::of_f64(first_s as f64 - 0.5), None);
        assert_eq!(EpochUnit::of_f64(first_s as f64), Some(EpochUnit::Seconds));
        let last_ns = LATEST_EVENT_MS * 1_000_000 - 1;
        assert_eq!(EpochUnit::of(last_ns), Some(EpochUnit::Nanoseconds));
        assert_eq!(EpochUnit::of(last_ns + 1), None);
        assert_eq!(
            EpochUnit::of(EARLIEST_EVENT_MS * 1_000),
            Some(EpochUnit::Microseconds)
        );
        assert_eq!(EpochUnit::of(EARLIEST_EVENT_MS * 1_000 - 1), None);
    }

    proptest! {
        /// Any instant of the range, in any unit, comes back as its millisecond.
        #[test]
        fn every_unit_of_every_instant_comes_back(
            ms in EARLIEST_EVENT_MS..LATEST_EVENT_MS,
            sub in 0_i64..1_000_000,
        ) {
            prop_assert_eq!(repair_unit(&json!(ms)), None);
            let s = repair_unit(&json!(ms / 1_000)).map(|r| r.ms);
            prop_assert_eq!(s, Some(ms - ms % 1_000));
            let us = repair_unit(&json!(ms * 1_000 + sub / 1_000));
            prop_assert_eq!(us, Some(Repaired { ms, lossy: sub >= 1_000 }));
            let ns = repair_unit(&json!(ms * 1_000_000 + sub));
            prop_assert_eq!(ns, Some(Repaired { ms, lossy: sub != 0 }));
        }
    }

    #[test]
    fn converts_only_parseable_strings() {
        let mut v = Value::from("2023-04-28T12:00:00Z");
        assert!(convert(&mut v));
        assert_eq!(v, Value::from(1_682_683_200_000_i64));
        assert!(!convert(&mut v), "already a number");
        let mut s = Value::from("not a date");
        assert!(!convert(&mut s));
        assert_eq!(s, Value::from("not a date"));
    }
}

//! RFC 3339 strings in `timestamp_t` attributes → epoch milliseconds (what OCSF and the Glue
//! `bigint` column expect), and the one text form of a `datetime_t` the tables hold: UTC with
//! milliseconds, `2023-04-28T12:00:00.123Z` (valid RFC 3339 for OCSF, and the
//! `yyyy-MM-dd'T'HH:mm:ss[.S]'Z'` form Firehose's OpenX JSON SerDe parses into a `timestamp`).

use serde_json::Value;

pub use ocsf_firehose_contract::time::{
    canonical_datetime, epoch_ms_to_datetime, rfc3339_to_epoch_ms,
};

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
    use super::*;

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

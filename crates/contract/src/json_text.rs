//! Compact JSON text of a `serde_json::Value`: byte for byte what `serde_json::to_vec` writes
//! with serde_json's default map (integers by itoa and floats through serde_json's `Display`,
//! as it writes them; the same escapes), with each string scanned for characters to escape eight
//! bytes at a time. serde_json's writer looks
//! up every byte of every string in a table; for the Lambda's rows that was 6 % of its work on
//! small records. A property test holds the two writers to the same bytes.
//!
//! Object keys are always written in sorted order. serde_json's map is sorted by default, but
//! the AWS SDK turns on its `preserve_order` feature, so in a binary that links the SDK (the
//! CLI, the producer) maps keep insertion order, and `serde_json::to_vec` would write the
//! Lambda's rows with other key orders there than in the Lambda itself.

use std::io::Write as _;
use std::sync::OnceLock;

use serde_json::Value;

/// Appends `value`'s compact JSON text to `out`.
pub fn write_value(out: &mut Vec<u8>, value: &Value) {
    match value {
        Value::Null => out.extend_from_slice(b"null"),
        Value::Bool(true) => out.extend_from_slice(b"true"),
        Value::Bool(false) => out.extend_from_slice(b"false"),
        Value::Number(number) => write_number(out, number),
        Value::String(text) => write_str(out, text),
        Value::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_value(out, item);
            }
            out.push(b']');
        }
        Value::Object(map) if maps_are_sorted() || map.keys().is_sorted() => {
            write_entries(out, map.iter())
        }
        Value::Object(map) => {
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            entries.sort_unstable_by(|a, b| a.0.cmp(b.0));
            write_entries(out, entries.into_iter());
        }
    }
}

fn write_entries<'v>(out: &mut Vec<u8>, entries: impl Iterator<Item = (&'v String, &'v Value)>) {
    out.push(b'{');
    for (i, (key, item)) in entries.enumerate() {
        if i > 0 {
            out.push(b',');
        }
        write_str(out, key);
        out.push(b':');
        write_value(out, item);
    }
    out.push(b'}');
}

/// Whether this build's `serde_json::Map` iterates in key order (without `preserve_order`).
fn maps_are_sorted() -> bool {
    static SORTED: OnceLock<bool> = OnceLock::new();
    *SORTED.get_or_init(|| {
        let mut map = serde_json::Map::new();
        map.insert("b".to_owned(), Value::Null);
        map.insert("a".to_owned(), Value::Null);
        map.keys().next().is_some_and(|k| k == "a")
    })
}

/// `value`'s compact JSON text.
pub fn to_vec(value: &Value) -> Vec<u8> {
    let mut out = Vec::new();
    write_value(&mut out, value);
    out
}

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGHS: u64 = 0x8080_8080_8080_8080;

/// The short escape serde_json writes for `byte`; `None` for the other control characters,
/// which it writes as `\u00XX`.
fn short_escape(byte: u8) -> Option<&'static [u8]> {
    Some(match byte {
        b'"' => b"\\\"",
        b'\\' => b"\\\\",
        0x08 => b"\\b",
        0x0c => b"\\f",
        b'\n' => b"\\n",
        b'\r' => b"\\r",
        b'\t' => b"\\t",
        _ => return None,
    })
}

/// Integers as itoa writes them (serde_json's text for them); a float through serde_json's own
/// `Display`, which is its serializer's text for a finite float (a `Value` holds no other).
fn write_number(out: &mut Vec<u8>, number: &serde_json::Number) {
    if let Some(n) = number.as_u64() {
        out.extend_from_slice(itoa::Buffer::new().format(n).as_bytes());
    } else if let Some(n) = number.as_i64() {
        out.extend_from_slice(itoa::Buffer::new().format(n).as_bytes());
    } else {
        let _ = write!(out, "{number}");
    }
}

/// The high bit of each byte of `word` that is `"`, `\` or below 0x20 (the bytes JSON
/// escapes). The lowest one marked is the first such byte: the borrow trick can only mark a
/// byte above one that matches.
fn escape_mask(word: u64) -> u64 {
    let zero_byte = |x: u64| x.wrapping_sub(ONES) & !x & HIGHS;
    let quote = zero_byte(word ^ (ONES * u64::from(b'"')));
    let backslash = zero_byte(word ^ (ONES * u64::from(b'\\')));
    let control = word.wrapping_sub(ONES * 0x20) & !word & HIGHS;
    quote | backslash | control
}

/// The index of the first byte of `bytes` JSON escapes, eight bytes at a time (the tail padded
/// with spaces).
fn first_to_escape(bytes: &[u8]) -> Option<usize> {
    let at = |offset: usize, mask: u64| offset + (mask.trailing_zeros() / 8) as usize;
    let mut chunks = bytes.chunks_exact(8);
    let mut offset = 0;
    for chunk in &mut chunks {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        let mask = escape_mask(u64::from_le_bytes(word));
        if mask != 0 {
            return Some(at(offset, mask));
        }
        offset += 8;
    }
    let tail = chunks.remainder();
    if tail.is_empty() {
        return None;
    }
    let mut word = [b' '; 8];
    if let Some(head) = word.get_mut(..tail.len()) {
        head.copy_from_slice(tail);
    }
    let mask = escape_mask(u64::from_le_bytes(word));
    (mask != 0).then(|| at(offset, mask))
}

fn write_str(out: &mut Vec<u8>, text: &str) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut rest = text.as_bytes();
    out.reserve(rest.len() + 2);
    out.push(b'"');
    while let Some(at) = first_to_escape(rest) {
        let Some((plain, tail)) = rest.split_at_checked(at) else {
            break;
        };
        let Some((&byte, after)) = tail.split_first() else {
            break;
        };
        out.extend_from_slice(plain);
        match short_escape(byte) {
            Some(short) => out.extend_from_slice(short),
            None => out.extend_from_slice(&[
                b'\\',
                b'u',
                b'0',
                b'0',
                HEX[usize::from(byte >> 4)],
                HEX[usize::from(byte & 0xf)],
            ]),
        }
        rest = after;
    }
    out.extend_from_slice(rest);
    out.push(b'"');
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    fn same(value: &Value) {
        assert_eq!(
            String::from_utf8_lossy(&to_vec(value)),
            String::from_utf8_lossy(&serde_json::to_vec(&sorted(value)).unwrap())
        );
    }

    #[test]
    fn every_escape_and_number_is_serde_json_s() {
        let all_controls: String = (0u8..0x20).map(char::from).collect();
        same(&json!({
            "controls": all_controls,
            "quotes": "a\"b\\c/d",
            "unicode": "é ü 漢字 😀 \u{7f} \u{2028}",
            "long": "x".repeat(37) + "\"" + &"y".repeat(15) + "\n",
            "numbers": [0, -1, 1, i64::MIN, u64::MAX, 0.1, -2.5e-300, 1e300, 1.0, 100.0, 123456789.0],
            "nested": {"": [null, true, false, [], {}], "b": {"c": [[1], [2, {"d": "e"}]]}},
        }));
    }

    fn json_value() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(Value::from),
            any::<u64>().prop_map(Value::from),
            any::<f64>().prop_map(Value::from),
            ".*".prop_map(Value::String),
            "[\\x00-\\x7f]{0,40}".prop_map(Value::String),
        ];
        leaf.prop_recursive(4, 64, 8, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..8).prop_map(Value::Array),
                prop::collection::btree_map(".*", inner, 0..8)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    /// `value` with every object's keys inserted in sorted order: what serde_json writes for it
    /// is its default map's text, with `preserve_order` on or off.
    fn sorted(value: &Value) -> Value {
        match value {
            Value::Array(items) => Value::Array(items.iter().map(sorted).collect()),
            Value::Object(map) => {
                let mut entries: Vec<_> = map.iter().collect();
                entries.sort_by(|a, b| a.0.cmp(b.0));
                Value::Object(
                    entries
                        .into_iter()
                        .map(|(k, v)| (k.clone(), sorted(v)))
                        .collect(),
                )
            }
            other => other.clone(),
        }
    }

    #[test]
    fn keys_are_written_sorted_whatever_the_map_keeps() {
        let mut map = serde_json::Map::new();
        map.insert("zeta".to_owned(), json!(1));
        map.insert("alpha".to_owned(), json!({"y": 2, "x": 3}));
        assert_eq!(
            to_vec(&Value::Object(map)),
            br#"{"alpha":{"x":3,"y":2},"zeta":1}"#
        );
    }

    proptest! {
        #[test]
        fn the_text_is_serde_json_s(value in json_value()) {
            prop_assert_eq!(to_vec(&value), serde_json::to_vec(&sorted(&value)).unwrap());
        }
    }
}

//! "Nothing lost" for a fitted row: every leaf of an event is found again in the row, at its
//! place or under `unmapped` (keyed by the path of the value that moved, or of the event's own
//! `unmapped` entry), with the same value once JSON text is read back and datetimes compared as
//! instants.

use ocsf_firehose_transform::normalize::rfc3339_to_epoch_ms;
use serde_json::Value;

/// One step of a leaf's path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    Key(String),
    Index(usize),
}

/// `a.b[0].c`, as the table's moved paths are written.
pub fn render(steps: &[Step]) -> String {
    let mut out = String::new();
    for step in steps {
        match step {
            Step::Key(key) => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(key);
            }
            Step::Index(i) => out.push_str(&format!("[{i}]")),
        }
    }
    out
}

/// Every scalar (and empty container) of `value` with its path.
pub fn leaves(value: &Value) -> Vec<(Vec<Step>, Value)> {
    fn walk(value: &Value, path: &mut Vec<Step>, out: &mut Vec<(Vec<Step>, Value)>) {
        match value {
            Value::Object(map) if !map.is_empty() => {
                for (key, v) in map {
                    path.push(Step::Key(key.clone()));
                    walk(v, path, out);
                    path.pop();
                }
            }
            Value::Array(items) if !items.is_empty() => {
                for (i, v) in items.iter().enumerate() {
                    path.push(Step::Index(i));
                    walk(v, path, out);
                    path.pop();
                }
            }
            Value::Null => {}
            other => out.push((path.clone(), other.clone())),
        }
    }
    let mut out = Vec::new();
    walk(value, &mut Vec::new(), &mut out);
    out
}

/// The value at `steps` below `value`, reading JSON text where an object or array became text.
fn at(value: &Value, steps: &[Step]) -> Option<Value> {
    let Some((first, rest)) = steps.split_first() else {
        return Some(value.clone());
    };
    match (value, first) {
        (Value::Object(map), Step::Key(key)) => at(map.get(key)?, rest),
        (Value::Array(items), Step::Index(i)) => at(items.get(*i)?, rest),
        (Value::String(text), _) => at(&serde_json::from_str::<Value>(text).ok()?, steps),
        _ => None,
    }
}

/// The same value: equal, or the row holds its JSON text, or both are the same instant.
fn same(original: &Value, found: &Value) -> bool {
    if original == found {
        return true;
    }
    match (original, found) {
        (Value::String(a), Value::String(b)) => {
            rfc3339_to_epoch_ms(a).is_some() && rfc3339_to_epoch_ms(a) == rfc3339_to_epoch_ms(b)
        }
        (_, Value::String(text)) => {
            serde_json::from_str::<Value>(text).is_ok_and(|parsed| &parsed == original)
        }
        _ => false,
    }
}

/// Where `row` holds the leaf `(steps, value)` of the event it was fitted from; `Err` with the
/// path when it holds it nowhere (or with another value).
pub fn find_leaf(row: &Value, steps: &[Step], value: &Value) -> Result<(), String> {
    let in_unmapped = |key_steps: &[Step], rest: &[Step]| {
        let key = render(key_steps);
        row.get("unmapped")
            .and_then(|u| u.get(&key))
            .and_then(|text| at(text, rest))
            .is_some_and(|found| same(value, &found))
    };
    let own_unmapped = matches!(steps.first(), Some(Step::Key(k)) if k == "unmapped");
    if own_unmapped {
        let tail = steps.get(1..).unwrap_or_default();
        if (1..=tail.len()).any(|k| in_unmapped(&tail[..k], &tail[k..])) {
            return Ok(());
        }
    } else {
        if at(row, steps).is_some_and(|found| same(value, &found)) {
            return Ok(());
        }
        if (1..=steps.len()).any(|k| in_unmapped(&steps[..k], &steps[k..])) {
            return Ok(());
        }
    }
    Err(render(steps))
}

/// Whether `row` has anything at `steps` or under an `unmapped` key that is a prefix of it: the
/// path survives (values may have been normalized).
pub fn has_path(row: &Value, steps: &[Step]) -> bool {
    let unmapped = row.get("unmapped");
    let own_unmapped = matches!(steps.first(), Some(Step::Key(k)) if k == "unmapped");
    let keys = if own_unmapped {
        steps.get(1..).unwrap_or_default()
    } else {
        steps
    };
    (!own_unmapped && at(row, steps).is_some())
        || (1..=keys.len()).any(|k| unmapped.is_some_and(|u| u.get(render(&keys[..k])).is_some()))
}

/// The steps of a rendered path (`a.b[0].c`).
pub fn parse(path: &str) -> Vec<Step> {
    let mut steps = Vec::new();
    for part in path.split('.') {
        let mut pieces = part.split('[');
        if let Some(key) = pieces.next().filter(|k| !k.is_empty()) {
            steps.push(Step::Key(key.to_owned()));
        }
        for index in pieces {
            if let Ok(i) = index.trim_end_matches(']').parse() {
                steps.push(Step::Index(i));
            }
        }
    }
    steps
}

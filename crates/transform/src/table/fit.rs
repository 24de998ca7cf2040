//! Fitting a normalized event to its table: JSON-typed values become JSON text, datetimes take
//! their canonical UTC text, and whatever the table cannot hold (no column, a struct deeper than
//! the table, an integer beyond its column, a value of another type) moves under `unmapped`,
//! keyed by its path, so that Firehose's Parquet conversion has nothing to drop. `unmapped` is
//! then a `map<string,string>` like Security Lake's own tables: the event's own `unmapped`
//! entries and the moved values, each as a string (JSON text unless it was a string).

use serde_json::{Map, Value};

use super::columns::UNMAPPED;
use super::{find, Column, ColumnType, Scalar, TableModel};
use crate::normalize::canonical_datetime;

/// What fitting did to an event.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Fitted {
    /// Paths of the values moved under `unmapped` (`actor.process.parent_process.parent_process`).
    pub moved: Vec<String>,
}

impl TableModel {
    /// Fits `event` (a normalized event of this class) to the table, in place. Every value is
    /// kept: either in its column or under `unmapped` (a JSON text column).
    pub fn fit(&self, event: &mut Value) -> Fitted {
        let mut fitted = Fitted::default();
        let Some(map) = event.as_object_mut() else {
            return fitted;
        };
        let Some(unmapped_column) = self.column(UNMAPPED) else {
            return fitted;
        };
        let unmapped = map.remove(UNMAPPED);
        let mut overflow = Vec::new();
        fit_object(map, &self.columns, &Frame::ROOT, &mut overflow);
        if unmapped.is_none() && overflow.is_empty() {
            return fitted;
        }
        let mut open = match unmapped {
            Some(Value::Object(open)) => open,
            None | Some(Value::Null) => Map::new(),
            // JSON text of an object (an `unmapped` fitted as text): its entries.
            Some(Value::String(text)) => match serde_json::from_str::<Value>(&text) {
                Ok(Value::Object(open)) => open,
                _ => Map::from_iter([(UNMAPPED.to_owned(), Value::String(text))]),
            },
            Some(other) => Map::from_iter([(UNMAPPED.to_owned(), other)]),
        };
        for (path, value) in overflow {
            let mut key = path.clone();
            let mut n = 1;
            while open.contains_key(&key) {
                n += 1;
                key = format!("{path}#{n}");
            }
            fitted.moved.push(path);
            open.insert(key, value);
        }
        // Sorted: the order must not depend on serde_json's map implementation.
        fitted.moved.sort();
        let text = match unmapped_column.ty {
            ColumnType::Scalar(Scalar::Json) => Value::String(Value::Object(open).to_string()),
            ColumnType::StringMap => {
                for value in open.values_mut() {
                    if !value.is_string() {
                        *value = Value::String(value.to_string());
                    }
                }
                Value::Object(open)
            }
            _ => Value::Object(open),
        };
        map.insert(UNMAPPED.to_owned(), text);
        fitted
    }
}

/// One step of a path.
#[derive(Clone, Copy)]
enum Step<'a> {
    Root,
    Key(&'a str),
    Index(usize),
}

/// A path from the event root, kept as frames on the call stack and rendered only for a value
/// that moves (fitting an event that already fits allocates nothing for paths).
#[derive(Clone, Copy)]
struct Frame<'a> {
    parent: Option<&'a Frame<'a>>,
    step: Step<'a>,
}

impl Frame<'_> {
    const ROOT: Frame<'static> = Frame {
        parent: None,
        step: Step::Root,
    };

    /// `actor.process.parent_process`, `observables[0].extra`.
    fn render(&self) -> String {
        let mut steps = Vec::new();
        let mut frame = Some(self);
        while let Some(f) = frame {
            steps.push(f.step);
            frame = f.parent;
        }
        let mut out = String::new();
        for step in steps.iter().rev() {
            match step {
                Step::Root => {}
                Step::Key(key) => {
                    if !out.is_empty() {
                        out.push('.');
                    }
                    out.push_str(key);
                }
                Step::Index(i) => {
                    out.push('[');
                    out.push_str(&i.to_string());
                    out.push(']');
                }
            }
        }
        out
    }
}

/// Fits the attributes of one object; those the columns cannot hold go to `overflow`.
fn fit_object(
    map: &mut Map<String, Value>,
    columns: &[Column],
    frame: &Frame<'_>,
    overflow: &mut Vec<(String, Value)>,
) {
    let mut out = Vec::new();
    for (key, value) in map.iter_mut() {
        let here = Frame {
            parent: Some(frame),
            step: Step::Key(key),
        };
        let kept = find(columns, key).is_some_and(|c| fit_value(value, &c.ty, &here, overflow));
        if !kept {
            out.push((key.clone(), here.render()));
        }
    }
    for (key, path) in out {
        if let Some(value) = map.remove(&key) {
            overflow.push((path, value));
        }
    }
}

/// Fits one value to its column type; `false` when the column cannot hold it (the caller moves
/// it whole). Nothing is changed before the value is known to fit at this level.
fn fit_value(
    value: &mut Value,
    ty: &ColumnType,
    frame: &Frame<'_>,
    overflow: &mut Vec<(String, Value)>,
) -> bool {
    if value.is_null() {
        return true;
    }
    // A datetime is parsed once: held when it has a canonical text, which it then takes.
    if let (ColumnType::Scalar(Scalar::Timestamp), Value::String(text)) = (ty, &mut *value) {
        return match canonical_datetime(text) {
            Some(canonical) => {
                if canonical != *text {
                    *text = canonical;
                }
                true
            }
            None => false,
        };
    }
    if !holds(value, ty) {
        return false;
    }
    match (ty, value) {
        // Strings stay as they are (so fitting is idempotent); other values become JSON text.
        (ColumnType::Scalar(Scalar::Json), value) if !value.is_string() => {
            *value = Value::String(value.to_string());
        }
        (ColumnType::Struct(fields), Value::Object(map)) => {
            fit_object(map, fields, frame, overflow);
        }
        (ColumnType::Array(element), Value::Array(items)) => {
            for (i, item) in items.iter_mut().enumerate() {
                let here = Frame {
                    parent: Some(frame),
                    step: Step::Index(i),
                };
                // `holds` checked every element at its own level, so this cannot refuse.
                fit_value(item, element, &here, overflow);
            }
        }
        _ => {}
    }
    true
}

/// Whether the column type can hold the value at its own level (nested objects are fitted
/// field by field; array elements must each be held).
fn holds(value: &Value, ty: &ColumnType) -> bool {
    match (ty, value) {
        (_, Value::Null) => true,
        (ColumnType::Scalar(scalar), value) => match scalar {
            Scalar::Json => true,
            Scalar::Boolean => value.is_boolean(),
            Scalar::Int => value.as_i64().is_some_and(|n| i32::try_from(n).is_ok()),
            Scalar::Bigint => value.is_i64(),
            Scalar::Float => value
                .as_f64()
                .is_some_and(|n| n.is_finite() && n.abs() <= f64::from(f32::MAX)),
            Scalar::Timestamp => value.as_str().and_then(canonical_datetime).is_some(),
            Scalar::String => value.is_string(),
        },
        (ColumnType::StringMap, Value::Object(map)) => map.values().all(Value::is_string),
        (ColumnType::StringMap, _) => false,
        (ColumnType::Struct(_), value) => value.is_object(),
        (ColumnType::Array(element), Value::Array(items)) => {
            items.iter().all(|item| holds(item, element))
        }
        (ColumnType::Array(_), _) => false,
    }
}

impl TableModel {
    /// Paths of the values of `event` that no column holds (empty for a fitted event): what
    /// Firehose's Parquet conversion would drop or fail on.
    pub fn unheld_paths(&self, event: &Value) -> Vec<String> {
        let mut out = Vec::new();
        if let Value::Object(map) = event {
            unheld_in_object(map, &self.columns, "", &mut out);
        }
        out
    }
}

fn unheld_in_object(
    map: &Map<String, Value>,
    columns: &[Column],
    path: &str,
    out: &mut Vec<String>,
) {
    for (key, value) in map {
        let path = if path.is_empty() {
            key.clone()
        } else {
            format!("{path}.{key}")
        };
        match find(columns, key) {
            Some(column) => unheld(value, &column.ty, &path, out),
            None => out.push(path),
        }
    }
}

fn unheld(value: &Value, ty: &ColumnType, path: &str, out: &mut Vec<String>) {
    if !holds(value, ty) {
        out.push(path.to_owned());
        return;
    }
    match (ty, value) {
        (ColumnType::Struct(fields), Value::Object(map)) => {
            unheld_in_object(map, fields, path, out)
        }
        (ColumnType::Array(element), Value::Array(items)) => {
            for (i, item) in items.iter().enumerate() {
                unheld(item, element, &format!("{path}[{i}]"), out);
            }
        }
        // A JSON column holds text once fitted, a timestamp column its canonical text.
        (ColumnType::Scalar(Scalar::Json), value) if !value.is_string() && !value.is_null() => {
            out.push(path.to_owned());
        }
        (ColumnType::Scalar(Scalar::Timestamp), Value::String(text))
            if canonical_datetime(text).as_deref() != Some(text.as_str()) =>
        {
            out.push(path.to_owned());
        }
        _ => {}
    }
}

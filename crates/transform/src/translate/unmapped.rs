//! The event's `unmapped` object while translation keeps originals in it.

use serde_json::{Map, Value};

/// The event's `unmapped` object while translation keeps originals in it.
pub(super) struct Unmapped {
    map: Map<String, Value>,
    /// `unmapped` was absent (`Some(false)`), null (`Some(true)`) or an object (`None`).
    was_empty: Option<bool>,
    /// `unmapped` is something else: nothing can be kept.
    blocked: bool,
}

impl Unmapped {
    pub(super) fn take(event: &mut Map<String, Value>) -> Unmapped {
        let (map, was_empty, blocked) = match event.remove("unmapped") {
            None => (Map::new(), Some(false), false),
            Some(Value::Null) => (Map::new(), Some(true), false),
            Some(Value::Object(map)) => (map, None, false),
            Some(other) => {
                event.insert("unmapped".to_owned(), other);
                (Map::new(), None, true)
            }
        };
        Unmapped {
            map,
            was_empty,
            blocked,
        }
    }

    pub(super) fn can_keep(&self, path: &str) -> bool {
        !self.blocked && !self.map.contains_key(path)
    }

    /// Keeps `value` under `path`; `false` (and nothing kept) when that cannot be done.
    pub(super) fn keep(&mut self, path: &str, value: Value) -> bool {
        if !self.can_keep(path) {
            return false;
        }
        self.map.insert(path.to_owned(), value);
        true
    }

    pub(super) fn restore(self, event: &mut Map<String, Value>) {
        if self.blocked {
            return;
        }
        let value = match self.was_empty {
            Some(false) if self.map.is_empty() => return,
            Some(true) if self.map.is_empty() => Value::Null,
            _ => Value::Object(self.map),
        };
        event.insert("unmapped".to_owned(), value);
    }
}

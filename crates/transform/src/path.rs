//! Attribute paths (`actor.user.uid`, `observables[2].name`), kept as a cheap segment stack
//! while walking an event and rendered to a string only when something is reported.

use std::fmt::{self, Write};

/// One step of a path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Segment<'a> {
    /// An object key.
    Key(&'a str),
    /// An array index.
    Index(usize),
}

/// A path from the event root, as a stack of segments.
#[derive(Debug, Clone, Default)]
pub(crate) struct JsonPath<'a> {
    segments: Vec<Segment<'a>>,
}

impl<'a> JsonPath<'a> {
    /// Enters an object key.
    pub(crate) fn push_key(&mut self, key: &'a str) {
        self.segments.push(Segment::Key(key));
    }

    /// Enters an array element.
    pub(crate) fn push_index(&mut self, index: usize) {
        self.segments.push(Segment::Index(index));
    }

    /// Leaves the last segment.
    pub(crate) fn pop(&mut self) {
        self.segments.pop();
    }

    /// Renders the path with `last` appended (without pushing it).
    pub(crate) fn render_with(&self, last: &str) -> String {
        let mut out = self.to_string();
        if !out.is_empty() {
            out.push('.');
        }
        out.push_str(last);
        out
    }

    /// Renders the path with its last key replaced by `key`, keeping any index after it:
    /// the sibling of `types_ids[2]` is `types[2]`.
    pub(crate) fn render_sibling(&self, key: &str) -> String {
        let last_key = self
            .segments
            .iter()
            .rposition(|s| matches!(s, Segment::Key(_)));
        let mut segments = self.segments.clone();
        if let Some(slot) = last_key.and_then(|i| segments.get_mut(i)) {
            *slot = Segment::Key(key);
        }
        JsonPath { segments }.to_string()
    }
}

impl fmt::Display for JsonPath<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, segment) in self.segments.iter().enumerate() {
            match segment {
                Segment::Key(key) => {
                    if i > 0 {
                        f.write_char('.')?;
                    }
                    f.write_str(key)?;
                }
                Segment::Index(index) => write!(f, "[{index}]")?,
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_keys_and_indices() {
        let mut path = JsonPath::default();
        assert_eq!(path.to_string(), "");
        assert_eq!(path.render_with("class_uid"), "class_uid");
        path.push_key("observables");
        path.push_index(2);
        path.push_key("name");
        assert_eq!(path.to_string(), "observables[2].name");
        path.pop();
        assert_eq!(path.render_with("type_id"), "observables[2].type_id");
        path.push_key("type_ids");
        path.push_index(1);
        assert_eq!(path.render_sibling("types"), "observables[2].types[1]");
    }
}

//! The translation walk: the event's attribute tree against the source and target schemas side
//! by side (rules in the module documentation of [`super`]).

use serde_json::{Map, Value};

use super::shape::{fits, new_requirements_met};
use super::unmapped::Unmapped;
use super::{classes, Translation};
use crate::finding::Code;
use crate::normalize::{Action, ActionKind};
use crate::path::JsonPath;
use crate::schema::{AttrType, Attribute, EnumKey, Item, ProfileSet, Requirement, Schema};
use crate::validate::{active_profiles, is_absent, OTHER, UNKNOWN};
use crate::version::OcsfRelease;

/// Class-level ids translation sets itself (after the walk), never as enums.
const CLASS_IDS: [&str; 3] = ["class_uid", "category_uid", "type_uid"];

/// An event whose configured source release is the target but which declares another:
/// only `metadata.version` changes.
pub(super) fn restamp(
    event: &mut Value,
    target: OcsfRelease,
    declared: Option<String>,
) -> Translation {
    let Some(declared) = declared.filter(|d| d != target.as_str()) else {
        return Translation::default();
    };
    let Some(map) = event.as_object_mut() else {
        return Translation::default();
    };
    let mut unmapped = Unmapped::take(map);
    let mut translation = Translation::default();
    if unmapped.keep("metadata.version", Value::String(declared)) {
        set_version(map, target);
        translation.source = Some(target);
        translation
            .actions
            .push(action(ActionKind::VersionTranslated, "metadata.version"));
    }
    unmapped.restore(map);
    translation
}

/// Translates `event` from `source` to `target`.
pub(super) fn translate(
    source: &'static Schema,
    target: &'static Schema,
    max_depth: usize,
    event: &mut Value,
) -> Translation {
    let untranslatable =
        |message: String| Translation::refused(Code::VersionUntranslatable, "class_uid", message);
    let Some(map) = event.as_object_mut() else {
        return Translation::default();
    };
    let Some(uid) = map.get("class_uid").and_then(Value::as_i64) else {
        // Without a class nothing can be translated; validation reports why.
        return Translation::default();
    };
    let Some(source_class) = source.class(uid) else {
        return Translation::default();
    };
    let target_uid = classes::target_uid(source.version(), target.version(), uid);
    let Some(target_class) = target.class(target_uid) else {
        return untranslatable(format!(
            "Class \"{}\" ({uid}) of OCSF {} has no counterpart in OCSF {}.",
            source_class.item.name,
            source.version(),
            target.version()
        ));
    };
    let unmapped = Unmapped::take(map);
    let mut needed = vec!["metadata.version"];
    if target_uid != uid {
        needed.push("class_uid");
    }
    if let Some(key) = needed.iter().find(|key| !unmapped.can_keep(key)) {
        unmapped.restore(map);
        return untranslatable(format!(
            "\"unmapped\" already holds \"{key}\", where translation keeps the original value."
        ));
    }
    let mut walk = Walk {
        source,
        target,
        up: source.version() < target.version(),
        max_depth,
        profiles: active_profiles(target, map),
        path: JsonPath::default(),
        actions: Vec::new(),
        unmapped,
    };
    let activity = map.get("activity_id").and_then(Value::as_i64);
    walk.item(map, Some(&source_class.item), &target_class.item, 0, true);
    walk.class_ids(map, source_class, target_class, activity);
    walk.observables(map, source_class, target_class);
    walk.profiles(map);
    let original = map
        .get("metadata")
        .and_then(|m| m.get("version"))
        .cloned()
        .unwrap_or(Value::Null);
    if !original.is_null() {
        walk.unmapped.keep("metadata.version", original);
    }
    if set_version(map, target.version()) {
        walk.actions
            .push(action(ActionKind::VersionTranslated, "metadata.version"));
    }
    let Walk {
        actions, unmapped, ..
    } = walk;
    unmapped.restore(map);
    Translation {
        source: Some(source.version()),
        actions,
        problems: Vec::new(),
    }
}

/// An action without a `from`.
pub(super) fn action(kind: ActionKind, path: impl Into<String>) -> Action {
    Action {
        kind,
        path: path.into(),
        from: None,
    }
}

/// Sets `metadata.version` (when `metadata` is an object).
fn set_version(map: &mut Map<String, Value>, version: OcsfRelease) -> bool {
    let Some(metadata) = map.get_mut("metadata").and_then(Value::as_object_mut) else {
        return false;
    };
    metadata.insert("version".to_owned(), Value::from(version.as_str()));
    true
}

/// One event's translation in progress.
pub(super) struct Walk {
    pub(super) source: &'static Schema,
    pub(super) target: &'static Schema,
    /// Translating up from an older release.
    pub(super) up: bool,
    pub(super) max_depth: usize,
    /// The event's profiles, in the target.
    pub(super) profiles: ProfileSet,
    pub(super) path: JsonPath<'static>,
    pub(super) actions: Vec<Action>,
    pub(super) unmapped: Unmapped,
}

impl Walk {
    fn item(
        &mut self,
        map: &mut Map<String, Value>,
        source: Option<&'static Item>,
        target: &'static Item,
        depth: usize,
        class_level: bool,
    ) {
        if target.is_open() {
            return;
        }
        // Reading first: the few keys that move or are renamed (most need neither).
        let mut changes: Vec<(String, bool)> = Vec::new();
        for (key, value) in map.iter() {
            let source_attr = source.and_then(|item| item.attribute(key));
            match target.attribute(key) {
                None if source_attr.is_some() => changes.push((key.clone(), false)),
                None => {}
                Some(attr) if class_level && CLASS_IDS.contains(&attr.name) => {}
                Some(attr) => {
                    // The shape changed between the releases (and the value has the source's).
                    let reshaped = source_attr.is_some_and(|s| {
                        fits(self.source, Some(value), s) && !fits(self.target, Some(value), attr)
                    });
                    if reshaped || (self.up && attr.renamed_to.is_some()) {
                        changes.push((key.clone(), reshaped));
                    }
                }
            }
        }
        // A renamed attribute keeps its source definition for the steps below.
        let mut renamed: Vec<(&'static str, Option<&'static Attribute>)> = Vec::new();
        for (key, reshaped) in changes {
            let source_attr = source.and_then(|item| item.attribute(&key));
            match target.attribute(&key) {
                None => {
                    if let Some(new) = self.absent_in_target(map, &key, source, target) {
                        renamed.push((new, source_attr));
                    }
                }
                Some(_) if reshaped => self.move_out(map, &key),
                Some(attr) => {
                    if let Some(new) = self.renamed_up(map, &key, source, target, attr) {
                        renamed.push((new.name, source_attr));
                    }
                }
            }
        }
        // Then objects and enums, in place.
        let nested: Vec<(&'static Attribute, Option<&'static Attribute>)> = map
            .keys()
            .filter_map(|key| {
                let attr = target.attribute(key)?;
                let walked = matches!(attr.ty, AttrType::Object(_)) || attr.enum_values.is_some();
                if !walked || (class_level && CLASS_IDS.contains(&attr.name)) {
                    return None;
                }
                let source_attr = match renamed.iter().find(|(name, _)| *name == attr.name) {
                    Some((_, source_attr)) => *source_attr,
                    None => source.and_then(|item| item.attribute(key)),
                };
                Some((attr, source_attr))
            })
            .collect();
        for (attr, source_attr) in nested {
            self.attribute(map, source_attr, attr, target, depth);
        }
        if let Some(source) = source {
            self.fill_required(map, source, target);
        }
    }

    /// A required integer enum the target added (the source item has no such attribute, so
    /// its value is not known) is set to 0 (Unknown), when the enum defines it.
    fn fill_required(&mut self, map: &mut Map<String, Value>, source: &Item, target: &Item) {
        for attr in target.required() {
            if !is_absent(map.get(attr.name))
                || !self.profiles.admits(attr.profile)
                || source.attribute(attr.name).is_some()
                || attr.is_array
                || attr.enum_value(&EnumKey::Int(UNKNOWN)).is_none()
            {
                continue;
            }
            map.insert(attr.name.to_owned(), Value::from(UNKNOWN));
            self.actions.push(action(
                ActionKind::UnknownFilled,
                self.path.render_with(attr.name),
            ));
        }
    }

    /// An attribute the target item lacks: carried to the older name it replaced, else moved
    /// under `unmapped` when the source defines it (and left to the unknown-attribute policy
    /// when the source does not either).
    /// Returns the name it was carried to.
    fn absent_in_target(
        &mut self,
        map: &mut Map<String, Value>,
        key: &str,
        source: Option<&'static Item>,
        target: &'static Item,
    ) -> Option<&'static str> {
        let source = source?;
        source.attribute(key)?;
        let replaced = source.attributes.iter().find(|old| {
            old.renamed_to
                .and_then(|i| source.attribute_at(i))
                .is_some_and(|new| new.name == key)
        });
        let old = replaced.and_then(|old| target.attribute(old.name));
        if let Some(old) = old.filter(|old| !map.contains_key(old.name)) {
            if fits(self.target, map.get(key), old) {
                self.rename(map, key, old.name);
                return Some(old.name);
            }
        }
        self.move_out(map, key);
        None
    }

    /// Up from an older release: a deprecated attribute whose replacement the source did not
    /// have yet is carried to it.
    fn renamed_up(
        &mut self,
        map: &mut Map<String, Value>,
        key: &str,
        source: Option<&'static Item>,
        target: &'static Item,
        attr: &'static Attribute,
    ) -> Option<&'static Attribute> {
        if !self.up {
            return None;
        }
        let new = target.attribute_at(attr.renamed_to?)?;
        let source_lacks_it = source.is_some_and(|item| item.attribute(new.name).is_none());
        if !source_lacks_it || map.contains_key(new.name) {
            return None;
        }
        self.rename(map, key, new.name);
        Some(new)
    }

    fn rename(&mut self, map: &mut Map<String, Value>, from: &str, to: &'static str) {
        if let Some(value) = map.remove(from) {
            map.insert(to.to_owned(), value);
            self.actions.push(Action {
                kind: ActionKind::AttributeRenamed,
                path: self.path.render_with(to),
                from: Some(self.path.render_with(from)),
            });
        }
    }

    fn attribute(
        &mut self,
        map: &mut Map<String, Value>,
        source: Option<&'static Attribute>,
        target: &'static Attribute,
        item: &'static Item,
        depth: usize,
    ) {
        match target.ty {
            AttrType::Object(id) => {
                if depth >= self.max_depth {
                    return;
                }
                let Some(target_object) = self.target.object(id) else {
                    return;
                };
                let source_object = match source.map(|a| a.ty) {
                    Some(AttrType::Object(id)) => self.source.object(id),
                    _ => None,
                };
                self.path.push_key(target.name);
                let mut met = true;
                match map.get_mut(target.name) {
                    Some(Value::Object(inner)) => {
                        self.item(inner, source_object, target_object, depth + 1, false);
                        met = new_requirements_met(
                            inner,
                            source_object,
                            target_object,
                            self.profiles,
                        );
                    }
                    Some(Value::Array(elements)) => {
                        for (index, element) in elements.iter_mut().enumerate() {
                            if let Value::Object(inner) = element {
                                self.path.push_index(index);
                                self.item(inner, source_object, target_object, depth + 1, false);
                                met &= new_requirements_met(
                                    inner,
                                    source_object,
                                    target_object,
                                    self.profiles,
                                );
                                self.path.pop();
                            }
                        }
                    }
                    _ => {}
                }
                self.path.pop();
                // An object that fails what the target asks and the source did not (rc.2's
                // `actor.idp: {}` a new constraint, its `compliance` the now required
                // `standards`) cannot be kept in place.
                // A required one stays: validation then names what is missing inside it.
                if !met && target.requirement != Requirement::Required {
                    self.move_out(map, target.name);
                }
            }
            AttrType::Scalar(_) => {
                if let Some(source) = source {
                    self.enum_value(map, source, target, item);
                }
            }
        }
    }

    /// An integer enum value the target lacks (and the source defines) becomes 99 (Other), its
    /// caption kept in the sibling and the original under `unmapped`.
    fn enum_value(
        &mut self,
        map: &mut Map<String, Value>,
        source: &'static Attribute,
        target: &'static Attribute,
        item: &'static Item,
    ) {
        let (Some(_), Some(_)) = (&source.enum_values, &target.enum_values) else {
            return;
        };
        let defined = |attr: &Attribute, id: i64| attr.enum_value(&EnumKey::Int(id)).is_some();
        let lacking =
            |id: &Option<i64>| id.is_some_and(|id| defined(source, id) && !defined(target, id));
        // Most values are defined in both: decided without allocating.
        let ids: Vec<Option<i64>> = match map.get(target.name) {
            Some(Value::Number(n)) if !target.is_array && lacking(&n.as_i64()) => {
                vec![n.as_i64()]
            }
            Some(Value::Array(items))
                if target.is_array && items.iter().any(|v| lacking(&v.as_i64())) =>
            {
                items.iter().map(Value::as_i64).collect()
            }
            _ => return,
        };
        let Some(original) = map.get(target.name).cloned() else {
            return;
        };
        let path = self.path.render_with(target.name);
        if !defined(target, OTHER) {
            self.move_out(map, target.name);
            return;
        }
        if !self.unmapped.keep(&path, original.clone()) {
            return;
        }
        let caption = |id: &Option<i64>| -> Value {
            let id = id.unwrap_or_default();
            [target, source]
                .iter()
                .find_map(|attr| attr.enum_value(&EnumKey::Int(id)))
                .map_or(Value::Null, |v| Value::from(v.caption))
        };
        let translated = |id: &Option<i64>| match id {
            Some(_) if lacking(id) => Value::from(OTHER),
            Some(id) => Value::from(*id),
            None => Value::Null,
        };
        let (value, captions) = if target.is_array {
            (
                Value::Array(ids.iter().map(translated).collect()),
                Value::Array(ids.iter().map(caption).collect()),
            )
        } else {
            (translated(&ids[0]), caption(&ids[0]))
        };
        map.insert(target.name.to_owned(), value);
        self.actions.push(action(ActionKind::EnumToOther, path));
        let sibling = target
            .sibling
            .and_then(|s| item.attribute(s))
            .filter(|s| s.is_array == target.is_array);
        if let Some(sibling) = sibling {
            if is_absent(map.get(sibling.name)) && !captions.is_null() {
                map.insert(sibling.name.to_owned(), captions);
                self.actions.push(action(
                    ActionKind::CaptionFilled,
                    self.path.render_with(sibling.name),
                ));
            }
        }
    }

    /// Moves `key` under `unmapped` by its path (unless the key is taken there).
    pub(super) fn move_out(&mut self, map: &mut Map<String, Value>, key: &str) {
        let path = self.path.render_with(key);
        if !self.unmapped.can_keep(&path) {
            return;
        }
        if let Some(value) = map.remove(key) {
            self.unmapped.keep(&path, value);
            self.actions.push(action(ActionKind::MovedToUnmapped, path));
        }
    }
}

//! Normalization: fill what the schema lets us derive, convert RFC 3339 timestamps, and carry
//! attributes the schema does not know under `unmapped` so that Firehose's Parquet conversion
//! (which silently drops every column the Glue table lacks) loses nothing.
//!
//! Rules: deterministic; idempotent (`normalize(normalize(e)) == normalize(e)`); never
//! overwrites a present value; never invents what cannot be derived (no default `time`, no
//! product); never turns a passing check into a failing one (`validate(normalize(e))` has no
//! error that `validate(e)` lacks, which the property tests check). Every change is reported as
//! an [`Action`].
//!
//! Stages: enum ids and captions (`enums`), class-level ids (here), timestamps (`time`),
//! unknown attributes (here, per [`UnknownAttributes`]); the settings are in `options`.

mod actions;
mod enums;
mod options;
mod profiles;
mod time;

pub use actions::{Action, ActionKind};
pub use options::{NormalizeOptions, UnknownAttributes, UnknownPolicyError};
pub use time::{
    canonical_datetime, epoch_ms_to_datetime, rfc3339_to_epoch_ms, EpochUnit, TimeUnits,
    TimeUnitsError,
};

use serde_json::{Map, Value};

use crate::path::JsonPath;
use crate::schema::{AttrType, Attribute, Class, Item, ProfileId, ProfileSet, Schema, TypeId};
use crate::validate::{active_profiles, is_absent, ValidateOptions, Validation, Validator};

/// Normalizes events against one schema.
#[derive(Debug, Clone)]
pub struct Normalizer<'s> {
    schema: &'s Schema,
    options: NormalizeOptions,
    timestamp_type: Option<TypeId>,
    datetime_profile: Option<ProfileId>,
}

impl<'s> Normalizer<'s> {
    /// A normalizer for `schema`.
    pub fn new(schema: &'s Schema, options: NormalizeOptions) -> Self {
        Normalizer {
            schema,
            options,
            timestamp_type: schema.type_id("timestamp_t"),
            datetime_profile: schema.profile_id("datetime"),
        }
    }

    /// Normalizes `event` in place and reports what changed. Events that are not objects or
    /// whose `class_uid` is not a known class are left as they are (validation reports why).
    pub fn normalize(&self, event: &mut Value) -> Vec<Action> {
        let validator = Validator::new(
            self.schema,
            ValidateOptions {
                max_depth: self.options.max_depth,
                ..ValidateOptions::default()
            },
        );
        self.normalize_judging(event, &validator).0
    }

    /// [`Normalizer::normalize`], judging profiles with `validator` (the engine's, under
    /// `options.severity`): also the validation of the normalized event when the profile trials
    /// made it of that very state, the event unchanged since (for the engine not to validate
    /// the same event twice).
    pub(crate) fn normalize_judging(
        &self,
        event: &mut Value,
        validator: &Validator<'_>,
    ) -> (Vec<Action>, Option<Validation>) {
        let Some(class) = event
            .get("class_uid")
            .and_then(Value::as_i64)
            .and_then(|uid| self.schema.class(uid))
        else {
            return (Vec::new(), None);
        };
        let mut actions = self.list_datetime(event);
        let (walked, candidates) = self.walk(event, class, true);
        actions.extend(walked);
        if candidates == ProfileSet::EMPTY {
            return (actions, None);
        }
        let added = profiles::add_harmless(
            self.schema,
            validator,
            &self.options.severity,
            event,
            candidates,
        );
        actions.extend(added.actions);
        // Every change a walk makes is reported: none, and the event is as validated.
        let (walked, _) = self.walk(event, class, false);
        let validation = added.validation.filter(|_| walked.is_empty());
        actions.extend(walked);
        (actions, validation)
    }

    /// Lists the `datetime` profile in `metadata.profiles` when the event does not, so that
    /// every `*_dt` sibling is filled from its epoch field as Security Lake's own sources fill
    /// them (`time_dt` is what AWS's documented queries filter on). The profile only adds
    /// optional `*_dt` attributes. Nothing is listed when `metadata` is not an object or its
    /// `profiles` is not a list (validation reports those).
    fn list_datetime(&self, event: &mut Value) -> Vec<Action> {
        let Some(datetime) = self.datetime_profile else {
            return Vec::new();
        };
        let Some(map) = event.as_object() else {
            return Vec::new();
        };
        if active_profiles(self.schema, map).contains(datetime)
            || !profiles::list_profile(event, self.schema.profile_name(datetime))
        {
            return Vec::new();
        }
        vec![Action {
            kind: ActionKind::ProfileAdded,
            path: "metadata.profiles".to_owned(),
            from: None,
        }]
    }

    /// One walk over the event. With `defer_profiled`, attributes that only need a profile the
    /// event does not list stay in place and their profiles are returned as candidates.
    fn walk(
        &self,
        event: &mut Value,
        class: &Class,
        defer_profiled: bool,
    ) -> (Vec<Action>, ProfileSet) {
        let Some(map) = event.as_object_mut() else {
            return (Vec::new(), ProfileSet::EMPTY);
        };
        let mut walk = Walk {
            schema: self.schema,
            options: &self.options,
            timestamp_type: self.timestamp_type,
            datetime_profile: self.datetime_profile,
            profiles: active_profiles(self.schema, map),
            path: JsonPath::default(),
            actions: Vec::new(),
            unmapped: None,
            defer_profiled,
            deferred: ProfileSet::EMPTY,
        };
        walk.fill_version(map);
        let restore = walk.take_unmapped(map, class);
        walk.item(map, &class.item, 0, Some(class));
        if let Some(restore) = restore {
            walk.put_unmapped(map, restore);
        }
        (walk.actions, walk.deferred)
    }
}

/// How `unmapped` looked before the walk took it out.
enum UnmappedBefore {
    Absent,
    Null,
    Object,
}

struct Walk<'s, 'o> {
    schema: &'s Schema,
    options: &'o NormalizeOptions,
    timestamp_type: Option<TypeId>,
    datetime_profile: Option<ProfileId>,
    profiles: ProfileSet,
    path: JsonPath<'static>,
    actions: Vec<Action>,
    /// The event's `unmapped` object while the walk may move attributes into it.
    unmapped: Option<Map<String, Value>>,
    /// Leave attributes that need an unlisted profile in place, collecting the profiles.
    defer_profiled: bool,
    /// The profiles collected so.
    deferred: ProfileSet,
}

impl Walk<'_, '_> {
    fn act(&mut self, kind: ActionKind, path: String) {
        self.actions.push(Action {
            kind,
            path,
            from: None,
        });
    }

    fn fill_version(&mut self, event: &mut Map<String, Value>) {
        let Some(metadata) = event.get_mut("metadata").and_then(Value::as_object_mut) else {
            return;
        };
        if is_absent(metadata.get("version")) {
            let version = self.schema.version().as_str();
            metadata.insert("version".to_owned(), Value::String(version.to_owned()));
            self.act(ActionKind::VersionFilled, "metadata.version".to_owned());
        }
    }

    /// Takes `unmapped` out of the event so that nested walks can move attributes into it.
    /// Nothing is taken (and nothing moved) unless the policy says so and `unmapped` is absent,
    /// null or an object.
    fn take_unmapped(
        &mut self,
        event: &mut Map<String, Value>,
        class: &Class,
    ) -> Option<UnmappedBefore> {
        if self.options.unknown_attributes != UnknownAttributes::Unmapped
            || class.item.attribute("unmapped").is_none()
        {
            return None;
        }
        let (before, map) = match event.remove("unmapped") {
            None => (UnmappedBefore::Absent, Map::new()),
            Some(Value::Null) => (UnmappedBefore::Null, Map::new()),
            Some(Value::Object(map)) => (UnmappedBefore::Object, map),
            Some(other) => {
                event.insert("unmapped".to_owned(), other);
                return None;
            }
        };
        self.unmapped = Some(map);
        Some(before)
    }

    /// Whether a value can be kept under `unmapped` by `path`: the walk holds `unmapped` (the
    /// policy moves attributes there and it is absent, null or an object) and the key is free.
    fn can_keep(&self, path: &str) -> bool {
        self.unmapped
            .as_ref()
            .is_some_and(|unmapped| !unmapped.contains_key(path))
    }

    /// Keeps `value` under `unmapped` by `path` (where [`Walk::can_keep`] said it can be).
    fn keep(&mut self, path: String, value: Value) {
        if let Some(unmapped) = self.unmapped.as_mut() {
            unmapped.insert(path, value);
        }
    }

    fn put_unmapped(&mut self, event: &mut Map<String, Value>, before: UnmappedBefore) {
        let Some(map) = self.unmapped.take() else {
            return;
        };
        let value = match before {
            UnmappedBefore::Absent if map.is_empty() => return,
            UnmappedBefore::Null if map.is_empty() => Value::Null,
            _ => Value::Object(map),
        };
        event.insert("unmapped".to_owned(), value);
    }

    fn item(
        &mut self,
        map: &mut Map<String, Value>,
        item: &Item,
        depth: usize,
        class: Option<&Class>,
    ) {
        let profiles = self.profiles;
        let mut present = Present::default();
        let mut unknown = Vec::new();
        for (key, value) in map.iter_mut() {
            match item
                .attribute_entry(key)
                .filter(|(_, a)| profiles.admits(a.profile))
            {
                Some((index, attr)) => {
                    if !value.is_null() {
                        present.insert(index);
                    }
                    self.path.push_key(attr.name);
                    self.attribute(value, attr.ty, depth);
                    self.path.pop();
                }
                None if item.is_open() => {}
                None => match item.attribute(key).and_then(|a| a.profile) {
                    Some(profile) if self.defer_profiled => self.deferred.insert(profile),
                    _ => unknown.push(key.clone()),
                },
            }
        }
        for key in unknown {
            self.move_to_unmapped(map, key);
        }
        self.fill_datetimes(map, item);
        self.enums(map, item, class, &mut present);
    }

    /// Enum ids and captions, in the order that lets each fill feed the next: ids from
    /// captions, then the class-level ids, then captions from ids. `present` (filled while
    /// walking the keys) makes the common case, where everything is there, lookup-free.
    fn enums(
        &mut self,
        map: &mut Map<String, Value>,
        item: &Item,
        class: Option<&Class>,
        present: &mut Present,
    ) {
        let profiles = self.profiles;
        let captioned = || {
            item.captioned_enums()
                .filter(move |(_, a)| profiles.admits(a.profile))
        };
        let sibling_present = |present: &Present, attr: &Attribute| {
            attr.sibling_index.is_some_and(|i| present.contains(i))
        };
        if let Some(class) = class {
            if self.derive_activity_from_type(map, class) {
                present.mark(item, "activity_id");
            }
        }
        // At the event level `activity_id` and `type_uid` must agree, so each is taken from its
        // caption only while the other is absent; the other is then derived from it.
        let contradicts = |map: &Map<String, Value>, attr: &Attribute| {
            class.is_some()
                && match attr.name {
                    "activity_id" => !is_absent(map.get("type_uid")),
                    "type_uid" => !is_absent(map.get("activity_id")),
                    _ => false,
                }
        };
        for (index, attr) in captioned() {
            if present.contains(index) || !sibling_present(present, attr) || contradicts(map, attr)
            {
                continue;
            }
            if let Some(kind) = enums::fill_id(map, attr) {
                present.insert(index);
                self.act(kind, self.path.render_with(attr.name));
            }
        }
        if let Some(class) = class {
            if self.derive_activity_from_type(map, class) {
                present.mark(item, "activity_id");
            }
        }
        if let Some(class) = class {
            for filled in self.derive_class_ids(map, class) {
                present.mark(item, filled);
            }
        }
        for (index, attr) in captioned() {
            if !present.contains(index) {
                continue;
            }
            if !sibling_present(present, attr) {
                if let Some(sibling) = enums::fill_caption(map, item, attr, profiles) {
                    self.act(ActionKind::CaptionFilled, self.path.render_with(sibling));
                }
            } else if let Some((sibling, before)) =
                enums::rewrite_caption(map, item, attr, profiles)
            {
                let path = self.path.render_with(sibling);
                // The caption as it came is kept under `unmapped`, by its path.
                if let Some(unmapped) = self.unmapped.as_mut() {
                    unmapped.insert(path.clone(), before);
                }
                self.act(ActionKind::CaptionRewritten, path);
            }
        }
    }

    /// Fills each absent `X_dt` the active profiles admit (the `datetime` profile's, which
    /// [`Normalizer::list_datetime`] lists) from the epoch milliseconds of its sibling `X`:
    /// derivable, so normalization may. An `X_dt` that is not text (a number, `[null]`) is
    /// replaced the same way, the value that came kept under `unmapped` by its path.
    fn fill_datetimes(&mut self, map: &mut Map<String, Value>, item: &Item) {
        let (Some(timestamp), Some(datetime)) = (self.timestamp_type, self.datetime_profile) else {
            return;
        };
        // An event whose profiles could not be listed (`metadata` not an object).
        if !self.profiles.contains(datetime) {
            return;
        }
        let mut filled = Vec::new();
        for (key, value) in map.iter() {
            let Some(ms) = value.as_i64() else {
                continue;
            };
            let is_timestamp = item
                .attribute(key)
                .is_some_and(|a| a.ty == AttrType::Scalar(timestamp) && !a.is_array);
            if !is_timestamp {
                continue;
            }
            let dt = format!("{key}_dt");
            let admitted = item
                .attribute(&dt)
                .is_some_and(|a| a.profile == Some(datetime));
            // Absent, or not text at all (`[null]`, a number): derivable from `X`, so filled; a
            // value that was there is kept under `unmapped`.
            let present = map.get(&dt).filter(|v| !v.is_null());
            if admitted && !present.is_some_and(Value::is_string) {
                if let Some(text) = time::epoch_ms_to_datetime(ms) {
                    filled.push((dt, text));
                }
            }
        }
        // Sorted: the order must not depend on serde_json's map implementation.
        filled.sort();
        for (dt, text) in filled {
            let path = self.path.render_with(&dt);
            if let Some(before) = map.get(&dt).filter(|v| !v.is_null()) {
                if !self.can_keep(&path) {
                    continue;
                }
                self.keep(path.clone(), before.clone());
            }
            self.act(ActionKind::DatetimeFilled, path);
            map.insert(dt, Value::String(text));
        }
    }

    fn attribute(&mut self, value: &mut Value, ty: AttrType, depth: usize) {
        match (ty, value) {
            (AttrType::Scalar(id), value) if Some(id) == self.timestamp_type => {
                self.timestamps(value);
            }
            (AttrType::Object(id), Value::Object(map)) => self.object(map, id, depth),
            (AttrType::Object(id), Value::Array(elements)) => {
                for (index, element) in elements.iter_mut().enumerate() {
                    if let Value::Object(map) = element {
                        self.path.push_index(index);
                        self.object(map, id, depth);
                        self.path.pop();
                    }
                }
            }
            _ => {}
        }
    }

    fn object(&mut self, map: &mut Map<String, Value>, id: crate::schema::ObjectId, depth: usize) {
        if depth >= self.options.max_depth {
            return;
        }
        if let Some(object) = self.schema.object(id) {
            self.item(map, object, depth + 1, None);
        }
    }

    /// Moves `key` to `unmapped` under its path, unless that key is already taken there (then
    /// it stays, and validation reports it).
    fn move_to_unmapped(&mut self, map: &mut Map<String, Value>, key: String) {
        let path = self.path.render_with(&key);
        if !self.can_keep(&path) {
            return;
        }
        if let Some(value) = map.remove(&key) {
            self.keep(path.clone(), value);
            self.act(ActionKind::MovedToUnmapped, path);
        }
    }

    /// `activity_id` from a `type_uid` that belongs to the class; returns whether it did.
    fn derive_activity_from_type(&mut self, map: &mut Map<String, Value>, class: &Class) -> bool {
        if !is_absent(map.get("activity_id")) {
            return false;
        }
        let Some(type_uid) = map.get("type_uid").and_then(Value::as_i64) else {
            return false;
        };
        let activity = class
            .uid
            .checked_mul(100)
            .and_then(|base| type_uid.checked_sub(base));
        let Some(activity) = activity.filter(|a| {
            type_uid.checked_div(100) == Some(class.uid)
                && enums::is_defined(&class.item, "activity_id", *a)
        }) else {
            return false;
        };
        map.insert("activity_id".to_owned(), Value::from(activity));
        self.act(ActionKind::DerivedFilled, "activity_id".to_owned());
        true
    }

    /// `category_uid` from the class; `type_uid` from `class_uid` and a defined `activity_id`.
    /// Returns the names it filled.
    fn derive_class_ids(
        &mut self,
        map: &mut Map<String, Value>,
        class: &Class,
    ) -> Vec<&'static str> {
        let mut filled = Vec::new();
        if is_absent(map.get("category_uid")) {
            map.insert("category_uid".to_owned(), Value::from(class.category_uid));
            self.act(ActionKind::DerivedFilled, "category_uid".to_owned());
            filled.push("category_uid");
        }
        let activity = map.get("activity_id").and_then(Value::as_i64);
        let type_uid = activity
            .filter(|_| is_absent(map.get("type_uid")))
            .and_then(|a| class.uid.checked_mul(100)?.checked_add(a))
            .filter(|t| enums::is_defined(&class.item, "type_uid", *t));
        if let Some(type_uid) = type_uid {
            map.insert("type_uid".to_owned(), Value::from(type_uid));
            self.act(ActionKind::DerivedFilled, "type_uid".to_owned());
            filled.push("type_uid");
        }
        filled
    }
}

/// Which attributes of an item are present and not null, by index (items have at most 128
/// attributes; `build.rs` checks it).
#[derive(Debug, Default, Clone, Copy)]
struct Present(u128);

impl Present {
    fn insert(&mut self, index: u16) {
        if index < 128 {
            self.0 |= 1 << index;
        }
    }

    fn contains(&self, index: u16) -> bool {
        index < 128 && self.0 & (1 << index) != 0
    }

    /// Marks the attribute called `name` (used after filling it).
    fn mark(&mut self, item: &Item, name: &str) {
        if let Some((index, _)) = item.attribute_entry(name) {
            self.insert(index);
        }
    }
}

#[cfg(test)]
mod tests;

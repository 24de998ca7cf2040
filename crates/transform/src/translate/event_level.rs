//! The event-level steps after the attribute walk: class ids and captions, observables and
//! profiles.

use serde_json::{Map, Value};

use super::walk::{action, Walk};
use crate::normalize::ActionKind;
use crate::schema::{Class, EnumKey};
use crate::validate::{active_profiles, refers_to_attribute};

impl Walk {
    /// After the walk: the class uid mapped, and each class-level id or caption that held the
    /// source's value and no longer matches moved under `unmapped` (normalization derives it
    /// again from the class). `activity` is the source's `activity_id`.
    pub(super) fn class_ids(
        &mut self,
        map: &mut Map<String, Value>,
        source: &Class,
        target: &Class,
        activity: Option<i64>,
    ) {
        if source.uid != target.uid && self.unmapped.keep("class_uid", Value::from(source.uid)) {
            map.insert("class_uid".to_owned(), Value::from(target.uid));
            self.actions
                .push(action(ActionKind::ClassTranslated, "class_uid"));
        }
        let type_of = |class: &Class, activity: Option<i64>| {
            let type_uid = class.uid.checked_mul(100)?.checked_add(activity?)?;
            let attr = class.item.attribute("type_uid")?;
            let caption = attr.enum_value(&EnumKey::Int(type_uid)).map(|v| v.caption);
            Some((type_uid, caption))
        };
        let before = type_of(source, activity);
        let after = type_of(target, map.get("activity_id").and_then(Value::as_i64));
        let uid = |t: Option<(i64, Option<&str>)>| t.map_or(Value::Null, |t| Value::from(t.0));
        let caption = |t: Option<(i64, Option<&'static str>)>| {
            t.and_then(|t| t.1).map_or(Value::Null, Value::from)
        };
        let stale = [
            (
                "category_uid",
                Value::from(source.category_uid),
                Value::from(target.category_uid),
            ),
            (
                "category_name",
                Value::from(source.category_name),
                Value::from(target.category_name),
            ),
            (
                "class_name",
                Value::from(source.item.caption),
                Value::from(target.item.caption),
            ),
            ("type_uid", uid(before), uid(after)),
            ("type_name", caption(before), caption(after)),
        ];
        let same = |a: &Value, b: &Value| match (a, b) {
            (Value::String(a), Value::String(b)) => a.eq_ignore_ascii_case(b),
            (a, b) => a == b,
        };
        for (key, was, now) in stale {
            let stale = map
                .get(key)
                .is_some_and(|v| !was.is_null() && same(v, &was) && !same(v, &now));
            if stale {
                self.move_out(map, key);
            }
        }
    }

    /// Observables that name an attribute of the source's class which the target's lacks (it
    /// moved under `unmapped`) leave `observables` (the original list is kept under
    /// `unmapped`).
    pub(super) fn observables(
        &mut self,
        map: &mut Map<String, Value>,
        source: &Class,
        target: &Class,
    ) {
        let source_profiles = active_profiles(self.source, map);
        let Some(list) = map.get("observables").and_then(Value::as_array) else {
            return;
        };
        let dangling = |observable: &Value| {
            observable
                .get("name")
                .and_then(Value::as_str)
                .is_some_and(|name| {
                    refers_to_attribute(self.source, source, source_profiles, name)
                        && !refers_to_attribute(self.target, target, self.profiles, name)
                })
        };
        if !list.iter().any(dangling) {
            return;
        }
        let kept: Vec<Value> = list.iter().filter(|o| !dangling(o)).cloned().collect();
        let dropped: Vec<usize> = (0..list.len()).filter(|i| dangling(&list[*i])).collect();
        if !self
            .unmapped
            .keep("observables", Value::Array(list.clone()))
        {
            return;
        }
        map.insert("observables".to_owned(), Value::Array(kept));
        for index in dropped {
            self.actions.push(action(
                ActionKind::MovedToUnmapped,
                format!("observables[{index}]"),
            ));
        }
    }

    /// Profiles neither the target nor its extensions define leave `metadata.profiles` (the
    /// original list is kept under `unmapped`).
    pub(super) fn profiles(&mut self, map: &mut Map<String, Value>) {
        let Some(list) = map
            .get("metadata")
            .and_then(|m| m.get("profiles"))
            .and_then(Value::as_array)
        else {
            return;
        };
        let known = |name: &str| {
            self.target.profile_id(name).is_some() || self.target.extension_profiles(name).is_some()
        };
        let from_source = |name: &str| {
            self.source.profile_id(name).is_some() || self.source.extension_profiles(name).is_some()
        };
        let dropped: Vec<usize> = list
            .iter()
            .enumerate()
            .filter(|(_, p)| p.as_str().is_some_and(|p| !known(p) && from_source(p)))
            .map(|(i, _)| i)
            .collect();
        if dropped.is_empty() {
            return;
        }
        let original = Value::Array(list.clone());
        if !self.unmapped.keep("metadata.profiles", original) {
            return;
        }
        let kept: Vec<Value> = list
            .iter()
            .enumerate()
            .filter(|(i, _)| !dropped.contains(i))
            .map(|(_, p)| p.clone())
            .collect();
        if let Some(metadata) = map.get_mut("metadata").and_then(Value::as_object_mut) {
            metadata.insert("profiles".to_owned(), Value::Array(kept));
        }
        for index in dropped {
            self.actions.push(action(
                ActionKind::MovedToUnmapped,
                format!("metadata.profiles[{index}]"),
            ));
        }
    }
}

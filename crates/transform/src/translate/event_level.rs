//! The event-level steps after the attribute walk: class ids and captions, observables and
//! profiles.

use serde_json::{Map, Value};

use super::walk::{action, Walk};
use crate::normalize::ActionKind;
use crate::schema::{Class, EnumKey, Schema};
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
    /// moved under `unmapped`) leave `observables`.
    pub(super) fn observables(
        &mut self,
        map: &mut Map<String, Value>,
        source: &Class,
        target: &Class,
    ) {
        let source_profiles = active_profiles(self.source, map);
        let Some(list) = map.get_mut("observables").and_then(Value::as_array_mut) else {
            return;
        };
        let dangling: Vec<bool> = list
            .iter()
            .map(|observable| {
                observable
                    .get("name")
                    .and_then(Value::as_str)
                    .is_some_and(|name| {
                        refers_to_attribute(self.source, source, source_profiles, name)
                            && !refers_to_attribute(self.target, target, self.profiles, name)
                    })
            })
            .collect();
        self.drop_elements(list, "observables", &dangling);
    }

    /// Profiles neither the target nor its extensions define leave `metadata.profiles`.
    pub(super) fn profiles(&mut self, map: &mut Map<String, Value>) {
        let Some(list) = map
            .get_mut("metadata")
            .and_then(|m| m.get_mut("profiles"))
            .and_then(Value::as_array_mut)
        else {
            return;
        };
        let defines = |schema: &Schema, name: &str| {
            schema.profile_id(name).is_some() || schema.extension_profiles(name).is_some()
        };
        let unknown: Vec<bool> = list
            .iter()
            .map(|p| {
                p.as_str()
                    .is_some_and(|p| !defines(self.target, p) && defines(self.source, p))
            })
            .collect();
        self.drop_elements(list, "metadata.profiles", &unknown);
    }

    /// Removes the elements `drop` marks from the list at `path`, keeping the original list
    /// under `unmapped` (nothing changes when that key is taken there).
    fn drop_elements(&mut self, list: &mut Vec<Value>, path: &str, drop: &[bool]) {
        if !drop.contains(&true) || !self.unmapped.keep(path, Value::Array(list.clone())) {
            return;
        }
        let mut marks = drop.iter();
        list.retain(|_| !marks.next().copied().unwrap_or(false));
        for (index, _) in drop.iter().enumerate().filter(|(_, dropped)| **dropped) {
            self.actions.push(action(
                ActionKind::MovedToUnmapped,
                format!("{path}[{index}]"),
            ));
        }
    }
}

//! The OCSF schema, embedded and pre-compiled by `build.rs` (see [`model`]).
//!
//! [`Schema::get`] returns a process-wide instance per version, loaded on first use; loading is
//! a zero-copy `postcard` decode of the embedded bytes (no JSON parsing, no string copies) of
//! the types and profiles, each class and object being decoded when first used.
//! Regular expressions of derived types are compiled lazily, the first time a value of that type
//! is checked. A release compiled with the user's own extension can take the embedded one's
//! place for the process ([`Schema::install_file`], `OCSF_EXTENSIONS`).

mod compile;
mod file;
mod lazy;
pub mod model;
mod pattern;

use std::path::PathBuf;
use std::sync::OnceLock;

use regex::Regex;

use pattern::Pattern;
use thiserror::Error;

pub use file::SchemaFileError;
pub use model::{
    AttrType, BaseType, ConstraintKind, Deprecation, EnumKey, ObjectId, ProfileId, Requirement,
    TypeId, TypeValue,
};

use crate::version::OcsfRelease;

/// A class or object definition.
pub type Item = model::ItemData<'static>;
/// An attribute definition.
pub type Attribute = model::AttributeData<'static>;
/// An event class definition.
pub type Class = model::ClassData<'static>;
/// A type dictionary entry.
pub type TypeDef = model::TypeData<'static>;
/// An enum value definition.
pub type EnumValue = model::EnumValue<'static>;
/// A class/object constraint.
pub type Constraint = model::Constraint<'static>;

// `static EMBEDDED: [&[u8]; N]`, the compiled schemas in `OcsfRelease::ALL` order (`build.rs`).
include!(concat!(env!("OUT_DIR"), "/embedded.rs"));

/// The embedded schema could not be decoded (a build defect, never caused by input).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("embedded OCSF {version} schema cannot be decoded: {reason}")]
pub struct SchemaError {
    /// The version that failed.
    pub version: OcsfRelease,
    /// The decoder's message.
    pub reason: String,
}

/// A loaded OCSF schema.
#[derive(Debug)]
pub struct Schema {
    version: OcsfRelease,
    data: lazy::LazySchema,
    /// Each type's `regex` pattern, by type id.
    patterns: Box<[Option<Pattern>]>,
    /// The schema file it was compiled from at run time; `None`: embedded.
    file: Option<PathBuf>,
}

/// The process-wide schema of each release, in [`OcsfRelease::ALL`] order: decoded from the
/// embedded bytes on first use ([`Schema::get`]), or installed from a file before that
/// ([`Schema::install_file`]).
static LOADED: [OnceLock<Result<Schema, SchemaError>>; OcsfRelease::ALL.len()] =
    [const { OnceLock::new() }; OcsfRelease::ALL.len()];

/// A set of active profiles (the schema has at most 64 profiles; `build.rs` checks it).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ProfileSet(u64);

impl ProfileSet {
    /// The empty set.
    pub const EMPTY: ProfileSet = ProfileSet(0);

    /// Whether `id` is in the set.
    pub fn contains(self, id: ProfileId) -> bool {
        id < 64 && self.0 & (1 << id) != 0
    }

    /// Adds `id` to the set.
    pub fn insert(&mut self, id: ProfileId) {
        if id < 64 {
            self.0 |= 1 << id;
        }
    }

    /// The ids in the set, ascending.
    pub fn iter(self) -> impl Iterator<Item = ProfileId> {
        (0..64).filter(move |id| self.contains(*id))
    }

    /// Whether an attribute gated by `profile` belongs to an event with these profiles.
    pub fn admits(self, profile: Option<ProfileId>) -> bool {
        profile.is_none_or(|p| self.contains(p))
    }
}

impl Schema {
    /// Decodes the embedded schema of `version`. Prefer [`Schema::get`], which does it once.
    pub fn load(version: impl Into<OcsfRelease>) -> Result<Schema, SchemaError> {
        let version = version.into();
        let bytes = EMBEDDED.get(version.index()).copied().unwrap_or_default();
        let data: model::SchemaData<
            'static,
            model::EncodedClass<'static>,
            model::EncodedItem<'static>,
        > = postcard::from_bytes(bytes).map_err(|e| SchemaError {
            version,
            reason: e.to_string(),
        })?;
        // `build.rs`'s list and `OcsfRelease` must name the same releases in the same order.
        if data.version != version.as_str() {
            return Err(SchemaError {
                version,
                reason: format!("the embedded schema at its place is OCSF {}", data.version),
            });
        }
        Ok(Schema::from_data(version, lazy::embedded(data), None))
    }

    /// A schema compiled at run time (every class decoded already).
    fn compiled(
        version: OcsfRelease,
        data: model::SchemaData<'static>,
        file: Option<PathBuf>,
    ) -> Schema {
        Schema::from_data(version, lazy::compiled(data), file)
    }

    fn from_data(version: OcsfRelease, data: lazy::LazySchema, file: Option<PathBuf>) -> Schema {
        let patterns = data
            .types
            .iter()
            .map(|t| t.regex.map(Pattern::new))
            .collect();
        Schema {
            version,
            data,
            patterns,
            file,
        }
    }

    /// The process-wide schema of `version`, decoded on first use (each release on its own:
    /// an engine loads its target at start-up, and a source release's schema when the first
    /// event of that release needs translating). A release installed from a file
    /// ([`Schema::install_file`]) is that file's schema.
    pub fn get(version: impl Into<OcsfRelease>) -> Result<&'static Schema, SchemaError> {
        let version = version.into();
        let Some(cell) = LOADED.get(version.index()) else {
            return Err(SchemaError {
                version,
                reason: "no such release".to_owned(),
            });
        };
        cell.get_or_init(|| Schema::load(version))
            .as_ref()
            .map_err(Clone::clone)
    }

    /// The OCSF release of this schema.
    pub fn version(&self) -> OcsfRelease {
        self.version
    }

    /// The class with this `class_uid` (decoded on first use).
    pub fn class(&self, uid: i64) -> Option<&Class> {
        let classes = &self.data.classes;
        self.class_index(uid)
            .and_then(|i| classes.get(i))
            .and_then(lazy::LazyClass::get)
    }

    /// The position of class `uid` among [`Schema::class_uids`].
    pub fn class_index(&self, uid: i64) -> Option<usize> {
        self.data.classes.binary_search_by_key(&uid, |c| c.uid).ok()
    }

    /// Every `class_uid`, ascending (nothing decoded).
    pub fn class_uids(&self) -> impl ExactSizeIterator<Item = i64> + '_ {
        self.data.classes.iter().map(|c| c.uid)
    }

    /// Every class, sorted by `class_uid` (each decoded on first use).
    pub fn classes(&self) -> impl Iterator<Item = &Class> {
        self.data.classes.iter().filter_map(lazy::LazyClass::get)
    }

    /// The object with this id (decoded on first use).
    pub fn object(&self, id: ObjectId) -> Option<&Item> {
        self.data.objects.get(id as usize)?.get()
    }

    /// Every object, by id (each decoded on first use).
    pub fn objects(&self) -> impl Iterator<Item = &Item> {
        self.data.objects.iter().filter_map(lazy::Lazy::get)
    }

    /// The type with this id.
    pub fn type_def(&self, id: TypeId) -> Option<&TypeDef> {
        self.data.types.get(usize::from(id))
    }

    /// The id of the type called `name`.
    pub fn type_id(&self, name: &str) -> Option<TypeId> {
        let index = self.data.types.iter().position(|t| t.name == name)?;
        TypeId::try_from(index).ok()
    }

    /// The compiled `regex` of a type, if it has one that compiles (compiled on first use).
    ///
    /// `\d` is rewritten to `[0-9]`: the schema's regexes are written for PCRE, where `\d` is
    /// ASCII-only, while the `regex` crate's `\d` is any Unicode digit.
    pub fn regex(&self, id: TypeId) -> Option<&Regex> {
        self.pattern(id)?.regex()
    }

    /// Whether `text` matches the `regex` of a type; `None` when the type has none (or one that
    /// does not compile). The patterns the OCSF releases publish are checked by hand first,
    /// and compiled only for a value that fails that check.
    pub fn regex_matches(&self, id: TypeId, text: &str) -> Option<bool> {
        self.pattern(id)?.is_match(text)
    }

    fn pattern(&self, id: TypeId) -> Option<&Pattern> {
        self.patterns.get(usize::from(id))?.as_ref()
    }

    /// Every profile name, indexed by [`ProfileId`].
    pub fn profiles(&self) -> &[&'static str] {
        &self.data.profiles
    }

    /// The id of a profile name.
    pub fn profile_id(&self, name: &str) -> Option<ProfileId> {
        let index = self.data.profiles.binary_search(&name).ok()?;
        ProfileId::try_from(index).ok()
    }

    /// The platform extensions compiled in (`linux`, `win`; none in 1.0.0-rc.2).
    pub fn extensions(&self) -> &[&'static str] {
        &self.data.extensions
    }

    /// The profiles an extension name stands for (`linux` → `linux/linux_users`), when `name`
    /// is an extension of this schema (AWS's spelling in `metadata.profiles`).
    pub fn extension_profiles(&self, name: &str) -> Option<ProfileSet> {
        self.data.extensions.binary_search(&name).ok()?;
        let mut set = ProfileSet::EMPTY;
        for (id, profile) in self.data.profiles.iter().enumerate() {
            let in_extension = profile
                .split_once('/')
                .is_some_and(|(extension, _)| extension == name);
            if let (true, Ok(id)) = (in_extension, ProfileId::try_from(id)) {
                set.insert(id);
            }
        }
        Some(set)
    }

    /// The name of a profile id.
    pub fn profile_name(&self, id: ProfileId) -> &'static str {
        self.data
            .profiles
            .get(usize::from(id))
            .copied()
            .unwrap_or("")
    }
}

impl Item {
    /// The attribute called `name` (one hash and, almost always, one comparison).
    pub fn attribute(&self, name: &str) -> Option<&Attribute> {
        self.attribute_entry(name).map(|(_, attr)| attr)
    }

    /// The attribute called `name` with its index in [`Item::attributes`].
    pub fn attribute_entry(&self, name: &str) -> Option<(u16, &Attribute)> {
        let mask = self.lookup.len().checked_sub(1)?;
        let mut slot = model::name_hash(name) as usize & mask;
        // The table is at most half full, so probing ends at an empty slot.
        for _ in 0..self.lookup.len() {
            let index = *self.lookup.get(slot)?;
            if index == model::EMPTY_SLOT {
                return None;
            }
            let attr = self.attributes.get(usize::from(index))?;
            if attr.name == name {
                return Some((index, attr));
            }
            slot = (slot + 1) & mask;
        }
        None
    }

    /// The attribute at `index` (e.g. an [`Attribute::sibling_index`]).
    pub fn attribute_at(&self, index: u16) -> Option<&Attribute> {
        self.attributes.get(usize::from(index))
    }

    /// Objects without attributes (`object`, used by `unmapped` and `xattributes`) accept any key.
    pub fn is_open(&self) -> bool {
        self.attributes.is_empty()
    }

    /// The enum attributes that name a caption sibling (`activity_id` → `activity_name`), with
    /// their indices.
    pub fn captioned_enums(&self) -> impl Iterator<Item = (u16, &Attribute)> {
        self.captioned_enums
            .iter()
            .filter_map(|&i| Some((i, self.attributes.get(usize::from(i))?)))
    }

    /// The required attributes.
    pub fn required(&self) -> impl Iterator<Item = &Attribute> {
        self.required
            .iter()
            .filter_map(|&i| self.attributes.get(usize::from(i)))
    }

    /// The recommended attributes.
    pub fn recommended(&self) -> impl Iterator<Item = &Attribute> {
        self.recommended
            .iter()
            .filter_map(|&i| self.attributes.get(usize::from(i)))
    }
}

impl Attribute {
    /// The enum value with this key.
    pub fn enum_value(&self, key: &EnumKey<'_>) -> Option<&EnumValue> {
        let values = self.enum_values.as_deref()?;
        values
            .binary_search_by(|v| v.key.cmp(key))
            .ok()
            .and_then(|i| values.get(i))
    }

    /// The enum value whose caption equals `caption`, ignoring ASCII case.
    pub fn enum_value_by_caption(&self, caption: &str) -> Option<&EnumValue> {
        self.enum_values
            .as_deref()?
            .iter()
            .find(|v| v.caption.eq_ignore_ascii_case(caption))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::version::OcsfVersion;

    #[test]
    fn every_release_loads_with_expected_content() {
        for version in OcsfRelease::ALL {
            let schema = Schema::load(version).unwrap();
            assert_eq!(schema.version(), version);
            let auth = schema.class(3002).unwrap();
            assert_eq!(auth.item.name, "authentication");
            assert_eq!(auth.category_uid, 3);
            let activity = auth.item.attribute("activity_id").unwrap();
            assert_eq!(activity.requirement, Requirement::Required);
            assert_eq!(activity.sibling, Some("activity_name"));
            let logon = activity.enum_value(&EnumKey::Int(1)).unwrap();
            assert_eq!(logon.caption, "Logon");
            let extensions: &[&str] = match version {
                OcsfRelease::V1_0_0Rc2 => &[],
                // The AWS extension (`ocsf-schema/extensions/`) from 1.6.0 on.
                OcsfRelease::V1_6_0 | OcsfRelease::V1_7_0 | OcsfRelease::V1_8_0 => {
                    &["aws", "linux", "win"]
                }
                _ => &["linux", "win"],
            };
            assert_eq!(schema.extensions(), extensions, "{version}");
            assert_eq!(
                activity.enum_value_by_caption("LOGON").unwrap().key,
                EnumKey::Int(1)
            );
            let cloud = auth.item.attribute("cloud").unwrap();
            for (i, attr) in auth.item.attributes.iter().enumerate() {
                let found = auth.item.attribute(attr.name).unwrap();
                assert!(std::ptr::eq(found, &auth.item.attributes[i]));
            }
            assert!(auth.item.attribute("no_such_attribute").is_none());
            let name = activity
                .sibling_index
                .and_then(|i| auth.item.attribute_at(i));
            assert_eq!(name.unwrap().name, "activity_name");
            assert_eq!(cloud.profile, schema.profile_id("cloud"));
            assert!(schema.class(0).is_some(), "base_event is class 0");
            assert!(schema.class(424_242).is_none());
        }
        // Core and the `linux` and `win` platform extensions (core alone: 65 and 44).
        assert_eq!(
            Schema::get(OcsfVersion::V1_3_0).unwrap().classes().count(),
            72
        );
        assert_eq!(
            Schema::get(OcsfVersion::V1_1_0).unwrap().classes().count(),
            50
        );
        // The 1.3.0 Windows classes Security Lake lists for custom sources.
        let v13 = Schema::get(OcsfVersion::V1_3_0).unwrap();
        for (uid, name) in [
            (201_004, "win/win_service_activity"),
            (205_004, "win/registry_key_query"),
            (205_005, "win/registry_value_query"),
            (205_019, "win/prefetch_query"),
        ] {
            assert_eq!(v13.class(uid).map(|c| c.item.name), Some(name), "{uid}");
        }
        assert!(v13.profile_id("linux/linux_users").is_some());
        let linux = v13.extension_profiles("linux").unwrap();
        assert_eq!(
            linux
                .iter()
                .map(|id| v13.profile_name(id))
                .collect::<Vec<_>>(),
            ["linux/linux_users"]
        );
        assert_eq!(v13.extension_profiles("win"), Some(ProfileSet::EMPTY));
        assert_eq!(v13.extension_profiles("cloud"), None);
    }

    #[test]
    fn deprecations_that_name_their_replacement_are_renames() {
        let schema = Schema::get(OcsfRelease::V1_8_0).unwrap();
        let renamed = |item: &Item, old: &str| {
            let attr = item.attribute(old)?;
            item.attribute_at(attr.renamed_to?).map(|a| a.name)
        };
        let object = |name: &str| schema.objects().find(|o| o.name == name).unwrap();
        assert_eq!(
            renamed(object("vulnerability"), "fix_available"),
            Some("is_fix_available")
        );
        assert_eq!(
            renamed(object("http_cookie"), "http_only"),
            Some("is_http_only")
        );
        assert_eq!(
            renamed(object("tls"), "extension_list"),
            Some("tls_extension_list")
        );
        // Named, but of another type (`tid` integer, `ptid` long) or arity (`tactics`, `tactic`).
        assert_eq!(renamed(object("process"), "tid"), None);
        assert_eq!(renamed(object("attack"), "tactics"), None);
    }

    #[test]
    fn every_type_regex_compiles() {
        for version in OcsfVersion::ALL {
            let schema = Schema::load(version).unwrap();
            for (id, t) in schema.data.types.iter().enumerate() {
                if t.regex.is_some() {
                    let id = TypeId::try_from(id).unwrap();
                    assert!(schema.regex(id).is_some(), "{} regex of {version}", t.name);
                }
            }
        }
    }

    #[test]
    fn the_open_object_accepts_anything() {
        let schema = Schema::get(OcsfVersion::V1_1_0).unwrap();
        let unmapped = schema
            .class(3002)
            .unwrap()
            .item
            .attribute("unmapped")
            .unwrap();
        let AttrType::Object(id) = unmapped.ty else {
            panic!("unmapped is an object")
        };
        assert!(schema.object(id).unwrap().is_open());
    }

    #[test]
    fn profile_sets() {
        let mut set = ProfileSet::EMPTY;
        assert!(set.admits(None));
        assert!(!set.admits(Some(3)));
        set.insert(3);
        assert!(set.contains(3) && set.admits(Some(3)) && !set.contains(4));
    }
}

//! The compact, pre-resolved schema model.
//!
//! `build.rs` reads the vendored OCSF exports (`ocsf-schema/schema-*.json`), resolves every
//! reference (object names → indices, type names → indices, sorted attribute tables) and
//! serializes this model with `postcard`, each class and object on its own ([`EncodedClass`],
//! [`EncodedItem`]). At run time the bytes are embedded in the binary and deserialized
//! *borrowing* every string from them, a class or object when first used: no JSON parsing, no
//! string copies, no index building at Lambda cold start, and nothing decoded that the events
//! never reach.
//!
//! This file is compiled twice: as `crate::schema::model` and, through `#[path]`, inside the build
//! script. It must therefore depend on `serde` only.

use serde::{Deserialize, Serialize};

/// Marks an empty slot of [`ItemData::lookup`].
pub const EMPTY_SLOT: u16 = u16::MAX;

/// FNV-1a hash of an attribute name: the key of [`ItemData::lookup`]. Shared by `build.rs`
/// (which fills the tables) and the runtime (which probes them), so it must never change
/// without rebuilding both, which Cargo does since both compile this file.
pub fn name_hash(name: &str) -> u32 {
    let mut hash: u32 = 0x811c_9dc5;
    for byte in name.bytes() {
        hash ^= u32::from(byte);
        hash = hash.wrapping_mul(0x0100_0193);
    }
    hash
}

/// Index of an object definition in [`SchemaData::objects`].
pub type ObjectId = u32;
/// Index of a type definition in [`SchemaData::types`].
pub type TypeId = u16;
/// Index of a profile name in [`SchemaData::profiles`].
pub type ProfileId = u16;

/// One OCSF version's schema, fully resolved. `C` and `O` are how classes and objects are held:
/// whole ([`ClassData`], [`ItemData`], as compiled), or each serialized on its own
/// ([`EncodedClass`], [`EncodedItem`], as embedded), so that loading a schema decodes only what
/// an engine meets (a Lambda's cold start uses one or two classes of 50–90, and the objects
/// they reach).
#[derive(Debug, Serialize, Deserialize)]
pub struct SchemaData<'a, C = ClassData<'a>, O = ItemData<'a>> {
    /// The OCSF version string, e.g. `1.1.0`.
    pub version: &'a str,
    /// Type dictionary (`string_t`, `ip_t`, …), indexed by [`TypeId`].
    #[serde(borrow)]
    pub types: Vec<TypeData<'a>>,
    /// Objects, indexed by [`ObjectId`].
    pub objects: Vec<O>,
    /// Event classes sorted by `uid` (binary-searchable).
    pub classes: Vec<C>,
    /// Every profile name the schema defines, sorted, indexed by [`ProfileId`].
    #[serde(borrow)]
    pub profiles: Vec<&'a str>,
    /// The platform extensions compiled in (`linux`, `win`): the prefixes of extension class,
    /// object and profile names (`win/registry_key_query`, `linux/linux_users`), sorted.
    #[serde(borrow)]
    pub extensions: Vec<&'a str>,
}

impl<'a, C, O> SchemaData<'a, C, O> {
    /// The same schema with each class turned into a `D` by `class` and each object into a
    /// `P` by `object`, in order.
    pub fn map_items<D, P>(
        self,
        class: impl FnMut(C) -> D,
        object: impl FnMut(O) -> P,
    ) -> SchemaData<'a, D, P> {
        SchemaData {
            version: self.version,
            types: self.types,
            objects: self.objects.into_iter().map(object).collect(),
            classes: self.classes.into_iter().map(class).collect(),
            profiles: self.profiles,
            extensions: self.extensions,
        }
    }
}

/// A class serialized on its own: its `uid` and the postcard bytes of its [`ClassData`].
#[derive(Debug, Serialize, Deserialize)]
pub struct EncodedClass<'a> {
    /// `class_uid`.
    pub uid: i64,
    /// The class's [`ClassData`], serialized with postcard.
    #[serde(borrow, serialize_with = "as_bytes")]
    pub bytes: &'a [u8],
}

/// An object serialized on its own: the postcard bytes of its [`ItemData`].
#[derive(Debug, Serialize, Deserialize)]
pub struct EncodedItem<'a> {
    /// The object's [`ItemData`], serialized with postcard.
    #[serde(borrow, serialize_with = "as_bytes")]
    pub bytes: &'a [u8],
}

/// Serializes a byte slice as bytes (serde's default for a slice is a sequence).
fn as_bytes<S: serde::Serializer>(bytes: &&[u8], serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_bytes(bytes)
}

/// The JSON base type an OCSF type is ultimately represented with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum BaseType {
    /// `boolean_t`
    Boolean,
    /// `integer_t` (the OCSF server accepts any 64-bit signed integer)
    Integer,
    /// `long_t`
    Long,
    /// `float_t`
    Float,
    /// `string_t`
    String,
    /// `json_t`: any JSON value
    Json,
}

/// A constant value listed in a type's `values`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum TypeValue<'a> {
    /// A boolean constant.
    Bool(bool),
    /// An integer constant.
    Int(i64),
    /// A floating-point constant.
    Float(f64),
    /// A string constant.
    Str(&'a str),
}

/// One entry of the type dictionary.
#[derive(Debug, Serialize, Deserialize)]
pub struct TypeData<'a> {
    /// Type name, e.g. `port_t`.
    pub name: &'a str,
    /// The primitive representation.
    pub base: BaseType,
    /// The super type for derived types (`ip_t` → `string_t`).
    pub parent: Option<TypeId>,
    /// Regular expression a string value should match (a warning in the OCSF server).
    pub regex: Option<&'a str>,
    /// Maximum length in Unicode code points.
    pub max_len: Option<u64>,
    /// Inclusive numeric range.
    pub range: Option<(f64, f64)>,
    /// The complete set of allowed values.
    #[serde(borrow)]
    pub values: Option<Vec<TypeValue<'a>>>,
}

/// `@deprecated` details of a class, object, attribute or enum value.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Deprecation<'a> {
    /// The schema's deprecation message (schema text, never event data).
    pub message: &'a str,
    /// The version that deprecated it.
    pub since: &'a str,
}

/// How strongly the schema asks for an attribute.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Requirement {
    /// Must be present and not null.
    Required,
    /// Should be present (a warning when asked for).
    Recommended,
    /// May be present.
    Optional,
}

/// What an attribute holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum AttrType {
    /// A scalar of the given dictionary type.
    Scalar(TypeId),
    /// An OCSF object.
    Object(ObjectId),
}

/// The key of an enum value: integers for `*_id` attributes, strings for a few string enums.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum EnumKey<'a> {
    /// Integer enum value.
    Int(i64),
    /// String enum value (`http_method`, `depth`, `tlp`).
    Str(&'a str),
}

/// One value of an enum.
#[derive(Debug, Serialize, Deserialize)]
pub struct EnumValue<'a> {
    /// The value.
    #[serde(borrow)]
    pub key: EnumKey<'a>,
    /// Its caption (what the sibling attribute should hold).
    pub caption: &'a str,
    /// Deprecation, if any.
    #[serde(borrow)]
    pub deprecated: Option<Deprecation<'a>>,
}

/// One attribute of a class or object.
#[derive(Debug, Serialize, Deserialize)]
pub struct AttributeData<'a> {
    /// Attribute name (the JSON key).
    pub name: &'a str,
    /// Requirement level.
    pub requirement: Requirement,
    /// Value type.
    pub ty: AttrType,
    /// `true` when the value is a JSON array of `ty`.
    pub is_array: bool,
    /// Enum values sorted by key, if the attribute is an enum.
    #[serde(borrow)]
    pub enum_values: Option<Vec<EnumValue<'a>>>,
    /// Name of the sibling attribute carrying the enum caption.
    pub sibling: Option<&'a str>,
    /// Index of the sibling in the same item's `attributes`, when the item defines it.
    pub sibling_index: Option<u16>,
    /// The profile that adds this attribute, if any.
    pub profile: Option<ProfileId>,
    /// Deprecation, if any.
    #[serde(borrow)]
    pub deprecated: Option<Deprecation<'a>>,
    /// For a deprecated attribute whose deprecation names its replacement in the same item
    /// ("Use the `is_fix_available` attribute instead"), with the same type and arity: the
    /// replacement's index in the item's `attributes`. Version translation carries values
    /// between the two.
    pub renamed_to: Option<u16>,
}

/// The kind of a class/object constraint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ConstraintKind {
    /// At least one of the attributes must be present.
    AtLeastOne,
    /// Exactly one of the attributes must be present.
    JustOne,
}

/// A constraint over a set of attributes (names may be dotted paths).
#[derive(Debug, Serialize, Deserialize)]
pub struct Constraint<'a> {
    /// Constraint kind.
    pub kind: ConstraintKind,
    /// The attribute paths, each split on `.`.
    #[serde(borrow)]
    pub paths: Vec<Vec<&'a str>>,
}

/// A class or an object: a named set of attributes.
#[derive(Debug, Serialize, Deserialize)]
pub struct ItemData<'a> {
    /// Name, e.g. `authentication` or `user`.
    pub name: &'a str,
    /// Caption, e.g. `Authentication`.
    pub caption: &'a str,
    /// Attributes sorted by name (binary-searchable).
    #[serde(borrow)]
    pub attributes: Vec<AttributeData<'a>>,
    /// Open-addressing hash table (linear probing, power-of-two length, keyed by
    /// [`name_hash`]) of indices into `attributes`, [`EMPTY_SLOT`] for free slots.
    pub lookup: Vec<u16>,
    /// Indices into `attributes` of the required ones.
    pub required: Vec<u16>,
    /// Indices into `attributes` of the recommended ones.
    pub recommended: Vec<u16>,
    /// Indices into `attributes` of the enums that name a caption `sibling`.
    pub captioned_enums: Vec<u16>,
    /// Constraints.
    #[serde(borrow)]
    pub constraints: Vec<Constraint<'a>>,
    /// Deprecation, if any.
    #[serde(borrow)]
    pub deprecated: Option<Deprecation<'a>>,
}

/// An event class.
#[derive(Debug, Serialize, Deserialize)]
pub struct ClassData<'a> {
    /// `class_uid`.
    pub uid: i64,
    /// `category_uid`.
    pub category_uid: i64,
    /// The category caption (`category_name`).
    pub category_name: &'a str,
    /// Profiles the class supports.
    pub profiles: Vec<ProfileId>,
    /// Name, attributes, constraints.
    #[serde(borrow)]
    pub item: ItemData<'a>,
}

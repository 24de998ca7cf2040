//! Reading the grouping fields while the event is serialized, so that `send` needs one pass:
//! a [`Serializer`] wrapper forwards everything to `serde_json` and, for the few keys that
//! decide an event's Security Lake partition (`class_uid`, `time`, `cloud.region`,
//! `cloud.account.uid`) and whether `metadata.uid` is present, records the scalar it sees. Values
//! under any other key are handed to `serde_json` untouched. The result equals what [`super::probe`]
//! reads back from the bytes (a property test checks it).

use std::cell::RefCell;
use std::fmt;

use serde::ser::{self, Impossible, Serialize, SerializeMap, SerializeStruct, Serializer};

use super::probe::Time;

/// What the serialization showed.
#[derive(Debug, Default)]
pub(super) struct Captured {
    /// The event is a JSON object.
    pub object: bool,
    class_uid: Option<i64>,
    time: Option<CapturedTime>,
    region: Option<String>,
    account_uid: Option<String>,
    metadata_object: bool,
    metadata_uid: bool,
}

#[derive(Debug)]
enum CapturedTime {
    Millis(i64),
    Text(String),
}

impl Captured {
    /// The grouping inputs.
    pub fn time(&self) -> Time<'_> {
        match &self.time {
            Some(CapturedTime::Millis(ms)) => Time::Millis(*ms),
            Some(CapturedTime::Text(text)) => Time::Text(text),
            None => Time::Unusable,
        }
    }

    /// `class_uid`, when an integer.
    pub fn class_uid(&self) -> Option<i64> {
        self.class_uid
    }

    /// `cloud.region`, when a string.
    pub fn region(&self) -> Option<&str> {
        self.region.as_deref()
    }

    /// `cloud.account.uid`, when a string.
    pub fn account(&self) -> Option<&str> {
        self.account_uid.as_deref()
    }

    /// `metadata` is an object without a non-null `uid`.
    pub fn lacks_uid(&self) -> bool {
        self.metadata_object && !self.metadata_uid
    }
}

/// Which field a value is, among those that matter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    Root,
    ClassUid,
    Time,
    Cloud,
    Region,
    Account,
    AccountUid,
    Metadata,
    MetadataUid,
}

impl Role {
    fn child(self, key: &str) -> Option<Role> {
        Some(match (self, key) {
            (Role::Root, "class_uid") => Role::ClassUid,
            (Role::Root, "time") => Role::Time,
            (Role::Root, "cloud") => Role::Cloud,
            (Role::Root, "metadata") => Role::Metadata,
            (Role::Cloud, "region") => Role::Region,
            (Role::Cloud, "account") => Role::Account,
            (Role::Account, "uid") => Role::AccountUid,
            (Role::Metadata, "uid") => Role::MetadataUid,
            _ => return None,
        })
    }
}

/// Serializes `event` into `out` as compact JSON, capturing the grouping fields.
pub(super) fn serialize<T: Serialize + ?Sized>(
    event: &T,
    out: &mut Vec<u8>,
) -> Result<Captured, serde_json::Error> {
    let captured = RefCell::new(Captured::default());
    let mut serializer = serde_json::Serializer::new(out);
    event.serialize(Tap {
        inner: &mut serializer,
        role: Role::Root,
        cap: &captured,
    })?;
    Ok(captured.into_inner())
}

/// A value under a key that matters: serialized through [`Tap`].
struct Tapped<'c, 'v, V: ?Sized> {
    value: &'v V,
    role: Role,
    cap: &'c RefCell<Captured>,
}

impl<V: Serialize + ?Sized> Serialize for Tapped<'_, '_, V> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.value.serialize(Tap {
            inner: serializer,
            role: self.role,
            cap: self.cap,
        })
    }
}

/// The wrapper serializer.
struct Tap<'c, S> {
    inner: S,
    role: Role,
    cap: &'c RefCell<Captured>,
}

/// How a serialized value looks to the capture.
enum Seen<'a> {
    Int(i64),
    Str(&'a str),
    Object,
    Null,
    Other,
}

impl<S> Tap<'_, S> {
    /// Records a value of this role (the last occurrence of a key wins, as in `serde_json`).
    fn see(&self, seen: Seen<'_>) {
        let mut cap = self.cap.borrow_mut();
        match self.role {
            Role::Root => cap.object = matches!(seen, Seen::Object),
            Role::ClassUid => {
                cap.class_uid = if let Seen::Int(n) = seen {
                    Some(n)
                } else {
                    None
                }
            }
            Role::Time => {
                cap.time = match seen {
                    Seen::Int(n) => Some(CapturedTime::Millis(n)),
                    Seen::Str(text) => Some(CapturedTime::Text(text.to_owned())),
                    _ => None,
                }
            }
            Role::Cloud => {
                cap.region = None;
                cap.account_uid = None;
            }
            Role::Region => {
                cap.region = if let Seen::Str(text) = seen {
                    Some(text.to_owned())
                } else {
                    None
                }
            }
            Role::Account => cap.account_uid = None,
            Role::AccountUid => {
                cap.account_uid = if let Seen::Str(text) = seen {
                    Some(text.to_owned())
                } else {
                    None
                }
            }
            Role::Metadata => {
                cap.metadata_object = matches!(seen, Seen::Object);
                cap.metadata_uid = false;
            }
            Role::MetadataUid => cap.metadata_uid = !matches!(seen, Seen::Null),
        }
    }
}

macro_rules! int_methods {
    ($($method:ident: $ty:ty),*) => {$(
        fn $method(self, v: $ty) -> Result<Self::Ok, Self::Error> {
            self.see(i64::try_from(v).map_or(Seen::Other, Seen::Int));
            self.inner.$method(v)
        }
    )*};
}

impl<'c, S: Serializer> Serializer for Tap<'c, S> {
    type Ok = S::Ok;
    type Error = S::Error;
    type SerializeSeq = S::SerializeSeq;
    type SerializeTuple = S::SerializeTuple;
    type SerializeTupleStruct = S::SerializeTupleStruct;
    type SerializeTupleVariant = S::SerializeTupleVariant;
    type SerializeMap = TapMap<'c, S::SerializeMap>;
    type SerializeStruct = TapStruct<'c, S::SerializeStruct>;
    type SerializeStructVariant = S::SerializeStructVariant;

    int_methods!(serialize_i8: i8, serialize_i16: i16, serialize_i32: i32, serialize_i64: i64,
        serialize_u8: u8, serialize_u16: u16, serialize_u32: u32, serialize_u64: u64,
        serialize_i128: i128, serialize_u128: u128);

    fn serialize_bool(self, v: bool) -> Result<Self::Ok, Self::Error> {
        self.see(Seen::Other);
        self.inner.serialize_bool(v)
    }
    fn serialize_f32(self, v: f32) -> Result<Self::Ok, Self::Error> {
        // serde_json writes a non-finite float as null.
        self.see(if v.is_finite() {
            Seen::Other
        } else {
            Seen::Null
        });
        self.inner.serialize_f32(v)
    }
    fn serialize_f64(self, v: f64) -> Result<Self::Ok, Self::Error> {
        self.see(if v.is_finite() {
            Seen::Other
        } else {
            Seen::Null
        });
        self.inner.serialize_f64(v)
    }
    fn serialize_char(self, v: char) -> Result<Self::Ok, Self::Error> {
        self.see(Seen::Str(v.encode_utf8(&mut [0; 4])));
        self.inner.serialize_char(v)
    }
    fn serialize_str(self, v: &str) -> Result<Self::Ok, Self::Error> {
        self.see(Seen::Str(v));
        self.inner.serialize_str(v)
    }
    fn serialize_bytes(self, v: &[u8]) -> Result<Self::Ok, Self::Error> {
        self.see(Seen::Other);
        self.inner.serialize_bytes(v)
    }
    fn serialize_none(self) -> Result<Self::Ok, Self::Error> {
        self.see(Seen::Null);
        self.inner.serialize_none()
    }
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<Self::Ok, Self::Error> {
        value.serialize(self)
    }
    fn serialize_unit(self) -> Result<Self::Ok, Self::Error> {
        self.see(Seen::Null);
        self.inner.serialize_unit()
    }
    fn serialize_unit_struct(self, name: &'static str) -> Result<Self::Ok, Self::Error> {
        self.see(Seen::Null);
        self.inner.serialize_unit_struct(name)
    }
    fn serialize_unit_variant(
        self,
        name: &'static str,
        index: u32,
        variant: &'static str,
    ) -> Result<Self::Ok, Self::Error> {
        self.see(Seen::Str(variant));
        self.inner.serialize_unit_variant(name, index, variant)
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        value: &T,
    ) -> Result<Self::Ok, Self::Error> {
        // serde_json writes the inner value alone.
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        name: &'static str,
        index: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<Self::Ok, Self::Error> {
        self.see(Seen::Object);
        self.inner
            .serialize_newtype_variant(name, index, variant, value)
    }
    fn serialize_seq(self, len: Option<usize>) -> Result<Self::SerializeSeq, Self::Error> {
        self.see(Seen::Other);
        self.inner.serialize_seq(len)
    }
    fn serialize_tuple(self, len: usize) -> Result<Self::SerializeTuple, Self::Error> {
        self.see(Seen::Other);
        self.inner.serialize_tuple(len)
    }
    fn serialize_tuple_struct(
        self,
        name: &'static str,
        len: usize,
    ) -> Result<Self::SerializeTupleStruct, Self::Error> {
        self.see(Seen::Other);
        self.inner.serialize_tuple_struct(name, len)
    }
    fn serialize_tuple_variant(
        self,
        name: &'static str,
        index: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<Self::SerializeTupleVariant, Self::Error> {
        self.see(Seen::Object);
        self.inner
            .serialize_tuple_variant(name, index, variant, len)
    }
    fn serialize_map(self, len: Option<usize>) -> Result<Self::SerializeMap, Self::Error> {
        self.see(Seen::Object);
        Ok(TapMap {
            inner: self.inner.serialize_map(len)?,
            role: self.role,
            cap: self.cap,
            next: None,
        })
    }
    fn serialize_struct(
        self,
        name: &'static str,
        len: usize,
    ) -> Result<Self::SerializeStruct, Self::Error> {
        self.see(Seen::Object);
        Ok(TapStruct {
            inner: self.inner.serialize_struct(name, len)?,
            role: self.role,
            cap: self.cap,
        })
    }
    fn serialize_struct_variant(
        self,
        name: &'static str,
        index: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<Self::SerializeStructVariant, Self::Error> {
        self.see(Seen::Object);
        self.inner
            .serialize_struct_variant(name, index, variant, len)
    }
    fn is_human_readable(&self) -> bool {
        self.inner.is_human_readable()
    }
}

/// A map whose keys are checked against the role's interesting children.
struct TapMap<'c, M> {
    inner: M,
    role: Role,
    cap: &'c RefCell<Captured>,
    next: Option<Role>,
}

impl<M: SerializeMap> SerializeMap for TapMap<'_, M> {
    type Ok = M::Ok;
    type Error = M::Error;

    fn serialize_key<K: Serialize + ?Sized>(&mut self, key: &K) -> Result<(), Self::Error> {
        self.next = key.serialize(KeySniffer(self.role)).unwrap_or(None);
        self.inner.serialize_key(key)
    }
    fn serialize_value<V: Serialize + ?Sized>(&mut self, value: &V) -> Result<(), Self::Error> {
        match self.next.take() {
            Some(role) => self.inner.serialize_value(&Tapped {
                value,
                role,
                cap: self.cap,
            }),
            None => self.inner.serialize_value(value),
        }
    }
    fn end(self) -> Result<Self::Ok, Self::Error> {
        self.inner.end()
    }
}

/// A struct whose field names are checked against the role's interesting children.
struct TapStruct<'c, T> {
    inner: T,
    role: Role,
    cap: &'c RefCell<Captured>,
}

impl<T: SerializeStruct> SerializeStruct for TapStruct<'_, T> {
    type Ok = T::Ok;
    type Error = T::Error;

    fn serialize_field<V: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &V,
    ) -> Result<(), Self::Error> {
        match self.role.child(key) {
            Some(role) => self.inner.serialize_field(
                key,
                &Tapped {
                    value,
                    role,
                    cap: self.cap,
                },
            ),
            None => self.inner.serialize_field(key, value),
        }
    }
    fn skip_field(&mut self, key: &'static str) -> Result<(), Self::Error> {
        self.inner.skip_field(key)
    }
    fn end(self) -> Result<Self::Ok, Self::Error> {
        self.inner.end()
    }
}

/// Reads a map key (only string keys can matter) and names the child role it leads to.
struct KeySniffer(Role);

/// Any key that is not a string.
#[derive(Debug)]
struct NotAString;

impl fmt::Display for NotAString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("not a string key")
    }
}

impl std::error::Error for NotAString {}

impl ser::Error for NotAString {
    fn custom<T: fmt::Display>(_: T) -> Self {
        NotAString
    }
}

macro_rules! not_a_string {
    ($($method:ident($($arg:ty),*)),*) => {$(
        fn $method(self, $(_: $arg),*) -> Result<Self::Ok, Self::Error> {
            Ok(None)
        }
    )*};
}

impl Serializer for KeySniffer {
    type Ok = Option<Role>;
    type Error = NotAString;
    type SerializeSeq = Impossible<Option<Role>, NotAString>;
    type SerializeTuple = Impossible<Option<Role>, NotAString>;
    type SerializeTupleStruct = Impossible<Option<Role>, NotAString>;
    type SerializeTupleVariant = Impossible<Option<Role>, NotAString>;
    type SerializeMap = Impossible<Option<Role>, NotAString>;
    type SerializeStruct = Impossible<Option<Role>, NotAString>;
    type SerializeStructVariant = Impossible<Option<Role>, NotAString>;

    fn serialize_str(self, v: &str) -> Result<Self::Ok, Self::Error> {
        Ok(self.0.child(v))
    }

    not_a_string!(
        serialize_bool(bool),
        serialize_i8(i8),
        serialize_i16(i16),
        serialize_i32(i32),
        serialize_i64(i64),
        serialize_u8(u8),
        serialize_u16(u16),
        serialize_u32(u32),
        serialize_u64(u64),
        serialize_f32(f32),
        serialize_f64(f64),
        serialize_char(char),
        serialize_bytes(&[u8]),
        serialize_none(),
        serialize_unit(),
        serialize_unit_struct(&'static str),
        serialize_unit_variant(&'static str, u32, &'static str)
    );

    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<Self::Ok, Self::Error> {
        value.serialize(self)
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        value: &T,
    ) -> Result<Self::Ok, Self::Error> {
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: &T,
    ) -> Result<Self::Ok, Self::Error> {
        Ok(None)
    }
    fn serialize_seq(self, _: Option<usize>) -> Result<Self::SerializeSeq, Self::Error> {
        Err(NotAString)
    }
    fn serialize_tuple(self, _: usize) -> Result<Self::SerializeTuple, Self::Error> {
        Err(NotAString)
    }
    fn serialize_tuple_struct(
        self,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleStruct, Self::Error> {
        Err(NotAString)
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleVariant, Self::Error> {
        Err(NotAString)
    }
    fn serialize_map(self, _: Option<usize>) -> Result<Self::SerializeMap, Self::Error> {
        Err(NotAString)
    }
    fn serialize_struct(
        self,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeStruct, Self::Error> {
        Err(NotAString)
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeStructVariant, Self::Error> {
        Err(NotAString)
    }
}

#[cfg(test)]
mod tests;

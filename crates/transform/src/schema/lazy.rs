//! Classes and objects decoded when first used: `build.rs` embeds each on its own
//! ([`model::EncodedClass`], [`model::EncodedItem`]), so loading a release decodes its header
//! (types, profiles, class uids) and a Lambda's cold start decodes one class and the objects its
//! table reaches, not the 50–90 classes of the release.

use std::sync::OnceLock;

use super::model::{self, SchemaData};
use super::{Class, Item};

/// A schema's data as the [`Schema`](super::Schema) holds it.
pub(super) type LazySchema = SchemaData<'static, LazyClass, Lazy<Item>>;

/// The embedded data, nothing decoded yet.
pub(super) fn embedded(
    data: SchemaData<'static, model::EncodedClass<'static>, model::EncodedItem<'static>>,
) -> LazySchema {
    data.map_items(
        |class| LazyClass {
            uid: class.uid,
            class: Lazy::encoded(class.bytes),
        },
        |object| Lazy::encoded(object.bytes),
    )
}

/// Data compiled at run time: every class and object decoded already.
pub(super) fn compiled(data: SchemaData<'static>) -> LazySchema {
    data.map_items(
        |class| LazyClass {
            uid: class.uid,
            class: Lazy::decoded(class),
        },
        Lazy::decoded,
    )
}

/// A class or object of a schema, decoded when first used.
#[derive(Debug)]
pub(super) struct Lazy<T> {
    /// Its postcard bytes (empty for one compiled at run time, decoded already).
    encoded: &'static [u8],
    /// `None` once the bytes failed to decode (a build defect, reported then).
    decoded: OnceLock<Option<T>>,
}

impl<T: serde::Deserialize<'static>> Lazy<T> {
    fn encoded(encoded: &'static [u8]) -> Self {
        Lazy {
            encoded,
            decoded: OnceLock::new(),
        }
    }

    fn decoded(value: T) -> Self {
        Lazy {
            encoded: &[],
            decoded: OnceLock::from(Some(value)),
        }
    }

    /// The value, decoded on the first call.
    pub(super) fn get(&self) -> Option<&T> {
        self.decoded
            .get_or_init(|| match postcard::from_bytes::<T>(self.encoded) {
                Ok(value) => Some(value),
                Err(error) => {
                    tracing::error!(%error, "an embedded schema item cannot be decoded");
                    None
                }
            })
            .as_ref()
    }
}

/// A class of a schema, its uid known without decoding it (classes are searched by uid).
#[derive(Debug)]
pub(super) struct LazyClass {
    pub(super) uid: i64,
    class: Lazy<Class>,
}

impl LazyClass {
    /// The class, decoded on the first call.
    pub(super) fn get(&self) -> Option<&Class> {
        self.class.get().filter(|class| class.uid == self.uid)
    }
}

#[cfg(test)]
mod tests {
    use crate::schema::Schema;
    use crate::version::OcsfRelease;

    /// Loading decodes no class and no object; each is decoded when asked for, and every
    /// embedded class and object of every release decodes.
    #[test]
    fn classes_are_decoded_when_first_used_and_all_decode() {
        let decoded = |schema: &Schema| {
            schema
                .data
                .classes
                .iter()
                .filter(|c| c.class.decoded.get().is_some())
                .count()
        };
        for version in OcsfRelease::ALL {
            let schema = Schema::load(version).unwrap();
            let objects_decoded = |schema: &Schema| {
                schema
                    .data
                    .objects
                    .iter()
                    .filter(|o| o.decoded.get().is_some())
                    .count()
            };
            assert_eq!(decoded(&schema), 0, "{version}");
            assert_eq!(objects_decoded(&schema), 0, "{version}");
            assert!(schema.class(3002).is_some());
            assert_eq!(decoded(&schema), 1, "{version}");
            assert_eq!(objects_decoded(&schema), 0, "{version}");
            assert!(schema.object(0).is_some());
            assert_eq!(objects_decoded(&schema), 1, "{version}");
            assert_eq!(
                schema.objects().count(),
                schema.data.objects.len(),
                "{version}: every object decodes"
            );
            let uids: Vec<i64> = schema.class_uids().collect();
            let classes: Vec<i64> = schema.classes().map(|c| c.uid).collect();
            assert_eq!(
                classes, uids,
                "{version}: every class decodes, in uid order"
            );
            assert!(uids.windows(2).all(|w| w[0] < w[1]));
            assert_eq!(
                schema.class_index(3002).and_then(|i| uids.get(i)),
                Some(&3002)
            );
        }
    }
}

//! Class uids that changed meaning between releases, and where each class went.
//!
//! Within 1.x a `class_uid` keeps its meaning: classes are renamed (`authorization` →
//! `authorize_session`, `win/registry_key_info` → `win/registry_key_query`,
//! `kernel_extension` → `kernel_extension_activity`) but never renumbered. Between 1.0.0-rc.2
//! and 1.0.0 five classes moved to other uids, and rc.2's uids 3005 and 3006 were given to
//! other classes. The table below is that move, read from the two schemas
//! (`ocsf-schema/schema-1.0.0-rc.2.json` and `schema-1.0.0.json`, ocsf-schema tags
//! `v1.0.0-rc.2` and `v1.0.0`); `the_class_map_agrees_with_the_schemas` checks each row.

use crate::version::OcsfRelease;

/// One class that changed uid: in releases up to and including `until`, `from` meant the class
/// now numbered `to`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClassMove {
    /// The last release with the old uid.
    pub until: OcsfRelease,
    /// The old uid.
    pub from: i64,
    /// The class's name in the old release.
    pub old_name: &'static str,
    /// The uid from the next release on.
    pub to: i64,
    /// The class's name in the next release.
    pub new_name: &'static str,
    /// Why the two are the same class, in the schemas' terms.
    pub evidence: &'static str,
}

/// Every class uid that changed meaning, with its evidence.
pub const CLASS_MOVES: &[ClassMove] = &[
    ClassMove {
        until: OcsfRelease::V1_0_0Rc2,
        from: 1008,
        old_name: "registry_key_activity",
        to: 201_001,
        new_name: "win/registry_key_activity",
        evidence: "same name and caption; moved from the core System Activity category to the win extension",
    },
    ClassMove {
        until: OcsfRelease::V1_0_0Rc2,
        from: 1009,
        old_name: "registry_value_activity",
        to: 201_002,
        new_name: "win/registry_value_activity",
        evidence: "same name and caption; moved to the win extension",
    },
    ClassMove {
        until: OcsfRelease::V1_0_0Rc2,
        from: 1010,
        old_name: "resource_activity",
        to: 201_003,
        new_name: "win/resource_activity",
        evidence: "same name and caption (Windows Resource Activity); moved to the win extension",
    },
    ClassMove {
        until: OcsfRelease::V1_0_0Rc2,
        from: 3005,
        old_name: "api_activity",
        to: 6003,
        new_name: "api_activity",
        evidence: "same name, caption and activity_id enum; moved from Identity & Access Management (3) to Application Activity (6); 3005 became User Access Management",
    },
    ClassMove {
        until: OcsfRelease::V1_0_0Rc2,
        from: 3006,
        old_name: "access_activity",
        to: 6004,
        new_name: "web_resource_access_activity",
        evidence: "same description (attempts to access) and activity_id enum (Access Grant, Deny, Revoke, Error); moved to Application Activity (6); 3006 became Group Management",
    },
];

/// The uid in `target` of the class that is `uid` in `source`.
pub(crate) fn target_uid(source: OcsfRelease, target: OcsfRelease, uid: i64) -> i64 {
    let mut uid = uid;
    for moved in CLASS_MOVES {
        let crosses = |from: OcsfRelease, to: OcsfRelease| from <= moved.until && to > moved.until;
        if crosses(source, target) && uid == moved.from {
            uid = moved.to;
        } else if crosses(target, source) && uid == moved.to {
            uid = moved.from;
        }
    }
    uid
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::Schema;

    #[test]
    fn the_class_map_agrees_with_the_schemas() {
        for moved in CLASS_MOVES {
            let next = OcsfRelease::ALL[moved.until.index() + 1];
            let old = Schema::get(moved.until).unwrap().class(moved.from).unwrap();
            let new = Schema::get(next).unwrap().class(moved.to).unwrap();
            assert_eq!(old.item.name, moved.old_name);
            assert_eq!(new.item.name, moved.new_name);
            assert!(
                Schema::get(next)
                    .unwrap()
                    .class(moved.from)
                    .map(|c| c.item.name)
                    != Some(moved.old_name),
                "{} kept its uid",
                moved.old_name
            );
            let activities = |class: &crate::schema::Class| -> Vec<(String, String)> {
                let attr = class.item.attribute("activity_id").unwrap();
                attr.enum_values
                    .iter()
                    .flatten()
                    .map(|v| (format!("{:?}", v.key), v.caption.to_owned()))
                    .collect()
            };
            assert_eq!(activities(old), activities(new), "{}", moved.old_name);
        }
    }

    #[test]
    fn uids_map_across_the_move_in_both_directions_and_nowhere_else() {
        let rc2 = OcsfRelease::V1_0_0Rc2;
        assert_eq!(target_uid(rc2, OcsfRelease::V1_1_0, 3005), 6003);
        assert_eq!(target_uid(rc2, OcsfRelease::V1_3_0, 1010), 201_003);
        assert_eq!(target_uid(rc2, OcsfRelease::V1_1_0, 3002), 3002);
        assert_eq!(target_uid(OcsfRelease::V1_5_0, rc2, 6003), 3005);
        assert_eq!(
            target_uid(OcsfRelease::V1_5_0, OcsfRelease::V1_1_0, 3005),
            3005
        );
        assert_eq!(target_uid(rc2, rc2, 3005), 3005);
    }
}

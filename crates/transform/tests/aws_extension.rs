//! The AWS extension's `cloud_resources` profile (`ocsf-schema/extensions/`), as AWS Security
//! Hub emits it in its OCSF 1.6 findings: the releases from 1.6.0 on know it (no
//! `profile_unknown`, so even the OCSF server's strict verdict takes the findings); going down to
//! a Security Lake release (1.1.0, 1.3.0), which has no place for its attributes, they land under
//! `unmapped`, and nothing of a finding is lost.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::leaves::{find_leaf, leaves, Step};
use ocsf_firehose_transform::schema::AttrType;
use ocsf_firehose_transform::{Engine, EngineConfig, OcsfRelease, OcsfVersion, Schema};
use serde_json::{json, Value};

const PROFILE: &str = "cloud_resources";

/// The Security Hub findings of `tests/fixtures/securityhub/` (one per finding class).
fn findings() -> Vec<(String, Value)> {
    let findings = common::named_events("securityhub");
    assert_eq!(findings.len(), 4, "one finding per class");
    findings
}

fn finding(name: &str) -> Value {
    findings()
        .into_iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v)
        .unwrap()
}

fn engine(version: OcsfVersion) -> Engine {
    Engine::new(EngineConfig {
        version,
        ..EngineConfig::default()
    })
    .unwrap()
}

#[test]
fn releases_from_1_6_know_the_profile_and_its_attributes() {
    let since = OcsfRelease::ALL
        .iter()
        .position(|r| r.as_str() == "1.6.0")
        .unwrap();
    for (index, release) in OcsfRelease::ALL.into_iter().enumerate() {
        let schema = Schema::get(release).unwrap();
        let profile = schema.profile_id(PROFILE);
        assert_eq!(profile.is_some(), index >= since, "{release}");
        let Some(profile) = profile else { continue };
        let object = |name: &str| {
            schema
                .objects()
                .find(|o| o.name == name)
                .unwrap_or_else(|| panic!("{release}: no object {name}"))
        };
        let resource = object("resource_details");
        for name in ["device", "network_interface"] {
            let attr = resource.attribute(name).unwrap();
            assert_eq!(attr.profile, Some(profile), "{release}: {name}");
            assert!(matches!(attr.ty, AttrType::Object(_)));
        }
        let device = object("device");
        for name in ["encryption_details", "instance_profile", "launch_time"] {
            assert_eq!(device.attribute(name).unwrap().profile, Some(profile));
        }
        // What the release defines already stays as it is, open to every event.
        assert_eq!(device.attribute("image").unwrap().profile, None);
        assert_eq!(device.attribute("uid_alt").unwrap().profile, None);
        let network = object("network_interface");
        let groups = network.attribute("security_groups").unwrap();
        assert!(groups.is_array);
        assert_eq!(groups.profile, Some(profile));
        assert!(object("aws/instance_profile")
            .attribute("uid_alt")
            .is_some());
    }
}

#[test]
fn security_hub_findings_are_accepted_and_nothing_of_their_resources_is_lost() {
    let mut leaves_found = 0;
    for version in OcsfVersion::ALL {
        let engine = engine(version);
        for (name, input) in findings() {
            let verdict = engine.judge(input.clone(), None);
            let class = input["class_uid"].as_i64().unwrap();
            if version.as_str() == "1.1.0" && class == 2006 {
                // Data Security Finding is new in 1.3.0: 1.1.0 has no class to land it in.
                assert!(!verdict.is_accepted(), "{name} at {version}");
                continue;
            }
            assert!(
                verdict.validation.findings.is_empty(),
                "{name} at {version}: {:?}",
                verdict.validation.findings
            );
            let row = verdict.into_row().unwrap().event;
            for (steps, value) in leaves(&input["resources"]) {
                let path: Vec<Step> = std::iter::once(Step::Key("resources".into()))
                    .chain(steps)
                    .collect();
                if let Err(lost) = find_leaf(&row, &path, &value) {
                    panic!("{name} at {version}: {lost} is lost");
                }
                leaves_found += 1;
            }
        }
    }
    eprintln!("{leaves_found} resource leaves found again");
}

#[test]
fn the_server_s_strict_verdict_still_takes_security_hub_findings() {
    // With unknown profiles as errors (the OCSF server's verdict), only a known profile passes.
    let strict = Engine::new(EngineConfig {
        version: OcsfVersion::V1_3_0,
        severity: "profile_unknown=error".parse().unwrap(),
        ..EngineConfig::default()
    })
    .unwrap();
    for (name, input) in findings() {
        let verdict = strict.judge(input.clone(), None);
        assert!(
            verdict.is_accepted(),
            "{name}: {:?}",
            verdict.validation.findings
        );
        let mut vendor = input;
        vendor["metadata"]["profiles"] = json!(["cloud", "acme_posture"]);
        assert!(!strict.judge(vendor, None).is_accepted(), "{name}");
    }
}

#[test]
fn a_security_lake_release_lists_only_its_own_profiles() {
    for version in OcsfVersion::ALL {
        let engine = engine(version);
        let verdict = engine.judge(finding("detection_finding"), None);
        let row = verdict.into_row().unwrap().event;
        let profiles = row["metadata"]["profiles"].as_array().unwrap();
        assert!(
            !profiles.contains(&json!(PROFILE)),
            "{version}: {profiles:?}"
        );
        let original: Value =
            serde_json::from_str(row["unmapped"]["metadata.profiles"].as_str().unwrap()).unwrap();
        assert!(original.as_array().unwrap().contains(&json!(PROFILE)));
    }
}

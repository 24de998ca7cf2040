//! The engine's verdict: each stage's part in it, and the configurations it refuses.

use serde_json::json;

use super::*;
use crate::normalize::ActionKind;
use crate::test_support::fixture;

/// An engine for the test (leaked: verdicts borrow their engine's tables).
fn engine(config: EngineConfig) -> &'static Engine {
    Box::leak(Box::new(Engine::new(config).unwrap()))
}

#[test]
fn the_engine_is_shareable_across_threads() {
    fn shareable<T: Send + Sync + 'static>() {}
    shareable::<Engine>();
}

/// An event whose profiles are candidates (none listed): the trials' validation of the
/// normalized event is taken, and it is the one the validator gives that event.
#[test]
fn the_profile_trials_validation_is_the_normalized_event_s() {
    let engine = engine(EngineConfig {
        warn_recommended: true,
        ..EngineConfig::default()
    });
    for name in ["api_activity", "authentication", "dns_activity"] {
        let mut event = fixture(name);
        event["metadata"]
            .as_object_mut()
            .unwrap()
            .remove("profiles");
        event["metadata"].as_object_mut().unwrap().remove("version");
        let (actions, validation) = engine
            .normalizer
            .normalize_judging(&mut event, &engine.validator);
        assert!(
            actions.iter().any(|a| a.kind == ActionKind::ProfileAdded),
            "{name}: {actions:?}"
        );
        assert_eq!(validation, Some(engine.validate(&event)), "{name}");
    }
}

#[test]
fn process_normalizes_validates_and_partitions() {
    let mut event = fixture("api_activity");
    event.as_object_mut().unwrap().remove("type_name");
    event["time"] = json!("2023-04-28T14:00:00Z");
    let processed = engine(EngineConfig::default()).judge(event, Some("us-east-1"));
    assert!(
        processed.is_accepted(),
        "{:?}",
        processed.validation.findings
    );
    let kinds: Vec<ActionKind> = processed.actions.iter().map(|a| a.kind).collect();
    for kind in [
        ActionKind::TimestampConverted,
        ActionKind::CaptionFilled,
        ActionKind::ProfileAdded,
        ActionKind::DatetimeFilled,
    ] {
        assert!(kinds.contains(&kind), "{kind:?} in {kinds:?}");
    }
    assert_eq!(
        processed.event["time_dt"],
        json!("2023-04-28T14:00:00.000Z")
    );
    assert_eq!(
        processed.partition,
        Some(PartitionKeys {
            region: "eu-west-1".into(),
            account_id: partition::EXTERNAL_ACCOUNT.into(),
            event_day: "20230428".into(),
        })
    );
    assert_eq!(processed.event["type_name"], json!("API Activity: Read"));
}

#[test]
fn an_accepted_event_s_row_is_fitted_to_its_table_and_a_rejected_one_has_none() {
    let mut event = fixture("authentication");
    event["shoe_size"] = json!(44);
    let verdict = engine(EngineConfig::default()).judge(event, Some("us-east-1"));
    assert!(verdict.is_accepted());
    assert_eq!(verdict.errors().count(), 0);
    let normalized = verdict.event.clone();
    let row = verdict.into_row().unwrap();
    assert_eq!(normalized["unmapped"]["shoe_size"], json!(44));
    assert_eq!(
        row.event["unmapped"]["shoe_size"],
        json!("44"),
        "the same entry, as a string"
    );
    assert_eq!(row.partition.event_day, "20230428");
    let mut old = fixture("authentication");
    old["time"] = json!(631_152_000_000_i64); // 1990-01-01: valid OCSF, no eventDay
    let verdict = engine(EngineConfig::default()).judge(old.clone(), None);
    assert!(engine(EngineConfig::default()).validate(&old).is_valid());
    assert!(!verdict.is_accepted());
    assert_eq!(
        verdict.errors().map(|f| f.code).collect::<Vec<_>>(),
        [Code::PartitionTimeInvalid]
    );
    assert!(verdict.into_row().is_none());
}

#[test]
fn unpartitionable_events_are_invalid_with_a_finding() {
    let mut event = fixture("authentication");
    event.as_object_mut().unwrap().remove("time");
    let processed = engine(EngineConfig::default()).judge(event, None);
    assert!(!processed.is_accepted());
    let codes: Vec<Code> = processed
        .validation
        .findings
        .iter()
        .map(|f| f.code)
        .collect();
    assert_eq!(
        codes,
        [Code::AttributeRequiredMissing, Code::PartitionTimeInvalid]
    );
    // Even with the requirement ignored the event cannot be partitioned.
    let config = EngineConfig {
        severity: "attribute_required_missing=ignore".parse().unwrap(),
        ..EngineConfig::default()
    };
    let mut event = fixture("authentication");
    event["time"] = json!(19_475); // days: no unit's range holds it
    let processed = engine(config).judge(event, None);
    assert!(!processed.is_accepted());
    assert_eq!(
        processed.validation.findings[0].code,
        Code::PartitionTimeInvalid
    );
    assert!(engine(EngineConfig::default())
        .judge(json!([1]), None)
        .partition
        .is_none());
}

#[test]
fn region_findings_can_be_relevelled_to_use_the_fallbacks() {
    let mut event = fixture("authentication");
    event["cloud"]["region"] = json!("us east 1");
    let strict = engine(EngineConfig::default()).judge(event.clone(), Some("us-west-2"));
    assert!(!strict.is_accepted());
    let lenient = engine(EngineConfig {
        severity: "partition_region_invalid=warning".parse().unwrap(),
        ..EngineConfig::default()
    })
    .judge(event, Some("us-west-2"));
    assert!(lenient.is_accepted());
    assert_eq!(lenient.partition.unwrap().region, "us-west-2");
    assert_eq!(
        lenient.validation.findings[0].code,
        Code::PartitionRegionInvalid
    );
}

#[test]
fn unknown_attribute_policies() {
    let mut event = fixture("authentication");
    event["vendor_score"] = json!(1);
    let moved = engine(EngineConfig::default()).judge(event.clone(), None);
    assert!(moved.is_accepted());
    assert_eq!(moved.event["unmapped"]["vendor_score"], json!(1));
    let kept = engine(EngineConfig {
        unknown_attributes: UnknownAttributes::Keep,
        ..EngineConfig::default()
    })
    .judge(event.clone(), None);
    assert!(kept.is_accepted());
    assert_eq!(kept.validation.findings[0].severity, Severity::Warning);
    assert_eq!(kept.event["vendor_score"], json!(1));
    let rejected = engine(EngineConfig {
        unknown_attributes: UnknownAttributes::Reject,
        ..EngineConfig::default()
    })
    .judge(event, None);
    assert!(!rejected.is_accepted());
}

#[test]
fn invalid_configuration_is_rejected_with_a_specific_error() {
    let bad = |config: EngineConfig| Engine::new(config).unwrap_err();
    let partition = |region: Option<&str>, account: Option<&str>| EngineConfig {
        partition: PartitionDefaults {
            region: region.map(Into::into),
            account_id: account.map(Into::into),
        },
        ..EngineConfig::default()
    };
    assert_eq!(
        bad(partition(Some("us/east"), None)),
        ConfigError::DefaultRegion("us/east".into())
    );
    assert_eq!(
        bad(partition(None, Some("1234"))),
        ConfigError::DefaultAccount("1234".into())
    );
    assert!(Engine::new(partition(Some("us-east-1"), Some("external_partner-1"))).is_ok());
    assert!(Engine::new(partition(None, Some("123456789012"))).is_ok());
    let fixed = EngineConfig {
        severity: "partition_time_invalid=warning".parse().unwrap(),
        ..EngineConfig::default()
    };
    assert_eq!(
        bad(fixed),
        ConfigError::FixedSeverity(Code::PartitionTimeInvalid)
    );
    assert_eq!(
        bad(EngineConfig {
            max_depth: 0,
            ..EngineConfig::default()
        }),
        ConfigError::MaxDepth
    );
    let classes = EngineConfig {
        allowed_classes: Some([3002, 7].into()),
        ..EngineConfig::default()
    };
    assert_eq!(
        bad(classes),
        ConfigError::UnknownClass {
            uid: 7,
            version: OcsfVersion::V1_1_0
        }
    );
    let profiles = EngineConfig {
        table: TableSpec {
            profiles: Some(vec!["cloud".into(), "shoes".into()]),
            columns: Vec::new(),
        },
        ..EngineConfig::default()
    };
    assert_eq!(
        bad(profiles),
        ConfigError::UnknownProfile {
            profile: "shoes".into(),
            version: OcsfVersion::V1_1_0
        }
    );
    let newer = EngineConfig {
        version: OcsfVersion::V1_3_0,
        allowed_classes: Some([1006].into()),
        ..EngineConfig::default()
    };
    assert_eq!(
        Engine::new(newer).unwrap().schema().version(),
        OcsfVersion::V1_3_0.release()
    );
}

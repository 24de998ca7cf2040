//! The Firehose transformation handler: fixture round trips, every bad input, the response-size
//! guard, configuration errors, logs and metrics, and every recordId answered exactly once.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::HashMap;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use ocsf_firehose_transform::firehose::config::{ENV_DEFAULT_REGION, ENV_SEVERITY};
use ocsf_firehose_transform::firehose::{
    FirehoseEvent, HandlerError, InvocationReport, OnInvalid, TransformConfig, Transformer,
};
use ocsf_firehose_transform::normalize::{ActionKind, NormalizeOptions, Normalizer};
use ocsf_firehose_transform::table::Tables;
use ocsf_firehose_transform::{OcsfVersion, Schema};
use proptest::prelude::*;
use serde_json::{json, Value};

fn firehose_fixture(name: &str) -> (Value, FirehoseEvent) {
    let path = common::fixtures_dir()
        .join("firehose")
        .join(format!("{name}.json"));
    let text = std::fs::read_to_string(path).unwrap();
    (
        serde_json::from_str(&text).unwrap(),
        serde_json::from_str(&text).unwrap(),
    )
}

fn transformer(config: TransformConfig) -> Transformer {
    Transformer::new(config).unwrap()
}

/// `(recordId, result, decoded data, partition keys)` of one response record.
type Answer = (String, String, Vec<u8>, Value);

/// The answers of a response.
fn answers(response: &impl serde::Serialize) -> Vec<Answer> {
    let value = serde_json::to_value(response).unwrap();
    value["records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["recordId"].as_str().unwrap().to_owned(),
                r["result"].as_str().unwrap().to_owned(),
                STANDARD.decode(r["data"].as_str().unwrap()).unwrap(),
                r["metadata"]["partitionKeys"].clone(),
            )
        })
        .collect()
}

fn run(name: &str, config: TransformConfig) -> (Vec<Answer>, InvocationReport, FirehoseEvent) {
    let (_, event) = firehose_fixture(name);
    let (response, report) = transformer(config).handle(&event).unwrap();
    (answers(&response), report, event)
}

fn compact_line(event: &Value) -> Vec<u8> {
    let mut line = serde_json::to_vec(event).unwrap();
    line.push(b'\n');
    line
}

#[test]
fn fixtures_round_trip_through_the_wire_types() {
    for name in ["direct_put", "kinesis", "bad_inputs"] {
        let (raw, event) = firehose_fixture(name);
        assert!(
            serde_json::to_value(&event).unwrap() == raw,
            "{name} does not round-trip"
        );
    }
    let (_, kinesis) = firehose_fixture("kinesis");
    assert!(kinesis.source_kinesis_stream_arn.is_some());
    assert_eq!(
        kinesis.records[0]
            .kinesis_record_metadata
            .as_ref()
            .unwrap()
            .subsequence_number,
        Some(0)
    );
}

#[test]
fn direct_put_records_come_back_normalized_with_partition_keys() {
    let (answers, report, _) = run("direct_put", TransformConfig::default());
    let tables = Tables::new(
        Schema::get(OcsfVersion::V1_1_0).unwrap(),
        Default::default(),
    );
    let fixtures = common::fixture_events();
    let fixtures: HashMap<i64, Value> = fixtures
        .into_iter()
        .map(|(_, e)| (e["class_uid"].as_i64().unwrap(), e))
        .collect();
    assert_eq!(answers.len(), 5);
    for (i, (id, result, data, keys)) in answers.iter().enumerate() {
        assert_eq!(id, &format!("direct_put-{i:03}"));
        assert_eq!(result, "Ok");
        let event: Value = serde_json::from_slice(data).unwrap();
        let original = &fixtures[&event["class_uid"].as_i64().unwrap()];
        let table = tables.get(event["class_uid"].as_i64().unwrap()).unwrap();
        // Valid already: normalization only lists `datetime` and fills the `*_dt` siblings.
        let mut fitted = original.clone();
        let normalizer = Normalizer::new(
            Schema::get(OcsfVersion::V1_1_0).unwrap(),
            NormalizeOptions::default(),
        );
        assert!(normalizer.normalize(&mut fitted).iter().all(|a| matches!(
            a.kind,
            ActionKind::ProfileAdded | ActionKind::DatetimeFilled
        )));
        table.fit(&mut fitted);
        // One line of compact JSON (its bytes are `json_text`'s, held to serde_json's there).
        assert_eq!(
            data.iter().position(|b| *b == b'\n'),
            Some(data.len() - 1),
            "one line"
        );
        assert_eq!(event, fitted, "normalized and fitted to its table");
        let compact = serde_json::to_vec(&event).unwrap();
        assert_eq!(data.len(), compact.len() + 1, "compact");
        assert!(event["time_dt"].is_string());
        assert_eq!(table.unheld_paths(&event), Vec::<String>::new());
        assert_eq!(keys["region"], original["cloud"]["region"]);
        assert_eq!(keys["eventDay"], json!("20230428"));
        let account = original["cloud"]["account"]["uid"]
            .as_str()
            .unwrap_or("external");
        assert_eq!(keys["accountId"], json!(account));
    }
    assert_eq!(
        (report.ok, report.failed, report.dropped, report.events),
        (5, 0, 0, 5)
    );
    assert!(report.bytes_in > 0 && report.bytes_out > 0);
}

#[test]
fn kinesis_records_json_lines_normalization_and_invalid_events() {
    let (answers, report, _) = run("kinesis", TransformConfig::default());
    let results: Vec<&str> = answers.iter().map(|a| a.1.as_str()).collect();
    assert_eq!(results, ["Ok", "Ok", "Ok", "ProcessingFailed"]);
    let lines: Vec<Value> = answers[1]
        .2
        .split(|b| *b == b'\n')
        .filter(|l| !l.is_empty())
        .map(|l| serde_json::from_slice(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2, "two events, two lines");
    assert!(answers[1].2.ends_with(b"\n"));
    let normalized: Value = serde_json::from_slice(&answers[2].2).unwrap();
    assert_eq!(normalized["time"], json!(1_682_683_200_123_i64));
    assert_eq!(normalized["class_name"], json!("Authentication"));
    assert_eq!(
        normalized["unmapped"]["vendor_score"],
        json!("7"),
        "unmapped: map<string,string>, keyed by path"
    );
    assert!(answers[3].2.is_empty());
    assert_eq!(answers[3].3, json!({}));
    assert_eq!(report.failures.len(), 1);
    let failure = &report.failures[0];
    assert_eq!(failure.record_id, "kinesis-003");
    assert_eq!(
        serde_json::to_value(&failure.findings).unwrap(),
        json!([{"event": 0, "code": "attribute_required_missing", "severity": "error", "path": "user"}])
    );
    assert_eq!(report.actions["caption_filled"], 6);
    assert_eq!(report.actions["timestamp_converted"], 1);
    assert_eq!(report.actions["moved_to_unmapped"], 1);
}

#[test]
fn every_bad_input_fails_only_its_own_record_with_a_precise_code() {
    let (answers, report, _) = run("bad_inputs", TransformConfig::default());
    let results: Vec<&str> = answers.iter().map(|a| a.1.as_str()).collect();
    let mut expected = vec!["ProcessingFailed"; 10];
    expected[0] = "Ok";
    expected[9] = "Ok";
    assert_eq!(results, expected);
    let codes: HashMap<&str, Vec<&str>> = report
        .failures
        .iter()
        .map(|f| {
            (
                f.record_id.as_str(),
                f.findings.iter().map(|x| x.code.as_str()).collect(),
            )
        })
        .collect();
    let expect = |i: usize, code: &str| {
        let id = format!("bad_inputs-{i:03}");
        assert!(
            codes[id.as_str()].contains(&code),
            "{id}: {:?}",
            codes[id.as_str()]
        );
    };
    expect(1, "data_not_base64");
    expect(2, "data_not_utf8");
    expect(3, "json_invalid");
    expect(4, "event_not_object");
    expect(5, "json_invalid");
    expect(6, "record_empty");
    expect(7, "partition_keys_mixed");
    expect(8, "attribute_required_missing");
    for (_, result, data, keys) in &answers {
        if result != "Ok" {
            assert!(data.is_empty() && keys == &json!({}));
        }
    }
}

#[test]
fn too_large_records_fail_before_decoding() {
    let config = TransformConfig {
        max_record_bytes: 100,
        ..TransformConfig::default()
    };
    let event = FirehoseEvent::from_payloads([vec![b' '; 101], vec![b'x'; 400]], "us-east-1", 0);
    let (response, report) = transformer(config).handle(&event).unwrap();
    assert!(answers(&response).iter().all(|a| a.1 == "ProcessingFailed"));
    assert!(report
        .failures
        .iter()
        .all(|f| f.findings[0].code.as_str() == "record_too_large"));
}

#[test]
fn invalid_events_are_dropped_only_when_configured() {
    let config = TransformConfig {
        on_invalid: OnInvalid::Drop,
        ..TransformConfig::default()
    };
    let (answers, report, _) = run("bad_inputs", config);
    assert_eq!(answers[8].1, "Dropped", "an invalid OCSF event");
    for (i, answer) in answers.iter().enumerate().take(8).skip(1) {
        assert_eq!(
            answer.1, "ProcessingFailed",
            "record {i}: undeliverable data is never dropped"
        );
    }
    assert_eq!(report.dropped, 1);
}

/// Events whose normalized form is larger than their input (captions filled, RFC 3339 times).
fn growing_event(count: usize) -> FirehoseEvent {
    let mut event = common::fixture_events()
        .into_iter()
        .find(|(n, _)| n == "authentication")
        .unwrap()
        .1;
    for key in [
        "class_name",
        "category_name",
        "type_name",
        "activity_name",
        "severity",
        "status",
        "logon_type",
        "auth_protocol",
    ] {
        event.as_object_mut().unwrap().remove(key);
    }
    let payload = serde_json::to_vec(&event).unwrap();
    FirehoseEvent::from_payloads(std::iter::repeat_n(payload, count), "us-east-1", 0)
}

#[test]
fn the_response_never_exceeds_the_limit() {
    // ~5.9 MB of request whose normalized output would need ~6.4 MB.
    let event = growing_event(3_600);
    let request = serde_json::to_vec(&event).unwrap().len();
    assert!(request < 6_291_456, "{request}");
    let (response, report) = transformer(TransformConfig::default())
        .handle(&event)
        .unwrap();
    let size = serde_json::to_vec(&response).unwrap().len();
    assert!(size <= 6_000_000, "{size}");
    assert!(
        report.response_bytes >= size,
        "{} < {size}",
        report.response_bytes
    );
    let answers = answers(&response);
    assert_eq!(answers.len(), 3_600);
    for (i, answer) in answers.iter().enumerate() {
        assert_eq!(answer.0, format!("{i:08}"), "every record, in order");
    }
    let first_failed = answers
        .iter()
        .position(|a| a.1 != "Ok")
        .expect("some records must not fit");
    assert!(first_failed > 2_500, "{first_failed}");
    assert!(answers[first_failed..]
        .iter()
        .all(|a| a.1 == "ProcessingFailed"));
    assert!(report.failures.iter().all(|f| f
        .findings
        .iter()
        .any(|x| x.code.as_str() == "response_too_large")));

    let small = TransformConfig {
        max_response_bytes: 20_000,
        ..TransformConfig::default()
    };
    let (response, _) = transformer(small).handle(&growing_event(40)).unwrap();
    assert!(serde_json::to_vec(&response).unwrap().len() <= 20_000);
    let tiny = TransformConfig {
        max_response_bytes: 1_024,
        ..TransformConfig::default()
    };
    assert!(matches!(
        transformer(tiny).handle(&growing_event(40)),
        Err(HandlerError::ResponseTooLarge { .. })
    ));
}

#[test]
fn configuration_errors_name_their_variable_at_init() {
    let mut config = TransformConfig::default();
    config.engine.partition.region = Some("us east".into());
    assert_eq!(
        Transformer::new(config).unwrap_err().variable,
        ENV_DEFAULT_REGION
    );
    let mut config = TransformConfig::default();
    config.engine.severity = "json_invalid=warning".parse().unwrap();
    let error = Transformer::new(config).unwrap_err();
    assert_eq!(error.variable, ENV_SEVERITY);
    assert!(error.to_string().contains("json_invalid"), "{error}");
}

#[test]
fn logs_and_metrics_carry_codes_and_counts_never_event_values() {
    let marker = "Zq9-secret-value";
    let mut auth = common::fixture_events()
        .into_iter()
        .find(|(n, _)| n == "authentication")
        .unwrap()
        .1;
    auth["user"]["name"] = json!(marker);
    auth["message"] = json!(marker);
    let mut invalid = auth.clone();
    invalid["src_endpoint"]["port"] = json!(marker);
    invalid["vendor_score"] = json!(marker);
    let mut not_json = marker.as_bytes().to_vec();
    not_json.extend_from_slice(b"{");
    let payloads = [
        serde_json::to_vec(&auth).unwrap(),
        serde_json::to_vec(&invalid).unwrap(),
        not_json,
    ];
    let event = FirehoseEvent::from_payloads(payloads, "us-east-1", 0);
    let config = TransformConfig {
        log_level: ocsf_firehose_transform::firehose::LogLevel::Debug,
        ..TransformConfig::default()
    };
    let recorder = metrics_util::debugging::DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    let (_, report) = metrics::with_local_recorder(&recorder, || {
        let (response, report) = transformer(config).handle(&event).unwrap();
        report.emit_metrics();
        (response, report)
    });
    let lines = report.log_lines(ocsf_firehose_transform::firehose::LogLevel::Debug);
    assert_eq!(lines.len(), 3, "two failed records and the summary");
    for line in &lines {
        assert!(!line.contains(marker), "{line}");
        let parsed: Value = serde_json::from_str(line).unwrap();
        assert!(parsed["level"].is_string());
    }
    let summary: Value = serde_json::from_str(&lines[2]).unwrap();
    assert_eq!(summary["records"], json!(3));
    assert_eq!(summary["failed"], json!(2));
    assert_eq!(summary["findings"]["attribute_wrong_type"], json!(1));
    assert_eq!(summary["findings"]["json_invalid"], json!(1));
    let failure: Value = serde_json::from_str(&lines[0]).unwrap();
    assert_eq!(failure["recordId"], json!("00000001"));
    assert_eq!(failure["findings"][0]["path"], json!("src_endpoint.port"));
    let snapshot = snapshotter.snapshot().into_vec();
    // What the dashboard may name (`contract::metrics::LAMBDA_METRICS`) is what is recorded.
    let names: std::collections::BTreeSet<String> = snapshot
        .iter()
        .map(|(key, _, _, _)| key.key().name().to_owned())
        .collect();
    let declared: std::collections::BTreeSet<String> =
        ocsf_firehose_transform::contract::metrics::LAMBDA_METRICS
            .iter()
            .map(|n| (*n).to_owned())
            .collect();
    assert_eq!(names, declared);
    let metrics: HashMap<String, u64> = snapshot
        .into_iter()
        .filter_map(|(key, _, _, value)| match value {
            metrics_util::debugging::DebugValue::Counter(n) => {
                let labels: Vec<String> =
                    key.key().labels().map(|l| l.value().to_owned()).collect();
                Some((format!("{}{:?}", key.key().name(), labels), n))
            }
            _ => None,
        })
        .collect();
    assert_eq!(metrics["RecordsOk[]"], 1);
    assert_eq!(metrics["RecordsFailed[]"], 2);
    assert_eq!(metrics["Findings[\"json_invalid\"]"], 1);
    assert!(metrics.keys().all(|k| !k.contains(marker)));
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn every_record_id_comes_back_exactly_once_in_order(
        payloads in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..200), 0..20),
        raw in prop::collection::vec("[ -~]{0,40}", 0..5),
    ) {
        let mut event = FirehoseEvent::from_payloads(&payloads, "us-east-1", 0);
        let base = event.records.len();
        for (i, data) in raw.into_iter().enumerate() {
            let mut record = event.records.first().cloned().unwrap_or_default();
            record.record_id = format!("raw-{i}");
            record.data = data; // arbitrary text, usually not base64
            event.records.push(record);
        }
        let (response, report) = transformer(TransformConfig::default()).handle(&event).unwrap();
        let answers = answers(&response);
        prop_assert_eq!(answers.len(), event.records.len());
        for (answer, record) in answers.iter().zip(&event.records) {
            prop_assert_eq!(&answer.0, &record.record_id);
            prop_assert!(["Ok", "Dropped", "ProcessingFailed"].contains(&answer.1.as_str()));
            if answer.1 == "Ok" {
                prop_assert!(answer.2.ends_with(b"\n"));
                prop_assert_eq!(answer.3.as_object().unwrap().len(), 3);
            }
        }
        prop_assert_eq!(report.ok + report.dropped + report.failed, answers.len());
        prop_assert!(base <= answers.len());
    }
}

/// A CloudWatch Logs subscription batch after Firehose's `Decompression` and
/// `CloudWatchLogProcessing` (message extraction): the log events' messages, newline-delimited,
/// in one record. Here CloudWatch Logs' `parseToOCSF` wrote the API Activity event as OCSF 1.5.0
/// and 1.1.0; each message is judged as an event (1.5.0 translated down) and the record's rows
/// come back in order under the one partition.
#[test]
fn a_cloudwatch_logs_batch_is_judged_message_by_message() {
    let api = common::fixture("api_activity");
    let mut newer = api.clone();
    newer["metadata"]["version"] = json!("1.5.0");
    newer["metadata"]["uid"] = json!("from-1.5");
    let mut data = compact_line(&newer);
    data.extend(compact_line(&api));
    data.pop(); // the last message has no delimiter after it
    let event = FirehoseEvent::from_payloads([data], "us-east-1", 0);
    let (response, report) = transformer(TransformConfig::default())
        .handle(&event)
        .unwrap();
    let [(_, result, rows, keys)] = answers(&response).try_into().unwrap();
    assert_eq!(result, "Ok");
    assert_eq!(report.events, 2);
    let rows: Vec<Value> = serde_json::Deserializer::from_slice(&rows)
        .into_iter()
        .map(Result::unwrap)
        .collect();
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0]["metadata"]["uid"], json!("from-1.5"));
    assert_eq!(rows[0]["unmapped"]["metadata.version"], json!("1.5.0"));
    assert!(rows
        .iter()
        .all(|row| row["metadata"]["version"] == json!("1.1.0")));
    // One partition for the record: the one a record of the 1.1.0 message alone gets.
    let alone = FirehoseEvent::from_payloads([compact_line(&api)], "us-east-1", 0);
    let (response, _) = transformer(TransformConfig::default())
        .handle(&alone)
        .unwrap();
    assert_eq!(answers(&response)[0].3, keys);
}

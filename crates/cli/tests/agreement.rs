//! One verdict: every event of the OCSF project's example corpus (`OCSF_EXAMPLES_DIR`, or
//! `../shared/ocsf-examples`), and mutations of them and of the fixtures that hit each partition
//! rule, judged under both target versions by the four paths that judge events:
//!
//! 1. `ocsf-firehose validate --format json` (the CLI binary),
//! 2. the producer's client-side check (feature `ocsf`, `send` → `SendError::Invalid`),
//! 3. the local pipeline (one record per event; the verdict read back from what it wrote: the
//!    error documents' codes, and the rows per partition),
//! 4. `Transformer::handle` on a Firehose event (the Lambda itself).
//!
//! All four must agree on every event: accepted or not, and the same error findings (code and
//! path); the CLI and the Lambda on the partition keys, and the local pipeline's rows per
//! partition must be what the Lambda's keys say.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;
#[path = "../../transform/tests/common/corpus.rs"]
mod corpus;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use ocsf_firehose_producer::{ProducerBuilder, SendError};
use ocsf_firehose_transform::documents::documents;
use ocsf_firehose_transform::firehose::{
    FirehoseEvent, TransformConfig, TransformResult, Transformer,
};
use ocsf_firehose_transform::local::{default_source_name, LocalConfig, LocalFirehose};
use ocsf_firehose_transform::{Engine, OcsfVersion, PartitionKeys, Schema};
use serde_json::{json, Value};

const REGION: &str = "us-east-1";

/// Error findings, as `(code, path)`, sorted.
type Errors = BTreeSet<(String, String)>;

/// One path's judgement of one event.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Judgement {
    accepted: bool,
    errors: Errors,
}

/// Every parseable document of the corpus, and how many were not JSON.
fn corpus(dir: &Path) -> (Vec<Value>, usize) {
    let mut paths: Vec<PathBuf> = walkdir::WalkDir::new(dir)
        .into_iter()
        .filter_map(Result::ok)
        .map(walkdir::DirEntry::into_path)
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    paths.sort();
    assert!(paths.len() >= 70, "corpus at {}", dir.display());
    let (mut events, mut not_json) = (Vec::new(), 0);
    for path in paths {
        for document in documents(&std::fs::read(&path).unwrap()) {
            match document.value {
                Ok(event) => events.push(event),
                Err(_) => not_json += 1,
            }
        }
    }
    (events, not_json)
}

/// The event with one partition rule hit.
fn mutations(event: &Value) -> Vec<Value> {
    let Some(map) = event.as_object() else {
        return Vec::new();
    };
    let with = |f: &dyn Fn(&mut serde_json::Map<String, Value>)| {
        let mut copy = map.clone();
        f(&mut copy);
        Value::Object(copy)
    };
    let set = |key: &'static str, value: Value| {
        with(&move |m: &mut serde_json::Map<String, Value>| {
            m.insert(key.to_owned(), value.clone());
        })
    };
    let cloud = |key: &'static str, value: Value| {
        with(&move |m: &mut serde_json::Map<String, Value>| {
            let cloud = m.entry("cloud").or_insert_with(|| json!({}));
            if let Some(cloud) = cloud.as_object_mut() {
                cloud.insert(key.to_owned(), value.clone());
            }
        })
    };
    vec![
        with(&|m| {
            m.remove("time");
        }),
        set("time", json!(631_152_000_000_i64)), // 1990-01-01: before 2000
        set("time", json!(4_102_531_200_000_i64)), // 2100-01-02: after 2100
        set("time", json!(1_682_683_200_i64)),   // seconds, not milliseconds
        set("time", json!("2023-04-28T23:30:00-02:00")), // a string normalization converts
        set("time", json!("yesterday")),         // a string it cannot
        cloud("region", json!("us east/1")),     // unsafe as an S3 value
        cloud("account", json!({"uid": "12345"})), // not an AWS account id: `external`
        with(&|m| {
            m.remove("cloud");
        }), // no region: the stream's
    ]
}

fn errors_of<'a>(findings: impl Iterator<Item = (&'a str, &'a str)>) -> Errors {
    findings
        .map(|(code, path)| (code.to_owned(), path.to_owned()))
        .collect()
}

/// Path 1: the CLI binary, configured through its flags (the environment cleared of `OCSF_*`).
fn by_cli(events: &[Vec<u8>], version: OcsfVersion, dir: &Path) -> Vec<(Judgement, Option<Value>)> {
    let input = dir.join("events.jsonl");
    std::fs::write(&input, events.join(&b'\n')).unwrap();
    let mut command = Command::new(env!("CARGO_BIN_EXE_ocsf-firehose"));
    for (name, _) in std::env::vars().filter(|(k, _)| k.starts_with("OCSF_")) {
        command.env_remove(name);
    }
    let out = command
        .args(["validate", "--format", "json", "--region", REGION])
        .args(["--ocsf-version", version.as_str()])
        .arg(&input)
        .output()
        .unwrap();
    assert!(
        matches!(out.status.code(), Some(0 | 1)),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines = common::json_lines(&out.stdout);
    assert_eq!(lines.len(), events.len(), "one report per event");
    lines
        .into_iter()
        .enumerate()
        .map(|(i, line)| {
            assert_eq!(line["index"], json!(i));
            assert_eq!(line["verdict"], json!("lambda"));
            let findings = line["findings"].as_array().unwrap();
            let errors = errors_of(
                findings
                    .iter()
                    .filter(|f| f["severity"] == "error")
                    .map(|f| (f["code"].as_str().unwrap(), f["path"].as_str().unwrap())),
            );
            let judgement = Judgement {
                accepted: line["valid"].as_bool().unwrap(),
                errors,
            };
            (judgement, line.get("partition").cloned())
        })
        .collect()
}

/// Path 2: the producer's client-side verdict, sending into a scratch local pipeline.
async fn by_producer(events: &[Value], config: &TransformConfig, dir: &Path) -> Vec<Judgement> {
    let mut local = LocalConfig::new(dir.join("producer-lake"));
    local.transform = config.clone();
    local.region = REGION.to_owned();
    let pipeline = Arc::new(Mutex::new(LocalFirehose::new(local).unwrap()));
    let producer = ProducerBuilder::local_by_class(pipeline)
        .ocsf(Engine::new(config.engine.clone()).unwrap())
        .build()
        .unwrap();
    let mut judgements = Vec::new();
    for event in events {
        let judgement = match producer.send(event).await {
            Ok(_) => Judgement {
                accepted: true,
                errors: Errors::new(),
            },
            Err(SendError::Invalid(findings)) => Judgement {
                accepted: false,
                errors: errors_of(findings.iter().map(|f| (f.code.as_str(), f.path.as_str()))),
            },
            Err(other) => panic!("refused otherwise: {other}"),
        };
        judgements.push(judgement);
    }
    let report = producer.shutdown().await;
    assert_eq!(report.failed_count, 0, "{:?}", report.failed.first());
    judgements
}

/// Path 3: the local pipeline, one record per event, read back from its output: the rejected
/// events (by their bytes) from the `processing-failed` documents, and the rows per partition.
fn by_local(
    events: &[Vec<u8>],
    config: &TransformConfig,
    dir: &Path,
) -> (BTreeMap<Vec<u8>, Errors>, BTreeMap<String, u64>, u64) {
    let out = dir.join("lake");
    let mut local = LocalConfig::new(&out);
    local.transform = config.clone();
    local.region = REGION.to_owned();
    let mut pipeline = LocalFirehose::new(local).unwrap();
    pipeline.put_routed(events).unwrap();
    let summary = pipeline.finish().unwrap();
    assert_eq!(summary.records, events.len() as u64, "one record per event");
    assert_eq!(summary.rows_failed, 0, "nothing failed conversion");
    let mut rejected = BTreeMap::new();
    for entry in walkdir::WalkDir::new(out.join("errors")) {
        let entry = entry.unwrap();
        if !entry.file_type().is_file() {
            continue;
        }
        let path = entry.path().to_string_lossy().into_owned();
        assert!(path.contains("/processing-failed/"), "{path}");
        for document in common::json_lines(&std::fs::read(entry.path()).unwrap()) {
            let raw = STANDARD
                .decode(document["rawData"].as_str().unwrap())
                .unwrap();
            let message = document["errorMessage"].as_str().unwrap();
            rejected.insert(raw, parse_reasons(message));
        }
    }
    (rejected, summary.rows, summary.ok)
}

/// `code at `path` (event 0); code` → the (code, path) pairs.
fn parse_reasons(message: &str) -> Errors {
    message
        .split("; ")
        .map(|reason| match reason.split_once(" at `") {
            Some((code, rest)) => {
                let path = rest.split_once("` (event ").map_or(rest, |(p, _)| p);
                (code.to_owned(), path.to_owned())
            }
            None => (reason.to_owned(), String::new()),
        })
        .collect()
}

/// Path 4: the Lambda's handler, one record per event.
fn by_lambda(
    events: &[Vec<u8>],
    config: &TransformConfig,
) -> Vec<(Judgement, Option<PartitionKeys>)> {
    let transformer = Transformer::new(config.clone()).unwrap();
    let request = FirehoseEvent::from_payloads(events, REGION, 1_700_000_000_000);
    let (response, report) = transformer.handle(&request).unwrap();
    let failures: BTreeMap<&str, Errors> = report
        .failures
        .iter()
        .map(|f| {
            let errors = errors_of(
                f.findings
                    .iter()
                    .map(|l| (l.code.as_str(), l.path.as_str())),
            );
            (f.record_id.as_str(), errors)
        })
        .collect();
    response
        .records
        .iter()
        .map(|record| {
            let id = record.record_id.as_str();
            let accepted = record.result == TransformResult::Ok;
            let judgement = Judgement {
                accepted,
                errors: failures.get(id).cloned().unwrap_or_default(),
            };
            (
                judgement,
                PartitionKeys::from_metadata(|name| record.metadata.partition_keys.get(name)),
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cli_the_producer_the_local_pipeline_and_the_lambda_agree_on_every_event() {
    let Some(dir) = corpus::corpus_dir() else {
        return;
    };
    let (corpus, not_json) = corpus(&dir);
    assert!(
        not_json > 0,
        "the corpus has unparseable documents, which are not events"
    );
    let fixtures: Vec<Value> = ["authentication", "api_activity", "network_activity"]
        .iter()
        .map(|name| common::fixture(name))
        .collect();
    let mut events: Vec<Value> = corpus.clone();
    for base in corpus.iter().chain(&fixtures) {
        events.extend(mutations(base));
    }
    events.extend(fixtures);
    let bytes: Vec<Vec<u8>> = events
        .iter()
        .map(|e| serde_json::to_vec(e).unwrap())
        .collect();
    for version in OcsfVersion::ALL {
        let scratch =
            std::env::temp_dir().join(format!("ocsf-agreement-{version}-{}", std::process::id()));
        std::fs::create_dir_all(&scratch).unwrap();
        let mut config = TransformConfig::default();
        config.engine.version = version;

        let cli = by_cli(&bytes, version, &scratch);
        let producer = by_producer(&events, &config, &scratch).await;
        let (local_rejected, local_rows, local_ok) = by_local(&bytes, &config, &scratch);
        let lambda = by_lambda(&bytes, &config);
        let engine = Engine::new(config.engine.clone()).unwrap();

        let mut expected_rows: BTreeMap<String, u64> = BTreeMap::new();
        let schema = Schema::get(version).unwrap();
        let mut accepted = 0;
        for (i, event) in events.iter().enumerate() {
            let (reference, keys) = &lambda[i];
            let context = || format!("OCSF {version}, event {i}: {event}");
            assert_eq!(cli[i].0, *reference, "CLI vs Lambda: {}", context());
            assert_eq!(producer[i], *reference, "producer vs Lambda: {}", context());
            let local = match local_rejected.get(&bytes[i]) {
                Some(errors) => Judgement {
                    accepted: false,
                    errors: errors.clone(),
                },
                None => Judgement {
                    accepted: true,
                    errors: Errors::new(),
                },
            };
            assert_eq!(local, *reference, "local pipeline vs Lambda: {}", context());
            let cli_keys = cli[i].1.clone();
            assert_eq!(
                cli_keys,
                keys.as_ref().map(|k| serde_json::to_value(k).unwrap()),
                "partition keys: {}",
                context()
            );
            if reference.accepted {
                accepted += 1;
                let keys = keys.as_ref().unwrap();
                // The class as the Lambda judged it (translation maps 1.0.0-rc.2's uids).
                let declared = event.pointer("/metadata/version").and_then(Value::as_str);
                let class = engine.class_in_target(event["class_uid"].as_i64().unwrap(), declared);
                let partition = format!(
                    "ext/{}/region={}/accountId={}/eventDay={}",
                    default_source_name(schema, class),
                    keys.region,
                    keys.account_id,
                    keys.event_day
                );
                *expected_rows.entry(partition).or_default() += 1;
            }
        }
        assert_eq!(local_ok, accepted, "OCSF {version}: accepted events");
        assert_eq!(
            local_rows, expected_rows,
            "OCSF {version}: rows per partition"
        );
        let rejected = events.len() as u64 - accepted;
        eprintln!(
            "OCSF {version}: {} events ({} from the corpus), {accepted} accepted, {rejected} rejected, the same by all four paths",
            events.len(),
            corpus.len()
        );
        assert!(accepted > 0 && rejected > 0, "both verdicts exercised");
        std::fs::remove_dir_all(&scratch).unwrap();
    }
}

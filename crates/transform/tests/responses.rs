//! The Lambda's responses to the committed Firehose fixtures, byte for byte: each is compared
//! with `tests/fixtures/firehose/<name>.response.json`, so any change in what the Lambda answers
//! (a row's bytes, a result, a partition key, the JSON around them) shows here, and a change
//! meant only to be faster must leave them alone. A deliberate change rewrites them:
//! `UPDATE_RESPONSES=1 cargo test -p ocsf-firehose-transform --test responses`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use ocsf_firehose_transform::firehose::{FirehoseEvent, TransformConfig, Transformer};

fn check(name: &str) {
    let dir = common::fixtures_dir().join("firehose");
    let text = std::fs::read_to_string(dir.join(format!("{name}.json"))).unwrap();
    let request: FirehoseEvent = serde_json::from_str(&text).unwrap();
    let transformer = Transformer::new(TransformConfig::default()).unwrap();
    let (response, _) = transformer.handle(&request).unwrap();
    let mut written = serde_json::to_string_pretty(&response).unwrap();
    written.push('\n');
    let golden = dir.join(format!("{name}.response.json"));
    if std::env::var_os("UPDATE_RESPONSES").is_some() {
        std::fs::write(&golden, &written).unwrap();
    }
    let expected = std::fs::read_to_string(&golden).unwrap();
    assert!(
        written == expected,
        "the response to {name}.json changed; if that is meant, rewrite it (see the file's doc)"
    );
    // Twice in one process, the same bytes (the partition keys' order included).
    let (again, _) = transformer.handle(&request).unwrap();
    assert_eq!(
        serde_json::to_string_pretty(&again).unwrap() + "\n",
        written
    );
}

#[test]
fn the_direct_put_response_is_unchanged() {
    check("direct_put");
}

#[test]
fn the_kinesis_response_is_unchanged() {
    check("kinesis");
}

#[test]
fn the_bad_inputs_response_is_unchanged() {
    check("bad_inputs");
}

//! Fuzzes the fit of accepted events to their Glue table: for every event the Lambda's verdict
//! accepts (any embedded release, either target; see `engines.rs`), its row is what the table
//! holds. Invariants: no panic; the row's Parquet encoding (the local pipeline's writer with
//! Firehose's settings, strict: a field without a column is an error) takes it whole; the row
//! is an object of the class the table is for.
#![no_main]

#[path = "engines.rs"]
mod engines;

use std::cell::RefCell;
use std::collections::HashMap;

use libfuzzer_sys::fuzz_target;
use ocsf_firehose_transform::contract::parquet::FIREHOSE_PARQUET;
use ocsf_firehose_transform::lake::ObjectWriter;
use ocsf_firehose_transform::OcsfVersion;

thread_local! {
    /// Writers by (target, class): building an Arrow schema per input would dominate.
    static WRITERS: RefCell<HashMap<(OcsfVersion, i64), ObjectWriter>> = RefCell::default();
}

fuzz_target!(|input: &[u8]| {
    let Some((target, event)) = engines::event(input) else {
        return;
    };
    let engine = engines::engine(target);
    let Some(row) = engine.judge(event, Some("us-east-1")).into_row() else {
        return;
    };
    let class = row.event["class_uid"].as_i64().expect("an accepted event has a class_uid");
    let table = engine.tables().get(class).expect("an accepted event's class has a table");
    assert_eq!(table.class_uid(), class);
    let bytes = serde_json::to_vec(&row.event).expect("a row serializes");
    let encoded = WRITERS.with(|writers| {
        let mut writers = writers.borrow_mut();
        let writer = writers
            .entry((target, class))
            .or_insert_with(|| ObjectWriter::new(table, &FIREHOSE_PARQUET));
        writer.encode(&[&bytes]).expect("one row encodes")
    });
    assert!(encoded.rejected.is_empty(), "the table rejected the Lambda's row: {:?}", encoded.rejected);
    assert_eq!(encoded.rows, 1);
});

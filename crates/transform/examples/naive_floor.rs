//! The naive floor of a Firehose transformation Lambda, for `scripts/bench-vs-duckdb`: each
//! record's data decoded from base64, parsed into a `serde_json::Value`, written back and
//! encoded again, answered `Ok`. No OCSF, no checks: what any JSON-handling Lambda spends at
//! least. `cargo run --example naive_floor -- FIREHOSE_EVENT.json` prints the response.

use std::io::Write;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use serde_json::{json, Value};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::args()
        .nth(1)
        .ok_or("usage: naive_floor FIREHOSE_EVENT.json")?;
    let event: Value = serde_json::from_slice(&std::fs::read(path)?)?;
    let records = event["records"].as_array().ok_or("no records")?;
    let mut answers = Vec::with_capacity(records.len());
    for record in records {
        let data = STANDARD.decode(record["data"].as_str().ok_or("no data")?)?;
        let parsed: Value = serde_json::from_slice(&data)?;
        answers.push(json!({
            "recordId": record["recordId"],
            "result": "Ok",
            "data": STANDARD.encode(serde_json::to_vec(&parsed)?),
        }));
    }
    let mut out = std::io::stdout().lock();
    serde_json::to_writer(&mut out, &json!({ "records": answers }))?;
    writeln!(out)?;
    Ok(())
}

//! What a run of `send` or `upload` did, every event accounted for, and its text rendering.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

use ocsf_firehose_producer::lake::StoredObject;
use serde::Serialize;

use crate::summary::{count, ByCode};

/// What a run did. Every event is accounted for: `events = skipped + rejectedEvents +
/// accepted`, and `accepted + replayed = delivered + notDelivered`.
#[derive(Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct RunSummary {
    /// Where the events went (`firehose:<name>`, `kinesis:<name>`, `s3://<bucket>`,
    /// `dir:<folder>`; none for a dry run).
    pub destination: Option<String>,
    /// The destination is a stream (else the direct path).
    #[serde(skip)]
    pub stream: bool,
    pub events: u64,
    pub input_bytes: u64,
    /// Events an earlier run of the same command took (delivered, delivered now from its
    /// state, or rejected then): not read again.
    pub skipped: u64,
    /// Events an earlier run accepted and did not deliver, delivered by this run from the state.
    pub replayed: u64,
    pub accepted: u64,
    /// Events the Lambda's verdict rejects (or that are not JSON objects).
    pub rejected_events: u64,
    /// Their codes (an event may have several), counted.
    pub rejected: ByCode,
    pub delivered: u64,
    /// Accepted events not delivered (not stored, on the direct path), by code.
    pub not_delivered: ByCode,
    /// Calls to the service (`PutRecordBatch`, `PutRecords`, objects stored).
    pub api_calls: u64,
    /// Records sent again after a transient failure.
    pub retried_records: u64,
    /// The direct path's objects, their bytes, and rows per partition
    /// (`<location>region=…/accountId=…/eventDay=…`).
    pub objects: u64,
    pub bytes: u64,
    pub rows: BTreeMap<String, u64>,
    pub dry_run: bool,
    /// `SIGINT` or `SIGTERM` stopped the reading: the events read were delivered, the rest
    /// not read (a file's state resumes there).
    pub interrupted: bool,
    /// The run's state folder, if it has one.
    pub state: Option<PathBuf>,
}

impl RunSummary {
    /// Counts a rejected input document and reports it on stderr (its codes, never its
    /// contents).
    pub(crate) fn reject(
        &mut self,
        input: &str,
        index: usize,
        codes: Vec<String>,
    ) -> anyhow::Result<()> {
        self.rejected_events += 1;
        for code in &codes {
            count(&mut self.rejected, code);
        }
        let line = serde_json::json!({"input": input, "line": index + 1, "codes": codes});
        // One `write` per line (stderr is unbuffered: `writeln!` of the value would make one per
        // token), unlocked between lines: the libraries' warnings go to stderr from the
        // runtime's threads.
        std::io::stderr().write_all(format!("{line}\n").as_bytes())?;
        Ok(())
    }

    /// Counts an object the direct path stored.
    pub(crate) fn add_object(&mut self, object: &StoredObject) {
        self.objects += 1;
        self.bytes += object.bytes;
        let partition = object.key.rsplit_once('/').map_or("", |(dir, _)| dir);
        *self.rows.entry(partition.to_owned()).or_default() += object.rows;
    }

    /// The summary as text: a line of totals, then what was skipped, rejected and not
    /// delivered, and the rows per partition.
    pub(crate) fn write(&self, out: &mut dyn Write, elapsed: Duration) -> std::io::Result<()> {
        let seconds = elapsed.as_secs_f64().max(1e-9);
        write!(
            out,
            "{} events ({:.1} MB) in {seconds:.1} s ({:.0} events/s, {:.1} MB/s): {} accepted, {} rejected; ",
            self.events,
            self.input_bytes as f64 / 1e6,
            self.events as f64 / seconds,
            self.input_bytes as f64 / 1e6 / seconds,
            self.accepted,
            self.rejected_events,
        )?;
        if self.stream {
            writeln!(
                out,
                "delivered {} in {} calls ({} records sent again)",
                self.delivered, self.api_calls, self.retried_records
            )?;
        } else {
            let verb = if self.dry_run { "would write" } else { "wrote" };
            writeln!(
                out,
                "{verb} {} objects, {:.1} MB",
                self.objects,
                self.bytes as f64 / 1e6
            )?;
        }
        if self.interrupted {
            writeln!(
                out,
                "  interrupted: reading stopped after {} events",
                self.events
            )?;
        }
        if self.skipped > 0 || self.replayed > 0 {
            writeln!(
                out,
                "  skipped {} events an earlier run took (delivered, or rejected then); delivered {} it had left",
                self.skipped, self.replayed
            )?;
        }
        if let (Some(state), true) = (&self.state, self.skipped > 0) {
            writeln!(
                out,
                "  state {} (--restart sends everything again)",
                state.display()
            )?;
        }
        for (code, n) in &self.rejected {
            writeln!(out, "  rejected {code}: {n}")?;
        }
        let failed = if self.stream {
            "not delivered"
        } else {
            "not stored"
        };
        for (code, n) in &self.not_delivered {
            writeln!(out, "  {failed} {code}: {n}")?;
        }
        for (partition, rows) in &self.rows {
            writeln!(out, "  {partition}  {rows}")?;
        }
        Ok(())
    }
}

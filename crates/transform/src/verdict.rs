//! The verdict on one event: what the transformation Lambda decides, and the only judgement
//! anything in ocsf-firehose gives. [`Engine::judge`](crate::Engine::judge) runs the Lambda's
//! per-event pipeline (normalize → validate → partition keys) and the result carries, for an
//! accepted event, the row the Lambda emits: the event fitted to its class's Glue table
//! ([`Verdict::into_row`]). The Lambda, the CLI (`validate`, `normalize`), the producer's `ocsf`
//! feature and the local pipeline all take their verdict from here.

use serde_json::Value;

use crate::contract::partition::PartitionKeys;
use crate::finding::{Finding, Severity};
use crate::normalize::Action;
use crate::table::Tables;
use crate::validate::Validation;

/// The verdict on one event.
#[derive(Debug, Clone)]
pub struct Verdict<'e> {
    /// The normalized event: valid OCSF when accepted, and what the Lambda re-judges identically
    /// (normalization is idempotent), so it is what a client sends.
    pub event: Value,
    /// The findings on the normalized event (partition findings included) and its `class_uid`.
    pub validation: Validation,
    /// What normalization changed.
    pub actions: Vec<Action>,
    /// The partition keys, when the event can be partitioned.
    pub partition: Option<PartitionKeys>,
    /// The engine's Glue tables, for the row of an accepted event.
    pub(crate) tables: &'e Tables,
}

/// What the Lambda emits for an accepted event: the normalized event fitted to its class's Glue
/// table (`unmapped` and JSON values as text, whatever the table has no column for moved under
/// `unmapped` by its path), and its partition.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// The fitted event.
    pub event: Value,
    /// Paths of the values fitting moved under `unmapped`.
    pub moved: Vec<String>,
    /// The partition keys.
    pub partition: PartitionKeys,
}

impl Verdict<'_> {
    /// `true` when the Lambda delivers the event: no error finding, and partition keys.
    pub fn is_accepted(&self) -> bool {
        self.validation.is_valid() && self.partition.is_some()
    }

    /// The error findings: why the event is rejected (none when it is accepted).
    pub fn errors(&self) -> impl Iterator<Item = &Finding> {
        self.validation
            .findings
            .iter()
            .filter(|f| f.severity == Severity::Error)
    }

    /// The row the Lambda emits, for an accepted event (`None` otherwise: nothing is emitted).
    pub fn into_row(self) -> Option<Row> {
        self.into_parts().1
    }

    /// The findings and, for an accepted event, its row: what the Lambda keeps of a verdict,
    /// without copying the findings.
    pub fn into_parts(self) -> (Vec<Finding>, Option<Row>) {
        let accepted = self.is_accepted();
        let Verdict {
            mut event,
            validation,
            partition,
            tables,
            ..
        } = self;
        let row = partition.filter(|_| accepted).map(|partition| {
            let table = validation.class_uid.and_then(|uid| tables.get(uid));
            let moved = table.map(|t| t.fit(&mut event).moved).unwrap_or_default();
            Row {
                event,
                moved,
                partition,
            }
        });
        (validation.findings, row)
    }
}

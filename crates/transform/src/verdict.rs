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
use crate::table::TableModel;
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
    /// The Glue table of the event's class, when the schema has it.
    pub(crate) table: Option<&'e TableModel>,
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
        if !self.is_accepted() {
            return None;
        }
        let partition = self.partition?;
        let mut event = self.event;
        let moved = match self.table {
            Some(table) => table.fit(&mut event).moved,
            None => Vec::new(),
        };
        Some(Row {
            event,
            moved,
            partition,
        })
    }
}

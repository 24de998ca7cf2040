//! Objects the spool's replay stores again, whole, under the key they had (exactly once on the
//! direct path: `spool/intents.rs`). Their rows arrive one by one; the object is written once
//! all are in, never with a part of them (a part written under the key would replace the whole
//! object stored before the crash).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use ocsf_firehose_transform::lake::Buffer;

use super::{Key, Waiting};
use crate::command::ObjectOfRow;

/// The objects being gathered.
#[derive(Default)]
pub(super) struct Again {
    objects: HashMap<Arc<str>, Gathering>,
}

struct Gathering {
    key: Key,
    buffer: Buffer<Waiting>,
    rows: usize,
}

impl Again {
    /// Takes a row of `object`; the object, when this was its last row.
    pub(super) fn add(
        &mut self,
        object: ObjectOfRow,
        key: Key,
        row: Vec<u8>,
        waiting: Waiting,
    ) -> Option<(Arc<str>, Key, Buffer<Waiting>)> {
        let gathering = self
            .objects
            .entry(Arc::clone(&object.key))
            .or_insert_with(|| Gathering {
                key,
                buffer: Buffer {
                    rows: Vec::new(),
                    bytes: 0,
                    opened: Instant::now(),
                },
                rows: object.rows,
            });
        gathering.buffer.bytes += row.len();
        gathering.buffer.rows.push((row, waiting));
        if gathering.buffer.rows.len() < gathering.rows {
            return None;
        }
        let gathering = self.objects.remove(&object.key)?;
        Some((object.key, gathering.key, gathering.buffer))
    }

    /// Gives up the objects not whole (the producer stops before their last rows came): their
    /// rows stay in the spool, unresolved, for the next start.
    pub(super) fn abandon(&mut self) {
        for (_, gathering) in self.objects.drain() {
            tracing::warn!(
                rows = gathering.buffer.rows.len(),
                of = gathering.rows,
                "object to store again left for the next start"
            );
            // Dropped unresolved: each row's spool entry stays (a ticket not acknowledged), and
            // whoever awaits it learns that the producer stopped.
            drop(gathering);
        }
    }
}

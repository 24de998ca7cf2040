//! What `Producer` hands the task behind it, the stream worker (`worker.rs`) or the lake
//! writer (`lake/`): one message type below both, so that neither imports the other.

#[cfg(feature = "lake")]
use ocsf_firehose_contract::partition::PartitionKeys;
use tokio::sync::{oneshot, OwnedSemaphorePermit};

use crate::event::EncodedEvent;
use crate::outcome::{Reply, Report};

/// What `Producer` asks of its worker.
pub(crate) enum Command {
    Event {
        encoded: EncodedEvent,
        permit: OwnedSemaphorePermit,
        reply: Reply,
    },
    /// A row for the lake writer (the direct path): the Lambda's row of an accepted event.
    #[cfg(feature = "lake")]
    Row {
        row: LakeRow,
        permit: OwnedSemaphorePermit,
        reply: Reply,
    },
    Flush(oneshot::Sender<Report>),
}

/// The row of one accepted event, as the Lambda emits it.
#[cfg(feature = "lake")]
#[derive(Debug)]
pub struct LakeRow {
    /// The row's JSON (fitted to the class's table).
    pub bytes: Vec<u8>,
    /// The event's class.
    pub class_uid: i64,
    /// The event's Security Lake partition.
    pub keys: PartitionKeys,
}

//! Aggregation: several small events per record, because Firehose bills every record rounded up
//! to 5 KB and Security Lake events are often around 1 KB.
//!
//! * [`json_lines`]: Firehose records holding several events as JSON lines, grouped by
//!   Security Lake partition (the stream needs Firehose's `RecordDeAggregation` processor,
//!   sub-record type JSON);
//! * [`kpl`]: Kinesis records in the KPL aggregated format, which Firehose de-aggregates itself
//!   when its source is a Kinesis stream.

pub mod json_lines;
pub mod kpl;

use std::sync::Arc;

use ocsf_firehose_contract::framing;

use crate::event::EncodedEvent;
use json_lines::JsonLinesAggregator;
use kpl::KplAggregator;

/// Derives a Kinesis partition key from an encoded event.
pub type PartitionKeyFn = Arc<dyn Fn(&[u8]) -> String + Send + Sync>;

/// A record ready for a batch: its data, its Kinesis partition key (Kinesis only) and the ids of
/// the events it carries, so that each event's outcome follows its record's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record<Id> {
    /// The record's bytes.
    pub data: Vec<u8>,
    /// Kinesis partition key.
    pub partition_key: Option<String>,
    /// The events in this record.
    pub events: Vec<Id>,
}

impl<Id> Record<Id> {
    /// Bytes the record counts for against a call's size limit (data plus partition key).
    pub fn size(&self) -> usize {
        self.data.len() + self.partition_key.as_ref().map_or(0, String::len)
    }
}

/// How the worker turns events into records, chosen by the service
/// (`Service::aggregator`).
pub(crate) enum Aggregator<Id> {
    /// One event per record: a JSON line (Firehose), or keyed (Kinesis: the application's key,
    /// else a random one).
    PerEvent { keyed: bool, rng: fastrand::Rng },
    /// Firehose JSON-lines records per Security Lake partition.
    JsonLines(JsonLinesAggregator<Id>),
    /// KPL aggregated Kinesis records.
    Kpl(KplAggregator<Id>),
}

impl<Id> Aggregator<Id> {
    /// One JSON line per record.
    pub(crate) fn line_per_event() -> Self {
        Aggregator::PerEvent {
            keyed: false,
            rng: fastrand::Rng::new(),
        }
    }

    /// One keyed record per event.
    pub(crate) fn keyed_per_event() -> Self {
        Aggregator::PerEvent {
            keyed: true,
            rng: fastrand::Rng::new(),
        }
    }

    /// Takes event `id`; returns the records it closed. `key`: the application's partition
    /// key of an event, if it derives one.
    pub(crate) fn push(
        &mut self,
        id: Id,
        encoded: EncodedEvent,
        key: impl FnOnce(&[u8]) -> Option<String>,
    ) -> Vec<Record<Id>> {
        match self {
            Aggregator::JsonLines(agg) => agg.push(id, encoded),
            // An event's own key only when the application derives one: otherwise the
            // aggregated record's random key (shard-safe, see `KplAggregator`).
            Aggregator::Kpl(agg) => {
                let key = key(&encoded.bytes);
                agg.push(id, encoded.bytes, key)
            }
            Aggregator::PerEvent { keyed: true, rng } => {
                let key = key(&encoded.bytes).unwrap_or_else(|| format!("{:032x}", rng.u128(..)));
                vec![Record {
                    data: encoded.bytes,
                    partition_key: Some(key),
                    events: vec![id],
                }]
            }
            Aggregator::PerEvent { keyed: false, .. } => vec![Record {
                data: framing::into_line(encoded.bytes),
                partition_key: None,
                events: vec![id],
            }],
        }
    }

    /// Closes the open records (linger expired, flush or shutdown).
    pub(crate) fn flush(&mut self) -> Vec<Record<Id>> {
        match self {
            Aggregator::JsonLines(agg) => agg.flush(),
            Aggregator::Kpl(agg) => agg.flush(),
            Aggregator::PerEvent { .. } => Vec::new(),
        }
    }
}

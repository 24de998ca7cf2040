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

//! Firehose aggregation: events that share a Security Lake partition are packed into one
//! record as JSON lines, up to a target size (by default one 5 KB billing unit), never over
//! 500 sub-records (`RecordDeAggregation`'s limit) or the 1,000 KiB record limit.

use std::collections::BTreeMap;

use ocsf_firehose_contract::framing;

use super::Record;
use crate::event::{EncodedEvent, GroupKey};
use crate::limits::{
    FIREHOSE_BILLING_UNIT_BYTES, FIREHOSE_MAX_RECORD_BYTES, FIREHOSE_MAX_SUB_RECORDS,
};

/// Default record target: ten 5 KB billing units. Firehose rounds every record up to the next
/// 5 KB, so a record wastes less than one unit: at most a tenth of its billed size at this
/// target, whereas a single-unit target would lose a whole event's worth per record
/// (four 1 KiB events + newlines fill 4,100 of 5,120 bytes).
pub const DEFAULT_TARGET_BYTES: usize = 10 * FIREHOSE_BILLING_UNIT_BYTES;

/// The most an open record reserves up front.
const RESERVE_BYTES: usize = 64 * 1024;

/// Firehose's billed size of a record: rounded up to the 5 KB unit.
pub fn billed_bytes(record_len: usize) -> usize {
    record_len.div_ceil(FIREHOSE_BILLING_UNIT_BYTES).max(1) * FIREHOSE_BILLING_UNIT_BYTES
}

struct Open<Id> {
    data: Vec<u8>,
    events: Vec<Id>,
}

/// Packs events into JSON-lines records per partition group.
pub struct JsonLinesAggregator<Id> {
    target_bytes: usize,
    open: BTreeMap<GroupKey, Open<Id>>,
    buffered: usize,
}

impl<Id> JsonLinesAggregator<Id> {
    /// An aggregator closing records at `target_bytes` (clamped to the record limit).
    pub fn new(target_bytes: usize) -> Self {
        JsonLinesAggregator {
            target_bytes: target_bytes.clamp(1, FIREHOSE_MAX_RECORD_BYTES),
            open: BTreeMap::new(),
            buffered: 0,
        }
    }

    /// Bytes held in open records.
    pub fn buffered_bytes(&self) -> usize {
        self.buffered
    }

    /// Adds an event; returns the records it closed. Events without a group (no plausible
    /// `time`) travel alone.
    pub fn push(&mut self, id: Id, event: EncodedEvent) -> Vec<Record<Id>> {
        let line = framing::into_line(event.bytes);
        let Some(group) = event.group else {
            return vec![Record {
                data: line,
                partition_key: None,
                events: vec![id],
            }];
        };
        let mut closed = Vec::new();
        let target = self.target_bytes;
        let fits = |open: &Open<Id>| {
            open.data.len() + line.len() <= target
                && open.data.len() + line.len() <= FIREHOSE_MAX_RECORD_BYTES
                && open.events.len() < FIREHOSE_MAX_SUB_RECORDS
        };
        if self.open.get(&group).is_some_and(|open| !fits(open)) {
            closed.extend(self.close(&group));
        }
        self.buffered += line.len();
        let full = match self.open.get_mut(&group) {
            Some(open) => {
                open.data.extend_from_slice(&line);
                open.events.push(id);
                open.data.len() >= target || open.events.len() >= FIREHOSE_MAX_SUB_RECORDS
            }
            None => {
                // Room for a default-sized record up front (no reallocation while it fills);
                // capped so that many half-empty groups do not reserve large targets.
                let mut data = Vec::with_capacity(target.min(RESERVE_BYTES).max(line.len()));
                data.extend_from_slice(&line);
                let full = data.len() >= target;
                self.open.insert(
                    group.clone(),
                    Open {
                        data,
                        events: vec![id],
                    },
                );
                full
            }
        };
        if full {
            closed.extend(self.close(&group));
        }
        closed
    }

    /// Closes every open record.
    pub fn flush(&mut self) -> Vec<Record<Id>> {
        let groups: Vec<GroupKey> = self.open.keys().cloned().collect();
        groups.iter().filter_map(|g| self.close(g)).collect()
    }

    fn close(&mut self, group: &GroupKey) -> Option<Record<Id>> {
        let open = self.open.remove(group)?;
        self.buffered -= open.data.len();
        Some(Record {
            data: open.data,
            partition_key: None,
            events: open.events,
        })
    }
}

#[cfg(test)]
mod tests {
    use ocsf_firehose_contract::partition::PartitionKeys;

    use super::*;

    fn event(day: &str, region: &str, size: usize) -> EncodedEvent {
        EncodedEvent {
            bytes: vec![b'a'; size],
            group: Some(GroupKey {
                class_uid: Some(3002),
                partition: PartitionKeys {
                    region: region.into(),
                    account_id: String::new(),
                    event_day: day.into(),
                },
            }),
        }
    }

    fn lines(record: &Record<u32>) -> usize {
        record.data.iter().filter(|b| **b == b'\n').count()
    }

    #[test]
    fn packs_same_partition_events_up_to_the_target() {
        let mut agg = JsonLinesAggregator::new(5 * 1024);
        let mut closed = Vec::new();
        for id in 0..12 {
            closed.extend(agg.push(id, event("20230428", "us-east-1", 999)));
        }
        assert_eq!(closed.len(), 2, "5 events of 1000 bytes per 5 KiB record");
        assert_eq!(closed[0].events, [0, 1, 2, 3, 4]);
        assert!(closed
            .iter()
            .all(|r| r.data.len() <= 5 * 1024 && lines(r) == 5));
        assert_eq!(agg.buffered_bytes(), 2_000);
        let rest = agg.flush();
        assert_eq!(rest[0].events, [10, 11]);
        assert_eq!(agg.buffered_bytes(), 0);
    }

    #[test]
    fn never_mixes_partitions_and_sends_ungrouped_events_alone() {
        let mut agg = JsonLinesAggregator::new(5 * 1024);
        assert!(agg.push(0, event("20230428", "us-east-1", 100)).is_empty());
        assert!(agg.push(1, event("20230429", "us-east-1", 100)).is_empty());
        assert!(agg.push(2, event("20230428", "eu-west-1", 100)).is_empty());
        assert!(agg.push(3, event("20230428", "us-east-1", 100)).is_empty());
        let alone = agg.push(
            4,
            EncodedEvent {
                bytes: b"{}".to_vec(),
                group: None,
            },
        );
        assert_eq!(alone.len(), 1);
        assert_eq!(alone[0].data, b"{}\n");
        let mut records = agg.flush();
        records.sort_by_key(|r| r.events.clone());
        let groups: Vec<Vec<u32>> = records.iter().map(|r| r.events.clone()).collect();
        assert_eq!(groups, [vec![0, 3], vec![1], vec![2]]);
    }

    #[test]
    fn billed_bytes_ratio_for_1_kib_events() {
        let events = 10_000;
        let payload = events * 1024;
        let alone: usize = (0..events).map(|_| billed_bytes(1024)).sum();
        assert_eq!(alone as f64 / payload as f64, 5.0, "one event per record");
        let mut agg = JsonLinesAggregator::new(DEFAULT_TARGET_BYTES);
        let mut records: Vec<Record<u32>> = (0..events as u32)
            .flat_map(|id| agg.push(id, event("20230428", "r", 1024)))
            .collect();
        records.extend(agg.flush());
        let billed: usize = records.iter().map(|r| billed_bytes(r.data.len())).sum();
        let ratio = billed as f64 / payload as f64;
        assert!(ratio <= 1.05, "{ratio}");
    }

    #[test]
    fn respects_the_sub_record_and_record_limits() {
        let mut agg = JsonLinesAggregator::new(usize::MAX);
        let closed: Vec<Record<u32>> = (0..1_000)
            .flat_map(|id| agg.push(id, event("20230428", "r", 10)))
            .collect();
        assert_eq!(closed.len(), 2);
        assert!(closed
            .iter()
            .all(|r| r.events.len() == FIREHOSE_MAX_SUB_RECORDS));
        let mut big = JsonLinesAggregator::new(usize::MAX);
        let closed: Vec<Record<u32>> = (0..30)
            .flat_map(|id| big.push(id, event("20230428", "r", 100_000)))
            .collect();
        assert!(closed
            .iter()
            .all(|r| r.data.len() <= FIREHOSE_MAX_RECORD_BYTES));
        assert_eq!(
            closed.iter().map(|r| r.events.len()).sum::<usize>()
                + big.flush().iter().map(|r| r.events.len()).sum::<usize>(),
            30
        );
    }
}

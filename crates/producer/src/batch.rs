//! Packing records into API calls within the per-call limits: at most 500 records and 4 MiB
//! (`PutRecordBatch`) or 5 MiB including partition keys (`PutRecords`).

use crate::aggregate::Record;
use crate::limits::{
    FIREHOSE_MAX_BYTES_PER_CALL, FIREHOSE_MAX_RECORDS_PER_CALL, KINESIS_MAX_BYTES_PER_CALL,
    KINESIS_MAX_RECORDS_PER_CALL,
};

/// The limits of one call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CallLimits {
    /// Records per call.
    pub max_records: usize,
    /// Bytes per call ([`Record::size`]: data plus partition key).
    pub max_bytes: usize,
}

impl CallLimits {
    /// `PutRecordBatch`.
    pub const FIREHOSE: CallLimits = CallLimits {
        max_records: FIREHOSE_MAX_RECORDS_PER_CALL,
        max_bytes: FIREHOSE_MAX_BYTES_PER_CALL,
    };
    /// `PutRecords`.
    pub const KINESIS: CallLimits = CallLimits {
        max_records: KINESIS_MAX_RECORDS_PER_CALL,
        max_bytes: KINESIS_MAX_BYTES_PER_CALL,
    };
}

/// Accumulates records into calls.
pub struct Batcher<Id> {
    limits: CallLimits,
    records: Vec<Record<Id>>,
    bytes: usize,
}

impl<Id> Batcher<Id> {
    /// A batcher for `limits`.
    pub fn new(limits: CallLimits) -> Self {
        Batcher {
            limits,
            records: Vec::new(),
            bytes: 0,
        }
    }

    /// Records waiting.
    pub fn len(&self) -> usize {
        self.records.len()
    }

    /// Whether nothing waits.
    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }

    /// Bytes waiting.
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    /// Adds a record; returns the calls that are now full. A record never exceeds a call's byte
    /// limit on its own (records are limited to 1,000 KiB / 1 MiB).
    pub fn push(&mut self, record: Record<Id>) -> Vec<Vec<Record<Id>>> {
        let mut full = Vec::new();
        if !self.records.is_empty() && self.bytes + record.size() > self.limits.max_bytes {
            full.push(self.take());
        }
        self.bytes += record.size();
        self.records.push(record);
        if self.records.len() >= self.limits.max_records || self.bytes >= self.limits.max_bytes {
            full.push(self.take());
        }
        full
    }

    /// Everything waiting, as one call (possibly empty).
    pub fn take(&mut self) -> Vec<Record<Id>> {
        self.bytes = 0;
        std::mem::take(&mut self.records)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(id: u32, size: usize) -> Record<u32> {
        Record {
            data: vec![b'x'; size],
            partition_key: None,
            events: vec![id],
        }
    }

    #[test]
    fn calls_never_exceed_the_limits_and_keep_order() {
        let mut batcher = Batcher::new(CallLimits::FIREHOSE);
        let mut calls: Vec<Vec<Record<u32>>> = Vec::new();
        for id in 0..2_000 {
            calls.extend(batcher.push(record(id, 1_000 + (id as usize * 37) % 20_000)));
        }
        calls.push(batcher.take());
        let mut next = 0;
        for call in &calls {
            assert!(call.len() <= 500);
            assert!(call.iter().map(Record::size).sum::<usize>() <= 4 * 1024 * 1024);
            for r in call {
                assert_eq!(r.events, [next]);
                next += 1;
            }
        }
        assert_eq!(next, 2_000);
        assert!(batcher.is_empty() && batcher.bytes() == 0);
    }

    #[test]
    fn saturated_input_fills_at_least_95_percent_of_calls() {
        // 50 KiB aggregated records, all available at once: every call but the last is full.
        let mut batcher = Batcher::new(CallLimits::FIREHOSE);
        let mut calls: Vec<Vec<Record<u32>>> = (0..10_000)
            .flat_map(|id| batcher.push(record(id, 50 * 1024 - 7)))
            .collect();
        calls.push(batcher.take());
        let full = calls
            .iter()
            .filter(|c| {
                c.len() == 500
                    || c.iter().map(Record::size).sum::<usize>() + 50 * 1024 > 4 * 1024 * 1024
            })
            .count();
        assert!(full * 100 >= calls.len() * 95, "{full} of {}", calls.len());
    }

    #[test]
    fn full_calls_by_count_and_by_bytes() {
        let mut batcher = Batcher::new(CallLimits::FIREHOSE);
        let calls: Vec<_> = (0..500)
            .flat_map(|id| batcher.push(record(id, 10)))
            .collect();
        assert_eq!(calls.len(), 1);
        assert_eq!(calls[0].len(), 500, "exactly 500 records");
        let mut kinesis = Batcher::new(CallLimits::KINESIS);
        let mut pushed = Vec::new();
        for id in 0..6 {
            let mut r = record(id, 1024 * 1024 - 3);
            r.partition_key = Some("abc".into());
            pushed.extend(kinesis.push(r));
        }
        assert_eq!(pushed.len(), 1, "5 MiB including keys");
        assert_eq!(pushed[0].len(), 5);
        assert_eq!(kinesis.len(), 1);
    }
}

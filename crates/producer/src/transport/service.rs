//! What each stream service is, in one place: its name, its record and call limits, its default
//! aggregation target and how its records are built (Firehose: JSON lines, aggregated per
//! Security Lake partition; Kinesis: a partition key per record, KPL aggregation). The worker
//! asks the service; it never matches on it.

use crate::aggregate::json_lines::{JsonLinesAggregator, DEFAULT_TARGET_BYTES};
use crate::aggregate::kpl::KplAggregator;
use crate::aggregate::Aggregator;
use crate::batch::CallLimits;
use crate::limits::{FIREHOSE_MAX_RECORD_BYTES, KINESIS_MAX_RECORD_BYTES};

/// Default KPL aggregate size: the KPL's own default (`AggregationMaxSize`, 51,200 bytes).
pub const DEFAULT_KPL_TARGET_BYTES: usize = 51_200;

/// The stream service a transport sends to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Service {
    /// Firehose Direct PUT.
    Firehose,
    /// Kinesis Data Streams.
    Kinesis,
}

impl Service {
    /// `firehose` or `kinesis`, for logs.
    pub fn name(self) -> &'static str {
        match self {
            Service::Firehose => "firehose",
            Service::Kinesis => "kinesis",
        }
    }

    /// The record size limit.
    pub fn max_record_bytes(self) -> usize {
        match self {
            Service::Firehose => FIREHOSE_MAX_RECORD_BYTES,
            Service::Kinesis => KINESIS_MAX_RECORD_BYTES,
        }
    }

    /// The limits of one call (`PutRecordBatch`, `PutRecords`).
    pub fn call_limits(self) -> CallLimits {
        match self {
            Service::Firehose => CallLimits::FIREHOSE,
            Service::Kinesis => CallLimits::KINESIS,
        }
    }

    /// The aggregation target when the configuration names none.
    pub fn default_target_bytes(self) -> usize {
        match self {
            Service::Firehose => DEFAULT_TARGET_BYTES,
            Service::Kinesis => DEFAULT_KPL_TARGET_BYTES,
        }
    }

    /// How events become this service's records: aggregated to `target` bytes (`aggregate`),
    /// or one per record (a JSON line for Firehose; a keyed record for Kinesis).
    pub(crate) fn aggregator<Id>(self, aggregate: bool, target: usize) -> Aggregator<Id> {
        match (aggregate, self) {
            (true, Service::Firehose) => Aggregator::JsonLines(JsonLinesAggregator::new(target)),
            (true, Service::Kinesis) => Aggregator::Kpl(KplAggregator::new(target)),
            (false, Service::Firehose) => Aggregator::line_per_event(),
            (false, Service::Kinesis) => Aggregator::keyed_per_event(),
        }
    }
}

//! What the producer reports about itself, through the [`metrics`] facade (the application
//! installs the exporter it wants: Prometheus, CloudWatch EMF, StatsD, …) and [`tracing`].
//! No metric label and no log field ever holds event content: only counts, sizes, durations
//! and AWS error codes. The names are the contract's (`contract::metrics`), which the
//! dashboard of `infra/` draws when the application exports them to CloudWatch.
//!
//! | Metric | Kind | Meaning |
//! |---|---|---|
//! | `ocsf_producer_events_accepted` | counter | events accepted by `send`/`try_send` |
//! | `ocsf_producer_events_delivered` | counter | events acknowledged by the service |
//! | `ocsf_producer_events_failed` | counter, label `code` | events given up on, by error code |
//! | `ocsf_producer_api_calls` | counter | `PutRecordBatch`/`PutRecords` calls, retries included |
//! | `ocsf_producer_retried_records` | counter | records sent again after a transient failure |
//! | `ocsf_producer_records_per_call` | histogram | records in each call (first sends and retries) |
//! | `ocsf_producer_bytes_per_call` | histogram | bytes in each call (first sends and retries) |
//! | `ocsf_producer_buffered_bytes` | gauge | bytes of accepted, unresolved events |
//! | `ocsf_producer_seconds_in_buffer` | histogram | per event: accepted → its first call starts |
//! | `ocsf_producer_seconds_to_delivery` | histogram | per event: accepted → acknowledged |
//!
//! Tracing: one `ocsf_producer_call` span per call, that is per attempt (`service`, `records`,
//! `bytes`), with a `debug` event for the put and `warn` events for whole-call failures, partial
//! failures and records given up on (code, counts, why).

use ocsf_firehose_contract::metrics;

/// Counter: events accepted.
pub const EVENTS_ACCEPTED: &str = metrics::PRODUCER_EVENTS_ACCEPTED;
/// Counter: events delivered.
pub const EVENTS_DELIVERED: &str = metrics::PRODUCER_EVENTS_DELIVERED;
/// Counter (label `code`: the `FailureKind` code, `throttled`, `access_denied`…): events failed.
pub const EVENTS_FAILED: &str = metrics::PRODUCER_EVENTS_FAILED;
/// Counter: API calls.
pub const API_CALLS: &str = metrics::PRODUCER_API_CALLS;
/// Counter: records resent after a transient failure.
pub const RETRIED_RECORDS: &str = metrics::PRODUCER_RETRIED_RECORDS;
/// Histogram: records per call.
pub const RECORDS_PER_CALL: &str = metrics::PRODUCER_RECORDS_PER_CALL;
/// Histogram: bytes per call.
pub const BYTES_PER_CALL: &str = metrics::PRODUCER_BYTES_PER_CALL;
/// Gauge: bytes of accepted, unresolved events.
pub const BUFFERED_BYTES: &str = metrics::PRODUCER_BUFFERED_BYTES;
/// Histogram: seconds from acceptance to the start of the event's first call.
pub const SECONDS_IN_BUFFER: &str = metrics::PRODUCER_SECONDS_IN_BUFFER;
/// Histogram: seconds from acceptance to acknowledgement.
pub const SECONDS_TO_DELIVERY: &str = metrics::PRODUCER_SECONDS_TO_DELIVERY;
/// Name of the span around one call.
pub const CALL_SPAN: &str = "ocsf_producer_call";

//! Producer tuning, validated before anything starts (a value the AWS limits cannot honour is an
//! error at build time, not a surprise at the first call).

use std::time::Duration;

use thiserror::Error;

pub use crate::retry::SharedRetryBudget;
use crate::retry::{Backoff, RetryPolicy};
pub use crate::transport::{Service, DEFAULT_KPL_TARGET_BYTES};

/// Default [`ProducerConfig::attempt_timeout`]: 20 s, well above a healthy `PutRecordBatch` of
/// 4 MiB, well below the event deadline.
pub const DEFAULT_ATTEMPT_TIMEOUT: Duration = Duration::from_secs(20);

/// Producer tuning.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProducerConfig {
    /// Bytes of accepted, not yet resolved events; `send` waits and `try_send` says "full"
    /// beyond it. Default 32 MiB.
    pub max_buffered_bytes: usize,
    /// How long an event may wait for its record or call to fill up. Default 200 ms.
    pub linger: Duration,
    /// Concurrent API calls. Default 4.
    pub max_in_flight: usize,
    /// Attempts per record, the first included. Default `None`: retryable failures (throttling,
    /// 5xx, timeouts, entries failed inside a 200 answer) are retried until `event_timeout`, as
    /// the KPL retries until a record's time-to-live; permanent errors still fail at once.
    pub max_attempts: Option<u32>,
    /// After this long since `send`, an undelivered event is returned as failed: the deadline
    /// of its retries. Default 5 min (Firehose keeps a record's retries within minutes too;
    /// past that an event is better handed back to the application than held).
    pub event_timeout: Duration,
    /// How long one API call may go unanswered before it is abandoned and its records retried
    /// (a stalled connection must not hold a call, and so `flush` and `shutdown`, forever; the
    /// application's SDK client sets no read timeout by default). A call never outlives the
    /// deadline of its oldest event either. Default 20 s.
    pub attempt_timeout: Duration,
    /// First backoff ceiling. Default 100 ms.
    pub backoff_base: Duration,
    /// Largest backoff. Default 5 s.
    pub backoff_max: Duration,
    /// Pack several events per record (Firehose: JSON lines, needs the stream's
    /// `RecordDeAggregation` processor; Kinesis: KPL format). Default on: Firehose bills every
    /// record rounded up to 5 KB.
    pub aggregate: bool,
    /// Target record size when aggregating (`None`: 50 KiB for Firehose, 51,200 bytes for
    /// Kinesis).
    pub aggregation_target_bytes: Option<usize>,
    /// Stamp a UUID into `metadata.uid` of events that lack one. Default on.
    pub stamp_uid: bool,
    /// The retry budget every retry of a failed call or S3 request pays from (500 tokens, 5
    /// per retry, 1 back per answered call, refilled at one retry a second). Producers built
    /// from clones of one configuration share it, stream and direct paths alike; give a new
    /// [`SharedRetryBudget`] to keep a producer's retries apart.
    pub retry_budget: SharedRetryBudget,
}

impl Default for ProducerConfig {
    fn default() -> Self {
        ProducerConfig {
            max_buffered_bytes: 32 * 1024 * 1024,
            linger: Duration::from_millis(200),
            max_in_flight: 4,
            max_attempts: None,
            event_timeout: Duration::from_secs(300),
            attempt_timeout: DEFAULT_ATTEMPT_TIMEOUT,
            backoff_base: Duration::from_millis(100),
            backoff_max: Duration::from_secs(5),
            aggregate: true,
            aggregation_target_bytes: None,
            stamp_uid: true,
            retry_budget: SharedRetryBudget::default(),
        }
    }
}

/// A tuning value that cannot work.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ConfigError {
    /// A value is out of its range.
    #[error("{field} = {value} is invalid: {reason}")]
    Invalid {
        /// The field.
        field: &'static str,
        /// Its value.
        value: String,
        /// What it must be.
        reason: &'static str,
    },
    /// A source location of the direct path that would leave the bucket's layout (absolute,
    /// `..`, an empty segment).
    #[error("source location: {0}")]
    Location(#[from] ocsf_firehose_contract::prefix::NameError),
    /// The spool could not be opened.
    #[error(transparent)]
    Spool(#[from] crate::spool::SpoolError),
}

impl ProducerConfig {
    /// The retry policy of this configuration (its attempts, event timeout, attempt timeout,
    /// backoff and retry budget), which the stream worker and the lake writer's stores follow.
    pub fn retry_policy(&self) -> RetryPolicy {
        RetryPolicy::new(
            self.max_attempts,
            self.event_timeout,
            self.attempt_timeout,
            Backoff::new(self.backoff_base, self.backoff_max),
            std::sync::Arc::clone(self.retry_budget.budget()),
        )
    }

    /// The aggregation target for `service`.
    pub fn target_bytes(&self, service: Service) -> usize {
        self.aggregation_target_bytes
            .unwrap_or(service.default_target_bytes())
    }

    /// Checks every value against `service`'s limits.
    pub fn validate(&self, service: Service) -> Result<(), ConfigError> {
        let invalid = |field, value: String, reason| {
            Err(ConfigError::Invalid {
                field,
                value,
                reason,
            })
        };
        if self.max_buffered_bytes < service.max_record_bytes() {
            return invalid(
                "max_buffered_bytes",
                self.max_buffered_bytes.to_string(),
                "must hold at least one maximum-size record",
            );
        }
        if self.max_in_flight == 0 {
            return invalid("max_in_flight", "0".into(), "must be at least 1");
        }
        if self.max_attempts == Some(0) {
            return invalid("max_attempts", "0".into(), "must be at least 1");
        }
        if self.backoff_base.is_zero() || self.backoff_max < self.backoff_base {
            return invalid(
                "backoff_max",
                format!("{:?}", self.backoff_max),
                "must be at least backoff_base, which must be positive",
            );
        }
        if self.attempt_timeout.is_zero() {
            return invalid("attempt_timeout", "0s".into(), "must be positive");
        }
        if self.event_timeout.is_zero() {
            return invalid("event_timeout", "0s".into(), "must be positive");
        }
        let target = self.target_bytes(service);
        if target == 0 || target > service.max_record_bytes() {
            return invalid(
                "aggregation_target_bytes",
                target.to_string(),
                "must be between 1 and the record size limit",
            );
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid_for_both_services() {
        for service in [Service::Firehose, Service::Kinesis] {
            assert_eq!(ProducerConfig::default().validate(service), Ok(()));
        }
        assert_eq!(
            ProducerConfig::default().target_bytes(Service::Firehose),
            51_200
        );
    }

    #[test]
    fn values_beyond_the_aws_limits_are_rejected_at_build_time() {
        let too_big = ProducerConfig {
            aggregation_target_bytes: Some(2 * 1024 * 1024),
            ..ProducerConfig::default()
        };
        let error = too_big.validate(Service::Firehose).unwrap_err();
        assert!(
            error
                .to_string()
                .starts_with("aggregation_target_bytes = 2097152 is invalid"),
            "{error}"
        );
        let tiny_buffer = ProducerConfig {
            max_buffered_bytes: 1_000,
            ..ProducerConfig::default()
        };
        assert!(tiny_buffer.validate(Service::Kinesis).is_err());
        let no_flight = ProducerConfig {
            max_in_flight: 0,
            ..ProducerConfig::default()
        };
        assert!(no_flight.validate(Service::Firehose).is_err());
        let backwards = ProducerConfig {
            backoff_max: Duration::from_millis(1),
            ..ProducerConfig::default()
        };
        assert!(backwards.validate(Service::Firehose).is_err());
    }
}

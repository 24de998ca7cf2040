//! [`ProducerBuilder`]: where events go (Firehose, Kinesis, or the local pipeline), the tuning,
//! the hooks, and the optional client-side verdict (feature `ocsf`).

use std::sync::Arc;

use crate::aggregate::PartitionKeyFn;
use crate::config::{ConfigError, ProducerConfig};
use crate::outcome::{FailedEvent, FailureCallback};
use crate::producer::{Hooks, Producer};
use crate::transport::firehose::FirehoseTransport;
use crate::transport::kinesis::KinesisTransport;
#[cfg(feature = "local")]
use crate::transport::local::LocalTransport;

/// The transport a producer is built for.
enum Destination {
    Firehose(FirehoseTransport),
    Kinesis(KinesisTransport),
    #[cfg(feature = "local")]
    Local(LocalTransport),
}

/// Builds a [`Producer`].
pub struct ProducerBuilder {
    destination: Destination,
    config: ProducerConfig,
    hooks: Hooks,
}

impl ProducerBuilder {
    /// Sends to a Firehose stream (Direct PUT).
    pub fn firehose(client: aws_sdk_firehose::Client, stream: impl Into<String>) -> Self {
        Self::new(Destination::Firehose(FirehoseTransport::new(
            client, stream,
        )))
    }

    /// Sends to a Kinesis data stream.
    pub fn kinesis(client: aws_sdk_kinesis::Client, stream: impl Into<String>) -> Self {
        Self::new(Destination::Kinesis(KinesisTransport::new(client, stream)))
    }

    /// Sends to a delivery stream of the local pipeline (feature `local`): the whole
    /// Firehose → Security Lake path on this machine, for development and tests.
    #[cfg(feature = "local")]
    pub fn local(
        pipeline: Arc<std::sync::Mutex<ocsf_firehose_transform::local::LocalFirehose>>,
        stream: impl Into<String>,
    ) -> Self {
        Self::new(Destination::Local(LocalTransport::new(
            pipeline,
            Some(stream.into()),
        )))
    }

    /// Sends each record to the local delivery stream of its class (feature `local`), as an
    /// application holding one Firehose stream per class does; records whose class cannot be
    /// read go to [`UNCLASSIFIED_STREAM`](ocsf_firehose_transform::local::UNCLASSIFIED_STREAM).
    /// Aggregated records hold one class each (events are grouped by class).
    #[cfg(feature = "local")]
    pub fn local_by_class(
        pipeline: Arc<std::sync::Mutex<ocsf_firehose_transform::local::LocalFirehose>>,
    ) -> Self {
        Self::new(Destination::Local(LocalTransport::new(pipeline, None)))
    }

    fn new(destination: Destination) -> Self {
        ProducerBuilder {
            destination,
            config: ProducerConfig::default(),
            hooks: Hooks::default(),
        }
    }

    /// Sets the tuning.
    pub fn config(mut self, config: ProducerConfig) -> Self {
        self.config = config;
        self
    }

    /// Derives Kinesis partition keys from events (default: random, for an even shard spread).
    pub fn partition_key(mut self, key: impl Fn(&[u8]) -> String + Send + Sync + 'static) -> Self {
        self.hooks.partition_key = Some(Arc::new(key) as PartitionKeyFn);
        self
    }

    /// Calls `callback` with every failed event.
    pub fn on_failure(mut self, callback: impl Fn(&FailedEvent) + Send + Sync + 'static) -> Self {
        self.hooks.on_failure = Some(Arc::new(callback) as FailureCallback);
        self
    }

    /// Judges every event with `engine` before accepting it (feature `ocsf`), with the
    /// transformation Lambda's verdict ([`Engine::judge`](ocsf_firehose_transform::Engine::judge):
    /// normalization, validation and partition keys; the stream's region is the last fallback
    /// for `region`, as in the Lambda): events the Lambda would reject fail at `send` with
    /// [`SendError::Invalid`](crate::SendError::Invalid) and their error findings, accepted ones
    /// are sent normalized. Configure `engine` as the Lambda is (`TransformConfig::from_env`
    /// reads the same `OCSF_*` variables).
    #[cfg(feature = "ocsf")]
    pub fn ocsf(mut self, engine: ocsf_firehose_transform::Engine) -> Self {
        self.hooks.engine = Some(engine);
        self
    }

    /// Validates the tuning and starts the worker on the current Tokio runtime.
    pub fn build(self) -> Result<Producer, ConfigError> {
        match self.destination {
            Destination::Firehose(transport) => Producer::start(transport, self.config, self.hooks),
            Destination::Kinesis(transport) => Producer::start(transport, self.config, self.hooks),
            #[cfg(feature = "local")]
            Destination::Local(transport) => Producer::start(transport, self.config, self.hooks),
        }
    }
}

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
    #[cfg(feature = "lake")]
    S3(crate::lake::store::S3Store, Lake),
    #[cfg(feature = "lake")]
    Dir(crate::lake::store::DirStore, Lake),
}

/// What a lake destination is built with: its source locations and the engine whose verdict
/// makes the rows (required: a lake producer without one cannot be written down).
#[cfg(feature = "lake")]
struct Lake {
    locations: Locations,
    engine: ocsf_firehose_transform::Engine,
}

/// The source locations of a lake destination: one for the engine's single allowed class, or
/// one per class.
#[cfg(feature = "lake")]
enum Locations {
    Single(String),
    PerClass(crate::lake::Sources),
}

#[cfg(feature = "lake")]
impl Locations {
    fn resolve(
        self,
        engine: &ocsf_firehose_transform::Engine,
    ) -> Result<crate::lake::Sources, ConfigError> {
        match self {
            Locations::PerClass(sources) => Ok(sources),
            Locations::Single(location) => {
                let allowed = engine.config().allowed_classes.as_ref();
                match allowed.map(|classes| classes.iter().copied().collect::<Vec<_>>()) {
                    Some(classes) if classes.len() == 1 => {
                        Ok(crate::lake::Sources::default().with(classes[0], location))
                    }
                    _ => Err(ConfigError::Invalid {
                        field: "allowed_classes",
                        value: format!("{allowed:?}"),
                        reason: "a source location holds one class: allow exactly that class in the engine",
                    }),
                }
            }
        }
    }
}

/// Builds a [`Producer`].
pub struct ProducerBuilder {
    destination: Destination,
    config: ProducerConfig,
    hooks: Hooks,
    #[cfg(feature = "lake")]
    lake: crate::lake::LakeConfig,
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

    /// Writes Security Lake objects straight into a custom source's location in `bucket`
    /// (feature `lake`; no Firehose): every event gets the Lambda's verdict from `engine`
    /// (configured as the Lambda is, allowing exactly the source's class), and accepted
    /// rows are buffered per partition and written as zstd Parquet under
    /// `<source_location>region=…/accountId=…/eventDay=…/` (see [`crate::lake`]).
    /// `source_location` is the key part of the `provider.location` registration returned
    /// (`ext/<source>/`).
    #[cfg(feature = "lake")]
    pub fn s3(
        client: aws_sdk_s3::Client,
        bucket: impl Into<String>,
        source_location: impl Into<String>,
        engine: ocsf_firehose_transform::Engine,
    ) -> Self {
        let store = crate::lake::store::S3Store::new(client, bucket);
        let locations = Locations::Single(source_location.into());
        Self::new(Destination::S3(store, Lake { locations, engine }))
    }

    /// Writes Security Lake objects of several classes, each into its own source location, with
    /// a configured S3 store (multipart sizes, attempt timeout), judged by `engine` (feature
    /// `lake`).
    #[cfg(feature = "lake")]
    pub fn s3_sources(
        store: crate::lake::store::S3Store,
        sources: crate::lake::Sources,
        engine: ocsf_firehose_transform::Engine,
    ) -> Self {
        let locations = Locations::PerClass(sources);
        Self::new(Destination::S3(store, Lake { locations, engine }))
    }

    /// Writes Security Lake objects into a local folder standing in for the bucket (feature
    /// `lake`): the same objects and keys as [`ProducerBuilder::s3_sources`].
    #[cfg(feature = "lake")]
    pub fn dir(
        root: impl Into<std::path::PathBuf>,
        sources: crate::lake::Sources,
        engine: ocsf_firehose_transform::Engine,
    ) -> Self {
        Self::dir_store(crate::lake::store::DirStore::new(root), sources, engine)
    }

    /// [`ProducerBuilder::dir`] with a configured folder store (its region, say).
    #[cfg(feature = "lake")]
    pub fn dir_store(
        store: crate::lake::store::DirStore,
        sources: crate::lake::Sources,
        engine: ocsf_firehose_transform::Engine,
    ) -> Self {
        let locations = Locations::PerClass(sources);
        Self::new(Destination::Dir(store, Lake { locations, engine }))
    }

    /// When the lake writer writes objects (feature `lake`; default [`LakeConfig::default`]).
    ///
    /// [`LakeConfig::default`]: crate::lake::LakeConfig
    #[cfg(feature = "lake")]
    pub fn lake_config(mut self, lake: crate::lake::LakeConfig) -> Self {
        self.lake = lake;
        self
    }

    /// Calls `callback` with every object the lake writer stores (feature `lake`).
    #[cfg(feature = "lake")]
    pub fn on_object(
        mut self,
        callback: impl Fn(&crate::lake::StoredObject) + Send + Sync + 'static,
    ) -> Self {
        self.hooks.on_object = Some(Arc::new(callback) as crate::lake::ObjectCallback);
        self
    }

    fn new(destination: Destination) -> Self {
        ProducerBuilder {
            destination,
            config: ProducerConfig::default(),
            hooks: Hooks::default(),
            #[cfg(feature = "lake")]
            lake: crate::lake::LakeConfig::default(),
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

    /// Keeps every accepted event in a durable spool on local disk until it is resolved, and
    /// sends again at start what an earlier run left there (its bytes unchanged, its
    /// `metadata.uid` with them): a crash, an OOM kill or a redeploy loses nothing accepted.
    /// Delivery is then at least once on the streams (Firehose and Kinesis do not deduplicate:
    /// remove duplicates by `metadata.uid` downstream). On the direct path (`s3`, `dir`) it is
    /// exactly once: each object's key and rows are recorded in the spool before it is
    /// stored, and an object a crash may have cut is stored again whole under the same key.
    /// What each [`Durability`] promises: [`Durability`].
    ///
    /// [`Durability`]: crate::spool::Durability
    pub fn spool(mut self, spool: crate::spool::SpoolConfig) -> Self {
        self.hooks.spool = Some(spool);
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
        let ProducerBuilder {
            destination,
            config,
            hooks,
            #[cfg(feature = "lake")]
                lake: lake_config,
        } = self;
        match destination {
            Destination::Firehose(transport) => Producer::start(transport, config, hooks),
            Destination::Kinesis(transport) => Producer::start(transport, config, hooks),
            #[cfg(feature = "local")]
            Destination::Local(transport) => Producer::start(transport, config, hooks),
            #[cfg(feature = "lake")]
            Destination::S3(store, lake) => start_lake(store, lake, lake_config, config, hooks),
            #[cfg(feature = "lake")]
            Destination::Dir(store, lake) => start_lake(store, lake, lake_config, config, hooks),
        }
    }
}

/// Starts a lake destination's writer with its engine (or the one [`ProducerBuilder::ocsf`]
/// gave instead).
#[cfg(feature = "lake")]
fn start_lake<S: crate::lake::store::ObjectStore>(
    store: S,
    lake: Lake,
    lake_config: crate::lake::LakeConfig,
    config: ProducerConfig,
    mut hooks: Hooks,
) -> Result<Producer, ConfigError> {
    let engine = hooks.engine.take().unwrap_or(lake.engine);
    let sources = lake.locations.resolve(&engine)?;
    Producer::start_lake(store, sources, lake_config, config, engine, hooks)
}

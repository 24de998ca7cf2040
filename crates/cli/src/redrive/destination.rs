//! Where redriven events go: through the producer into a Firehose or Kinesis stream (one per
//! source when the name holds `{source}`), into the local pipeline, or straight into the
//! sources' locations (the direct path).

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use anyhow::Context;
use ocsf_firehose_producer::lake::store::S3Store;
use ocsf_firehose_producer::lake::Sources;
use ocsf_firehose_producer::{Producer, ProducerBuilder, ProducerConfig, Report};
use ocsf_firehose_transform::local::{LocalConfig, LocalFirehose, Summary};
use ocsf_firehose_transform::Engine;

/// The placeholder of a stream name that stands for the error object's source.
const SOURCE_PLACEHOLDER: &str = "{source}";

/// The kind of destination, as the flags name it.
pub(crate) enum Target {
    /// `--firehose NAME`.
    Firehose(String),
    /// `--kinesis NAME`.
    Kinesis(String),
    /// `--local DIR`: the local pipeline writing under `DIR`.
    Local(Box<LocalConfig>),
    /// `--lake-bucket B` / `--lake-dir DIR`: the direct path, Security Lake objects written
    /// straight into the sources' locations by the producer's lake writer, with the verdict of
    /// `engine`.
    Lake(Box<Lake>),
}

/// The direct path's store, source locations and engine.
pub(crate) struct Lake {
    pub store: LakeStore,
    pub sources: Sources,
    pub engine: Engine,
}

/// Where the direct path writes.
pub(crate) enum LakeStore {
    S3(S3Store),
    Dir(PathBuf),
}

/// The producers of a run, made when first needed.
pub(crate) struct Destinations {
    target: Target,
    config: ProducerConfig,
    shared: aws_config::SdkConfig,
    producers: BTreeMap<String, Producer>,
    local: Option<Arc<Mutex<LocalFirehose>>>,
}

/// What the producers did when they were shut down.
pub(crate) struct Finished {
    /// Each producer's report.
    pub reports: Vec<Report>,
    /// The local pipeline's accounting (`--local`).
    pub pipeline: Option<Summary>,
}

impl Destinations {
    pub(crate) fn new(
        target: Target,
        config: ProducerConfig,
        shared: aws_config::SdkConfig,
    ) -> Self {
        Destinations {
            target,
            config,
            shared,
            producers: BTreeMap::new(),
            local: None,
        }
    }

    /// The producer for events of `source` (the error object's, when its key names one).
    pub(crate) fn producer(&mut self, source: Option<&str>) -> anyhow::Result<&Producer> {
        let name = match &self.target {
            Target::Firehose(name) | Target::Kinesis(name) => stream_name(name, source)?,
            Target::Local(_) | Target::Lake(_) => String::new(),
        };
        if !self.producers.contains_key(&name) {
            let builder = match &self.target {
                Target::Firehose(_) => {
                    ProducerBuilder::firehose(aws_sdk_firehose::Client::new(&self.shared), &name)
                }
                Target::Kinesis(_) => {
                    ProducerBuilder::kinesis(aws_sdk_kinesis::Client::new(&self.shared), &name)
                }
                Target::Local(config) => {
                    let pipeline =
                        Arc::new(Mutex::new(LocalFirehose::new(config.as_ref().clone())?));
                    self.local = Some(pipeline.clone());
                    ProducerBuilder::local_by_class(pipeline)
                }
                Target::Lake(lake) => {
                    let (sources, engine) = (lake.sources.clone(), lake.engine.clone());
                    match &lake.store {
                        LakeStore::S3(store) => {
                            ProducerBuilder::s3_sources(store.clone(), sources, engine)
                        }
                        LakeStore::Dir(root) => ProducerBuilder::dir(root, sources, engine),
                    }
                }
            };
            let producer = builder.config(self.config.clone()).build()?;
            self.producers.insert(name.clone(), producer);
        }
        self.producers
            .get(&name)
            .context("the producer just made is gone")
    }

    /// Flushes and stops every producer, then the local pipeline (which writes its objects).
    pub(crate) async fn finish(self) -> anyhow::Result<Finished> {
        let mut reports = Vec::with_capacity(self.producers.len());
        for producer in self.producers.into_values() {
            reports.push(producer.shutdown().await);
        }
        let pipeline = match self.local {
            Some(pipeline) => Some(
                Arc::try_unwrap(pipeline)
                    .map_err(|_| anyhow::anyhow!("the local pipeline is still in use"))?
                    .into_inner()
                    .map_err(|_| anyhow::anyhow!("the local pipeline panicked"))?
                    .finish()?,
            ),
            None => None,
        };
        Ok(Finished { reports, pipeline })
    }
}

/// `name` with `{source}` replaced by the object's source.
fn stream_name(name: &str, source: Option<&str>) -> anyhow::Result<String> {
    if !name.contains(SOURCE_PLACEHOLDER) {
        return Ok(name.to_owned());
    }
    let source = source.with_context(|| {
        format!("the stream name `{name}` needs the source, and the error object's key does not follow errors/{{source}}/…")
    })?;
    Ok(name.replace(SOURCE_PLACEHOLDER, source))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn a_stream_name_may_stand_for_each_source() {
        assert_eq!(
            stream_name("ocsf-{source}", Some("auth")).unwrap(),
            "ocsf-auth"
        );
        assert_eq!(stream_name("fixed", None).unwrap(), "fixed");
        assert_eq!(stream_name("fixed", Some("auth")).unwrap(), "fixed");
        let error = stream_name("ocsf-{source}", None).unwrap_err();
        assert!(error.to_string().contains("needs the source"), "{error}");
    }
}

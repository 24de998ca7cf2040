//! The local pipeline's delivery streams (feature `local`): Firehose's de-aggregation → Lambda
//! → partitioning → Parquet chain on this machine, for development and tests. A call runs the
//! pipeline's stages on tokio's blocking pool (CPU and file work, never on an async worker),
//! one at a time under the pipeline's lock; the pipeline accepts a call whole or fails it.

use std::sync::{Arc, Mutex};

use ocsf_firehose_transform::local::LocalFirehose;

use super::Service;
use super::{EntryOutcome, Failure, Transport};
use crate::aggregate::Record;

/// One local delivery stream, or each record to the stream of its class.
#[derive(Debug, Clone)]
pub struct LocalTransport {
    pipeline: Arc<Mutex<LocalFirehose>>,
    stream: Option<String>,
}

impl LocalTransport {
    /// Sends to `stream` (a source name), or with `None` each record to the stream of its class
    /// ([`LocalFirehose::put_routed`]).
    pub fn new(pipeline: Arc<Mutex<LocalFirehose>>, stream: Option<String>) -> Self {
        LocalTransport { pipeline, stream }
    }
}

impl Transport for LocalTransport {
    fn service(&self) -> Service {
        Service::Firehose
    }

    fn region(&self) -> Option<String> {
        let local = self.pipeline.lock().ok()?;
        Some(local.region().to_owned())
    }

    async fn put<Id: Sync>(&self, records: &[Record<Id>]) -> Result<Vec<EntryOutcome>, Failure> {
        let pipeline = Arc::clone(&self.pipeline);
        let stream = self.stream.clone();
        let data: Vec<Vec<u8>> = records.iter().map(|r| r.data.clone()).collect();
        tokio::task::spawn_blocking(move || {
            let mut local = pipeline.lock().map_err(|_| {
                Failure::service(
                    "LocalPipelinePoisoned",
                    "a previous call panicked inside the local pipeline",
                )
            })?;
            match &stream {
                Some(stream) => local.put_record_batch(stream, data),
                None => local.put_routed(data),
            }
            .map_err(|e| Failure::service(e.code(), e.to_string()))
        })
        .await
        .map_err(|e| Failure::service("LocalPipelinePanicked", e.to_string()))??;
        Ok(vec![EntryOutcome::Delivered; records.len()])
    }
}

//! The batch: every record transformed, every `recordId` answered exactly once and in order,
//! and a response that never exceeds the size limit.

use std::collections::HashMap;
use std::time::Instant;

use aws_lambda_events::event::firehose::{KinesisFirehoseResponse, KinesisFirehoseResponseRecord};
use thiserror::Error;

use super::config::{EnvError, TransformConfig};
use super::event::{FirehoseEvent, TransformResult};
use super::record::{transform_record, RecordOutcome};
use super::report::InvocationReport;
use crate::contract::partition::PartitionKeys;
use crate::engine::Engine;
use crate::finding::Code;

/// An invocation that cannot be answered at all (Firehose then retries it and finally sends
/// every record of the batch to the error prefix).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum HandlerError {
    /// Even with every record failed, the response would exceed the size limit (only possible
    /// with a limit set far below the request size).
    #[error("the response needs at least {needed} bytes, over the {limit}-byte limit")]
    ResponseTooLarge {
        /// Bytes the smallest possible response needs.
        needed: usize,
        /// The configured limit.
        limit: usize,
    },
}

/// The configured transformation: build it once at cold start, call [`Transformer::handle`]
/// per invocation.
#[derive(Debug, Clone)]
pub struct Transformer {
    engine: Engine,
    config: TransformConfig,
}

impl Transformer {
    /// Builds the transformer, checking the engine configuration.
    pub fn new(config: TransformConfig) -> Result<Self, EnvError> {
        let engine = Engine::new(config.engine.clone()).map_err(EnvError::from_engine)?;
        Ok(Transformer { engine, config })
    }

    /// Builds the transformer from the process environment (see [`TransformConfig::from_env`]).
    pub fn from_env() -> Result<Self, EnvError> {
        Self::new(TransformConfig::from_env()?)
    }

    /// The configuration.
    pub fn config(&self) -> &TransformConfig {
        &self.config
    }

    /// The target schema.
    pub fn schema(&self) -> &'static crate::schema::Schema {
        self.engine.schema()
    }

    /// The engine.
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// Transforms one invocation.
    pub fn handle(
        &self,
        event: &FirehoseEvent,
    ) -> Result<(KinesisFirehoseResponse, InvocationReport), HandlerError> {
        let started = Instant::now();
        let region = event.region.as_deref();
        let mut outcomes: Vec<RecordOutcome> = event
            .records
            .iter()
            .map(|r| transform_record(&self.engine, &self.config, &r.data, region))
            .collect();
        let ids: Vec<&str> = event.records.iter().map(|r| r.record_id.as_str()).collect();
        let response_bytes = fit_response(&ids, &mut outcomes, self.config.max_response_bytes)?;
        let report = InvocationReport::new(event, &outcomes, response_bytes, started.elapsed());
        let records = ids
            .iter()
            .zip(outcomes)
            .map(|(id, outcome)| {
                let keys = outcome.partition_keys();
                response_record(id, outcome.result, outcome.data, keys)
            })
            .collect();
        let mut response = KinesisFirehoseResponse::default();
        response.records = records;
        Ok((response, report))
    }
}

impl RecordOutcome {
    fn partition_keys(&self) -> HashMap<String, String> {
        self.partition
            .as_ref()
            .map(PartitionKeys::to_metadata)
            .unwrap_or_default()
    }
}

fn response_record(
    id: &str,
    result: TransformResult,
    data: Vec<u8>,
    partition_keys: HashMap<String, String>,
) -> KinesisFirehoseResponseRecord {
    let mut record = KinesisFirehoseResponseRecord::default();
    record.record_id = Some(id.to_owned());
    record.result = Some(result.as_str().to_owned());
    *record.data = data; // `Base64Data` is non-exhaustive: filled through `DerefMut`
    record.metadata.partition_keys = partition_keys;
    record
}

/// Serialized size of one response record whose data is `data_len` bytes before base64.
fn entry_len(
    id: &str,
    result: TransformResult,
    data_len: usize,
    keys: HashMap<String, String>,
) -> usize {
    let shell = response_record(id, result, Vec::new(), keys);
    let shell_len = serde_json::to_vec(&shell).map_or(usize::MAX / 4, |v| v.len());
    shell_len + data_len.div_ceil(3) * 4
}

/// Keeps the response within `limit`: records that would push it over become
/// `ProcessingFailed` (`response_too_large`), in order, after room has been reserved for every
/// record's smallest answer. Returns the response's size in bytes.
fn fit_response(
    ids: &[&str],
    outcomes: &mut [RecordOutcome],
    limit: usize,
) -> Result<usize, HandlerError> {
    // `{"records":[` … `]}` and the commas between records.
    let envelope = r#"{"records":[]}"#.len() + ids.len().saturating_sub(1);
    let smallest: Vec<usize> = ids
        .iter()
        .map(|id| entry_len(id, TransformResult::ProcessingFailed, 0, HashMap::new()))
        .collect();
    let needed = envelope + smallest.iter().sum::<usize>();
    if needed > limit {
        return Err(HandlerError::ResponseTooLarge { needed, limit });
    }
    let mut used = needed;
    for ((id, outcome), floor) in ids.iter().zip(outcomes.iter_mut()).zip(&smallest) {
        let actual = entry_len(
            id,
            outcome.result,
            outcome.data.len(),
            outcome.partition_keys(),
        );
        let extra = actual.saturating_sub(*floor);
        if used + extra <= limit {
            used += extra;
        } else {
            outcome.fail_with(Code::ResponseTooLarge);
            used += entry_len(id, outcome.result, 0, HashMap::new()).saturating_sub(*floor);
        }
    }
    Ok(used)
}

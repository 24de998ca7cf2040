//! The batch: every record transformed, every `recordId` answered exactly once and in order,
//! and a response that never exceeds the size limit.

use std::time::Instant;

use thiserror::Error;

use super::config::{EnvError, TransformConfig};
use super::event::{FirehoseEvent, TransformResult};
use super::record::{transform_record, RecordOutcome};
use super::report::InvocationReport;
use super::response::{Base64Data, FirehoseResponse, FirehoseResponseRecord, ResponseMetadata};
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
    ) -> Result<(FirehoseResponse, InvocationReport), HandlerError> {
        let started = Instant::now();
        let region = event.region.as_deref();
        let mut outcomes: Vec<RecordOutcome> = event
            .records
            .iter()
            .map(|r| transform_record(&self.engine, &self.config, &r.data, region))
            .collect();
        let ids: Vec<&str> = event.records.iter().map(|r| r.record_id.as_str()).collect();
        let mut metadata: Vec<ResponseMetadata> = outcomes
            .iter()
            .map(|outcome| ResponseMetadata::new(outcome.partition.as_ref()))
            .collect();
        let response_bytes = fit_response(
            &ids,
            &mut outcomes,
            &mut metadata,
            self.config.max_response_bytes,
        )?;
        let report = InvocationReport::new(event, &outcomes, response_bytes, started.elapsed());
        let records = ids
            .iter()
            .zip(outcomes)
            .zip(metadata)
            .map(|((id, outcome), metadata)| FirehoseResponseRecord {
                record_id: (*id).to_owned(),
                result: outcome.result,
                data: Base64Data::encode(&outcome.data),
                metadata,
            })
            .collect();
        Ok((FirehoseResponse { records }, report))
    }
}

/// Serialized size of one response record whose data is `data_len` bytes before base64.
fn entry_len(
    id: &str,
    result: TransformResult,
    data_len: usize,
    metadata: ResponseMetadata,
) -> usize {
    let shell = FirehoseResponseRecord {
        record_id: id.to_owned(),
        result,
        data: Base64Data::encode(&[]),
        metadata,
    };
    let shell_len = serde_json::to_vec(&shell).map_or(usize::MAX / 4, |v| v.len());
    shell_len + data_len.div_ceil(3) * 4
}

/// [`entry_len`] of a record whose smallest answer (`ProcessingFailed`, no data, no partition
/// keys) takes `floor` bytes: the result's name in place of `ProcessingFailed`, the keys' JSON
/// in place of `{}`, and the data's base64. One serialization per record instead of one per
/// size asked for (both are ASCII names and a map; the tests hold it to `entry_len`).
fn entry_len_from(
    floor: usize,
    result: TransformResult,
    data_len: usize,
    metadata: &ResponseMetadata,
) -> usize {
    let keys = &metadata.partition_keys;
    let keys_len = match keys.is_empty() {
        true => EMPTY_MAP.len(),
        false => serde_json::to_vec(keys).map_or(usize::MAX / 4, |v| v.len()),
    };
    (floor + result.as_str().len() + keys_len + data_len.div_ceil(3) * 4)
        .saturating_sub(TransformResult::ProcessingFailed.as_str().len() + EMPTY_MAP.len())
}

/// An empty JSON object: the partition keys of the smallest answer.
const EMPTY_MAP: &str = "{}";

/// Keeps the response within `limit`: records that would push it over become
/// `ProcessingFailed` (`response_too_large`), in order, after room has been reserved for every
/// record's smallest answer (a record failed here loses its `metadata` too). Returns the
/// response's size in bytes.
fn fit_response(
    ids: &[&str],
    outcomes: &mut [RecordOutcome],
    metadata: &mut [ResponseMetadata],
    limit: usize,
) -> Result<usize, HandlerError> {
    // `{"records":[` … `]}` and the commas between records.
    let envelope = r#"{"records":[]}"#.len() + ids.len().saturating_sub(1);
    let smallest: Vec<usize> = ids
        .iter()
        .map(|id| {
            let none = ResponseMetadata::default();
            entry_len(id, TransformResult::ProcessingFailed, 0, none)
        })
        .collect();
    let needed = envelope + smallest.iter().sum::<usize>();
    if needed > limit {
        return Err(HandlerError::ResponseTooLarge { needed, limit });
    }
    let mut used = needed;
    for ((outcome, metadata), floor) in outcomes.iter_mut().zip(metadata).zip(&smallest) {
        let actual = entry_len_from(*floor, outcome.result, outcome.data.len(), metadata);
        let extra = actual.saturating_sub(*floor);
        if used + extra <= limit {
            used += extra;
        } else {
            outcome.fail_with(Code::ResponseTooLarge);
            *metadata = ResponseMetadata::default();
            used += entry_len_from(*floor, outcome.result, 0, metadata).saturating_sub(*floor);
        }
    }
    Ok(used)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_size_from_the_smallest_answer_is_the_serialized_size() {
        let keys = ResponseMetadata {
            partition_keys: [
                ("region", "eu-west-1"),
                ("accountId", "111122223333"),
                ("eventDay", "20261125"),
                ("odd \"key\"", "line\nbreak é"),
            ]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect(),
        };
        for id in [
            "",
            "49546986683135544286507457936321625675700192471156785154",
            "a\"b\\c\u{1}é",
        ] {
            let none = ResponseMetadata::default();
            let floor = entry_len(id, TransformResult::ProcessingFailed, 0, none);
            for result in [
                TransformResult::Ok,
                TransformResult::Dropped,
                TransformResult::ProcessingFailed,
            ] {
                for data_len in [0, 1, 2, 3, 4, 1_000, 1_000_001] {
                    for keys in [ResponseMetadata::default(), keys.clone()] {
                        assert_eq!(
                            entry_len_from(floor, result, data_len, &keys),
                            entry_len(id, result, data_len, keys.clone()),
                            "{id:?} {result:?} {data_len} {}",
                            keys.partition_keys.len()
                        );
                    }
                }
            }
        }
    }
}

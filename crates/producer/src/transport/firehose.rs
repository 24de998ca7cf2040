//! Firehose Direct PUT: `PutRecordBatch`
//! (<https://docs.aws.amazon.com/firehose/latest/APIReference/API_PutRecordBatch.html>), which
//! answers HTTP 200 with `FailedPutCount > 0` when some entries failed.

use aws_sdk_firehose::operation::put_record_batch::PutRecordBatchError;
use aws_sdk_firehose::primitives::Blob;

use super::{call_failure, construction_failure, entry_outcomes, EntryOutcome, Failure, Transport};
use crate::aggregate::Record;
use crate::config::Service;

/// A Firehose delivery stream, through the user's SDK client.
#[derive(Debug, Clone)]
pub struct FirehoseTransport {
    client: aws_sdk_firehose::Client,
    stream: String,
}

impl FirehoseTransport {
    /// Sends to delivery stream `stream`.
    pub fn new(client: aws_sdk_firehose::Client, stream: impl Into<String>) -> Self {
        FirehoseTransport {
            client,
            stream: stream.into(),
        }
    }
}

fn error_name(error: &PutRecordBatchError) -> Option<&'static str> {
    use PutRecordBatchError as E;
    Some(match error {
        E::InvalidArgumentException(_) => "InvalidArgumentException",
        E::InvalidKmsResourceException(_) => "InvalidKMSResourceException",
        E::InvalidSourceException(_) => "InvalidSourceException",
        E::ResourceNotFoundException(_) => "ResourceNotFoundException",
        E::ServiceUnavailableException(_) => "ServiceUnavailableException",
        _ => return None,
    })
}

impl Transport for FirehoseTransport {
    fn service(&self) -> Service {
        Service::Firehose
    }

    fn region(&self) -> Option<String> {
        self.client.config().region().map(ToString::to_string)
    }

    async fn put<Id: Sync>(&self, records: &[Record<Id>]) -> Result<Vec<EntryOutcome>, Failure> {
        let entries = records
            .iter()
            .map(|r| {
                aws_sdk_firehose::types::Record::builder()
                    .data(Blob::new(r.data.clone()))
                    .build()
            })
            .collect::<Result<Vec<_>, _>>()
            .map_err(construction_failure)?;
        let no_sdk_retries = aws_sdk_firehose::config::Builder::default()
            .retry_config(aws_sdk_firehose::config::retry::RetryConfig::disabled());
        let output = self
            .client
            .put_record_batch()
            .delivery_stream_name(&self.stream)
            .set_records(Some(entries))
            .customize()
            .config_override(no_sdk_retries)
            .send()
            .await
            .map_err(|e| call_failure(&e, error_name))?;
        Ok(entry_outcomes(
            output
                .request_responses()
                .iter()
                .map(|e| (e.error_code(), e.error_message())),
        ))
    }
}

//! Kinesis Data Streams: `PutRecords`
//! (<https://docs.aws.amazon.com/kinesis/latest/APIReference/API_PutRecords.html>), which
//! answers HTTP 200 with `FailedRecordCount > 0` when some entries failed.

use aws_sdk_kinesis::operation::put_records::PutRecordsError;
use aws_sdk_kinesis::primitives::Blob;
use aws_sdk_kinesis::types::PutRecordsRequestEntry;

use super::{call_failure, construction_failure, entry_outcomes, EntryOutcome, Failure, Transport};
use crate::aggregate::Record;
use crate::config::Service;

/// A Kinesis data stream (feeding Firehose), through the user's SDK client.
#[derive(Debug, Clone)]
pub struct KinesisTransport {
    client: aws_sdk_kinesis::Client,
    stream: String,
}

impl KinesisTransport {
    /// Sends to data stream `stream`.
    pub fn new(client: aws_sdk_kinesis::Client, stream: impl Into<String>) -> Self {
        KinesisTransport {
            client,
            stream: stream.into(),
        }
    }
}

fn error_name(error: &PutRecordsError) -> Option<&'static str> {
    use PutRecordsError as E;
    Some(match error {
        E::AccessDeniedException(_) => "AccessDeniedException",
        E::InternalFailureException(_) => "InternalFailureException",
        E::InvalidArgumentException(_) => "InvalidArgumentException",
        E::KmsAccessDeniedException(_) => "KMSAccessDeniedException",
        E::KmsDisabledException(_) => "KMSDisabledException",
        E::KmsInvalidStateException(_) => "KMSInvalidStateException",
        E::KmsNotFoundException(_) => "KMSNotFoundException",
        E::KmsOptInRequired(_) => "KMSOptInRequired",
        E::KmsThrottlingException(_) => "KMSThrottlingException",
        E::ProvisionedThroughputExceededException(_) => "ProvisionedThroughputExceededException",
        E::ResourceNotFoundException(_) => "ResourceNotFoundException",
        _ => return None,
    })
}

impl Transport for KinesisTransport {
    fn service(&self) -> Service {
        Service::Kinesis
    }

    fn region(&self) -> Option<String> {
        self.client.config().region().map(ToString::to_string)
    }

    async fn put<Id: Sync>(&self, records: &[Record<Id>]) -> Result<Vec<EntryOutcome>, Failure> {
        let entries = records
            .iter()
            .map(|r| {
                PutRecordsRequestEntry::builder()
                    .data(Blob::new(r.data.clone()))
                    .partition_key(r.partition_key.clone().unwrap_or_default())
                    .build()
            })
            .collect::<Result<Vec<_>, _>>()
            .map_err(construction_failure)?;
        let no_sdk_retries = aws_sdk_kinesis::config::Builder::default()
            .retry_config(aws_sdk_kinesis::config::retry::RetryConfig::disabled());
        let output = self
            .client
            .put_records()
            .stream_name(&self.stream)
            .set_records(Some(entries))
            .customize()
            .config_override(no_sdk_retries)
            .send()
            .await
            .map_err(|e| call_failure(&e, error_name))?;
        Ok(entry_outcomes(
            output
                .records()
                .iter()
                .map(|e| (e.error_code(), e.error_message())),
        ))
    }
}

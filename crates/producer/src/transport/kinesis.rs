//! Kinesis Data Streams: `PutRecords`
//! (<https://docs.aws.amazon.com/kinesis/latest/APIReference/API_PutRecords.html>), which
//! answers HTTP 200 with `FailedRecordCount > 0` when some entries failed.

use aws_sdk_kinesis::operation::put_records::PutRecordsError;
use aws_sdk_kinesis::primitives::Blob;
use aws_sdk_kinesis::types::{PutRecordsRequestEntry, PutRecordsResultEntry};

use super::Service;
use super::{
    call_failure, entry_outcomes, no_sdk_retries, request_entries, EntryOutcome, Failure,
    ResponseEntry, Transport,
};
use crate::aggregate::Record;

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
        let entries = request_entries(records, |data, key| {
            PutRecordsRequestEntry::builder()
                .data(Blob::new(data))
                .partition_key(key.unwrap_or_default())
                .build()
        })?;
        let config = aws_sdk_kinesis::config::Builder::default().retry_config(no_sdk_retries());
        let call = self.client.put_records();
        let call = call.stream_name(&self.stream).set_records(Some(entries));
        let output = call.customize().config_override(config).send().await;
        let output = output.map_err(|e| call_failure(&e, error_name))?;
        Ok(entry_outcomes(output.records()))
    }
}

impl ResponseEntry for PutRecordsResultEntry {
    fn error_code(&self) -> Option<&str> {
        self.error_code()
    }

    fn error_message(&self) -> Option<&str> {
        self.error_message()
    }
}

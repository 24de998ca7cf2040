//! Firehose Direct PUT: `PutRecordBatch`
//! (<https://docs.aws.amazon.com/firehose/latest/APIReference/API_PutRecordBatch.html>), which
//! answers HTTP 200 with `FailedPutCount > 0` when some entries failed.

use aws_sdk_firehose::operation::put_record_batch::PutRecordBatchError;
use aws_sdk_firehose::primitives::Blob;
use aws_sdk_firehose::types::PutRecordBatchResponseEntry;

use super::Service;
use super::{
    call_failure, entry_outcomes, no_sdk_retries, request_entries, EntryOutcome, Failure,
    ResponseEntry, Transport,
};
use crate::aggregate::Record;

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
        let entries = request_entries(records, |data, _| {
            aws_sdk_firehose::types::Record::builder()
                .data(Blob::new(data))
                .build()
        })?;
        let config = aws_sdk_firehose::config::Builder::default().retry_config(no_sdk_retries());
        let call = self.client.put_record_batch();
        let call = call
            .delivery_stream_name(&self.stream)
            .set_records(Some(entries));
        let output = call.customize().config_override(config).send().await;
        let output = output.map_err(|e| call_failure(&e, error_name))?;
        Ok(entry_outcomes(output.request_responses()))
    }
}

impl ResponseEntry for PutRecordBatchResponseEntry {
    fn error_code(&self) -> Option<&str> {
        self.error_code()
    }

    fn error_message(&self) -> Option<&str> {
        self.error_message()
    }
}

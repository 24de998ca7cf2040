//! The AWS limits the producer batches and aggregates to: the contract's
//! ([`ocsf_firehose_contract::limits`]), re-exported.

pub(crate) use ocsf_firehose_contract::limits::{
    FIREHOSE_BILLING_UNIT_BYTES, FIREHOSE_MAX_BYTES_PER_CALL, FIREHOSE_MAX_RECORDS_PER_CALL,
    FIREHOSE_MAX_RECORD_BYTES, FIREHOSE_MAX_SUB_RECORDS, KINESIS_MAX_BYTES_PER_CALL,
    KINESIS_MAX_RECORDS_PER_CALL, KINESIS_MAX_RECORD_BYTES,
};

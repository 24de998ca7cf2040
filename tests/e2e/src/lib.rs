//! End-to-end tests of ocsf-firehose live in `tests/`: the producer sends through its local sink
//! into the local pipeline (de-aggregation → the Lambda handler → partitioning → Parquet), and
//! the output is read back with the `parquet` crate.

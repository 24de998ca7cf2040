//! A bare `lambda_runtime` function answering every event with itself: the cold-start floor
//! `scripts/bench-cold-start` measures `ocsf-firehose-lambda` against (the same runtime, the
//! same Tokio flavour, no engine).

use lambda_runtime::{service_fn, LambdaEvent};
use serde_json::Value;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    lambda_runtime::run(service_fn(|event: LambdaEvent<Value>| async move {
        Ok::<Value, lambda_runtime::Error>(event.payload)
    }))
    .await
}

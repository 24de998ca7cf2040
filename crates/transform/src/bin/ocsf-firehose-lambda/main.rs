//! `ocsf-firehose-lambda`: the Firehose data-transformation Lambda function.
//!
//! Configuration comes from `OCSF_*` environment variables (see the README), validated once at
//! cold start: a bad value fails the function's init with a message naming the variable. Each
//! invocation writes its JSON log lines and an Embedded Metric Format document to stdout, which
//! Lambda ships to CloudWatch Logs (and CloudWatch extracts the metrics from).

use std::io::Write;

use lambda_runtime::{service_fn, LambdaEvent};
use ocsf_firehose_transform::firehose::config::{DEFAULT_METRICS_NAMESPACE, ENV_METRICS_NAMESPACE};
use ocsf_firehose_transform::firehose::{FirehoseEvent, LogLevel, Transformer};

fn log_init_error(message: &str) {
    let line = serde_json::json!({"level": "ERROR", "message": "init failed", "error": message});
    println!("{line}");
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    let transformer =
        Transformer::from_env().inspect_err(|error| log_init_error(&error.to_string()))?;
    let level = transformer.config().log_level;
    tracing_subscriber::fmt()
        .json()
        .with_max_level(match level {
            LogLevel::Off | LogLevel::Error => tracing::Level::ERROR,
            LogLevel::Warn => tracing::Level::WARN,
            LogLevel::Info => tracing::Level::INFO,
            LogLevel::Debug => tracing::Level::DEBUG,
        })
        .with_current_span(false)
        .without_time()
        .init();
    let namespace = std::env::var(ENV_METRICS_NAMESPACE)
        .ok()
        .filter(|n| !n.trim().is_empty())
        .unwrap_or_else(|| DEFAULT_METRICS_NAMESPACE.to_owned());
    let mut builder = metrics_cloudwatch_embedded::Builder::new()
        .cloudwatch_namespace(namespace)
        .emit_zeros(true);
    // One metric series per function, so that each pipeline's alarm sees only its own records.
    if let Ok(function) = std::env::var("AWS_LAMBDA_FUNCTION_NAME") {
        builder = builder.with_dimension("FunctionName", function);
    }
    let metrics = builder.init().map_err(|error| {
        log_init_error(&error.to_string());
        lambda_runtime::Error::from(error.to_string())
    })?;
    let transformer = &transformer;
    let metrics = &metrics;
    lambda_runtime::run(service_fn(
        move |event: LambdaEvent<FirehoseEvent>| async move {
            let (response, report) = transformer.handle(&event.payload)?;
            let mut out = std::io::stdout().lock();
            for line in report.log_lines(level) {
                writeln!(out, "{line}")?;
            }
            report.emit_metrics();
            metrics
                .set_property("RequestId", event.context.request_id.clone())
                .flush(&mut out)?;
            Ok::<_, lambda_runtime::Error>(response)
        },
    ))
    .await
}

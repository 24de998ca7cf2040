//! What `local`, `upload` and `redrive` share: their async runtime, the AWS configuration
//! (`--region`, `--endpoint-url`), `--source` names, and the progress bar (their inputs are
//! `input::Source`s, as every command's).

use std::collections::BTreeMap;
use std::path::PathBuf;

use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};
use ocsf_firehose_producer::lake::Sources;
use ocsf_firehose_transform::contract::prefix::{check_key_prefix, check_source_name};
use ocsf_firehose_transform::firehose::TransformConfig;
use ocsf_firehose_transform::local::{default_source_name, LocalConfig};
use ocsf_firehose_transform::Engine;

/// `--source CLASS_UID=NAME` values: class → source name.
pub(crate) fn parse_sources(values: &[String]) -> anyhow::Result<BTreeMap<i64, String>> {
    let mut sources = BTreeMap::new();
    for source in values {
        let (class, name) = source
            .split_once('=')
            .with_context(|| format!("--source {source}: expected CLASS_UID=NAME"))?;
        let class: i64 = class
            .trim()
            .parse()
            .with_context(|| format!("--source {source}: bad class_uid"))?;
        let name = name.trim();
        check_source_name(name).with_context(|| format!("--source {source}"))?;
        sources.insert(class, name.to_owned());
    }
    Ok(sources)
}

/// A progress bar on stderr (drawn only on a terminal): events (or whatever `unit` counts),
/// their rate, the time, and whatever message the command sets.
pub(crate) fn progress_bar(total: Option<usize>, unit: &str) -> ProgressBar {
    let (bar, template) = match total {
        Some(n) => (
            ProgressBar::new(n as u64),
            format!(
                "{{bar:30}} {{pos}}/{{len}} {unit}, {{per_sec}}, {{elapsed}} (eta {{eta}}) {{msg}}"
            ),
        ),
        None => (
            ProgressBar::new_spinner(),
            format!("{{spinner}} {{pos}} {unit}, {{per_sec}}, {{elapsed}} {{msg}}"),
        ),
    };
    if let Ok(style) = ProgressStyle::with_template(&template) {
        bar.set_style(style);
    }
    bar
}

/// The runtime the producer runs on: two workers (the machine's cores), timers and I/O.
pub(crate) fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("cannot start the async runtime")
}

/// The AWS configuration of a command: its `--region`, and `--endpoint-url` for every service
/// (moto, LocalStack, VPC endpoints).
pub(crate) async fn aws_config(region: &str, endpoint: Option<&str>) -> aws_config::SdkConfig {
    let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new(region.to_owned()));
    if let Some(endpoint) = endpoint {
        loader = loader.endpoint_url(endpoint);
    }
    loader.load().await
}

/// An S3 client on `shared`; path-style addressing with a custom endpoint (which rarely serves
/// virtual-host buckets).
pub(crate) fn s3_client(
    shared: &aws_config::SdkConfig,
    custom_endpoint: bool,
) -> aws_sdk_s3::Client {
    let config = aws_sdk_s3::config::Builder::from(shared).force_path_style(custom_endpoint);
    aws_sdk_s3::Client::from_conf(config.build())
}

/// The direct path's source locations: every class of the schema under `template` (`{source}`:
/// its `--source` name, else its default name).
pub(crate) fn lake_sources(
    names: &[String],
    template: &str,
    engine: &Engine,
) -> anyhow::Result<Sources> {
    let names = parse_sources(names)?;
    check_key_prefix(template)?;
    let schema = engine.schema();
    Ok(schema
        .class_uids()
        .fold(Sources::default(), |sources, uid| {
            let name = names
                .get(&uid)
                .cloned()
                .unwrap_or_else(|| default_source_name(schema, uid));
            sources.with(uid, template.replace("{source}", &name))
        }))
}

/// The local pipeline's configuration for a run writing under `out`: the Lambda's, the
/// streams' region and the `--source` names (`local` and `redrive --local`).
pub(crate) fn pipeline_config(
    out: PathBuf,
    transform: TransformConfig,
    region: &str,
    sources: BTreeMap<i64, String>,
) -> LocalConfig {
    let mut config = LocalConfig::new(out);
    config.transform = transform;
    config.region = region.to_owned();
    config.sources.extend(sources);
    config
}

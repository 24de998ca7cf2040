//! `ocsf-firehose serve`: an HTTP ingest agent running the producer for many clients, in any
//! language. `POST /v1/events` takes a JSON event, a JSON array or JSON lines (gzip or not);
//! each event gets the Lambda's verdict and is handed to the producer (a Firehose or Kinesis
//! stream, aggregated; or the direct path into a bucket or a folder), and the answer says, per
//! event, what became of it (`answer.rs`). A full buffer is `429` with `Retry-After`, never
//! unbounded memory: the producer's buffer (`--budget-mib`) plus `--max-requests` bodies of
//! `--max-body-kib` at most.
//!
//! Built on hyper (HTTP/1.1), already compiled for the AWS SDK's client: three routes need no
//! router framework. TLS through rustls with the SDK's crypto provider (`--tls-cert`,
//! `--tls-key`). Loopback by default; `--token` (or `OCSF_FIREHOSE_TOKEN`) requires
//! `Authorization: Bearer`. `SIGTERM`/`SIGINT`: stops taking events, finishes the requests
//! under way, delivers everything accepted, prints the summary, exits 0 when all landed.

mod agent;
mod answer;
mod body;
mod tls;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context;
use clap::Args as ClapArgs;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use hyper_util::server::graceful::GracefulShutdown;
use metrics_exporter_prometheus::PrometheusBuilder;
use ocsf_firehose_producer::lake::StoredObject;
use ocsf_firehose_producer::spool::SpoolConfig;
use ocsf_firehose_producer::Report;
use ocsf_firehose_transform::Engine;
use serde::Serialize;
use tokio::net::TcpListener;

use crate::lambda_args::LambdaArgs;
use crate::lines::runtime;
use crate::send::args::{ConnectArgs, DestinationArgs, LakeArgs};
use crate::send::{builder, destination, stop_signal, Reach};
use crate::summary::{count_failed, write_counts, ByCode, Outcome, SummaryFormat};
use agent::{Agent, Limits};

/// Arguments of `serve`.
#[derive(Debug, ClapArgs)]
pub(crate) struct Args {
    /// Address to listen on (loopback by default: other hosts reach the agent only when told).
    #[arg(long, default_value = "127.0.0.1:8088", value_name = "ADDR")]
    listen: SocketAddr,
    #[command(flatten)]
    destination: DestinationArgs,
    /// Require `Authorization: Bearer TOKEN` on `/v1/events` and `/metrics`.
    #[arg(long, env = "OCSF_FIREHOSE_TOKEN", hide_env_values = true)]
    token: Option<String>,
    /// Serve HTTPS with this certificate chain (PEM).
    #[arg(long, value_name = "PEM", requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// … and this private key (PEM: PKCS#8, PKCS#1 or SEC1).
    #[arg(long, value_name = "PEM", requires = "tls_cert")]
    tls_key: Option<PathBuf>,
    /// A body's limit in KiB, as sent and inflated (`413` beyond it).
    #[arg(long, default_value_t = 8192, value_name = "KIB")]
    max_body_kib: usize,
    /// Bodies read and judged at once; more requests wait their turn.
    #[arg(long, default_value_t = 16)]
    max_requests: usize,
    /// `Retry-After` of a `429` (buffer full) or `503` (stopping), in seconds.
    #[arg(long, default_value_t = 1, value_name = "SECONDS")]
    retry_after: u64,
    /// Once a request has events taken, how long the rest may wait for room in the buffer
    /// before they are answered `retry` (`429`); a request whose first event finds no room is
    /// answered `429` at once, nothing of it taken.
    #[arg(long, default_value_t = 2000, value_name = "MS")]
    wait_for_room_ms: u64,
    /// On the direct path, a partition's rows become an object once the first has waited this
    /// long (default 300, Security Lake's shortest interval).
    #[arg(long, value_name = "SECONDS")]
    buffer_seconds: Option<u64>,
    /// Keep accepted events in this folder until delivered: after a crash, the agent started
    /// again with the same folder delivers them.
    #[arg(long, value_name = "DIR")]
    spool: Option<PathBuf>,
    /// At `SIGTERM`, requests under way get this long to finish.
    #[arg(long, default_value_t = 30, value_name = "SECONDS")]
    drain_seconds: u64,
    #[command(flatten)]
    lake: LakeArgs,
    #[command(flatten)]
    connect: ConnectArgs,
    /// The Lambda's configuration (the verdict every event gets first).
    #[command(flatten)]
    lambda: LambdaArgs,
    #[command(flatten)]
    summary: SummaryFormat,
}

pub(crate) fn run(args: Args) -> anyhow::Result<Outcome> {
    runtime()?.block_on(serve(args))
}

async fn serve(args: Args) -> anyhow::Result<Outcome> {
    let started = Instant::now();
    let prometheus = PrometheusBuilder::new()
        .install_recorder()
        .context("cannot install the metrics recorder")?;
    let transform = args.lambda.transform_config()?;
    let max_record_bytes = transform.max_record_bytes;
    let engine = Engine::new(transform.engine).context("invalid Lambda configuration")?;
    let target = args.destination.target()?;
    let objects: Arc<Mutex<Vec<StoredObject>>> = Arc::default();
    let reach = Reach {
        target: &target,
        lake: &args.lake,
        connect: &args.connect,
        region: &args.lambda.region,
        buffer_interval: args.buffer_seconds.map(|s| Duration::from_secs(s.max(1))),
    };
    let mut builder = builder(&reach, engine, None, &objects).await?;
    if let Some(dir) = &args.spool {
        builder = builder.spool(SpoolConfig {
            keep_failed: true,
            ..SpoolConfig::new(dir)
        });
    }
    let producer = builder
        .config(args.connect.producer_config(
            !args.destination.no_aggregation,
            args.destination.record_bytes(),
        ))
        .build()?;
    let replayed = producer.recovered().entries;
    let tls = match (&args.tls_cert, &args.tls_key) {
        (Some(cert), Some(key)) => Some(tls::acceptor(cert, key)?),
        _ => None,
    };
    let listener = TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("cannot listen on {}", args.listen))?;
    let scheme = if tls.is_some() { "https" } else { "http" };
    let address = listener.local_addr()?;
    eprintln!("ocsf-firehose serve: listening on {scheme}://{address}");
    let agent = Arc::new(Agent::new(
        producer,
        Limits {
            max_record_bytes,
            max_body_bytes: args.max_body_kib.max(1).saturating_mul(1024),
            retry_after: args.retry_after,
            wait_for_room: Duration::from_millis(args.wait_for_room_ms),
        },
        args.token.clone(),
        args.max_requests,
        prometheus,
    ));
    let graceful = accept(&listener, &agent, tls).await;
    drop(listener);
    agent.stop();
    let drain = Duration::from_secs(args.drain_seconds);
    if tokio::time::timeout(drain, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!(
            seconds = args.drain_seconds,
            "requests still under way were cut"
        );
    }
    let tally = agent.tally();
    let report = match Arc::try_unwrap(agent) {
        Ok(agent) => agent.producer.shutdown().await,
        Err(agent) => agent.producer.flush().await,
    };
    let summary = ServeSummary::new(&args, &target, tally, replayed, &report, &objects);
    args.summary
        .print(&summary, |out, s| s.write(out, started.elapsed()))?;
    let not_delivered: u64 = summary.not_delivered.values().sum();
    if not_delivered > 0 {
        let codes: Vec<String> = summary
            .not_delivered
            .iter()
            .map(|(code, n)| format!("{code}: {n}"))
            .collect();
        anyhow::bail!(
            "{not_delivered} accepted events were not delivered ({})",
            codes.join(", ")
        );
    }
    Ok(Outcome::default())
}

/// How long a connection may take to send a request's headers.
const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(30);

/// Takes connections until `SIGTERM`/`SIGINT`; each is served on a task of its own, watched
/// by the returned shutdown.
async fn accept(
    listener: &TcpListener,
    agent: &Arc<Agent>,
    tls: Option<tokio_rustls::TlsAcceptor>,
) -> GracefulShutdown {
    let graceful = GracefulShutdown::new();
    let mut stop = std::pin::pin!(stop_signal());
    loop {
        let (stream, peer) = tokio::select! {
            biased;
            () = &mut stop => return graceful,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    // Out of file descriptors, for one: wait a moment rather than spin.
                    tracing::warn!(%error, "cannot accept a connection");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let agent = Arc::clone(agent);
        let tls = tls.clone();
        let watcher = graceful.watcher();
        tokio::spawn(async move {
            let service = service_fn(move |request| {
                let agent = Arc::clone(&agent);
                async move { agent.handle(request).await }
            });
            let mut http = hyper::server::conn::http1::Builder::new();
            // A client that opens a connection and never finishes its headers is let go.
            http.timer(hyper_util::rt::TokioTimer::new())
                .header_read_timeout(HEADER_READ_TIMEOUT);
            let served = match tls {
                Some(tls) => match tls.accept(stream).await {
                    Ok(stream) => {
                        let connection = http.serve_connection(TokioIo::new(stream), service);
                        watcher.watch(connection).await
                    }
                    Err(error) => {
                        tracing::debug!(%peer, %error, "TLS handshake failed");
                        return;
                    }
                },
                None => {
                    let connection = http.serve_connection(TokioIo::new(stream), service);
                    watcher.watch(connection).await
                }
            };
            if let Err(error) = served {
                tracing::debug!(%peer, %error, "connection ended with an error");
            }
        });
    }
}

/// What a run of the agent did: every event of every request accounted for (`events =
/// accepted + rejectedEvents + retry`; `accepted + replayed = delivered + notDelivered`).
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct ServeSummary {
    destination: Option<String>,
    requests: u64,
    events: u64,
    accepted: u64,
    rejected_events: u64,
    rejected: ByCode,
    /// Events answered `retry` (buffer full, stopping): not taken.
    retry: u64,
    /// Events an earlier run accepted and did not deliver, from the spool.
    replayed: u64,
    delivered: u64,
    not_delivered: ByCode,
    api_calls: u64,
    retried_records: u64,
    objects: u64,
    bytes: u64,
}

impl ServeSummary {
    fn new(
        args: &Args,
        target: &crate::send::Target,
        tally: agent::Tally,
        replayed: u64,
        report: &Report,
        objects: &Mutex<Vec<StoredObject>>,
    ) -> Self {
        let (objects, bytes) = objects
            .lock()
            .map(|o| (o.len() as u64, o.iter().map(|o| o.bytes).sum()))
            .unwrap_or_default();
        let mut not_delivered = tally.failed_answered.clone();
        count_failed(&mut not_delivered, &report.failed);
        ServeSummary {
            destination: destination(target, &args.connect).and_then(|d| d.name().ok()),
            requests: tally.requests,
            events: tally.events,
            accepted: tally.accepted,
            rejected_events: tally.rejected_events,
            rejected: tally.rejected,
            retry: tally.retry,
            replayed,
            delivered: report.delivered,
            not_delivered,
            api_calls: report.api_calls,
            retried_records: report.retried_records,
            objects,
            bytes,
        }
    }

    fn write(&self, out: &mut dyn std::io::Write, elapsed: Duration) -> std::io::Result<()> {
        writeln!(
            out,
            "served {} requests, {} events in {:.1} s: {} accepted, {} rejected, {} not taken (retry)",
            self.requests,
            self.events,
            elapsed.as_secs_f64(),
            self.accepted,
            self.rejected_events,
            self.retry
        )?;
        write_counts(out, &[("rejected", &self.rejected)])?;
        writeln!(
            out,
            "delivered {} ({} API calls, {} records retried)",
            self.delivered, self.api_calls, self.retried_records
        )?;
        if self.objects > 0 {
            writeln!(out, "{} objects, {} bytes", self.objects, self.bytes)?;
        }
        write_counts(out, &[("not delivered", &self.not_delivered)])
    }
}

//! A fault-injecting HTTP proxy in front of moto, one request per connection (`Connection: close`
//! both ways), `Content-Length` bodies.
//!
//! * S3 (`PUT`: `PutObject`, `UploadPart`): a share answered `503 SlowDown` or
//!   `500 InternalError` instead of being forwarded, and a few stalled (held open, never
//!   answered), as S3 does on a bad day.
//! * Firehose and Kinesis (`POST`, by `X-Amz-Target`): a share of the connections stalled (and
//!   optionally the first few calls after the first), a share reset after the request was read, a share of the calls throttled, and a share of the
//!   records of the other calls failed inside the HTTP 200 answer. None of these is forwarded:
//!   what moto receives was answered as delivered, so an event can arrive once.
//! * Optionally every request is forwarded one at a time (`serialise`): moto's Kinesis
//!   `put_record` reads the last sequence number and writes without a lock, so concurrent
//!   `PutRecords` overwrite each other's records there.
//! * Every record a `PutRecords` answer gave as stored is kept with its shard and sequence
//!   number ([`Proxy::answered`]): what the producer was told, to compare with what a reader of
//!   the stream finds.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// What to inject (all off by default).
#[derive(Debug, Clone, Copy, Default)]
pub struct Faults {
    /// Share of S3 `PUT` requests answered with an error.
    pub failure_share: f64,
    /// S3 `PUT` requests stalled (the first ones after a few forwarded).
    pub stalls: usize,
    /// Share of Firehose/Kinesis connections held open, never answered.
    pub stall_share: f64,
    /// Firehose/Kinesis batch calls stalled whatever the dice say: the first ones after the
    /// first call (so that a run of few calls meets a stall too).
    pub stream_stalls: usize,
    /// Share of Firehose/Kinesis connections reset once the request is read.
    pub reset_share: f64,
    /// Share of Firehose/Kinesis calls throttled (`ServiceUnavailableException`, HTTP 400).
    pub throttle_share: f64,
    /// Share of the records of the other Firehose calls failed inside the answer.
    pub entry_failure_share: f64,
    /// Forward one request at a time.
    pub serialise: bool,
}

/// How long a stalled connection is held before it is dropped unanswered.
const STALL: Duration = Duration::from_secs(120);

/// What the proxy counts.
#[derive(Default)]
struct Counters {
    failed: AtomicUsize,
    stalled: AtomicUsize,
    puts: AtomicUsize,
    parts: AtomicUsize,
    reset: AtomicUsize,
    throttled: AtomicUsize,
    failed_entries: AtomicUsize,
    batch_calls: AtomicUsize,
    stream_stalled: AtomicUsize,
}

/// What every connection shares.
struct Shared {
    upstream: String,
    faults: Faults,
    counters: Counters,
    rng: Mutex<fastrand::Rng>,
    forwarding: tokio::sync::Mutex<()>,
    answered: Mutex<Vec<(String, String)>>,
}

impl Shared {
    fn roll(&self) -> f64 {
        self.rng.lock().map(|mut r| r.f64()).unwrap_or(1.0)
    }
}

/// A running proxy.
pub struct Proxy {
    /// Its endpoint (`http://127.0.0.1:<port>`).
    pub endpoint: String,
    shared: Arc<Shared>,
}

impl Proxy {
    /// `(S3 requests failed, requests stalled)` so far.
    pub fn injected(&self) -> (usize, usize) {
        let c = &self.shared.counters;
        (
            c.failed.load(Ordering::SeqCst),
            c.stalled.load(Ordering::SeqCst),
        )
    }

    /// `(connections reset, calls throttled, records failed inside answers)` so far.
    pub fn stream_faults(&self) -> (usize, usize, usize) {
        let c = &self.shared.counters;
        (
            c.reset.load(Ordering::SeqCst),
            c.throttled.load(Ordering::SeqCst),
            c.failed_entries.load(Ordering::SeqCst),
        )
    }

    /// `UploadPart` requests seen (failed ones included).
    pub fn parts(&self) -> usize {
        self.shared.counters.parts.load(Ordering::SeqCst)
    }

    /// `(shard id, sequence number)` of every record a `PutRecords` answer gave as stored.
    pub fn answered(&self) -> Vec<(String, String)> {
        self.shared.answered.lock().unwrap().clone()
    }
}

/// A proxy to `upstream` that forwards one request at a time and injects nothing (moto's
/// Kinesis loses records under concurrent `PutRecords`).
pub async fn serialising_proxy(upstream: &str) -> Proxy {
    let faults = Faults {
        serialise: true,
        ..Faults::default()
    };
    fault_proxy(upstream, faults).await
}

/// Starts a proxy to `upstream` (`http://host:port`).
pub async fn fault_proxy(upstream: &str, faults: Faults) -> Proxy {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    let shared = Arc::new(Shared {
        upstream: upstream.trim_start_matches("http://").to_owned(),
        faults,
        counters: Counters::default(),
        rng: Mutex::new(fastrand::Rng::with_seed(11)),
        forwarding: tokio::sync::Mutex::new(()),
        answered: Mutex::default(),
    });
    let state = shared.clone();
    tokio::spawn(async move {
        while let Ok((client, _)) = listener.accept().await {
            let state = state.clone();
            tokio::spawn(async move {
                let _ = serve(client, &state).await;
            });
        }
    });
    Proxy { endpoint, shared }
}

/// Reads one HTTP message from `stream`: its head (with `Connection: close` put in) and body.
async fn read_message(stream: &mut TcpStream) -> std::io::Result<Option<(String, Vec<u8>)>> {
    let mut buffer = Vec::new();
    let mut chunk = [0u8; 16 * 1024];
    let head_end = loop {
        if let Some(at) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
            break at + 4;
        }
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            return Ok(None);
        }
        buffer.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buffer[..head_end]).into_owned();
    let length = header(&head, "content-length")
        .and_then(|v| v.parse::<usize>().ok())
        .unwrap_or(0);
    assert!(
        header(&head, "transfer-encoding").is_none(),
        "the proxy reads Content-Length bodies only"
    );
    let mut body = buffer[head_end..].to_vec();
    while body.len() < length {
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            break;
        }
        body.extend_from_slice(&chunk[..n]);
    }
    Ok(Some((with_headers(&head, None), body)))
}

fn header<'h>(head: &'h str, name: &str) -> Option<&'h str> {
    head.lines().find_map(|line| {
        let (key, value) = line.split_once(':')?;
        key.eq_ignore_ascii_case(name).then(|| value.trim())
    })
}

/// `head` with `Connection: close`, and a new `Content-Length` when given.
fn with_headers(head: &str, length: Option<usize>) -> String {
    let mut lines: Vec<String> = head
        .trim_end()
        .lines()
        .filter(|line| {
            let line = line.to_ascii_lowercase();
            let replaced = line.starts_with("connection:")
                || (length.is_some() && line.starts_with("content-length:"));
            !replaced
        })
        .map(str::to_owned)
        .collect();
    lines.push("Connection: close".to_owned());
    if let Some(length) = length {
        lines.push(format!("Content-Length: {length}"));
    }
    lines.join("\r\n") + "\r\n\r\n"
}

async fn respond(
    client: &mut TcpStream,
    status: &str,
    kind: &str,
    body: &str,
) -> std::io::Result<()> {
    let response = format!(
        "HTTP/1.1 {status}\r\nContent-Type: {kind}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    client.write_all(response.as_bytes()).await?;
    client.shutdown().await
}

async fn serve(mut client: TcpStream, shared: &Shared) -> std::io::Result<()> {
    let Some((head, body)) = read_message(&mut client).await? else {
        return Ok(());
    };
    let (faults, counters) = (&shared.faults, &shared.counters);
    let target = header(&head, "x-amz-target").unwrap_or_default().to_owned();
    if head.starts_with("PUT ") {
        if head
            .lines()
            .next()
            .is_some_and(|line| line.contains("partNumber="))
        {
            counters.parts.fetch_add(1, Ordering::SeqCst);
        }
        let n = counters.puts.fetch_add(1, Ordering::SeqCst);
        if n >= 3 && counters.stalled.load(Ordering::SeqCst) < faults.stalls {
            counters.stalled.fetch_add(1, Ordering::SeqCst);
            tokio::time::sleep(Duration::from_secs(20)).await;
            return Ok(());
        }
        let roll = shared.roll();
        if roll < faults.failure_share {
            counters.failed.fetch_add(1, Ordering::SeqCst);
            let (status, code) = if roll < faults.failure_share / 2.0 {
                ("503 Slow Down", "SlowDown")
            } else {
                ("500 Internal Server Error", "InternalError")
            };
            let xml = format!("<Error><Code>{code}</Code><Message>injected</Message></Error>");
            return respond(&mut client, status, "application/xml", &xml).await;
        }
    }
    let batch_call = target.ends_with(".PutRecordBatch") || target.ends_with(".PutRecords");
    let mut failed_at = Vec::new();
    let mut body = body;
    if batch_call {
        let call = counters.batch_calls.fetch_add(1, Ordering::SeqCst);
        let forced = call >= 1
            && counters.stream_stalled.fetch_add(1, Ordering::SeqCst) < faults.stream_stalls;
        let roll = shared.roll();
        if forced || roll < faults.stall_share {
            counters.stalled.fetch_add(1, Ordering::SeqCst);
            tokio::time::sleep(STALL).await;
            return Ok(());
        }
        if roll < faults.stall_share + faults.reset_share {
            counters.reset.fetch_add(1, Ordering::SeqCst);
            // Dropped without an answer: the client sees the connection close mid-exchange.
            let _ = client.set_zero_linger();
            return Ok(());
        }
        if roll < faults.stall_share + faults.reset_share + faults.throttle_share {
            counters.throttled.fetch_add(1, Ordering::SeqCst);
            let error = json!({"__type": "ServiceUnavailableException", "message": "Slow down."});
            return respond(
                &mut client,
                "400 Bad Request",
                "application/x-amz-json-1.1",
                &error.to_string(),
            )
            .await;
        }
        if faults.entry_failure_share > 0.0 && target.ends_with(".PutRecordBatch") {
            let mut request: Value = serde_json::from_slice(&body).unwrap();
            let records = request["Records"].as_array_mut().unwrap();
            let mut kept = Vec::new();
            for (index, record) in records.drain(..).enumerate() {
                match shared.roll() < faults.entry_failure_share {
                    true => failed_at.push(index),
                    false => kept.push(record),
                }
            }
            counters
                .failed_entries
                .fetch_add(failed_at.len(), Ordering::SeqCst);
            *records = kept;
            body = serde_json::to_vec(&request).unwrap();
        }
    }
    let guard = match faults.serialise {
        true => Some(shared.forwarding.lock().await),
        false => None,
    };
    let head = with_headers(&head, Some(body.len()));
    let mut server = TcpStream::connect(&shared.upstream).await?;
    server.write_all(head.as_bytes()).await?;
    server.write_all(&body).await?;
    let mut response = Vec::new();
    server.read_to_end(&mut response).await?;
    drop(guard);
    if batch_call {
        response = answer(shared, &target, &response, &failed_at);
    }
    client.write_all(&response).await?;
    client.shutdown().await
}

/// The answer to a batch call: moto's, with the records held back put in as failed entries at
/// their places; a `PutRecords` answer's stored records noted.
fn answer(shared: &Shared, target: &str, response: &[u8], failed_at: &[usize]) -> Vec<u8> {
    let Some(split) = response.windows(4).position(|w| w == b"\r\n\r\n") else {
        return response.to_vec();
    };
    let (head, body) = (
        String::from_utf8_lossy(&response[..split + 4]).into_owned(),
        &response[split + 4..],
    );
    let Ok(mut answer) = serde_json::from_slice::<Value>(body) else {
        return response.to_vec();
    };
    if target.ends_with(".PutRecords") {
        if let Some(records) = answer["Records"].as_array() {
            let mut answered = shared.answered.lock().unwrap();
            for record in records.iter().filter(|r| r.get("ErrorCode").is_none()) {
                if let (Some(shard), Some(sequence)) = (
                    record["ShardId"].as_str(),
                    record["SequenceNumber"].as_str(),
                ) {
                    answered.push((shard.to_owned(), sequence.to_owned()));
                }
            }
        }
        return response.to_vec();
    }
    if failed_at.is_empty() {
        return response.to_vec();
    }
    let Some(entries) = answer["RequestResponses"].as_array_mut() else {
        return response.to_vec();
    };
    for index in failed_at {
        let failed =
            json!({"ErrorCode": "ServiceUnavailableException", "ErrorMessage": "injected"});
        entries.insert((*index).min(entries.len()), failed);
    }
    let failed = entries
        .iter()
        .filter(|e| e.get("ErrorCode").is_some())
        .count();
    answer["FailedPutCount"] = json!(failed);
    let body = serde_json::to_vec(&answer).unwrap();
    let mut out = with_headers(&head, Some(body.len())).into_bytes();
    out.extend_from_slice(&body);
    out
}

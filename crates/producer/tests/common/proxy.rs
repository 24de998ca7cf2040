//! A fault-injecting HTTP proxy in front of moto: a share of the `PUT` requests (`PutObject`,
//! `UploadPart`) is answered `503 SlowDown` or `500 InternalError` instead of being forwarded,
//! and a few are stalled (the connection held open, never answered), as S3 does on a bad day.
//! One request per connection (`Connection: close` both ways), `Content-Length` bodies.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// What to inject.
#[derive(Debug, Clone, Copy)]
pub struct Faults {
    /// Share of `PUT` requests answered with an error.
    pub failure_share: f64,
    /// `PUT` requests stalled (the first ones after a few forwarded).
    pub stalls: usize,
}

/// A running proxy.
pub struct Proxy {
    /// Its endpoint (`http://127.0.0.1:<port>`).
    pub endpoint: String,
    failed: Arc<AtomicUsize>,
    stalled: Arc<AtomicUsize>,
    parts: Arc<AtomicUsize>,
}

impl Proxy {
    /// `(requests failed, requests stalled)` so far.
    pub fn injected(&self) -> (usize, usize) {
        (
            self.failed.load(Ordering::SeqCst),
            self.stalled.load(Ordering::SeqCst),
        )
    }

    /// `UploadPart` requests seen (failed ones included).
    pub fn parts(&self) -> usize {
        self.parts.load(Ordering::SeqCst)
    }
}

/// Starts a proxy to `upstream` (`http://host:port`).
pub async fn fault_proxy(upstream: &str, faults: Faults) -> Proxy {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    let upstream = upstream.trim_start_matches("http://").to_owned();
    let failed = Arc::new(AtomicUsize::new(0));
    let stalled = Arc::new(AtomicUsize::new(0));
    let puts = Arc::new(AtomicUsize::new(0));
    let parts = Arc::new(AtomicUsize::new(0));
    let (f, s, p) = (failed.clone(), stalled.clone(), parts.clone());
    tokio::spawn(async move {
        let rng = Arc::new(std::sync::Mutex::new(fastrand::Rng::with_seed(11)));
        while let Ok((client, _)) = listener.accept().await {
            let (upstream, failed, stalled, puts, parts, rng) = (
                upstream.clone(),
                f.clone(),
                s.clone(),
                puts.clone(),
                p.clone(),
                rng.clone(),
            );
            tokio::spawn(async move {
                let counters = Counters {
                    failed: &failed,
                    stalled: &stalled,
                    puts: &puts,
                    parts: &parts,
                };
                let _ = serve(client, &upstream, faults, counters, &rng).await;
            });
        }
    });
    Proxy {
        endpoint,
        failed,
        stalled,
        parts,
    }
}

/// What the proxy counts.
struct Counters<'a> {
    failed: &'a AtomicUsize,
    stalled: &'a AtomicUsize,
    puts: &'a AtomicUsize,
    parts: &'a AtomicUsize,
}

/// Reads one request: head (with `Connection: close` put in) and body.
async fn read_request(client: &mut TcpStream) -> std::io::Result<Option<(String, Vec<u8>)>> {
    let mut buffer = Vec::new();
    let mut chunk = [0u8; 16 * 1024];
    let head_end = loop {
        if let Some(at) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
            break at + 4;
        }
        let n = client.read(&mut chunk).await?;
        if n == 0 {
            return Ok(None);
        }
        buffer.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buffer[..head_end]).into_owned();
    let length = head
        .lines()
        .find_map(|line| {
            let (name, value) = line.split_once(':')?;
            name.eq_ignore_ascii_case("content-length")
                .then(|| value.trim().parse::<usize>().ok())?
        })
        .unwrap_or(0);
    assert!(
        !head
            .to_ascii_lowercase()
            .contains("transfer-encoding: chunked"),
        "the proxy reads Content-Length bodies only"
    );
    let mut body = buffer[head_end..].to_vec();
    while body.len() < length {
        let n = client.read(&mut chunk).await?;
        if n == 0 {
            break;
        }
        body.extend_from_slice(&chunk[..n]);
    }
    let mut rewritten: Vec<&str> = head
        .trim_end()
        .lines()
        .filter(|line| !line.to_ascii_lowercase().starts_with("connection:"))
        .collect();
    rewritten.push("Connection: close");
    Ok(Some((rewritten.join("\r\n") + "\r\n\r\n", body)))
}

async fn serve(
    mut client: TcpStream,
    upstream: &str,
    faults: Faults,
    counters: Counters<'_>,
    rng: &std::sync::Mutex<fastrand::Rng>,
) -> std::io::Result<()> {
    let Counters {
        failed,
        stalled,
        puts,
        parts,
    } = counters;
    let Some((head, body)) = read_request(&mut client).await? else {
        return Ok(());
    };
    if head.starts_with("PUT ") {
        if head
            .lines()
            .next()
            .is_some_and(|line| line.contains("partNumber="))
        {
            parts.fetch_add(1, Ordering::SeqCst);
        }
        let n = puts.fetch_add(1, Ordering::SeqCst);
        if n >= 3 && stalled.load(Ordering::SeqCst) < faults.stalls {
            stalled.fetch_add(1, Ordering::SeqCst);
            tokio::time::sleep(Duration::from_secs(20)).await;
            return Ok(());
        }
        let roll = rng.lock().map(|mut r| r.f64()).unwrap_or(1.0);
        if roll < faults.failure_share {
            failed.fetch_add(1, Ordering::SeqCst);
            let (status, code) = if roll < faults.failure_share / 2.0 {
                ("503 Slow Down", "SlowDown")
            } else {
                ("500 Internal Server Error", "InternalError")
            };
            let xml = format!("<Error><Code>{code}</Code><Message>injected</Message></Error>");
            let response = format!(
                "HTTP/1.1 {status}\r\nContent-Type: application/xml\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{xml}",
                xml.len()
            );
            client.write_all(response.as_bytes()).await?;
            return client.shutdown().await;
        }
    }
    let mut server = TcpStream::connect(upstream).await?;
    server.write_all(head.as_bytes()).await?;
    server.write_all(&body).await?;
    let mut response = Vec::new();
    server.read_to_end(&mut response).await?;
    client.write_all(&response).await?;
    client.shutdown().await
}

//! The agent's routes: `POST /v1/events` (the events of a body judged and handed to the
//! producer without waiting for room: a full buffer is `429`), `GET /healthz`, `GET /metrics`
//! (Prometheus text: the producer's metrics and the agent's), each but `/healthz` behind the
//! bearer token when one is set.

use std::convert::Infallible;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::header::{HeaderValue, ALLOW, AUTHORIZATION, CONTENT_TYPE, RETRY_AFTER};
use hyper::{Method, Request, Response, StatusCode};
use metrics_exporter_prometheus::PrometheusHandle;
use ocsf_firehose_producer::{Delivery, Judged, Producer, SendError, TrySendError};
use ocsf_firehose_transform::{Code, Finding, Severity};
use serde_json::json;

use super::answer::{Answer, Status, RETRY_BUFFER_FULL, RETRY_STOPPING};
use super::body::{self, BodyError};
use crate::summary::{count, finding_codes, ByCode};

/// Counter (label `status`: the HTTP status): requests answered.
pub(crate) const REQUESTS: &str = "ocsf_serve_requests";
/// Counter (label `status`: `accepted`, `rejected`, `retry`…): events of `POST /v1/events`.
pub(crate) const EVENTS: &str = "ocsf_serve_events";

/// How the agent answers.
pub(crate) struct Limits {
    /// The Lambda's record limit, each event's.
    pub max_record_bytes: usize,
    /// A body's limit, raw and inflated.
    pub max_body_bytes: usize,
    /// `Retry-After` of a `429`/`503`, in seconds.
    pub retry_after: u64,
    /// Once some events of a request are taken, how long the rest may wait for room in the
    /// buffer (a request is answered `429` whole when its first event finds none).
    pub wait_for_room: std::time::Duration,
}

/// What the agent took, for its summary: every event of every request counted once.
#[derive(Debug, Default, Clone)]
pub(crate) struct Tally {
    pub requests: u64,
    pub events: u64,
    pub accepted: u64,
    pub rejected_events: u64,
    pub rejected: ByCode,
    /// Events answered `retry`: not taken.
    pub retry: u64,
    /// Accepted events that failed while their request waited (`?wait=delivered`), by code:
    /// their answer said so, and the producer's report does not hold them.
    pub failed_answered: ByCode,
}

/// The agent: the producer, its limits and its state.
pub(crate) struct Agent {
    pub producer: Producer,
    limits: Limits,
    token: Option<String>,
    /// Bodies read and judged at once (memory: this many bodies at most).
    bodies: tokio::sync::Semaphore,
    prometheus: PrometheusHandle,
    stopping: AtomicBool,
    requests: AtomicU64,
    tally: Mutex<Tally>,
}

type Reply = Response<Full<Bytes>>;

impl Agent {
    /// An agent for `producer`.
    pub(crate) fn new(
        producer: Producer,
        limits: Limits,
        token: Option<String>,
        max_requests: usize,
        prometheus: PrometheusHandle,
    ) -> Self {
        Agent {
            producer,
            limits,
            token: token.filter(|t| !t.is_empty()),
            bodies: tokio::sync::Semaphore::new(max_requests.max(1)),
            prometheus,
            stopping: AtomicBool::new(false),
            requests: AtomicU64::new(0),
            tally: Mutex::default(),
        }
    }

    /// From now on, events are answered `retry` (`503`) and `/healthz` is `503`.
    pub(crate) fn stop(&self) {
        self.stopping.store(true, Ordering::SeqCst);
    }

    fn stopping(&self) -> bool {
        self.stopping.load(Ordering::SeqCst)
    }

    /// What the agent took so far.
    pub(crate) fn tally(&self) -> Tally {
        let mut tally = self.tally.lock().map(|t| t.clone()).unwrap_or_default();
        tally.requests = self.requests.load(Ordering::Relaxed);
        tally
    }

    /// Answers one request.
    pub(crate) async fn handle(
        self: &Arc<Self>,
        request: Request<Incoming>,
    ) -> Result<Reply, Infallible> {
        self.requests.fetch_add(1, Ordering::Relaxed);
        let path = request.uri().path();
        let reply = match (request.method(), path) {
            (&Method::GET, "/healthz") if self.stopping() => reply_json(
                StatusCode::SERVICE_UNAVAILABLE,
                &json!({"status": "stopping"}),
            ),
            (&Method::GET, "/healthz") => reply_json(StatusCode::OK, &json!({"status": "ok"})),
            (_, "/metrics" | "/v1/events") if !self.authorized(&request) => {
                let mut reply = error(
                    StatusCode::UNAUTHORIZED,
                    "unauthorized",
                    "a bearer token is required",
                );
                reply
                    .headers_mut()
                    .insert("www-authenticate", HeaderValue::from_static("Bearer"));
                reply
            }
            (&Method::GET, "/metrics") => {
                let mut reply = Response::new(Full::new(Bytes::from(self.prometheus.render())));
                reply.headers_mut().insert(
                    CONTENT_TYPE,
                    HeaderValue::from_static("text/plain; version=0.0.4"),
                );
                reply
            }
            (&Method::POST, "/v1/events") => self.ingest(request).await,
            (_, "/healthz" | "/metrics" | "/v1/events") => {
                let allow = if path == "/v1/events" { "POST" } else { "GET" };
                let mut reply = error(
                    StatusCode::METHOD_NOT_ALLOWED,
                    "method_not_allowed",
                    &format!("{path} takes {allow}"),
                );
                reply
                    .headers_mut()
                    .insert(ALLOW, HeaderValue::from_static(allow));
                reply
            }
            _ => error(
                StatusCode::NOT_FOUND,
                "not_found",
                "routes: POST /v1/events, GET /healthz, GET /metrics",
            ),
        };
        metrics::counter!(REQUESTS, "status" => reply.status().as_str().to_owned()).increment(1);
        Ok(reply)
    }

    /// Whether `request` carries the token (always, without one).
    fn authorized(&self, request: &Request<Incoming>) -> bool {
        let Some(token) = &self.token else {
            return true;
        };
        let given = request
            .headers()
            .get(AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .unwrap_or("");
        constant_time_eq(given.as_bytes(), token.as_bytes())
    }

    /// `POST /v1/events`.
    async fn ingest(self: &Arc<Self>, request: Request<Incoming>) -> Reply {
        if self.stopping() {
            return self.stopping_reply();
        }
        let wait = request
            .uri()
            .query()
            .is_some_and(|q| q.split('&').any(|pair| pair == "wait=delivered"));
        let (framing, gzip) = match body::framing(request.headers()) {
            Ok(framing) => framing,
            Err(error) => return body_error(&error),
        };
        let Ok(_permit) = self.bodies.acquire().await else {
            return self.stopping_reply();
        };
        let (parts, incoming) = request.into_parts();
        let bytes =
            match body::read(&parts.headers, incoming, gzip, self.limits.max_body_bytes).await {
                Ok(bytes) => bytes,
                Err(error) => return body_error(&error),
            };
        // Parsing and judging are CPU work (tens of milliseconds for a large body): on the
        // blocking pool, not on the threads that serve the other connections.
        let agent = Arc::clone(self);
        let Ok(judged) = tokio::task::spawn_blocking(move || agent.judge(bytes, framing)).await
        else {
            return error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "the request's events could not be judged",
            );
        };
        let (mut answer, pending) = self.take(judged, wait).await;
        for (index, delivery) in pending {
            let status = match delivery.outcome().await {
                Ok(()) => Status::Delivered,
                Err(failure) => Status::failed(&failure),
            };
            answer.resolve(index, status);
        }
        self.count(&answer);
        for event in &answer.events {
            metrics::counter!(EVENTS, "status" => event.status.name()).increment(1);
        }
        let (status, retry_after) = answer.http_status(self.limits.retry_after);
        let mut reply = reply_json(
            StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            &answer,
        );
        if let Some(seconds) = retry_after {
            reply.headers_mut().insert(RETRY_AFTER, seconds.into());
        }
        reply
    }

    /// The events of a body, each judged by the producer (the Lambda's verdict, the encoding),
    /// or the status of one that cannot be sent (rejected).
    fn judge(&self, body: Vec<u8>, framing: body::Framing) -> Vec<Result<Judged, Status>> {
        body::events(body, framing, self.limits.max_record_bytes)
            .map(|event| {
                let event = event.map_err(|finding| Status::Rejected {
                    findings: vec![finding],
                })?;
                self.producer
                    .judge_value(event)
                    .map_err(|error| refused(error, &mut None))
            })
            .collect()
    }

    /// Hands the judged events to the producer, in order, while it has room: the first only
    /// if there is room now (so that a `429` taking nothing can be sent again whole), the others
    /// waiting for room a moment. The answer, and the deliveries of the accepted events (when
    /// the request waits for them).
    async fn take(
        &self,
        events: Vec<Result<Judged, Status>>,
        wait: bool,
    ) -> (Answer, Vec<(usize, Delivery)>) {
        let mut answer = Answer::default();
        let mut pending = Vec::new();
        let mut not_taken: Option<&'static str> = None;
        for event in events {
            let index = answer.events.len();
            if not_taken.is_none() && self.stopping() {
                not_taken = Some(RETRY_STOPPING);
            }
            let status = match (event, not_taken) {
                // Judged even when it would not be taken: a client resending it learns now.
                (Err(status), _) => status,
                (Ok(_), Some(reason)) => Status::Retry { reason },
                (Ok(event), None) => match self.offer(event, answer.accepted > 0).await {
                    Ok(delivery) => {
                        if wait {
                            pending.push((index, delivery));
                        }
                        Status::Accepted
                    }
                    Err(TrySendError::Full(_)) => {
                        not_taken = Some(RETRY_BUFFER_FULL);
                        Status::Retry {
                            reason: RETRY_BUFFER_FULL,
                        }
                    }
                    Err(TrySendError::Send(error)) => refused(error, &mut not_taken),
                },
            };
            answer.push(status);
        }
        (answer, pending)
    }

    /// Offers `event` to the producer: with room now, or (`patient`) within the wait.
    async fn offer(&self, event: Judged, patient: bool) -> Result<Delivery, TrySendError> {
        if patient {
            self.producer
                .send_judged_within(event, self.limits.wait_for_room)
                .await
        } else {
            self.producer.try_send_judged(event)
        }
    }

    fn count(&self, answer: &Answer) {
        let Ok(mut tally) = self.tally.lock() else {
            return;
        };
        tally.events += answer.events.len() as u64;
        tally.accepted += (answer.accepted + answer.delivered + answer.failed) as u64;
        tally.retry += answer.retry as u64;
        for event in &answer.events {
            match &event.status {
                Status::Rejected { findings } => {
                    tally.rejected_events += 1;
                    for code in finding_codes(findings) {
                        count(&mut tally.rejected, &code);
                    }
                }
                Status::Failed { code, .. } => count(&mut tally.failed_answered, code),
                _ => {}
            }
        }
    }

    /// The `503` of a request the stopping agent takes nothing of.
    fn stopping_reply(&self) -> Reply {
        let mut reply = error(
            StatusCode::SERVICE_UNAVAILABLE,
            RETRY_STOPPING,
            "no event of the request was taken: send it again later",
        );
        reply
            .headers_mut()
            .insert(RETRY_AFTER, self.limits.retry_after.into());
        reply
    }
}

/// The status of an event the producer refused: rejected with the verdict's findings (or the
/// encoding's code), or not taken when the producer or its spool cannot take any more (or,
/// never for the agent's own producer, the event was judged by another).
fn refused(error: SendError, not_taken: &mut Option<&'static str>) -> Status {
    match error {
        SendError::Invalid(findings) => Status::Rejected { findings },
        SendError::Encode(error) => Status::Rejected {
            findings: vec![Finding {
                code: error.code().parse().unwrap_or(Code::JsonInvalid),
                severity: Severity::Error,
                path: String::new(),
                message: error.to_string(),
            }],
        },
        SendError::Closed | SendError::Spool(_) | SendError::JudgedElsewhere => {
            *not_taken = Some(RETRY_STOPPING);
            Status::Retry {
                reason: RETRY_STOPPING,
            }
        }
    }
}

fn body_error(refused: &BodyError) -> Reply {
    let status = match refused {
        BodyError::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
        BodyError::Unsupported(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
        BodyError::Unreadable(_) => StatusCode::BAD_REQUEST,
    };
    error(status, refused.code(), &refused.to_string())
}

fn error(status: StatusCode, code: &str, message: &str) -> Reply {
    reply_json(status, &json!({"error": code, "message": message}))
}

fn reply_json(status: StatusCode, body: &impl serde::Serialize) -> Reply {
    let bytes = serde_json::to_vec(body).unwrap_or_default();
    let mut reply = Response::new(Full::new(Bytes::from(bytes)));
    *reply.status_mut() = status;
    reply
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    reply
}

/// Compares a token without a timing that tells how much of it matched.
fn constant_time_eq(given: &[u8], token: &[u8]) -> bool {
    given.len() == token.len()
        && given
            .iter()
            .zip(token)
            .fold(0u8, |diff, (a, b)| diff | (a ^ b))
            == 0
}

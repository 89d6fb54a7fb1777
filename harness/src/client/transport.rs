//! Sends an encoded request and reads the whole response, under a deadline.

use std::time::{Duration, Instant};

use std::sync::{Arc, Mutex};

use futures_util::StreamExt;

use super::limits::{Exceeded, Limits, guard};

use crate::dialect::stream::{StreamEnd, TimedFrame, read_frames};
use crate::dialect::{DialectKind, WireRequest};

/// A response read in full.
#[derive(Debug)]
pub(crate) struct RawResponse {
    /// HTTP status.
    pub status: u16,
    /// Headers, names lowercase.
    pub headers: Vec<(String, String)>,
    /// The body (empty when it was read as a stream).
    pub body: Vec<u8>,
    /// A 2xx streamed body, framed as it arrived, with how it ended.
    pub stream: Option<(Vec<TimedFrame>, StreamEnd)>,
}

/// Why no response was read.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub(crate) enum TransportError {
    /// The deadline passed first.
    #[error("timed out after {} ms", .0.as_millis())]
    Timeout(Duration),
    /// Connecting failed, or the connection broke before the response was read: one line
    /// naming the likely cause and the peer (`connection refused (127.0.0.1:9)`).
    #[error("{0}")]
    Connection(String),
    /// The client's circuit breaker was open: the request never left the client.
    #[error("circuit open: failed fast without sending")]
    CircuitOpen,
    /// The reply went past one of the target's limits (body, stream events, line length):
    /// reading stopped there, and the message names the limit.
    #[error("{0}")]
    Limit(String),
}

/// A request as the transport sent it, minus the key's value: the auth header is named, never
/// shown, so nothing downstream of a tap can leak it.
#[derive(Debug)]
pub(crate) struct Sent<'a> {
    /// The full URL (base URL and path).
    pub url: &'a str,
    /// HTTP method.
    pub method: &'a str,
    /// The headers provcheck set, auth excluded.
    pub headers: &'a [(&'static str, String)],
    /// The name of the auth header, when one was sent.
    pub auth_header: Option<&'a str>,
    /// The JSON body (`Null` for none, and for a raw body that is not the encoded one).
    pub body: &'a serde_json::Value,
}

/// Sees every attempt a tapped transport makes, once its response is read or it failed.
/// Live trials count requests against the run's budget with it, and record mode keeps the
/// raw exchanges (frames and their timing included) without the decode path knowing.
pub(crate) trait Tap: Send + Sync {
    /// Called once per attempt, retries included.
    fn attempt(&self, sent: &Sent<'_>, result: &Result<RawResponse, TransportError>);
}

/// The client: one reqwest client shared by every trial (connection pool included).
#[derive(Clone)]
pub(crate) struct Transport {
    client: reqwest::Client,
    tap: Option<std::sync::Arc<dyn Tap>>,
    limits: Limits,
}

impl Transport {
    /// Builds the shared client. It must be created inside the runtime that uses it.
    pub(crate) fn new() -> Transport {
        let client = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(5))
            .user_agent(concat!("provcheck/", env!("CARGO_PKG_VERSION")))
            .build()
            .unwrap_or_else(|_| reqwest::Client::new());
        Transport {
            client,
            tap: None,
            limits: Limits::default(),
        }
    }

    /// The same client (and connection pool) reading replies under `limits`.
    pub(crate) fn with_limits(&self, limits: Limits) -> Transport {
        Transport {
            limits,
            ..self.clone()
        }
    }

    /// The same client (and connection pool) with `tap` seeing every attempt.
    pub(crate) fn with_tap(&self, tap: std::sync::Arc<dyn Tap>) -> Transport {
        Transport {
            client: self.client.clone(),
            tap: Some(tap),
            limits: self.limits,
        }
    }

    /// Sends `wire` to `base_url` (plus the dialect's path) with an optional auth header, and
    /// reads the whole body before `timeout` expires. With `stream` set, a 2xx body is read
    /// frame by frame in that dialect's framing, each frame timed as it arrives; a cut
    /// connection mid-stream is kept as the stream's end, not turned into an error, so the
    /// dialect can judge what arrived.
    pub(crate) async fn send(
        &self,
        base_url: &str,
        wire: &WireRequest,
        auth: Option<(&str, &str)>,
        timeout: Duration,
        stream: Option<DialectKind>,
    ) -> Result<RawResponse, TransportError> {
        let started = Instant::now();
        let url = format!("{}{}", base_url.trim_end_matches('/'), wire.path);
        let method =
            reqwest::Method::from_bytes(wire.method.as_bytes()).unwrap_or(reqwest::Method::POST);
        let mut rb = self.client.request(method, &url);
        for (k, v) in &wire.headers {
            rb = rb.header(*k, v);
        }
        if let Some((k, v)) = auth {
            rb = rb.header(k, v);
        }
        if let Some(bytes) = wire.body_bytes() {
            rb = rb.body(bytes);
        }
        let peer = Peer::of(&url);
        let fut = async {
            let resp = rb
                .send()
                .await
                .map_err(|e| TransportError::Connection(Unreached::of(&e, &peer).message))?;
            let status = resp.status().as_u16();
            let headers = resp
                .headers()
                .iter()
                .map(|(k, v)| {
                    (
                        k.as_str().to_string(),
                        String::from_utf8_lossy(v.as_bytes()).into_owned(),
                    )
                })
                .collect();
            if let Some(dialect) = stream
                && (200..300).contains(&status)
            {
                let body = resp
                    .bytes_stream()
                    .map(|r| r.map_err(|e| Unreached::of(&e, &peer).message));
                let tripped = Arc::new(Mutex::new(None));
                let body = guard(body, dialect, self.limits, tripped.clone());
                let framed = read_frames(dialect, Box::pin(body), started).await;
                if let Some(hit) = *tripped.lock().unwrap_or_else(|p| p.into_inner()) {
                    return Err(TransportError::Limit(hit.to_string()));
                }
                return Ok(RawResponse {
                    status,
                    headers,
                    body: Vec::new(),
                    stream: Some(framed),
                });
            }
            let body = read_body(resp, self.limits.max_body_bytes, &peer).await?;
            Ok(RawResponse {
                status,
                headers,
                body,
                stream: None,
            })
        };
        let result = match tokio::time::timeout(timeout, fut).await {
            Ok(r) => r,
            Err(_) => Err(TransportError::Timeout(timeout)),
        };
        if let Some(tap) = &self.tap {
            let sent = Sent {
                url: &url,
                method: wire.method,
                headers: &wire.headers,
                auth_header: auth.map(|(k, _)| k),
                body: if wire.raw_body.is_some() {
                    &serde_json::Value::Null
                } else {
                    &wire.body
                },
            };
            tap.attempt(&sent, &result);
        }
        result
    }
}

/// Reads a whole body, never holding more than `max` bytes: a declared length past it is
/// refused before reading, and an undeclared one is cut when it passes.
async fn read_body(
    mut resp: reqwest::Response,
    max: u64,
    peer: &Peer,
) -> Result<Vec<u8>, TransportError> {
    let over = || TransportError::Limit(Exceeded::Body(max).to_string());
    if resp.content_length().is_some_and(|n| n > max) {
        return Err(over());
    }
    let mut body = Vec::with_capacity(resp.content_length().unwrap_or(0) as usize);
    while let Some(chunk) = resp
        .chunk()
        .await
        .map_err(|e| TransportError::Connection(Unreached::of(&e, peer).message))?
    {
        if (body.len() + chunk.len()) as u64 > max {
            return Err(over());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

impl Transport {
    /// A reachability check: sends a GET to `url` with `headers` and returns the response's
    /// status, before `timeout`. The body is never read, and no tap sees the request: it is
    /// not a trial's.
    pub(crate) async fn probe(
        &self,
        url: &str,
        headers: &[(&'static str, String)],
        timeout: Duration,
    ) -> Result<u16, Unreached> {
        let peer = Peer::of(url);
        let mut rb = self.client.get(url);
        for (k, v) in headers {
            rb = rb.header(*k, v);
        }
        match tokio::time::timeout(timeout, rb.send()).await {
            Ok(Ok(resp)) => Ok(resp.status().as_u16()),
            Ok(Err(e)) => Err(Unreached::of(&e, &peer)),
            Err(_) => Err(Unreached {
                cause: Cause::Timeout,
                message: format!(
                    "no answer within {} ms ({})",
                    timeout.as_millis(),
                    peer.authority
                ),
            }),
        }
    }
}

impl Default for Transport {
    fn default() -> Self {
        Transport::new()
    }
}

/// Where a request went, as messages may name it: scheme, host and port only (a URL's path or
/// query may carry a secret).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Peer {
    /// `https`, `http`.
    pub scheme: String,
    /// `host:port` (the port the scheme implies when the URL gives none).
    pub authority: String,
    /// The host alone.
    pub host: String,
}

impl Peer {
    /// The peer of `url`; an unparseable URL gives an empty peer.
    pub(crate) fn of(url: &str) -> Peer {
        let Ok(u) = reqwest::Url::parse(url) else {
            return Peer {
                scheme: String::new(),
                authority: String::new(),
                host: String::new(),
            };
        };
        let host = u.host_str().unwrap_or_default().to_string();
        let authority = match u.port_or_known_default() {
            Some(p) => format!("{host}:{p}"),
            None => host.clone(),
        };
        Peer {
            scheme: u.scheme().to_string(),
            authority,
            host,
        }
    }
}

/// Why no connection carried the request, by likely cause: what a person fixes differs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Cause {
    /// Nothing listens there (the server is down, or the port is wrong).
    Refused,
    /// The host name does not resolve.
    Dns,
    /// The TLS handshake failed (a plain-HTTP server behind an `https://` URL, a bad
    /// certificate).
    Tls,
    /// The deadline passed first.
    Timeout,
    /// The peer reset or closed the connection.
    Reset,
    /// Anything else.
    Other,
}

/// A request that got no response: its likely cause and one line saying so.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Unreached {
    /// The likely cause.
    pub cause: Cause,
    /// One line: the cause, the peer, and the innermost error's words where they add to it.
    pub message: String,
}

impl Unreached {
    /// Classifies a reqwest error. reqwest's Display stops at the outermost error ("error
    /// sending request") and its chain nests three or four causes deep; what helps is the
    /// innermost one, named by kind.
    pub(crate) fn of(e: &reqwest::Error, peer: &Peer) -> Unreached {
        // Built from the causes below reqwest's own error and from the peer, never from the
        // URL, which may carry a secret in its query.
        let chain = causes(e);
        let innermost = chain.last().cloned().unwrap_or_default();
        let io_kind = io_kind(e);
        let at = &peer.authority;
        let (cause, message) = if e.is_timeout() || io_kind == Some(std::io::ErrorKind::TimedOut) {
            (Cause::Timeout, format!("timed out ({at})"))
        } else if io_kind == Some(std::io::ErrorKind::ConnectionRefused) {
            (Cause::Refused, format!("connection refused ({at})"))
        } else if chain.iter().any(|c| c.starts_with("dns error")) {
            (
                Cause::Dns,
                format!("DNS lookup failed for {}: {innermost}", peer.host),
            )
        } else if matches!(
            io_kind,
            Some(
                std::io::ErrorKind::ConnectionReset
                    | std::io::ErrorKind::ConnectionAborted
                    | std::io::ErrorKind::BrokenPipe
                    | std::io::ErrorKind::UnexpectedEof
            )
        ) {
            (Cause::Reset, format!("connection reset ({at})"))
        } else if e.is_connect() && peer.scheme == "https" {
            // Refusal, DNS and timeouts are out: what is left of an https connect is the
            // handshake (rustls reports a plain-HTTP answer as a corrupt message).
            (
                Cause::Tls,
                format!("TLS handshake failed ({at}): {innermost}"),
            )
        } else if e.is_body() || e.is_decode() {
            (
                Cause::Reset,
                format!("connection broke while reading the body ({at}): {innermost}"),
            )
        } else {
            (Cause::Other, format!("{innermost} ({at})"))
        };
        Unreached {
            cause,
            message: one_line(&message),
        }
    }
}

/// The Display of every error below `e`, outermost first.
fn causes(e: &dyn std::error::Error) -> Vec<String> {
    let mut out = Vec::new();
    let mut src = e.source();
    while let Some(c) = src {
        out.push(c.to_string());
        src = c.source();
    }
    out
}

/// The kind of the first I/O error in `e`'s chain.
fn io_kind<'a>(e: &'a (dyn std::error::Error + 'static)) -> Option<std::io::ErrorKind> {
    let mut src: Option<&'a (dyn std::error::Error + 'static)> = Some(e);
    while let Some(c) = src {
        if let Some(io) = c.downcast_ref::<std::io::Error>() {
            return Some(io.kind());
        }
        src = c.source();
    }
    None
}

/// Newlines and runs of spaces folded, so a message is one line in every report.
fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

//! Sends an encoded request and reads the whole response, under a deadline.

use std::time::{Duration, Instant};

use futures_util::StreamExt;

use crate::dialect::stream::{StreamEnd, TimedFrame, read_frames};
use crate::dialect::{DialectKind, WireRequest};

/// A response read in full.
#[derive(Debug)]
pub struct RawResponse {
    /// HTTP status.
    pub status: u16,
    /// Headers, names lowercase.
    pub headers: Vec<(String, String)>,
    /// The body (empty when it was read as a stream).
    pub body: Vec<u8>,
    /// A 2xx streamed body, framed as it arrived, with how it ended.
    pub stream: Option<(Vec<TimedFrame>, StreamEnd)>,
    /// From send to the last body byte.
    pub elapsed: Duration,
}

/// Why no response was read.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum TransportError {
    /// The deadline passed first.
    #[error("timed out after {} ms", .0.as_millis())]
    Timeout(Duration),
    /// Connecting failed, or the connection broke before the response was read.
    #[error("connection failed: {0}")]
    Connection(String),
    /// The client's circuit breaker was open: the request never left the client.
    #[error("circuit open: failed fast without sending")]
    CircuitOpen,
}

/// A request as the transport sent it, minus the key's value: the auth header is named, never
/// shown, so nothing downstream of a tap can leak it.
#[derive(Debug)]
pub struct Sent<'a> {
    /// The full URL (base URL and path).
    pub url: &'a str,
    /// HTTP method.
    pub method: &'a str,
    /// The headers provcheck set, auth excluded.
    pub headers: &'a [(&'static str, String)],
    /// The name of the auth header, when one was sent.
    pub auth_header: Option<&'a str>,
    /// The JSON body (`Null` for none).
    pub body: &'a serde_json::Value,
}

/// Sees every attempt a tapped transport makes, once its response is read or it failed.
/// Live trials count requests against the run's budget with it, and record mode keeps the
/// raw exchanges (frames and their timing included) without the decode path knowing.
pub trait Tap: Send + Sync {
    /// Called once per attempt, retries included.
    fn attempt(&self, sent: &Sent<'_>, result: &Result<RawResponse, TransportError>);
}

/// The client: one reqwest client shared by every trial (connection pool included).
#[derive(Clone)]
pub struct Transport {
    client: reqwest::Client,
    tap: Option<std::sync::Arc<dyn Tap>>,
}

impl Transport {
    /// Builds the shared client. It must be created inside the runtime that uses it.
    pub fn new() -> Transport {
        let client = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(5))
            .user_agent(concat!("provcheck/", env!("CARGO_PKG_VERSION")))
            .build()
            .unwrap_or_else(|_| reqwest::Client::new());
        Transport { client, tap: None }
    }

    /// The same client (and connection pool) with `tap` seeing every attempt.
    pub fn with_tap(&self, tap: std::sync::Arc<dyn Tap>) -> Transport {
        Transport {
            client: self.client.clone(),
            tap: Some(tap),
        }
    }

    /// Sends `wire` to `base_url` (plus the dialect's path) with an optional auth header, and
    /// reads the whole body before `timeout` expires. With `stream` set, a 2xx body is read
    /// frame by frame in that dialect's framing, each frame timed as it arrives; a cut
    /// connection mid-stream is kept as the stream's end, not turned into an error, so the
    /// dialect can judge what arrived.
    pub async fn send(
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
        if !wire.body.is_null() {
            rb = rb.body(serde_json::to_vec(&wire.body).unwrap_or_default());
        }
        let fut = async {
            let resp = rb
                .send()
                .await
                .map_err(|e| TransportError::Connection(error_chain(&e.without_url())))?;
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
                    .map(|r| r.map_err(|e| error_chain(&e.without_url())));
                let framed = read_frames(dialect, Box::pin(body), started).await;
                return Ok(RawResponse {
                    status,
                    headers,
                    body: Vec::new(),
                    stream: Some(framed),
                    elapsed: started.elapsed(),
                });
            }
            let body = resp
                .bytes()
                .await
                .map_err(|e| TransportError::Connection(error_chain(&e.without_url())))?;
            Ok(RawResponse {
                status,
                headers,
                body: body.to_vec(),
                stream: None,
                elapsed: started.elapsed(),
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
                body: &wire.body,
            };
            tap.attempt(&sent, &result);
        }
        result
    }
}

impl Default for Transport {
    fn default() -> Self {
        Transport::new()
    }
}

/// reqwest's Display stops at the outermost error; the cause is what helps. URLs are stripped
/// first (`without_url`): a base URL may carry a secret in its query string.
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut src = e.source();
    while let Some(c) = src {
        s.push_str(": ");
        s.push_str(&c.to_string());
        src = c.source();
    }
    s
}

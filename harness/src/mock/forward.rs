//! Faults in front of a live provider: in live and record modes, a fault script's `recorded`
//! steps are answered by the target itself. The mock forwards the request it received to the
//! target's real base URL with the real key, reads the whole reply, and serves it to the client
//! as it would serve a recorded one, so the script's faults (a delay, a cut, an error event,
//! broken tool arguments) apply to the target's own reply. The failing attempts never leave
//! the mock: real APIs can't be made to fail on cue.
//!
//! The key exists only in [`Upstream::auth`] and in the forwarded request's header: the
//! transport hands its taps the header's name, never its value, so nothing recorded or
//! reported can carry it.

use std::time::Duration;

use serde_json::Value;

use crate::client::{RawResponse, Transport, TransportError};
use crate::dialect::{DialectKind, WireOp, WireRequest};
use crate::record::format::RecordedResponse;
use crate::record::recorder::{self, CapturedResponse};

/// Where a trial's `recorded` steps go in live and record modes: the target's real API.
#[derive(Clone)]
pub(crate) struct Upstream {
    /// The target's base URL, as in targets.yaml (`https://api.openai.com/v1`).
    pub(crate) base_url: String,
    /// The target's auth header and its value (with the real key), if it takes one.
    pub(crate) auth: Option<(&'static str, String)>,
    /// The transport forwarded requests go through; a tapped one counts them against the
    /// run's budget and, in record mode, keeps them for the recording.
    pub(crate) transport: Transport,
    /// The deadline of one forwarded request.
    pub(crate) timeout: Duration,
}

impl std::fmt::Debug for Upstream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The key stays out of every debug print.
        f.debug_struct("Upstream")
            .field("base_url", &self.base_url)
            .field("auth", &self.auth.as_ref().map(|(k, _)| *k))
            .finish()
    }
}

/// Request headers passed on to the target: the ones the dialects define. Hop-by-hop headers,
/// the client's placeholder key and provcheck's own retry counter (which would make a
/// recording of the forwarded attempts match only one attempt) stay behind.
const FORWARDED_HEADERS: &[&str] = &[
    "content-type",
    "accept",
    "anthropic-version",
    "anthropic-beta",
    "openai-organization",
    "openai-project",
];

/// A request as the mock received it, to forward.
pub(crate) struct Received<'a> {
    /// HTTP method.
    pub method: &'a str,
    /// The path as the client sent it to the mock, base path included (`/v1/chat/completions`).
    pub path_and_query: &'a str,
    /// Its headers.
    pub headers: &'a [(String, String)],
    /// Its body (empty for none).
    pub body: &'a [u8],
}

/// The target's reply to a forwarded request, as a recorded response and its body bytes, or
/// why there is none.
pub(crate) async fn forward(
    up: &Upstream,
    dialect: DialectKind,
    req: &Received<'_>,
) -> Result<(RecordedResponse, Vec<u8>), TransportError> {
    // A body that is not JSON (a deliberately invalid request) goes on byte for byte.
    let (body, raw_body) = match serde_json::from_slice::<Value>(req.body) {
        Ok(v) => (v, None),
        Err(_) if req.body.is_empty() => (Value::Null, None),
        Err(_) => (
            Value::Null,
            Some(String::from_utf8_lossy(req.body).into_owned()),
        ),
    };
    let stream = streamed(dialect, req.path_and_query, &body).then_some(dialect);
    let wire = WireRequest {
        method: static_method(req.method),
        // The whole URL is the base: a received path is not one of the dialects' static ones.
        path: "",
        headers: req
            .headers
            .iter()
            .filter_map(|(k, v)| {
                let name = FORWARDED_HEADERS
                    .iter()
                    .find(|h| h.eq_ignore_ascii_case(k))?;
                Some((*name, v.clone()))
            })
            .collect(),
        body,
        op: WireOp::Chat,
        raw_body,
    };
    let url = target_url(&up.base_url, req.path_and_query);
    let auth = up.auth.as_ref().map(|(k, v)| (*k, v.as_str()));
    let raw = up
        .transport
        .send(&url, &wire, auth, up.timeout, stream)
        .await?;
    Ok(as_recorded(&raw, dialect))
}

/// Whether the target will stream its reply: `stream: true` in OpenAI and Anthropic; in
/// Ollama's chat, generate and pull unless `stream: false`.
fn streamed(dialect: DialectKind, path: &str, body: &Value) -> bool {
    match (dialect, body.get("stream")) {
        (_, Some(Value::Bool(b))) => *b,
        (DialectKind::Ollama, None) => ["/api/chat", "/api/generate", "/api/pull"]
            .iter()
            .any(|p| path.starts_with(p) || path.contains(&format!("{p}?"))),
        _ => false,
    }
}

fn static_method(m: &str) -> &'static str {
    match m.to_ascii_uppercase().as_str() {
        "GET" => "GET",
        "DELETE" => "DELETE",
        "PUT" => "PUT",
        "HEAD" => "HEAD",
        _ => "POST",
    }
}

/// The target URL for a path the client sent to the mock. The client kept the target's base
/// path (`/v1`) when it aimed at the mock, so the path is joined to the base URL's origin.
fn target_url(base_url: &str, path_and_query: &str) -> String {
    let base = base_url.trim_end_matches('/');
    let after_scheme = base.find("://").map_or(0, |i| i + 3);
    let origin = match base[after_scheme..].find('/') {
        Some(i) => &base[..after_scheme + i],
        None => base,
    };
    format!("{origin}{path_and_query}")
}

/// The target's reply in the form the mock serves recordings in (nothing redacted: it goes
/// back to the client, not into a file).
fn as_recorded(raw: &RawResponse, dialect: DialectKind) -> (RecordedResponse, Vec<u8>) {
    let captured = CapturedResponse {
        status: raw.status,
        headers: raw.headers.clone(),
        body: raw.body.clone(),
        stream: raw.stream.clone(),
    };
    let response = recorder::response(&captured, dialect, &Default::default());
    let body = match (&response.body, &response.body_text) {
        (Some(v), _) => serde_json::to_vec(v).unwrap_or_default(),
        (None, Some(t)) => t.clone().into_bytes(),
        (None, None) => Vec::new(),
    };
    (response, body)
}

/// The reply when the target could not be reached: a 502 in the dialect's error shape, which
/// the client treats as any gateway's 502 (retried as the SDKs retry 5xx).
pub(crate) fn unreachable_body(dialect: DialectKind, e: &TransportError) -> Value {
    let mut body = dialect.error_body(502);
    let message = format!("provcheck mock: forwarding to the target failed: {e}");
    match dialect {
        DialectKind::Ollama => body["error"] = Value::String(message),
        _ => body["error"]["message"] = Value::String(message),
    }
    body
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_path_joins_the_origin_of_the_base_url() {
        assert_eq!(
            target_url("https://api.openai.com/v1", "/v1/chat/completions"),
            "https://api.openai.com/v1/chat/completions"
        );
        assert_eq!(
            target_url("http://127.0.0.1:9/", "/api/chat"),
            "http://127.0.0.1:9/api/chat"
        );
        assert_eq!(
            target_url("http://h:1/proxy/v1", "/proxy/v1/messages?beta=true"),
            "http://h:1/proxy/v1/messages?beta=true"
        );
    }

    #[test]
    fn streaming_follows_each_dialect() {
        assert!(streamed(
            DialectKind::Openai,
            "/v1/chat/completions",
            &json!({"stream": true})
        ));
        assert!(!streamed(
            DialectKind::Openai,
            "/v1/chat/completions",
            &json!({})
        ));
        assert!(streamed(DialectKind::Ollama, "/api/chat", &json!({})));
        assert!(!streamed(
            DialectKind::Ollama,
            "/api/chat",
            &json!({"stream": false})
        ));
        assert!(!streamed(DialectKind::Ollama, "/api/tags", &Value::Null));
    }

    #[test]
    fn the_key_is_never_printed() {
        let up = Upstream {
            base_url: "http://h".into(),
            auth: Some(("x-api-key", "sk-secret-value".into())),
            transport: Transport::new(),
            timeout: Duration::from_secs(1),
        };
        let shown = format!("{up:?}");
        assert!(!shown.contains("sk-secret"), "{shown}");
        assert!(shown.contains("x-api-key"));
    }
}

//! Wire protocols. Each dialect encodes a [`ChatRequest`] into its request body, decodes a
//! response into a [`Reply`], and checks its own response contract on the way, recording each
//! breach in [`Reply::violations`] with the field it concerns. Dialects know nothing of suites.

pub mod anthropic;
mod json;
pub mod ollama;
pub mod openai;
pub mod stream;
mod tools;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::neutral::{ChatRequest, Reply, Request};

/// Which wire protocol a target speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DialectKind {
    /// OpenAI chat completions, and every OpenAI-compatible server.
    Openai,
    /// Anthropic messages.
    Anthropic,
    /// Ollama's native `/api/*`.
    Ollama,
}

impl DialectKind {
    /// The dialect's name as written in suites and targets.
    pub fn as_str(self) -> &'static str {
        match self {
            DialectKind::Openai => "openai",
            DialectKind::Anthropic => "anthropic",
            DialectKind::Ollama => "ollama",
        }
    }

    /// All dialects.
    pub const ALL: [DialectKind; 3] = [
        DialectKind::Openai,
        DialectKind::Anthropic,
        DialectKind::Ollama,
    ];

    /// Encodes a chat request.
    pub fn encode(self, req: &ChatRequest, opts: &WireOptions) -> WireRequest {
        match self {
            DialectKind::Openai => openai::encode(req, opts),
            DialectKind::Anthropic => anthropic::encode(req, opts),
            DialectKind::Ollama => ollama::encode(req, opts),
        }
    }

    /// Encodes any neutral request; only Ollama has the model-management endpoints.
    pub fn encode_request(self, req: &Request, opts: &WireOptions) -> Result<WireRequest, String> {
        match (self, req) {
            (_, Request::Chat(c)) => Ok(self.encode(c, opts)),
            (DialectKind::Ollama, other) => Ok(ollama::api::encode(other)),
            (d, _) => Err(format!(
                "the {} dialect has no model-management endpoints",
                d.as_str()
            )),
        }
    }

    /// Decodes a non-streamed reply to `op` and checks the contract for it.
    pub fn decode_op(
        self,
        op: WireOp,
        status: u16,
        headers: &[(String, String)],
        body: &[u8],
    ) -> Reply {
        match op {
            WireOp::Chat => self.decode(status, headers, body),
            other => ollama::api::decode(other, status, headers, body),
        }
    }

    /// Decodes a (non-streamed) reply and checks the dialect's contract on it.
    pub fn decode(self, status: u16, headers: &[(String, String)], body: &[u8]) -> Reply {
        let mut reply = Reply {
            status,
            headers: headers.to_vec(),
            ..Reply::default()
        };
        reply.raw = match serde_json::from_slice::<Value>(body) {
            Ok(v) => v,
            Err(e) => {
                let preview: String = String::from_utf8_lossy(body).chars().take(120).collect();
                reply
                    .violations
                    .push(format!("body is not JSON ({e}): {preview:?}"));
                return reply;
            }
        };
        match self {
            DialectKind::Openai => openai::decode(&mut reply, headers),
            DialectKind::Anthropic => anthropic::decode(&mut reply, headers),
            DialectKind::Ollama => ollama::decode(&mut reply, headers),
        }
        reply
    }

    /// The error body this dialect documents for `status` (provider-wire.md A5, B5, C4), so
    /// a fault script's 503 looks like the provider's own.
    pub fn error_body(self, status: u16) -> Value {
        match self {
            DialectKind::Openai => {
                let (kind, code, message) = match status {
                    401 => (
                        "invalid_request_error",
                        Some("invalid_api_key"),
                        "Incorrect API key provided.",
                    ),
                    403 => (
                        "invalid_request_error",
                        Some("unsupported_country_region_territory"),
                        "Country, region, or territory not supported",
                    ),
                    404 => (
                        "invalid_request_error",
                        Some("model_not_found"),
                        "The model does not exist or you do not have access to it.",
                    ),
                    429 => (
                        "requests",
                        Some("rate_limit_exceeded"),
                        "Rate limit reached for requests. Please try again later.",
                    ),
                    503 => (
                        "server_error",
                        None,
                        "The engine is currently overloaded, please try again later.",
                    ),
                    s if s >= 500 => (
                        "server_error",
                        None,
                        "The server had an error while processing your request. Sorry about that!",
                    ),
                    _ => ("invalid_request_error", None, "Invalid request."),
                };
                serde_json::json!({"error": {"message": message, "type": kind, "param": null, "code": code}})
            }
            DialectKind::Anthropic => {
                let (kind, message) = match status {
                    401 => ("authentication_error", "invalid x-api-key"),
                    403 => (
                        "permission_error",
                        "Your API key does not have permission to use the specified resource.",
                    ),
                    404 => (
                        "not_found_error",
                        "The requested resource could not be found.",
                    ),
                    413 => (
                        "request_too_large",
                        "Request exceeds the maximum allowed number of bytes.",
                    ),
                    429 => (
                        "rate_limit_error",
                        "Number of request tokens has exceeded your per-minute rate limit.",
                    ),
                    529 => ("overloaded_error", "Overloaded"),
                    s if s >= 500 => ("api_error", "Internal server error"),
                    _ => ("invalid_request_error", "Invalid request."),
                };
                serde_json::json!({"type": "error", "error": {"type": kind, "message": message}, "request_id": "req_provcheck_fault"})
            }
            DialectKind::Ollama => {
                let message = match status {
                    404 => "model not found, try pulling it first",
                    429 => "rate limit exceeded",
                    503 => "server busy, please try again.  maximum pending requests exceeded",
                    s if s >= 500 => "an error was encountered while running the model",
                    _ => "invalid request",
                };
                serde_json::json!({"error": message})
            }
        }
    }

    /// The header that carries the key, and its value for `key`.
    pub fn auth_header(self, key: &str) -> (&'static str, String) {
        match self {
            DialectKind::Anthropic => ("x-api-key", key.to_string()),
            DialectKind::Openai | DialectKind::Ollama => ("authorization", format!("Bearer {key}")),
        }
    }
}

/// Per-target choices that change the encoding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WireOptions {
    /// OpenAI: which field carries the token limit.
    pub token_param: TokenParam,
    /// Anthropic: the `anthropic-version` header.
    pub anthropic_version: String,
    /// Anthropic requires `max_tokens`; this is sent when a scenario gives none.
    pub default_max_tokens: u32,
}

impl Default for WireOptions {
    fn default() -> Self {
        WireOptions {
            token_param: TokenParam::MaxCompletionTokens,
            anthropic_version: "2023-06-01".to_string(),
            default_max_tokens: 1024,
        }
    }
}

/// OpenAI's two names for the token limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TokenParam {
    /// The current field (required by o-series and GPT-5 models).
    MaxCompletionTokens,
    /// The deprecated field most compatible servers still expect.
    MaxTokens,
}

/// An encoded request, before the base URL and the key are added.
#[derive(Debug, Clone, PartialEq)]
pub struct WireRequest {
    /// HTTP method.
    pub method: &'static str,
    /// Path relative to the target's base URL (`/chat/completions`, `/v1/messages`, ...).
    pub path: &'static str,
    /// Headers other than auth.
    pub headers: Vec<(&'static str, String)>,
    /// The JSON body (`Null` for a GET).
    pub body: Value,
    /// What the request calls, so the reply is decoded by the right rules.
    pub op: WireOp,
}

/// The endpoint a wire request calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WireOp {
    /// Chat completion.
    Chat,
    /// Ollama model pull (streamed progress).
    Pull,
    /// Ollama running models.
    ListRunning,
    /// Ollama local models.
    ListLocal,
    /// Ollama model details.
    Show,
    /// Ollama unload (a chat with no messages and keep_alive 0).
    Unload,
}

/// Finds a header (case-insensitive).
pub fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

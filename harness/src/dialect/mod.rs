//! Wire protocols. Each dialect encodes a [`ChatRequest`] into its request body, decodes a
//! response into a [`Reply`](crate::neutral::Reply), and checks its own response contract on
//! the way, recording each breach in `Reply::violations` with the field it concerns. Dialects
//! know nothing of suites.
//!
//! One folder per dialect (`openai/`, `anthropic/`, `ollama/`, `openai_responses/`), each holding its request
//! encoding, reply decoding, stream decoding and tool calling; a new dialect is a new folder
//! plus its arms in the dispatch here and in `decode.rs`. Shared below them: `wire.rs` (the
//! vocabulary), `json.rs` (contract-check helpers), `stream/` (SSE/NDJSON framing and the
//! stream accumulator) and `tools.rs`. The rest of the crate decodes through one entry point,
//! [`DialectKind::decode_response`].

mod anthropic;
mod decode;
mod json;
mod ollama;
mod openai;
mod openai_responses;
pub mod stream;
mod tools;
mod wire;

use serde_json::Value;

pub use decode::{Body, decode_stream};
pub(crate) use wire::WireOp;
pub use wire::{DialectKind, TokenParam, WireOptions};
pub(crate) use wire::{WireRequest, header};

use crate::neutral::{ChatRequest, Request};

impl DialectKind {
    /// Encodes a chat request.
    pub fn encode(self, req: &ChatRequest, opts: &WireOptions) -> WireRequest {
        match self {
            DialectKind::Openai => openai::encode(req, opts),
            DialectKind::Anthropic => anthropic::encode(req, opts),
            DialectKind::Ollama => ollama::encode(req, opts),
            DialectKind::OpenaiResponses => openai_responses::encode(req, opts),
        }
    }

    /// Encodes any neutral request; only Ollama has the model-management endpoints.
    pub fn encode_request(
        self,
        req: &Request,
        opts: &WireOptions,
    ) -> Result<WireRequest, NoModelManagement> {
        match (self, req) {
            (_, Request::Chat(c)) => Ok(self.encode(c, opts)),
            (DialectKind::Ollama, other) => Ok(ollama::api::encode(other)),
            (d, _) => Err(NoModelManagement(d)),
        }
    }

    /// The error body this dialect documents for `status` (provider-wire.md A5, B5, C4), so
    /// a fault script's 503 looks like the provider's own.
    pub fn error_body(self, status: u16) -> Value {
        match self {
            // The Responses API shares OpenAI's error envelope.
            DialectKind::Openai | DialectKind::OpenaiResponses => {
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
            DialectKind::Openai | DialectKind::Ollama | DialectKind::OpenaiResponses => {
                ("authorization", format!("Bearer {key}"))
            }
        }
    }
}

/// A model-management request for a dialect that has no such endpoints.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the {} dialect has no model-management endpoints", .0.as_str())]
pub struct NoModelManagement(pub DialectKind);

//! The vocabulary every dialect shares: which dialect, an encoded request, the options that
//! change an encoding. Below the dialects, so each of them imports it and nothing imports back.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Which wire protocol a target speaks.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Deserialize,
    Serialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum DialectKind {
    /// OpenAI chat completions, and every OpenAI-compatible server.
    Openai,
    /// Anthropic messages.
    Anthropic,
    /// Ollama's native `/api/*`.
    Ollama,
    /// OpenAI's Responses API (`POST /v1/responses`), also served by vLLM, llama.cpp and
    /// most gateways beside chat completions.
    #[serde(rename = "openai-responses")]
    OpenaiResponses,
}

impl DialectKind {
    /// The dialect's name as written in suites and targets.
    pub fn as_str(self) -> &'static str {
        match self {
            DialectKind::Openai => "openai",
            DialectKind::Anthropic => "anthropic",
            DialectKind::Ollama => "ollama",
            DialectKind::OpenaiResponses => "openai-responses",
        }
    }

    /// All dialects.
    pub const ALL: [DialectKind; 4] = [
        DialectKind::Openai,
        DialectKind::Anthropic,
        DialectKind::Ollama,
        DialectKind::OpenaiResponses,
    ];
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
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, schemars::JsonSchema)]
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
    /// A body sent byte for byte instead of `body` (a deliberately invalid one, such as a
    /// body that is not JSON).
    pub raw_body: Option<String>,
}

impl WireRequest {
    /// The request a scenario sends: the encoded body with its merge patch (RFC 7396)
    /// applied, or its raw body instead. `stream` in a patch still selects how the reply is
    /// read.
    pub fn customized(mut self, patch: Option<&Value>, raw_body: Option<&str>) -> WireRequest {
        if let Some(p) = patch {
            json_patch::merge(&mut self.body, p);
        }
        self.raw_body = raw_body.map(str::to_string);
        self
    }

    /// The bytes sent as the body (`None` for a GET with no body).
    pub fn body_bytes(&self) -> Option<Vec<u8>> {
        match &self.raw_body {
            Some(raw) => Some(raw.clone().into_bytes()),
            None if self.body.is_null() => None,
            None => Some(serde_json::to_vec(&self.body).unwrap_or_default()),
        }
    }
}

/// The endpoint a wire request calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WireOp {
    /// Chat completion (or a Responses API response).
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
    /// Ollama `/api/generate`, not streamed.
    Generate,
}

/// Finds a header (case-insensitive).
pub(crate) fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

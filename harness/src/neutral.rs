//! The provider-neutral vocabulary shared by dialects, the client and expectations.
//!
//! A [`ChatRequest`] is what a scenario asks for once its model alias has been resolved;
//! a [`Reply`] is what any dialect decodes a response into. Neither knows about suites.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// A chat request in provider-neutral form.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ChatRequest {
    /// The concrete model name (aliases are resolved before this point).
    pub model: String,
    /// System and conversation messages in order.
    pub messages: Vec<Message>,
    /// Upper bound on generated tokens.
    pub max_tokens: Option<u32>,
    /// Sampling temperature.
    pub temperature: Option<f64>,
    /// Requested output format.
    pub response_format: Option<ResponseFormat>,
    /// Ask for a streamed reply.
    pub stream: bool,
    /// Tools the model may call (none: a plain chat).
    pub tools: Vec<Tool>,
    /// Whether and which tool the model must call; `None` leaves the provider's default.
    pub tool_choice: Option<ToolChoice>,
    /// Allow (true) or forbid (false) several tool calls in one reply; `None` leaves the
    /// provider's default.
    pub parallel_tool_calls: Option<bool>,
    /// Stop sequences (OpenAI `stop`, Anthropic `stop_sequences`, Ollama `options.stop`).
    pub stop: Vec<String>,
    /// Nucleus sampling.
    pub top_p: Option<f64>,
    /// How many choices to generate (OpenAI `n`).
    pub n: Option<u32>,
    /// A sampling seed (OpenAI `seed`, Ollama `options.seed`).
    pub seed: Option<i64>,
    /// Ask for the log probabilities of the output tokens (OpenAI `logprobs`).
    pub logprobs: Option<bool>,
    /// How many alternatives per token, with `logprobs` (OpenAI `top_logprobs`).
    pub top_logprobs: Option<u32>,
}

/// A tool (function) offered to the model.
#[derive(Debug, Clone, PartialEq)]
pub struct Tool {
    /// The name the model calls it by.
    pub name: String,
    /// What it does, for the model.
    pub description: Option<String>,
    /// JSON Schema of its arguments (an object schema).
    pub parameters: Value,
    /// Ask the provider to enforce `parameters` strictly; `None` sends nothing.
    pub strict: Option<bool>,
}

/// Whether and which tool the model must call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ToolChoice {
    /// The model decides.
    Auto,
    /// The model must not call a tool.
    None,
    /// The model must call some tool (OpenAI `required`, Anthropic `any`).
    Required,
    /// The model must call this tool.
    Named(String),
}

/// What a tool-result turn answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ToolResult {
    /// The id of the call it answers.
    pub call_id: String,
    /// The called tool's name (Ollama matches results by name).
    pub name: String,
    /// The tool failed; `content` says how (Anthropic `is_error`).
    pub is_error: bool,
}

/// A provider-neutral request: a chat, or a model-management call (Ollama's `/api/*`).
// One is built per step and moved, never stored in bulk: boxing the chat would only churn
// every match on it.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq)]
pub enum Request {
    /// A chat completion.
    Chat(ChatRequest),
    /// Download a model, with streamed progress.
    Pull {
        /// Model name.
        model: String,
    },
    /// List the models loaded in memory.
    ListRunning,
    /// List the models available locally.
    ListLocal,
    /// Describe one model.
    Show {
        /// Model name.
        model: String,
    },
    /// Unload a model from memory now.
    Unload {
        /// Model name.
        model: String,
    },
    /// A one-shot completion (Ollama `/api/generate`), not streamed.
    Generate {
        /// Model name.
        model: String,
        /// The prompt.
        prompt: String,
    },
}

/// One message of a conversation.
#[derive(Debug, Clone, PartialEq)]
pub struct Message {
    /// Who speaks. Kept as a string so malformed roles can be sent on purpose.
    pub role: Role,
    /// The text content.
    pub content: String,
    /// The calls an assistant turn made (empty for every other turn).
    pub tool_calls: Vec<ToolCall>,
    /// Set on a tool-result turn ([`Role::Tool`]): the call it answers.
    pub tool_result: Option<ToolResult>,
    /// Content given as parts (text and images) rather than one string; when non-empty it is
    /// sent instead of `content`, in each dialect's form (OpenAI content parts, Anthropic
    /// content blocks, Ollama text plus `images`).
    pub parts: Vec<ContentPart>,
}

/// One part of a message's content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ContentPart {
    /// A text part.
    Text(String),
    /// An inline image.
    Image {
        /// Its media type (`image/png`, `image/jpeg`, ...).
        media_type: String,
        /// The image bytes, base64-encoded.
        data: String,
    },
}

impl Message {
    /// A plain text message.
    pub fn new(role: Role, content: impl Into<String>) -> Message {
        Message {
            role,
            content: content.into(),
            tool_calls: Vec::new(),
            tool_result: None,
            parts: Vec::new(),
        }
    }

    /// The text of the message: its `content`, or its text parts joined with newlines.
    pub fn text(&self) -> String {
        if self.parts.is_empty() {
            return self.content.clone();
        }
        let texts: Vec<&str> = self
            .parts
            .iter()
            .filter_map(|p| match p {
                ContentPart::Text(t) => Some(t.as_str()),
                ContentPart::Image { .. } => None,
            })
            .collect();
        texts.join("\n")
    }
}

/// A message role. `Other` carries a role no dialect defines, for malformed-role scenarios.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Role {
    /// Instructions for the model.
    System,
    /// OpenAI's newer name for system instructions.
    Developer,
    /// The human turn.
    User,
    /// The model's turn.
    Assistant,
    /// A tool's result (OpenAI and Ollama `tool`; Anthropic sends it as a `user` turn).
    Tool,
    /// A role that is not part of any dialect, sent verbatim.
    Other(String),
}

impl Role {
    /// The role's wire name.
    pub fn as_str(&self) -> &str {
        match self {
            Role::System => "system",
            Role::Developer => "developer",
            Role::User => "user",
            Role::Assistant => "assistant",
            Role::Tool => "tool",
            Role::Other(s) => s,
        }
    }

    /// Parses a wire name; unknown names become [`Role::Other`].
    pub fn parse(s: &str) -> Role {
        match s {
            "system" => Role::System,
            "developer" => Role::Developer,
            "user" => Role::User,
            "assistant" => Role::Assistant,
            "tool" => Role::Tool,
            other => Role::Other(other.to_string()),
        }
    }

    /// True for the roles that carry instructions rather than conversation.
    pub fn is_instruction(&self) -> bool {
        matches!(self, Role::System | Role::Developer)
    }
}

/// The output format a request asks for.
#[derive(Debug, Clone, PartialEq)]
pub enum ResponseFormat {
    /// Plain text (the default).
    Text,
    /// Any single JSON object ("JSON mode").
    JsonObject,
    /// JSON valid against a schema ("structured output").
    JsonSchema {
        /// Schema name (OpenAI requires one).
        name: String,
        /// The JSON Schema itself.
        schema: Value,
        /// Ask the provider to enforce the schema strictly.
        strict: bool,
    },
}

/// Why generation stopped, normalized across dialects.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    Serialize,
    Deserialize,
    PartialOrd,
    Ord,
    schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum FinishReason {
    /// Natural end or a stop sequence.
    Stop,
    /// The token limit was reached.
    Length,
    /// The model called a tool.
    ToolCalls,
    /// A content filter cut the output.
    ContentFilter,
    /// The model refused.
    Refusal,
    /// A value the dialect does not map (the raw value is kept beside it).
    Other,
}

impl FinishReason {
    /// The neutral name used in suites and reports.
    pub fn as_str(self) -> &'static str {
        match self {
            FinishReason::Stop => "stop",
            FinishReason::Length => "length",
            FinishReason::ToolCalls => "tool_calls",
            FinishReason::ContentFilter => "content_filter",
            FinishReason::Refusal => "refusal",
            FinishReason::Other => "other",
        }
    }
}

/// Token accounting as the provider reported it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct Usage {
    /// Prompt tokens.
    pub input_tokens: Option<u64>,
    /// Generated tokens.
    pub output_tokens: Option<u64>,
}

/// An error body decoded into neutral form.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct ProviderError {
    /// The provider's error type (`invalid_request_error`, ...). Ollama has none.
    pub kind: Option<String>,
    /// The provider's error code, where it has one (`invalid_value`, ...).
    pub code: Option<String>,
    /// The parameter the error names, where given.
    pub param: Option<String>,
    /// The human-readable message.
    pub message: String,
}

/// A decoded response in provider-neutral form.
#[derive(Debug, Clone, Default)]
pub struct Reply {
    /// HTTP status.
    pub status: u16,
    /// The response id (`chatcmpl-…`, `msg_…`); Ollama has none.
    pub id: Option<String>,
    /// The model the provider says answered.
    pub model: Option<String>,
    /// The assembled assistant text.
    pub text: String,
    /// Normalized finish reason.
    pub finish_reason: Option<FinishReason>,
    /// The finish reason exactly as the provider sent it.
    pub raw_finish_reason: Option<String>,
    /// Token usage, if reported.
    pub usage: Option<Usage>,
    /// The decoded error body for non-2xx replies.
    pub error: Option<ProviderError>,
    /// The provider's request id header, if any.
    pub request_id: Option<String>,
    /// Tool calls the model made, in order.
    pub tool_calls: Vec<ToolCall>,
    /// Present when the reply was streamed: what the stream looked like.
    pub stream: Option<StreamInfo>,
    /// Response headers, names lowercase.
    pub headers: Vec<(String, String)>,
    /// Breaches of the dialect's response contract, each naming the field.
    pub violations: Vec<String>,
    /// The body as JSON (Null when it was not JSON).
    pub raw: Value,
    /// The stop sequence that ended generation, where the dialect reports it (Anthropic
    /// `stop_sequence`).
    pub stop_sequence: Option<String>,
    /// How many choices the reply carries (OpenAI `choices`; one for the other dialects).
    pub choices: Option<usize>,
    /// The log probabilities of the first choice's tokens, when the reply carries them.
    pub logprobs: Option<Vec<TokenLogprob>>,
}

/// One output token's log probability (OpenAI `ChatCompletionTokenLogprob`).
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct TokenLogprob {
    /// The token.
    pub token: String,
    /// Its log probability.
    pub logprob: f64,
    /// How many most likely alternatives came with it (`top_logprobs`).
    pub alternatives: usize,
}

/// One tool call, assembled (for streams, from its deltas).
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct ToolCall {
    /// The call id (`call_…`, `toolu_…`); Ollama may send none.
    pub id: Option<String>,
    /// The function name.
    pub name: String,
    /// The arguments exactly as sent (OpenAI sends a JSON string; the others an object, kept
    /// here serialized).
    pub arguments_raw: String,
    /// The arguments parsed, or `None` when `arguments_raw` is not valid JSON.
    pub arguments: Option<Value>,
}

/// The shape and timing of a streamed reply.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct StreamInfo {
    /// Events received (SSE events or NDJSON lines), keep-alive comments excluded.
    pub events: usize,
    /// Distinct event types in order of first appearance (Anthropic's event names; for OpenAI
    /// `chunk`, `usage`, `error`, `done`; for Ollama `chunk`, `done`, `error`).
    pub event_types: Vec<String>,
    /// From sending the request to the first event that carries content.
    pub time_to_first_token: Option<std::time::Duration>,
    /// The longest pause between two consecutive events.
    pub max_gap: std::time::Duration,
    /// Whether the dialect's terminal marker arrived (`[DONE]`, `message_stop`, `done: true`).
    pub terminated: bool,
}

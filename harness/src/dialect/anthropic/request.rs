//! Encoding a neutral request into anthropic's request body.

use serde_json::{Map, Value, json};

use crate::dialect::wire::{WireOp, WireOptions, WireRequest};
use crate::neutral::{ChatRequest, ContentPart, Message, ResponseFormat};

/// Encodes a request body per `CreateMessageParams`. The Messages API has no system role, so
/// every system or developer message, wherever it stands, is joined into the top-level
/// `system` (blank line between them), as the official SDKs' translators do.
pub(crate) fn encode(req: &ChatRequest, opts: &WireOptions) -> WireRequest {
    let mut body = Map::new();
    body.insert("model".into(), json!(req.model));
    let system: Vec<String> = req
        .messages
        .iter()
        .filter(|m| m.role.is_instruction())
        .map(Message::text)
        .collect();
    let messages = super::tools::messages(req.messages.iter().filter(|m| !m.role.is_instruction()));
    body.insert("messages".into(), Value::Array(messages));
    super::tools::encode(req, &mut body);
    body.insert(
        "max_tokens".into(),
        json!(req.max_tokens.unwrap_or(opts.default_max_tokens)),
    );
    if !system.is_empty() {
        body.insert("system".into(), json!(system.join("\n\n")));
    }
    if let Some(t) = req.temperature {
        body.insert("temperature".into(), json!(t));
    }
    if let Some(p) = req.top_p {
        body.insert("top_p".into(), json!(p));
    }
    if !req.stop.is_empty() {
        body.insert("stop_sequences".into(), json!(req.stop));
    }
    match &req.response_format {
        Some(ResponseFormat::JsonSchema { schema, .. }) => {
            body.insert(
                "output_config".into(),
                json!({"format": {"type": "json_schema", "schema": schema}}),
            );
        }
        // Anthropic has no schema-less JSON mode; the closest contract is a schema that
        // accepts any object. Targets don't declare `json_mode`, so suites skip it there.
        Some(ResponseFormat::JsonObject) => {
            body.insert(
                "output_config".into(),
                json!({"format": {"type": "json_schema", "schema": {"type": "object"}}}),
            );
        }
        Some(ResponseFormat::Text) | None => {}
    }
    if req.stream {
        body.insert("stream".into(), json!(true));
    }
    WireRequest {
        method: "POST",
        path: "/v1/messages",
        headers: vec![
            ("content-type", "application/json".into()),
            ("anthropic-version", opts.anthropic_version.clone()),
        ],
        body: Value::Object(body),
        op: WireOp::Chat,
        raw_body: None,
    }
}

/// A message's `content`: its text, or its parts as content blocks (`text`, and `image` with
/// a base64 source).
pub(crate) fn content(m: &Message) -> Value {
    if m.parts.is_empty() {
        return json!(m.content);
    }
    let blocks: Vec<Value> = m
        .parts
        .iter()
        .map(|p| match p {
            ContentPart::Text(t) => json!({"type": "text", "text": t}),
            ContentPart::Image { media_type, data } => json!({
                "type": "image",
                "source": {"type": "base64", "media_type": media_type, "data": data}
            }),
        })
        .collect();
    Value::Array(blocks)
}

//! Encoding a neutral request into ollama's request body.

use serde_json::{Map, Value, json};

use crate::dialect::wire::{WireOp, WireOptions, WireRequest};
use crate::neutral::{ChatRequest, ContentPart, Message, ResponseFormat};

/// Encodes a request body for `/api/chat`. Ollama streams by default, so `stream` is always
/// sent explicitly.
pub(crate) fn encode(req: &ChatRequest, _opts: &WireOptions) -> WireRequest {
    let mut body = Map::new();
    body.insert("model".into(), json!(req.model));
    let messages: Vec<Value> = req.messages.iter().map(super::tools::message).collect();
    body.insert("messages".into(), Value::Array(messages));
    super::tools::encode(req, &mut body);
    body.insert("stream".into(), json!(req.stream));
    let mut options = Map::new();
    if let Some(n) = req.max_tokens {
        options.insert("num_predict".into(), json!(n));
    }
    if let Some(t) = req.temperature {
        options.insert("temperature".into(), json!(t));
    }
    if let Some(p) = req.top_p {
        options.insert("top_p".into(), json!(p));
    }
    if let Some(s) = req.seed {
        options.insert("seed".into(), json!(s));
    }
    if !req.stop.is_empty() {
        options.insert("stop".into(), json!(req.stop));
    }
    if !options.is_empty() {
        body.insert("options".into(), Value::Object(options));
    }
    if let Some(l) = req.logprobs {
        body.insert("logprobs".into(), json!(l));
    }
    if let Some(n) = req.top_logprobs {
        body.insert("top_logprobs".into(), json!(n));
    }
    match &req.response_format {
        Some(ResponseFormat::JsonObject) => {
            body.insert("format".into(), json!("json"));
        }
        Some(ResponseFormat::JsonSchema { schema, .. }) => {
            body.insert("format".into(), schema.clone());
        }
        Some(ResponseFormat::Text) | None => {}
    }
    WireRequest {
        method: "POST",
        path: "/api/chat",
        headers: vec![("content-type", "application/json".into())],
        body: Value::Object(body),
        op: WireOp::Chat,
        raw_body: None,
    }
}

/// A message without tool calls: its text, and its image parts as `images` (base64), the
/// form `/api/chat` takes them in.
pub(crate) fn plain_message(m: &Message) -> Value {
    let images: Vec<&str> = m
        .parts
        .iter()
        .filter_map(|p| match p {
            ContentPart::Image { data, .. } => Some(data.as_str()),
            ContentPart::Text(_) => None,
        })
        .collect();
    let mut v = json!({"role": m.role.as_str(), "content": m.text()});
    if !images.is_empty() {
        v["images"] = json!(images);
    }
    v
}

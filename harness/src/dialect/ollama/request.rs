//! Encoding a neutral request into ollama's request body.

use serde_json::{Map, Value, json};

use crate::dialect::wire::{WireOp, WireOptions, WireRequest};
use crate::neutral::{ChatRequest, ResponseFormat};

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
    if !options.is_empty() {
        body.insert("options".into(), Value::Object(options));
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
    }
}

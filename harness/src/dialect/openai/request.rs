//! Encoding a neutral request into openai's request body.

use serde_json::{Map, Value, json};

use crate::dialect::wire::{TokenParam, WireOp, WireOptions, WireRequest};
use crate::neutral::{ChatRequest, ContentPart, Message, ResponseFormat};

/// Encodes a request body per `CreateChatCompletionRequest`.
pub(crate) fn encode(req: &ChatRequest, opts: &WireOptions) -> WireRequest {
    let mut body = Map::new();
    body.insert("model".into(), json!(req.model));
    let messages: Vec<Value> = req.messages.iter().map(super::tools::message).collect();
    body.insert("messages".into(), Value::Array(messages));
    super::tools::encode(req, &mut body);
    if let Some(n) = req.max_tokens {
        let field = match opts.token_param {
            TokenParam::MaxCompletionTokens => "max_completion_tokens",
            TokenParam::MaxTokens => "max_tokens",
        };
        body.insert(field.into(), json!(n));
    }
    if let Some(t) = req.temperature {
        body.insert("temperature".into(), json!(t));
    }
    if let Some(f) = &req.response_format {
        let v = match f {
            ResponseFormat::Text => json!({"type": "text"}),
            ResponseFormat::JsonObject => json!({"type": "json_object"}),
            ResponseFormat::JsonSchema {
                name,
                schema,
                strict,
            } => json!({
                "type": "json_schema",
                "json_schema": {"name": name, "schema": schema, "strict": strict}
            }),
        };
        body.insert("response_format".into(), v);
    }
    sampling(req, &mut body);
    if req.stream {
        body.insert("stream".into(), json!(true));
        // Without this OpenAI sends no usage in a stream; every SDK-based client asks for it.
        body.insert("stream_options".into(), json!({"include_usage": true}));
    }
    WireRequest {
        method: "POST",
        path: "/chat/completions",
        headers: vec![("content-type", "application/json".into())],
        body: Value::Object(body),
        op: WireOp::Chat,
        raw_body: None,
    }
}

/// The sampling and output parameters beyond the token limit and temperature.
fn sampling(req: &ChatRequest, body: &mut Map<String, Value>) {
    if !req.stop.is_empty() {
        body.insert("stop".into(), json!(req.stop));
    }
    let optional = [
        ("top_p", req.top_p.map(|v| json!(v))),
        ("n", req.n.map(|v| json!(v))),
        ("seed", req.seed.map(|v| json!(v))),
        ("logprobs", req.logprobs.map(|v| json!(v))),
        ("top_logprobs", req.top_logprobs.map(|v| json!(v))),
    ];
    for (k, v) in optional {
        if let Some(v) = v {
            body.insert(k.into(), v);
        }
    }
}

/// A message's `content`: its text, or its parts as content parts (`text`, and `image_url`
/// with a base64 data URL).
pub(crate) fn content(m: &Message) -> Value {
    if m.parts.is_empty() {
        return json!(m.content);
    }
    let parts: Vec<Value> = m
        .parts
        .iter()
        .map(|p| match p {
            ContentPart::Text(t) => json!({"type": "text", "text": t}),
            ContentPart::Image { media_type, data } => json!({
                "type": "image_url",
                "image_url": {"url": format!("data:{media_type};base64,{data}")}
            }),
        })
        .collect();
    Value::Array(parts)
}

//! Encoding a neutral request into a `CreateResponse` body.

use serde_json::{Map, Value, json};

use crate::dialect::wire::{WireOp, WireOptions, WireRequest};
use crate::neutral::{ChatRequest, ResponseFormat};

/// The least `max_output_tokens` the API accepts (`CreateResponse.max_output_tokens` has
/// `minimum: 16`; OpenAI answers 400 below it). A smaller neutral limit is raised to it, as
/// Anthropic's dialect supplies a `max_tokens` the API requires.
pub(crate) const MIN_OUTPUT_TOKENS: u32 = 16;

/// Encodes a request body per `CreateResponse`: system and developer text joined into
/// `instructions`, the other turns as `input` items.
pub(crate) fn encode(req: &ChatRequest, _opts: &WireOptions) -> WireRequest {
    let mut body = Map::new();
    body.insert("model".into(), json!(req.model));
    let instructions: Vec<String> = req
        .messages
        .iter()
        .filter(|m| m.role.is_instruction())
        .map(|m| m.text())
        .collect();
    if !instructions.is_empty() {
        body.insert("instructions".into(), json!(instructions.join("\n\n")));
    }
    let input: Vec<Value> = req
        .messages
        .iter()
        .filter(|m| !m.role.is_instruction())
        .flat_map(super::tools::items)
        .collect();
    body.insert("input".into(), Value::Array(input));
    super::tools::encode(req, &mut body);
    if let Some(n) = req.max_tokens {
        body.insert("max_output_tokens".into(), json!(n.max(MIN_OUTPUT_TOKENS)));
    }
    if let Some(t) = req.temperature {
        body.insert("temperature".into(), json!(t));
    }
    if let Some(p) = req.top_p {
        body.insert("top_p".into(), json!(p));
    }
    // `logprobs` is not a field here: the output text's log probabilities are asked for as
    // an `include`. `stop`, `n` and `seed` have no Responses equivalent and are not sent.
    if req.logprobs == Some(true) {
        body.insert("include".into(), json!(["message.output_text.logprobs"]));
    }
    if let Some(n) = req.top_logprobs {
        body.insert("top_logprobs".into(), json!(n));
    }
    if let Some(f) = &req.response_format {
        let format = match f {
            ResponseFormat::Text => json!({"type": "text"}),
            ResponseFormat::JsonObject => json!({"type": "json_object"}),
            ResponseFormat::JsonSchema {
                name,
                schema,
                strict,
            } => json!({"type": "json_schema", "name": name, "schema": schema, "strict": strict}),
        };
        body.insert("text".into(), json!({ "format": format }));
    }
    if req.stream {
        // Usage arrives in the terminal event's `response`; no stream option is needed.
        body.insert("stream".into(), json!(true));
    }
    WireRequest {
        method: "POST",
        path: "/responses",
        headers: vec![("content-type", "application/json".into())],
        body: Value::Object(body),
        op: WireOp::Chat,
        raw_body: None,
    }
}

//! Ollama's native chat (`POST {base}/api/chat`, `stream: false`).

pub mod api;
pub(crate) mod stream;

use serde_json::{Map, Value, json};

use super::json::Check;
use super::{WireOp, WireOptions, WireRequest};
use crate::neutral::{ChatRequest, FinishReason, ProviderError, Reply, ResponseFormat, Usage};

/// Encodes a request body for `/api/chat`. Ollama streams by default, so `stream` is always
/// sent explicitly.
pub fn encode(req: &ChatRequest, _opts: &WireOptions) -> WireRequest {
    let mut body = Map::new();
    body.insert("model".into(), json!(req.model));
    let messages: Vec<Value> = req
        .messages
        .iter()
        .map(super::tools::ollama_message)
        .collect();
    body.insert("messages".into(), Value::Array(messages));
    super::tools::encode_ollama(req, &mut body);
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

/// Maps Ollama's `done_reason`; `stop` with tool calls is a tool call.
pub fn finish_reason(raw: &str, has_tool_calls: bool) -> FinishReason {
    match raw {
        "stop" if has_tool_calls => FinishReason::ToolCalls,
        "stop" => FinishReason::Stop,
        "length" => FinishReason::Length,
        _ => FinishReason::Other,
    }
}

/// Decodes a `/api/chat` reply and checks the contract of a final (`done: true`) object.
pub fn decode(reply: &mut Reply, _headers: &[(String, String)]) {
    let raw = std::mem::take(&mut reply.raw);
    let mut check = Check {
        violations: &mut reply.violations,
    };
    if !(200..300).contains(&reply.status) {
        reply.error = Some(match check.string(&raw, "", "error") {
            Some(msg) => ProviderError {
                message: msg.to_string(),
                ..ProviderError::default()
            },
            None => ProviderError {
                message: raw.to_string(),
                ..ProviderError::default()
            },
        });
        reply.raw = raw;
        return;
    }
    if !raw.is_object() {
        check.fail("body must be a JSON object".into());
        reply.raw = raw;
        return;
    }
    // A 200 can still carry an error (e.g. a model that failed to load).
    if let Some(e) = raw.get("error").and_then(Value::as_str) {
        check.fail(format!("a 200 reply carries an error: {e:?}"));
        reply.error = Some(ProviderError {
            message: e.to_string(),
            ..ProviderError::default()
        });
    }
    reply.model = check.string(&raw, "", "model").map(str::to_string);
    check.string(&raw, "", "created_at");
    let mut has_tools = false;
    if let Some(msg) = check.object(&raw, "", "message") {
        check.constant(msg, "message", "role", "assistant");
        reply.text = check
            .string(msg, "message", "content")
            .unwrap_or("")
            .to_string();
        has_tools = msg
            .get("tool_calls")
            .and_then(Value::as_array)
            .is_some_and(|a| !a.is_empty());
        reply.tool_calls = super::tools::decode_ollama(msg, &mut check);
    }
    match check.boolean(&raw, "", "done") {
        Some(true) => {
            if let Some(dr) = check.string(&raw, "", "done_reason") {
                reply.finish_reason = Some(finish_reason(dr, has_tools));
                reply.raw_finish_reason = Some(dr.to_string());
            }
            let input = check.opt_uint(&raw, "", "prompt_eval_count");
            // A load or unload (no messages) generates nothing and reports no counts.
            let generated = !matches!(reply.raw_finish_reason.as_deref(), Some("load" | "unload"));
            let output = if generated {
                check.uint(&raw, "", "eval_count")
            } else {
                check.opt_uint(&raw, "", "eval_count")
            };
            for f in ["total_duration", "load_duration", "eval_duration"] {
                check.opt_uint(&raw, "", f);
            }
            reply.usage = Some(Usage {
                input_tokens: input,
                output_tokens: output,
            });
        }
        Some(false) => check.fail(
            "`done` is false: a stream:false reply must be the final object (done: true)".into(),
        ),
        None => {}
    }
    reply.raw = raw;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dialect::DialectKind;
    use crate::neutral::{Message, Role};

    #[test]
    fn encodes_num_predict_and_format() {
        let req = ChatRequest {
            model: "llama3.2".into(),
            messages: vec![Message::new(Role::User, "Hi")],
            max_tokens: Some(8),
            temperature: None,
            response_format: Some(ResponseFormat::JsonObject),
            stream: false,
            ..ChatRequest::default()
        };
        let w = encode(&req, &WireOptions::default());
        assert_eq!(w.body["options"], json!({"num_predict": 8}));
        assert_eq!(w.body["stream"], false);
        assert_eq!(w.body["format"], "json");
    }

    #[test]
    fn missing_done_is_a_violation() {
        let body = br#"{"model":"m","created_at":"2024-01-01T00:00:00Z","message":{"role":"assistant","content":"x"}}"#;
        let r = DialectKind::Ollama.decode(200, &[], body);
        assert_eq!(
            r.violations,
            vec!["`done` is missing (required boolean)".to_string()]
        );
    }

    #[test]
    fn decodes_counts_and_reason() {
        let body = br#"{"model":"m","created_at":"2024-01-01T00:00:00Z","message":{"role":"assistant","content":"Paris"},
            "done":true,"done_reason":"length","total_duration":5,"load_duration":1,"prompt_eval_count":26,"eval_count":8,"eval_duration":3}"#;
        let r = DialectKind::Ollama.decode(200, &[], body);
        assert!(r.violations.is_empty(), "{:?}", r.violations);
        assert_eq!(r.finish_reason, Some(FinishReason::Length));
        assert_eq!(
            r.usage.unwrap(),
            Usage {
                input_tokens: Some(26),
                output_tokens: Some(8)
            }
        );
    }

    #[test]
    fn error_body() {
        let r = DialectKind::Ollama.decode(404, &[], br#"{"error":"model 'nope' not found"}"#);
        assert_eq!(r.error.unwrap().message, "model 'nope' not found");
    }
}

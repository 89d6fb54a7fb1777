//! OpenAI chat completions (`POST {base}/chat/completions`, base ending in `/v1`), also spoken
//! by vLLM, llama.cpp, LiteLLM, Ollama's `/v1` layer and most gateways.

pub(crate) mod stream;

use serde_json::{Map, Value, json};

use super::json::{Check, opt_str};
use super::{TokenParam, WireOp, WireOptions, WireRequest, header};
use crate::neutral::{ChatRequest, FinishReason, ProviderError, Reply, ResponseFormat, Usage};

/// Encodes a request body per `CreateChatCompletionRequest`.
pub fn encode(req: &ChatRequest, opts: &WireOptions) -> WireRequest {
    let mut body = Map::new();
    body.insert("model".into(), json!(req.model));
    let messages: Vec<Value> = req
        .messages
        .iter()
        .map(super::tools::openai_message)
        .collect();
    body.insert("messages".into(), Value::Array(messages));
    super::tools::encode_openai(req, &mut body);
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
    }
}

/// Maps OpenAI's `finish_reason` to the neutral one.
pub fn finish_reason(raw: &str) -> FinishReason {
    match raw {
        "stop" => FinishReason::Stop,
        "length" => FinishReason::Length,
        "tool_calls" | "function_call" => FinishReason::ToolCalls,
        "content_filter" => FinishReason::ContentFilter,
        _ => FinishReason::Other,
    }
}

const FINISH_REASONS: [&str; 5] = [
    "stop",
    "length",
    "tool_calls",
    "content_filter",
    "function_call",
];

/// Decodes a reply body (already parsed into `reply.raw`) and checks the contract.
pub fn decode(reply: &mut Reply, headers: &[(String, String)]) {
    reply.request_id = header(headers, "x-request-id").map(str::to_string);
    let raw = std::mem::take(&mut reply.raw);
    let mut check = Check {
        violations: &mut reply.violations,
    };
    if !(200..300).contains(&reply.status) {
        reply.error = Some(decode_error(&raw, &mut check));
        reply.raw = raw;
        return;
    }
    if !raw.is_object() {
        check.fail("body must be a JSON object (CreateChatCompletionResponse)".into());
        reply.raw = raw;
        return;
    }
    reply.id = check.string(&raw, "", "id").map(str::to_string);
    check.constant(&raw, "", "object", "chat.completion");
    check.uint(&raw, "", "created");
    reply.model = check.string(&raw, "", "model").map(str::to_string);
    if let Some(choices) = check.array(&raw, "", "choices") {
        if choices.is_empty() {
            check.fail("`choices` is empty: a chat completion has at least one choice".into());
        }
        for (i, choice) in choices.iter().enumerate() {
            let path = format!("choices[{i}]");
            check.uint(choice, &path, "index");
            let fr = check.string(choice, &path, "finish_reason");
            if let Some(fr) = fr
                && !FINISH_REASONS.contains(&fr)
            {
                check.fail(format!(
                    "`{path}.finish_reason` has undocumented value {fr:?}"
                ));
            }
            let msg = check.object(choice, &path, "message");
            if i != 0 {
                continue;
            }
            if let Some(msg) = msg {
                let mpath = format!("{path}.message");
                check.constant(msg, &mpath, "role", "assistant");
                reply.text = check
                    .string_or_null(msg, &mpath, "content")
                    .unwrap_or("")
                    .to_string();
                reply.tool_calls = super::tools::decode_openai(msg, &mpath, &mut check);
                let refused = msg.get("refusal").and_then(Value::as_str).is_some();
                let has_calls = !reply.tool_calls.is_empty();
                reply.finish_reason = fr.map(|r| {
                    if refused {
                        FinishReason::Refusal
                    } else {
                        super::tools::openai_finish(r, has_calls)
                    }
                });
            }
            reply.raw_finish_reason = fr.map(str::to_string);
        }
    }
    if let Some(usage) = raw.get("usage").filter(|u| !u.is_null()) {
        let input = check.uint(usage, "usage", "prompt_tokens");
        let output = check.uint(usage, "usage", "completion_tokens");
        check.uint(usage, "usage", "total_tokens");
        reply.usage = Some(Usage {
            input_tokens: input,
            output_tokens: output,
        });
    }
    reply.raw = raw;
}

/// Decodes `{"error": {message, type, param, code}}`.
pub(crate) fn decode_error(raw: &Value, check: &mut Check<'_>) -> ProviderError {
    let Some(err) = check.object(raw, "", "error") else {
        return ProviderError {
            message: raw.to_string(),
            ..ProviderError::default()
        };
    };
    ProviderError {
        message: check
            .string(err, "error", "message")
            .unwrap_or_default()
            .to_string(),
        kind: check
            .string_or_null(err, "error", "type")
            .map(str::to_string),
        code: opt_str(err, "code").or_else(|| {
            err.get("code")
                .and_then(Value::as_i64)
                .map(|n| n.to_string())
        }),
        param: opt_str(err, "param"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dialect::DialectKind;
    use crate::neutral::{Message, Role};

    fn req() -> ChatRequest {
        ChatRequest {
            model: "gpt-4o-mini".into(),
            messages: vec![
                Message::new(Role::System, "Be brief."),
                Message::new(Role::User, "Hi"),
            ],
            max_tokens: Some(16),
            temperature: Some(0.0),
            response_format: Some(ResponseFormat::JsonObject),
            stream: false,
            ..ChatRequest::default()
        }
    }

    #[test]
    fn encodes_token_param_per_target() {
        let mut opts = WireOptions::default();
        let body = encode(&req(), &opts).body;
        assert_eq!(body["max_completion_tokens"], 16);
        assert!(body.get("max_tokens").is_none());
        opts.token_param = TokenParam::MaxTokens;
        let body = encode(&req(), &opts).body;
        assert_eq!(body["max_tokens"], 16);
        assert_eq!(
            body["messages"][0],
            json!({"role": "system", "content": "Be brief."})
        );
        assert_eq!(body["response_format"], json!({"type": "json_object"}));
    }

    #[test]
    fn decodes_and_normalizes() {
        let body = br#"{"id":"chatcmpl-1","object":"chat.completion","created":1,"model":"m",
            "choices":[{"index":0,"message":{"role":"assistant","content":"Hi"},"logprobs":null,"finish_reason":"length"}],
            "usage":{"prompt_tokens":3,"completion_tokens":16,"total_tokens":19}}"#;
        let r = DialectKind::Openai.decode(200, &[("x-request-id".into(), "req_1".into())], body);
        assert!(r.violations.is_empty(), "{:?}", r.violations);
        assert_eq!(r.text, "Hi");
        assert_eq!(r.finish_reason, Some(FinishReason::Length));
        assert_eq!(r.raw_finish_reason.as_deref(), Some("length"));
        assert_eq!(r.usage.unwrap().output_tokens, Some(16));
        assert_eq!(r.request_id.as_deref(), Some("req_1"));
    }

    #[test]
    fn missing_choices_is_a_violation_naming_the_field() {
        let body = br#"{"id":"x","object":"chat.completion","created":1,"model":"m"}"#;
        let r = DialectKind::Openai.decode(200, &[], body);
        assert_eq!(
            r.violations,
            vec!["`choices` is missing (required array)".to_string()]
        );
    }

    #[test]
    fn wrong_types_are_violations() {
        let body = br#"{"id":7,"object":"chat.completion","created":"yesterday","model":"m",
            "choices":[{"index":0,"message":{"role":"assistant","content":"x"},"finish_reason":"done"}]}"#;
        let r = DialectKind::Openai.decode(200, &[], body);
        assert!(
            r.violations
                .iter()
                .any(|v| v.contains("`id` must be a string")),
            "{:?}",
            r.violations
        );
        assert!(
            r.violations
                .iter()
                .any(|v| v.contains("`created` must be a non-negative integer"))
        );
        assert!(
            r.violations
                .iter()
                .any(|v| v.contains("undocumented value \"done\""))
        );
    }

    #[test]
    fn refusal_is_normalized() {
        let body = br#"{"id":"x","object":"chat.completion","created":1,"model":"m",
            "choices":[{"index":0,"message":{"role":"assistant","content":null,"refusal":"I can't"},"finish_reason":"stop"}]}"#;
        let r = DialectKind::Openai.decode(200, &[], body);
        assert_eq!(r.finish_reason, Some(FinishReason::Refusal));
        assert_eq!(r.raw_finish_reason.as_deref(), Some("stop"));
    }

    #[test]
    fn decodes_error_body() {
        let body = br#"{"error":{"message":"Invalid value: 'narrator'.","type":"invalid_request_error","param":"messages[0].role","code":"invalid_value"}}"#;
        let r = DialectKind::Openai.decode(400, &[], body);
        let e = r.error.unwrap();
        assert_eq!(e.kind.as_deref(), Some("invalid_request_error"));
        assert_eq!(e.code.as_deref(), Some("invalid_value"));
        assert_eq!(e.param.as_deref(), Some("messages[0].role"));
        assert!(r.violations.is_empty());
    }

    #[test]
    fn error_without_message_is_a_violation() {
        let r = DialectKind::Openai.decode(500, &[], br#"{"detail":"boom"}"#);
        assert_eq!(
            r.violations,
            vec!["`error` is missing (required object)".to_string()]
        );
    }
}

//! OpenAI chat completions (`POST {base}/chat/completions`, base ending in `/v1`), also spoken
//! by vLLM, llama.cpp, LiteLLM, Ollama's `/v1` layer and most gateways.

mod reply;
mod request;
pub(crate) mod stream;
mod tools;

pub(crate) use reply::{decode, decode_error};
pub(crate) use request::encode;
pub(crate) use tools::agreement as tool_agreement;

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    use crate::dialect::DialectKind;
    use crate::dialect::wire::{TokenParam, WireOptions};
    use crate::neutral::{ChatRequest, FinishReason, ResponseFormat};
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

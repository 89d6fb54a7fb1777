//! OpenAI chat completions (`POST {base}/chat/completions`, base ending in `/v1`), also spoken
//! by vLLM, llama.cpp, LiteLLM, Ollama's `/v1` layer and most gateways.

mod logprobs;
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
    fn anthropic_and_ollama_error_shapes_are_violations() {
        let anthropic = br#"{"type":"error","error":{"type":"invalid_request_error","message":"max_tokens: Field required"}}"#;
        let r = DialectKind::Openai.decode(400, &[], anthropic);
        assert_eq!(
            r.violations,
            vec![
                "top-level `type: \"error\"` is Anthropic's error shape; OpenAI's is `{error: {message, type, param, code}}`".to_string(),
                "`error.param` is missing (required; null when there is none)".to_string(),
                "`error.code` is missing (required; null when there is none)".to_string(),
            ]
        );
        let r = DialectKind::Openai.decode(404, &[], br#"{"error":"model \"x\" not found"}"#);
        assert_eq!(
            r.violations,
            vec!["`error` must be an object, got string".to_string()]
        );
    }

    #[test]
    fn encodes_sampling_parameters_and_content_parts() {
        use crate::neutral::ContentPart;
        let mut r = req();
        r.stop = vec!["END".into()];
        r.n = Some(2);
        r.seed = Some(7);
        r.top_p = Some(0.5);
        r.logprobs = Some(true);
        r.top_logprobs = Some(2);
        r.messages[1].parts = vec![
            ContentPart::Text("What is this?".into()),
            ContentPart::Image {
                media_type: "image/png".into(),
                data: "AAAA".into(),
            },
        ];
        let body = encode(&r, &WireOptions::default()).body;
        assert_eq!(body["stop"], json!(["END"]));
        assert_eq!(
            (&body["n"], &body["seed"], &body["top_p"]),
            (&json!(2), &json!(7), &json!(0.5))
        );
        assert_eq!(
            (&body["logprobs"], &body["top_logprobs"]),
            (&json!(true), &json!(2))
        );
        assert_eq!(
            body["messages"][1]["content"],
            json!([{"type": "text", "text": "What is this?"},
                {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}}])
        );
    }

    #[test]
    fn choices_need_their_own_indexes_and_logprobs_their_shape() {
        let body = br#"{"id":"c","object":"chat.completion","created":1,"model":"m","choices":[
            {"index":0,"message":{"role":"assistant","content":"a"},"finish_reason":"stop",
             "logprobs":{"content":[{"token":"a","logprob":-0.1,"bytes":[97],"top_logprobs":[{"token":"a","logprob":-0.1,"bytes":[97]},{"token":"b","logprob":0.5,"bytes":null}]}],"refusal":null}},
            {"index":0,"message":{"role":"assistant","content":"b"},"finish_reason":"stop","logprobs":null}]}"#;
        let r = DialectKind::Openai.decode(200, &[], body);
        assert_eq!(r.choices, Some(2));
        let lp = r.logprobs.as_ref().unwrap();
        assert_eq!((lp.len(), lp[0].alternatives), (1, 2));
        assert_eq!(
            r.violations,
            vec![
                "`choices[0].logprobs.content[0].top_logprobs[1].logprob` is 0.5: a log probability is at most 0".to_string(),
                "`choices[1].index` is 0, as is `choices[0].index`: each choice has its own index".to_string(),
            ]
        );
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

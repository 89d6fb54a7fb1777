//! Ollama's native chat (`POST {base}/api/chat`, `stream: false`).

pub(crate) mod api;
mod reply;
mod request;
pub(crate) mod stream;
mod tools;

pub(crate) use reply::decode;
pub(crate) use request::encode;

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    use crate::dialect::DialectKind;
    use crate::dialect::wire::WireOptions;
    use crate::neutral::{ChatRequest, FinishReason, ResponseFormat, Usage};
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
    fn encodes_options_and_images() {
        use crate::neutral::ContentPart;
        let mut user = Message::new(Role::User, "");
        user.parts = vec![
            ContentPart::Text("What is".into()),
            ContentPart::Text("this?".into()),
            ContentPart::Image {
                media_type: "image/png".into(),
                data: "AAAA".into(),
            },
        ];
        let req = ChatRequest {
            model: "llava".into(),
            messages: vec![user],
            stop: vec!["END".into()],
            seed: Some(42),
            top_p: Some(0.9),
            ..ChatRequest::default()
        };
        let w = encode(&req, &WireOptions::default());
        assert_eq!(
            w.body["options"],
            json!({"stop": ["END"], "seed": 42, "top_p": 0.9})
        );
        assert_eq!(
            w.body["messages"][0],
            json!({"role": "user", "content": "What is\nthis?", "images": ["AAAA"]})
        );
    }

    #[test]
    fn other_dialects_error_shapes_are_violations() {
        let openai = br#"{"error":{"message":"bad","type":"invalid_request_error","param":null,"code":null}}"#;
        let r = DialectKind::Ollama.decode(400, &[], openai);
        assert_eq!(
            r.violations,
            vec!["`error` must be a string, got object".to_string()]
        );
        let anthropic = br#"{"type":"error","error":{"type":"not_found_error","message":"x"}}"#;
        let r = DialectKind::Ollama.decode(404, &[], anthropic);
        assert_eq!(
            r.violations,
            vec!["`error` must be a string, got object".to_string()]
        );
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

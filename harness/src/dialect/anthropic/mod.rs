//! Anthropic messages (`POST {base}/v1/messages` with `x-api-key` and `anthropic-version`).

mod reply;
mod request;
pub(crate) mod stream;
mod tools;

pub(crate) use reply::decode;
pub(crate) use request::encode;
pub(crate) use tools::agreement as tool_agreement;

#[cfg(test)]
mod tests {
    use super::*;

    use crate::dialect::DialectKind;
    use crate::dialect::wire::WireOptions;
    use crate::neutral::{ChatRequest, FinishReason};
    use crate::neutral::{Message, Role};

    fn m(role: Role, c: &str) -> Message {
        Message::new(role, c)
    }

    #[test]
    fn joins_system_messages_and_requires_max_tokens() {
        let req = ChatRequest {
            model: "claude".into(),
            messages: vec![
                m(Role::System, "One."),
                m(Role::User, "Hi"),
                m(Role::Developer, "Two."),
                m(Role::Assistant, "Hello"),
                m(Role::User, "Bye"),
            ],
            ..ChatRequest::default()
        };
        let w = encode(&req, &WireOptions::default());
        assert_eq!(w.path, "/v1/messages");
        assert_eq!(w.body["system"], "One.\n\nTwo.");
        assert_eq!(w.body["max_tokens"], 1024);
        assert_eq!(w.body["messages"].as_array().unwrap().len(), 3);
        assert!(
            w.headers
                .contains(&("anthropic-version", "2023-06-01".into()))
        );
    }

    #[test]
    fn stop_sequence_must_agree_with_stop_reason() {
        let body = |reason: &str, seq: &str| {
            format!(
                r#"{{"id":"msg_1","type":"message","role":"assistant","model":"c","content":[{{"type":"text","text":"Hi"}}],
                "stop_reason":"{reason}","stop_sequence":{seq},"usage":{{"input_tokens":1,"output_tokens":1}}}}"#
            )
        };
        let r =
            DialectKind::Anthropic.decode(200, &[], body("stop_sequence", "\"END\"").as_bytes());
        assert!(r.violations.is_empty(), "{:?}", r.violations);
        assert_eq!(r.stop_sequence.as_deref(), Some("END"));
        let r = DialectKind::Anthropic.decode(200, &[], body("stop_sequence", "null").as_bytes());
        assert!(
            r.violations[0].contains("`stop_sequence` is null"),
            "{:?}",
            r.violations
        );
        let r = DialectKind::Anthropic.decode(200, &[], body("end_turn", "\"END\"").as_bytes());
        assert!(
            r.violations[0].contains("set only when"),
            "{:?}",
            r.violations
        );
    }

    #[test]
    fn openai_and_ollama_error_shapes_are_violations() {
        let openai = br#"{"error":{"message":"bad","type":"invalid_request_error","param":null,"code":null}}"#;
        let r = DialectKind::Anthropic.decode(400, &[], openai);
        assert_eq!(
            r.violations,
            vec!["`type` is missing (required string)".to_string()]
        );
        let r = DialectKind::Anthropic.decode(404, &[], br#"{"error":"model \"x\" not found"}"#);
        assert!(r.violations.len() >= 2, "{:?}", r.violations);
    }

    #[test]
    fn encodes_stop_sequences_top_p_and_image_blocks() {
        use crate::neutral::ContentPart;
        let mut user = m(Role::User, "");
        user.parts = vec![
            ContentPart::Image {
                media_type: "image/png".into(),
                data: "AAAA".into(),
            },
            ContentPart::Text("What is this?".into()),
        ];
        let req = ChatRequest {
            model: "claude".into(),
            messages: vec![user],
            stop: vec!["END".into()],
            top_p: Some(0.5),
            ..ChatRequest::default()
        };
        let b = encode(&req, &WireOptions::default()).body;
        assert_eq!(b["stop_sequences"], serde_json::json!(["END"]));
        assert_eq!(b["top_p"], 0.5);
        assert_eq!(
            b["messages"][0]["content"],
            serde_json::json!([{"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "AAAA"}},
                {"type": "text", "text": "What is this?"}])
        );
    }

    #[test]
    fn null_stop_reason_is_a_violation() {
        let body = br#"{"id":"msg_1","type":"message","role":"assistant","model":"c","content":[{"type":"text","text":"Hi"}],
            "stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":1,"output_tokens":1}}"#;
        let r = DialectKind::Anthropic.decode(200, &[], body);
        assert_eq!(r.violations.len(), 1);
        assert!(r.violations[0].contains("`stop_reason` is null"));
    }

    #[test]
    fn decodes_text_usage_and_stop_reason() {
        let body = br#"{"id":"msg_1","type":"message","role":"assistant","model":"c",
            "content":[{"type":"text","text":"Hel"},{"type":"text","text":"lo"}],
            "stop_reason":"max_tokens","stop_sequence":null,"usage":{"input_tokens":5,"output_tokens":8}}"#;
        let r = DialectKind::Anthropic.decode(200, &[("request-id".into(), "req_9".into())], body);
        assert!(r.violations.is_empty(), "{:?}", r.violations);
        assert_eq!(r.text, "Hello");
        assert_eq!(r.finish_reason, Some(FinishReason::Length));
        assert_eq!(r.usage.unwrap().input_tokens, Some(5));
        assert_eq!(r.request_id.as_deref(), Some("req_9"));
    }

    #[test]
    fn decodes_error_body() {
        let body = br#"{"type":"error","error":{"type":"invalid_request_error","message":"messages: text content blocks must be non-empty"}}"#;
        let r = DialectKind::Anthropic.decode(400, &[], body);
        assert!(r.violations.is_empty());
        assert_eq!(
            r.error.unwrap().kind.as_deref(),
            Some("invalid_request_error")
        );
    }
}

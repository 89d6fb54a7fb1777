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

//! Anthropic messages (`POST {base}/v1/messages` with `x-api-key` and `anthropic-version`).

pub(crate) mod stream;

use serde_json::{Map, Value, json};

use super::json::{Check, opt_str};
use super::{WireOp, WireOptions, WireRequest, header};
use crate::neutral::{ChatRequest, FinishReason, ProviderError, Reply, ResponseFormat, Usage};

/// Encodes a request body per `CreateMessageParams`. The Messages API has no system role, so
/// every system or developer message, wherever it stands, is joined into the top-level
/// `system` (blank line between them), as the official SDKs' translators do.
pub fn encode(req: &ChatRequest, opts: &WireOptions) -> WireRequest {
    let mut body = Map::new();
    body.insert("model".into(), json!(req.model));
    let system: Vec<&str> = req
        .messages
        .iter()
        .filter(|m| m.role.is_instruction())
        .map(|m| m.content.as_str())
        .collect();
    let messages =
        super::tools::anthropic_messages(req.messages.iter().filter(|m| !m.role.is_instruction()));
    body.insert("messages".into(), Value::Array(messages));
    super::tools::encode_anthropic(req, &mut body);
    body.insert(
        "max_tokens".into(),
        json!(req.max_tokens.unwrap_or(opts.default_max_tokens)),
    );
    if !system.is_empty() {
        body.insert("system".into(), json!(system.join("\n\n")));
    }
    if let Some(t) = req.temperature {
        body.insert("temperature".into(), json!(t));
    }
    match &req.response_format {
        Some(ResponseFormat::JsonSchema { schema, .. }) => {
            body.insert(
                "output_config".into(),
                json!({"format": {"type": "json_schema", "schema": schema}}),
            );
        }
        // Anthropic has no schema-less JSON mode; the closest contract is a schema that
        // accepts any object. Targets don't declare `json_mode`, so suites skip it there.
        Some(ResponseFormat::JsonObject) => {
            body.insert(
                "output_config".into(),
                json!({"format": {"type": "json_schema", "schema": {"type": "object"}}}),
            );
        }
        Some(ResponseFormat::Text) | None => {}
    }
    if req.stream {
        body.insert("stream".into(), json!(true));
    }
    WireRequest {
        method: "POST",
        path: "/v1/messages",
        headers: vec![
            ("content-type", "application/json".into()),
            ("anthropic-version", opts.anthropic_version.clone()),
        ],
        body: Value::Object(body),
        op: WireOp::Chat,
    }
}

/// Maps Anthropic's `stop_reason` to the neutral one.
pub fn finish_reason(raw: &str) -> FinishReason {
    match raw {
        "end_turn" | "stop_sequence" => FinishReason::Stop,
        "max_tokens" | "model_context_window_exceeded" => FinishReason::Length,
        "tool_use" => FinishReason::ToolCalls,
        "refusal" => FinishReason::Refusal,
        _ => FinishReason::Other,
    }
}

const STOP_REASONS: [&str; 7] = [
    "end_turn",
    "max_tokens",
    "stop_sequence",
    "tool_use",
    "pause_turn",
    "refusal",
    "model_context_window_exceeded",
];

/// Decodes a reply body (already parsed into `reply.raw`) and checks the `Message` contract.
pub fn decode(reply: &mut Reply, headers: &[(String, String)]) {
    reply.request_id = header(headers, "request-id").map(str::to_string);
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
        check.fail("body must be a JSON object (Message)".into());
        reply.raw = raw;
        return;
    }
    reply.id = check.string(&raw, "", "id").map(str::to_string);
    check.constant(&raw, "", "type", "message");
    check.constant(&raw, "", "role", "assistant");
    reply.model = check.string(&raw, "", "model").map(str::to_string);
    if let Some(blocks) = check.array(&raw, "", "content") {
        let mut text = String::new();
        for (i, block) in blocks.iter().enumerate() {
            let path = format!("content[{i}]");
            match check.string(block, &path, "type") {
                Some("text") => text.push_str(check.string(block, &path, "text").unwrap_or("")),
                Some("tool_use") => {
                    let call = super::tools::decode_anthropic(block, &path, &mut check);
                    reply.tool_calls.push(call);
                }
                _ => {}
            }
        }
        reply.text = text;
    }
    // A complete (non-streamed) Message always says why it stopped; null only appears in a
    // stream's message_start.
    match raw.get("stop_reason") {
        None => check.fail("`stop_reason` is missing (required string)".into()),
        Some(Value::Null) => {
            check.fail("`stop_reason` is null: a complete message must say why it stopped".into())
        }
        Some(Value::String(s)) => {
            if !STOP_REASONS.contains(&s.as_str()) {
                check.fail(format!("`stop_reason` has undocumented value {s:?}"));
            }
            reply.finish_reason = Some(finish_reason(s));
            reply.raw_finish_reason = Some(s.clone());
        }
        Some(_) => check.fail("`stop_reason` must be a string".into()),
    }
    check.string_or_null(&raw, "", "stop_sequence");
    if let Some(usage) = check.object(&raw, "", "usage") {
        let input = check.uint(usage, "usage", "input_tokens");
        let output = check.uint(usage, "usage", "output_tokens");
        reply.usage = Some(Usage {
            input_tokens: input,
            output_tokens: output,
        });
    }
    reply.raw = raw;
}

/// Decodes `{"type": "error", "error": {type, message}}`.
fn decode_error(raw: &Value, check: &mut Check<'_>) -> ProviderError {
    check.constant(raw, "", "type", "error");
    let Some(err) = check.object(raw, "", "error") else {
        return ProviderError {
            message: raw.to_string(),
            ..ProviderError::default()
        };
    };
    ProviderError {
        kind: check.string(err, "error", "type").map(str::to_string),
        message: check
            .string(err, "error", "message")
            .unwrap_or_default()
            .to_string(),
        code: None,
        param: opt_str(err, "param"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dialect::DialectKind;
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

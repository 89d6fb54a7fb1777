//! OpenAI's Responses API (`POST {base}/responses`, base ending in `/v1`), which OpenAI
//! recommends for new work and vLLM, llama.cpp's server, LiteLLM and most gateways serve
//! beside chat completions. Tool calls and their results are `input`/`output` items rather
//! than message fields, and streams are typed events with sequence numbers.

mod reply;
mod request;
pub(crate) mod stream;
mod tools;

pub(crate) use reply::{decode, limits};
pub(crate) use request::encode;

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use crate::dialect::Body;
    use crate::dialect::DialectKind;
    use crate::dialect::wire::{WireOp, WireOptions, WireRequest};
    use crate::neutral::{ChatRequest, FinishReason, Message, ResponseFormat, Role};
    use crate::neutral::{Tool, ToolCall, ToolChoice, ToolResult};

    fn req() -> ChatRequest {
        ChatRequest {
            model: "gpt-4o-mini".into(),
            messages: vec![
                Message::new(Role::System, "Be brief."),
                Message::new(Role::User, "Hi"),
                Message::new(Role::Developer, "In French."),
            ],
            max_tokens: Some(40),
            temperature: Some(0.0),
            response_format: Some(ResponseFormat::JsonObject),
            stream: true,
            ..ChatRequest::default()
        }
    }

    #[test]
    fn encodes_instructions_input_and_options() {
        let w = DialectKind::OpenaiResponses.encode(&req(), &WireOptions::default());
        assert_eq!(w.path, "/responses");
        assert_eq!(
            w.body,
            json!({
                "model": "gpt-4o-mini",
                "instructions": "Be brief.\n\nIn French.",
                "input": [{"type": "message", "role": "user", "content": "Hi"}],
                "max_output_tokens": 40,
                "temperature": 0.0,
                "text": {"format": {"type": "json_object"}},
                "stream": true,
            })
        );
        let schema = ChatRequest {
            response_format: Some(ResponseFormat::JsonSchema {
                name: "city".into(),
                schema: json!({"type": "object"}),
                strict: true,
            }),
            max_tokens: Some(5),
            stream: false,
            ..req()
        };
        let body = DialectKind::OpenaiResponses
            .encode(&schema, &WireOptions::default())
            .body;
        assert_eq!(
            body["text"]["format"],
            json!({"type": "json_schema", "name": "city", "schema": {"type": "object"}, "strict": true})
        );
        // The API's minimum.
        assert_eq!(body["max_output_tokens"], 16);
        assert!(body.get("stream").is_none());
    }

    #[test]
    fn encodes_tools_and_a_round_trip_as_items() {
        let args = json!({"city": "Paris"});
        let r = ChatRequest {
            model: "m".into(),
            messages: vec![
                Message::new(Role::User, "Weather?"),
                Message {
                    tool_calls: vec![ToolCall {
                        id: Some("call_1".into()),
                        name: "get_weather".into(),
                        arguments_raw: args.to_string(),
                        arguments: Some(args),
                    }],
                    ..Message::new(Role::Assistant, "Checking.")
                },
                Message {
                    tool_result: Some(ToolResult {
                        call_id: "call_1".into(),
                        name: "get_weather".into(),
                        is_error: false,
                    }),
                    ..Message::new(Role::Tool, "18 C")
                },
            ],
            tools: vec![Tool {
                name: "get_weather".into(),
                description: None,
                parameters: Value::Null,
                strict: None,
            }],
            tool_choice: Some(ToolChoice::Named("get_weather".into())),
            parallel_tool_calls: Some(false),
            ..ChatRequest::default()
        };
        let body = DialectKind::OpenaiResponses
            .encode(&r, &WireOptions::default())
            .body;
        assert_eq!(
            body["input"],
            json!([
                {"type": "message", "role": "user", "content": "Weather?"},
                {"type": "message", "role": "assistant", "content": "Checking."},
                {"type": "function_call", "call_id": "call_1", "name": "get_weather", "arguments": "{\"city\":\"Paris\"}"},
                {"type": "function_call_output", "call_id": "call_1", "output": "18 C"},
            ])
        );
        assert_eq!(
            body["tools"],
            json!([{"type": "function", "name": "get_weather", "parameters": {"type": "object", "properties": {}}, "strict": false}])
        );
        assert_eq!(
            body["tool_choice"],
            json!({"type": "function", "name": "get_weather"})
        );
        assert_eq!(body["parallel_tool_calls"], false);
        for (c, want) in [
            (ToolChoice::Auto, "auto"),
            (ToolChoice::None, "none"),
            (ToolChoice::Required, "required"),
        ] {
            let r = ChatRequest {
                tool_choice: Some(c),
                ..r.clone()
            };
            let body = DialectKind::OpenaiResponses
                .encode(&r, &WireOptions::default())
                .body;
            assert_eq!(body["tool_choice"], want);
        }
    }

    #[test]
    fn encodes_image_parts_top_p_and_logprobs() {
        use crate::neutral::ContentPart;
        let r = ChatRequest {
            messages: vec![Message {
                parts: vec![
                    ContentPart::Text("What is this?".into()),
                    ContentPart::Image {
                        media_type: "image/png".into(),
                        data: "iVBORw0KGgo=".into(),
                    },
                ],
                ..Message::new(Role::User, "")
            }],
            top_p: Some(0.5),
            logprobs: Some(true),
            top_logprobs: Some(2),
            stop: vec!["END".into()],
            ..req()
        };
        let body = DialectKind::OpenaiResponses
            .encode(&r, &WireOptions::default())
            .body;
        assert_eq!(
            body["input"][0]["content"],
            json!([
                {"type": "input_text", "text": "What is this?"},
                {"type": "input_image", "image_url": "data:image/png;base64,iVBORw0KGgo=", "detail": "auto"},
            ])
        );
        assert_eq!(body["top_p"], 0.5);
        assert_eq!(body["include"], json!(["message.output_text.logprobs"]));
        assert_eq!(body["top_logprobs"], 2);
        // No Responses equivalent.
        assert!(body.get("stop").is_none());
    }

    pub(super) fn response(status: &str, output: Value, usage: Value) -> Value {
        let details = match status {
            "incomplete" => json!({"reason": "max_output_tokens"}),
            _ => Value::Null,
        };
        json!({"id": "resp_1", "object": "response", "created_at": 1741476542, "status": status,
            "error": null, "incomplete_details": details, "instructions": null, "model": "gpt-4o-mini",
            "output": output, "parallel_tool_calls": true, "tools": [], "tool_choice": "auto",
            "temperature": 1.0, "top_p": 1.0, "metadata": {}, "usage": usage})
    }

    pub(super) fn message(text: &str) -> Value {
        json!({"type": "message", "id": "msg_1", "status": "completed", "role": "assistant",
            "content": [{"type": "output_text", "text": text, "annotations": [], "logprobs": []}]})
    }

    pub(super) fn usage(output: u64) -> Value {
        json!({"input_tokens": 9, "input_tokens_details": {"cached_tokens": 0, "cache_write_tokens": 0},
            "output_tokens": output, "output_tokens_details": {"reasoning_tokens": 0}, "total_tokens": 9 + output})
    }

    fn wire(max: Option<u32>) -> WireRequest {
        let r = ChatRequest {
            max_tokens: max,
            stream: false,
            ..req()
        };
        DialectKind::OpenaiResponses.encode(&r, &WireOptions::default())
    }

    fn decode(w: &WireRequest, status: u16, body: &Value) -> crate::neutral::Reply {
        let bytes = body.to_string();
        let headers = [("x-request-id".to_string(), "req_1".to_string())];
        DialectKind::OpenaiResponses.decode_response(
            w,
            status,
            &headers,
            Body::Whole(bytes.as_bytes()),
        )
    }

    #[test]
    fn decodes_a_completed_reply() {
        let body = response("completed", json!([message("Hello")]), usage(2));
        let r = decode(&wire(Some(40)), 200, &body);
        assert!(r.violations.is_empty(), "{:?}", r.violations);
        assert_eq!(r.text, "Hello");
        assert_eq!(r.finish_reason, Some(FinishReason::Stop));
        assert_eq!(r.raw_finish_reason.as_deref(), Some("completed"));
        assert_eq!(r.usage.unwrap().output_tokens, Some(2));
        assert_eq!(r.id.as_deref(), Some("resp_1"));
        assert_eq!(r.request_id.as_deref(), Some("req_1"));
        assert_eq!(wire(None).op, WireOp::Chat);
    }

    #[test]
    fn incomplete_at_the_limit_is_length() {
        let body = response("incomplete", json!([message("The ocean")]), usage(16));
        let r = decode(&wire(Some(16)), 200, &body);
        assert!(r.violations.is_empty(), "{:?}", r.violations);
        assert_eq!(r.finish_reason, Some(FinishReason::Length));
        assert_eq!(r.raw_finish_reason.as_deref(), Some("max_output_tokens"));
    }

    #[test]
    fn a_cut_reply_called_completed_and_output_over_the_limit_are_breaches() {
        let body = response("completed", json!([message("The ocean")]), usage(16));
        let r = decode(&wire(Some(16)), 200, &body);
        assert_eq!(r.violations.len(), 1, "{:?}", r.violations);
        assert!(
            r.violations[0].starts_with("status is \"completed\" but `usage.output_tokens` (16) reached `max_output_tokens` (16)"),
            "{:?}",
            r.violations
        );
        let body = response("incomplete", json!([message("The ocean")]), usage(17));
        let r = decode(&wire(Some(16)), 200, &body);
        assert_eq!(
            r.violations,
            vec!["`usage.output_tokens` is 17, over the request's `max_output_tokens` (16)"]
        );
        let mut body = response("incomplete", json!([message("x")]), usage(3));
        body["incomplete_details"] = Value::Null;
        let r = decode(&wire(Some(16)), 200, &body);
        assert_eq!(
            r.violations,
            vec![
                "`status` is \"incomplete\" but `incomplete_details` is missing or null (it must give the reason)"
            ]
        );
    }

    #[test]
    fn function_calls_and_refusals() {
        let call = json!({"type": "function_call", "id": "fc_1", "call_id": "call_1", "name": "get_weather",
            "arguments": "{\"city\":\"Paris\"}", "status": "completed"});
        let r = decode(
            &wire(None),
            200,
            &response("completed", json!([call]), usage(9)),
        );
        assert!(r.violations.is_empty(), "{:?}", r.violations);
        assert_eq!(r.finish_reason, Some(FinishReason::ToolCalls));
        assert_eq!(r.tool_calls[0].id.as_deref(), Some("call_1"));
        assert_eq!(r.tool_calls[0].arguments, Some(json!({"city": "Paris"})));
        let refusal = json!({"type": "message", "id": "msg_1", "status": "completed", "role": "assistant",
            "content": [{"type": "refusal", "refusal": "I can't help with that."}]});
        let r = decode(
            &wire(None),
            200,
            &response("completed", json!([refusal]), usage(6)),
        );
        assert!(r.violations.is_empty(), "{:?}", r.violations);
        assert_eq!(r.finish_reason, Some(FinishReason::Refusal));
    }

    #[test]
    fn wrong_shapes_are_named() {
        let mut body = response(
            "done",
            json!([{"type": "message", "id": "m", "status": "completed",
            "role": "assistant", "content": [{"type": "text", "text": "x"}]}]),
            usage(1),
        );
        body["object"] = json!("chat.completion");
        let r = decode(&wire(None), 200, &body);
        assert_eq!(
            r.violations,
            vec![
                "`object` must be \"response\", got \"chat.completion\"",
                "`status` has undocumented value \"done\"",
                "`output[0].content[0].type` has undocumented value \"text\" (expected \"output_text\" or \"refusal\")",
                "`status` is \"done\": a synchronous reply must be \"completed\", \"incomplete\" or \"failed\"",
            ]
        );
    }

    #[test]
    fn error_bodies_use_openai_s_envelope() {
        let body = json!({"error": {"message": "Invalid 'input[0].role'", "type": "invalid_request_error",
            "param": "input[0].role", "code": "invalid_value"}});
        let r = decode(&wire(None), 400, &body);
        assert!(r.violations.is_empty(), "{:?}", r.violations);
        let e = r.error.unwrap();
        assert_eq!(e.code.as_deref(), Some("invalid_value"));
        let r = decode(&wire(None), 500, &json!({"detail": "boom"}));
        assert_eq!(r.violations, vec!["`error` is missing (required object)"]);
        assert_eq!(
            DialectKind::OpenaiResponses.error_body(429)["error"]["code"],
            "rate_limit_exceeded"
        );
    }
}

//! What the dialects' tool encoders share: the schema sent for a tool that declares none and
//! a call's arguments as an object. Each dialect's own tool calling is in its folder.

use serde_json::{Value, json};

use crate::neutral::ToolCall;

/// The parameters schema sent for a tool that declares none: Anthropic requires an object
/// schema, and an empty one accepts any arguments object.
pub(crate) fn parameters(p: &Value) -> Value {
    if p.is_null() {
        json!({"type": "object", "properties": {}})
    } else {
        p.clone()
    }
}

/// A call's arguments as an object, for the dialects that send objects (Anthropic `input`,
/// Ollama `arguments`): the parsed value, else the raw text parsed, else `{}`.
pub(crate) fn arguments_object(c: &ToolCall) -> Value {
    c.arguments
        .clone()
        .or_else(|| serde_json::from_str(&c.arguments_raw).ok())
        .unwrap_or_else(|| json!({}))
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use crate::dialect::DialectKind;
    use crate::neutral::{ChatRequest, FinishReason, Message, ToolCall, ToolChoice};
    use crate::neutral::{Role, Tool, ToolResult};

    fn weather() -> Tool {
        Tool {
            name: "get_weather".into(),
            description: Some("Current weather for a city.".into()),
            parameters: json!({"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}),
            strict: Some(true),
        }
    }

    fn call(id: &str, city: &str) -> ToolCall {
        let args = json!({"city": city});
        ToolCall {
            id: Some(id.into()),
            name: "get_weather".into(),
            arguments_raw: args.to_string(),
            arguments: Some(args),
        }
    }

    fn result(id: &str, content: &str) -> Message {
        Message {
            tool_result: Some(ToolResult {
                call_id: id.into(),
                name: "get_weather".into(),
                is_error: false,
            }),
            ..Message::new(Role::Tool, content)
        }
    }

    fn conversation() -> Vec<Message> {
        vec![
            Message::new(Role::User, "Weather in Paris and Tokyo?"),
            Message {
                tool_calls: vec![call("call_1", "Paris"), call("call_2", "Tokyo")],
                ..Message::new(Role::Assistant, "")
            },
            result("call_1", "18 C"),
            Message {
                tool_result: Some(ToolResult {
                    call_id: "call_2".into(),
                    name: "get_weather".into(),
                    is_error: true,
                }),
                ..Message::new(Role::Tool, "unknown city")
            },
        ]
    }

    fn request(choice: Option<ToolChoice>, parallel: Option<bool>) -> ChatRequest {
        ChatRequest {
            model: "m".into(),
            messages: conversation(),
            tools: vec![
                weather(),
                Tool {
                    name: "get_time".into(),
                    description: None,
                    parameters: Value::Null,
                    strict: None,
                },
            ],
            tool_choice: choice,
            parallel_tool_calls: parallel,
            ..ChatRequest::default()
        }
    }

    #[test]
    fn openai_tools_choice_and_turns() {
        let body = DialectKind::Openai
            .encode(
                &request(Some(ToolChoice::Named("get_weather".into())), Some(false)),
                &Default::default(),
            )
            .body;
        assert_eq!(body["tools"][0]["type"], "function");
        assert_eq!(body["tools"][0]["function"]["strict"], true);
        assert_eq!(
            body["tools"][1]["function"],
            json!({"name": "get_time", "parameters": {"type": "object", "properties": {}}})
        );
        assert_eq!(
            body["tool_choice"],
            json!({"type": "function", "function": {"name": "get_weather"}})
        );
        assert_eq!(body["parallel_tool_calls"], false);
        let msgs = body["messages"].as_array().unwrap();
        assert_eq!(msgs[1]["content"], Value::Null);
        assert_eq!(
            msgs[1]["tool_calls"][1],
            json!({"id": "call_2", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\":\"Tokyo\"}"}})
        );
        assert_eq!(
            msgs[2],
            json!({"role": "tool", "tool_call_id": "call_1", "content": "18 C"})
        );
        for (c, want) in [
            (ToolChoice::Auto, json!("auto")),
            (ToolChoice::None, json!("none")),
            (ToolChoice::Required, json!("required")),
        ] {
            let body = DialectKind::Openai
                .encode(&request(Some(c), None), &Default::default())
                .body;
            assert_eq!(body["tool_choice"], want);
            assert!(body.get("parallel_tool_calls").is_none());
        }
    }

    #[test]
    fn anthropic_tools_choice_and_merged_results() {
        let enc = |c, p| {
            DialectKind::Anthropic
                .encode(&request(c, p), &Default::default())
                .body
        };
        let body = enc(Some(ToolChoice::Required), Some(false));
        assert_eq!(
            body["tool_choice"],
            json!({"type": "any", "disable_parallel_tool_use": true})
        );
        assert_eq!(
            body["tools"][0]["input_schema"]["required"],
            json!(["city"])
        );
        assert_eq!(body["tools"][0]["strict"], true);
        let msgs = body["messages"].as_array().unwrap();
        assert_eq!(
            msgs.len(),
            3,
            "the two results share one user turn: {msgs:?}"
        );
        assert_eq!(
            msgs[1]["content"][0],
            json!({"type": "tool_use", "id": "call_1", "name": "get_weather", "input": {"city": "Paris"}})
        );
        assert_eq!(msgs[2]["role"], "user");
        assert_eq!(
            msgs[2]["content"],
            json!([
                {"type": "tool_result", "tool_use_id": "call_1", "content": "18 C"},
                {"type": "tool_result", "tool_use_id": "call_2", "content": "unknown city", "is_error": true}
            ])
        );
        assert_eq!(
            enc(None, Some(true))["tool_choice"],
            json!({"type": "auto", "disable_parallel_tool_use": false})
        );
        assert_eq!(
            enc(Some(ToolChoice::None), Some(false))["tool_choice"],
            json!({"type": "none"})
        );
        assert_eq!(
            enc(Some(ToolChoice::Named("get_time".into())), None)["tool_choice"],
            json!({"type": "tool", "name": "get_time"})
        );
        assert!(enc(None, None).get("tool_choice").is_none());
    }

    #[test]
    fn ollama_has_no_tool_choice() {
        let enc = |c| {
            DialectKind::Ollama
                .encode(&request(c, Some(true)), &Default::default())
                .body
        };
        let all = enc(Some(ToolChoice::Required));
        assert_eq!(all["tools"].as_array().unwrap().len(), 2);
        assert!(all.get("tool_choice").is_none() && all.get("parallel_tool_calls").is_none());
        assert!(all["tools"][0]["function"].get("strict").is_none());
        assert!(enc(Some(ToolChoice::None)).get("tools").is_none());
        let named = enc(Some(ToolChoice::Named("get_time".into())));
        assert_eq!(named["tools"].as_array().unwrap().len(), 1);
        assert_eq!(named["tools"][0]["function"]["name"], "get_time");
        let msgs = all["messages"].as_array().unwrap();
        assert_eq!(
            msgs[1]["tool_calls"][0],
            json!({"id": "call_1", "function": {"name": "get_weather", "arguments": {"city": "Paris"}}})
        );
        assert_eq!(
            msgs[2],
            json!({"role": "tool", "content": "18 C", "tool_name": "get_weather", "tool_call_id": "call_1"})
        );
    }

    fn openai_reply(finish: &str, calls: Value) -> Vec<u8> {
        json!({"id": "chatcmpl-1", "object": "chat.completion", "created": 1, "model": "m",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": null, "refusal": null, "tool_calls": calls},
                "logprobs": null, "finish_reason": finish}]})
        .to_string()
        .into_bytes()
    }

    #[test]
    fn openai_calls_are_decoded_and_checked() {
        let calls = json!([
            {"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\":\"Paris\"}"}},
            {"id": "call_2", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\": \"Par"}},
        ]);
        let r = DialectKind::Openai.decode(200, &[], &openai_reply("tool_calls", calls));
        assert!(r.violations.is_empty(), "{:?}", r.violations);
        assert_eq!(r.finish_reason, Some(FinishReason::ToolCalls));
        assert_eq!(r.tool_calls[0], call("call_1", "Paris"));
        assert_eq!(r.tool_calls[1].arguments, None);
        assert_eq!(r.tool_calls[1].arguments_raw, "{\"city\": \"Par");
        let bad = json!([{"type": "custom", "function": {"arguments": "{}"}}]);
        let r = DialectKind::Openai.decode(200, &[], &openai_reply("tool_calls", bad));
        assert_eq!(
            r.violations,
            vec![
                "`choices[0].message.tool_calls[0].id` is missing (required string)",
                "`choices[0].message.tool_calls[0].type` must be \"function\", got \"custom\"",
                "`choices[0].message.tool_calls[0].function.name` is missing (required string)",
            ]
        );
    }

    #[test]
    fn finish_reason_must_agree_with_the_calls() {
        let one = json!([{"id": "call_1", "type": "function", "function": {"name": "f", "arguments": "{}"}}]);
        let auto = json!({"tool_choice": "auto"});
        let check = |finish: &str, calls: Value, request: &Value| {
            let mut r = DialectKind::Openai.decode(200, &[], &openai_reply(finish, calls));
            DialectKind::Openai.check_tool_agreement(request, &mut r);
            r
        };
        let r = check("tool_calls", Value::Null, &auto);
        assert_eq!(
            r.violations,
            vec![
                "`choices[0].finish_reason` is \"tool_calls\" but `choices[0].message.tool_calls` carries no call"
            ]
        );
        let r = check("stop", one.clone(), &auto);
        assert_eq!(r.finish_reason, Some(FinishReason::ToolCalls));
        assert!(r.violations[0].starts_with("`choices[0].finish_reason` is \"stop\" but `choices[0].message.tool_calls` carries 1 tool call"), "{:?}", r.violations);
        let forced = json!({"tool_choice": {"type": "function", "function": {"name": "f"}}});
        assert!(check("stop", one.clone(), &forced).violations.is_empty());
        assert!(
            check("stop", one.clone(), &json!({"tool_choice": "required"}))
                .violations
                .is_empty()
        );
        assert!(check("length", one, &auto).violations.is_empty());

        let msg = |stop: &str, blocks: Value| {
            let body = json!({"id": "msg_1", "type": "message", "role": "assistant", "model": "c", "content": blocks,
                "stop_reason": stop, "stop_sequence": null, "usage": {"input_tokens": 1, "output_tokens": 1}});
            let mut r = DialectKind::Anthropic.decode(200, &[], body.to_string().as_bytes());
            DialectKind::Anthropic
                .check_tool_agreement(&json!({"tool_choice": {"type": "any"}}), &mut r);
            r
        };
        let tool_use = json!([{"type": "tool_use", "id": "toolu_1", "name": "f", "input": {}}]);
        assert!(msg("tool_use", tool_use.clone()).violations.is_empty());
        assert_eq!(
            msg("end_turn", tool_use).violations,
            vec![
                "`content` has 1 tool_use block but `stop_reason` is \"end_turn\" (expected \"tool_use\")"
            ]
        );
        assert_eq!(
            msg("tool_use", json!([{"type": "text", "text": "Hi"}])).violations,
            vec!["`stop_reason` is \"tool_use\" but `content` has no tool_use block"]
        );
        let r = msg(
            "tool_use",
            json!([{"type": "tool_use", "name": "f", "input": {"a": 1}}]),
        );
        assert_eq!(
            r.violations,
            vec!["`content[0].id` is missing (required string)"]
        );
        assert_eq!(r.tool_calls[0].arguments, Some(json!({"a": 1})));
    }

    #[test]
    fn streamed_replies_are_held_to_the_same_agreement() {
        use crate::dialect::decode_stream;
        use crate::dialect::stream::testing::sse;
        use crate::dialect::stream::{StreamEnd, StreamOptions};
        let ev = |name: &'static str, data: Value| (Some(name), data.to_string());
        let events = [
            ev(
                "message_start",
                json!({"type": "message_start", "message": {"id": "msg_1", "type": "message", "role": "assistant",
                "content": [], "model": "c", "stop_reason": null, "stop_sequence": null, "usage": {"input_tokens": 5, "output_tokens": 1}}}),
            ),
            ev(
                "content_block_start",
                json!({"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}}),
            ),
            ev(
                "content_block_delta",
                json!({"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "Hi"}}),
            ),
            ev(
                "content_block_stop",
                json!({"type": "content_block_stop", "index": 0}),
            ),
            ev(
                "message_delta",
                json!({"type": "message_delta", "delta": {"stop_reason": "tool_use", "stop_sequence": null}, "usage": {"output_tokens": 3}}),
            ),
            ev("message_stop", json!({"type": "message_stop"})),
        ];
        let frames: Vec<(Option<&str>, &str)> =
            events.iter().map(|(n, d)| (*n, d.as_str())).collect();
        let mut r = decode_stream(
            DialectKind::Anthropic,
            200,
            &[],
            &sse(&frames),
            &StreamEnd::Clean,
            &StreamOptions::default(),
        );
        assert!(r.violations.is_empty(), "{:?}", r.violations);
        DialectKind::Anthropic.check_tool_agreement(&json!({}), &mut r);
        assert_eq!(
            r.violations,
            vec![
                "`message_delta.delta.stop_reason` is \"tool_use\" but the stream's content has no tool_use block"
            ]
        );
        // A stream that never finished has no finish reason to disagree with.
        let mut cut = decode_stream(
            DialectKind::Anthropic,
            200,
            &[],
            &sse(&frames[..3]),
            &StreamEnd::Cut("reset".into()),
            &StreamOptions::default(),
        );
        let before = cut.violations.len();
        DialectKind::Anthropic.check_tool_agreement(&json!({}), &mut cut);
        assert_eq!(cut.violations.len(), before);
    }

    #[test]
    fn ollama_calls_are_decoded() {
        let body = json!({"model": "m", "created_at": "2024-01-01T00:00:00Z",
            "message": {"role": "assistant", "content": "", "tool_calls": [
                {"function": {"name": "get_weather", "arguments": {"city": "Paris"}}},
                {"function": {"name": "get_time", "arguments": "{}"}}]},
            "done": true, "done_reason": "stop", "eval_count": 5});
        let r = DialectKind::Ollama.decode(200, &[], body.to_string().as_bytes());
        assert_eq!(r.finish_reason, Some(FinishReason::ToolCalls));
        assert_eq!(r.tool_calls.len(), 2);
        assert_eq!(r.tool_calls[0].arguments, Some(json!({"city": "Paris"})));
        assert_eq!(
            r.violations,
            vec!["`message.tool_calls[1].function.arguments` must be an object, got string"]
        );
    }
}

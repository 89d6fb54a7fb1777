//! Tool calling in the three dialects: how offered tools, the tool choice, assistant turns that
//! called tools and tool results are encoded, how tool calls are read back out of a reply, and
//! the contract checks that tie a reply's finish reason to the calls it carries.
//!
//! Kept apart from `openai.rs`, `anthropic.rs` and `ollama.rs` so each of them only calls in
//! here at the one place where a request body or a reply message is assembled.

use serde_json::{Map, Value, json};

use super::DialectKind;
use super::json::Check;
use crate::neutral::{ChatRequest, FinishReason, Message, Reply, ToolCall, ToolChoice};

/// The parameters schema sent for a tool that declares none: Anthropic requires an object
/// schema, and an empty one accepts any arguments object.
fn parameters(p: &Value) -> Value {
    if p.is_null() {
        json!({"type": "object", "properties": {}})
    } else {
        p.clone()
    }
}

/// A call's arguments as an object, for the dialects that send objects (Anthropic `input`,
/// Ollama `arguments`): the parsed value, else the raw text parsed, else `{}`.
fn arguments_object(c: &ToolCall) -> Value {
    c.arguments
        .clone()
        .or_else(|| serde_json::from_str(&c.arguments_raw).ok())
        .unwrap_or_else(|| json!({}))
}

// ---- OpenAI ---------------------------------------------------------------------------------

/// Adds `tools`, `tool_choice` and `parallel_tool_calls` to an OpenAI body.
pub(crate) fn encode_openai(req: &ChatRequest, body: &mut Map<String, Value>) {
    if !req.tools.is_empty() {
        let tools: Vec<Value> = req
            .tools
            .iter()
            .map(|t| {
                let mut f = Map::new();
                f.insert("name".into(), json!(t.name));
                if let Some(d) = &t.description {
                    f.insert("description".into(), json!(d));
                }
                f.insert("parameters".into(), parameters(&t.parameters));
                if let Some(s) = t.strict {
                    f.insert("strict".into(), json!(s));
                }
                json!({"type": "function", "function": Value::Object(f)})
            })
            .collect();
        body.insert("tools".into(), Value::Array(tools));
    }
    if let Some(c) = &req.tool_choice {
        let v = match c {
            ToolChoice::Auto => json!("auto"),
            ToolChoice::None => json!("none"),
            ToolChoice::Required => json!("required"),
            ToolChoice::Named(n) => json!({"type": "function", "function": {"name": n}}),
        };
        body.insert("tool_choice".into(), v);
    }
    if let Some(p) = req.parallel_tool_calls {
        body.insert("parallel_tool_calls".into(), json!(p));
    }
}

/// One OpenAI message: a tool result is role `tool` with `tool_call_id`; an assistant turn
/// that called tools carries `tool_calls` (with `content: null` when it said nothing).
pub(crate) fn openai_message(m: &Message) -> Value {
    if let Some(r) = &m.tool_result {
        return json!({"role": m.role.as_str(), "tool_call_id": r.call_id, "content": m.content});
    }
    if m.tool_calls.is_empty() {
        return json!({"role": m.role.as_str(), "content": m.content});
    }
    let calls: Vec<Value> = m
        .tool_calls
        .iter()
        .map(|c| {
            json!({
                "id": c.id.clone().unwrap_or_default(),
                "type": "function",
                "function": {"name": c.name, "arguments": c.arguments_raw},
            })
        })
        .collect();
    let content = if m.content.is_empty() {
        Value::Null
    } else {
        json!(m.content)
    };
    json!({"role": m.role.as_str(), "content": content, "tool_calls": calls})
}

/// Reads `message.tool_calls` of an OpenAI reply, checking each call's `id`, `type`,
/// `function.name` and `function.arguments` (a string that need not be valid JSON: then
/// [`ToolCall::arguments`] is `None` and the text is kept as sent).
pub(crate) fn decode_openai(msg: &Value, mpath: &str, check: &mut Check<'_>) -> Vec<ToolCall> {
    let calls = match msg.get("tool_calls") {
        None | Some(Value::Null) => return Vec::new(),
        Some(Value::Array(calls)) => calls,
        Some(_) => {
            check.fail(format!("`{mpath}.tool_calls` must be an array"));
            return Vec::new();
        }
    };
    let mut out = Vec::new();
    for (i, tc) in calls.iter().enumerate() {
        let path = format!("{mpath}.tool_calls[{i}]");
        let id = check.string(tc, &path, "id").map(str::to_string);
        check.constant(tc, &path, "type", "function");
        let Some(f) = check.object(tc, &path, "function") else {
            continue;
        };
        let fpath = format!("{path}.function");
        let name = check.string(f, &fpath, "name").unwrap_or_default();
        let raw = check.string(f, &fpath, "arguments").unwrap_or_default();
        out.push(ToolCall {
            id,
            name: name.to_string(),
            arguments_raw: raw.to_string(),
            arguments: serde_json::from_str(raw).ok(),
        });
    }
    out
}

/// OpenAI's `finish_reason` in neutral form. A reply that called tools but says `stop` (what
/// OpenAI answers to a forced tool choice) stopped to call them, as Ollama's `stop` does.
pub(crate) fn openai_finish(raw: &str, has_calls: bool) -> FinishReason {
    match super::openai::finish_reason(raw) {
        FinishReason::Stop if has_calls => FinishReason::ToolCalls,
        other => other,
    }
}

// ---- Anthropic ------------------------------------------------------------------------------

/// Adds `tools` and `tool_choice` to an Anthropic body. `parallel_tool_calls: false` is
/// `disable_parallel_tool_use: true` inside the tool choice (an `auto` one when none was
/// asked for); `tool_choice: none` takes no such flag.
pub(crate) fn encode_anthropic(req: &ChatRequest, body: &mut Map<String, Value>) {
    if !req.tools.is_empty() {
        let tools: Vec<Value> = req
            .tools
            .iter()
            .map(|t| {
                let mut o = Map::new();
                o.insert("name".into(), json!(t.name));
                if let Some(d) = &t.description {
                    o.insert("description".into(), json!(d));
                }
                o.insert("input_schema".into(), parameters(&t.parameters));
                if let Some(s) = t.strict {
                    o.insert("strict".into(), json!(s));
                }
                Value::Object(o)
            })
            .collect();
        body.insert("tools".into(), Value::Array(tools));
    }
    let mut choice = match (&req.tool_choice, req.parallel_tool_calls) {
        (None, None) => return,
        (None | Some(ToolChoice::Auto), _) => json!({"type": "auto"}),
        (Some(ToolChoice::None), _) => json!({"type": "none"}),
        (Some(ToolChoice::Required), _) => json!({"type": "any"}),
        (Some(ToolChoice::Named(n)), _) => json!({"type": "tool", "name": n}),
    };
    if let Some(p) = req.parallel_tool_calls
        && req.tool_choice != Some(ToolChoice::None)
    {
        choice["disable_parallel_tool_use"] = json!(!p);
    }
    body.insert("tool_choice".into(), choice);
}

/// The Anthropic `messages` for the conversation turns (instructions already removed): an
/// assistant turn that called tools becomes `text` + `tool_use` blocks; tool results become
/// `tool_result` blocks of a `user` turn, consecutive results sharing one turn as the API
/// wants the results of parallel calls.
pub(crate) fn anthropic_messages<'a>(turns: impl Iterator<Item = &'a Message>) -> Vec<Value> {
    let mut out: Vec<Value> = Vec::new();
    let mut results_open = false;
    for m in turns {
        if let Some(r) = &m.tool_result {
            let mut block =
                json!({"type": "tool_result", "tool_use_id": r.call_id, "content": m.content});
            if r.is_error {
                block["is_error"] = json!(true);
            }
            match out.last_mut() {
                Some(last) if results_open => {
                    if let Some(blocks) = last["content"].as_array_mut() {
                        blocks.push(block);
                    }
                }
                _ => out.push(json!({"role": "user", "content": [block]})),
            }
            results_open = true;
            continue;
        }
        results_open = false;
        if m.tool_calls.is_empty() {
            out.push(json!({"role": m.role.as_str(), "content": m.content}));
            continue;
        }
        let mut blocks = Vec::new();
        // The API rejects empty text blocks.
        if !m.content.is_empty() {
            blocks.push(json!({"type": "text", "text": m.content}));
        }
        for c in &m.tool_calls {
            blocks.push(json!({
                "type": "tool_use",
                "id": c.id.clone().unwrap_or_default(),
                "name": c.name,
                "input": arguments_object(c),
            }));
        }
        out.push(json!({"role": m.role.as_str(), "content": blocks}));
    }
    out
}

/// Reads one `tool_use` block of an Anthropic reply (`id`, `name` and an `input` object are
/// required).
pub(crate) fn decode_anthropic(block: &Value, path: &str, check: &mut Check<'_>) -> ToolCall {
    let id = check.string(block, path, "id").map(str::to_string);
    let name = check
        .string(block, path, "name")
        .unwrap_or_default()
        .to_string();
    let input = check.object(block, path, "input");
    ToolCall {
        id,
        name,
        arguments_raw: input.map(Value::to_string).unwrap_or_default(),
        arguments: input.cloned(),
    }
}

// ---- Ollama ---------------------------------------------------------------------------------

/// Adds `tools` to an Ollama body. Ollama has no tool choice: `none` sends no tools at all
/// (the model then cannot call one), a named tool is sent alone (the model can call no
/// other, but may still answer in text), `required` cannot be expressed and sends them all.
/// Ollama has no parallel switch either; `parallel_tool_calls` is not sent.
pub(crate) fn encode_ollama(req: &ChatRequest, body: &mut Map<String, Value>) {
    let offered: Vec<&crate::neutral::Tool> = match &req.tool_choice {
        Some(ToolChoice::None) => return,
        Some(ToolChoice::Named(n)) if req.tools.iter().any(|t| &t.name == n) => {
            req.tools.iter().filter(|t| &t.name == n).collect()
        }
        _ => req.tools.iter().collect(),
    };
    if offered.is_empty() {
        return;
    }
    let tools: Vec<Value> = offered
        .into_iter()
        .map(|t| {
            let mut f = Map::new();
            f.insert("name".into(), json!(t.name));
            if let Some(d) = &t.description {
                f.insert("description".into(), json!(d));
            }
            f.insert("parameters".into(), parameters(&t.parameters));
            json!({"type": "function", "function": Value::Object(f)})
        })
        .collect();
    body.insert("tools".into(), Value::Array(tools));
}

/// One Ollama message: a tool result is role `tool` with `tool_name` (and `tool_call_id`,
/// which newer servers use to tell apart two calls of one tool); an assistant turn that
/// called tools carries `tool_calls` with object arguments.
pub(crate) fn ollama_message(m: &Message) -> Value {
    if let Some(r) = &m.tool_result {
        return json!({
            "role": m.role.as_str(),
            "content": m.content,
            "tool_name": r.name,
            "tool_call_id": r.call_id,
        });
    }
    if m.tool_calls.is_empty() {
        return json!({"role": m.role.as_str(), "content": m.content});
    }
    let calls: Vec<Value> = m
        .tool_calls
        .iter()
        .map(|c| {
            let mut call = json!({"function": {"name": c.name, "arguments": arguments_object(c)}});
            if let Some(id) = &c.id {
                call["id"] = json!(id);
            }
            call
        })
        .collect();
    json!({"role": m.role.as_str(), "content": m.content, "tool_calls": calls})
}

/// Reads `message.tool_calls` of an Ollama reply: each has a `function` with a `name` and an
/// `arguments` object; `id` is optional.
pub(crate) fn decode_ollama(msg: &Value, check: &mut Check<'_>) -> Vec<ToolCall> {
    let calls = match msg.get("tool_calls") {
        None | Some(Value::Null) => return Vec::new(),
        Some(Value::Array(calls)) => calls,
        Some(_) => {
            check.fail("`message.tool_calls` must be an array".into());
            return Vec::new();
        }
    };
    let mut out = Vec::new();
    for (i, tc) in calls.iter().enumerate() {
        let path = format!("message.tool_calls[{i}]");
        let Some(f) = check.object(tc, &path, "function") else {
            continue;
        };
        let fpath = format!("{path}.function");
        let name = check.string(f, &fpath, "name").unwrap_or_default();
        let args = check.object(f, &fpath, "arguments");
        // Arguments sent as a string (the OpenAI habit) break the contract; their text is
        // still kept so the failure can show it.
        let raw = match f.get("arguments") {
            Some(Value::String(s)) => s.clone(),
            Some(v) => v.to_string(),
            None => String::new(),
        };
        out.push(ToolCall {
            id: tc.get("id").and_then(Value::as_str).map(str::to_string),
            name: name.to_string(),
            arguments_raw: raw,
            arguments: args.cloned(),
        });
    }
    out
}

// ---- Contract: the finish reason agrees with the calls ---------------------------------------

/// True when the request obliged the model to call a tool (`tool_choice` `required`/`any` or a
/// named tool), read from the encoded body.
fn forced(dialect: DialectKind, request: &Value) -> bool {
    match (dialect, request.get("tool_choice")) {
        (DialectKind::Openai, Some(Value::String(s))) => s == "required",
        (DialectKind::Openai, Some(Value::Object(_))) => true,
        (DialectKind::Anthropic, Some(c)) => {
            matches!(c.get("type").and_then(Value::as_str), Some("any" | "tool"))
        }
        _ => false,
    }
}

impl DialectKind {
    /// Checks that a complete 2xx reply's finish reason agrees with the tool calls it carries,
    /// recording a violation naming the field when it does not. `request` is the body that was
    /// sent: OpenAI answers a forced tool choice with `finish_reason: "stop"` (seen on
    /// gpt-4o-mini, and copied by vLLM for named choices), so that pairing is only a breach
    /// when the request did not force a call. Ollama's `done_reason` has no value for tool
    /// calls (`stop` is documented for both), so there is nothing to disagree with.
    pub fn check_tool_agreement(self, request: &Value, reply: &mut Reply) {
        if !(200..300).contains(&reply.status) || reply.error.is_some() {
            return;
        }
        let Some(raw) = reply.raw_finish_reason.as_deref() else {
            return;
        };
        let n = reply.tool_calls.len();
        let streamed = reply.stream.is_some();
        let calls = |n: usize| {
            if n == 1 {
                "1 tool call".to_string()
            } else {
                format!("{n} tool calls")
            }
        };
        let msg = match self {
            DialectKind::Openai => {
                let field = if streamed {
                    "the stream's `finish_reason`"
                } else {
                    "`choices[0].finish_reason`"
                };
                let calls_field = if streamed {
                    "the stream's `delta.tool_calls`"
                } else {
                    "`choices[0].message.tool_calls`"
                };
                match raw {
                    "tool_calls" | "function_call" if n == 0 => Some(format!(
                        "{field} is {raw:?} but {calls_field} carries no call"
                    )),
                    "stop" if n > 0 && !forced(self, request) => Some(format!(
                        "{field} is \"stop\" but {calls_field} carries {} (expected \"tool_calls\"; \"stop\" is tolerated only when `tool_choice` forces a call)",
                        calls(n)
                    )),
                    _ => None,
                }
            }
            DialectKind::Anthropic => {
                let (field, content) = if streamed {
                    ("`message_delta.delta.stop_reason`", "the stream's content")
                } else {
                    ("`stop_reason`", "`content`")
                };
                match raw {
                    "tool_use" if n == 0 => Some(format!(
                        "{field} is \"tool_use\" but {content} has no tool_use block"
                    )),
                    "end_turn" | "stop_sequence" if n > 0 => Some(format!(
                        "{content} has {} but {field} is {raw:?} (expected \"tool_use\")",
                        if n == 1 {
                            "1 tool_use block".to_string()
                        } else {
                            format!("{n} tool_use blocks")
                        }
                    )),
                    _ => None,
                }
            }
            DialectKind::Ollama => None,
        };
        reply.violations.extend(msg);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
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
        use crate::dialect::stream::testing::sse;
        use crate::dialect::stream::{StreamEnd, StreamOptions, decode_stream};
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

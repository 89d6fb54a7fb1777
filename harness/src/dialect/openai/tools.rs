//! OpenAI tool calling: `tools`, `tool_choice` and `parallel_tool_calls` in the request,
//! assistant turns that called tools and tool results, the calls read back from a reply, and
//! the contract tying `finish_reason` to those calls.

use serde_json::{Map, Value, json};

use crate::dialect::json::Check;
use crate::dialect::tools::parameters;
use crate::neutral::{ChatRequest, Message, Reply, ToolCall, ToolChoice};

/// Adds `tools`, `tool_choice` and `parallel_tool_calls` to an OpenAI body.
pub(crate) fn encode(req: &ChatRequest, body: &mut Map<String, Value>) {
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
pub(crate) fn message(m: &Message) -> Value {
    if let Some(r) = &m.tool_result {
        return json!({"role": m.role.as_str(), "tool_call_id": r.call_id, "content": m.content});
    }
    if m.tool_calls.is_empty() {
        return json!({"role": m.role.as_str(), "content": super::request::content(m)});
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
pub(crate) fn decode(msg: &Value, mpath: &str, check: &mut Check<'_>) -> Vec<ToolCall> {
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

/// True when the request obliged the model to call a tool (`tool_choice` `required` or a
/// named tool), read from the encoded body.
fn forced(request: &Value) -> bool {
    match request.get("tool_choice") {
        Some(Value::String(s)) => s == "required",
        Some(Value::Object(_)) => true,
        _ => false,
    }
}

/// Whether a complete 2xx reply's finish reason (`raw`) agrees with its tool calls; the breach
/// otherwise. OpenAI answers a forced tool choice with `finish_reason: "stop"` (seen on
/// gpt-4o-mini, and copied by vLLM for named choices), so that pairing is only a breach when
/// `request` (the body sent) did not force a call.
pub(crate) fn agreement(request: &Value, raw: &str, reply: &Reply) -> Option<String> {
    let n = reply.tool_calls.len();
    let streamed = reply.stream.is_some();
    let calls = |n: usize| {
        if n == 1 {
            "1 tool call".to_string()
        } else {
            format!("{n} tool calls")
        }
    };
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
        "stop" if n > 0 && !forced(request) => Some(format!(
            "{field} is \"stop\" but {calls_field} carries {} (expected \"tool_calls\"; \"stop\" is tolerated only when `tool_choice` forces a call)",
            calls(n)
        )),
        _ => None,
    }
}

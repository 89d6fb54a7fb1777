//! Ollama tool calling: the tools offered (Ollama has no tool choice) and the calls read back.

use serde_json::{Map, Value, json};

use crate::dialect::json::Check;
use crate::dialect::tools::{arguments_object, parameters};
use crate::neutral::{ChatRequest, Message, ToolCall, ToolChoice};

/// Adds `tools` to an Ollama body. Ollama has no tool choice: `none` sends no tools at all
/// (the model then cannot call one), a named tool is sent alone (the model can call no
/// other, but may still answer in text), `required` cannot be expressed and sends them all.
/// Ollama has no parallel switch either; `parallel_tool_calls` is not sent.
pub(crate) fn encode(req: &ChatRequest, body: &mut Map<String, Value>) {
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
pub(crate) fn message(m: &Message) -> Value {
    if let Some(r) = &m.tool_result {
        return json!({
            "role": m.role.as_str(),
            "content": m.content,
            "tool_name": r.name,
            "tool_call_id": r.call_id,
        });
    }
    if m.tool_calls.is_empty() {
        return super::request::plain_message(m);
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
pub(crate) fn decode(msg: &Value, check: &mut Check<'_>) -> Vec<ToolCall> {
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

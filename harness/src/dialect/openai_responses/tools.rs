//! Responses tool calling: flat function `tools`, `tool_choice` and `parallel_tool_calls` in
//! the request; `function_call` and `function_call_output` input items for a tool round
//! trip; and `function_call` output items read back.

use serde_json::{Map, Value, json};

use crate::dialect::json::Check;
use crate::dialect::tools::parameters;
use crate::neutral::{ChatRequest, ContentPart, Message, Role, ToolCall, ToolChoice};

/// Adds `tools`, `tool_choice` and `parallel_tool_calls` to a `CreateResponse` body.
pub(crate) fn encode(req: &ChatRequest, body: &mut Map<String, Value>) {
    if !req.tools.is_empty() {
        let tools: Vec<Value> = req
            .tools
            .iter()
            .map(|t| {
                let mut f = Map::new();
                f.insert("type".into(), json!("function"));
                f.insert("name".into(), json!(t.name));
                if let Some(d) = &t.description {
                    f.insert("description".into(), json!(d));
                }
                f.insert("parameters".into(), parameters(&t.parameters));
                // `FunctionTool` requires `strict`, and the Responses API defaults it to true
                // (unlike chat completions); unset means chat completions' default, false.
                f.insert("strict".into(), json!(t.strict.unwrap_or(false)));
                Value::Object(f)
            })
            .collect();
        body.insert("tools".into(), Value::Array(tools));
    }
    if let Some(c) = &req.tool_choice {
        let v = match c {
            ToolChoice::Auto => json!("auto"),
            ToolChoice::None => json!("none"),
            ToolChoice::Required => json!("required"),
            ToolChoice::Named(n) => json!({"type": "function", "name": n}),
        };
        body.insert("tool_choice".into(), v);
    }
    if let Some(p) = req.parallel_tool_calls {
        body.insert("parallel_tool_calls".into(), json!(p));
    }
}

/// The input items for one (non-instruction) turn: a message item; an assistant turn that
/// called tools adds one `function_call` item per call (after its text, if it said any); a
/// tool result is a `function_call_output` item. A role no API defines is sent verbatim.
pub(crate) fn items(m: &Message) -> Vec<Value> {
    if let Some(r) = &m.tool_result {
        return vec![
            json!({"type": "function_call_output", "call_id": r.call_id, "output": m.content}),
        ];
    }
    let message = json!({"type": "message", "role": m.role.as_str(), "content": content(m)});
    if m.tool_calls.is_empty() {
        return vec![message];
    }
    let mut out = Vec::with_capacity(m.tool_calls.len() + 1);
    if !m.content.is_empty() {
        out.push(message);
    }
    out.extend(m.tool_calls.iter().map(|c| {
        json!({
            "type": "function_call",
            "call_id": c.id.clone().unwrap_or_default(),
            "name": c.name,
            "arguments": c.arguments_raw,
        })
    }));
    out
}

/// A message's `content`: its text, or for a non-assistant turn given as parts, `input_text`
/// and `input_image` parts (an image as a base64 `data:` URL). An assistant turn's parts
/// would be `output_text`, so it sends its text.
fn content(m: &Message) -> Value {
    if m.parts.is_empty() || m.role == Role::Assistant {
        return json!(m.text());
    }
    let parts: Vec<Value> = m
        .parts
        .iter()
        .map(|p| match p {
            ContentPart::Text(t) => json!({"type": "input_text", "text": t}),
            ContentPart::Image { media_type, data } => json!({
                "type": "input_image",
                "image_url": format!("data:{media_type};base64,{data}"),
                "detail": "auto",
            }),
        })
        .collect();
    Value::Array(parts)
}

/// Reads one `function_call` output item at `path`, checking `call_id`, `name` and
/// `arguments` (a string that need not be valid JSON: then [`ToolCall::arguments`] is `None`).
pub(crate) fn decode_call(item: &Value, path: &str, check: &mut Check<'_>) -> ToolCall {
    let id = check.string(item, path, "call_id").map(str::to_string);
    let name = check.string(item, path, "name").unwrap_or_default();
    let raw = check.string(item, path, "arguments").unwrap_or_default();
    ToolCall {
        id,
        name: name.to_string(),
        arguments_raw: raw.to_string(),
        arguments: serde_json::from_str(raw).ok(),
    }
}

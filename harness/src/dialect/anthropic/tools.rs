//! Anthropic tool calling: `tools` and `tool_choice`, `tool_use` and `tool_result` blocks,
//! and the contract tying `stop_reason` to the calls.

use serde_json::{Map, Value, json};

use crate::dialect::json::Check;
use crate::dialect::tools::{arguments_object, parameters};
use crate::neutral::{ChatRequest, Message, Reply, ToolCall, ToolChoice};

/// Adds `tools` and `tool_choice` to an Anthropic body. `parallel_tool_calls: false` is
/// `disable_parallel_tool_use: true` inside the tool choice (an `auto` one when none was
/// asked for); `tool_choice: none` takes no such flag.
pub(crate) fn encode(req: &ChatRequest, body: &mut Map<String, Value>) {
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
pub(crate) fn messages<'a>(turns: impl Iterator<Item = &'a Message>) -> Vec<Value> {
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
            out.push(json!({"role": m.role.as_str(), "content": super::request::content(m)}));
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
pub(crate) fn decode(block: &Value, path: &str, check: &mut Check<'_>) -> ToolCall {
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

/// Whether a complete 2xx reply's stop reason (`raw`) agrees with its `tool_use` blocks; the
/// breach otherwise: `tool_use` needs a block, and a reply carrying blocks stops with `tool_use`.
pub(crate) fn agreement(raw: &str, reply: &Reply) -> Option<String> {
    let n = reply.tool_calls.len();
    let streamed = reply.stream.is_some();
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

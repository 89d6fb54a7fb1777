//! Anthropic messages: `POST /v1/messages`, with the `x-api-key` and `anthropic-version`
//! headers the real API demands, and the named-event stream grammar (provider-wire.md B1–B5).

use serde_json::{Value, json};

use super::answer::{self, Answer, Choice, Finish, Format, Tool, Turn};
use super::config::{Broken, Config};
use super::errors::ApiError;
use super::validate::{self, ANTHROPIC};
use super::wire::{Out, has_image, sse, strings, text_of, u32_of};
use crate::dialect::DialectKind;

/// Answers a messages request.
pub(super) fn messages(headers: &hyper::HeaderMap, body: &[u8], cfg: &Config, seq: u64) -> Out {
    let read = check_headers(headers, cfg).and_then(|()| read(body, cfg));
    match read {
        Ok((turn, stream)) => {
            let a = answer::answer(&turn, cfg, seq);
            let model = super::openai::reply_model(&turn.model, cfg);
            if stream && cfg.streaming {
                Out::Stream("text/event-stream", events(&a, &model, seq, cfg))
            } else {
                Out::Json(200, message(&a, &model, seq, cfg))
            }
        }
        Err(e) => error(&e, cfg),
    }
}

/// An error in this dialect's shape.
pub(super) fn error(e: &ApiError, cfg: &Config) -> Out {
    let (status, body) = e.render(DialectKind::Anthropic, cfg);
    Out::Json(status, body)
}

fn check_headers(headers: &hyper::HeaderMap, cfg: &Config) -> Result<(), ApiError> {
    let get = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    if let Some(key) = &cfg.api_key {
        let bearer = get("authorization").and_then(|v| v.strip_prefix("Bearer "));
        match get("x-api-key").or(bearer) {
            None => return Err(ApiError::auth("x-api-key header is required")),
            Some(k) if k != key => return Err(ApiError::auth("invalid x-api-key")),
            Some(_) => {}
        }
    }
    if get("anthropic-version").is_none() {
        return Err(ApiError::invalid("anthropic-version: header is required"));
    }
    Ok(())
}

fn read(body: &[u8], cfg: &Config) -> Result<(Turn, bool), ApiError> {
    let accept = cfg.is_broken(Broken::AcceptInvalid);
    let body: Value = super::wire::parse_or_accept(body, accept).map_err(|e| {
        ApiError::invalid(format!(
            "There was an error parsing the body of your request: {e}"
        ))
    })?;
    let lenient = |r: Result<(), ApiError>| if accept { Ok(()) } else { r };
    if !accept && let Some((field, breach)) = validate::check(&body, ANTHROPIC) {
        return Err(validate::refusal(DialectKind::Anthropic, field, &breach));
    }
    let mut turn = Turn {
        model: body["model"].as_str().unwrap_or_default().to_string(),
        max_tokens: u32_of(body.get("max_tokens")),
        stop: strings(body.get("stop_sequences")),
        parallel: body["tool_choice"]["disable_parallel_tool_use"] != json!(true),
        ..Turn::default()
    };
    let system = text_of(body.get("system").unwrap_or(&Value::Null));
    turn.input = format!("{system}\n");
    let vision = cfg.takes_images(&turn.model);
    let messages = body["messages"].as_array().cloned().unwrap_or_default();
    lenient(read_messages(&messages, vision, &mut turn))?;
    turn.prompt = format!("{system}\n{}", turn.prompt);
    lenient(read_tools(&body, &mut turn))?;
    if let Some(msg) = cfg.refuse_tools(&turn.model, !turn.tools.is_empty()) {
        return Err(ApiError::invalid(format!("tools: {msg}")));
    }
    if let Some(schema) = body["output_config"]["format"].get("schema") {
        turn.format = Format::Schema(schema.clone());
    }
    if cfg.model(&turn.model).is_none_or(|m| !m.installed) && !accept {
        return Err(ApiError::not_found(format!("model: {}", turn.model)));
    }
    Ok((turn, body["stream"].as_bool().unwrap_or(false)))
}

fn read_messages(messages: &[Value], vision: bool, turn: &mut Turn) -> Result<(), ApiError> {
    let mut tool_uses: Vec<String> = Vec::new();
    for (i, m) in messages.iter().enumerate() {
        let role = m["role"].as_str().unwrap_or("");
        match role {
            "user" | "assistant" => {}
            "system" => {
                return Err(ApiError::invalid(
                    "messages: Unexpected role \"system\". The Messages API accepts a top-level `system` parameter, not \"system\" as an input message role.",
                ));
            }
            _ => {
                return Err(ApiError::invalid(format!(
                    "messages.{i}.role: Input should be 'user' or 'assistant'"
                )));
            }
        }
        let content = m.get("content").unwrap_or(&Value::Null);
        let last_assistant = role == "assistant" && i + 1 == messages.len();
        let empty = match content {
            Value::String(s) => s.is_empty(),
            Value::Array(a) => a.is_empty(),
            Value::Null => {
                return Err(ApiError::invalid(format!(
                    "messages.{i}.content: Field required"
                )));
            }
            _ => {
                return Err(ApiError::invalid(format!(
                    "messages.{i}.content: Input should be a valid string or list"
                )));
            }
        };
        if empty && !last_assistant {
            return Err(ApiError::invalid(format!(
                "messages.{i}: all messages must have non-empty content except for the optional final assistant message"
            )));
        }
        if has_image(content, "image") && !vision {
            return Err(ApiError::invalid(format!(
                "messages.{i}.content: this model does not support image input"
            )));
        }
        let blocks = content.as_array().cloned().unwrap_or_default();
        let results = read_blocks(i, &blocks, &tool_uses)?;
        tool_uses = blocks
            .iter()
            .filter_map(|b| {
                b["id"]
                    .as_str()
                    .filter(|_| b["type"] == "tool_use")
                    .map(str::to_string)
            })
            .collect();
        let text = text_of(content);
        turn.input.push_str(&text);
        turn.input.push('\n');
        if role == "user" {
            turn.tool_result = results;
            if turn.tool_result.is_none() {
                turn.prompt = text;
            }
        }
    }
    Ok(())
}

/// Checks a turn's blocks; the text of its tool results, if it has any.
fn read_blocks(
    i: usize,
    blocks: &[Value],
    tool_uses: &[String],
) -> Result<Option<String>, ApiError> {
    let mut results: Option<String> = None;
    for (j, b) in blocks.iter().enumerate() {
        match b["type"].as_str() {
            Some("text") if b["text"].as_str().is_none_or(str::is_empty) => {
                return Err(ApiError::invalid(format!(
                    "messages.{i}.content.{j}.text: text content blocks must be non-empty"
                )));
            }
            Some("tool_result") => {
                let id = b["tool_use_id"].as_str().unwrap_or("");
                if !tool_uses.iter().any(|u| u == id) {
                    return Err(ApiError::invalid(format!(
                        "messages.{i}.content.{j}: unexpected `tool_use_id` found in `tool_result` blocks: {id}. Each `tool_result` block must have a corresponding `tool_use` block in the previous message."
                    )));
                }
                let t = text_of(b.get("content").unwrap_or(&Value::Null));
                results = Some(results.map_or(t.clone(), |r| format!("{r} {t}")));
            }
            Some("text" | "image" | "tool_use" | "document" | "thinking") => {}
            _ => {
                return Err(ApiError::invalid(format!(
                    "messages.{i}.content.{j}.type: Input tag {} found using 'type' does not match any of the expected tags",
                    b["type"]
                )));
            }
        }
    }
    Ok(results)
}

fn read_tools(body: &Value, turn: &mut Turn) -> Result<(), ApiError> {
    for (i, t) in body["tools"].as_array().into_iter().flatten().enumerate() {
        let (Some(name), Some(schema)) = (t["name"].as_str(), t.get("input_schema")) else {
            return Err(ApiError::invalid(format!(
                "tools.{i}: `name` and `input_schema` are required"
            )));
        };
        turn.input.push_str(&t.to_string());
        turn.tools.push(Tool {
            name: name.to_string(),
            description: t["description"].as_str().unwrap_or("").to_string(),
            schema: schema.clone(),
        });
    }
    let tc = &body["tool_choice"];
    turn.choice = match tc["type"].as_str() {
        None if tc.is_null() => Choice::Auto,
        Some("auto") => Choice::Auto,
        Some("any") => Choice::Required,
        Some("none") => Choice::None,
        Some("tool") => match tc["name"].as_str() {
            Some(n) if turn.tools.iter().any(|t| t.name == n) => Choice::Named(n.to_string()),
            _ => {
                return Err(ApiError::invalid(format!(
                    "tool_choice: tool {} was not offered",
                    tc["name"]
                )));
            }
        },
        _ => {
            return Err(ApiError::invalid(
                "tool_choice.type: Input tag found using 'type' does not match any of the expected tags: 'auto', 'any', 'tool', 'none'",
            ));
        }
    };
    Ok(())
}

fn stop_reason(a: &Answer) -> (&'static str, Value) {
    match &a.finish {
        Finish::Stop => ("end_turn", Value::Null),
        Finish::StopSequence(s) => ("stop_sequence", json!(s)),
        Finish::Length => ("max_tokens", Value::Null),
        Finish::ToolCalls => ("tool_use", Value::Null),
    }
}

fn tool_id(id: &str) -> String {
    id.replacen("call_", "toolu_", 1)
}

fn message(a: &Answer, model: &str, seq: u64, cfg: &Config) -> Value {
    let mut content: Vec<Value> = Vec::new();
    if a.calls.is_empty() {
        content.push(json!({"type": "text", "text": a.text, "citations": null}));
    }
    for c in &a.calls {
        content.push(
            json!({"type": "tool_use", "id": tool_id(&c.id), "name": c.name, "input": c.arguments, "caller": {"type": "direct"}}),
        );
    }
    let (reason, seq_value) = stop_reason(a);
    let mut body = json!({"id": format!("msg_ref{seq}"), "type": "message", "role": "assistant",
        "model": model, "content": content, "stop_reason": reason, "stop_sequence": seq_value,
        "stop_details": null, "container": null});
    if let Some((i, o)) = a.usage {
        // Every field the spec's `Usage` requires, the optional breakdowns null.
        body["usage"] = json!({"input_tokens": i, "output_tokens": o, "cache_creation_input_tokens": 0,
            "cache_read_input_tokens": 0, "service_tier": "standard", "cache_creation": null,
            "inference_geo": null, "output_tokens_details": null, "server_tool_use": null});
    }
    if cfg.is_broken(Broken::MissingFields) {
        for k in ["id", "type", "role"] {
            body.as_object_mut().map(|o| o.remove(k));
        }
    }
    body
}

fn events(a: &Answer, model: &str, seq: u64, cfg: &Config) -> Vec<String> {
    let input = a.usage.map_or(0, |(i, _)| i);
    let mut start = json!({"type": "message_start", "message": {"id": format!("msg_ref{seq}"),
        "type": "message", "role": "assistant", "content": [], "model": model, "stop_reason": null,
        "stop_sequence": null, "usage": {"input_tokens": input, "output_tokens": 1}}});
    if cfg.is_broken(Broken::MissingFields) {
        start["message"].as_object_mut().map(|o| o.remove("id"));
    }
    let mut ev: Vec<Value> = vec![start, json!({"type": "ping"})];
    let mut blocks: Vec<(Value, Vec<Value>)> = Vec::new();
    if a.calls.is_empty() {
        let deltas = super::text::pieces(&a.text)
            .into_iter()
            .map(|p| json!({"type": "text_delta", "text": p}))
            .collect();
        blocks.push((json!({"type": "text", "text": ""}), deltas));
    }
    for c in &a.calls {
        let deltas = super::text::pieces(&c.arguments.to_string())
            .into_iter()
            .map(|p| json!({"type": "input_json_delta", "partial_json": p}))
            .collect();
        blocks.push((
            json!({"type": "tool_use", "id": tool_id(&c.id), "name": c.name, "input": {}}),
            deltas,
        ));
    }
    for (index, (block, deltas)) in blocks.into_iter().enumerate() {
        let mut group =
            vec![json!({"type": "content_block_start", "index": index, "content_block": block})];
        group.extend(
            deltas
                .into_iter()
                .map(|d| json!({"type": "content_block_delta", "index": index, "delta": d})),
        );
        if cfg.is_broken(Broken::StreamOutOfOrder) && group.len() > 1 {
            group.swap(0, 1);
        }
        ev.extend(group);
        ev.push(json!({"type": "content_block_stop", "index": index}));
    }
    let (reason, seq_value) = stop_reason(a);
    let mut delta = json!({"type": "message_delta", "delta": {"stop_reason": reason, "stop_sequence": seq_value}});
    if let Some((_, o)) = a.usage {
        delta["usage"] = json!({"output_tokens": o});
    }
    ev.push(delta);
    if !cfg.is_broken(Broken::StreamNoTerminal) {
        ev.push(json!({"type": "message_stop"}));
    }
    ev.iter()
        .map(|e| sse(e["type"].as_str(), &e.to_string()))
        .collect()
}

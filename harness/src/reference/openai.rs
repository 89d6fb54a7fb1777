//! OpenAI chat completions: `POST /v1/chat/completions` and `GET /v1/models`, to the letter of
//! `CreateChatCompletionRequest` / `CreateChatCompletionResponse` / the chunk grammar
//! (provider-wire.md A2–A5).

use serde_json::{Value, json};

use super::answer::{self, Answer, Choice, Finish, Format, Tool, Turn};
use super::config::{Broken, Config};
use super::errors::ApiError;
use super::validate::{self, OPENAI};
use super::wire::{Out, has_image, now_secs, sse, strings, text_of, u32_of};
use crate::dialect::DialectKind;

const ROLES: [&str; 6] = [
    "system",
    "developer",
    "user",
    "assistant",
    "tool",
    "function",
];

/// What the request asked beyond the turn.
struct Ask {
    turn: Turn,
    n: u32,
    /// `logprobs: true`, with this many alternatives per token.
    logprobs: Option<u32>,
    stream: bool,
    include_usage: bool,
}

/// Answers a chat completion request.
pub(super) fn chat(body: &[u8], cfg: &Config, seq: u64) -> Out {
    match read(body, cfg) {
        Ok(ask) => {
            let a = answer::answer(&ask.turn, cfg, seq);
            let model = reply_model(&ask.turn.model, cfg);
            if ask.stream && cfg.streaming {
                Out::Stream("text/event-stream", chunks(&ask, &a, &model, seq, cfg))
            } else {
                Out::Json(200, completion(&ask, &a, &model, seq, cfg))
            }
        }
        Err(e) => error(&e, cfg),
    }
}

/// An error in this dialect's shape.
pub(super) fn error(e: &ApiError, cfg: &Config) -> Out {
    let (status, body) = e.render(DialectKind::Openai, cfg);
    Out::Json(status, body)
}

/// `GET /v1/models`.
pub(super) fn models(cfg: &Config) -> Out {
    let data: Vec<Value> = cfg
        .models
        .iter()
        .filter(|m| m.installed)
        .map(|m| json!({"id": m.name, "object": "model", "created": 1_700_000_000u64, "owned_by": "reference"}))
        .collect();
    Out::Json(200, json!({"object": "list", "data": data}))
}

/// The model a reply names.
pub(super) fn reply_model(asked: &str, cfg: &Config) -> String {
    if cfg.is_broken(Broken::WrongModel) {
        format!("{asked}-other")
    } else {
        asked.to_string()
    }
}

fn read(body: &[u8], cfg: &Config) -> Result<Ask, ApiError> {
    let accept = cfg.is_broken(Broken::AcceptInvalid);
    let body: Value = super::wire::parse_or_accept(body, accept).map_err(|_| {
        ApiError::invalid("We could not parse the JSON body of your request. (HINT: This likely means you aren't using your HTTP library correctly. The OpenAI API expects a JSON payload, but what was sent was not valid JSON.)")
    })?;
    if !body.is_object() && !accept {
        return Err(ApiError::invalid("The request body must be a JSON object."));
    }
    if !accept && let Some((field, breach)) = validate::check(&body, OPENAI) {
        return Err(validate::refusal(DialectKind::Openai, field, &breach));
    }
    let mut turn = Turn {
        model: body["model"].as_str().unwrap_or_default().to_string(),
        max_tokens: u32_of(body.get("max_completion_tokens")).or(u32_of(body.get("max_tokens"))),
        stop: strings(body.get("stop")),
        parallel: body.get("parallel_tool_calls") != Some(&json!(false)),
        ..Turn::default()
    };
    let vision = cfg.takes_images(&turn.model);
    let messages = body["messages"].as_array().cloned().unwrap_or_default();
    read_messages(&messages, vision, &mut turn)
        .or_else(|e| if accept { Ok(()) } else { Err(e) })?;
    read_tools(&body, &mut turn).or_else(|e| if accept { Ok(()) } else { Err(e) })?;
    if let Some(msg) = cfg.refuse_tools(&turn.model, !turn.tools.is_empty()) {
        return Err(ApiError::invalid(msg).param("tools"));
    }
    turn.format = read_format(&body).or_else(|e| if accept { Ok(Format::Text) } else { Err(e) })?;
    let stream = body["stream"].as_bool().unwrap_or(false);
    if !stream && body.get("stream_options").is_some_and(|v| !v.is_null()) && !accept {
        return Err(ApiError::invalid(
            "The 'stream_options' parameter is only allowed when 'stream' is enabled.",
        )
        .param("stream_options")
        .code("invalid_value"));
    }
    if cfg.model(&turn.model).is_none_or(|m| !m.installed) && !accept {
        return Err(ApiError::not_found(format!(
            "The model `{}` does not exist or you do not have access to it.",
            turn.model
        ))
        .code("model_not_found"));
    }
    let top = u32_of(body.get("top_logprobs")).unwrap_or(0);
    Ok(Ask {
        n: if cfg.is_broken(Broken::IgnoreN) {
            1
        } else {
            u32_of(body.get("n")).unwrap_or(1).max(1)
        },
        logprobs: (body["logprobs"] == json!(true) && !cfg.is_broken(Broken::IgnoreLogprobs))
            .then_some(top),
        stream,
        include_usage: body["stream_options"]["include_usage"]
            .as_bool()
            .unwrap_or(false),
        turn,
    })
}

fn read_messages(messages: &[Value], vision: bool, turn: &mut Turn) -> Result<(), ApiError> {
    let mut call_ids: Vec<String> = Vec::new();
    let mut instructions = Vec::new();
    for (i, m) in messages.iter().enumerate() {
        let role = m["role"].as_str().unwrap_or("");
        if !ROLES.contains(&role) {
            return Err(ApiError::invalid(format!("Invalid value: '{role}'. Supported values are: 'system', 'assistant', 'user', 'function', 'tool', and 'developer'.")).param(format!("messages[{i}].role")).code("invalid_value"));
        }
        let content = m.get("content").unwrap_or(&Value::Null);
        if content.is_null() && role != "assistant" {
            return Err(ApiError::invalid(format!(
                "Missing required parameter: 'messages[{i}].content'."
            ))
            .param(format!("messages[{i}].content"))
            .code("missing_required_parameter"));
        }
        if !(content.is_null() || content.is_string() || content.is_array()) {
            return Err(ApiError::invalid(format!("Invalid type for 'messages[{i}].content': expected one of a string or array of objects, but got {} instead.", validate::json_type(content))).param(format!("messages[{i}].content")).code("invalid_type"));
        }
        if has_image(content, "image_url") && !vision {
            return Err(ApiError::invalid(
                "Invalid content type. image_url is only supported by certain models.",
            )
            .param(format!("messages[{i}].content"))
            .code("invalid_value"));
        }
        for c in m["tool_calls"].as_array().into_iter().flatten() {
            call_ids.extend(c["id"].as_str().map(str::to_string));
        }
        let text = text_of(content);
        turn.input.push_str(&text);
        turn.input.push('\n');
        turn.tool_result = None;
        match role {
            "system" | "developer" => instructions.push(text),
            "user" => turn.prompt = text,
            "tool" => {
                let id = m["tool_call_id"].as_str().unwrap_or("");
                if !call_ids.iter().any(|c| c == id) {
                    return Err(ApiError::invalid("Invalid parameter: messages with role 'tool' must be a response to a preceeding message with 'tool_calls'.").param(format!("messages.[{i}].role")));
                }
                turn.tool_result = Some(text);
            }
            _ => {}
        }
    }
    instructions.push(std::mem::take(&mut turn.prompt));
    turn.prompt = instructions.join("\n");
    Ok(())
}

fn read_tools(body: &Value, turn: &mut Turn) -> Result<(), ApiError> {
    for (i, t) in body["tools"].as_array().into_iter().flatten().enumerate() {
        let Some(name) = t["function"]["name"].as_str() else {
            return Err(ApiError::invalid(format!(
                "Missing required parameter: 'tools[{i}].function.name'."
            ))
            .param(format!("tools[{i}].function.name"))
            .code("missing_required_parameter"));
        };
        turn.input.push_str(&t.to_string());
        turn.tools.push(Tool {
            name: name.to_string(),
            description: t["function"]["description"]
                .as_str()
                .unwrap_or("")
                .to_string(),
            schema: t["function"]
                .get("parameters")
                .cloned()
                .unwrap_or(json!({"type": "object"})),
        });
    }
    let bad = |msg: String| {
        ApiError::invalid(msg)
            .param("tool_choice")
            .code("invalid_value")
    };
    turn.choice = match body.get("tool_choice") {
        None | Some(Value::Null) => Choice::Auto,
        Some(_) if turn.tools.is_empty() => {
            return Err(bad("Invalid value for 'tool_choice': 'tool_choice' is only allowed when 'tools' are specified.".into()));
        }
        Some(Value::String(s)) if s == "auto" => Choice::Auto,
        Some(Value::String(s)) if s == "none" => Choice::None,
        Some(Value::String(s)) if s == "required" => Choice::Required,
        Some(v) => match v["function"]["name"].as_str() {
            Some(n) if turn.tools.iter().any(|t| t.name == n) => Choice::Named(n.to_string()),
            _ => {
                return Err(bad(format!(
                    "Invalid value for 'tool_choice': {v} names no offered tool."
                )));
            }
        },
    };
    Ok(())
}

fn read_format(body: &Value) -> Result<Format, ApiError> {
    let f = &body["response_format"];
    match f["type"].as_str() {
        None if f.is_null() => Ok(Format::Text),
        Some("text") => Ok(Format::Text),
        Some("json_object") => Ok(Format::Json),
        Some("json_schema") => match (
            f["json_schema"]["name"].as_str(),
            f["json_schema"].get("schema"),
        ) {
            (Some(_), Some(s)) => Ok(Format::Schema(s.clone())),
            (Some(_), None) => Ok(Format::Json),
            (None, _) => Err(ApiError::invalid(
                "Missing required parameter: 'response_format.json_schema.name'.",
            )
            .param("response_format.json_schema.name")
            .code("missing_required_parameter")),
        },
        _ => Err(ApiError::invalid(format!(
            "Invalid value: {}. Supported values are: 'text', 'json_object', and 'json_schema'.",
            f["type"]
        ))
        .param("response_format.type")
        .code("invalid_value")),
    }
}

fn finish(a: &Answer) -> &'static str {
    match a.finish {
        Finish::Stop | Finish::StopSequence(_) => "stop",
        Finish::Length => "length",
        Finish::ToolCalls => "tool_calls",
    }
}

fn calls_json(a: &Answer) -> Vec<Value> {
    a.calls
        .iter()
        .map(|c| json!({"id": c.id, "type": "function", "function": {"name": c.name, "arguments": c.arguments.to_string()}}))
        .collect()
}

fn usage(a: &Answer, n: u32) -> Value {
    match a.usage {
        Some((i, o)) => {
            json!({"prompt_tokens": i, "completion_tokens": o * n, "total_tokens": i + o * n,
            "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
            "completion_tokens_details": {"reasoning_tokens": 0, "audio_tokens": 0,
                "accepted_prediction_tokens": 0, "rejected_prediction_tokens": 0}})
        }
        None => Value::Null,
    }
}

fn completion(ask: &Ask, a: &Answer, model: &str, seq: u64, cfg: &Config) -> Value {
    let choices: Vec<Value> = (0..ask.n)
        .map(|i| {
            let mut message = json!({"role": "assistant", "content": if a.calls.is_empty() { json!(a.text) } else { Value::Null }, "refusal": null, "annotations": []});
            if !a.calls.is_empty() {
                message["tool_calls"] = json!(calls_json(a));
            }
            let logprobs = ask.logprobs.map_or(Value::Null, |top| logprobs(&a.text, top));
            json!({"index": i, "message": message, "logprobs": logprobs, "finish_reason": finish(a)})
        })
        .collect();
    let mut body = json!({"id": format!("chatcmpl-ref{seq}"), "object": "chat.completion",
        "created": now_secs(), "model": model, "choices": choices,
        "service_tier": "default", "system_fingerprint": "fp_reference"});
    match usage(a, ask.n) {
        Value::Null => {}
        u => body["usage"] = u,
    }
    if cfg.is_broken(Broken::MissingFields) {
        for k in ["id", "object", "created"] {
            body.as_object_mut().map(|o| o.remove(k));
        }
    }
    body
}

fn chunks(ask: &Ask, a: &Answer, model: &str, seq: u64, cfg: &Config) -> Vec<String> {
    let created = now_secs();
    let chunk = |choices: Value| {
        let mut c = json!({"id": format!("chatcmpl-ref{seq}"), "object": "chat.completion.chunk",
            "created": created, "model": model, "system_fingerprint": "fp_reference", "choices": choices});
        if cfg.is_broken(Broken::MissingFields) {
            c.as_object_mut().map(|o| o.remove("object"));
        }
        c
    };
    let delta = |d: Value| {
        chunk(json!([{"index": 0, "delta": d, "logprobs": null, "finish_reason": null}]))
    };
    let mut events = vec![delta(
        json!({"role": "assistant", "content": if a.calls.is_empty() { json!("") } else { Value::Null }, "refusal": null}),
    )];
    for piece in super::text::pieces(&a.text) {
        events.push(delta(json!({"content": piece})));
    }
    for (i, c) in a.calls.iter().enumerate() {
        events.push(delta(json!({"tool_calls": [{"index": i, "id": c.id, "type": "function", "function": {"name": c.name, "arguments": ""}}]})));
        for piece in super::text::pieces(&c.arguments.to_string()) {
            events.push(delta(
                json!({"tool_calls": [{"index": i, "function": {"arguments": piece}}]}),
            ));
        }
    }
    let last =
        chunk(json!([{"index": 0, "delta": {}, "logprobs": null, "finish_reason": finish(a)}]));
    if cfg.is_broken(Broken::StreamOutOfOrder) && events.len() > 1 {
        let tail = events.pop().expect("two events");
        events.extend([last, tail]);
    } else {
        events.push(last);
    }
    if ask.include_usage && a.usage.is_some() {
        let mut u = chunk(json!([]));
        u["usage"] = usage(a, ask.n);
        events.push(u);
    }
    let mut out: Vec<String> = events.iter().map(|e| sse(None, &e.to_string())).collect();
    if !cfg.is_broken(Broken::StreamNoTerminal) {
        out.push(sse(None, "[DONE]"));
    }
    out
}

/// `ChatCompletionTokenLogprob`s for `text`, each token with `top` alternatives (itself the
/// most likely). The numbers are made up but well formed: at most 0, alternatives less likely.
fn logprobs(text: &str, top: u32) -> Value {
    let entry = |token: &str, logprob: f64| json!({"token": token, "logprob": logprob, "bytes": token.as_bytes()});
    let content: Vec<Value> = super::text::pieces(text)
        .iter()
        .map(|t| {
            let alternatives: Vec<Value> = (0..top)
                .map(|k| match k {
                    0 => entry(t, -0.01),
                    k => entry(&format!("{t}{k}"), -1.0 - f64::from(k)),
                })
                .collect();
            let mut e = entry(t, -0.01);
            e["top_logprobs"] = json!(alternatives);
            e
        })
        .collect();
    json!({"content": content, "refusal": null})
}

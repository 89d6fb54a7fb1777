//! Chat completions in front, the Responses API upstream: a `CreateChatCompletionRequest`
//! becomes a `CreateResponse` body, and the `Response` (whole, or its typed events) becomes a
//! chat completion (whole, or its chunks).

use serde_json::{Map, Value, json};

use super::Flaw;
use super::sse::Event;

/// The least `max_output_tokens` the Responses API takes (`CreateResponse` has `minimum: 16`).
const MIN_OUTPUT_TOKENS: u64 = 16;

/// The text of a message's `content`: the string, or its text parts joined.
fn text_of(content: &Value) -> String {
    match content {
        Value::String(s) => s.clone(),
        Value::Array(parts) => parts.iter().filter_map(|p| p["text"].as_str()).collect(),
        _ => String::new(),
    }
}

/// The `CreateResponse` body for a chat completions body: system and developer turns joined
/// into `instructions`, the others as `input` items (tool calls and results as their own
/// items), the options under their Responses names.
pub(crate) fn request(c: &Value) -> Value {
    let mut out = Map::new();
    if let Some(m) = c.get("model") {
        out.insert("model".into(), m.clone());
    }
    let mut instructions = Vec::new();
    let mut input = Vec::new();
    for m in c["messages"].as_array().into_iter().flatten() {
        message(m, &mut instructions, &mut input);
    }
    if !instructions.is_empty() {
        out.insert("instructions".into(), json!(instructions.join("\n\n")));
    }
    out.insert("input".into(), Value::Array(input));
    let limit = c.get("max_completion_tokens").or(c.get("max_tokens"));
    if let Some(n) = limit.filter(|v| !v.is_null()) {
        let n = n
            .as_u64()
            .map_or(n.clone(), |n| json!(n.max(MIN_OUTPUT_TOKENS)));
        out.insert("max_output_tokens".into(), n);
    }
    for k in [
        "temperature",
        "top_p",
        "top_logprobs",
        "parallel_tool_calls",
    ] {
        if let Some(v) = c.get(k).filter(|v| !v.is_null()) {
            out.insert(k.into(), v.clone());
        }
    }
    if c.get("logprobs") == Some(&json!(true)) {
        out.insert("include".into(), json!(["message.output_text.logprobs"]));
    }
    if let Some(f) = c.get("response_format").filter(|v| !v.is_null()) {
        let format = match f["type"].as_str() {
            Some("json_schema") => {
                let s = &f["json_schema"];
                let mut format =
                    json!({"type": "json_schema", "name": s["name"], "schema": s["schema"]});
                for k in ["strict", "description"] {
                    if let Some(v) = s.get(k).filter(|v| !v.is_null()) {
                        format[k] = v.clone();
                    }
                }
                format
            }
            _ => json!({"type": f["type"]}),
        };
        out.insert("text".into(), json!({"format": format}));
    }
    tools(c, &mut out);
    if c.get("stream") == Some(&json!(true)) {
        out.insert("stream".into(), json!(true));
    }
    Value::Object(out)
}

/// One chat message as `instructions` text or `input` items.
fn message(m: &Value, instructions: &mut Vec<String>, input: &mut Vec<Value>) {
    let role = m["role"].as_str().unwrap_or("user");
    match role {
        "system" | "developer" => instructions.push(text_of(&m["content"])),
        "tool" => input.push(
            json!({"type": "function_call_output", "call_id": m["tool_call_id"],
            "output": text_of(&m["content"])}),
        ),
        "assistant" => {
            let text = text_of(&m["content"]);
            if !text.is_empty() {
                input.push(json!({"type": "message", "role": "assistant", "content": text}));
            }
            for tc in m["tool_calls"].as_array().into_iter().flatten() {
                input.push(json!({"type": "function_call", "call_id": tc["id"],
                    "name": tc["function"]["name"], "arguments": tc["function"]["arguments"]}));
            }
        }
        _ => {
            let content = match &m["content"] {
                Value::Array(parts) => Value::Array(parts.iter().filter_map(user_part).collect()),
                other => other.clone(),
            };
            input.push(json!({"type": "message", "role": role, "content": content}));
        }
    }
}

/// A user content part as an input content part.
fn user_part(p: &Value) -> Option<Value> {
    match p["type"].as_str()? {
        "text" => Some(json!({"type": "input_text", "text": p["text"]})),
        "image_url" => {
            let detail = p["image_url"]["detail"].as_str().unwrap_or("auto");
            Some(
                json!({"type": "input_image", "image_url": p["image_url"]["url"], "detail": detail}),
            )
        }
        _ => None,
    }
}

/// Function tools flattened, and `tool_choice` as the Responses API names it.
fn tools(c: &Value, out: &mut Map<String, Value>) {
    if let Some(ts) = c.get("tools").and_then(Value::as_array) {
        let fns: Vec<Value> = ts
            .iter()
            .filter(|t| t["type"] == "function")
            .map(|t| {
                let f = &t["function"];
                // `FunctionTool` requires `parameters` and `strict`; chat completions
                // leaves both optional (`strict` defaults to false).
                let mut tool = json!({"type": "function", "name": f["name"],
                    "parameters": f.get("parameters").cloned().unwrap_or(Value::Null),
                    "strict": f.get("strict").filter(|v| v.is_boolean()).cloned().unwrap_or(json!(false))});
                if let Some(d) = f.get("description").filter(|v| !v.is_null()) {
                    tool["description"] = d.clone();
                }
                tool
            })
            .collect();
        out.insert("tools".into(), Value::Array(fns));
    }
    match c.get("tool_choice") {
        Some(Value::String(s)) => {
            out.insert("tool_choice".into(), json!(s));
        }
        Some(t) if t["type"] == "function" => {
            out.insert(
                "tool_choice".into(),
                json!({"type": "function", "name": t["function"]["name"]}),
            );
        }
        _ => {}
    }
}

/// Chat `usage` from `ResponseUsage`.
fn usage(u: &Value) -> Value {
    if !u.is_object() {
        return Value::Null;
    }
    let n = |v: &Value| v.as_u64().unwrap_or(0);
    json!({
        "prompt_tokens": n(&u["input_tokens"]),
        "completion_tokens": n(&u["output_tokens"]),
        "total_tokens": n(&u["total_tokens"]),
        "prompt_tokens_details": {"cached_tokens": n(&u["input_tokens_details"]["cached_tokens"])},
        "completion_tokens_details": {"reasoning_tokens": n(&u["output_tokens_details"]["reasoning_tokens"])},
    })
}

/// The chat `finish_reason` for a finished `Response`: cut at the limit is `length` (unless
/// the flaw says otherwise), a function call `tool_calls`.
fn finish(r: &Value, has_calls: bool, flaw: Flaw) -> &'static str {
    match (
        r["status"].as_str(),
        r["incomplete_details"]["reason"].as_str(),
    ) {
        (Some("incomplete"), Some("content_filter")) => "content_filter",
        (Some("incomplete"), _) if flaw == Flaw::CompletedWhenCut => "stop",
        (Some("incomplete"), _) => "length",
        _ if has_calls => "tool_calls",
        _ => "stop",
    }
}

/// An OpenAI error envelope for a failed response or an `error` event (`code` and `message`;
/// the chat envelope also wants a `type`, which the Responses API does not give: the code
/// stands in for it).
pub(crate) fn error(code: &Value, message: &Value) -> Value {
    let kind = code.as_str().unwrap_or("server_error");
    json!({"error": {"message": message, "type": kind, "param": null, "code": code}})
}

/// A whole `Response` as a chat completion; a failed one is an error (HTTP 500).
pub(crate) fn reply(r: &Value, flaw: Flaw) -> Result<Value, Value> {
    if r["status"] == "failed" {
        return Err(error(&r["error"]["code"], &r["error"]["message"]));
    }
    let mut text: Option<String> = None;
    let mut refusal: Option<String> = None;
    let mut calls = Vec::new();
    for item in r["output"].as_array().into_iter().flatten() {
        match item["type"].as_str() {
            Some("message") => {
                for p in item["content"].as_array().into_iter().flatten() {
                    match p["type"].as_str() {
                        Some("refusal") => refusal
                            .get_or_insert_default()
                            .push_str(p["refusal"].as_str().unwrap_or("")),
                        _ => text
                            .get_or_insert_default()
                            .push_str(p["text"].as_str().unwrap_or("")),
                    }
                }
            }
            Some("function_call") => calls.push(json!({"id": item["call_id"], "type": "function",
                "function": {"name": item["name"], "arguments": item["arguments"]}})),
            _ => {}
        }
    }
    let mut message =
        json!({"role": "assistant", "content": text, "refusal": refusal, "annotations": []});
    if !calls.is_empty() {
        message["tool_calls"] = json!(calls);
    }
    Ok(json!({
        "id": format!("chatcmpl-{}", r["id"].as_str().unwrap_or("gateway")),
        "object": "chat.completion",
        "created": r["created_at"],
        "model": r["model"],
        "choices": [{"index": 0, "message": message, "logprobs": null,
            "finish_reason": finish(r, !calls.is_empty(), flaw)}],
        "usage": usage(&r["usage"]),
    }))
}

/// Responses events in, chat chunks out.
pub(crate) struct Stream {
    flaw: Flaw,
    /// The caller asked for a usage chunk (`stream_options.include_usage`).
    include_usage: bool,
    id: String,
    created: Value,
    model: Value,
    /// `output_index` of each function call item, in order: its position is the chat
    /// `tool_calls[].index`.
    calls: Vec<u64>,
    /// The terminal or error event arrived: nothing follows.
    pub(crate) ended: bool,
}

impl Stream {
    /// A stream answering the chat request `req`.
    pub(crate) fn new(req: &Value, flaw: Flaw) -> Stream {
        Stream {
            flaw,
            include_usage: req["stream_options"]["include_usage"] == json!(true),
            id: String::new(),
            created: json!(0),
            model: json!(""),
            calls: Vec::new(),
            ended: false,
        }
    }

    fn chunk(&self, delta: Value, finish: Value) -> Event {
        let mut c = json!({"id": self.id, "object": "chat.completion.chunk", "created": self.created,
            "model": self.model,
            "choices": [{"index": 0, "delta": delta, "logprobs": null, "finish_reason": finish}]});
        if self.include_usage {
            c["usage"] = Value::Null;
        }
        Event::data(c.to_string())
    }

    /// The chunks one upstream event makes.
    pub(crate) fn event(&mut self, ev: &Event) -> Vec<Event> {
        let Ok(v) = serde_json::from_str::<Value>(&ev.data) else {
            return vec![];
        };
        if self.ended {
            return vec![];
        }
        let ty = v["type"].as_str().unwrap_or_default();
        match ty {
            "response.created" => {
                let r = &v["response"];
                self.id = format!("chatcmpl-{}", r["id"].as_str().unwrap_or("gateway"));
                self.created = r["created_at"].clone();
                self.model = r["model"].clone();
                vec![self.chunk(json!({"role": "assistant", "content": ""}), Value::Null)]
            }
            "response.output_text.delta" => {
                vec![self.chunk(json!({"content": v["delta"]}), Value::Null)]
            }
            "response.refusal.delta" => {
                vec![self.chunk(json!({"refusal": v["delta"]}), Value::Null)]
            }
            "response.output_item.added" if v["item"]["type"] == "function_call" => {
                let index = self.calls.len();
                self.calls.push(v["output_index"].as_u64().unwrap_or(0));
                let it = &v["item"];
                let tc = json!({"index": index, "id": it["call_id"], "type": "function",
                    "function": {"name": it["name"], "arguments": ""}});
                vec![self.chunk(json!({"tool_calls": [tc]}), Value::Null)]
            }
            "response.function_call_arguments.delta" if self.flaw != Flaw::LostArguments => {
                let at = v["output_index"].as_u64();
                let Some(index) = self.calls.iter().position(|o| Some(*o) == at) else {
                    return vec![];
                };
                let tc = json!({"index": index, "function": {"arguments": v["delta"]}});
                vec![self.chunk(json!({"tool_calls": [tc]}), Value::Null)]
            }
            "response.completed" | "response.incomplete" => self.terminal(&v["response"]),
            "response.failed" => {
                self.ended = true;
                let e = &v["response"]["error"];
                vec![Event::data(error(&e["code"], &e["message"]).to_string())]
            }
            "error" => {
                self.ended = true;
                vec![Event::data(error(&v["code"], &v["message"]).to_string())]
            }
            _ => vec![],
        }
    }

    /// The finish chunk, the usage chunk if asked for, and `[DONE]`.
    fn terminal(&mut self, r: &Value) -> Vec<Event> {
        self.ended = true;
        let finish = finish(r, !self.calls.is_empty(), self.flaw);
        let mut out = vec![self.chunk(json!({}), json!(finish))];
        if self.include_usage {
            let c = json!({"id": self.id, "object": "chat.completion.chunk", "created": self.created,
                "model": self.model, "choices": [], "usage": usage(&r["usage"])});
            out.push(Event::data(c.to_string()));
        }
        if self.flaw != Flaw::DroppedTerminal {
            out.push(Event::data("[DONE]".into()));
        }
        out
    }

    /// The upstream stream was cut before its terminal event. A faithful gateway cuts its own
    /// stream too (`None`); with [`Flaw::CompletedWhenCut`] it finishes with `stop`.
    pub(crate) fn cut(&mut self) -> Option<Vec<Event>> {
        if self.flaw != Flaw::CompletedWhenCut || self.id.is_empty() {
            return None;
        }
        Some(self.terminal(&json!({"status": "completed"})))
    }
}

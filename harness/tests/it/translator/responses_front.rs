//! Responses in front, chat completions upstream: a `CreateResponse` body becomes a
//! `CreateChatCompletionRequest`, and the chat completion (whole, or its chunks) becomes a
//! `Response` (whole, or its typed events).

use serde_json::{Map, Value, json};

use super::Flaw;
use super::sse::Event;

/// The chat completions body for a `CreateResponse` body: `instructions` as the system
/// message, `input` items as messages (function calls folded into the assistant turn they
/// follow), the options under their chat names.
pub(crate) fn request(r: &Value) -> Value {
    let mut out = Map::new();
    if let Some(m) = r.get("model") {
        out.insert("model".into(), m.clone());
    }
    let mut messages = Vec::new();
    if let Some(i) = r.get("instructions").and_then(Value::as_str) {
        messages.push(json!({"role": "system", "content": i}));
    }
    match r.get("input") {
        Some(Value::String(s)) => messages.push(json!({"role": "user", "content": s})),
        Some(Value::Array(items)) => items.iter().for_each(|it| input_item(it, &mut messages)),
        _ => {}
    }
    out.insert("messages".into(), Value::Array(messages));
    if let Some(n) = r.get("max_output_tokens").filter(|v| !v.is_null()) {
        out.insert("max_completion_tokens".into(), n.clone());
    }
    for k in [
        "temperature",
        "top_p",
        "top_logprobs",
        "parallel_tool_calls",
    ] {
        if let Some(v) = r.get(k).filter(|v| !v.is_null()) {
            out.insert(k.into(), v.clone());
        }
    }
    let wants_logprobs = r["include"]
        .as_array()
        .is_some_and(|i| i.iter().any(|x| x == "message.output_text.logprobs"));
    if wants_logprobs {
        out.insert("logprobs".into(), json!(true));
    }
    if let Some(f) = r["text"].get("format") {
        let format = match f["type"].as_str() {
            Some("json_schema") => {
                let mut schema = json!({"name": f["name"], "schema": f["schema"]});
                for k in ["strict", "description"] {
                    if let Some(v) = f.get(k).filter(|v| !v.is_null()) {
                        schema[k] = v.clone();
                    }
                }
                json!({"type": "json_schema", "json_schema": schema})
            }
            _ => json!({"type": f["type"]}),
        };
        out.insert("response_format".into(), format);
    }
    tools(r, &mut out);
    if r.get("stream") == Some(&json!(true)) {
        out.insert("stream".into(), json!(true));
        out.insert("stream_options".into(), json!({"include_usage": true}));
    }
    Value::Object(out)
}

/// Function tools and `tool_choice`, nested under `function` as chat completions has them.
fn tools(r: &Value, out: &mut Map<String, Value>) {
    if let Some(ts) = r.get("tools").and_then(Value::as_array) {
        let fns: Vec<Value> = ts
            .iter()
            .filter(|t| t["type"] == "function")
            .map(|t| {
                let mut f = json!({"name": t["name"]});
                for k in ["description", "parameters", "strict"] {
                    if let Some(v) = t.get(k).filter(|v| !v.is_null()) {
                        f[k] = v.clone();
                    }
                }
                json!({"type": "function", "function": f})
            })
            .collect();
        out.insert("tools".into(), Value::Array(fns));
    }
    match r.get("tool_choice") {
        Some(Value::String(s)) => {
            out.insert("tool_choice".into(), json!(s));
        }
        Some(c) if c["type"] == "function" => {
            out.insert(
                "tool_choice".into(),
                json!({"type": "function", "function": {"name": c["name"]}}),
            );
        }
        _ => {}
    }
}

/// One `input` item as chat messages.
fn input_item(item: &Value, messages: &mut Vec<Value>) {
    match item["type"].as_str().unwrap_or("message") {
        "message" => {
            let role = item["role"].as_str().unwrap_or("user");
            let content = match &item["content"] {
                Value::Array(parts) if role == "user" => {
                    Value::Array(parts.iter().filter_map(user_part).collect())
                }
                Value::Array(parts) => json!(
                    parts
                        .iter()
                        .filter_map(|p| p["text"].as_str())
                        .collect::<String>()
                ),
                other => other.clone(),
            };
            messages.push(json!({"role": role, "content": content}));
        }
        "function_call" => {
            let call = json!({"id": item["call_id"], "type": "function",
                "function": {"name": item["name"], "arguments": item["arguments"]}});
            match messages.last_mut() {
                Some(last) if last["role"] == "assistant" => {
                    if !last["tool_calls"].is_array() {
                        last["tool_calls"] = json!([]);
                    }
                    last["tool_calls"].as_array_mut().unwrap().push(call);
                }
                _ => messages
                    .push(json!({"role": "assistant", "content": null, "tool_calls": [call]})),
            }
        }
        "function_call_output" => {
            let output = match &item["output"] {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            messages
                .push(json!({"role": "tool", "tool_call_id": item["call_id"], "content": output}));
        }
        _ => {}
    }
}

/// A user content part as a chat content part.
fn user_part(p: &Value) -> Option<Value> {
    match p["type"].as_str()? {
        "input_text" => Some(json!({"type": "text", "text": p["text"]})),
        "input_image" => {
            let mut url = json!({"url": p["image_url"]});
            if let Some(d) = p["detail"].as_str() {
                url["detail"] = json!(d);
            }
            Some(json!({"type": "image_url", "image_url": url}))
        }
        _ => None,
    }
}

/// `ResponseUsage` from a chat completion's `usage`.
fn usage(u: &Value) -> Value {
    if !u.is_object() {
        return Value::Null;
    }
    let n = |v: &Value| v.as_u64().unwrap_or(0);
    json!({
        "input_tokens": n(&u["prompt_tokens"]),
        "input_tokens_details": {
            "cached_tokens": n(&u["prompt_tokens_details"]["cached_tokens"]),
            "cache_write_tokens": 0,
        },
        "output_tokens": n(&u["completion_tokens"]),
        "output_tokens_details": {
            "reasoning_tokens": n(&u["completion_tokens_details"]["reasoning_tokens"]),
        },
        "total_tokens": n(&u["total_tokens"]),
    })
}

/// `status` and `incomplete_details` for a chat `finish_reason`: `length` is a reply cut at
/// `max_output_tokens` (unless the flaw says otherwise), `content_filter` one cut by the filter.
fn status(finish: Option<&str>, flaw: Flaw) -> (&'static str, Value) {
    match finish {
        Some("length") if flaw == Flaw::CompletedWhenCut => ("completed", Value::Null),
        Some("length") => ("incomplete", json!({"reason": "max_output_tokens"})),
        Some("content_filter") => ("incomplete", json!({"reason": "content_filter"})),
        _ => ("completed", Value::Null),
    }
}

/// The `Response` object around `output`, echoing the request's settings as the API does.
fn response(req: &Value, id: &str, head: &Head, status: &str, output: Vec<Value>) -> Value {
    let or = |k: &str, d: Value| req.get(k).filter(|v| !v.is_null()).cloned().unwrap_or(d);
    json!({
        "id": id,
        "object": "response",
        "created_at": head.created,
        "status": status,
        "error": null,
        "incomplete_details": null,
        "instructions": or("instructions", Value::Null),
        "max_output_tokens": or("max_output_tokens", Value::Null),
        "metadata": {},
        "model": head.model,
        "output": output,
        "parallel_tool_calls": or("parallel_tool_calls", json!(true)),
        "temperature": or("temperature", json!(1.0)),
        "text": or("text", json!({"format": {"type": "text"}})),
        "tool_choice": or("tool_choice", json!("auto")),
        "tools": or("tools", json!([])),
        "top_p": or("top_p", json!(1.0)),
    })
}

/// What every event's `response` repeats: the model and creation time the upstream gave.
#[derive(Debug, Default, Clone)]
struct Head {
    model: Value,
    created: Value,
}

impl Head {
    fn of(chat: &Value) -> Head {
        Head {
            model: chat.get("model").cloned().unwrap_or(json!("")),
            created: chat.get("created").cloned().unwrap_or(json!(0)),
        }
    }
}

fn text_part(text: &str) -> Value {
    json!({"type": "output_text", "text": text, "annotations": [], "logprobs": []})
}

fn part(kind: &str, text: &str) -> Value {
    match kind {
        "refusal" => json!({"type": "refusal", "refusal": text}),
        _ => text_part(text),
    }
}

fn call_item(id: &str, call_id: &Value, name: &Value, args: &str, status: &str) -> Value {
    json!({"type": "function_call", "id": id, "call_id": call_id, "name": name,
        "arguments": args, "status": status})
}

/// A whole chat completion as a `Response`.
pub(crate) fn reply(req: &Value, chat: &Value, flaw: Flaw) -> Value {
    let id = format!("resp_{}", chat["id"].as_str().unwrap_or("gateway"));
    let choice = &chat["choices"][0];
    let msg = &choice["message"];
    let (status, details) = status(choice["finish_reason"].as_str(), flaw);
    let item_status = if status == "incomplete" {
        "incomplete"
    } else {
        "completed"
    };
    let mut output = Vec::new();
    let mut parts = Vec::new();
    if let Some(t) = msg["content"].as_str() {
        parts.push(text_part(t));
    }
    if let Some(r) = msg["refusal"].as_str() {
        parts.push(part("refusal", r));
    }
    let calls = msg["tool_calls"].as_array().cloned().unwrap_or_default();
    if !parts.is_empty() || calls.is_empty() {
        output.push(
            json!({"type": "message", "id": format!("msg_{id}"), "status": item_status,
            "role": "assistant", "content": parts}),
        );
    }
    for (k, c) in calls.iter().enumerate() {
        let args = c["function"]["arguments"].as_str().unwrap_or("");
        output.push(call_item(
            &format!("fc_{id}_{k}"),
            &c["id"],
            &c["function"]["name"],
            args,
            "completed",
        ));
    }
    let mut r = response(req, &id, &Head::of(chat), status, output);
    r["incomplete_details"] = details;
    set_usage(&mut r, usage(&chat["usage"]));
    r
}

/// `usage` on a `Response` when the upstream gave one (the spec has no null for it).
fn set_usage(r: &mut Value, usage: Value) {
    if usage.is_object() {
        r["usage"] = usage;
    }
}

/// One output item as the stream builds it.
#[derive(Debug)]
enum Item {
    /// A message: its id and its content parts (type, text).
    Message {
        id: String,
        parts: Vec<(String, String)>,
    },
    /// A function call: the chat `tool_calls[].index` it came from, its ids and arguments.
    Call {
        index: u64,
        id: String,
        call_id: Value,
        name: Value,
        args: String,
    },
}

/// Chat chunks in, Responses events out.
pub(crate) struct Stream {
    req: Value,
    flaw: Flaw,
    seq: u64,
    id: Option<String>,
    head: Head,
    items: Vec<Item>,
    finish: Option<String>,
    closed: bool,
    usage: Value,
    /// The terminal or error event was sent: nothing follows.
    pub(crate) ended: bool,
}

impl Stream {
    /// A stream answering the Responses request `req`.
    pub(crate) fn new(req: &Value, flaw: Flaw) -> Stream {
        Stream {
            req: req.clone(),
            flaw,
            seq: 0,
            id: None,
            head: Head::default(),
            items: Vec::new(),
            finish: None,
            closed: false,
            usage: Value::Null,
            ended: false,
        }
    }

    /// The next event of type `ty`, numbered. With [`Flaw::StuckSequence`] deltas repeat the
    /// number of the event before them.
    fn emit(&mut self, out: &mut Vec<Event>, ty: &str, mut data: Value) {
        let stuck = self.flaw == Flaw::StuckSequence && ty.ends_with(".delta") && self.seq > 0;
        let n = if stuck { self.seq - 1 } else { self.seq };
        if !stuck {
            self.seq += 1;
        }
        data["type"] = json!(ty);
        data["sequence_number"] = json!(n);
        out.push(Event::named(ty, data.to_string()));
    }

    fn id(&self) -> String {
        self.id.clone().unwrap_or_default()
    }

    /// The events one upstream event makes.
    pub(crate) fn event(&mut self, ev: &Event) -> Vec<Event> {
        let mut out = Vec::new();
        if self.ended {
            return out;
        }
        if ev.data.trim() == "[DONE]" {
            self.done(&mut out);
            return out;
        }
        let Ok(chunk) = serde_json::from_str::<Value>(&ev.data) else {
            return out;
        };
        if let Some(e) = chunk.get("error") {
            let code = e["code"]
                .as_str()
                .or(e["type"].as_str())
                .unwrap_or("server_error");
            let data = json!({"code": code, "message": e["message"], "param": e["param"]});
            self.emit(&mut out, "error", data);
            self.ended = true;
            return out;
        }
        if self.id.is_none() {
            self.open(&chunk, &mut out);
        }
        if chunk["usage"].is_object() {
            self.usage = usage(&chunk["usage"]);
        }
        for choice in chunk["choices"].as_array().into_iter().flatten() {
            self.delta(&choice["delta"], &mut out);
            if let Some(f) = choice["finish_reason"].as_str() {
                self.finish = Some(f.to_string());
                self.close(&mut out);
            }
        }
        out
    }

    fn open(&mut self, chunk: &Value, out: &mut Vec<Event>) {
        let id = format!("resp_{}", chunk["id"].as_str().unwrap_or("gateway"));
        self.id = Some(id.clone());
        self.head = Head::of(chunk);
        let r = response(&self.req, &id, &self.head, "in_progress", vec![]);
        self.emit(out, "response.created", json!({"response": r}));
        self.emit(out, "response.in_progress", json!({"response": r}));
    }

    fn delta(&mut self, d: &Value, out: &mut Vec<Event>) {
        for (kind, field) in [("output_text", "content"), ("refusal", "refusal")] {
            if let Some(t) = d[field].as_str().filter(|t| !t.is_empty()) {
                self.text(kind, t, out);
            }
        }
        for tc in d["tool_calls"].as_array().into_iter().flatten() {
            self.call(tc, out);
        }
    }

    /// Text for the message item (announced, with a part of `kind`, on first use).
    fn text(&mut self, kind: &str, t: &str, out: &mut Vec<Event>) {
        let id = self.id();
        let idx = match self
            .items
            .iter()
            .position(|i| matches!(i, Item::Message { .. }))
        {
            Some(i) => i,
            None => {
                let item_id = format!("msg_{id}");
                let item = json!({"type": "message", "id": item_id, "status": "in_progress",
                    "role": "assistant", "content": []});
                let n = self.items.len();
                self.emit(
                    out,
                    "response.output_item.added",
                    json!({"output_index": n, "item": item}),
                );
                self.items.push(Item::Message {
                    id: item_id,
                    parts: vec![],
                });
                n
            }
        };
        let Item::Message { id: item_id, parts } = &mut self.items[idx] else {
            unreachable!()
        };
        let item_id = item_id.clone();
        let k = match parts.iter().position(|(pk, _)| pk == kind) {
            Some(k) => k,
            None => {
                parts.push((kind.to_string(), String::new()));
                let k = parts.len() - 1;
                let at = json!({"item_id": item_id, "output_index": idx, "content_index": k,
                    "part": part(kind, "")});
                self.emit(out, "response.content_part.added", at);
                k
            }
        };
        if let Item::Message { parts, .. } = &mut self.items[idx] {
            parts[k].1.push_str(t);
        }
        let (ty, extra) = if kind == "refusal" {
            ("response.refusal.delta", json!({}))
        } else {
            ("response.output_text.delta", json!({"logprobs": []}))
        };
        let mut data =
            json!({"item_id": item_id, "output_index": idx, "content_index": k, "delta": t});
        data.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        self.emit(out, ty, data);
    }

    /// A tool call delta: announced on its first chunk, arguments as they come.
    fn call(&mut self, tc: &Value, out: &mut Vec<Event>) {
        let index = tc["index"].as_u64().unwrap_or(0);
        let found = self
            .items
            .iter()
            .position(|i| matches!(i, Item::Call { index: n, .. } if *n == index));
        let idx = match found {
            Some(i) => i,
            None => {
                let n = self.items.len();
                let id = format!("fc_{}_{index}", self.id());
                let (call_id, name) = (tc["id"].clone(), tc["function"]["name"].clone());
                let item = call_item(&id, &call_id, &name, "", "in_progress");
                self.emit(
                    out,
                    "response.output_item.added",
                    json!({"output_index": n, "item": item}),
                );
                self.items.push(Item::Call {
                    index,
                    id,
                    call_id,
                    name,
                    args: String::new(),
                });
                n
            }
        };
        let Some(delta) = tc["function"]["arguments"]
            .as_str()
            .filter(|d| !d.is_empty())
        else {
            return;
        };
        let Item::Call { id, args, .. } = &mut self.items[idx] else {
            unreachable!()
        };
        args.push_str(delta);
        let id = id.clone();
        if self.flaw != Flaw::LostArguments {
            let data = json!({"item_id": id, "output_index": idx, "delta": delta});
            self.emit(out, "response.function_call_arguments.delta", data);
        }
    }

    /// The final form of every item, for `output_item.done` and the terminal `response`.
    fn finals(&self, status: &str) -> Vec<Value> {
        self.items
            .iter()
            .map(|it| match it {
                Item::Message { id, parts } => {
                    let content: Vec<Value> = parts.iter().map(|(k, t)| part(k, t)).collect();
                    json!({"type": "message", "id": id, "status": status, "role": "assistant",
                        "content": content})
                }
                Item::Call {
                    id,
                    call_id,
                    name,
                    args,
                    ..
                } => call_item(id, call_id, name, args, "completed"),
            })
            .collect()
    }

    /// The finish reason arrived: every part and item is done.
    fn close(&mut self, out: &mut Vec<Event>) {
        if self.closed {
            return;
        }
        self.closed = true;
        if self.items.is_empty() {
            // An empty reply is still one (empty) message.
            self.text("output_text", "", out);
        }
        let (st, _) = status(self.finish.as_deref(), self.flaw);
        let item_status = if st == "incomplete" {
            "incomplete"
        } else {
            "completed"
        };
        let finals = self.finals(item_status);
        for (idx, item) in finals.into_iter().enumerate() {
            let (id, parts, call) = match &self.items[idx] {
                Item::Message { id, parts } => (id.clone(), parts.clone(), None),
                Item::Call { id, name, args, .. } => {
                    (id.clone(), vec![], Some((name.clone(), args.clone())))
                }
            };
            for (k, (kind, text)) in parts.iter().enumerate() {
                let at = json!({"item_id": id, "output_index": idx, "content_index": k});
                let mut done = at.clone();
                if kind == "refusal" {
                    done["refusal"] = json!(text);
                    self.emit(out, "response.refusal.done", done);
                } else {
                    done["text"] = json!(text);
                    done["logprobs"] = json!([]);
                    self.emit(out, "response.output_text.done", done);
                }
                let mut pd = at;
                pd["part"] = part(kind, text);
                self.emit(out, "response.content_part.done", pd);
            }
            if let Some((name, args)) = call {
                let data =
                    json!({"item_id": id, "output_index": idx, "name": name, "arguments": args});
                self.emit(out, "response.function_call_arguments.done", data);
            }
            self.emit(
                out,
                "response.output_item.done",
                json!({"output_index": idx, "item": item}),
            );
        }
    }

    /// `[DONE]`: the terminal event, with the usage the last chunk gave. A stream that ends
    /// without a finish reason was cut upstream and fails.
    fn done(&mut self, out: &mut Vec<Event>) {
        self.ended = true;
        if self.flaw == Flaw::DroppedTerminal {
            return;
        }
        let id = self.id();
        if self.finish.is_none() {
            let mut r = response(
                &self.req,
                &id,
                &self.head,
                "failed",
                self.finals("incomplete"),
            );
            r["error"] = json!({"code": "server_error", "message": "the upstream stream ended without a finish reason"});
            self.emit(out, "response.failed", json!({"response": r}));
            return;
        }
        let (st, details) = status(self.finish.as_deref(), self.flaw);
        let item_status = if st == "incomplete" {
            "incomplete"
        } else {
            "completed"
        };
        let mut r = response(&self.req, &id, &self.head, st, self.finals(item_status));
        r["incomplete_details"] = details;
        set_usage(&mut r, self.usage.clone());
        self.emit(out, &format!("response.{st}"), json!({"response": r}));
    }

    /// The upstream stream was cut (or ended without `[DONE]`). A faithful gateway cuts its
    /// own stream too, so `None`: the caller aborts the connection. With
    /// [`Flaw::CompletedWhenCut`] the events so far are closed and reported complete.
    pub(crate) fn cut(&mut self) -> Option<Vec<Event>> {
        if self.flaw != Flaw::CompletedWhenCut || self.id.is_none() {
            return None;
        }
        let mut out = Vec::new();
        self.finish.get_or_insert_with(|| "stop".into());
        self.close(&mut out);
        self.done(&mut out);
        Some(out)
    }
}

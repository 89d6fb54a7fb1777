//! OpenAI's Responses API: `POST /v1/responses`, to the letter of `CreateResponse` /
//! `Response` / the typed stream events (`ResponseStreamEvent`), with a `sequence_number` on
//! every event, `output_index`/`content_index` for each item and part, and exactly one
//! terminal event. A reply cut at `max_output_tokens` is `incomplete` with
//! `incomplete_details.reason: max_output_tokens`.

use serde_json::{Map, Value, json};

use super::answer::{self, Answer, Choice, Finish, Format, Tool, Turn};
use super::config::{Broken, Config};
use super::errors::ApiError;
use super::validate::{self, RESPONSES};
use super::wire::{Out, has_image, now_secs, sse, text_of, u32_of};
use crate::dialect::DialectKind;

const ROLES: [&str; 4] = ["user", "assistant", "system", "developer"];

/// What the request asked beyond the turn, echoed in the `Response` object.
struct Ask {
    turn: Turn,
    stream: bool,
    echo: Map<String, Value>,
}

/// Answers `POST /v1/responses`.
pub(crate) fn create(body: &[u8], cfg: &Config, seq: u64) -> Out {
    match read(body, cfg) {
        Ok(ask) => {
            let a = answer::answer(&ask.turn, cfg, seq);
            let model = super::openai::reply_model(&ask.turn.model, cfg);
            let r = Reply {
                ask: &ask,
                a: &a,
                model: &model,
                seq,
                cfg,
            };
            if ask.stream && cfg.streaming {
                Out::Stream("text/event-stream; charset=utf-8", r.events())
            } else {
                Out::Json(200, r.response(true))
            }
        }
        Err(e) => {
            let (status, body) = e.render(DialectKind::OpenaiResponses, cfg);
            Out::Json(status, body)
        }
    }
}

fn read(body: &[u8], cfg: &Config) -> Result<Ask, ApiError> {
    let body: Value = serde_json::from_slice(body).map_err(|_| {
        ApiError::invalid("We could not parse the JSON body of your request. (HINT: This likely means you aren't using your HTTP library correctly. The OpenAI API expects a JSON payload, but what was sent was not valid JSON.)")
    })?;
    let accept = cfg.is_broken(Broken::AcceptInvalid);
    if !body.is_object() && !accept {
        return Err(ApiError::invalid("The request body must be a JSON object."));
    }
    if !accept && let Some((field, breach)) = validate::check(&body, RESPONSES) {
        return Err(validate::refusal(
            DialectKind::OpenaiResponses,
            field,
            &breach,
        ));
    }
    let mut turn = Turn {
        model: body["model"].as_str().unwrap_or_default().to_string(),
        max_tokens: u32_of(body.get("max_output_tokens")),
        parallel: body.get("parallel_tool_calls") != Some(&json!(false)),
        ..Turn::default()
    };
    let vision = cfg.takes_images(&turn.model);
    read_input(&body, vision, &mut turn).or_else(|e| if accept { Ok(()) } else { Err(e) })?;
    let tools =
        read_tools(&body, &mut turn).or_else(|e| if accept { Ok(Vec::new()) } else { Err(e) })?;
    if let Some(msg) = cfg.refuse_tools(&turn.model, !turn.tools.is_empty()) {
        return Err(ApiError::invalid(msg).param("tools"));
    }
    turn.format = read_format(&body).or_else(|e| if accept { Ok(Format::Text) } else { Err(e) })?;
    if cfg.model(&turn.model).is_none_or(|m| !m.installed) && !accept {
        return Err(ApiError::not_found(format!(
            "The model `{}` does not exist or you do not have access to it.",
            turn.model
        ))
        .code("model_not_found"));
    }
    let mut echo = Map::new();
    echo.insert(
        "instructions".into(),
        body.get("instructions").cloned().unwrap_or(Value::Null),
    );
    echo.insert(
        "max_output_tokens".into(),
        body.get("max_output_tokens")
            .cloned()
            .unwrap_or(Value::Null),
    );
    echo.insert("parallel_tool_calls".into(), json!(turn.parallel));
    echo.insert(
        "temperature".into(),
        json!(body["temperature"].as_f64().unwrap_or(1.0)),
    );
    echo.insert("top_p".into(), json!(body["top_p"].as_f64().unwrap_or(1.0)));
    echo.insert(
        "tool_choice".into(),
        body.get("tool_choice").cloned().unwrap_or(json!("auto")),
    );
    echo.insert("tools".into(), Value::Array(tools));
    let format = body["text"]
        .get("format")
        .cloned()
        .unwrap_or(json!({"type": "text"}));
    echo.insert("text".into(), json!({"format": format}));
    Ok(Ask {
        stream: body["stream"].as_bool().unwrap_or(false),
        echo,
        turn,
    })
}

/// `instructions` and the `input` items into the turn: message items by role, function calls
/// remembered, and a `function_call_output` answering one of them. An `input_image` part sent to
/// a model without vision (`vision` false) is refused, as OpenAI does.
fn read_input(body: &Value, vision: bool, turn: &mut Turn) -> Result<(), ApiError> {
    let mut instructions: Vec<String> = body["instructions"]
        .as_str()
        .map(str::to_string)
        .into_iter()
        .collect();
    turn.input.push_str(&instructions.join("\n"));
    let items = match &body["input"] {
        Value::String(s) => vec![json!({"role": "user", "content": s})],
        Value::Array(a) => a.clone(),
        _ => Vec::new(),
    };
    let mut call_ids: Vec<String> = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let kind = item["type"].as_str().unwrap_or("message");
        turn.tool_result = None;
        match kind {
            "message" => {
                let role = item["role"].as_str().unwrap_or("");
                if !ROLES.contains(&role) {
                    return Err(ApiError::invalid(format!("Invalid value: '{role}'. Supported values are: 'assistant', 'system', 'developer', and 'user'.")).param(format!("input[{i}].role")).code("invalid_value"));
                }
                if has_image(&item["content"], "input_image") && !vision {
                    return Err(ApiError::invalid(
                        "Invalid content type. image_url is only supported by certain models.",
                    )
                    .param(format!("input[{i}].content"))
                    .code("invalid_value"));
                }
                let text = text_of(&item["content"]);
                turn.input.push_str(&text);
                turn.input.push('\n');
                match role {
                    "user" => turn.prompt = text,
                    "system" | "developer" => instructions.push(text),
                    _ => {}
                }
            }
            "function_call" => {
                call_ids.extend(item["call_id"].as_str().map(str::to_string));
                turn.input.push_str(&item.to_string());
            }
            "function_call_output" => {
                let id = item["call_id"].as_str().unwrap_or("");
                if !call_ids.iter().any(|c| c == id) {
                    return Err(ApiError::invalid(format!(
                        "No tool call found for function call output with call_id {id}."
                    ))
                    .param("input"));
                }
                let text = text_of(&item["output"]);
                turn.input.push_str(&text);
                turn.tool_result = Some(text);
            }
            other => {
                return Err(ApiError::invalid(format!("Invalid value: '{other}'."))
                    .param(format!("input[{i}].type"))
                    .code("invalid_value"));
            }
        }
    }
    instructions.push(std::mem::take(&mut turn.prompt));
    turn.prompt = instructions.join("\n");
    Ok(())
}

/// The flat function tools and the tool choice; the tools as the `Response` echoes them.
fn read_tools(body: &Value, turn: &mut Turn) -> Result<Vec<Value>, ApiError> {
    let mut echo = Vec::new();
    for (i, t) in body["tools"].as_array().into_iter().flatten().enumerate() {
        let Some(name) = t["name"].as_str() else {
            return Err(ApiError::invalid(format!(
                "Missing required parameter: 'tools[{i}].name'."
            ))
            .param(format!("tools[{i}].name"))
            .code("missing_required_parameter"));
        };
        turn.input.push_str(&t.to_string());
        let schema = t
            .get("parameters")
            .filter(|p| !p.is_null())
            .cloned()
            .unwrap_or(json!({"type": "object"}));
        turn.tools.push(Tool {
            name: name.to_string(),
            description: t["description"].as_str().unwrap_or("").to_string(),
            schema: schema.clone(),
        });
        echo.push(json!({"type": "function", "name": name, "description": t.get("description").cloned().unwrap_or(Value::Null),
            "parameters": schema, "strict": t["strict"].as_bool().unwrap_or(true)}));
    }
    let bad = |msg: String| {
        ApiError::invalid(msg)
            .param("tool_choice")
            .code("invalid_value")
    };
    turn.choice = match body.get("tool_choice") {
        None | Some(Value::Null) => Choice::Auto,
        Some(Value::String(s)) if s == "auto" => Choice::Auto,
        Some(Value::String(s)) if s == "none" => Choice::None,
        Some(Value::String(s)) if s == "required" => Choice::Required,
        Some(v) => match v["name"].as_str() {
            Some(n) if turn.tools.iter().any(|t| t.name == n) => Choice::Named(n.to_string()),
            _ => {
                return Err(bad(format!(
                    "Invalid value for 'tool_choice': {v} names no offered tool."
                )));
            }
        },
    };
    Ok(echo)
}

fn read_format(body: &Value) -> Result<Format, ApiError> {
    let f = &body["text"]["format"];
    match f["type"].as_str() {
        None if f.is_null() => Ok(Format::Text),
        Some("text") => Ok(Format::Text),
        Some("json_object") => Ok(Format::Json),
        Some("json_schema") => match (f["name"].as_str(), f.get("schema")) {
            (Some(_), Some(s)) => Ok(Format::Schema(s.clone())),
            (None, _) => Err(
                ApiError::invalid("Missing required parameter: 'text.format.name'.")
                    .param("text.format.name")
                    .code("missing_required_parameter"),
            ),
            (Some(_), None) => Err(ApiError::invalid(
                "Missing required parameter: 'text.format.schema'.",
            )
            .param("text.format.schema")
            .code("missing_required_parameter")),
        },
        _ => Err(ApiError::invalid(format!(
            "Invalid value: {}. Supported values are: 'text', 'json_object', and 'json_schema'.",
            f["type"]
        ))
        .param("text.format.type")
        .code("invalid_value")),
    }
}

/// One answer, rendered as a `Response` object or as its stream.
struct Reply<'a> {
    ask: &'a Ask,
    a: &'a Answer,
    model: &'a str,
    seq: u64,
    cfg: &'a Config,
}

impl Reply<'_> {
    fn cut(&self) -> bool {
        self.a.finish == Finish::Length
    }

    fn msg_id(&self) -> String {
        format!("msg_ref{}", self.seq)
    }

    fn text_part(text: &str) -> Value {
        json!({"type": "output_text", "text": text, "annotations": [], "logprobs": []})
    }

    /// The message item (when the answer has text) and one function call item per call, in
    /// their final form, or as `response.output_item.added` announces them (`done: false`).
    fn items(&self, done: bool) -> Vec<Value> {
        let status = match (done, self.cut()) {
            (false, _) => "in_progress",
            (true, true) => "incomplete",
            (true, false) => "completed",
        };
        let mut out = Vec::new();
        if self.a.calls.is_empty() {
            let content = if done {
                json!([Self::text_part(&self.a.text)])
            } else {
                json!([])
            };
            out.push(json!({"type": "message", "id": self.msg_id(), "status": status, "role": "assistant", "content": content}));
        }
        for (i, c) in self.a.calls.iter().enumerate() {
            let args = if done {
                c.arguments.to_string()
            } else {
                String::new()
            };
            out.push(json!({"type": "function_call", "id": format!("fc_ref{}_{i}", self.seq), "call_id": c.id,
                "name": c.name, "arguments": args, "status": status}));
        }
        out
    }

    /// The `Response` object: final (`done`), or as `response.created` shows it.
    fn response(&self, done: bool) -> Value {
        let status = match (done, self.cut()) {
            (false, _) => "in_progress",
            (true, true) => "incomplete",
            (true, false) => "completed",
        };
        let created = now_secs();
        let mut r = json!({"id": format!("resp_ref{}", self.seq), "object": "response", "created_at": created,
            "status": status, "background": false, "error": null,
            "incomplete_details": if done && self.cut() { json!({"reason": "max_output_tokens"}) } else { Value::Null },
            "model": self.model, "output": if done { json!(self.items(true)) } else { json!([]) },
            "previous_response_id": null, "reasoning": {"effort": null, "summary": null},
            "service_tier": "default", "store": true, "truncation": "disabled", "metadata": {}});
        let o = r.as_object_mut().expect("object");
        o.extend(self.ask.echo.clone());
        if done {
            o.insert(
                "completed_at".into(),
                if self.cut() {
                    Value::Null
                } else {
                    json!(created)
                },
            );
            // `usage` is an object when present: no usage is no field (not `null`).
            if let Some((i, out)) = self.a.usage {
                o.insert(
                    "usage".into(),
                    json!({"input_tokens": i,
                    "input_tokens_details": {"cached_tokens": 0, "cache_write_tokens": 0},
                    "output_tokens": out, "output_tokens_details": {"reasoning_tokens": 0},
                    "total_tokens": i + out}),
                );
            }
        }
        if self.cfg.is_broken(Broken::MissingFields) {
            for k in ["id", "object", "created_at"] {
                o.remove(k);
            }
        }
        r
    }

    /// The stream: created, in_progress, each item's events, one terminal event.
    fn events(&self) -> Vec<String> {
        let mut ev = vec![
            json!({"type": "response.created", "response": self.response(false)}),
            json!({"type": "response.in_progress", "response": self.response(false)}),
        ];
        let added = self.items(false);
        let done = self.items(true);
        for (idx, (a, d)) in added.into_iter().zip(done).enumerate() {
            ev.push(json!({"type": "response.output_item.added", "output_index": idx, "item": a}));
            if d["type"] == "message" {
                ev.extend(self.text_events(idx));
            } else {
                let id = d["id"].clone();
                let args = d["arguments"].as_str().unwrap_or("");
                for piece in super::text::pieces(args) {
                    ev.push(json!({"type": "response.function_call_arguments.delta", "item_id": id, "output_index": idx, "delta": piece}));
                }
                ev.push(json!({"type": "response.function_call_arguments.done", "item_id": id, "output_index": idx,
                    "name": d["name"], "arguments": args}));
            }
            ev.push(json!({"type": "response.output_item.done", "output_index": idx, "item": d}));
        }
        let terminal = if self.cut() {
            "response.incomplete"
        } else {
            "response.completed"
        };
        let last = json!({"type": terminal, "response": self.response(true)});
        if self.cfg.is_broken(Broken::StreamOutOfOrder) {
            let tail = ev.pop().expect("an item event");
            ev.extend([last, tail]);
        } else if !self.cfg.is_broken(Broken::StreamNoTerminal) {
            ev.push(last);
        }
        ev.into_iter()
            .enumerate()
            .map(|(n, mut e)| {
                if !self.cfg.is_broken(Broken::MissingFields) {
                    e["sequence_number"] = json!(n);
                }
                sse(e["type"].as_str(), &e.to_string())
            })
            .collect()
    }

    fn text_events(&self, idx: usize) -> Vec<Value> {
        let at = |mut v: Value| {
            v["item_id"] = json!(self.msg_id());
            v["output_index"] = json!(idx);
            v["content_index"] = json!(0);
            v
        };
        let mut ev = vec![at(
            json!({"type": "response.content_part.added", "part": Self::text_part("")}),
        )];
        for piece in super::text::pieces(&self.a.text) {
            ev.push(at(
                json!({"type": "response.output_text.delta", "delta": piece, "logprobs": []}),
            ));
        }
        ev.push(at(
            json!({"type": "response.output_text.done", "text": self.a.text, "logprobs": []}),
        ));
        ev.push(at(
            json!({"type": "response.content_part.done", "part": Self::text_part(&self.a.text)}),
        ));
        ev
    }
}

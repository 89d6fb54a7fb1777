//! Ollama's native API: `/api/chat` and `/api/generate` (NDJSON streams by default), and the
//! model management `/api/tags`, `/api/show`, `/api/ps`, `/api/pull`, with models that load
//! on first use and unload at `keep_alive: 0` (provider-wire.md C2–C6).

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Value, json};

use super::answer::{self, Answer, Format, Tool, Turn};
use super::config::{Broken, Config};
use super::errors::ApiError;
use super::validate::{self, OLLAMA_CHAT, OLLAMA_GENERATE};
use super::wire::{Out, strings, text_of, u32_of};
use crate::dialect::DialectKind;

const NDJSON: &str = "application/x-ndjson";
/// How long a load takes, as reported in `load_duration` (ns).
const LOAD_NS: u64 = 250_000_000;

/// What the server holds: installed models and loaded ones with their expiry (unix seconds;
/// `None`: kept loaded for ever).
#[derive(Debug, Default)]
pub(super) struct Models {
    installed: BTreeSet<String>,
    loaded: BTreeMap<String, Option<i64>>,
}

impl Models {
    /// The installed models of `cfg`, none loaded.
    pub(super) fn new(cfg: &Config) -> Models {
        Models {
            installed: cfg
                .models
                .iter()
                .filter(|m| m.installed)
                .map(|m| m.name.clone())
                .collect(),
            loaded: BTreeMap::new(),
        }
    }

    fn expire(&mut self) {
        let now = chrono::Utc::now().timestamp();
        self.loaded.retain(|_, exp| exp.is_none_or(|e| e > now));
    }

    /// Loads `model` for `keep_alive` seconds (negative: for ever); the load time (ns).
    fn load(&mut self, model: &str, keep_alive: i64) -> u64 {
        self.expire();
        let fresh = !self.loaded.contains_key(model);
        let exp = (keep_alive >= 0).then(|| chrono::Utc::now().timestamp() + keep_alive);
        self.loaded.insert(model.to_string(), exp);
        if fresh { LOAD_NS } else { 1_000_000 }
    }
}

/// An error in this dialect's shape.
pub(super) fn error(e: &ApiError, cfg: &Config) -> Out {
    let (status, body) = e.render(DialectKind::Ollama, cfg);
    Out::Json(status, body)
}

fn parse(body: &[u8]) -> Result<Value, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::invalid("missing request body"));
    }
    serde_json::from_slice(body).map_err(|e| {
        // Go's encoding/json words it, as Ollama passes it on.
        let first = body
            .iter()
            .find(|b| !b.is_ascii_whitespace())
            .copied()
            .unwrap_or(b' ');
        if b"{[\"-0123456789tfn".contains(&first) {
            ApiError::invalid(format!("unexpected end of JSON input ({e})"))
        } else {
            ApiError::invalid(format!(
                "invalid character '{}' looking for beginning of value",
                first as char
            ))
        }
    })
}

/// `keep_alive` in seconds: a number, or a Go duration such as `5m`, `30s`, `1h`, `0`.
fn keep_alive(v: Option<&Value>) -> i64 {
    match v {
        Some(Value::Number(n)) => n.as_f64().unwrap_or(300.0) as i64,
        Some(Value::String(s)) => {
            let (num, unit) = s.split_at(s.find(|c: char| c.is_alphabetic()).unwrap_or(s.len()));
            let n: f64 = num.parse().unwrap_or(300.0);
            let scale = match unit {
                "h" => 3600.0,
                "m" => 60.0,
                "ms" => 0.001,
                _ => 1.0,
            };
            (n * scale) as i64
        }
        _ => 300,
    }
}

/// `POST /api/chat` (`generate: false`) or `POST /api/generate`.
pub(super) fn chat(
    body: &[u8],
    generate: bool,
    cfg: &Config,
    models: &std::sync::Mutex<Models>,
    seq: u64,
) -> Out {
    let parsed = match parse(body) {
        Err(_) if cfg.is_broken(Broken::AcceptInvalid) => Ok(json!({})),
        other => other,
    };
    let read = parsed.and_then(|b| read(&b, generate, cfg).map(|t| (b, t)));
    let (body, turn) = match read {
        Ok(x) => x,
        Err(e) => return error(&e, cfg),
    };
    let mut held = models.lock().unwrap_or_else(|p| p.into_inner());
    if !held.installed.contains(&turn.model) && !cfg.is_broken(Broken::AcceptInvalid) {
        return error(
            &ApiError::not_found(format!(
                "model \"{}\" not found, try pulling it first",
                turn.model
            )),
            cfg,
        );
    }
    let asked = keep_alive(body.get("keep_alive"));
    let ka = if asked == 0 && cfg.is_broken(Broken::NoUnload) {
        300
    } else {
        asked
    };
    let load_ns = held.load(&turn.model, ka);
    let empty = if generate {
        body["prompt"].as_str().is_none_or(str::is_empty)
    } else {
        body["messages"].as_array().is_none_or(Vec::is_empty)
    };
    if ka == 0 {
        held.loaded.remove(&turn.model);
    }
    drop(held);
    let model = super::openai::reply_model(&turn.model, cfg);
    if empty {
        let reason = if asked == 0 { "unload" } else { "load" };
        let mut done =
            json!({"model": model, "created_at": now(), "done_reason": reason, "done": true});
        put_content(&mut done, generate, "");
        return Out::Json(200, done);
    }
    let a = answer::answer(&turn, cfg, seq);
    let stream = body["stream"].as_bool().unwrap_or(true) && cfg.streaming;
    let lines = lines(&a, &model, generate, load_ns, cfg);
    if stream {
        Out::Stream(NDJSON, lines.iter().map(|l| format!("{l}\n")).collect())
    } else {
        let mut last = lines.last().cloned().unwrap_or_default();
        put_content(&mut last, generate, &a.text);
        if !a.calls.is_empty() && !generate {
            last["message"]["tool_calls"] = tool_calls(&a);
        }
        Out::Json(200, last)
    }
}

fn read(body: &Value, generate: bool, cfg: &Config) -> Result<Turn, ApiError> {
    let table = if generate {
        OLLAMA_GENERATE
    } else {
        OLLAMA_CHAT
    };
    if !cfg.is_broken(Broken::AcceptInvalid)
        && let Some((field, breach)) = validate::check(body, table)
    {
        return Err(validate::refusal(DialectKind::Ollama, field, &breach));
    }
    let options = &body["options"];
    let mut turn = Turn {
        model: body["model"].as_str().unwrap_or_default().to_string(),
        max_tokens: u32_of(options.get("num_predict")),
        stop: strings(options.get("stop")),
        parallel: true,
        format: match &body["format"] {
            Value::String(s) if s == "json" => Format::Json,
            Value::Object(_) => Format::Schema(body["format"].clone()),
            _ => Format::Text,
        },
        ..Turn::default()
    };
    let vision = cfg.takes_images(&turn.model);
    let mut images = body["images"].as_array().is_some_and(|a| !a.is_empty());
    if generate {
        let system = body["system"].as_str().unwrap_or("");
        let prompt = body["prompt"].as_str().unwrap_or("");
        turn.input = format!("{system}\n{prompt}");
        turn.prompt = if prompt.is_empty() {
            String::new()
        } else {
            turn.input.clone()
        };
    } else {
        let mut instructions = Vec::new();
        for m in body["messages"].as_array().into_iter().flatten() {
            let text = text_of(m.get("content").unwrap_or(&Value::Null));
            images |= m["images"].as_array().is_some_and(|a| !a.is_empty());
            turn.input.push_str(&text);
            turn.input.push('\n');
            turn.tool_result = None;
            match m["role"].as_str() {
                Some("system") => instructions.push(text),
                Some("tool") => turn.tool_result = Some(text),
                Some("assistant") => {}
                _ => turn.prompt = text,
            }
        }
        instructions.push(std::mem::take(&mut turn.prompt));
        turn.prompt = instructions.join("\n");
        read_tools(body, &mut turn);
        if let Some(msg) = cfg.refuse_tools(&turn.model, !turn.tools.is_empty()) {
            return Err(ApiError::invalid(msg));
        }
    }
    if images && !vision && cfg.model(&turn.model).is_some() {
        return Err(ApiError::invalid(format!(
            "\"{}\" does not support images",
            turn.model
        )));
    }
    Ok(turn)
}

fn read_tools(body: &Value, turn: &mut Turn) {
    for t in body["tools"].as_array().into_iter().flatten() {
        let f = &t["function"];
        turn.input.push_str(&t.to_string());
        turn.tools.push(Tool {
            name: f["name"].as_str().unwrap_or("").to_string(),
            description: f["description"].as_str().unwrap_or("").to_string(),
            schema: f
                .get("parameters")
                .cloned()
                .unwrap_or(json!({"type": "object"})),
        });
    }
}

fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Nanos, true)
}

fn put_content(line: &mut Value, generate: bool, text: &str) {
    if generate {
        line["response"] = json!(text);
    } else {
        line["message"] = json!({"role": "assistant", "content": text});
    }
}

fn tool_calls(a: &Answer) -> Value {
    let calls: Vec<Value> = a
        .calls
        .iter()
        .enumerate()
        .map(|(i, c)| json!({"id": c.id, "function": {"index": i, "name": c.name, "arguments": c.arguments}}))
        .collect();
    json!(calls)
}

/// The stream's lines: one per piece of text (or one with the tool calls), then the final
/// `done: true` object with its counts and durations.
fn lines(a: &Answer, model: &str, generate: bool, load_ns: u64, cfg: &Config) -> Vec<Value> {
    let mut out = Vec::new();
    for piece in super::text::pieces(&a.text) {
        let mut l = json!({"model": model, "created_at": now()});
        put_content(&mut l, generate, &piece);
        l["done"] = json!(false);
        out.push(l);
    }
    if !a.calls.is_empty() && !generate {
        let mut l = json!({"model": model, "created_at": now()});
        put_content(&mut l, false, "");
        l["message"]["tool_calls"] = tool_calls(a);
        l["done"] = json!(false);
        out.push(l);
    }
    let reason = if a.finish == answer::Finish::Length {
        "length"
    } else {
        "stop"
    };
    let mut done = json!({"model": model, "created_at": now()});
    put_content(&mut done, generate, "");
    done["done_reason"] = json!(reason);
    done["done"] = json!(true);
    let (input, output) = a.usage.unwrap_or((0, 0));
    let (prompt_ns, eval_ns) = (u64::from(input) * 100_000, u64::from(output) * 1_000_000);
    done["total_duration"] = json!(load_ns + prompt_ns + eval_ns);
    done["load_duration"] = json!(load_ns);
    done["prompt_eval_duration"] = json!(prompt_ns);
    done["eval_duration"] = json!(eval_ns);
    if a.usage.is_some() {
        done["prompt_eval_count"] = json!(input);
        done["eval_count"] = json!(output);
    }
    if cfg.is_broken(Broken::MissingFields) {
        done.as_object_mut().map(|o| o.remove("done"));
    }
    if cfg.is_broken(Broken::StreamOutOfOrder) && !out.is_empty() {
        let tail = out.pop().expect("one line");
        out.extend([done, tail]);
    } else if !cfg.is_broken(Broken::StreamNoTerminal) {
        out.push(done);
    }
    out
}

fn details() -> Value {
    json!({"parent_model": "", "format": "gguf", "family": "reference", "families": ["reference"],
        "parameter_size": "1M", "quantization_level": "Q4_0"})
}

fn digest(name: &str) -> String {
    use sha2::Digest;
    let d = sha2::Sha256::digest(name.as_bytes());
    d.iter().map(|b| format!("{b:02x}")).collect()
}

/// `GET /api/tags`.
pub(super) fn tags(models: &std::sync::Mutex<Models>) -> Out {
    let held = models.lock().unwrap_or_else(|p| p.into_inner());
    let list: Vec<Value> = held
        .installed
        .iter()
        .map(|n| {
            json!({"name": n, "model": n, "modified_at": "2026-01-01T00:00:00Z",
            "size": 1_048_576u64, "digest": digest(n), "details": details()})
        })
        .collect();
    Out::Json(200, json!({"models": list}))
}

/// `GET /api/ps`.
pub(super) fn ps(models: &std::sync::Mutex<Models>) -> Out {
    let mut held = models.lock().unwrap_or_else(|p| p.into_inner());
    held.expire();
    let list: Vec<Value> = held
        .loaded
        .iter()
        .map(|(n, exp)| {
            let at = exp.unwrap_or(i64::from(i32::MAX));
            let expires = chrono::DateTime::from_timestamp(at, 0)
                .unwrap_or_default()
                .to_rfc3339();
            json!({"name": n, "model": n, "size": 1_048_576u64, "size_vram": 0, "digest": digest(n),
                "details": details(), "expires_at": expires, "context_length": 4096})
        })
        .collect();
    Out::Json(200, json!({"models": list}))
}

/// `POST /api/show`.
pub(super) fn show(body: &[u8], cfg: &Config, models: &std::sync::Mutex<Models>) -> Out {
    let body = match parse(body) {
        Ok(b) => b,
        Err(e) => return error(&e, cfg),
    };
    let Some(name) = body["model"].as_str().or(body["name"].as_str()) else {
        return error(&ApiError::invalid("model is required"), cfg);
    };
    let installed = models
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .installed
        .contains(name);
    let Some(spec) = cfg.model(name).filter(|_| installed) else {
        return error(
            &ApiError::not_found(format!("model \"{name}\" not found")),
            cfg,
        );
    };
    let mut caps = vec!["completion", "tools"];
    if spec.vision {
        caps.push("vision");
    }
    Out::Json(
        200,
        json!({"modelfile": format!("FROM {name}\n"), "parameters": "temperature 1",
        "template": "{{ .Prompt }}", "details": details(),
        "model_info": {"general.architecture": "reference", "general.parameter_count": 1_000_000,
            "reference.context_length": 4096},
        "capabilities": caps, "modified_at": "2026-01-01T00:00:00Z"}),
    )
}

/// `POST /api/pull`: progress lines, then `success`; an unknown model ends with an error line.
pub(super) fn pull(body: &[u8], cfg: &Config, models: &std::sync::Mutex<Models>) -> Out {
    let body = match parse(body) {
        Ok(b) => b,
        Err(e) => return error(&e, cfg),
    };
    let Some(name) = body["model"].as_str().or(body["name"].as_str()) else {
        return error(&ApiError::invalid("model is required"), cfg);
    };
    let stream = body["stream"].as_bool().unwrap_or(true) && cfg.streaming;
    let known = cfg.model(name).is_some();
    if !stream {
        if !known {
            return Out::Json(
                500,
                json!({"error": "pull model manifest: file does not exist"}),
            );
        }
        models
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .installed
            .insert(name.to_string());
        return Out::Json(200, json!({"status": "success"}));
    }
    let mut lines = vec![json!({"status": "pulling manifest"})];
    if !known {
        lines.push(json!({"error": "pull model manifest: file does not exist"}));
    } else {
        let d = format!("sha256:{}", digest(name));
        let total = 1_048_576u64;
        for completed in [0, total / 2, total] {
            lines.push(json!({"status": format!("pulling {}", &d[7..19]), "digest": d, "total": total, "completed": completed}));
        }
        for s in [
            "verifying sha256 digest",
            "writing manifest",
            "removing any unused layers",
        ] {
            lines.push(json!({"status": s}));
        }
        if !cfg.is_broken(Broken::PullNoSuccess) {
            lines.push(json!({"status": "success"}));
        }
        models
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .installed
            .insert(name.to_string());
    }
    Out::Stream(NDJSON, lines.iter().map(|l| format!("{l}\n")).collect())
}

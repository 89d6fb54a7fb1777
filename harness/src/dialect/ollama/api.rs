//! Ollama's model-management endpoints: `/api/pull` (streamed progress), `/api/ps`,
//! `/api/tags`, `/api/show`, and unloading with `keep_alive: 0`. Each reply is checked against
//! the shape documented in provider-wire.md C5/C6, naming the field or line that breaks it.

use std::collections::HashMap;

use serde_json::{Value, json};

use crate::dialect::json::{Check, parse_reply};
use crate::dialect::stream::{Frame, StreamEnd, TimedFrame};
use crate::dialect::wire::{WireOp, WireRequest};
use crate::neutral::{ProviderError, Reply, Request, StreamInfo};

/// Encodes a model-management request. `Request::Chat` is the chat encoder's job.
pub(crate) fn encode(req: &Request) -> WireRequest {
    let json_headers = || vec![("content-type", "application/json".to_string())];
    let (method, path, body, op) = match req {
        Request::Pull { model } => (
            "POST",
            "/api/pull",
            json!({"model": model, "stream": true}),
            WireOp::Pull,
        ),
        Request::ListRunning => ("GET", "/api/ps", Value::Null, WireOp::ListRunning),
        Request::ListLocal => ("GET", "/api/tags", Value::Null, WireOp::ListLocal),
        Request::Show { model } => ("POST", "/api/show", json!({"model": model}), WireOp::Show),
        // Documented: an empty message list with keep_alive 0 unloads the model at once.
        Request::Unload { model } => (
            "POST",
            "/api/chat",
            json!({"model": model, "messages": [], "keep_alive": 0, "stream": false}),
            WireOp::Unload,
        ),
        Request::Generate { model, prompt } => (
            "POST",
            "/api/generate",
            json!({"model": model, "prompt": prompt, "stream": false}),
            WireOp::Generate,
        ),
        Request::Chat(_) => ("POST", "/api/chat", Value::Null, WireOp::Chat),
    };
    let headers = if body.is_null() {
        Vec::new()
    } else {
        json_headers()
    };
    WireRequest {
        method,
        path,
        headers,
        body,
        op,
        raw_body: None,
    }
}

/// Decodes a non-streamed model-management reply and checks its shape.
pub(crate) fn decode(op: WireOp, status: u16, headers: &[(String, String)], body: &[u8]) -> Reply {
    if op == WireOp::Unload {
        let mut reply = match parse_reply(status, headers, body) {
            Ok(mut reply) => {
                super::reply::decode(&mut reply, headers);
                reply
            }
            Err(reply) => return *reply,
        };
        if reply.error.is_none() && reply.raw_finish_reason.as_deref() != Some("unload") {
            reply.violations.push(format!(
                "`done_reason` must be \"unload\" after keep_alive 0 with no messages, got {:?}",
                reply.raw_finish_reason
            ));
        }
        return reply;
    }
    let mut reply = Reply {
        status,
        headers: headers.to_vec(),
        ..Reply::default()
    };
    reply.raw = match serde_json::from_slice::<Value>(body) {
        Ok(v) => v,
        Err(e) => {
            reply.violations.push(format!("body is not JSON ({e})"));
            return reply;
        }
    };
    let raw = std::mem::take(&mut reply.raw);
    let mut check = Check {
        violations: &mut reply.violations,
    };
    if !(200..300).contains(&status) {
        let message = check
            .string(&raw, "", "error")
            .unwrap_or_default()
            .to_string();
        reply.error = Some(ProviderError {
            message,
            ..ProviderError::default()
        });
        reply.raw = raw;
        return reply;
    }
    match op {
        WireOp::ListRunning | WireOp::ListLocal => {
            reply.text = check_model_list(op, &raw, &mut check).join("\n");
        }
        WireOp::Generate => {
            check.string(&raw, "", "model");
            reply.text = check
                .string(&raw, "", "response")
                .unwrap_or_default()
                .to_string();
            if check.boolean(&raw, "", "done") == Some(true)
                && let Some(dr) = check.string(&raw, "", "done_reason")
            {
                reply.finish_reason = Some(super::reply::finish_reason(dr, false));
                reply.raw_finish_reason = Some(dr.to_string());
            }
        }
        WireOp::Show => {
            check.object(&raw, "", "details");
            check.object(&raw, "", "model_info");
            check.string(&raw, "", "template");
            for f in ["modelfile", "parameters"] {
                if raw.get(f).is_some_and(|v| !v.is_string()) {
                    check.fail(format!("`{f}` must be a string"));
                }
            }
            if let Some(c) = raw.get("capabilities")
                && !c.as_array().is_some_and(|a| a.iter().all(Value::is_string))
            {
                check.fail("`capabilities` must be an array of strings".into());
            }
        }
        _ => {}
    }
    reply.raw = raw;
    reply
}

/// `/api/ps` and `/api/tags`: each listed model's fields, and the running ones' memory;
/// returns the models' names.
fn check_model_list(op: WireOp, raw: &Value, check: &mut Check) -> Vec<String> {
    let mut names = Vec::new();
    if let Some(models) = check.array(raw, "", "models") {
        for (i, m) in models.iter().enumerate() {
            let p = format!("models[{i}]");
            if let Some(n) = check.string(m, &p, "name") {
                names.push(n.to_string());
            }
            check.string(m, &p, "model");
            check.uint(m, &p, "size");
            check.string(m, &p, "digest");
            check.object(m, &p, "details");
            if op == WireOp::ListRunning {
                check.uint(m, &p, "size_vram");
                check.string(m, &p, "expires_at");
                if let (Some(size), Some(vram)) = (
                    m.get("size").and_then(Value::as_u64),
                    m.get("size_vram").and_then(Value::as_u64),
                ) && vram > size
                {
                    check.fail(format!(
                        "`{p}.size_vram` ({vram}) exceeds `{p}.size` ({size})"
                    ));
                }
            } else {
                check.string(m, &p, "modified_at");
            }
        }
    }
    names
}

/// The statuses a pull reports between "pulling manifest" and "success", besides the
/// per-layer "pulling <digest>" lines.
const PULL_STEPS: [&str; 5] = [
    "verifying sha256 digest",
    "writing manifest",
    "removing any unused layers",
    "removing unused layers",
    "success",
];

/// Decodes a streamed `/api/pull` and checks its progress contract: it starts with
/// "pulling manifest", ends with "success", and no layer's `completed` exceeds its `total`
/// or goes backwards.
pub(crate) fn decode_pull(
    status: u16,
    headers: &[(String, String)],
    frames: &[TimedFrame],
    end: &StreamEnd,
) -> Reply {
    let mut reply = Reply {
        status,
        headers: headers.to_vec(),
        ..Reply::default()
    };
    let mut objects = Vec::new();
    let mut statuses: Vec<String> = Vec::new();
    let mut kinds: Vec<String> = Vec::new();
    let mut progress: HashMap<String, (u64, u64)> = HashMap::new();
    let mut info = StreamInfo::default();
    let mut last_at = None;
    for (i, tf) in frames.iter().enumerate() {
        let line = match &tf.frame {
            Frame::Line(l) | Frame::Sse { data: l, .. } => l,
        };
        if line.trim().is_empty() {
            continue;
        }
        info.events += 1;
        if let Some(prev) = last_at {
            info.max_gap = info.max_gap.max(tf.at.saturating_sub(prev));
        }
        last_at = Some(tf.at);
        info.time_to_first_token.get_or_insert(tf.at);
        let v: Value = match serde_json::from_str(line) {
            Ok(v) => v,
            Err(e) => {
                reply.violations.push(format!("line {i}: not JSON ({e})"));
                continue;
            }
        };
        if let Some(e) = v.get("error").and_then(Value::as_str) {
            reply
                .violations
                .push(format!("mid-stream error at line {i}: {e}"));
            reply.error = Some(ProviderError {
                message: e.to_string(),
                ..ProviderError::default()
            });
            push_kind(&mut kinds, "error");
            objects.push(v);
            continue;
        }
        let Some(s) = v.get("status").and_then(Value::as_str) else {
            reply
                .violations
                .push(format!("line {i}: `status` is missing"));
            objects.push(v);
            continue;
        };
        if statuses.is_empty() && s != "pulling manifest" {
            reply.violations.push(format!(
                "line {i}: the first status must be \"pulling manifest\", got {s:?}"
            ));
        }
        if statuses.last().is_some_and(|l| l == "success") {
            reply
                .violations
                .push(format!("line {i}: status {s:?} after \"success\""));
        }
        if let Some(digest) = s.strip_prefix("pulling ").filter(|d| *d != "manifest") {
            push_kind(&mut kinds, "pulling <digest>");
            check_layer(i, digest, &v, &mut progress, &mut reply.violations);
        } else {
            if s != "pulling manifest" && !PULL_STEPS.contains(&s) {
                reply
                    .violations
                    .push(format!("line {i}: undocumented status {s:?}"));
            }
            push_kind(&mut kinds, s);
        }
        statuses.push(s.to_string());
        objects.push(v);
    }
    let succeeded = statuses.last().is_some_and(|s| s == "success");
    info.terminated = succeeded || reply.error.is_some();
    check_end(&info, end, &mut reply.violations);
    info.event_types = kinds;
    reply.text = statuses.join("\n");
    reply.raw = Value::Array(objects);
    reply.stream = Some(info);
    reply
}

/// One "pulling <digest>" line's progress: `completed` within `total`, `total` fixed and
/// `completed` never going back, against what `progress` saw of the layer before.
fn check_layer(
    i: usize,
    digest: &str,
    v: &Value,
    progress: &mut HashMap<String, (u64, u64)>,
    violations: &mut Vec<String>,
) {
    let total = v.get("total").and_then(Value::as_u64);
    let completed = v.get("completed").and_then(Value::as_u64).unwrap_or(0);
    if let Some(total) = total {
        if completed > total {
            violations.push(format!(
                "line {i}: layer {digest}: completed {completed} exceeds total {total}"
            ));
        }
        let entry = progress.entry(digest.to_string()).or_insert((total, 0));
        if entry.0 != total {
            violations.push(format!(
                "line {i}: layer {digest}: total changed from {} to {total}",
                entry.0
            ));
        }
        if completed < entry.1 {
            violations.push(format!(
                "line {i}: layer {digest}: completed went back from {} to {completed}",
                entry.1
            ));
        }
        entry.1 = entry.1.max(completed);
    }
}

/// The pull's end: a stream that neither succeeded nor failed is a breach, cut or not.
fn check_end(info: &StreamInfo, end: &StreamEnd, violations: &mut Vec<String>) {
    match end {
        StreamEnd::Cut(e) if !info.terminated => violations.push(format!(
            "connection closed before the terminal marker after {} events: {e}",
            info.events
        )),
        StreamEnd::Clean if !info.terminated => violations
            .push("missing terminal marker: the pull ended without status \"success\"".into()),
        _ => {}
    }
}

fn push_kind(kinds: &mut Vec<String>, k: &str) {
    if !kinds.iter().any(|x| x == k) {
        kinds.push(k.to_string());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn frames(lines: &[&str]) -> Vec<TimedFrame> {
        lines
            .iter()
            .enumerate()
            .map(|(i, l)| TimedFrame {
                at: Duration::from_millis(10 * i as u64),
                frame: Frame::Line(l.to_string()),
            })
            .collect()
    }

    const GOOD: [&str; 6] = [
        r#"{"status":"pulling manifest"}"#,
        r#"{"status":"pulling 6a0746a1ec1a","digest":"sha256:6a07","total":100}"#,
        r#"{"status":"pulling 6a0746a1ec1a","digest":"sha256:6a07","total":100,"completed":100}"#,
        r#"{"status":"verifying sha256 digest"}"#,
        r#"{"status":"writing manifest"}"#,
        r#"{"status":"success"}"#,
    ];

    #[test]
    fn a_good_pull_has_no_violations() {
        let r = decode_pull(200, &[], &frames(&GOOD), &StreamEnd::Clean);
        assert!(r.violations.is_empty(), "{:?}", r.violations);
        assert!(r.text.ends_with("success"));
        assert!(r.stream.unwrap().terminated);
    }

    #[test]
    fn completed_beyond_total_and_missing_success() {
        let mut lines = GOOD.to_vec();
        lines[2] = r#"{"status":"pulling 6a0746a1ec1a","digest":"sha256:6a07","total":100,"completed":120}"#;
        lines.pop();
        let r = decode_pull(200, &[], &frames(&lines), &StreamEnd::Clean);
        assert_eq!(r.violations.len(), 2, "{:?}", r.violations);
        assert!(r.violations[0].contains("completed 120 exceeds total 100"));
        assert!(r.violations[1].starts_with("missing terminal marker"));
    }

    #[test]
    fn error_line_is_a_mid_stream_error() {
        let lines = [
            r#"{"status":"pulling manifest"}"#,
            r#"{"error":"pull model manifest: file does not exist"}"#,
        ];
        let r = decode_pull(200, &[], &frames(&lines), &StreamEnd::Clean);
        assert_eq!(
            r.error.unwrap().message,
            "pull model manifest: file does not exist"
        );
        assert_eq!(
            r.violations,
            vec!["mid-stream error at line 1: pull model manifest: file does not exist"]
        );
    }

    #[test]
    fn ps_requires_vram_and_expiry() {
        let body = br#"{"models":[{"name":"llama3.2:latest","model":"llama3.2:latest","size":100,"digest":"d","details":{},"expires_at":"2026-11-25T12:05:00Z"}]}"#;
        let r = decode(WireOp::ListRunning, 200, &[], body);
        assert_eq!(
            r.violations,
            vec!["`models[0].size_vram` is missing (required integer)"]
        );
        assert_eq!(r.text, "llama3.2:latest");
    }
}

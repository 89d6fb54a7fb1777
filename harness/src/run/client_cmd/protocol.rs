//! The client protocol (docs/CLIENTS.md): the request file provcheck writes for the client
//! under test, and the one JSON object the client prints back, read into what a built-in
//! client's request would have observed, so the same expectations judge it.

use std::time::Duration;

use serde::Deserialize;
use serde_json::{Value, json};

use crate::client::TransportError;
use crate::dialect::{DialectKind, WireRequest};
use crate::neutral::{
    ChatRequest, FinishReason, Message, ProviderError, Reply, ResponseFormat, StreamInfo, ToolCall,
    ToolChoice, Usage,
};
use crate::observation::Observed;

/// The protocol's name and version, first in every request file.
pub(crate) const PROTOCOL: &str = "provcheck-client/1";

/// What one trial asks of the client.
pub(crate) struct RequestFile<'a> {
    pub(crate) trial: &'a str,
    pub(crate) target: &'a str,
    pub(crate) dialect: DialectKind,
    /// The trial's base URL in the target's dialect, as its SDK takes it.
    pub(crate) base_url: &'a str,
    pub(crate) neutral: &'a ChatRequest,
    pub(crate) wire: &'a WireRequest,
    /// The request's own deadline (`timeout_ms`), for the client's per-request timeout.
    pub(crate) timeout_ms: Option<u64>,
    /// Retries the scenario assumes (its `client: max_retries`), when it sets them.
    pub(crate) max_retries: Option<u32>,
}

impl RequestFile<'_> {
    /// The file's JSON.
    pub(crate) fn to_json(&self) -> Value {
        json!({
            "protocol": PROTOCOL,
            "trial": self.trial,
            "target": self.target,
            "dialect": self.dialect.as_str(),
            "base_url": self.base_url,
            "method": self.wire.method,
            "path": self.wire.path,
            "timeout_ms": self.timeout_ms,
            "max_retries": self.max_retries,
            "request": neutral_json(self.neutral),
            "body": self.wire.body,
        })
    }
}

/// The neutral request as JSON: what was asked, independent of any dialect.
fn neutral_json(r: &ChatRequest) -> Value {
    let format = r.response_format.as_ref().map(|f| match f {
        ResponseFormat::Text => json!("text"),
        ResponseFormat::JsonObject => json!("json_object"),
        ResponseFormat::JsonSchema {
            name,
            schema,
            strict,
        } => json!({"json_schema": {"name": name, "schema": schema, "strict": strict}}),
    });
    let choice = r.tool_choice.as_ref().map(|c| match c {
        ToolChoice::Auto => json!("auto"),
        ToolChoice::None => json!("none"),
        ToolChoice::Required => json!("required"),
        ToolChoice::Named(n) => json!({"name": n}),
    });
    let tools: Vec<Value> = r
        .tools
        .iter()
        .map(|t| json!({"name": t.name, "description": t.description, "parameters": t.parameters}))
        .collect();
    json!({
        "model": r.model,
        "messages": r.messages.iter().map(message_json).collect::<Vec<_>>(),
        "max_tokens": r.max_tokens,
        "temperature": r.temperature,
        "stream": r.stream,
        "response_format": format,
        "tools": tools,
        "tool_choice": choice,
        "parallel_tool_calls": r.parallel_tool_calls,
    })
}

fn message_json(m: &Message) -> Value {
    let mut v = json!({"role": m.role.as_str(), "content": m.content});
    if !m.tool_calls.is_empty() {
        v["tool_calls"] = m
            .tool_calls
            .iter()
            .map(|c| json!({"id": c.id, "name": c.name, "arguments": c.arguments}))
            .collect();
    }
    if let Some(r) = &m.tool_result {
        v["tool_call_id"] = json!(r.call_id);
        v["is_error"] = json!(r.is_error);
    }
    v
}

/// What the client printed.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Report {
    #[serde(default)]
    reply: Option<ReplyReport>,
    #[serde(default)]
    error: Option<ErrorReport>,
    #[serde(default)]
    skip: Option<String>,
    #[serde(default)]
    elapsed_ms: Option<u64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ReplyReport {
    text: String,
    #[serde(default)]
    finish_reason: Option<String>,
    #[serde(default)]
    tool_calls: Vec<ToolCallReport>,
    #[serde(default)]
    usage: Option<UsageReport>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ToolCallReport {
    #[serde(default)]
    id: Option<String>,
    name: String,
    #[serde(default)]
    arguments: Value,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct UsageReport {
    #[serde(default)]
    input_tokens: Option<u64>,
    #[serde(default)]
    output_tokens: Option<u64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ErrorReport {
    kind: ErrorKindReport,
    #[serde(default)]
    status: Option<u16>,
    #[serde(default, rename = "type")]
    error_type: Option<String>,
    #[serde(default)]
    message: String,
}

#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "snake_case")]
enum ErrorKindReport {
    Http,
    Timeout,
    Connection,
    Stream,
    CircuitOpen,
}

/// Why what the client printed is not the protocol.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ProtocolError {
    /// Not one JSON object.
    #[error("printed something that is not JSON ({0}): {1:?}")]
    NotJson(String, String),
    /// JSON of the wrong shape.
    #[error("printed JSON that is not the protocol ({0}): {1:?}")]
    Shape(String, String),
}

/// What a client's output says happened.
#[derive(Debug)]
pub(crate) enum Said {
    /// A reply or an error, as a request of the built-in client would have observed it.
    Observed(Box<Observed>),
    /// The client cannot run this trial, and why.
    Skip(String),
    /// Nothing printed: only what the mock saw is judged.
    Nothing,
}

/// At most this much of the output is quoted in an error.
const QUOTE: usize = 200;

fn quote(s: &str) -> String {
    let s = s.trim();
    match s.char_indices().nth(QUOTE) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_string(),
    }
}

/// Reads the client's stdout. `wall` is how long the process ran, the elapsed time when the
/// client reports none.
pub(crate) fn parse(stdout: &str, wall: Duration) -> Result<Said, ProtocolError> {
    if stdout.trim().is_empty() {
        return Ok(Said::Nothing);
    }
    let value: Value = serde_json::from_str(stdout.trim())
        .map_err(|e| ProtocolError::NotJson(e.to_string(), quote(stdout)))?;
    let shape = |why: String| ProtocolError::Shape(why, quote(stdout));
    if !value.is_object() {
        return Err(shape("expected one JSON object".into()));
    }
    let report: Report = serde_json::from_value(value.clone()).map_err(|e| shape(e.to_string()))?;
    let elapsed = report.elapsed_ms.map(Duration::from_millis).unwrap_or(wall);
    let result = match (report.reply, report.error, report.skip) {
        (Some(r), None, None) => Ok(reply(r, value["reply"].clone())),
        (None, Some(e), None) => error(e, value["error"].clone(), elapsed).map_err(shape)?,
        (None, None, Some(why)) => return Ok(Said::Skip(why)),
        _ => {
            return Err(shape(
                "expected exactly one of `reply`, `error` and `skip`".into(),
            ));
        }
    };
    // The body is kept, so the run record takes its shape from it.
    Ok(Said::Observed(Box::new(Observed {
        result,
        elapsed,
        shape: None,
    })))
}

fn reply(r: ReplyReport, raw: Value) -> Reply {
    let finish_reason = r
        .finish_reason
        .as_deref()
        .map(|f| serde_json::from_value::<FinishReason>(json!(f)).unwrap_or(FinishReason::Other));
    Reply {
        status: 200,
        text: r.text,
        finish_reason,
        raw_finish_reason: r.finish_reason,
        usage: r.usage.map(|u| Usage {
            input_tokens: u.input_tokens,
            output_tokens: u.output_tokens,
        }),
        tool_calls: r.tool_calls.into_iter().map(tool_call).collect(),
        raw,
        ..Reply::default()
    }
}

fn tool_call(c: ToolCallReport) -> ToolCall {
    // OpenAI's SDK hands arguments over as JSON text, the others as an object; both are taken.
    let (arguments_raw, arguments) = match c.arguments {
        Value::String(s) => {
            let parsed = serde_json::from_str(&s).ok();
            (s, parsed)
        }
        Value::Null => ("{}".to_string(), Some(json!({}))),
        v => (v.to_string(), Some(v)),
    };
    ToolCall {
        id: c.id,
        name: c.name,
        arguments_raw,
        arguments,
    }
}

fn error(
    e: ErrorReport,
    raw: Value,
    elapsed: Duration,
) -> Result<Result<Reply, TransportError>, String> {
    let provider = |status: u16| Reply {
        status,
        error: Some(ProviderError {
            kind: e.error_type.clone(),
            message: e.message.clone(),
            ..ProviderError::default()
        }),
        raw: raw.clone(),
        ..Reply::default()
    };
    Ok(match e.kind {
        ErrorKindReport::Http => match e.status {
            Some(s) if !(200..300).contains(&s) && (100..600).contains(&s) => Ok(provider(s)),
            Some(s) => return Err(format!("an `http` error needs a non-2xx status, got {s}")),
            None => return Err("an `http` error needs its `status`".into()),
        },
        // An error event inside a stream that began with a 2xx.
        ErrorKindReport::Stream => Ok(Reply {
            stream: Some(StreamInfo::default()),
            ..provider(e.status.unwrap_or(200))
        }),
        ErrorKindReport::Timeout => Err(TransportError::Timeout(elapsed)),
        ErrorKindReport::Connection if e.message.is_empty() => Err(TransportError::Connection(
            "the connection failed (the client said no more)".into(),
        )),
        ErrorKindReport::Connection => Err(TransportError::Connection(e.message)),
        ErrorKindReport::CircuitOpen => Err(TransportError::CircuitOpen),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn said(s: &str) -> Said {
        parse(s, Duration::from_millis(7)).unwrap()
    }

    fn observed(s: &str) -> Observed {
        match said(s) {
            Said::Observed(o) => *o,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_reply_is_read_into_the_neutral_reply() {
        let o = observed(
            r#"{"reply": {"text": "Hi", "finish_reason": "stop", "usage": {"input_tokens": 3, "output_tokens": 1},
                "tool_calls": [{"id": "c1", "name": "f", "arguments": "{\"a\": 1}"}, {"name": "g", "arguments": {"b": 2}}]},
               "elapsed_ms": 42}"#,
        );
        let r = o.result.unwrap();
        assert_eq!((r.status, r.text.as_str()), (200, "Hi"));
        assert_eq!(r.finish_reason, Some(FinishReason::Stop));
        assert_eq!(r.usage.unwrap().output_tokens, Some(1));
        assert_eq!(r.tool_calls[0].arguments, Some(json!({"a": 1})));
        assert_eq!(r.tool_calls[1].arguments_raw, r#"{"b":2}"#);
        assert_eq!(o.elapsed, Duration::from_millis(42));
        let r = observed(r#"{"reply": {"text": "", "finish_reason": "end_turn"}}"#);
        assert_eq!(r.elapsed, Duration::from_millis(7));
        assert_eq!(r.result.unwrap().finish_reason, Some(FinishReason::Other));
    }

    #[test]
    fn errors_are_read_by_kind() {
        let r = observed(r#"{"error": {"kind": "http", "status": 503, "type": "server_error", "message": "busy"}}"#)
            .result
            .unwrap();
        assert_eq!(r.status, 503);
        assert_eq!(r.error.unwrap().kind.as_deref(), Some("server_error"));
        let r = observed(r#"{"error": {"kind": "stream", "type": "overloaded_error"}}"#)
            .result
            .unwrap();
        assert_eq!(r.status, 200);
        assert!(r.stream.is_some() && r.error.is_some());
        let e = observed(r#"{"error": {"kind": "timeout"}}"#)
            .result
            .unwrap_err();
        assert!(matches!(e, TransportError::Timeout(_)));
        let e = observed(r#"{"error": {"kind": "connection", "message": "reset"}}"#)
            .result
            .unwrap_err();
        assert_eq!(e.to_string(), "reset");
        assert!(matches!(
            observed(r#"{"error": {"kind": "circuit_open"}}"#).result,
            Err(TransportError::CircuitOpen)
        ));
    }

    #[test]
    fn nothing_and_skip() {
        assert!(matches!(said("  \n"), Said::Nothing));
        assert!(
            matches!(said(r#"{"skip": "speaks openai only"}"#), Said::Skip(w) if w == "speaks openai only")
        );
    }

    #[test]
    fn bad_output_says_what_is_wrong() {
        let bad = |s: &str| parse(s, Duration::ZERO).unwrap_err().to_string();
        assert!(
            bad("Traceback (most recent call last)")
                .starts_with("printed something that is not JSON")
        );
        assert!(bad("[1, 2]").contains("expected one JSON object"));
        assert!(bad(r#"{"reply": {"txt": "Hi"}}"#).contains("unknown field `txt`"));
        assert!(
            bad(r#"{"reply": {"text": "a"}, "error": {"kind": "timeout"}}"#)
                .contains("exactly one")
        );
        assert!(bad("{}").contains("exactly one"));
        assert!(bad(r#"{"error": {"kind": "http"}}"#).contains("needs its `status`"));
        assert!(bad(r#"{"error": {"kind": "http", "status": 200}}"#).contains("non-2xx"));
        assert!(bad(r#"{"error": {"kind": "nope"}}"#).contains("unknown variant"));
        assert!(bad(r#"{"a": 1} {"b": 2}"#).starts_with("printed something that is not JSON"));
    }
}

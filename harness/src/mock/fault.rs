//! Faults a script puts into a reply that is otherwise the target's own (recorded, or forwarded
//! live): a mid-stream error event, tool-call arguments that break the offered schema, a pause
//! between events. Each follows its dialect's wire format (provider-wire.md), so the client
//! meets exactly what a misbehaving provider would send, on any server that keeps the contract.

use std::borrow::Cow;
use std::time::Duration;

use serde_json::Value;

use crate::dialect::DialectKind;
use crate::record::format::{RecordedEvent, RecordedResponse, RecordedStream, StreamEndSpec};
use crate::suite::model::MockStep;

/// The reply to serve: `response` as recorded or forwarded, with the script step's content
/// faults applied (`error_after`, `tool_arguments`); `body` is the whole body's bytes.
pub(crate) fn reshape<'a>(
    response: &'a RecordedResponse,
    body: &'a [u8],
    step: Option<&MockStep>,
    dialect: DialectKind,
) -> (Cow<'a, RecordedResponse>, Cow<'a, [u8]>) {
    let Some(step) = step else {
        return (Cow::Borrowed(response), Cow::Borrowed(body));
    };
    let mut response = Cow::Borrowed(response);
    let mut body = Cow::Borrowed(body);
    if let (Some(n), Some(stream)) = (step.error_after, &response.stream) {
        let stream = with_error_event(stream, n, step.body.as_ref(), dialect);
        response.to_mut().stream = Some(stream);
    }
    if let (Some(args), Some(whole)) = (&step.tool_arguments, &response.body) {
        let mut whole = whole.clone();
        set_tool_arguments(&mut whole, args, dialect);
        body = Cow::Owned(serde_json::to_vec(&whole).unwrap_or_default());
        response.to_mut().body = Some(whole);
    }
    (response, body)
}

/// The first `n` events of `stream`, then the dialect's mid-stream error event (or `body`),
/// and no terminal marker: the status is already 200, so an error can only come in-band.
fn with_error_event(
    stream: &RecordedStream,
    n: usize,
    body: Option<&Value>,
    dialect: DialectKind,
) -> RecordedStream {
    let mut events: Vec<RecordedEvent> = stream.events.iter().take(n).cloned().collect();
    let at_ms = events.last().map_or(0, |e| e.at_ms);
    let mut data = body.cloned().unwrap_or_else(|| stream_error(dialect));
    if dialect == DialectKind::OpenaiResponses && data.get("sequence_number").is_none() {
        // Responses events are numbered; the error continues the recorded numbering.
        let last = events
            .last()
            .and_then(|e| serde_json::from_str::<Value>(&e.data).ok())
            .and_then(|v| v.get("sequence_number").and_then(Value::as_u64));
        data["sequence_number"] = Value::from(last.map_or(0, |n| n + 1));
    }
    let named = matches!(
        dialect,
        DialectKind::Anthropic | DialectKind::OpenaiResponses
    );
    events.push(RecordedEvent {
        at_ms,
        event: named.then(|| "error".to_string()),
        data: data.to_string(),
    });
    RecordedStream {
        format: stream.format,
        end: StreamEndSpec::Clean,
        events,
    }
}

/// The error a provider sends mid-stream, as provider-wire.md documents it: OpenAI a `data:`
/// object with a top-level `error`; Anthropic `event: error` with an `overloaded_error` (what
/// its API sends when it sheds load mid-reply); Ollama a last line `{"error": ...}`; the
/// Responses API an `error` event with `code` and `message`.
pub(crate) fn stream_error(dialect: DialectKind) -> Value {
    match dialect {
        DialectKind::Anthropic => {
            serde_json::json!({"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}})
        }
        // `ResponseErrorEvent`: `code` and `message` at the top level, no envelope.
        DialectKind::OpenaiResponses => serde_json::json!({"type": "error", "code": "server_error",
            "message": "The server had an error while processing your request. Sorry about that!",
            "param": null}),
        DialectKind::Openai | DialectKind::Ollama => dialect.error_body(500),
    }
}

/// Replaces the arguments of every tool call in a whole reply: OpenAI carries them as a JSON
/// string in `function.arguments`, Anthropic as the `input` object of a `tool_use` block,
/// Ollama as the `function.arguments` object, the Responses API as the JSON string
/// `arguments` of each `function_call` output item.
fn set_tool_arguments(body: &mut Value, args: &Value, dialect: DialectKind) {
    let each = |calls: Option<&mut Value>, f: &dyn Fn(&mut Value)| {
        if let Some(Value::Array(calls)) = calls {
            calls.iter_mut().for_each(f);
        }
    };
    match dialect {
        DialectKind::Openai => {
            let Some(Value::Array(choices)) = body.get_mut("choices") else {
                return;
            };
            for choice in choices {
                each(choice.pointer_mut("/message/tool_calls"), &|c| {
                    if let Some(f) = c.get_mut("function") {
                        f["arguments"] = Value::String(args.to_string());
                    }
                });
            }
        }
        DialectKind::Anthropic => each(body.get_mut("content"), &|block| {
            if block.get("type").and_then(Value::as_str) == Some("tool_use") {
                block["input"] = args.clone();
            }
        }),
        DialectKind::OpenaiResponses => each(body.get_mut("output"), &|item| {
            if item.get("type").and_then(Value::as_str) == Some("function_call") {
                item["arguments"] = Value::String(args.to_string());
            }
        }),
        DialectKind::Ollama => each(body.pointer_mut("/message/tool_calls"), &|c| {
            if let Some(f) = c.get_mut("function") {
                f["arguments"] = args.clone();
            }
        }),
    }
}

/// When event `n` of a stream is due, from the start of the body: its recorded offset scaled
/// by `speed` (0: no waiting), or `n` times a scripted `event_gap_ms`. Scripted timing is a
/// fault and is never scaled.
pub(crate) fn event_offset(
    step: Option<&MockStep>,
    n: usize,
    recorded_ms: u64,
    speed: f64,
) -> Duration {
    match step.and_then(|m| m.event_gap_ms) {
        Some(g) => Duration::from_millis(g * n as u64),
        None if speed > 0.0 => Duration::from_secs_f64(recorded_ms as f64 / 1000.0 / speed),
        None => Duration::ZERO,
    }
}

/// A scripted pause: before which event, and how long. The pause runs once the events before
/// it have reached the connection, so the client sees all of it between two events.
pub(crate) fn pause(step: Option<&MockStep>) -> Option<(usize, Duration)> {
    step.and_then(|m| Some((m.pause_after?, Duration::from_millis(m.pause_ms?))))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::format::StreamFormat;
    use serde_json::json;

    fn step(yaml: &str) -> MockStep {
        crate::source::parse_yaml(&"test.yaml".into(), yaml).unwrap()
    }

    fn stream(n: usize) -> RecordedStream {
        RecordedStream {
            format: StreamFormat::Sse,
            end: StreamEndSpec::Clean,
            events: (0..n)
                .map(|i| RecordedEvent {
                    at_ms: 10 * i as u64,
                    event: None,
                    data: format!("{{\"i\":{i}}}"),
                })
                .collect(),
        }
    }

    #[test]
    fn an_error_event_follows_the_first_events_in_each_dialect() {
        let s = with_error_event(&stream(5), 2, None, DialectKind::Openai);
        assert_eq!(s.events.len(), 3);
        assert_eq!(s.events[2].event, None);
        let e: Value = serde_json::from_str(&s.events[2].data).unwrap();
        assert_eq!(e["error"]["type"], "server_error");
        let s = with_error_event(&stream(5), 2, None, DialectKind::Anthropic);
        assert_eq!(s.events[2].event.as_deref(), Some("error"));
        assert!(s.events[2].data.contains("overloaded_error"));
        let s = with_error_event(&stream(5), 1, None, DialectKind::Ollama);
        let e: Value = serde_json::from_str(&s.events[1].data).unwrap();
        assert!(e["error"].is_string(), "{e}");
        let custom = json!({"error": {"message": "x", "type": "custom"}});
        let s = with_error_event(&stream(5), 0, Some(&custom), DialectKind::Openai);
        assert_eq!(s.events.len(), 1);
        assert!(s.events[0].data.contains("custom"));
    }

    #[test]
    fn responses_faults_continue_the_numbering_and_replace_call_items() {
        let mut st = stream(3);
        for (n, e) in st.events.iter_mut().enumerate() {
            e.data = format!(
                "{{\"type\":\"response.output_text.delta\",\"sequence_number\":{}}}",
                n + 4
            );
        }
        let s = with_error_event(&st, 2, None, DialectKind::OpenaiResponses);
        assert_eq!(s.events[2].event.as_deref(), Some("error"));
        let e: Value = serde_json::from_str(&s.events[2].data).unwrap();
        assert_eq!(e["code"], "server_error");
        assert_eq!(e["sequence_number"], 6);
        let args = json!({"unit": "kelvin"});
        let mut r = json!({"output": [{"type": "message", "content": []},
            {"type": "function_call", "call_id": "c", "name": "f", "arguments": "{}"}]});
        set_tool_arguments(&mut r, &args, DialectKind::OpenaiResponses);
        assert_eq!(r["output"][1]["arguments"], "{\"unit\":\"kelvin\"}");
        assert!(r["output"][0].get("arguments").is_none());
    }

    #[test]
    fn tool_arguments_are_replaced_in_each_dialect() {
        let args = json!({"unit": "kelvin"});
        let mut o = json!({"choices": [{"message": {"tool_calls": [
            {"id": "c", "type": "function", "function": {"name": "f", "arguments": "{}"}}]}}]});
        set_tool_arguments(&mut o, &args, DialectKind::Openai);
        assert_eq!(
            o["choices"][0]["message"]["tool_calls"][0]["function"]["arguments"],
            "{\"unit\":\"kelvin\"}"
        );
        let mut a = json!({"content": [{"type": "text", "text": "hi"},
            {"type": "tool_use", "id": "t", "name": "f", "input": {}}]});
        set_tool_arguments(&mut a, &args, DialectKind::Anthropic);
        assert_eq!(a["content"][1]["input"], args);
        assert_eq!(a["content"][0], json!({"type": "text", "text": "hi"}));
        let mut l =
            json!({"message": {"tool_calls": [{"function": {"name": "f", "arguments": {}}}]}});
        set_tool_arguments(&mut l, &args, DialectKind::Ollama);
        assert_eq!(l["message"]["tool_calls"][0]["function"]["arguments"], args);
    }

    #[test]
    fn reshape_leaves_a_reply_without_content_faults_untouched() {
        let r = RecordedResponse {
            status: 200,
            headers: Default::default(),
            body: Some(json!({"a": 1})),
            body_text: None,
            delay_ms: None,
            stream: None,
        };
        let plain = step("{recorded: true, delay_ms: 5}");
        let (resp, body) = reshape(&r, b"{\"a\":1}", Some(&plain), DialectKind::Openai);
        assert!(matches!(resp, Cow::Borrowed(_)) && matches!(body, Cow::Borrowed(_)));
    }

    #[test]
    fn scripted_timing_is_never_scaled() {
        let s = step("{recorded: true, pause_after: 2, pause_ms: 400}");
        assert_eq!(pause(Some(&s)), Some((2, Duration::from_millis(400))));
        assert_eq!(
            event_offset(Some(&s), 3, 30, 1.0),
            Duration::from_millis(30)
        );
        assert_eq!(event_offset(Some(&s), 3, 30, 0.0), Duration::ZERO);
        let g = step("{recorded: true, event_gap_ms: 100}");
        assert_eq!(pause(Some(&g)), None);
        assert_eq!(
            event_offset(Some(&g), 3, 5, 1.0),
            Duration::from_millis(300)
        );
        assert_eq!(event_offset(None, 3, 30, 2.0), Duration::from_millis(15));
    }
}

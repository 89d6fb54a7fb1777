//! Ollama `/api/chat` streams: NDJSON objects with `done: false` and `message.content` pieces,
//! ending with one `done: true` object that carries `done_reason` and the counts.

use std::time::Duration;

use serde_json::Value;

use super::reply as wire;
use crate::dialect::stream::{Acc, TimedFrame};
use crate::neutral::{ProviderError, ToolCall, Usage};

const MARKER: &str = "a `done: true` object";

/// Decodes the frames into `acc`; returns the terminal marker's name.
pub(crate) fn decode(acc: &mut Acc, frames: &[TimedFrame]) -> &'static str {
    let mut st = State::default();
    for (i, tf) in frames.iter().enumerate() {
        acc.arrived(tf.at);
        let Some(v) = acc.parse(i, "", tf.frame.text()) else {
            continue;
        };
        st.event(acc, i, tf.at, &v);
        acc.raw.push(v);
    }
    st.finish(acc);
    MARKER
}

#[derive(Default)]
struct State {
    model: Option<Value>,
    model_changed: bool,
    text: String,
    calls: Vec<ToolCall>,
    done_reason: Option<String>,
    usage: Option<Usage>,
}

impl State {
    fn event(&mut self, acc: &mut Acc, i: usize, at: Duration, v: &Value) {
        if let Some(e) = v.get("error").filter(|e| !e.is_null()) {
            acc.kind("error");
            if acc.after_terminal(i, "error", MARKER) {
                return;
            }
            let message = match e {
                Value::String(s) => s.clone(),
                other => {
                    acc.violation(i, "error", format!("`error` must be a string, got {other}"));
                    other.to_string()
                }
            };
            acc.mid_stream_error(
                i,
                ProviderError {
                    message,
                    ..ProviderError::default()
                },
            );
            return;
        }
        let done = v.get("done").and_then(Value::as_bool);
        let ty = if done == Some(true) { "done" } else { "chunk" };
        acc.kind(ty);
        if acc.after_terminal(i, ty, MARKER) {
            return;
        }
        let msg = acc.check(i, ty, |c| {
            c.string(v, "", "model");
            c.string(v, "", "created_at");
            c.boolean(v, "", "done");
            let msg = c.object(v, "", "message")?;
            c.constant(msg, "message", "role", "assistant");
            Some((msg, c.string(msg, "message", "content")))
        });
        if let Some(m) = v.get("model") {
            match &self.model {
                None => self.model = Some(m.clone()),
                Some(first) if first != m && !self.model_changed => {
                    self.model_changed = true;
                    acc.violation(
                        i,
                        ty,
                        format!("`model` changed mid-stream from {first} to {m}"),
                    );
                }
                Some(_) => {}
            }
        }
        if let Some((msg, content)) = msg {
            let content = content.unwrap_or_default();
            self.text.push_str(content);
            let calls = self.tool_calls(acc, i, ty, msg);
            if !content.is_empty() || calls {
                acc.content(at);
            }
        }
        if done == Some(true) {
            acc.terminal(i);
            self.done(acc, i, v);
        }
    }

    /// Collects `message.tool_calls`; true when there were any.
    fn tool_calls(&mut self, acc: &mut Acc, i: usize, ty: &str, msg: &Value) -> bool {
        let calls = match msg.get("tool_calls") {
            None | Some(Value::Null) => return false,
            Some(Value::Array(calls)) => calls,
            Some(other) => {
                acc.violation(
                    i,
                    ty,
                    format!("`message.tool_calls` must be an array, got {other}"),
                );
                return false;
            }
        };
        for (t, tc) in calls.iter().enumerate() {
            let path = format!("message.tool_calls[{t}]");
            let call = acc.check(i, ty, |c| {
                let f = c.object(tc, &path, "function")?;
                let fpath = format!("{path}.function");
                let name = c.string(f, &fpath, "name").unwrap_or_default().to_string();
                let args = c.object(f, &fpath, "arguments");
                Some(ToolCall {
                    id: tc.get("id").and_then(Value::as_str).map(str::to_string),
                    name,
                    arguments_raw: args.map(Value::to_string).unwrap_or_default(),
                    arguments: args.cloned(),
                })
            });
            self.calls.extend(call);
        }
        !calls.is_empty()
    }

    fn done(&mut self, acc: &mut Acc, i: usize, v: &Value) {
        match v.get("done_reason") {
            None | Some(Value::Null) => {
                acc.violation(i, "done", "no `done_reason` on the final object".into())
            }
            Some(Value::String(s)) => self.done_reason = Some(s.clone()),
            Some(other) => acc.violation(
                i,
                "done",
                format!("`done_reason` must be a string, got {other}"),
            ),
        }
        let usage = acc.check(i, "done", |c| {
            let input = c.opt_uint(v, "", "prompt_eval_count");
            let output = c.uint(v, "", "eval_count");
            for f in [
                "total_duration",
                "load_duration",
                "prompt_eval_duration",
                "eval_duration",
            ] {
                c.opt_uint(v, "", f);
            }
            Usage {
                input_tokens: input,
                output_tokens: output,
            }
        });
        self.usage = Some(usage);
    }

    fn finish(self, acc: &mut Acc) {
        let reply = &mut acc.reply;
        reply.model = self
            .model
            .as_ref()
            .and_then(Value::as_str)
            .map(str::to_string);
        if let Some(dr) = self.done_reason {
            reply.finish_reason = Some(wire::finish_reason(&dr, !self.calls.is_empty()));
            reply.raw_finish_reason = Some(dr);
        }
        reply.text = self.text;
        reply.tool_calls = self.calls;
        reply.usage = self.usage;
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::dialect::DialectKind;
    use crate::dialect::stream::StreamEnd;
    use crate::dialect::stream::testing::{
        assert_only, assert_same_reply, decode, decode_chunked, lines,
    };
    use crate::neutral::{FinishReason, Reply};

    fn chunk(content: &str) -> String {
        json!({"model":"llama3.2","created_at":"2024-08-04T08:52:19Z","message":{"role":"assistant","content":content},"done":false}).to_string()
    }

    fn done(reason: &str) -> String {
        json!({"model":"llama3.2","created_at":"2024-08-04T08:52:20Z","message":{"role":"assistant","content":""},
            "done":true,"done_reason":reason,"total_duration":4883583458u64,"load_duration":1334875,
            "prompt_eval_count":26,"prompt_eval_duration":342546000,"eval_count":282,"eval_duration":4535599000u64})
        .to_string()
    }

    fn text_stream() -> Vec<String> {
        vec![
            chunk("The"),
            chunk(" sky"),
            chunk(" is blue."),
            done("stop"),
        ]
    }

    fn tool_stream() -> Vec<String> {
        vec![
            json!({"model":"llama3.2","created_at":"2024-08-04T08:52:19Z","message":{"role":"assistant","content":"",
                "tool_calls":[{"function":{"name":"get_weather","arguments":{"city":"Paris"}}},
                              {"id":"call_2","function":{"index":1,"name":"get_time","arguments":{}}}]},"done":false})
            .to_string(),
            done("stop"),
        ]
    }

    fn run(events: &[String], end: StreamEnd) -> Reply {
        let ev: Vec<&str> = events.iter().map(String::as_str).collect();
        decode(DialectKind::Ollama, 200, &[], &lines(&ev), &end)
    }

    #[test]
    fn text_stream_assembles_like_the_plain_reply() {
        let r = run(&text_stream(), StreamEnd::Clean);
        assert!(r.violations.is_empty(), "{:?}", r.violations);
        let plain = DialectKind::Ollama.decode(
            200,
            &[],
            br#"{"model":"llama3.2","created_at":"2024-08-04T08:52:20Z","message":{"role":"assistant","content":"The sky is blue."},
              "done":true,"done_reason":"stop","total_duration":4883583458,"load_duration":1334875,
              "prompt_eval_count":26,"prompt_eval_duration":342546000,"eval_count":282,"eval_duration":4535599000}"#,
        );
        assert_same_reply(&r, &plain);
        let info = r.stream.unwrap();
        assert_eq!(info.events, 4);
        assert_eq!(info.event_types, vec!["chunk", "done"]);
        assert_eq!(info.time_to_first_token, Some(Duration::from_millis(1)));
        assert!(info.terminated);
    }

    #[test]
    fn tool_calls_make_stop_a_tool_call() {
        let r = run(&tool_stream(), StreamEnd::Clean);
        assert!(r.violations.is_empty(), "{:?}", r.violations);
        assert_eq!(r.finish_reason, Some(FinishReason::ToolCalls));
        assert_eq!(r.raw_finish_reason.as_deref(), Some("stop"));
        assert_eq!(
            r.tool_calls,
            vec![
                ToolCall {
                    id: None,
                    name: "get_weather".into(),
                    arguments_raw: r#"{"city":"Paris"}"#.into(),
                    arguments: Some(json!({"city":"Paris"})),
                },
                ToolCall {
                    id: Some("call_2".into()),
                    name: "get_time".into(),
                    arguments_raw: "{}".into(),
                    arguments: Some(json!({})),
                },
            ]
        );
        let plain = DialectKind::Ollama.decode(
            200,
            &[],
            br#"{"model":"llama3.2","created_at":"2024-08-04T08:52:20Z","message":{"role":"assistant","content":"",
              "tool_calls":[{"function":{"name":"get_weather","arguments":{"city":"Paris"}}},
                            {"id":"call_2","function":{"index":1,"name":"get_time","arguments":{}}}]},
              "done":true,"done_reason":"stop","total_duration":4883583458,"load_duration":1334875,
              "prompt_eval_count":26,"prompt_eval_duration":342546000,"eval_count":282,"eval_duration":4535599000}"#,
        );
        assert_same_reply(&r, &plain);
    }

    #[test]
    fn missing_done_with_a_clean_end() {
        let mut events = text_stream();
        events.pop();
        assert_only(
            &run(&events, StreamEnd::Clean),
            "stream ended without the terminal marker after 3 events (expected a `done: true` object)",
        );
    }

    #[test]
    fn cut_before_done() {
        assert_only(
            &run(
                &text_stream()[..1],
                StreamEnd::Cut("error decoding response body".into()),
            ),
            "connection closed before the terminal marker after 1 events: error decoding response body",
        );
    }

    #[test]
    fn lines_after_done() {
        let mut events = text_stream();
        events.push(chunk("late"));
        let r = run(&events, StreamEnd::Clean);
        assert_only(
            &r,
            "event 4 (chunk): received after the terminal marker a `done: true` object (event 3)",
        );
        assert_eq!(r.text, "The sky is blue.");
    }

    #[test]
    fn no_done_reason() {
        let mut events = text_stream();
        events[3] = events[3].replace(r#""done_reason":"stop","#, "");
        let r = run(&events, StreamEnd::Clean);
        assert_only(&r, "event 3 (done): no `done_reason` on the final object");
        assert_eq!(r.finish_reason, None);
    }

    #[test]
    fn model_changes_mid_stream() {
        let mut events = text_stream();
        events[2] = events[2].replace("llama3.2", "qwen3");
        assert_only(
            &run(&events, StreamEnd::Clean),
            "event 2 (chunk): `model` changed mid-stream from \"llama3.2\" to \"qwen3\"",
        );
    }

    #[test]
    fn line_that_is_not_json() {
        let mut events = text_stream();
        events.insert(1, "{\"model\":".into());
        let r = run(&events, StreamEnd::Clean);
        assert_eq!(r.violations.len(), 1, "{:?}", r.violations);
        assert!(
            r.violations[0].starts_with("event 1: data is not JSON (EOF while parsing"),
            "{:?}",
            r.violations
        );
    }

    #[test]
    fn mid_stream_error() {
        let mut events = text_stream()[..2].to_vec();
        events.push(
            r#"{"error":"an error was encountered while running the model: unexpected EOF"}"#
                .into(),
        );
        let r = run(&events, StreamEnd::Clean);
        assert_only(
            &r,
            "mid-stream error at event 2: an error was encountered while running the model: unexpected EOF",
        );
        assert_eq!(
            r.error.unwrap().message,
            "an error was encountered while running the model: unexpected EOF"
        );
        assert_eq!(r.text, "The sky");
    }

    #[test]
    fn framing_end_to_end() {
        let body: String = text_stream().iter().map(|l| format!("{l}\n")).collect();
        let r = decode_chunked(DialectKind::Ollama, body.as_bytes(), 3);
        assert!(r.violations.is_empty(), "{:?}", r.violations);
        assert_eq!(r.text, "The sky is blue.");
    }
}

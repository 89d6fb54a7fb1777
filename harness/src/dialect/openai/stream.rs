//! OpenAI chat-completion streams: `data:` chunks (`chat.completion.chunk`), an optional usage
//! chunk with `choices: []`, then `data: [DONE]`.

use std::collections::BTreeMap;
use std::collections::btree_map::Entry;
use std::time::Duration;

use serde_json::Value;

use super::reply as wire;
use crate::dialect::stream::{Acc, StreamOptions, TimedFrame};
use crate::dialect::wire::header;
use crate::neutral::{FinishReason, ToolCall, Usage};

const MARKER: &str = "`[DONE]`";

/// Decodes the frames into `acc`; returns the terminal marker's name.
pub(crate) fn decode(acc: &mut Acc, frames: &[TimedFrame], opts: &StreamOptions) -> &'static str {
    acc.reply.request_id = header(&acc.reply.headers, "x-request-id").map(str::to_string);
    let mut st = State::default();
    for (i, tf) in frames.iter().enumerate() {
        acc.arrived(tf.at);
        let data = tf.frame.text();
        if data.trim() == "[DONE]" {
            acc.kind("done");
            acc.raw.push(Value::String(data.to_string()));
            if !acc.after_terminal(i, "done", MARKER) {
                acc.terminal(i);
            }
            continue;
        }
        let Some(v) = acc.parse(i, "", data) else {
            continue;
        };
        st.event(acc, i, tf.at, &v);
        acc.raw.push(v);
    }
    st.finish(acc, opts);
    MARKER
}

/// One choice's progress.
#[derive(Default)]
struct Choice {
    finish: Option<String>,
    finish_at: Option<usize>,
    /// The last event that carried this choice.
    last: usize,
    /// A chunk after the finish_reason was reported.
    late: bool,
}

/// A tool call assembled from its deltas.
#[derive(Default)]
struct Call {
    id: Option<String>,
    name: String,
    args: String,
}

#[derive(Default)]
struct State {
    /// The first value of each field that must not change between chunks.
    firsts: Vec<(&'static str, Value)>,
    changed: Vec<&'static str>,
    choices: BTreeMap<u64, Choice>,
    text: String,
    refused: bool,
    calls: BTreeMap<u64, Call>,
    usage: Option<Usage>,
}

impl State {
    fn event(&mut self, acc: &mut Acc, i: usize, at: Duration, v: &Value) {
        if v.get("error").is_some_and(|e| !e.is_null()) {
            acc.kind("error");
            if acc.after_terminal(i, "error", MARKER) {
                return;
            }
            let err = acc.check(i, "error", |c| wire::decode_error(v, c));
            acc.mid_stream_error(i, err);
            return;
        }
        let usage_only = v
            .get("choices")
            .and_then(Value::as_array)
            .is_some_and(Vec::is_empty)
            && v.get("usage").is_some_and(|u| !u.is_null());
        let ty = if usage_only { "usage" } else { "chunk" };
        acc.kind(ty);
        if acc.after_terminal(i, ty, MARKER) {
            return;
        }
        let choices = acc.check(i, ty, |c| {
            c.string(v, "", "id");
            c.constant(v, "", "object", "chat.completion.chunk");
            c.uint(v, "", "created");
            c.string(v, "", "model");
            c.array(v, "", "choices")
        });
        for field in ["id", "model", "created"] {
            self.same(acc, i, ty, field, v.get(field));
        }
        for (k, choice) in choices.into_iter().flatten().enumerate() {
            self.choice(acc, i, ty, at, k, choice);
        }
        if let Some(u) = v.get("usage").filter(|u| !u.is_null()) {
            let (input, output) = acc.check(i, ty, |c| {
                let input = c.uint(u, "usage", "prompt_tokens");
                let output = c.uint(u, "usage", "completion_tokens");
                c.uint(u, "usage", "total_tokens");
                (input, output)
            });
            self.usage = Some(Usage {
                input_tokens: input,
                output_tokens: output,
            });
        }
    }

    /// Checks that `field` keeps the value the first chunk gave it; reports a change once.
    fn same(
        &mut self,
        acc: &mut Acc,
        i: usize,
        ty: &str,
        field: &'static str,
        val: Option<&Value>,
    ) {
        let Some(val) = val.filter(|v| !v.is_null()) else {
            return;
        };
        match self.firsts.iter().find(|(f, _)| *f == field) {
            None => self.firsts.push((field, val.clone())),
            Some((_, first)) if first != val && !self.changed.contains(&field) => {
                self.changed.push(field);
                acc.violation(
                    i,
                    ty,
                    format!("`{field}` changed mid-stream from {first} to {val}"),
                );
            }
            Some(_) => {}
        }
    }

    fn choice(&mut self, acc: &mut Acc, i: usize, ty: &str, at: Duration, k: usize, ch: &Value) {
        let path = format!("choices[{k}]");
        let (idx, delta) = acc.check(i, ty, |c| {
            (c.uint(ch, &path, "index"), c.object(ch, &path, "delta"))
        });
        let Some(idx) = idx else {
            return;
        };
        let fr = opt_string(acc, i, ty, ch, &path, "finish_reason");
        // An empty delta with no finish_reason carries nothing: some servers (LiteLLM) repeat
        // the finished choice that way on the include_usage chunk, where OpenAI sends
        // `choices: []`. The spec allows the empty list but doesn't require it, so only a
        // chunk that adds something after the finish is a breach.
        let inert = fr.is_none()
            && ch.get("delta").and_then(Value::as_object).is_none_or(|m| {
                m.values().all(|v| {
                    v.is_null() || v.as_str() == Some("") || v.as_array().is_some_and(Vec::is_empty)
                })
            });
        let choice = self.choices.entry(idx).or_default();
        if let Some(f) = choice.finish_at
            && !choice.late
            && !inert
        {
            choice.late = true;
            acc.violation(
                i,
                ty,
                format!("choice {idx} continues after its `finish_reason` (event {f})"),
            );
        }
        choice.last = i;
        if let Some(fr) = fr {
            if wire::finish_reason(fr) == FinishReason::Other {
                acc.violation(
                    i,
                    ty,
                    format!("`{path}.finish_reason` has undocumented value {fr:?}"),
                );
            }
            choice.finish = Some(fr.to_string());
            choice.finish_at = Some(i);
        }
        let Some(delta) = delta else {
            return;
        };
        let dpath = format!("{path}.delta");
        let mut carries = false;
        if let Some(s) = opt_string(acc, i, ty, delta, &dpath, "content") {
            carries |= !s.is_empty();
            if idx == 0 {
                self.text.push_str(s);
            }
        }
        // As in the non-streamed decoder, any refusal string makes the choice a refusal.
        if let Some(s) = opt_string(acc, i, ty, delta, &dpath, "refusal") {
            carries |= !s.is_empty();
            self.refused |= idx == 0;
        }
        match delta.get("tool_calls") {
            None | Some(Value::Null) => {}
            Some(Value::Array(calls)) => {
                carries |= !calls.is_empty();
                if idx == 0 {
                    for (t, tc) in calls.iter().enumerate() {
                        self.tool_delta(acc, i, ty, &format!("{dpath}.tool_calls[{t}]"), tc);
                    }
                }
            }
            Some(other) => acc.violation(
                i,
                ty,
                format!("`{dpath}.tool_calls` must be an array, got {other}"),
            ),
        }
        if carries {
            acc.content(at);
        }
    }

    fn tool_delta(&mut self, acc: &mut Acc, i: usize, ty: &str, path: &str, tc: &Value) {
        let Some(ti) = acc.check(i, ty, |c| c.uint(tc, path, "index")) else {
            return;
        };
        let id = tc.get("id").and_then(Value::as_str);
        let func = tc.get("function");
        let name = func.and_then(|f| f.get("name")).and_then(Value::as_str);
        let args = func
            .and_then(|f| f.get("arguments"))
            .and_then(Value::as_str);
        let call = match self.calls.entry(ti) {
            Entry::Vacant(e) => {
                if id.is_none() {
                    acc.violation(
                        i,
                        ty,
                        format!("`{path}.id` is missing in the first delta of tool call {ti}"),
                    );
                }
                if name.is_none() {
                    acc.violation(
                        i,
                        ty,
                        format!(
                            "`{path}.function.name` is missing in the first delta of tool call {ti}"
                        ),
                    );
                }
                match tc.get("type").and_then(Value::as_str) {
                    Some("function") => {}
                    Some(other) => acc.violation(
                        i,
                        ty,
                        format!("`{path}.type` must be \"function\", got {other:?}"),
                    ),
                    None => acc.violation(
                        i,
                        ty,
                        format!("`{path}.type` is missing in the first delta of tool call {ti}"),
                    ),
                }
                e.insert(Call {
                    id: id.map(str::to_string),
                    name: name.unwrap_or_default().to_string(),
                    args: String::new(),
                })
            }
            Entry::Occupied(e) => {
                let call = e.into_mut();
                if let Some(id) = id {
                    match &call.id {
                        None => call.id = Some(id.to_string()),
                        Some(old) if old != id => acc.violation(
                            i,
                            ty,
                            format!("tool call {ti} changes its `id` from {old:?} to {id:?}"),
                        ),
                        Some(_) => {}
                    }
                }
                if let Some(name) = name {
                    if call.name.is_empty() {
                        call.name = name.to_string();
                    } else if call.name != name {
                        acc.violation(
                            i,
                            ty,
                            format!(
                                "tool call {ti} changes its `function.name` from {:?} to {name:?}",
                                call.name
                            ),
                        );
                    }
                }
                call
            }
        };
        if let Some(a) = args {
            call.args.push_str(a);
        }
    }

    fn finish(self, acc: &mut Acc, opts: &StreamOptions) {
        let first = |field: &str| {
            self.firsts
                .iter()
                .find(|(f, _)| *f == field)
                .and_then(|(_, v)| v.as_str())
                .map(str::to_string)
        };
        let reply = &mut acc.reply;
        reply.id = first("id");
        reply.model = first("model");
        if let Some(fr) = self.choices.get(&0).and_then(|c| c.finish.as_deref()) {
            reply.finish_reason = Some(if self.refused {
                FinishReason::Refusal
            } else {
                wire::finish_with_calls(fr, !self.calls.is_empty())
            });
            reply.raw_finish_reason = Some(fr.to_string());
        }
        reply.text = self.text;
        reply.usage = self.usage;
        reply.tool_calls = self
            .calls
            .into_values()
            .map(|c| ToolCall {
                id: c.id,
                name: c.name,
                arguments: serde_json::from_str(&c.args).ok(),
                arguments_raw: c.args,
            })
            .collect();
        let Some(done) = acc.terminal_at.filter(|_| acc.complete()) else {
            return;
        };
        if self.choices.is_empty() {
            acc.violation(done, "done", "no choice chunk before `[DONE]`".into());
        }
        for (idx, c) in &self.choices {
            if c.finish.is_none() {
                acc.violation(
                    c.last,
                    "chunk",
                    format!("the last chunk of choice {idx} has no `finish_reason`"),
                );
            }
        }
        if opts.usage_requested && self.usage.is_none() {
            acc.violation(
                done,
                "done",
                "no usage chunk before `[DONE]` although `stream_options.include_usage` was requested"
                    .into(),
            );
        }
    }
}

/// An optional string field: absent or null is `None`; another type is a breach.
fn opt_string<'v>(
    acc: &mut Acc,
    i: usize,
    ty: &str,
    obj: &'v Value,
    path: &str,
    field: &str,
) -> Option<&'v str> {
    match obj.get(field) {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s),
        Some(other) => {
            acc.violation(
                i,
                ty,
                format!("`{path}.{field}` must be a string or null, got {other}"),
            );
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::dialect::DialectKind;
    use crate::dialect::decode_stream;
    use crate::dialect::stream::StreamEnd;
    use crate::dialect::stream::testing::{assert_only, assert_same_reply, read, sse};
    use crate::neutral::Reply;

    fn chunk(delta: Value, finish: Option<&str>) -> String {
        json!({"id":"chatcmpl-A","object":"chat.completion.chunk","created":1727346182,"model":"gpt-4o",
            "choices":[{"index":0,"delta":delta,"logprobs":null,"finish_reason":finish}]})
        .to_string()
    }

    fn usage_chunk() -> String {
        r#"{"id":"chatcmpl-A","object":"chat.completion.chunk","created":1727346182,"model":"gpt-4o","choices":[],"usage":{"prompt_tokens":44,"completion_tokens":16,"total_tokens":60}}"#.into()
    }

    fn text_stream() -> Vec<String> {
        vec![
            chunk(json!({"role":"assistant","content":""}), None),
            chunk(json!({"content":"Hel"}), None),
            chunk(json!({"content":"lo"}), None),
            chunk(json!({}), Some("stop")),
            usage_chunk(),
            "[DONE]".into(),
        ]
    }

    fn tool_stream() -> Vec<String> {
        vec![
            chunk(
                json!({"role":"assistant","content":null,"tool_calls":[{"index":0,"id":"call_4Xz","type":"function","function":{"name":"get_weather","arguments":""}}]}),
                None,
            ),
            chunk(
                json!({"tool_calls":[{"index":0,"function":{"arguments":"{\"city\":"}}]}),
                None,
            ),
            chunk(
                json!({"tool_calls":[{"index":0,"function":{"arguments":"\"NYC\"}"}}]}),
                None,
            ),
            chunk(
                json!({"tool_calls":[{"index":1,"id":"call_2","type":"function","function":{"name":"get_time","arguments":"{bad"}}]}),
                None,
            ),
            chunk(json!({}), Some("tool_calls")),
            usage_chunk(),
            "[DONE]".into(),
        ]
    }

    fn run(events: &[String], end: StreamEnd, usage: bool) -> Reply {
        let ev: Vec<(Option<&str>, &str)> = events.iter().map(|e| (None, e.as_str())).collect();
        decode_stream(
            DialectKind::Openai,
            200,
            &[("x-request-id".into(), "req_1".into())],
            &sse(&ev),
            &end,
            &StreamOptions {
                usage_requested: usage,
            },
        )
    }

    #[test]
    fn text_stream_assembles_like_the_plain_reply() {
        let r = run(&text_stream(), StreamEnd::Clean, true);
        assert!(r.violations.is_empty(), "{:?}", r.violations);
        let plain = DialectKind::Openai.decode(
            200,
            &[("x-request-id".into(), "req_1".into())],
            br#"{"id":"chatcmpl-A","object":"chat.completion","created":1727346182,"model":"gpt-4o",
              "choices":[{"index":0,"message":{"role":"assistant","content":"Hello"},"logprobs":null,"finish_reason":"stop"}],
              "usage":{"prompt_tokens":44,"completion_tokens":16,"total_tokens":60}}"#,
        );
        assert_same_reply(&r, &plain);
        assert_eq!(r.text, "Hello");
        let info = r.stream.unwrap();
        assert_eq!(info.events, 6);
        assert_eq!(info.event_types, vec!["chunk", "usage", "done"]);
        assert_eq!(info.time_to_first_token, Some(Duration::from_millis(2)));
        assert_eq!(info.max_gap, Duration::from_millis(1));
        assert!(info.terminated);
        assert_eq!(r.raw.as_array().unwrap().len(), 6);
        assert_eq!(r.raw[1]["choices"][0]["delta"]["content"], "Hel");
    }

    #[test]
    fn tool_calls_are_assembled_by_index() {
        let r = run(&tool_stream(), StreamEnd::Clean, true);
        assert!(r.violations.is_empty(), "{:?}", r.violations);
        assert_eq!(r.finish_reason, Some(FinishReason::ToolCalls));
        assert_eq!(
            r.tool_calls,
            vec![
                ToolCall {
                    id: Some("call_4Xz".into()),
                    name: "get_weather".into(),
                    arguments_raw: r#"{"city":"NYC"}"#.into(),
                    arguments: Some(json!({"city":"NYC"})),
                },
                ToolCall {
                    id: Some("call_2".into()),
                    name: "get_time".into(),
                    arguments_raw: "{bad".into(),
                    arguments: None,
                },
            ]
        );
        assert_eq!(
            r.stream.as_ref().unwrap().time_to_first_token,
            Some(Duration::from_millis(1))
        );
        let plain = DialectKind::Openai.decode(
            200,
            &[("x-request-id".into(), "req_1".into())],
            br#"{"id":"chatcmpl-A","object":"chat.completion","created":1727346182,"model":"gpt-4o",
              "choices":[{"index":0,"message":{"role":"assistant","content":null,"tool_calls":[
                {"id":"call_4Xz","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"NYC\"}"}},
                {"id":"call_2","type":"function","function":{"name":"get_time","arguments":"{bad"}}]},
                "logprobs":null,"finish_reason":"tool_calls"}],
              "usage":{"prompt_tokens":44,"completion_tokens":16,"total_tokens":60}}"#,
        );
        assert_same_reply(&r, &plain);
    }

    #[test]
    fn refusal_deltas_make_a_refusal() {
        let events = vec![
            chunk(json!({"role":"assistant","refusal":""}), None),
            chunk(json!({"refusal":"I can't"}), None),
            chunk(json!({}), Some("stop")),
            "[DONE]".into(),
        ];
        let r = run(&events, StreamEnd::Clean, false);
        assert!(r.violations.is_empty(), "{:?}", r.violations);
        assert_eq!(r.finish_reason, Some(FinishReason::Refusal));
        assert_eq!(r.raw_finish_reason.as_deref(), Some("stop"));
        assert_eq!(
            r.stream.unwrap().time_to_first_token,
            Some(Duration::from_millis(2))
        );
    }

    #[test]
    fn usage_missing_when_requested() {
        let mut events = text_stream();
        events.remove(4);
        assert_only(
            &run(&events, StreamEnd::Clean, true),
            "event 4 (done): no usage chunk before `[DONE]` although `stream_options.include_usage` was requested",
        );
        // Not asked for: not owed.
        assert!(run(&events, StreamEnd::Clean, false).violations.is_empty());
    }

    #[test]
    fn usage_null_on_other_chunks_is_fine() {
        let mut events = text_stream();
        let mut v: Value = serde_json::from_str(&events[1]).unwrap();
        v["usage"] = Value::Null;
        events[1] = v.to_string();
        let r = run(&events, StreamEnd::Clean, true);
        assert!(r.violations.is_empty(), "{:?}", r.violations);
        assert_eq!(r.usage.unwrap().output_tokens, Some(16));
    }

    #[test]
    fn missing_done_with_a_clean_end() {
        let mut events = text_stream();
        events.pop();
        let r = run(&events, StreamEnd::Clean, true);
        assert_only(
            &r,
            "stream ended without the terminal marker after 5 events (expected `[DONE]`)",
        );
        assert!(!r.stream.unwrap().terminated);
    }

    #[test]
    fn cut_before_done() {
        let events = &text_stream()[..2];
        assert_only(
            &run(
                events,
                StreamEnd::Cut("connection reset by peer".into()),
                true,
            ),
            "connection closed before the terminal marker after 2 events: connection reset by peer",
        );
        // Cut after [DONE]: the reply was complete, clients stop reading there.
        let r = run(&text_stream(), StreamEnd::Cut("reset".into()), true);
        assert!(r.violations.is_empty(), "{:?}", r.violations);
    }

    #[test]
    fn data_after_done() {
        let mut events = text_stream();
        events.push(chunk(json!({"content":"more"}), None));
        events.push(chunk(json!({"content":"and more"}), None));
        let r = run(&events, StreamEnd::Clean, true);
        assert_only(
            &r,
            "event 6 (chunk): received after the terminal marker `[DONE]` (event 5)",
        );
        assert_eq!(r.text, "Hello");
    }

    #[test]
    fn id_changes_mid_stream() {
        let mut events = text_stream();
        events[2] = events[2].replace("chatcmpl-A", "chatcmpl-B");
        events[3] = events[3].replace("chatcmpl-A", "chatcmpl-C");
        assert_only(
            &run(&events, StreamEnd::Clean, true),
            "event 2 (chunk): `id` changed mid-stream from \"chatcmpl-A\" to \"chatcmpl-B\"",
        );
        let mut events = text_stream();
        events[1] = events[1].replace("gpt-4o", "gpt-4o-mini");
        assert_only(
            &run(&events, StreamEnd::Clean, true),
            "event 1 (chunk): `model` changed mid-stream from \"gpt-4o\" to \"gpt-4o-mini\"",
        );
    }

    #[test]
    fn no_finish_reason_on_the_last_choice_chunk() {
        let mut events = text_stream();
        events[3] = chunk(json!({}), None);
        assert_only(
            &run(&events, StreamEnd::Clean, true),
            "event 3 (chunk): the last chunk of choice 0 has no `finish_reason`",
        );
    }

    #[test]
    fn an_empty_choice_on_the_usage_chunk_is_not_a_breach() {
        let mut events = text_stream();
        let usage = events
            .iter()
            .position(|e| e.contains("\"usage\":{"))
            .expect("usage chunk");
        let repeated =
            events[usage].replace("\"choices\":[]", "\"choices\":[{\"index\":0,\"delta\":{}}]");
        assert_ne!(
            repeated, events[usage],
            "the usage chunk should have had `choices: []`"
        );
        events[usage] = repeated;
        assert!(run(&events, StreamEnd::Clean, true).violations.is_empty());
    }

    #[test]
    fn content_after_finish_reason() {
        let mut events = text_stream();
        events.insert(4, chunk(json!({"content":"!"}), None));
        assert_only(
            &run(&events, StreamEnd::Clean, true),
            "event 4 (chunk): choice 0 continues after its `finish_reason` (event 3)",
        );
    }

    #[test]
    fn data_that_is_not_json() {
        let mut events = text_stream();
        events.insert(2, "{\"id\":\"chatcmpl-A\",".into());
        let r = run(&events, StreamEnd::Clean, true);
        assert_eq!(r.violations.len(), 1, "{:?}", r.violations);
        assert!(
            r.violations[0].starts_with("event 2: data is not JSON (EOF while parsing"),
            "{:?}",
            r.violations
        );
        assert!(r.violations[0].ends_with(r#": "{\"id\":\"chatcmpl-A\",""#));
        assert_eq!(r.text, "Hello");
    }

    #[test]
    fn mid_stream_error() {
        let mut events = text_stream()[..2].to_vec();
        events.push(
            r#"{"error":{"message":"The server had an error while processing your request.","type":"server_error","param":null,"code":null}}"#
                .into(),
        );
        let r = run(&events, StreamEnd::Clean, true);
        assert_only(
            &r,
            "mid-stream error at event 2: server_error: The server had an error while processing your request.",
        );
        let e = r.error.unwrap();
        assert_eq!(e.kind.as_deref(), Some("server_error"));
        assert_eq!(r.stream.unwrap().event_types, vec!["chunk", "error"]);
    }

    #[test]
    fn missing_first_delta_fields_and_wrong_object() {
        let mut events = tool_stream();
        events[0] = events[0].replace("\"id\":\"call_4Xz\",", "");
        events[1] = events[1].replace("chat.completion.chunk", "chat.completion");
        events[2] = events[2].replace("chat.completion.chunk", "chat.completion");
        let r = run(&events, StreamEnd::Clean, true);
        assert_eq!(
            r.violations,
            vec![
                "event 0 (chunk): `choices[0].delta.tool_calls[0].id` is missing in the first delta of tool call 0",
                "event 1 (chunk): `object` must be \"chat.completion.chunk\", got \"chat.completion\"",
            ]
        );
    }

    #[test]
    fn framing_end_to_end() {
        let body: String = text_stream()
            .iter()
            .map(|e| format!("data: {e}\n\n"))
            .collect();
        let (frames, end) = read(
            DialectKind::Openai,
            body.as_bytes()
                .chunks(7)
                .map(|c| Ok(bytes::Bytes::copy_from_slice(c)))
                .collect(),
        );
        let r = decode_stream(
            DialectKind::Openai,
            200,
            &[],
            &frames,
            &end,
            &StreamOptions {
                usage_requested: true,
            },
        );
        assert!(r.violations.is_empty(), "{:?}", r.violations);
        assert_eq!(r.text, "Hello");
        assert_eq!(r.stream.unwrap().events, 6);
    }
}

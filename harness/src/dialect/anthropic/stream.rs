//! Anthropic message streams: named SSE events `message_start` → (`content_block_start` →
//! `content_block_delta`* → `content_block_stop`)* → `message_delta` → `message_stop`, with
//! `ping` anywhere and `error` instead of the end when the server fails mid-stream.

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::Value;

use super::reply as wire;
use crate::dialect::json::opt_str;
use crate::dialect::stream::{Acc, TimedFrame, preview};
use crate::dialect::wire::header;
use crate::neutral::{FinishReason, ProviderError, ToolCall, Usage};

const MARKER: &str = "`message_stop`";

/// Decodes the frames into `acc`; returns the terminal marker's name.
pub(crate) fn decode(acc: &mut Acc, frames: &[TimedFrame]) -> &'static str {
    acc.reply.request_id = header(&acc.reply.headers, "request-id").map(str::to_string);
    let mut st = State::default();
    for (i, tf) in frames.iter().enumerate() {
        acc.arrived(tf.at);
        let name = tf.frame.event();
        let Some(v) = acc.parse(i, name.unwrap_or(""), tf.frame.text()) else {
            if let Some(name) = name {
                acc.kind(name);
            }
            continue;
        };
        let data_type = v.get("type").and_then(Value::as_str);
        let ty = data_type.or(name).unwrap_or("").to_string();
        if !ty.is_empty() {
            acc.kind(&ty);
        }
        match data_type {
            None => acc.check(i, &ty, |c| {
                c.string(&v, "", "type");
            }),
            Some(t) if name != Some(t) => acc.violation(
                i,
                &ty,
                format!(
                    "the SSE event name {} does not match data.type {t:?}",
                    name.map_or("(none)".to_string(), |n| format!("{n:?}"))
                ),
            ),
            Some(_) => {}
        }
        if !acc.after_terminal(i, &ty, MARKER) {
            st.event(acc, i, tf.at, &ty, &v);
        }
        acc.raw.push(v);
    }
    st.finish(acc);
    MARKER
}

/// One content block's progress.
struct Block {
    kind: String,
    started: usize,
    stopped: Option<usize>,
    text: String,
    /// The joined `partial_json` pieces of a tool_use block.
    json: String,
    id: Option<String>,
    name: String,
    /// The `input` the block started with (`{}`), used when no `partial_json` arrives.
    initial: Value,
    /// The parsed input, once the block stopped.
    input: Option<Result<Value, String>>,
}

impl Block {
    fn parse_input(&self) -> Result<Value, String> {
        if self.json.trim().is_empty() {
            return Ok(self.initial.clone());
        }
        serde_json::from_str(&self.json).map_err(|e| e.to_string())
    }
}

#[derive(Default)]
struct State {
    started: Option<usize>,
    /// The last `message_delta`.
    delta_at: Option<usize>,
    stop_reason: Option<String>,
    /// The last `message_delta`'s `delta.stop_sequence`.
    stop_sequence: Option<String>,
    /// Something other than ping/error arrived before `message_start` (reported once).
    early: bool,
    blocks: BTreeMap<u64, Block>,
    id: Option<String>,
    model: Option<String>,
    usage: Option<Usage>,
}

impl State {
    fn event(&mut self, acc: &mut Acc, i: usize, at: Duration, ty: &str, v: &Value) {
        let known = matches!(
            ty,
            "content_block_start"
                | "content_block_delta"
                | "content_block_stop"
                | "message_delta"
                | "message_stop"
        );
        if known && self.started.is_none() && !self.early {
            self.early = true;
            acc.violation(i, ty, "arrived before `message_start`".into());
        }
        if let Some(d) = self.delta_at
            && ty.starts_with("content_block_")
        {
            acc.violation(i, ty, format!("arrived after `message_delta` (event {d})"));
        }
        match ty {
            "error" => {
                let err = acc.check(i, ty, |c| {
                    let Some(e) = c.object(v, "", "error") else {
                        return ProviderError {
                            message: v.to_string(),
                            ..ProviderError::default()
                        };
                    };
                    ProviderError {
                        kind: c.string(e, "error", "type").map(str::to_string),
                        message: c
                            .string(e, "error", "message")
                            .unwrap_or_default()
                            .to_string(),
                        code: None,
                        param: opt_str(e, "param"),
                    }
                });
                acc.mid_stream_error(i, err);
            }
            "message_start" => self.message_start(acc, i, v),
            "content_block_start" => self.block_start(acc, i, at, v),
            "content_block_delta" => self.block_delta(acc, i, at, v),
            "content_block_stop" => self.block_stop(acc, i, v),
            "message_delta" => self.message_delta(acc, i, v),
            "message_stop" => {
                if self.delta_at.is_none() {
                    acc.violation(i, ty, "arrived before `message_delta`".into());
                }
                acc.terminal(i);
            }
            // `ping`, and event types newer than this decoder, which clients must ignore.
            _ => {}
        }
    }

    fn message_start(&mut self, acc: &mut Acc, i: usize, v: &Value) {
        const TY: &str = "message_start";
        if let Some(first) = self.started {
            acc.violation(
                i,
                TY,
                format!("a second `message_start` (first at event {first})"),
            );
            return;
        }
        self.started = Some(i);
        let usage = acc.check(i, TY, |c| {
            let m = c.object(v, "", "message")?;
            self.id = c.string(m, "message", "id").map(str::to_string);
            c.constant(m, "message", "type", "message");
            c.constant(m, "message", "role", "assistant");
            self.model = c.string(m, "message", "model").map(str::to_string);
            c.array(m, "message", "content");
            let u = c.object(m, "message", "usage")?;
            Some(Usage {
                input_tokens: c.uint(u, "message.usage", "input_tokens"),
                output_tokens: c.opt_uint(u, "message.usage", "output_tokens"),
            })
        });
        if usage.is_some() {
            self.usage = usage;
        }
    }

    fn block_start(&mut self, acc: &mut Acc, i: usize, at: Duration, v: &Value) {
        const TY: &str = "content_block_start";
        let (index, block) = acc.check(i, TY, |c| {
            (c.uint(v, "", "index"), c.object(v, "", "content_block"))
        });
        let Some(index) = index else {
            return;
        };
        if let Some(b) = self.blocks.get(&index) {
            acc.violation(
                i,
                TY,
                format!(
                    "content block {index} was already started (event {})",
                    b.started
                ),
            );
            return;
        }
        let mut b = Block {
            kind: String::new(),
            started: i,
            stopped: None,
            text: String::new(),
            json: String::new(),
            id: None,
            name: String::new(),
            initial: Value::Object(Default::default()),
            input: None,
        };
        if let Some(block) = block {
            acc.check(i, TY, |c| {
                b.kind = c
                    .string(block, "content_block", "type")
                    .unwrap_or_default()
                    .to_string();
                match b.kind.as_str() {
                    "text" => {
                        b.text = c
                            .string(block, "content_block", "text")
                            .unwrap_or_default()
                            .to_string();
                    }
                    "tool_use" => {
                        b.id = c.string(block, "content_block", "id").map(str::to_string);
                        b.name = c
                            .string(block, "content_block", "name")
                            .unwrap_or_default()
                            .to_string();
                        if let Some(input) = c.object(block, "content_block", "input") {
                            b.initial = input.clone();
                        }
                    }
                    _ => {}
                }
            });
        }
        if !b.text.is_empty() || b.kind == "tool_use" {
            acc.content(at);
        }
        self.blocks.insert(index, b);
    }

    fn block_delta(&mut self, acc: &mut Acc, i: usize, at: Duration, v: &Value) {
        const TY: &str = "content_block_delta";
        let (index, delta) = acc.check(i, TY, |c| {
            (c.uint(v, "", "index"), c.object(v, "", "delta"))
        });
        let Some(index) = index else {
            return;
        };
        let Some(b) = self.blocks.get_mut(&index) else {
            acc.violation(
                i,
                TY,
                format!("delta for index {index}, which was never started"),
            );
            return;
        };
        if let Some(s) = b.stopped {
            acc.violation(
                i,
                TY,
                format!("delta for index {index} after its content_block_stop (event {s})"),
            );
        }
        let Some(delta) = delta else {
            return;
        };
        // Applied even out of place, as the SDKs' accumulators do.
        let piece = acc.check(i, TY, |c| match c.string(delta, "delta", "type") {
            Some(t @ "text_delta") => Some((t, "text", c.string(delta, "delta", "text"))),
            Some(t @ "input_json_delta") => {
                Some((t, "tool_use", c.string(delta, "delta", "partial_json")))
            }
            // thinking_delta, signature_delta, citations_delta and newer kinds: tolerated.
            _ => None,
        });
        let Some((dtype, wants, Some(s))) = piece else {
            return;
        };
        if b.kind != wants {
            acc.violation(
                i,
                TY,
                format!("{dtype} for index {index}, a {:?} block", b.kind),
            );
        }
        if wants == "text" {
            b.text.push_str(s);
        } else {
            b.json.push_str(s);
        }
        if !s.is_empty() {
            acc.content(at);
        }
    }

    fn block_stop(&mut self, acc: &mut Acc, i: usize, v: &Value) {
        const TY: &str = "content_block_stop";
        let Some(index) = acc.check(i, TY, |c| c.uint(v, "", "index")) else {
            return;
        };
        let Some(b) = self.blocks.get_mut(&index) else {
            acc.violation(
                i,
                TY,
                format!("stop for index {index}, which was never started"),
            );
            return;
        };
        if let Some(s) = b.stopped {
            acc.violation(
                i,
                TY,
                format!("content block {index} was already stopped (event {s})"),
            );
            return;
        }
        b.stopped = Some(i);
        if b.kind == "tool_use" {
            let input = b.parse_input();
            if let Err(e) = &input {
                acc.violation(
                    i,
                    TY,
                    format!(
                        "the input of tool_use block {index} is not valid JSON ({e}): {:?}",
                        preview(&b.json)
                    ),
                );
            }
            b.input = Some(input);
        }
    }

    fn message_delta(&mut self, acc: &mut Acc, i: usize, v: &Value) {
        const TY: &str = "message_delta";
        self.delta_at = Some(i);
        let (delta, usage) = acc.check(i, TY, |c| {
            (c.object(v, "", "delta"), c.object(v, "", "usage"))
        });
        if let Some(delta) = delta {
            match delta.get("stop_reason") {
                None | Some(Value::Null) => {}
                Some(Value::String(s)) => {
                    if wire::finish_reason(s) == FinishReason::Other && s != "pause_turn" {
                        acc.violation(
                            i,
                            TY,
                            format!("`delta.stop_reason` has undocumented value {s:?}"),
                        );
                    }
                    self.stop_reason = Some(s.clone());
                }
                Some(other) => acc.violation(
                    i,
                    TY,
                    format!("`delta.stop_reason` must be a string or null, got {other}"),
                ),
            }
            let seq = acc.check(i, TY, |c| {
                c.string_or_null(delta, "delta", "stop_sequence")
                    .map(str::to_string)
            });
            let reason = delta.get("stop_reason").and_then(Value::as_str);
            acc.check(i, TY, |c| {
                wire::stop_sequence_agrees(reason, &seq, "delta", c);
            });
            self.stop_sequence = seq;
        }
        if let Some(u) = usage {
            // Cumulative: the last message_delta has the final counts.
            let (input, output) = acc.check(i, TY, |c| {
                (
                    c.opt_uint(u, "usage", "input_tokens"),
                    c.uint(u, "usage", "output_tokens"),
                )
            });
            let usage = self.usage.get_or_insert_with(Usage::default);
            if input.is_some() {
                usage.input_tokens = input;
            }
            if output.is_some() {
                usage.output_tokens = output;
            }
        }
    }

    fn finish(self, acc: &mut Acc) {
        let complete = acc.complete();
        let reply = &mut acc.reply;
        reply.id = self.id;
        reply.model = self.model;
        reply.usage = self.usage;
        reply.stop_sequence = self.stop_sequence;
        if let Some(s) = &self.stop_reason {
            reply.finish_reason = Some(wire::finish_reason(s));
            reply.raw_finish_reason = Some(s.clone());
        }
        let mut text = String::new();
        let mut calls = Vec::new();
        let mut unstopped = Vec::new();
        for (index, b) in self.blocks {
            if b.stopped.is_none() {
                unstopped.push((b.started, index));
            }
            match b.kind.as_str() {
                "text" => text.push_str(&b.text),
                "tool_use" => {
                    let input = b.input.clone().unwrap_or_else(|| b.parse_input());
                    // Serialized like the non-streamed decoder keeps an `input` object; the
                    // pieces as sent only when they don't parse.
                    let (raw, parsed) = match input {
                        Ok(v) => (v.to_string(), Some(v)),
                        Err(_) => (b.json, None),
                    };
                    calls.push(ToolCall {
                        id: b.id,
                        name: b.name,
                        arguments_raw: raw,
                        arguments: parsed,
                    });
                }
                _ => {}
            }
        }
        reply.text = text;
        reply.tool_calls = calls;
        if !complete {
            return;
        }
        for (started, index) in unstopped {
            acc.violation(
                started,
                "content_block_start",
                format!("content block {index} was never stopped"),
            );
        }
        if let Some(d) = self.delta_at
            && self.stop_reason.is_none()
        {
            acc.violation(
                d,
                "message_delta",
                "no `stop_reason`: a finished message must say why it stopped".into(),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::dialect::DialectKind;
    use crate::dialect::stream::StreamEnd;
    use crate::dialect::stream::testing::{
        assert_only, assert_same_reply, decode, decode_chunked, sse,
    };
    use crate::neutral::Reply;

    type Ev = (String, String);

    fn ev(name: &str, data: Value) -> Ev {
        (name.to_string(), data.to_string())
    }

    fn start() -> Ev {
        ev(
            "message_start",
            json!({"type":"message_start","message":{"id":"msg_1","type":"message","role":"assistant","content":[],
                "model":"claude-x","stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":25,"output_tokens":1}}}),
        )
    }

    fn block_start(index: u64, block: Value) -> Ev {
        ev(
            "content_block_start",
            json!({"type":"content_block_start","index":index,"content_block":block}),
        )
    }

    fn delta(index: u64, delta: Value) -> Ev {
        ev(
            "content_block_delta",
            json!({"type":"content_block_delta","index":index,"delta":delta}),
        )
    }

    fn text(index: u64, t: &str) -> Ev {
        delta(index, json!({"type":"text_delta","text":t}))
    }

    fn block_stop(index: u64) -> Ev {
        ev(
            "content_block_stop",
            json!({"type":"content_block_stop","index":index}),
        )
    }

    fn message_delta(stop: Value, output: u64) -> Ev {
        ev(
            "message_delta",
            json!({"type":"message_delta","delta":{"stop_reason":stop,"stop_sequence":null},"usage":{"output_tokens":output}}),
        )
    }

    fn stop() -> Ev {
        ev("message_stop", json!({"type":"message_stop"}))
    }

    fn ping() -> Ev {
        ev("ping", json!({"type":"ping"}))
    }

    fn text_stream() -> Vec<Ev> {
        vec![
            start(),
            block_start(0, json!({"type":"text","text":""})),
            ping(),
            text(0, "Hel"),
            text(0, "lo"),
            block_stop(0),
            message_delta(json!("end_turn"), 15),
            stop(),
        ]
    }

    fn tool_stream() -> Vec<Ev> {
        vec![
            start(),
            block_start(0, json!({"type":"text","text":""})),
            text(0, "Let me check."),
            block_stop(0),
            block_start(
                1,
                json!({"type":"tool_use","id":"toolu_1","name":"get_weather","input":{}}),
            ),
            delta(1, json!({"type":"input_json_delta","partial_json":""})),
            delta(
                1,
                json!({"type":"input_json_delta","partial_json":"{\"city\": \"Pa"}),
            ),
            delta(
                1,
                json!({"type":"input_json_delta","partial_json":"ris\"}"}),
            ),
            block_stop(1),
            block_start(
                2,
                json!({"type":"tool_use","id":"toolu_2","name":"get_time","input":{}}),
            ),
            block_stop(2),
            message_delta(json!("tool_use"), 40),
            stop(),
        ]
    }

    fn run(events: &[Ev], end: StreamEnd) -> Reply {
        let ev: Vec<(Option<&str>, &str)> = events
            .iter()
            .map(|(n, d)| (Some(n.as_str()), d.as_str()))
            .collect();
        decode(
            DialectKind::Anthropic,
            200,
            &[("request-id".into(), "req_9".into())],
            &sse(&ev),
            &end,
        )
    }

    #[test]
    fn text_stream_assembles_like_the_plain_reply() {
        let r = run(&text_stream(), StreamEnd::Clean);
        assert!(r.violations.is_empty(), "{:?}", r.violations);
        let plain = DialectKind::Anthropic.decode(
            200,
            &[("request-id".into(), "req_9".into())],
            br#"{"id":"msg_1","type":"message","role":"assistant","model":"claude-x",
              "content":[{"type":"text","text":"Hello"}],"stop_reason":"end_turn","stop_sequence":null,
              "usage":{"input_tokens":25,"output_tokens":15}}"#,
        );
        assert_same_reply(&r, &plain);
        let info = r.stream.unwrap();
        assert_eq!(info.events, 8);
        assert_eq!(
            info.event_types,
            vec![
                "message_start",
                "content_block_start",
                "ping",
                "content_block_delta",
                "content_block_stop",
                "message_delta",
                "message_stop"
            ]
        );
        assert_eq!(info.time_to_first_token, Some(Duration::from_millis(4)));
        assert!(info.terminated);
    }

    #[test]
    fn tool_use_blocks_are_assembled() {
        let r = run(&tool_stream(), StreamEnd::Clean);
        assert!(r.violations.is_empty(), "{:?}", r.violations);
        assert_eq!(r.text, "Let me check.");
        assert_eq!(r.finish_reason, Some(FinishReason::ToolCalls));
        assert_eq!(
            r.tool_calls,
            vec![
                ToolCall {
                    id: Some("toolu_1".into()),
                    name: "get_weather".into(),
                    arguments_raw: r#"{"city":"Paris"}"#.into(),
                    arguments: Some(json!({"city":"Paris"})),
                },
                ToolCall {
                    id: Some("toolu_2".into()),
                    name: "get_time".into(),
                    arguments_raw: "{}".into(),
                    arguments: Some(json!({})),
                },
            ]
        );
        let plain = DialectKind::Anthropic.decode(
            200,
            &[("request-id".into(), "req_9".into())],
            br#"{"id":"msg_1","type":"message","role":"assistant","model":"claude-x",
              "content":[{"type":"text","text":"Let me check."},
                {"type":"tool_use","id":"toolu_1","name":"get_weather","input":{"city":"Paris"}},
                {"type":"tool_use","id":"toolu_2","name":"get_time","input":{}}],
              "stop_reason":"tool_use","stop_sequence":null,"usage":{"input_tokens":25,"output_tokens":40}}"#,
        );
        assert_same_reply(&r, &plain);
    }

    #[test]
    fn thinking_and_unknown_events_are_tolerated() {
        let mut events = text_stream();
        events.insert(1, block_start(5, json!({"type":"thinking","thinking":""})));
        events.insert(
            2,
            delta(5, json!({"type":"thinking_delta","thinking":"hmm"})),
        );
        events.insert(
            3,
            delta(5, json!({"type":"signature_delta","signature":"sig"})),
        );
        events.insert(4, block_stop(5));
        events.insert(5, ev("brand_new_event", json!({"type":"brand_new_event"})));
        let r = run(&events, StreamEnd::Clean);
        assert!(r.violations.is_empty(), "{:?}", r.violations);
        assert_eq!(r.text, "Hello");
        assert!(
            r.stream
                .unwrap()
                .event_types
                .contains(&"brand_new_event".to_string())
        );
    }

    #[test]
    fn input_tokens_from_message_delta_win() {
        let mut events = text_stream();
        events[6] = ev(
            "message_delta",
            json!({"type":"message_delta","delta":{"stop_reason":"max_tokens","stop_sequence":null},"usage":{"input_tokens":30,"output_tokens":16}}),
        );
        let r = run(&events, StreamEnd::Clean);
        assert!(r.violations.is_empty(), "{:?}", r.violations);
        assert_eq!(
            r.usage,
            Some(Usage {
                input_tokens: Some(30),
                output_tokens: Some(16)
            })
        );
        assert_eq!(r.finish_reason, Some(FinishReason::Length));
    }

    #[test]
    fn missing_message_stop_with_a_clean_end() {
        let mut events = text_stream();
        events.pop();
        assert_only(
            &run(&events, StreamEnd::Clean),
            "stream ended without the terminal marker after 7 events (expected `message_stop`)",
        );
    }

    #[test]
    fn cut_before_message_stop() {
        assert_only(
            &run(&text_stream()[..4], StreamEnd::Cut("unexpected EOF".into())),
            "connection closed before the terminal marker after 4 events: unexpected EOF",
        );
    }

    #[test]
    fn delta_for_an_index_never_started() {
        let mut events = text_stream();
        events.insert(4, text(1, "x"));
        assert_only(
            &run(&events, StreamEnd::Clean),
            "event 4 (content_block_delta): delta for index 1, which was never started",
        );
    }

    #[test]
    fn delta_and_stop_before_their_start() {
        let mut events = text_stream();
        events.swap(1, 3);
        let r = run(&events, StreamEnd::Clean);
        assert_only(
            &r,
            "event 1 (content_block_delta): delta for index 0, which was never started",
        );
        assert_eq!(r.text, "lo");
        let events = vec![
            start(),
            block_stop(0),
            message_delta(json!("end_turn"), 1),
            stop(),
        ];
        assert_only(
            &run(&events, StreamEnd::Clean),
            "event 1 (content_block_stop): stop for index 0, which was never started",
        );
    }

    #[test]
    fn events_before_message_start() {
        let mut events = text_stream();
        events.swap(0, 1);
        assert_only(
            &run(&events, StreamEnd::Clean),
            "event 0 (content_block_start): arrived before `message_start`",
        );
    }

    #[test]
    fn message_stop_before_message_delta() {
        let mut events = text_stream();
        events.swap(6, 7);
        let r = run(&events, StreamEnd::Clean);
        assert_eq!(
            r.violations,
            vec![
                "event 6 (message_stop): arrived before `message_delta`",
                "event 7 (message_delta): received after the terminal marker `message_stop` (event 6)",
            ]
        );
        let mut events = text_stream();
        events.remove(6);
        assert_only(
            &run(&events, StreamEnd::Clean),
            "event 6 (message_stop): arrived before `message_delta`",
        );
    }

    #[test]
    fn events_after_message_stop() {
        let mut events = text_stream();
        events.push(ping());
        events.push(ping());
        assert_only(
            &run(&events, StreamEnd::Clean),
            "event 8 (ping): received after the terminal marker `message_stop` (event 7)",
        );
    }

    #[test]
    fn no_stop_reason_in_message_delta() {
        let mut events = text_stream();
        events[6] = message_delta(Value::Null, 15);
        let r = run(&events, StreamEnd::Clean);
        assert_only(
            &r,
            "event 6 (message_delta): no `stop_reason`: a finished message must say why it stopped",
        );
        assert_eq!(r.finish_reason, None);
    }

    #[test]
    fn event_name_must_match_data_type() {
        let mut events = text_stream();
        events[3].0 = "content_block_start".into();
        assert_only(
            &run(&events, StreamEnd::Clean),
            "event 3 (content_block_delta): the SSE event name \"content_block_start\" does not match data.type \"content_block_delta\"",
        );
        let frames = sse(&[(None, &text_stream()[0].1)]);
        let r = decode(
            DialectKind::Anthropic,
            200,
            &[],
            &frames,
            &StreamEnd::Cut("x".into()),
        );
        assert_eq!(
            r.violations[0],
            "event 0 (message_start): the SSE event name (none) does not match data.type \"message_start\""
        );
    }

    #[test]
    fn data_that_is_not_json() {
        let mut events = text_stream();
        events[4].1 = "{\"type\":\"content_block_delta\",\"index\":0,\"delta\":{".into();
        let r = run(&events, StreamEnd::Clean);
        assert_eq!(r.violations.len(), 1, "{:?}", r.violations);
        assert!(
            r.violations[0]
                .starts_with("event 4 (content_block_delta): data is not JSON (EOF while parsing"),
            "{:?}",
            r.violations
        );
        assert_eq!(r.text, "Hel");
    }

    #[test]
    fn invalid_tool_input_json() {
        let mut events = tool_stream();
        events[7] = delta(1, json!({"type":"input_json_delta","partial_json":"ris\""}));
        let r = run(&events, StreamEnd::Clean);
        assert_eq!(r.violations.len(), 1, "{:?}", r.violations);
        assert!(r.violations[0].starts_with(
            "event 8 (content_block_stop): the input of tool_use block 1 is not valid JSON ("
        ));
        assert_eq!(r.tool_calls[0].arguments, None);
        assert_eq!(r.tool_calls[0].arguments_raw, "{\"city\": \"Paris\"");
    }

    #[test]
    fn mid_stream_error() {
        let mut events = text_stream()[..4].to_vec();
        events.push(ev(
            "error",
            json!({"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}),
        ));
        let r = run(&events, StreamEnd::Clean);
        assert_only(
            &r,
            "mid-stream error at event 4: overloaded_error: Overloaded",
        );
        let e = r.error.unwrap();
        assert_eq!(e.kind.as_deref(), Some("overloaded_error"));
        assert_eq!(e.message, "Overloaded");
        assert_eq!(r.text, "Hel");
    }

    #[test]
    fn framing_end_to_end() {
        let body: String = tool_stream()
            .iter()
            .map(|(n, d)| format!("event: {n}\r\ndata: {d}\r\n\r\n"))
            .collect();
        let r = decode_chunked(DialectKind::Anthropic, body.as_bytes(), 5);
        assert!(r.violations.is_empty(), "{:?}", r.violations);
        assert_eq!(r.tool_calls.len(), 2);
        assert_eq!(r.stream.unwrap().events, 13);
    }
}

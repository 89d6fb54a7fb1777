//! Responses API streams: typed SSE events, each with a `type` and a `sequence_number`:
//! `response.created` → (`response.output_item.added` → (`response.content_part.added` →
//! `response.output_text.delta`* → `response.output_text.done` → `response.content_part.done`)*
//! or `response.function_call_arguments.delta`* → `.done` → `response.output_item.done`)* →
//! exactly one terminal event (`response.completed`, `response.incomplete` or
//! `response.failed`), whose `response` must agree with the deltas. An `error` event ends the
//! stream early. There is no `[DONE]`.

use std::time::Duration;

use serde_json::Value;

use super::reply::{self as wire, Decoded};
use crate::dialect::stream::{Acc, TimedFrame, preview};
use crate::dialect::wire::header;
use crate::neutral::{ProviderError, ToolCall};

const MARKER: &str = "`response.completed`, `response.incomplete` or `response.failed`";

/// Decodes the frames into `acc`; returns the terminal marker's name.
pub(crate) fn decode(acc: &mut Acc, frames: &[TimedFrame]) -> &'static str {
    acc.reply.request_id = header(&acc.reply.headers, "x-request-id").map(str::to_string);
    let mut st = State::default();
    for (i, tf) in frames.iter().enumerate() {
        acc.arrived(tf.at);
        let name = tf.frame.event();
        let data = tf.frame.text();
        if data.trim() == "[DONE]" {
            acc.kind("[DONE]");
            acc.raw.push(Value::String(data.to_string()));
            if !acc.after_terminal(i, "[DONE]", MARKER) {
                acc.violation(
                    i,
                    "[DONE]",
                    format!("`[DONE]` is not part of a Responses stream (it ends with {MARKER})"),
                );
            }
            continue;
        }
        let Some(v) = acc.parse(i, name.unwrap_or(""), data) else {
            continue;
        };
        let ty = match v.get("type").and_then(Value::as_str) {
            Some(t) => t.to_string(),
            None => {
                let ty = name.unwrap_or("").to_string();
                acc.check(i, &ty, |c| c.string(&v, "", "type"));
                ty
            }
        };
        if !ty.is_empty() {
            acc.kind(&ty);
        }
        if let Some(n) = name
            && n != ty
        {
            acc.violation(
                i,
                &ty,
                format!("the SSE event name {n:?} does not match data.type {ty:?}"),
            );
        }
        if !acc.after_terminal(i, &ty, MARKER) {
            st.event(acc, i, tf.at, &ty, &v);
        }
        acc.raw.push(v);
    }
    st.finish(acc);
    MARKER
}

/// One content part of a message item, assembled from its deltas.
#[derive(Debug, Default)]
struct Part {
    kind: String,
    text: String,
    /// Its `*.done` (text or refusal) arrived.
    text_done: bool,
    /// Its `response.content_part.done` arrived.
    done: bool,
}

/// One output item, as announced by `response.output_item.added`.
#[derive(Debug, Default)]
struct Item {
    kind: String,
    id: Option<String>,
    /// A function call's `call_id` and `name`.
    call_id: Option<String>,
    name: String,
    parts: Vec<Part>,
    /// A function call's arguments, from its deltas.
    args: String,
    done: bool,
}

#[derive(Default)]
struct State {
    /// The last `sequence_number` and the event that carried it.
    last_seq: Option<(u64, usize)>,
    seq_reported: bool,
    /// The first event's type was checked (the stream must open with `response.created`).
    opened: bool,
    /// The response id `response.created` gave.
    id: Option<String>,
    items: Vec<Item>,
    /// The terminal event's index and type, and its decoded `response`.
    terminal: Option<(usize, String, Decoded)>,
}

impl State {
    fn event(&mut self, acc: &mut Acc, i: usize, at: Duration, ty: &str, v: &Value) {
        self.sequence(acc, i, ty, v);
        if !self.opened {
            self.opened = true;
            if ty != "response.created" && ty != "error" {
                acc.violation(i, ty, "the stream must open with `response.created`".into());
            }
        } else if ty == "response.created" {
            acc.violation(i, ty, "`response.created` after the stream opened".into());
        }
        match ty {
            "response.created" | "response.in_progress" | "response.queued" => {
                self.lifecycle(acc, i, ty, v)
            }
            "response.output_item.added" => self.item_added(acc, i, ty, v),
            "response.content_part.added" => self.part_added(acc, i, ty, v),
            "response.output_text.delta" | "response.refusal.delta" => {
                self.text_delta(acc, i, at, ty, v)
            }
            "response.output_text.done" | "response.refusal.done" => self.text_done(acc, i, ty, v),
            "response.content_part.done" => self.part_done(acc, i, ty, v),
            "response.function_call_arguments.delta" => self.args_delta(acc, i, at, ty, v),
            "response.function_call_arguments.done" => self.args_done(acc, i, ty, v),
            "response.output_item.done" => self.item_done(acc, i, ty, v),
            "response.completed" | "response.incomplete" | "response.failed" => {
                self.terminal_event(acc, i, ty, v)
            }
            "error" => {
                let err = acc.check(i, ty, |c| ProviderError {
                    kind: None,
                    code: c.string_or_null(v, "", "code").map(str::to_string),
                    param: c.string_or_null(v, "", "param").map(str::to_string),
                    message: c.string(v, "", "message").unwrap_or_default().to_string(),
                });
                acc.mid_stream_error(i, err);
            }
            // Reasoning, built-in tool and audio events: documented, nothing to assemble.
            t if t.starts_with("response.") => {}
            t => acc.violation(i, ty, format!("undocumented event type {t:?}")),
        }
    }

    /// `sequence_number` is required and increases from one event to the next; a breach is
    /// reported once, at its first occurrence.
    fn sequence(&mut self, acc: &mut Acc, i: usize, ty: &str, v: &Value) {
        let Some(n) = acc.check(i, ty, |c| c.uint(v, "", "sequence_number")) else {
            return;
        };
        if let Some((prev, at)) = self.last_seq
            && n <= prev
            && !self.seq_reported
        {
            self.seq_reported = true;
            acc.violation(
                i,
                ty,
                format!("`sequence_number` {n} does not increase (event {at} had {prev})"),
            );
        }
        self.last_seq = Some((n, i));
    }

    fn lifecycle(&mut self, acc: &mut Acc, i: usize, ty: &str, v: &Value) {
        let d = acc.check(i, ty, |c| {
            let r = c.object(v, "", "response")?;
            Some(wire::response(r, "response", c))
        });
        let Some(d) = d else { return };
        if let Some(s) = d.status.as_deref()
            && !matches!(s, "in_progress" | "queued")
        {
            acc.violation(
                i,
                ty,
                format!("`response.status` is {s:?} before the terminal event (expected \"in_progress\" or \"queued\")"),
            );
        }
        if self.id.is_none() {
            self.id = d.id;
        }
    }

    fn item_added(&mut self, acc: &mut Acc, i: usize, ty: &str, v: &Value) {
        let (idx, item) = acc.check(i, ty, |c| {
            (c.uint(v, "", "output_index"), c.object(v, "", "item"))
        });
        let Some(item) = item else { return };
        let kind = acc.check(i, ty, |c| {
            c.string(item, "item", "type").map(str::to_string)
        });
        if let Some(idx) = idx
            && idx != self.items.len() as u64
        {
            acc.violation(
                i,
                ty,
                format!(
                    "`output_index` is {idx} but {} item(s) were announced before (expected {})",
                    self.items.len(),
                    self.items.len()
                ),
            );
        }
        let s = |f: &str| item.get(f).and_then(Value::as_str).map(str::to_string);
        self.items.push(Item {
            kind: kind.unwrap_or_default(),
            id: s("id"),
            call_id: s("call_id"),
            name: s("name").unwrap_or_default(),
            ..Item::default()
        });
    }

    /// The item event `i` names by `output_index` (and `item_id`, where the event has one):
    /// it must have been announced by `response.output_item.added`.
    fn item(
        &mut self,
        acc: &mut Acc,
        i: usize,
        ty: &str,
        v: &Value,
        with_id: bool,
    ) -> Option<usize> {
        let (idx, id) = acc.check(i, ty, |c| {
            let idx = c.uint(v, "", "output_index");
            let id = if with_id {
                c.string(v, "", "item_id")
            } else {
                None
            };
            (idx, id)
        });
        let idx = idx? as usize;
        let Some(item) = self.items.get(idx) else {
            acc.violation(
                i,
                ty,
                format!(
                    "`output_index` {idx} names no item announced by `response.output_item.added`"
                ),
            );
            return None;
        };
        if let (Some(id), Some(known)) = (id, item.id.as_deref())
            && id != known
        {
            acc.violation(
                i,
                ty,
                format!("`item_id` {id:?} is not the id of output item {idx} ({known:?})"),
            );
        }
        Some(idx)
    }

    /// The content part event `i` names: its item, then `content_index` among the parts
    /// announced by `response.content_part.added`.
    fn part(&mut self, acc: &mut Acc, i: usize, ty: &str, v: &Value) -> Option<(usize, usize)> {
        let idx = self.item(acc, i, ty, v, true)?;
        let k = acc.check(i, ty, |c| c.uint(v, "", "content_index"))? as usize;
        if k >= self.items[idx].parts.len() {
            acc.violation(
                i,
                ty,
                format!("`content_index` {k} of output item {idx} names no part announced by `response.content_part.added`"),
            );
            return None;
        }
        Some((idx, k))
    }

    fn part_added(&mut self, acc: &mut Acc, i: usize, ty: &str, v: &Value) {
        let Some(idx) = self.item(acc, i, ty, v, true) else {
            return;
        };
        let (k, part) = acc.check(i, ty, |c| {
            let k = c.uint(v, "", "content_index");
            let part = c
                .object(v, "", "part")
                .and_then(|p| wire::content_part(p, "part", c));
            (k, part)
        });
        let parts = &mut self.items[idx].parts;
        if let Some(k) = k
            && k != parts.len() as u64
        {
            acc.violation(
                i,
                ty,
                format!(
                    "`content_index` is {k} but output item {idx} announced {} part(s) before",
                    parts.len()
                ),
            );
        }
        parts.push(Part {
            kind: part.map(|p| p.0).unwrap_or_default(),
            ..Part::default()
        });
    }

    fn text_delta(&mut self, acc: &mut Acc, i: usize, at: Duration, ty: &str, v: &Value) {
        let delta = acc.check(i, ty, |c| c.string(v, "", "delta").map(str::to_string));
        let Some((idx, k)) = self.part(acc, i, ty, v) else {
            return;
        };
        let part = &mut self.items[idx].parts[k];
        if part.text_done || part.done {
            acc.violation(
                i,
                ty,
                format!("a delta for part {k} of output item {idx} after that part was done"),
            );
        }
        if let Some(d) = delta {
            if !d.is_empty() {
                acc.content(at);
            }
            part.text.push_str(&d);
        }
    }

    fn text_done(&mut self, acc: &mut Acc, i: usize, ty: &str, v: &Value) {
        let field = if ty == "response.refusal.done" {
            "refusal"
        } else {
            "text"
        };
        let full = acc.check(i, ty, |c| c.string(v, "", field).map(str::to_string));
        let Some((idx, k)) = self.part(acc, i, ty, v) else {
            return;
        };
        let part = &mut self.items[idx].parts[k];
        part.text_done = true;
        if let Some(full) = full
            && full != part.text
        {
            acc.violation(
                i,
                ty,
                format!(
                    "`{field}` {:?} disagrees with the deltas of part {k} of output item {idx} ({:?})",
                    preview(&full),
                    preview(&part.text)
                ),
            );
        }
    }

    fn part_done(&mut self, acc: &mut Acc, i: usize, ty: &str, v: &Value) {
        let part = acc.check(i, ty, |c| {
            c.object(v, "", "part")
                .and_then(|p| wire::content_part(p, "part", c))
        });
        let Some((idx, k)) = self.part(acc, i, ty, v) else {
            return;
        };
        let mine = &mut self.items[idx].parts[k];
        mine.done = true;
        if let Some((_, text)) = part
            && text != mine.text
        {
            acc.violation(
                i,
                ty,
                format!(
                    "`part` text {:?} disagrees with the deltas of part {k} of output item {idx} ({:?})",
                    preview(&text),
                    preview(&mine.text)
                ),
            );
        }
    }

    fn args_delta(&mut self, acc: &mut Acc, i: usize, at: Duration, ty: &str, v: &Value) {
        let delta = acc.check(i, ty, |c| c.string(v, "", "delta").map(str::to_string));
        let Some(idx) = self.item(acc, i, ty, v, true) else {
            return;
        };
        let item = &mut self.items[idx];
        if item.kind != "function_call" || item.done {
            acc.violation(
                i,
                ty,
                format!("arguments for output item {idx}, which is not an open `function_call`"),
            );
        }
        if let Some(d) = delta {
            if !d.is_empty() {
                acc.content(at);
            }
            item.args.push_str(&d);
        }
    }

    fn args_done(&mut self, acc: &mut Acc, i: usize, ty: &str, v: &Value) {
        let args = acc.check(i, ty, |c| {
            c.string(v, "", "name");
            c.string(v, "", "arguments").map(str::to_string)
        });
        let Some(idx) = self.item(acc, i, ty, v, true) else {
            return;
        };
        let item = &self.items[idx];
        if let Some(args) = args
            && args != item.args
        {
            acc.violation(
                i,
                ty,
                format!(
                    "`arguments` {:?} disagrees with the deltas of output item {idx} ({:?})",
                    preview(&args),
                    preview(&item.args)
                ),
            );
        }
    }

    fn item_done(&mut self, acc: &mut Acc, i: usize, ty: &str, v: &Value) {
        let item = acc.check(i, ty, |c| c.object(v, "", "item").cloned());
        let Some(idx) = self.item(acc, i, ty, v, false) else {
            return;
        };
        self.items[idx].done = true;
        if let Some(item) = item {
            let mut d = Decoded::default();
            acc.check(i, ty, |c| wire::output_item(&item, "item", &mut d, c));
            if let Some(msg) = self.disagreement(idx, d.items.first(), "`item`") {
                acc.violation(i, ty, msg);
            }
        }
    }

    fn terminal_event(&mut self, acc: &mut Acc, i: usize, ty: &str, v: &Value) {
        acc.terminal(i);
        let d = acc.check(i, ty, |c| {
            let r = c.object(v, "", "response")?;
            Some(wire::response(r, "response", c))
        });
        let Some(d) = d else { return };
        let want = ty.trim_start_matches("response.");
        if let Some(s) = d.status.as_deref()
            && s != want
        {
            acc.violation(
                i,
                ty,
                format!("`response.status` is {s:?} in a `{ty}` event (expected {want:?})"),
            );
        }
        if let (Some(first), Some(id)) = (&self.id, &d.id)
            && first != id
        {
            acc.violation(
                i,
                ty,
                format!("`response.id` {id:?} is not the id `response.created` gave ({first:?})"),
            );
        }
        if ty == "response.failed" && acc.error_at.is_none() {
            let err = d.error.clone().unwrap_or_else(|| ProviderError {
                message: "the response failed".into(),
                ..ProviderError::default()
            });
            acc.mid_stream_error(i, err);
        }
        self.terminal = Some((i, ty.to_string(), d));
    }

    /// How the final form of output item `idx` (from `response.output_item.done` or the
    /// terminal `response`) disagrees with what its deltas assembled, if it does.
    fn disagreement(&self, idx: usize, fin: Option<&wire::Item>, what: &str) -> Option<String> {
        let mine = &self.items[idx];
        let fin = fin?;
        if fin.kind != mine.kind {
            return Some(format!(
                "{what} is a {:?} but output item {idx} was announced as a {:?}",
                fin.kind, mine.kind
            ));
        }
        if mine.kind == "function_call" {
            let args = fin.arguments.as_deref().unwrap_or("");
            return (args != mine.args).then(|| {
                format!(
                    "{what} has arguments {:?} but the deltas of output item {idx} gave {:?}",
                    preview(args),
                    preview(&mine.args)
                )
            });
        }
        let assembled: Vec<(&str, &str)> = mine
            .parts
            .iter()
            .map(|p| (p.kind.as_str(), p.text.as_str()))
            .collect();
        let given: Vec<(&str, &str)> = fin
            .parts
            .iter()
            .map(|(k, t)| (k.as_str(), t.as_str()))
            .collect();
        (mine.kind == "message" && assembled != given).then(|| {
            format!(
                "{what} has content {:?} but the deltas of output item {idx} gave {:?}",
                preview(&format!("{given:?}")),
                preview(&format!("{assembled:?}"))
            )
        })
    }

    fn finish(self, acc: &mut Acc) {
        let mut text = String::new();
        let mut refused = false;
        let mut calls = Vec::new();
        for item in &self.items {
            for p in &item.parts {
                if p.kind == "refusal" {
                    refused = true;
                } else {
                    text.push_str(&p.text);
                }
            }
            if item.kind == "function_call" {
                calls.push(ToolCall {
                    id: item.call_id.clone(),
                    name: item.name.clone(),
                    arguments: serde_json::from_str(&item.args).ok(),
                    arguments_raw: item.args.clone(),
                });
            }
        }
        let Some((at, ty, d)) = &self.terminal else {
            acc.reply.text = text;
            acc.reply.tool_calls = calls;
            return;
        };
        if acc.complete() {
            self.agreement(acc, *at, ty, d);
        }
        let Some((_, _, d)) = self.terminal else {
            return;
        };
        let streamed = Decoded {
            text,
            refused,
            tool_calls: calls,
            ..d
        };
        streamed.apply(&mut acc.reply);
    }

    /// The terminal `response` must agree with the stream: every announced item done, the
    /// same number of output items, each with the content its deltas assembled.
    fn agreement(&self, acc: &mut Acc, at: usize, ty: &str, d: &Decoded) {
        for (idx, item) in self.items.iter().enumerate() {
            if !item.done {
                acc.violation(
                    at,
                    ty,
                    format!("output item {idx} never got `response.output_item.done`"),
                );
            }
        }
        if d.items.len() != self.items.len() {
            acc.violation(
                at,
                ty,
                format!(
                    "`response.output` has {} item(s) but the stream announced {}",
                    d.items.len(),
                    self.items.len()
                ),
            );
            return;
        }
        for idx in 0..self.items.len() {
            let what = format!("`response.output[{idx}]`");
            if let Some(msg) = self.disagreement(idx, d.items.get(idx), &what) {
                acc.violation(at, ty, msg);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;
    use crate::dialect::DialectKind;
    use crate::dialect::stream::StreamEnd;
    use crate::dialect::stream::testing::{
        assert_only, assert_same_reply, decode, decode_chunked, sse,
    };
    use crate::neutral::{FinishReason, Reply};

    type Ev = (String, Value);

    fn resp(status: &str, output: Value, usage: Value) -> Value {
        let details = match status {
            "incomplete" => json!({"reason": "max_output_tokens"}),
            _ => Value::Null,
        };
        json!({"id": "resp_1", "object": "response", "created_at": 1741476542, "status": status,
            "error": null, "incomplete_details": details, "model": "gpt-4o-mini", "output": output, "usage": usage})
    }

    fn ev(ty: &str, mut data: Value) -> Ev {
        data["type"] = json!(ty);
        (ty.to_string(), data)
    }

    fn text_part(text: &str) -> Value {
        json!({"type": "output_text", "text": text, "annotations": []})
    }

    fn message(text: &str, status: &str) -> Value {
        let content = if status == "in_progress" {
            json!([])
        } else {
            json!([text_part(text)])
        };
        json!({"type": "message", "id": "msg_1", "status": status, "role": "assistant", "content": content})
    }

    fn usage(output: u64) -> Value {
        json!({"input_tokens": 9, "output_tokens": output, "total_tokens": 9 + output})
    }

    fn text_stream() -> Vec<Ev> {
        let at = |d: Value| {
            let mut base = json!({"item_id": "msg_1", "output_index": 0, "content_index": 0});
            base.as_object_mut()
                .unwrap()
                .extend(d.as_object().unwrap().clone());
            base
        };
        vec![
            ev(
                "response.created",
                json!({"response": resp("in_progress", json!([]), Value::Null)}),
            ),
            ev(
                "response.in_progress",
                json!({"response": resp("in_progress", json!([]), Value::Null)}),
            ),
            ev(
                "response.output_item.added",
                json!({"output_index": 0, "item": message("", "in_progress")}),
            ),
            ev(
                "response.content_part.added",
                at(json!({"part": text_part("")})),
            ),
            ev(
                "response.output_text.delta",
                at(json!({"delta": "Hel", "logprobs": []})),
            ),
            ev(
                "response.output_text.delta",
                at(json!({"delta": "lo", "logprobs": []})),
            ),
            ev(
                "response.output_text.done",
                at(json!({"text": "Hello", "logprobs": []})),
            ),
            ev(
                "response.content_part.done",
                at(json!({"part": text_part("Hello")})),
            ),
            ev(
                "response.output_item.done",
                json!({"output_index": 0, "item": message("Hello", "completed")}),
            ),
            ev(
                "response.completed",
                json!({"response": resp("completed", json!([message("Hello", "completed")]), usage(2))}),
            ),
        ]
    }

    fn call_item(args: &str, status: &str) -> Value {
        json!({"type": "function_call", "id": "fc_1", "call_id": "call_1", "name": "get_weather",
            "arguments": args, "status": status})
    }

    fn tool_stream() -> Vec<Ev> {
        let at = |d: Value| {
            let mut base = json!({"item_id": "fc_1", "output_index": 0});
            base.as_object_mut()
                .unwrap()
                .extend(d.as_object().unwrap().clone());
            base
        };
        let args = r#"{"city":"Paris"}"#;
        vec![
            ev(
                "response.created",
                json!({"response": resp("in_progress", json!([]), Value::Null)}),
            ),
            ev(
                "response.output_item.added",
                json!({"output_index": 0, "item": call_item("", "in_progress")}),
            ),
            ev(
                "response.function_call_arguments.delta",
                at(json!({"delta": "{\"city\":"})),
            ),
            ev(
                "response.function_call_arguments.delta",
                at(json!({"delta": "\"Paris\"}"})),
            ),
            ev(
                "response.function_call_arguments.done",
                at(json!({"name": "get_weather", "arguments": args})),
            ),
            ev(
                "response.output_item.done",
                json!({"output_index": 0, "item": call_item(args, "completed")}),
            ),
            ev(
                "response.completed",
                json!({"response": resp("completed", json!([call_item(args, "completed")]), usage(9))}),
            ),
        ]
    }

    /// Numbers the events 0, 1, 2, ... and decodes them.
    fn run(events: &[Ev], end: StreamEnd) -> Reply {
        let numbered: Vec<Ev> = events
            .iter()
            .enumerate()
            .map(|(n, (ty, d))| {
                let mut d = d.clone();
                if d.get("sequence_number").is_none() {
                    d["sequence_number"] = json!(n);
                }
                (ty.clone(), d)
            })
            .collect();
        run_raw(&numbered, end)
    }

    fn run_raw(events: &[Ev], end: StreamEnd) -> Reply {
        let data: Vec<String> = events.iter().map(|(_, d)| d.to_string()).collect();
        let frames: Vec<(Option<&str>, &str)> = events
            .iter()
            .zip(&data)
            .map(|((ty, _), d)| (Some(ty.as_str()), d.as_str()))
            .collect();
        decode(
            DialectKind::OpenaiResponses,
            200,
            &[("x-request-id".into(), "req_1".into())],
            &sse(&frames),
            &end,
        )
    }

    #[test]
    fn text_stream_assembles_like_the_plain_reply() {
        let r = run(&text_stream(), StreamEnd::Clean);
        assert!(r.violations.is_empty(), "{:?}", r.violations);
        let body = resp(
            "completed",
            json!([message("Hello", "completed")]),
            usage(2),
        );
        let plain = DialectKind::OpenaiResponses.decode(
            200,
            &[("x-request-id".into(), "req_1".into())],
            body.to_string().as_bytes(),
        );
        assert_same_reply(&r, &plain);
        let info = r.stream.unwrap();
        assert_eq!(info.events, 10);
        assert!(info.terminated);
        assert_eq!(info.time_to_first_token, Some(Duration::from_millis(5)));
        assert_eq!(info.event_types[0], "response.created");
    }

    #[test]
    fn function_call_arguments_are_assembled() {
        let r = run(&tool_stream(), StreamEnd::Clean);
        assert!(r.violations.is_empty(), "{:?}", r.violations);
        assert_eq!(r.finish_reason, Some(FinishReason::ToolCalls));
        assert_eq!(r.tool_calls.len(), 1);
        assert_eq!(r.tool_calls[0].id.as_deref(), Some("call_1"));
        assert_eq!(r.tool_calls[0].name, "get_weather");
        assert_eq!(r.tool_calls[0].arguments, Some(json!({"city": "Paris"})));
    }

    #[test]
    fn missing_terminal_event() {
        let mut events = text_stream();
        events.pop();
        assert_only(
            &run(&events, StreamEnd::Clean),
            "stream ended without the terminal marker after 9 events (expected `response.completed`, `response.incomplete` or `response.failed`)",
        );
        let r = run(&events[..4], StreamEnd::Cut("reset".into()));
        assert_only(
            &r,
            "connection closed before the terminal marker after 4 events: reset",
        );
    }

    #[test]
    fn a_second_terminal_event() {
        let mut events = text_stream();
        let last = events.last().unwrap().clone();
        events.push(last);
        assert_only(
            &run(&events, StreamEnd::Clean),
            "event 10 (response.completed): received after the terminal marker `response.completed`, `response.incomplete` or `response.failed` (event 9)",
        );
    }

    #[test]
    fn sequence_numbers_going_back() {
        let mut events = text_stream();
        events[5].1["sequence_number"] = json!(3);
        assert_only(
            &run(&events, StreamEnd::Clean),
            "event 5 (response.output_text.delta): `sequence_number` 3 does not increase (event 4 had 4)",
        );
        let events = text_stream();
        let r = run_raw(
            &events
                .into_iter()
                .map(|(t, mut d)| {
                    d.as_object_mut().unwrap().remove("sequence_number");
                    (t, d)
                })
                .collect::<Vec<_>>(),
            StreamEnd::Clean,
        );
        assert!(
            r.violations
                .iter()
                .all(|v| v.ends_with("`sequence_number` is missing (required integer)")),
            "{:?}",
            r.violations
        );
        assert_eq!(r.text, "Hello");
    }

    #[test]
    fn a_delta_for_an_item_or_part_never_added() {
        let mut events = text_stream();
        events[4].1["output_index"] = json!(1);
        let r = run(&events, StreamEnd::Clean);
        assert_eq!(
            r.violations[0],
            "event 4 (response.output_text.delta): `output_index` 1 names no item announced by `response.output_item.added`"
        );
        let mut events = text_stream();
        events.remove(3);
        let r = run(&events, StreamEnd::Clean);
        assert_eq!(
            r.violations[0],
            "event 3 (response.output_text.delta): `content_index` 0 of output item 0 names no part announced by `response.content_part.added`"
        );
    }

    #[test]
    fn indexes_that_skip_or_wrong_item_ids() {
        let mut events = text_stream();
        events[2].1["output_index"] = json!(1);
        let r = run(&events, StreamEnd::Clean);
        assert_eq!(
            r.violations[0],
            "event 2 (response.output_item.added): `output_index` is 1 but 0 item(s) were announced before (expected 0)"
        );
        let mut events = text_stream();
        events[5].1["item_id"] = json!("msg_other");
        assert_only(
            &run(&events, StreamEnd::Clean),
            "event 5 (response.output_text.delta): `item_id` \"msg_other\" is not the id of output item 0 (\"msg_1\")",
        );
    }

    #[test]
    fn the_final_response_must_agree_with_the_deltas() {
        let mut events = text_stream();
        events[9].1["response"]["output"] = json!([message("Goodbye", "completed")]);
        assert_only(
            &run(&events, StreamEnd::Clean),
            "event 9 (response.completed): `response.output[0]` has content \"[(\\\"output_text\\\", \\\"Goodbye\\\")]\" but the deltas of output item 0 gave \"[(\\\"output_text\\\", \\\"Hello\\\")]\"",
        );
        let mut events = text_stream();
        events[6].1["text"] = json!("Help");
        assert_only(
            &run(&events, StreamEnd::Clean),
            "event 6 (response.output_text.done): `text` \"Help\" disagrees with the deltas of part 0 of output item 0 (\"Hello\")",
        );
        let mut events = text_stream();
        events[9].1["response"]["output"] = json!([]);
        assert_only(
            &run(&events, StreamEnd::Clean),
            "event 9 (response.completed): `response.output` has 0 item(s) but the stream announced 1",
        );
        let mut events = text_stream();
        events.remove(8);
        assert_only(
            &run(&events, StreamEnd::Clean),
            "event 8 (response.completed): output item 0 never got `response.output_item.done`",
        );
    }

    #[test]
    fn the_stream_must_open_with_response_created_and_statuses_match_events() {
        let events = text_stream();
        let r = run(&events[2..], StreamEnd::Clean);
        assert_eq!(
            r.violations[0],
            "event 0 (response.output_item.added): the stream must open with `response.created`"
        );
        let mut events = text_stream();
        events[9] = ev(
            "response.completed",
            json!({"response": resp("incomplete", json!([message("Hello", "completed")]), usage(2))}),
        );
        assert_only(
            &run(&events, StreamEnd::Clean),
            "event 9 (response.completed): `response.status` is \"incomplete\" in a `response.completed` event (expected \"completed\")",
        );
    }

    #[test]
    fn an_incomplete_stream_is_length() {
        let mut events = text_stream();
        events[9] = ev(
            "response.incomplete",
            json!({"response": resp("incomplete", json!([message("Hello", "incomplete")]), usage(16))}),
        );
        let r = run(&events, StreamEnd::Clean);
        assert!(r.violations.is_empty(), "{:?}", r.violations);
        assert_eq!(r.finish_reason, Some(FinishReason::Length));
        assert_eq!(r.usage.unwrap().output_tokens, Some(16));
    }

    #[test]
    fn error_event_and_failed_response() {
        let mut events = text_stream()[..6].to_vec();
        events.push(ev(
            "error",
            json!({"code": "server_error", "message": "The server had an error.", "param": null}),
        ));
        let r = run(&events, StreamEnd::Clean);
        assert_only(&r, "mid-stream error at event 6: The server had an error.");
        assert_eq!(r.error.unwrap().code.as_deref(), Some("server_error"));
        let mut events = text_stream()[..6].to_vec();
        let mut failed = resp("failed", json!([]), Value::Null);
        failed["error"] = json!({"code": "server_error", "message": "boom"});
        events.push(ev("response.failed", json!({"response": failed})));
        let r = run(&events, StreamEnd::Clean);
        assert_only(&r, "mid-stream error at event 6: boom");
        assert!(r.stream.unwrap().terminated);
    }

    #[test]
    fn done_sentinel_and_event_name_mismatch() {
        let mut events = text_stream();
        events.push(("message".into(), json!({})));
        let data: Vec<String> = events
            .iter()
            .enumerate()
            .map(|(n, (_, d))| {
                let mut d = d.clone();
                d["sequence_number"] = json!(n);
                d.to_string()
            })
            .collect();
        let mut frames: Vec<(Option<&str>, &str)> = events
            .iter()
            .zip(&data)
            .map(|((ty, _), d)| (Some(ty.as_str()), d.as_str()))
            .collect();
        frames[10] = (None, "[DONE]");
        frames[3].0 = Some("response.output_text.delta");
        let r = decode(
            DialectKind::OpenaiResponses,
            200,
            &[],
            &sse(&frames),
            &StreamEnd::Clean,
        );
        assert_eq!(
            r.violations,
            vec![
                "event 3 (response.content_part.added): the SSE event name \"response.output_text.delta\" does not match data.type \"response.content_part.added\"",
                "event 10 ([DONE]): received after the terminal marker `response.completed`, `response.incomplete` or `response.failed` (event 9)",
            ]
        );
    }

    #[test]
    fn framing_end_to_end() {
        let body: String = text_stream()
            .iter()
            .enumerate()
            .map(|(n, (ty, d))| {
                let mut d = d.clone();
                d["sequence_number"] = json!(n);
                format!("event: {ty}\ndata: {d}\n\n")
            })
            .collect();
        let r = decode_chunked(DialectKind::OpenaiResponses, body.as_bytes(), 7);
        assert!(r.violations.is_empty(), "{:?}", r.violations);
        assert_eq!(r.text, "Hello");
        assert_eq!(r.stream.unwrap().events, 10);
    }
}

//! Streamed replies: framing a body into events as bytes arrive ([`read_frames`]), then
//! assembling those events into the same neutral [`Reply`] the non-streamed path gives, with
//! the stream's shape in [`Reply::stream`] and every breach of the dialect's stream contract in
//! [`Reply::violations`] ([`decode_stream`](crate::dialect::decode_stream)). Both halves are pure: no HTTP, no suites.
//!
//! Conventions every dialect follows, so violations and counts line up with recordings:
//! - **Event numbers** are 0-based indexes into the frames, the same index as
//!   `stream.events[N]` in a recording. A violation about one event starts with
//!   `event N (type): `, or `event N: ` when the event's type can't be told (its data is not
//!   JSON). The type is Anthropic's event name, or for OpenAI `chunk` / `usage` / `error` /
//!   `done`, for Ollama `chunk` / `done` / `error`.
//! - **`StreamInfo::events`** counts every frame: every SSE event (the `[DONE]` sentinel and
//!   `ping`s included) or every non-blank NDJSON line. SSE comments (keep-alives) and blank
//!   lines never become frames.
//! - **Only the root cause is reported.** A stream that ends early gets one violation saying
//!   so, not also "no finish_reason" and "no usage"; a check that repeats on every event (a
//!   missing field, events after the terminal marker) is reported at its first occurrence.
//! - **A mid-stream error ends the stream** as far as the contract goes: it is reported (and
//!   decoded into [`Reply::error`]), and the terminal marker is then not also demanded.
//! - A read error after the terminal marker is not a violation: clients stop reading there.

mod framing;

use std::collections::HashSet;
use std::fmt::Display;
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures_util::Stream;
use serde_json::Value;

use super::json::Check;
use super::wire::DialectKind;
use crate::neutral::{ProviderError, Reply, StreamInfo};

/// One unit of a streamed body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Frame {
    /// An SSE event: `event:` name if any, and its `data:` (multi-line data joined with '\n').
    /// The SSE default name `message` is reported as `None`: the SSE spec makes an explicit
    /// `event: message` and no `event:` line the same thing, and eventsource-stream can't tell
    /// them apart.
    Sse {
        /// The `event:` name.
        event: Option<String>,
        /// The `data:` payload.
        data: String,
    },
    /// One NDJSON line (without the newline and any trailing `\r`). For an SSE dialect,
    /// [`read_frames`] also gives the whole body as one `Line` when it is not an SSE stream at
    /// all (a JSON error body, an HTML error page, a JSON reply to a streaming request).
    Line(String),
}

impl Frame {
    /// The frame's payload: an SSE event's data or the line.
    pub fn text(&self) -> &str {
        match self {
            Frame::Sse { data, .. } => data,
            Frame::Line(line) => line,
        }
    }

    /// The SSE `event:` name, if any.
    pub fn event(&self) -> Option<&str> {
        match self {
            Frame::Sse { event, .. } => event.as_deref(),
            Frame::Line(_) => None,
        }
    }
}

/// A frame and when it arrived.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimedFrame {
    /// Offset from sending the request.
    pub at: Duration,
    /// The frame.
    pub frame: Frame,
}

/// How the body ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StreamEnd {
    /// The body completed.
    Clean,
    /// The connection broke or a read failed (also: the SSE body was not valid UTF-8), with
    /// the error text.
    Cut(String),
}

/// What the request asked for that the stream contract depends on.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct StreamOptions {
    /// OpenAI: `stream_options.include_usage` was sent, so a usage chunk must precede `[DONE]`.
    pub usage_requested: bool,
}

/// Splits a body into frames as bytes arrive: SSE (via eventsource-stream) for openai and
/// anthropic, NDJSON lines for ollama. Records each frame's arrival offset from `started`.
///
/// For openai and anthropic the first bytes are sniffed: a body that does not start like SSE
/// (a field name such as `data:` or `event:`, or a `:` comment) is returned whole as one
/// [`Frame::Line`] instead of being fed to the SSE parser, which would silently drop it.
/// An NDJSON line cut by a broken connection is dropped (it is incomplete by definition); an
/// unterminated last line of a clean body is kept, as Ollama's own client does.
pub async fn read_frames<S, E>(
    dialect: DialectKind,
    body: S,
    started: Instant,
) -> (Vec<TimedFrame>, StreamEnd)
where
    S: Stream<Item = Result<Bytes, E>>,
    E: Display,
{
    match dialect {
        DialectKind::Openai | DialectKind::Anthropic | DialectKind::OpenaiResponses => {
            framing::sse(body, started).await
        }
        DialectKind::Ollama => framing::ndjson(body, started).await,
    }
}

/// The first 120 characters, for messages.
pub(crate) fn preview(s: &str) -> String {
    s.chars().take(120).collect()
}

/// What every dialect's decoder accumulates: the reply, the stream's shape, the violations
/// (deduplicated) and the contract state shared by all dialects (terminal marker, error).
pub(crate) struct Acc {
    pub(crate) reply: Reply,
    info: StreamInfo,
    prev_at: Option<Duration>,
    /// One item per frame, for `Reply::raw`.
    pub(crate) raw: Vec<Value>,
    /// Un-prefixed messages already reported, per event type: a breach that repeats on every
    /// event is reported once, at its first occurrence.
    seen: HashSet<(String, String)>,
    /// The index of the terminal marker, once it arrived.
    pub(crate) terminal_at: Option<usize>,
    /// The index of the first mid-stream error.
    pub(crate) error_at: Option<usize>,
    /// Whether an event after the terminal marker was already reported.
    late_reported: bool,
}

impl Acc {
    pub(crate) fn new(status: u16, headers: &[(String, String)]) -> Acc {
        Acc {
            reply: Reply {
                status,
                headers: headers.to_vec(),
                ..Reply::default()
            },
            info: StreamInfo::default(),
            prev_at: None,
            raw: Vec::new(),
            seen: HashSet::new(),
            terminal_at: None,
            error_at: None,
            late_reported: false,
        }
    }

    /// Notes a frame's arrival, for the gap between frames.
    pub(crate) fn arrived(&mut self, at: Duration) {
        if let Some(prev) = self.prev_at {
            self.info.max_gap = self.info.max_gap.max(at.saturating_sub(prev));
        }
        self.prev_at = Some(at);
    }

    /// Notes an event type, keeping the order of first appearance.
    pub(crate) fn kind(&mut self, ty: &str) {
        if !self.info.event_types.iter().any(|t| t == ty) {
            self.info.event_types.push(ty.to_string());
        }
    }

    /// Notes a frame that carries content, for the time to first token.
    pub(crate) fn content(&mut self, at: Duration) {
        self.info.time_to_first_token.get_or_insert(at);
    }

    /// Records a breach at event `i`, once per (type, message).
    pub(crate) fn violation(&mut self, i: usize, ty: &str, msg: String) {
        let prefix = if ty.is_empty() {
            format!("event {i}")
        } else {
            format!("event {i} ({ty})")
        };
        let line = format!("{prefix}: {msg}");
        if self.seen.insert((ty.to_string(), msg)) {
            self.reply.violations.push(line);
        }
    }

    /// Runs field checks on event `i`, recording what they find against the event.
    pub(crate) fn check<R>(
        &mut self,
        i: usize,
        ty: &str,
        f: impl FnOnce(&mut Check<'_>) -> R,
    ) -> R {
        let mut found = Vec::new();
        let r = f(&mut Check {
            violations: &mut found,
        });
        for msg in found {
            self.violation(i, ty, msg);
        }
        r
    }

    /// Parses event `i`'s data; on failure records the breach (and keeps the text in `raw`).
    pub(crate) fn parse(&mut self, i: usize, ty: &str, data: &str) -> Option<Value> {
        match serde_json::from_str::<Value>(data) {
            Ok(v) if v.is_object() => Some(v),
            Ok(v) => {
                self.violation(
                    i,
                    ty,
                    format!("data is not a JSON object: {:?}", preview(data)),
                );
                self.raw.push(v);
                None
            }
            Err(e) => {
                self.violation(
                    i,
                    ty,
                    format!("data is not JSON ({e}): {:?}", preview(data)),
                );
                self.raw.push(Value::String(data.to_string()));
                None
            }
        }
    }

    /// Records the terminal marker at `i`.
    pub(crate) fn terminal(&mut self, i: usize) {
        self.terminal_at.get_or_insert(i);
    }

    /// True (after recording it, once) when event `i` came after the terminal marker; the
    /// caller then ignores it, as clients stop reading at the marker.
    pub(crate) fn after_terminal(&mut self, i: usize, ty: &str, marker: &str) -> bool {
        let Some(t) = self.terminal_at else {
            return false;
        };
        if !self.late_reported {
            self.late_reported = true;
            self.violation(
                i,
                ty,
                format!("received after the terminal marker {marker} (event {t})"),
            );
        }
        true
    }

    /// Records a mid-stream error at `i`: into `Reply::error` (the first one wins) and as a
    /// violation.
    pub(crate) fn mid_stream_error(&mut self, i: usize, err: ProviderError) {
        let what = match &err.kind {
            Some(kind) => format!("{kind}: {}", err.message),
            None => err.message.clone(),
        };
        self.reply
            .violations
            .push(format!("mid-stream error at event {i}: {what}"));
        self.error_at.get_or_insert(i);
        self.reply.error.get_or_insert(err);
    }

    /// True when the stream reached its terminal marker with no error: only then are the
    /// checks on what a complete stream must have carried meaningful.
    pub(crate) fn complete(&self) -> bool {
        self.terminal_at.is_some() && self.error_at.is_none()
    }

    pub(crate) fn finish(mut self, events: usize, end: &StreamEnd, marker: &str) -> Reply {
        if self.terminal_at.is_none() && self.error_at.is_none() {
            self.reply.violations.push(match end {
                StreamEnd::Clean => format!(
                    "stream ended without the terminal marker after {events} events (expected {marker})"
                ),
                StreamEnd::Cut(e) => {
                    format!("connection closed before the terminal marker after {events} events: {e}")
                }
            });
        }
        self.info.events = events;
        self.info.terminated = self.terminal_at.is_some();
        self.reply.stream = Some(self.info);
        self.reply.raw = Value::Array(self.raw);
        self.reply
    }
}

#[cfg(test)]
pub(crate) mod testing {
    //! Builders shared by the dialects' unit tests.

    use super::*;

    /// SSE frames one millisecond apart.
    pub(crate) fn sse(events: &[(Option<&str>, &str)]) -> Vec<TimedFrame> {
        events
            .iter()
            .enumerate()
            .map(|(i, (event, data))| TimedFrame {
                at: Duration::from_millis(i as u64 + 1),
                frame: Frame::Sse {
                    event: event.map(str::to_string),
                    data: data.to_string(),
                },
            })
            .collect()
    }

    /// NDJSON frames one millisecond apart.
    pub(crate) fn lines(lines: &[&str]) -> Vec<TimedFrame> {
        lines
            .iter()
            .enumerate()
            .map(|(i, l)| TimedFrame {
                at: Duration::from_millis(i as u64 + 1),
                frame: Frame::Line(l.to_string()),
            })
            .collect()
    }

    /// Runs `read_frames` over `chunks` on a current-thread runtime.
    pub(crate) fn read(
        dialect: DialectKind,
        chunks: Vec<Result<Bytes, String>>,
    ) -> (Vec<TimedFrame>, StreamEnd) {
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("runtime");
        rt.block_on(read_frames(
            dialect,
            futures_util::stream::iter(chunks),
            Instant::now(),
        ))
    }

    /// Decodes `frames` as a reply of `status` with the default options.
    pub(crate) fn decode(
        dialect: DialectKind,
        status: u16,
        headers: &[(String, String)],
        frames: &[TimedFrame],
        end: &StreamEnd,
    ) -> Reply {
        crate::dialect::decode_stream(
            dialect,
            status,
            headers,
            frames,
            end,
            &StreamOptions::default(),
        )
    }

    /// Frames `body` from `chunk`-byte pieces and decodes it as a 200 reply, so a test covers
    /// framing and decoding end to end with frame boundaries falling mid-line.
    pub(crate) fn decode_chunked(dialect: DialectKind, body: &[u8], chunk: usize) -> Reply {
        let chunks = body
            .chunks(chunk)
            .map(|c| Ok(Bytes::copy_from_slice(c)))
            .collect();
        let (frames, end) = read(dialect, chunks);
        decode(dialect, 200, &[], &frames, &end)
    }

    /// Asserts the reply broke exactly one rule, `want`.
    pub(crate) fn assert_only(r: &Reply, want: &str) {
        assert_eq!(r.violations, vec![want.to_string()]);
    }

    /// Asserts the fields the streamed and the non-streamed decoders must agree on.
    pub(crate) fn assert_same_reply(streamed: &Reply, plain: &Reply) {
        assert!(plain.violations.is_empty(), "{:?}", plain.violations);
        assert_eq!(streamed.text, plain.text);
        assert_eq!(streamed.finish_reason, plain.finish_reason);
        assert_eq!(streamed.raw_finish_reason, plain.raw_finish_reason);
        assert_eq!(streamed.usage, plain.usage);
        assert_eq!(streamed.id, plain.id);
        assert_eq!(streamed.model, plain.model);
        assert_eq!(streamed.request_id, plain.request_id);
        // The non-streamed decoders don't assemble tool calls (yet); compare once they do.
        if !plain.tool_calls.is_empty() {
            assert_eq!(streamed.tool_calls, plain.tool_calls);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::testing::*;
    use super::*;

    #[test]
    fn non_2xx_is_decoded_as_the_plain_error_body() {
        let body = r#"{"error":{"message":"Rate limit reached","type":"tokens","param":null,"code":"rate_limit_exceeded"}}"#;
        let (frames, end) = read(DialectKind::Openai, vec![Ok(Bytes::from(body))]);
        assert_eq!(frames.len(), 1, "{frames:?}");
        let r = decode(DialectKind::Openai, 429, &[], &frames, &end);
        let plain = DialectKind::Openai.decode(429, &[], body.as_bytes());
        assert_eq!(r.error, plain.error);
        assert_eq!(r.violations, plain.violations);
        assert!(r.stream.is_none());
        assert_eq!(
            r.error.unwrap().code.as_deref(),
            Some("rate_limit_exceeded")
        );
    }

    #[test]
    fn non_2xx_ndjson_and_pretty_bodies_survive_framing() {
        let body = "{\n  \"error\": \"model 'x' not found\"\n}\n";
        let (frames, end) = read(DialectKind::Ollama, vec![Ok(Bytes::from(body))]);
        let r = decode(DialectKind::Ollama, 404, &[], &frames, &end);
        assert_eq!(r.error.unwrap().message, "model 'x' not found");
        let body = "{\"type\":\"error\",\n\"error\":{\"type\":\"overloaded_error\",\"message\":\"Overloaded\"}}";
        let (frames, end) = read(DialectKind::Anthropic, vec![Ok(Bytes::from(body))]);
        let r = decode(DialectKind::Anthropic, 529, &[], &frames, &end);
        assert!(r.violations.is_empty(), "{:?}", r.violations);
        assert_eq!(r.error.unwrap().kind.as_deref(), Some("overloaded_error"));
    }

    #[test]
    fn a_json_reply_to_a_stream_request_is_decoded_and_flagged() {
        let body = r#"{"id":"chatcmpl-1","object":"chat.completion","created":1,"model":"m","choices":[{"index":0,"message":{"role":"assistant","content":"Hi"},"finish_reason":"stop"}]}"#;
        let (frames, end) = read(DialectKind::Openai, vec![Ok(Bytes::from(body))]);
        let r = decode(DialectKind::Openai, 200, &[], &frames, &end);
        assert_eq!(r.text, "Hi");
        assert_eq!(r.violations.len(), 1, "{:?}", r.violations);
        assert!(r.violations[0].starts_with("the body is not an SSE stream: "));
        assert_eq!(r.stream.unwrap().events, 0);
    }

    #[test]
    fn sse_framing_keeps_names_multiline_data_and_drops_comments() {
        let body = ": keep-alive\n\nevent: ping\ndata: {\"type\":\"ping\"}\n\ndata: a\ndata: b\n\nevent: message\ndata: m\n\n";
        let (frames, end) = read(DialectKind::Anthropic, vec![Ok(Bytes::from(body))]);
        assert_eq!(end, StreamEnd::Clean);
        let got: Vec<(Option<&str>, &str)> = frames
            .iter()
            .map(|f| (f.frame.event(), f.frame.text()))
            .collect();
        assert_eq!(
            got,
            vec![
                (Some("ping"), "{\"type\":\"ping\"}"),
                (None, "a\nb"),
                (None, "m")
            ]
        );
    }

    #[test]
    fn sse_framing_reports_a_cut_and_drops_the_partial_event() {
        let (frames, end) = read(
            DialectKind::Openai,
            vec![
                Ok(Bytes::from("data: {\"a\":1}\n\ndata: {\"b\"")),
                Err("connection reset".to_string()),
            ],
        );
        assert_eq!(frames.len(), 1);
        assert_eq!(end, StreamEnd::Cut("connection reset".into()));
    }

    #[test]
    fn sse_sniffing_waits_for_enough_bytes() {
        for (head, complete, want) in [
            (&b""[..], false, None),
            (b"\r\n", false, None),
            (b"da", false, None),
            (b"da", true, Some(false)),
            (b"data", true, Some(true)),
            (b"data:", false, Some(true)),
            (b"\xEF\xBB\xBFevent: x", false, Some(true)),
            (b"\xEF\xBB", false, None),
            (b": hi", false, Some(true)),
            (b"{\"error\"", false, Some(false)),
            (b"<html>", false, Some(false)),
            (b"", true, Some(true)),
        ] {
            assert_eq!(framing::sniff(head, complete), want, "{head:?} {complete}");
        }
    }

    #[test]
    fn ndjson_framing_joins_split_lines_and_skips_blank_ones() {
        let (frames, end) = read(
            DialectKind::Ollama,
            vec![
                Ok(Bytes::from("{\"a\":")),
                Ok(Bytes::from("1}\r\n\n{\"b\":2}\n{\"c\"")),
                Ok(Bytes::from(":3}")),
            ],
        );
        assert_eq!(end, StreamEnd::Clean);
        let got: Vec<&str> = frames.iter().map(|f| f.frame.text()).collect();
        assert_eq!(got, vec!["{\"a\":1}", "{\"b\":2}", "{\"c\":3}"]);
        let (frames, end) = read(
            DialectKind::Ollama,
            vec![Ok(Bytes::from("{\"a\":1}\n{\"b\"")), Err("eof".into())],
        );
        assert_eq!(frames.len(), 1);
        assert_eq!(end, StreamEnd::Cut("eof".into()));
    }

    #[test]
    fn read_frames_can_be_spawned() {
        fn assert_send<T: Send>(_: T) {}
        for dialect in DialectKind::ALL {
            let body = futures_util::stream::iter(Vec::<Result<Bytes, std::io::Error>>::new());
            assert_send(read_frames(dialect, body, Instant::now()));
        }
    }

    #[test]
    fn timing_is_measured_between_frames() {
        let mut frames = lines(&["a", "b", "c"]);
        frames[2].at = Duration::from_millis(50);
        let r = decode(DialectKind::Ollama, 200, &[], &frames, &StreamEnd::Clean);
        let info = r.stream.unwrap();
        assert_eq!(info.max_gap, Duration::from_millis(48));
        assert_eq!(info.events, 3);
        assert!(!info.terminated);
    }
}

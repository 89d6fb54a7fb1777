//! Byte streams to frames: SSE through eventsource-stream, NDJSON by lines.

use std::fmt::Display;
use std::io::BufRead;
use std::pin::pin;
use std::time::Instant;

use bytes::Bytes;
use eventsource_stream::{EventStream, EventStreamError};
use futures_util::{Stream, StreamExt, stream};

use super::{Frame, StreamEnd, TimedFrame};

/// The SSE field names a stream can open with (besides a `:` comment).
const SSE_FIELDS: [&[u8]; 4] = [b"data", b"event", b"id", b"retry"];
const BOM: &[u8] = b"\xEF\xBB\xBF";

/// Whether a body starting with `head` is SSE; `None` while the bytes so far can't tell.
/// `complete` says no more bytes will come.
pub(super) fn sniff(head: &[u8], complete: bool) -> Option<bool> {
    if !complete && head.len() < BOM.len() && BOM.starts_with(head) && !head.is_empty() {
        return None;
    }
    let head = head.strip_prefix(BOM).unwrap_or(head);
    let Some(start) = head.iter().position(|b| !b.is_ascii_whitespace()) else {
        // Nothing but blank lines: SSE framing yields no events either way.
        return complete.then_some(true);
    };
    let rest = &head[start..];
    if rest[0] == b':' {
        return Some(true);
    }
    match rest.iter().position(|&b| matches!(b, b':' | b'\r' | b'\n')) {
        Some(end) => Some(SSE_FIELDS.contains(&&rest[..end])),
        None if complete => Some(SSE_FIELDS.contains(&rest)),
        None if SSE_FIELDS.iter().any(|f| f.starts_with(rest)) => None,
        None => Some(false),
    }
}

/// Frames an SSE body. The first bytes are sniffed (see [`sniff`]); a body that is not SSE is
/// returned whole as one [`Frame::Line`].
pub(super) async fn sse<S, E>(body: S, started: Instant) -> (Vec<TimedFrame>, StreamEnd)
where
    S: Stream<Item = Result<Bytes, E>>,
    E: Display,
{
    // Fused, so the SSE parser may poll it again after the sniffing loop saw its end.
    let body = pin!(body);
    let mut body = body.fuse();
    let mut head: Vec<u8> = Vec::new();
    let mut seen: Vec<Result<Bytes, E>> = Vec::new();
    let mut stopped = false;
    let is_sse = loop {
        match body.next().await {
            Some(Ok(chunk)) => {
                head.extend_from_slice(&chunk);
                seen.push(Ok(chunk));
                if let Some(is_sse) = sniff(&head, false) {
                    break is_sse;
                }
            }
            Some(Err(e)) => {
                seen.push(Err(e));
                stopped = true;
                break sniff(&head, true).unwrap_or(true);
            }
            None => {
                stopped = true;
                break sniff(&head, true).unwrap_or(true);
            }
        }
    };
    if !is_sse {
        return whole(head, seen, stopped, body, started).await;
    }
    let mut frames = Vec::new();
    let mut events = pin!(EventStream::new(stream::iter(seen).chain(body)));
    while let Some(item) = events.next().await {
        match item {
            Ok(ev) => {
                let event = if ev.event == "message" {
                    None
                } else {
                    Some(ev.event)
                };
                frames.push(TimedFrame {
                    at: started.elapsed(),
                    frame: Frame::Sse {
                        event,
                        data: ev.data,
                    },
                });
            }
            Err(EventStreamError::Transport(e)) => return (frames, StreamEnd::Cut(e.to_string())),
            Err(EventStreamError::Utf8(e)) => {
                return (
                    frames,
                    StreamEnd::Cut(format!("the SSE body is not valid UTF-8: {e}")),
                );
            }
            Err(EventStreamError::Parser(e)) => {
                return (
                    frames,
                    StreamEnd::Cut(format!("the SSE body does not parse: {e}")),
                );
            }
        }
    }
    (frames, StreamEnd::Clean)
}

/// The rest of a body that is not SSE, as one line.
async fn whole<S, E>(
    mut raw: Vec<u8>,
    seen: Vec<Result<Bytes, E>>,
    stopped: bool,
    mut body: S,
    started: Instant,
) -> (Vec<TimedFrame>, StreamEnd)
where
    S: Stream<Item = Result<Bytes, E>> + Unpin,
    E: Display,
{
    let mut end = StreamEnd::Clean;
    // `raw` already holds the chunks in `seen`; only an error among them matters.
    if let Some(Err(e)) = seen.into_iter().find(Result::is_err) {
        end = StreamEnd::Cut(e.to_string());
    } else if !stopped {
        while let Some(item) = body.next().await {
            match item {
                Ok(chunk) => raw.extend_from_slice(&chunk),
                Err(e) => {
                    end = StreamEnd::Cut(e.to_string());
                    break;
                }
            }
        }
    }
    let frames = vec![TimedFrame {
        at: started.elapsed(),
        frame: Frame::Line(utf8(raw)),
    }];
    (frames, end)
}

fn utf8(bytes: Vec<u8>) -> String {
    String::from_utf8(bytes).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

/// Frames an NDJSON body into its non-blank lines.
pub(super) async fn ndjson<S, E>(body: S, started: Instant) -> (Vec<TimedFrame>, StreamEnd)
where
    S: Stream<Item = Result<Bytes, E>>,
    E: Display,
{
    let mut body = pin!(body);
    let mut frames = Vec::new();
    let mut line: Vec<u8> = Vec::new();
    loop {
        match body.next().await {
            Some(Ok(chunk)) => {
                let at = started.elapsed();
                let mut rest: &[u8] = &chunk;
                // `read_until` on a slice finds the newline with memchr, and never fails.
                while let Ok(n) = rest.read_until(b'\n', &mut line)
                    && n > 0
                {
                    if line.last() == Some(&b'\n') {
                        push_line(&mut frames, std::mem::take(&mut line), at);
                    }
                }
            }
            // A line the connection cut is incomplete: dropped, the cut is what to report.
            Some(Err(e)) => return (frames, StreamEnd::Cut(e.to_string())),
            None => {
                if !line.is_empty() {
                    push_line(&mut frames, line, started.elapsed());
                }
                return (frames, StreamEnd::Clean);
            }
        }
    }
}

fn push_line(frames: &mut Vec<TimedFrame>, mut line: Vec<u8>, at: std::time::Duration) {
    while matches!(line.last(), Some(b'\n' | b'\r')) {
        line.pop();
    }
    if line.iter().all(u8::is_ascii_whitespace) {
        return;
    }
    frames.push(TimedFrame {
        at,
        frame: Frame::Line(utf8(line)),
    });
}

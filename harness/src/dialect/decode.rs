//! Decoding a response: the one entry point, [`DialectKind::decode_response`], that the rest of
//! the crate calls with whatever the transport read (a whole body or a stream's frames), and
//! the per-dialect dispatch behind it.

use serde_json::Value;

use super::json::parse_reply;
use super::stream::{Acc, Frame, StreamEnd, StreamOptions, TimedFrame, preview};
use super::wire::{DialectKind, WireOp, WireRequest};
use super::{anthropic, ollama, openai, openai_responses};
use crate::neutral::{Reply, StreamInfo};

/// A response body as the transport read it.
#[derive(Debug, Clone, Copy)]
pub enum Body<'a> {
    /// A whole (non-streamed) body.
    Whole(&'a [u8]),
    /// A streamed body: its frames and how it ended.
    Stream(&'a [TimedFrame], &'a StreamEnd),
}

impl DialectKind {
    /// Decodes the response to `wire` and checks this dialect's contract on it: the plain,
    /// streamed and model-management replies alike, and the finish reason's agreement with the
    /// tool calls (which depends on the tool choice `wire` sent).
    pub fn decode_response(
        self,
        wire: &WireRequest,
        status: u16,
        headers: &[(String, String)],
        body: Body<'_>,
    ) -> Reply {
        let mut reply = match body {
            Body::Stream(frames, end) if wire.op == WireOp::Pull => {
                ollama::api::decode_pull(status, headers, frames, end)
            }
            Body::Stream(frames, end) => {
                let opts = StreamOptions {
                    usage_requested: wire.body.pointer("/stream_options/include_usage")
                        == Some(&Value::Bool(true)),
                };
                decode_stream(self, status, headers, frames, end, &opts)
            }
            Body::Whole(body) => self.decode_op(wire.op, status, headers, body),
        };
        self.check_tool_agreement(&wire.body, &mut reply);
        if self == DialectKind::OpenaiResponses {
            let breaches = openai_responses::limits(&wire.body, &reply);
            reply.violations.extend(breaches);
        }
        reply
    }

    /// Checks that a complete 2xx reply's finish reason agrees with the tool calls it carries,
    /// recording a violation naming the field when it does not. `request` is the body that was
    /// sent, since whether it forced a call changes what OpenAI answers. Ollama's
    /// `done_reason` has no value for tool calls (`stop` is documented for both), so there is
    /// nothing to disagree with.
    pub(crate) fn check_tool_agreement(self, request: &Value, reply: &mut Reply) {
        if !(200..300).contains(&reply.status) || reply.error.is_some() {
            return;
        }
        let Some(raw) = reply.raw_finish_reason.as_deref() else {
            return;
        };
        let msg = match self {
            DialectKind::Openai => openai::tool_agreement(request, raw, reply),
            DialectKind::Anthropic => anthropic::tool_agreement(raw, reply),
            // The Responses API has no finish reason for tool calls: `status` is `completed`
            // either way, so there is nothing to disagree with.
            DialectKind::Ollama | DialectKind::OpenaiResponses => None,
        };
        reply.violations.extend(msg);
    }

    /// Decodes a non-streamed reply to `op` and checks the contract for it.
    fn decode_op(
        self,
        op: WireOp,
        status: u16,
        headers: &[(String, String)],
        body: &[u8],
    ) -> Reply {
        match op {
            WireOp::Chat => self.decode(status, headers, body),
            other => ollama::api::decode(other, status, headers, body),
        }
    }

    /// Decodes a (non-streamed) reply and checks the dialect's contract on it.
    pub(crate) fn decode(self, status: u16, headers: &[(String, String)], body: &[u8]) -> Reply {
        let mut reply = match parse_reply(status, headers, body) {
            Ok(reply) => reply,
            Err(reply) => return *reply,
        };
        match self {
            DialectKind::Openai => openai::decode(&mut reply, headers),
            DialectKind::Anthropic => anthropic::decode(&mut reply, headers),
            DialectKind::Ollama => ollama::decode(&mut reply, headers),
            DialectKind::OpenaiResponses => openai_responses::decode(&mut reply, headers),
        }
        reply
    }
}

/// Assembles a streamed reply into the same neutral [`Reply`] the non-streaming path gives,
/// with `reply.stream = Some(StreamInfo{..})`, and records every contract breach in
/// `reply.violations`, each naming the event (index and type) it concerns.
///
/// A non-2xx status means the body is an ordinary error body: the frames' text is joined back
/// (with `\n`) and decoded as a plain reply, exactly as without streaming, and
/// `reply.stream` stays `None`. `reply.raw` is a JSON array with one item per frame: its data
/// parsed, or the data as a string when it is not JSON (so `/3/delta` addresses event 3).
pub fn decode_stream(
    dialect: DialectKind,
    status: u16,
    headers: &[(String, String)],
    frames: &[TimedFrame],
    end: &StreamEnd,
    opts: &StreamOptions,
) -> Reply {
    if !(200..300).contains(&status) {
        let mut reply = dialect.decode(status, headers, joined(frames).as_bytes());
        if let StreamEnd::Cut(e) = end {
            reply.violations.push(format!(
                "connection closed before the error body ended: {e}"
            ));
        }
        return reply;
    }
    let sse = dialect != DialectKind::Ollama;
    if sse && !frames.is_empty() && frames.iter().all(|f| matches!(f.frame, Frame::Line(_))) {
        return not_sse(dialect, status, headers, frames, end);
    }
    let mut acc = Acc::new(status, headers);
    let marker = match dialect {
        DialectKind::Openai => openai::stream::decode(&mut acc, frames, opts),
        DialectKind::Anthropic => anthropic::stream::decode(&mut acc, frames),
        DialectKind::Ollama => ollama::stream::decode(&mut acc, frames),
        DialectKind::OpenaiResponses => openai_responses::stream::decode(&mut acc, frames),
    };
    acc.finish(frames.len(), end, marker)
}

fn joined(frames: &[TimedFrame]) -> String {
    let parts: Vec<&str> = frames.iter().map(|f| f.frame.text()).collect();
    parts.join("\n")
}

/// A 2xx body for an SSE dialect that is not SSE: decoded as a plain reply (a server that
/// ignores `stream: true` still gets its text and usage read), with the breach up front.
fn not_sse(
    dialect: DialectKind,
    status: u16,
    headers: &[(String, String)],
    frames: &[TimedFrame],
    end: &StreamEnd,
) -> Reply {
    let body = joined(frames);
    let mut reply = dialect.decode(status, headers, body.as_bytes());
    reply.violations.insert(
        0,
        format!("the body is not an SSE stream: {:?}", preview(&body)),
    );
    if let StreamEnd::Cut(e) = end {
        reply.violations.push(format!(
            "connection closed before the terminal marker after 0 events: {e}"
        ));
    }
    reply.stream = Some(StreamInfo::default());
    reply
}

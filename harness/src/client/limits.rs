//! How much a reply may hold. A broken or hostile server can send a body of a gigabyte, a
//! stream that never ends or a line that never breaks; without limits provcheck held all of it
//! (7.5 GB for an endless stream). The limits are enforced while reading, so nothing is
//! buffered past them, and the trial ends with an error naming the limit.

use std::num::NonZeroU64;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use futures_util::{Stream, StreamExt};
use serde::Deserialize;

use crate::dialect::DialectKind;

/// Default `max_body_bytes`: 64 MiB, far above any model reply.
pub(crate) const DEFAULT_MAX_BODY_BYTES: u64 = 64 << 20;
/// Default `max_stream_events`: 100,000 events (a long reply streams a few thousand).
pub(crate) const DEFAULT_MAX_STREAM_EVENTS: u64 = 100_000;
/// Default `max_line_bytes`: 1 MiB for one line of a stream.
pub(crate) const DEFAULT_MAX_LINE_BYTES: u64 = 1 << 20;

/// The limits a target's replies are read under.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Bytes of one reply body, streamed or not.
    pub max_body_bytes: u64,
    /// Events of one stream (SSE events, NDJSON lines).
    pub max_stream_events: u64,
    /// Bytes of one line of a stream.
    pub max_line_bytes: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            max_stream_events: DEFAULT_MAX_STREAM_EVENTS,
            max_line_bytes: DEFAULT_MAX_LINE_BYTES,
        }
    }
}

/// `limits:` in targets.yaml; each key replaces its default. Zero is refused: no reply fits.
#[derive(Debug, Clone, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LimitsSpec {
    /// See [`Limits::max_body_bytes`].
    pub max_body_bytes: Option<NonZeroU64>,
    /// See [`Limits::max_stream_events`].
    pub max_stream_events: Option<NonZeroU64>,
    /// See [`Limits::max_line_bytes`].
    pub max_line_bytes: Option<NonZeroU64>,
}

impl Limits {
    /// Applies the keys `spec` sets.
    pub fn apply(&mut self, spec: &LimitsSpec) {
        if let Some(n) = spec.max_body_bytes {
            self.max_body_bytes = n.get();
        }
        if let Some(n) = spec.max_stream_events {
            self.max_stream_events = n.get();
        }
        if let Some(n) = spec.max_line_bytes {
            self.max_line_bytes = n.get();
        }
    }
}

/// A limit a reply went past.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Exceeded {
    Body(u64),
    Events(u64),
    Line(u64),
}

impl std::fmt::Display for Exceeded {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Exceeded::Body(n) => write!(
                f,
                "the reply body passed max_body_bytes ({n} bytes); reading stopped there"
            ),
            Exceeded::Events(n) => write!(
                f,
                "the stream passed max_stream_events ({n} events); reading stopped there"
            ),
            Exceeded::Line(n) => write!(
                f,
                "a line of the stream passed max_line_bytes ({n} bytes) without a newline; reading stopped there"
            ),
        }
    }
}

/// Counts what a body stream carries and ends it with an error at the first limit passed;
/// the limit is also noted in `tripped`, so the caller can tell it from a cut connection.
/// Events are counted as the framing ends them: a blank line for SSE, a line for NDJSON.
pub(crate) fn guard<S>(
    body: S,
    dialect: DialectKind,
    limits: Limits,
    tripped: Arc<Mutex<Option<Exceeded>>>,
) -> impl Stream<Item = Result<Bytes, String>>
where
    S: Stream<Item = Result<Bytes, String>>,
{
    let sse = dialect != DialectKind::Ollama;
    let mut total = 0u64;
    let mut line = 0u64;
    let mut events = 0u64;
    body.scan(false, move |done, chunk| {
        if *done {
            return std::future::ready(None);
        }
        let chunk = match chunk {
            Ok(c) => c,
            Err(e) => return std::future::ready(Some(Err(e))),
        };
        total += chunk.len() as u64;
        let mut hit =
            (total > limits.max_body_bytes).then_some(Exceeded::Body(limits.max_body_bytes));
        for &b in chunk.iter() {
            if b == b'\n' {
                // SSE: an empty line (only `\r` before it) ends an event.
                if !sse || line == 0 {
                    events += 1;
                }
                line = 0;
            } else if b != b'\r' {
                line += 1;
            }
            if hit.is_none() && line > limits.max_line_bytes {
                hit = Some(Exceeded::Line(limits.max_line_bytes));
            }
        }
        if hit.is_none() && events > limits.max_stream_events {
            hit = Some(Exceeded::Events(limits.max_stream_events));
        }
        match hit {
            Some(h) => {
                *done = true;
                *tripped.lock().unwrap_or_else(|p| p.into_inner()) = Some(h);
                std::future::ready(Some(Err(h.to_string())))
            }
            None => std::future::ready(Some(Ok(chunk))),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(
        dialect: DialectKind,
        limits: Limits,
        chunks: Vec<&'static [u8]>,
    ) -> (usize, Option<Exceeded>) {
        let tripped = Arc::new(Mutex::new(None));
        let body =
            futures_util::stream::iter(chunks.into_iter().map(|c| Ok(Bytes::from_static(c))));
        let out: Vec<_> = crate::runtime::runtime()
            .block_on(guard(body, dialect, limits, tripped.clone()).collect::<Vec<_>>());
        let ok = out.iter().filter(|r| r.is_ok()).count();
        let t = *tripped.lock().unwrap();
        (ok, t)
    }

    #[test]
    fn each_limit_stops_the_stream_at_the_chunk_that_passes_it() {
        let small = Limits {
            max_body_bytes: 10,
            max_stream_events: 2,
            max_line_bytes: 4,
        };
        let roomy = Limits::default();
        assert_eq!(
            (
                roomy.max_body_bytes,
                roomy.max_stream_events,
                roomy.max_line_bytes
            ),
            (64 * 1024 * 1024, 100_000, 1024 * 1024)
        );
        assert_eq!(
            run(DialectKind::Ollama, small, vec![b"{}\n", b"{}\n"]),
            (2, None)
        );
        assert_eq!(
            run(DialectKind::Ollama, small, vec![b"{}\n", b"{}\n", b"{}\n"]),
            (2, Some(Exceeded::Events(2)))
        );
        assert_eq!(
            run(DialectKind::Openai, small, vec![b"data", b": xx"]),
            (1, Some(Exceeded::Line(4)))
        );
        assert_eq!(
            run(
                DialectKind::Openai,
                Limits {
                    max_line_bytes: 100,
                    ..small
                },
                vec![b"d: 1\n\nd: 2\n\n", b"d: 3\n\n"]
            ),
            (0, Some(Exceeded::Body(10)))
        );
        // SSE counts events at blank lines, not lines.
        assert_eq!(
            run(DialectKind::Openai, roomy, vec![b"event: a\ndata: 1\n\n"]),
            (1, None)
        );
        let sse3 = Limits {
            max_stream_events: 1,
            ..roomy
        };
        assert_eq!(
            run(
                DialectKind::Anthropic,
                sse3,
                vec![b"event: a\ndata: 1\n\nevent: b\r\ndata: 2\r\n\r\n"]
            ),
            (0, Some(Exceeded::Events(1)))
        );
    }
}

//! The stream decoders under fuzz: one valid stream per dialect (text over several events,
//! non-ASCII, two tool calls with streamed arguments, usage), and the inputs made from it.
//!
//! An [`Input`] is a body, the points its bytes are split into chunks at, whether the
//! connection breaks after the last chunk, and what [`check`] may demand of it:
//! - **invariant** inputs are the valid stream, possibly reshaped by [`reshape`] in ways its
//!   grammar says change nothing (keep-alive comments, ignored fields, `data:` without the
//!   space, CRLF, a JSON payload spread over two `data:` lines, JSON whitespace): however
//!   they are split they must decode to exactly the reply of the unsplit, unshaped stream;
//! - every other input (cut, garbled by [`garble`], its events rearranged, repeated, nested or
//!   inflated by [`rearrange`]) must decode, or stop at a limit, without a panic, and the
//!   frames never hold more than the body's bytes.

use std::time::Instant;

use bytes::Bytes;
use tokio::runtime::Runtime;

use super::Rng;
use crate::client::Limits;
use crate::client::limits::{Exceeded, guard};
use crate::dialect::DialectKind;
use crate::dialect::decode_stream;
use crate::dialect::stream::{StreamEnd, StreamOptions, TimedFrame, read_frames};
use crate::neutral::Reply;

/// The limits the fuzzed pipeline reads under: small, so that repeated events, long lines
/// and inflated bodies reach them within one input.
pub const LIMITS: FuzzLimits = FuzzLimits {
    max_body_bytes: 256 << 10,
    max_stream_events: 1_000,
    max_line_bytes: 16 << 10,
};

/// The reading limits of the fuzzed pipeline (the same three keys as targets.yaml's
/// `limits:`).
#[derive(Debug, Clone, Copy)]
pub struct FuzzLimits {
    /// Bytes of one body.
    pub max_body_bytes: u64,
    /// Events of one stream.
    pub max_stream_events: u64,
    /// Bytes of one line.
    pub max_line_bytes: u64,
}

/// A valid stream of one dialect and how much of it a reply needs.
#[derive(Debug, Clone)]
pub struct Case {
    /// The dialect whose decoder reads it.
    pub dialect: DialectKind,
    /// The whole stream.
    pub body: Vec<u8>,
    /// Bytes needed for the reply to be complete when the body ends cleanly.
    pub complete_clean: usize,
    /// Bytes needed for the reply to be complete when the connection breaks.
    pub complete_cut: usize,
}

/// The four streaming decoders, in the order the driver names them.
pub const DIALECTS: [DialectKind; 4] = [
    DialectKind::Openai,
    DialectKind::Anthropic,
    DialectKind::Ollama,
    DialectKind::OpenaiResponses,
];

/// The fuzz target's name for a dialect's stream decoder.
pub fn target_name(dialect: DialectKind) -> &'static str {
    match dialect {
        DialectKind::Openai => "stream-openai",
        DialectKind::Anthropic => "stream-anthropic",
        DialectKind::Ollama => "stream-ollama",
        DialectKind::OpenaiResponses => "stream-openai-responses",
    }
}

/// The valid stream of `dialect`.
pub fn case(dialect: DialectKind) -> Case {
    let (body, ndjson) = match dialect {
        DialectKind::Openai => (super::cases::openai(), false),
        DialectKind::Anthropic => (super::cases::anthropic(), false),
        DialectKind::Ollama => (super::cases::ollama(), true),
        DialectKind::OpenaiResponses => (super::cases::openai_responses(), false),
    };
    let len = body.len();
    Case {
        dialect,
        body: body.into_bytes(),
        // NDJSON: a clean end may drop the last newline; a line the connection cut is lost.
        complete_clean: if ndjson { len - 1 } else { len },
        complete_cut: len,
    }
}

/// Decodes `chunks` as a streamed 200 reply of `dialect`, with no limits.
pub fn decode(rt: &Runtime, dialect: DialectKind, chunks: Vec<Result<Bytes, String>>) -> Reply {
    let (frames, end) = rt.block_on(read_frames(
        dialect,
        futures_util::stream::iter(chunks),
        Instant::now(),
    ));
    decode_frames(dialect, &frames, &end)
}

fn decode_frames(dialect: DialectKind, frames: &[TimedFrame], end: &StreamEnd) -> Reply {
    decode_stream(
        dialect,
        200,
        &[],
        frames,
        end,
        &StreamOptions {
            usage_requested: true,
        },
    )
}

/// Splits `bytes` into chunks at random points (small, medium or large pieces), sometimes
/// with empty chunks between; returns the split offsets (repeated for an empty chunk).
pub fn split_points(rng: &mut Rng, len: usize) -> Vec<usize> {
    // Tiny pieces are the slow case for the SSE parser, which scans a partial line again on
    // every chunk: used more sparingly, and not on long bodies.
    let max = match rng.below(6) {
        0 if len <= 8 << 10 => 8,
        0..=2 if len <= 64 << 10 => 64,
        0..=2 => 4096,
        _ => len.max(1),
    };
    let mut points = Vec::new();
    let mut at = 0;
    while at < len {
        at = (at + 1 + rng.below(max)).min(len);
        if at < len {
            points.push(at);
            if rng.below(10) == 0 {
                points.push(at);
            }
        }
    }
    points
}

/// `bytes` cut at `points` (sorted offsets), as a body stream's chunks.
pub fn chunks(bytes: &[u8], points: &[usize]) -> Vec<Result<Bytes, String>> {
    let mut out = Vec::with_capacity(points.len() + 1);
    let mut from = 0;
    for &p in points.iter().chain([bytes.len()].iter()) {
        let p = p.clamp(from, bytes.len());
        out.push(Ok(Bytes::copy_from_slice(&bytes[from..p])));
        from = p;
    }
    out
}

/// [`split_points`] and [`chunks`] in one step.
pub fn split(rng: &mut Rng, bytes: &[u8]) -> Vec<Result<Bytes, String>> {
    chunks(bytes, &split_points(rng, bytes.len()))
}

/// Whether `got` is the same reply as `want`, and if not, the first field that differs.
pub fn same(got: &Reply, want: &Reply) -> Result<(), String> {
    let differs = |what: &str, g: &dyn std::fmt::Debug, w: &dyn std::fmt::Debug| {
        Err(format!("{what}: got {g:?}, want {w:?}"))
    };
    if !got.violations.is_empty() {
        return differs("violations", &got.violations, &want.violations);
    }
    let (g, w) = match (&got.stream, &want.stream) {
        (Some(g), Some(w)) => (g, w),
        (g, w) => return differs("stream", g, w),
    };
    match () {
        () if got.text != want.text => differs("text", &got.text, &want.text),
        () if got.finish_reason != want.finish_reason => {
            differs("finish_reason", &got.finish_reason, &want.finish_reason)
        }
        () if got.raw_finish_reason != want.raw_finish_reason => differs(
            "raw_finish_reason",
            &got.raw_finish_reason,
            &want.raw_finish_reason,
        ),
        () if got.usage != want.usage => differs("usage", &got.usage, &want.usage),
        () if got.tool_calls != want.tool_calls => {
            differs("tool_calls", &got.tool_calls, &want.tool_calls)
        }
        () if got.id != want.id => differs("id", &got.id, &want.id),
        () if got.model != want.model => differs("model", &got.model, &want.model),
        () if g.events != w.events => differs("events", &g.events, &w.events),
        () if g.event_types != w.event_types => {
            differs("event_types", &g.event_types, &w.event_types)
        }
        () if !g.terminated => differs("terminated", &g.terminated, &w.terminated),
        () => Ok(()),
    }
}

/// Sets 1 to 4 bytes of `body` to a newline, a quote, a brace or a random byte.
pub fn garble(rng: &mut Rng, body: &mut [u8]) {
    if body.is_empty() {
        return;
    }
    for _ in 0..1 + rng.below(4) {
        let at = rng.below(body.len());
        body[at] = match rng.below(4) {
            0 => b'\n',
            1 => b'"',
            2 => b'{',
            _ => rng.bits() as u8,
        };
    }
}

/// One fuzz input of a stream decoder; see the module doc.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Input {
    /// The decoder.
    pub dialect: DialectKind,
    /// The body's bytes.
    pub body: Vec<u8>,
    /// Where the body is split into chunks (sorted; a repeat is an empty chunk).
    pub splits: Vec<usize>,
    /// The connection breaks after the last chunk.
    pub cut: bool,
    /// The body is the dialect's valid stream, reshaped without changing its meaning.
    pub invariant: bool,
}

const HEADER: &str = "provcheck-fuzz stream input:";

impl Input {
    /// The input as a regression file: a header line, then the body's bytes.
    pub fn to_file(&self) -> Vec<u8> {
        let splits: Vec<String> = self.splits.iter().map(usize::to_string).collect();
        let mut out = format!(
            "{HEADER} splits={} end={} check={}\n",
            splits.join(","),
            if self.cut { "cut" } else { "clean" },
            if self.invariant {
                "invariant"
            } else {
                "no-panic"
            },
        )
        .into_bytes();
        out.extend_from_slice(&self.body);
        out
    }

    /// Reads a regression file written by [`Input::to_file`]; `None` when it is not one.
    pub fn from_file(dialect: DialectKind, bytes: &[u8]) -> Option<Input> {
        let nl = bytes.iter().position(|&b| b == b'\n')?;
        let head = std::str::from_utf8(&bytes[..nl])
            .ok()?
            .strip_prefix(HEADER)?;
        let mut input = Input {
            dialect,
            body: bytes[nl + 1..].to_vec(),
            splits: Vec::new(),
            cut: false,
            invariant: false,
        };
        for word in head.split_whitespace() {
            match word.split_once('=')? {
                ("splits", s) => {
                    input.splits = s
                        .split(',')
                        .filter(|s| !s.is_empty())
                        .map(str::parse)
                        .collect::<Result<_, _>>()
                        .ok()?;
                }
                ("end", e) => input.cut = e == "cut",
                ("check", c) => input.invariant = c == "invariant",
                _ => return None,
            }
        }
        Some(input)
    }
}

/// A random input for `dialect`'s decoder, made from its valid stream.
pub fn generate(rng: &mut Rng, dialect: DialectKind) -> Input {
    let mut body = case(dialect).body;
    let mut invariant = false;
    let mut cut = false;
    match rng.below(10) {
        // The valid stream as it is, split anywhere.
        0 | 1 => invariant = true,
        2 | 3 => {
            reshape(rng, dialect, &mut body);
            invariant = true;
        }
        4 => {
            body.truncate(rng.below(body.len() + 1));
            cut = rng.below(2) == 0;
        }
        5 => garble(rng, &mut body),
        6 => {
            reshape(rng, dialect, &mut body);
            garble(rng, &mut body);
        }
        _ => {
            rearrange(rng, dialect, &mut body);
            if rng.below(4) == 0 {
                garble(rng, &mut body);
            }
            cut = rng.below(8) == 0;
        }
    }
    let splits = split_points(rng, body.len());
    Input {
        dialect,
        body,
        splits,
        cut,
        invariant,
    }
}

/// What reading an input under [`LIMITS`] gave.
#[derive(Debug)]
pub struct Read {
    /// The frames read before the body ended or a limit stopped it.
    pub frames: Vec<TimedFrame>,
    /// How the body ended.
    pub end: StreamEnd,
    /// The limit that stopped reading, as the trial would report it.
    pub limit: Option<String>,
    /// The decoded reply, when no limit stopped reading.
    pub reply: Option<Reply>,
}

/// Reads `input` through the client's limit guard and the dialect's framing, then decodes
/// it, as a live trial does.
pub fn read(rt: &Runtime, input: &Input) -> Read {
    let mut parts = chunks(&input.body, &input.splits);
    if input.cut {
        parts.push(Err("connection reset by peer".into()));
    }
    let limits = Limits {
        max_body_bytes: LIMITS.max_body_bytes,
        max_stream_events: LIMITS.max_stream_events,
        max_line_bytes: LIMITS.max_line_bytes,
    };
    let tripped = std::sync::Arc::new(std::sync::Mutex::new(None::<Exceeded>));
    let body = guard(
        futures_util::stream::iter(parts),
        input.dialect,
        limits,
        tripped.clone(),
    );
    let (frames, end) = rt.block_on(read_frames(input.dialect, Box::pin(body), Instant::now()));
    let limit = tripped
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .map(|e| e.to_string());
    let reply = limit
        .is_none()
        .then(|| decode_frames(input.dialect, &frames, &end));
    Read {
        frames,
        end,
        limit,
        reply,
    }
}

/// Reads `input` and panics when a property breaks: frames hold more than the body's bytes
/// (three for one, as invalid UTF-8 becomes U+FFFD), a body past `max_body_bytes` was read to
/// its end, or an invariant input decodes differently from the unsplit valid stream. A panic
/// inside the decoders is the other failure the driver looks for.
pub fn check(rt: &Runtime, input: &Input) {
    let got = read(rt, input);
    let held: usize = got.frames.iter().map(|f| f.frame.text().len()).sum();
    assert!(
        held <= 3 * input.body.len(),
        "frames hold {held} bytes of a {}-byte body",
        input.body.len()
    );
    if !input.cut && input.body.len() as u64 > LIMITS.max_body_bytes {
        assert!(
            got.limit.is_some(),
            "a {}-byte body was read past max_body_bytes",
            input.body.len()
        );
    }
    if input.invariant {
        let want = decode(
            rt,
            input.dialect,
            vec![Ok(Bytes::from(case(input.dialect).body))],
        );
        let Some(reply) = got.reply else {
            panic!("a valid stream stopped at a limit: {:?}", got.limit);
        };
        if let Err(e) = same(&reply, &want) {
            panic!(
                "a valid stream split at {:?} decodes differently: {e}",
                input.splits
            );
        }
    }
}

/// Reshapes `body` (the dialect's valid stream) 1 to 3 times in ways its grammar says change
/// nothing.
pub fn reshape(rng: &mut Rng, dialect: DialectKind, body: &mut Vec<u8>) {
    let sse = dialect != DialectKind::Ollama;
    let mut recs = records(body, sse);
    for _ in 0..1 + rng.below(3) {
        let i = rng.below(recs.len());
        let eol: &[u8] = if recs[i].ends_with(b"\r\n") {
            b"\r\n"
        } else {
            b"\n"
        };
        match rng.below(6) {
            0 if sse => recs.insert(i, [b": keep-alive".as_slice(), eol, eol].concat()),
            0 => recs.insert(i, [b"  ".as_slice(), eol].concat()),
            1 if sse => {
                // An unknown field is valid anywhere but first: read_frames sniffs the first
                // field name to tell SSE from an error body.
                let fields = [b"id: 7".as_slice(), b"retry: 3000", b"x-unknown: 1"];
                let field = fields[rng.below(if i == 0 { 2 } else { 3 })];
                recs[i].splice(0..0, [field, eol].concat());
            }
            2 if sse => {
                if let Some(at) = find(&recs[i], b"data: ") {
                    recs[i].remove(at + 5);
                }
            }
            3 => recs[i] = swap_line_ends(&recs[i]),
            4 if sse => spread_data(rng, &mut recs[i], eol),
            _ => json_space(rng, &mut recs[i], sse),
        }
    }
    *body = recs.concat();
}

/// Changes 1 to 3 events of `body`: duplicated, dropped, swapped, repeated up to thousands of
/// times, taken from another dialect, a value replaced, nested deep, a line inflated past
/// `max_line_bytes`, or the body cut.
pub fn rearrange(rng: &mut Rng, dialect: DialectKind, body: &mut Vec<u8>) {
    let sse = dialect != DialectKind::Ollama;
    let mut recs = records(body, sse);
    for _ in 0..1 + rng.below(3) {
        if recs.is_empty() {
            break;
        }
        let i = rng.below(recs.len());
        let j = rng.below(recs.len());
        match rng.below(9) {
            0 => recs.insert(j, recs[i].clone()),
            1 => drop(recs.remove(i)),
            2 => recs.swap(i, j),
            3 => {
                let most = if rng.below(4) == 0 { 3_000 } else { 20 };
                let n = 1 + rng.below(most);
                let copies = vec![recs[i].clone(); n];
                recs.splice(i..i, copies);
            }
            4 => {
                let other = DIALECTS[rng.below(DIALECTS.len())];
                let theirs = records(&case(other).body, other != DialectKind::Ollama);
                recs.insert(i, theirs[rng.below(theirs.len())].clone());
            }
            5 => replace_value(rng, &mut recs[i], sse),
            6 => {
                let depth = 1 + rng.below(60_000);
                let open: &[u8] = [b"[".as_slice(), b"{\"a\":"][rng.below(2)];
                let nested = open.repeat(depth);
                let prefix: &[u8] = if sse { b"data: " } else { b"" };
                recs.insert(i, [prefix, &nested, b"\n\n"].concat());
            }
            7 => {
                let long = vec![b'x'; rng.below(40_000)];
                let at = rng.below(recs[i].len() + 1);
                recs[i].splice(at..at, long);
            }
            _ => {
                let keep = rng.below(recs[i].len() + 1);
                recs[i].truncate(keep);
            }
        }
    }
    *body = recs.concat();
}

/// `body` split into its events, each with its terminating (blank) line: SSE events end at a
/// blank line, NDJSON records at a newline. The rest after the last end is the last item.
pub fn records(body: &[u8], sse: bool) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut line_len = 0;
    for (i, &b) in body.iter().enumerate() {
        match b {
            b'\n' if !sse || line_len == 0 => {
                out.push(body[start..=i].to_vec());
                start = i + 1;
                line_len = 0;
            }
            b'\n' => line_len = 0,
            b'\r' => {}
            _ => line_len += 1,
        }
    }
    if start < body.len() {
        out.push(body[start..].to_vec());
    }
    out
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// LF line ends become CRLF, or CRLF become LF.
fn swap_line_ends(rec: &[u8]) -> Vec<u8> {
    if find(rec, b"\r\n").is_some() {
        rec.iter().copied().filter(|&b| b != b'\r').collect()
    } else {
        rec.iter()
            .flat_map(|&b| {
                if b == b'\n' {
                    vec![b'\r', b'\n']
                } else {
                    vec![b]
                }
            })
            .collect()
    }
}

/// Offsets of the `,` and `:` of a JSON text that are outside its strings, from `from`.
fn structural(rec: &[u8], from: usize) -> Vec<usize> {
    let (mut out, mut in_str, mut esc) = (Vec::new(), false, false);
    for (i, &b) in rec.iter().enumerate().skip(from) {
        match b {
            _ if esc => esc = false,
            b'\\' if in_str => esc = true,
            b'"' => in_str = !in_str,
            b',' | b':' if !in_str => out.push(i),
            b'\n' | b'\r' => break,
            _ => {}
        }
    }
    out
}

/// Where the JSON of a record's first `data:` line (or of its NDJSON line) starts.
fn json_start(rec: &[u8], sse: bool) -> Option<usize> {
    if !sse {
        return rec.first().is_some_and(|&b| b == b'{').then_some(0);
    }
    let at = find(rec, b"data:")? + 5;
    let at = if rec.get(at) == Some(&b' ') {
        at + 1
    } else {
        at
    };
    (rec.get(at) == Some(&b'{')).then_some(at)
}

/// Inserts a space after a structural `,` or `:` of the record's JSON.
fn json_space(rng: &mut Rng, rec: &mut Vec<u8>, sse: bool) {
    let Some(start) = json_start(rec, sse) else {
        return;
    };
    let points = structural(rec, start);
    if !points.is_empty() {
        let at = points[rng.below(points.len())] + 1;
        rec.insert(at, [b' ', b'\t'][rng.below(2)]);
    }
}

/// Spreads the record's JSON over two `data:` lines at a structural comma: SSE joins them
/// with a newline, which JSON reads as whitespace.
fn spread_data(rng: &mut Rng, rec: &mut Vec<u8>, eol: &[u8]) {
    let Some(start) = json_start(rec, true) else {
        return;
    };
    let commas: Vec<usize> = structural(rec, start)
        .into_iter()
        .filter(|&i| rec[i] == b',')
        .collect();
    if !commas.is_empty() {
        let at = commas[rng.below(commas.len())] + 1;
        rec.splice(at..at, [eol, b"data: "].concat());
    }
}

/// Replaces the value after a structural `:` (up to the next structural `,`) with another
/// JSON value or a near-miss of one.
fn replace_value(rng: &mut Rng, rec: &mut Vec<u8>, sse: bool) {
    const VALUES: [&str; 11] = [
        "null",
        "0",
        "-1",
        "1e999",
        "\"\\ud800\"",
        "{}",
        "[]",
        "true",
        "\"x\"",
        "18446744073709551616",
        "{\"type\":",
    ];
    let Some(start) = json_start(rec, sse) else {
        return;
    };
    let points = structural(rec, start);
    let colons: Vec<usize> = points.iter().copied().filter(|&i| rec[i] == b':').collect();
    if colons.is_empty() {
        return;
    }
    let from = colons[rng.below(colons.len())] + 1;
    let to = points
        .iter()
        .copied()
        .find(|&i| i > from && rec[i] == b',')
        .unwrap_or(from);
    rec.splice(from..to, VALUES[rng.below(VALUES.len())].bytes());
}

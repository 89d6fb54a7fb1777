//! The recording file: `fixtures/<target>/<suite>/<scenario>.yaml`, a provenance header and the
//! exchanges, each a request as sent (secrets redacted) and the response as received.
//!
//! The recorder writes recordings as pretty JSON, which is YAML too: readable, diffable, and read
//! fast. Recordings written by hand are YAML. A recording is parsed once and its response bodies
//! are serialized to bytes once, when the trial that uses it starts.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::Digest;

use crate::source::Diagnostic;
use crate::source::{Location, SpanIndex};
use crate::source::{parse_json_or_yaml, read_source};

/// The value that replaces a secret in a stored header.
pub const REDACTED: &str = "<redacted>";

/// Where a recording came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// Recorded from the real API.
    Live,
    /// Written by hand from the documented contract.
    Authored,
}

/// The recording's header.
#[derive(Debug, Clone, Deserialize, Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Provenance {
    /// Live or authored.
    pub source: Source,
    /// When it was recorded or written (YYYY-MM-DD).
    pub date: String,
    /// The model the provider reported (or the authored one).
    #[serde(default)]
    pub model: Option<String>,
    /// The server it was recorded from (live) or the document it follows (authored).
    #[serde(default)]
    pub reference: Option<String>,
    /// Free text.
    #[serde(default)]
    pub note: Option<String>,
}

impl Provenance {
    /// One line for reports: `authored 2026-11-25 (gpt-4o-mini)`.
    pub fn summary(&self) -> String {
        let src = match self.source {
            Source::Live => "live",
            Source::Authored => "authored",
        };
        match &self.model {
            Some(m) => format!("{src} {} ({m})", self.date),
            None => format!("{src} {}", self.date),
        }
    }
}

/// A recording file as written.
#[derive(Debug, Clone, Deserialize, Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RecordingFile {
    /// Where it came from.
    pub provenance: Provenance,
    /// The exchanges, in the order they happened.
    pub exchanges: Vec<Exchange>,
}

/// One request and its response.
#[derive(Debug, Clone, Deserialize, Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Exchange {
    /// What was sent.
    pub request: RecordedRequest,
    /// What came back.
    pub response: RecordedResponse,
}

/// A request as sent.
#[derive(Debug, Clone, Deserialize, Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RecordedRequest {
    /// HTTP method.
    #[serde(default = "post")]
    pub method: String,
    /// Path, including the base URL's path (`/v1/chat/completions`).
    pub path: String,
    /// Headers that must be sent; a value of `<redacted>` only requires the header's presence.
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// The JSON body.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<Value>,
    /// JSON pointers left out of body matching (volatile fields).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ignore: Vec<String>,
}

fn post() -> String {
    "POST".into()
}

/// A response as received.
#[derive(Debug, Clone, Deserialize, Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RecordedResponse {
    /// HTTP status.
    pub status: u16,
    /// Headers worth keeping (content type, request id, rate limits).
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// A JSON body.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<Value>,
    /// A body that is not JSON, served byte for byte.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body_text: Option<String>,
    /// How long the server took before sending headers, in milliseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delay_ms: Option<u64>,
    /// A streamed body: every event with its time offset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stream: Option<RecordedStream>,
}

/// A streamed body as it arrived: its framing, each event with its offset, and how it ended.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RecordedStream {
    /// SSE (`event:`/`data:` blocks) or NDJSON (one JSON object a line).
    pub format: StreamFormat,
    /// How the body ended: cleanly, or with the connection cut mid-stream.
    #[serde(default)]
    pub end: StreamEndSpec,
    /// The events in order.
    pub events: Vec<RecordedEvent>,
}

/// Stream framing.
#[derive(Debug, Clone, Copy, Deserialize, Serialize, PartialEq, Eq, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum StreamFormat {
    /// Server-sent events (OpenAI, Anthropic).
    Sse,
    /// Newline-delimited JSON (Ollama).
    Ndjson,
}

/// How a recorded stream ends.
#[derive(
    Debug, Clone, Copy, Default, Deserialize, Serialize, PartialEq, Eq, schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum StreamEndSpec {
    /// The body completes normally.
    #[default]
    Clean,
    /// The connection is dropped after the last event, without completing the body.
    Abort,
}

/// One streamed event.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RecordedEvent {
    /// Offset from the start of the response, in milliseconds.
    pub at_ms: u64,
    /// The SSE `event:` name, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event: Option<String>,
    /// The `data:` payload (SSE) or the line (NDJSON), exactly as sent.
    pub data: String,
}

impl RecordedStream {
    /// The bytes of one event on the wire.
    pub fn wire(&self, e: &RecordedEvent) -> Vec<u8> {
        match self.format {
            StreamFormat::Ndjson => format!("{}\n", e.data).into_bytes(),
            StreamFormat::Sse => {
                let mut s = String::new();
                if let Some(name) = &e.event {
                    s.push_str("event: ");
                    s.push_str(name);
                    s.push('\n');
                }
                for line in e.data.split('\n') {
                    s.push_str("data: ");
                    s.push_str(line);
                    s.push('\n');
                }
                s.push('\n');
                s.into_bytes()
            }
        }
    }
}

/// A recording loaded for replay.
#[derive(Debug)]
pub struct Recording {
    /// The file it came from.
    pub file: Arc<str>,
    /// Its header.
    pub provenance: Provenance,
    /// Exchanges prepared for matching and serving.
    pub exchanges: Vec<Prepared>,
    /// SHA-256 of the file's bytes, hex.
    pub sha256: String,
}

/// An exchange with its match key and response bytes computed once.
#[derive(Debug)]
pub struct Prepared {
    /// The exchange as written.
    pub exchange: Exchange,
    /// The recorded body with ignored pointers removed, serialized canonically.
    pub canonical_body: Option<String>,
    /// The response body bytes to serve.
    pub response_body: Vec<u8>,
    /// Where the exchange is written (for mismatch messages).
    pub location: ExchangeLocation,
}

/// Where an exchange is written (`file:line:col`). Only mismatch and `--strict` messages need
/// it, so a recording's spans are indexed on first use rather than when it loads: a replay
/// that matches never pays for the second parse.
#[derive(Debug, Clone)]
pub struct ExchangeLocation {
    spans: Arc<LazySpans>,
    item: usize,
}

impl ExchangeLocation {
    /// The location of `exchanges[N]`.
    pub fn get(&self) -> Location {
        self.spans.locate(&format!("exchanges[{}]", self.item))
    }
}

impl std::fmt::Display for ExchangeLocation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.get().fmt(f)
    }
}

/// A recording lives at `fixtures/<target>/<suite>/<scenario>.yaml`. Refuses one that
/// resolves (through a symlink, of the file or of a directory) outside that fixtures tree, so
/// a fixture tree from elsewhere cannot make a replay read any file on the machine.
fn refuse_escape(path: &Path, file: &Arc<str>) -> Result<(), Diagnostic> {
    let Some(root) = path
        .ancestors()
        .nth(3)
        .filter(|r| !r.as_os_str().is_empty())
    else {
        return Ok(());
    };
    let (Ok(real), Ok(real_root)) = (path.canonicalize(), root.canonicalize()) else {
        return Ok(());
    };
    if real.starts_with(&real_root) {
        return Ok(());
    }
    let at = Location {
        file: file.clone(),
        line: 1,
        col: 1,
    };
    Err(Diagnostic::new(
        format!(
            "recording resolves to {}, outside the fixtures tree {}",
            real.display(),
            root.display()
        ),
        at,
        "",
    )
    .with_help("a recording may not be a symlink to a file outside fixtures/"))
}

/// A recording's text and, once something asks for a location, its span index.
#[derive(Debug)]
struct LazySpans {
    file: Arc<str>,
    source: String,
    index: std::sync::OnceLock<Option<SpanIndex>>,
}

impl LazySpans {
    fn locate(&self, path: &str) -> Location {
        let index = self
            .index
            .get_or_init(|| SpanIndex::build(self.file.clone(), &self.source).ok());
        match index {
            Some(i) => i.locate(path),
            None => Location {
                file: self.file.clone(),
                line: 1,
                col: 1,
            },
        }
    }
}

/// Removes the `ignore` pointers from a body and serializes it canonically: keys sorted, and
/// numbers compared by value, so a recorded `temperature: 0` matches a sent `0.0`.
pub fn canonical(body: &Value, ignore: &[String]) -> String {
    // Written as bytes straight into one buffer: every request a replay serves is
    // canonicalized to be matched, so this is on the hot path.
    let mut out = Vec::with_capacity(256);
    if ignore.is_empty() {
        write_canonical(body, &mut out);
    } else {
        let mut b = body.clone();
        for p in ignore {
            remove_pointer(&mut b, p);
        }
        write_canonical(&b, &mut out);
    }
    // Only JSON text was written, which is UTF-8.
    String::from_utf8(out).unwrap_or_default()
}

fn write_canonical(v: &Value, out: &mut Vec<u8>) {
    use std::io::Write;
    match v {
        Value::Number(n) => match n.as_f64() {
            // Integral floats print as integers; 2^53 keeps the conversion exact.
            Some(f) if n.is_f64() && f.fract() == 0.0 && f.abs() < 9_007_199_254_740_992.0 => {
                let _ = write!(out, "{}", f as i64);
            }
            _ => {
                let _ = write!(out, "{n}");
            }
        },
        Value::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_canonical(item, out);
            }
            out.push(b']');
        }
        Value::Object(map) => {
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            entries.sort_by(|a, b| a.0.cmp(b.0));
            out.push(b'{');
            for (i, (k, item)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                // The same escaping as `Value::String(k).to_string()`.
                let _ = serde_json::to_writer(&mut *out, k.as_str());
                out.push(b':');
                write_canonical(item, out);
            }
            out.push(b'}');
        }
        other => {
            let _ = serde_json::to_writer(&mut *out, other);
        }
    }
}

/// True when two JSON values are equal, numbers compared by value.
pub fn same_value(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x == y || x.as_f64() == y.as_f64(),
        _ => a == b,
    }
}

fn remove_pointer(v: &mut Value, pointer: &str) {
    let Some((parent, last)) = pointer.rsplit_once('/') else {
        return;
    };
    let last = last.replace("~1", "/").replace("~0", "~");
    match v.pointer_mut(parent) {
        Some(Value::Object(m)) => {
            m.remove(&last);
        }
        Some(Value::Array(a)) => {
            if let Ok(i) = last.parse::<usize>()
                && i < a.len()
            {
                a.remove(i);
            }
        }
        _ => {}
    }
}

impl Recording {
    /// A recording with no exchanges, for a fault script that never serves one.
    pub fn empty() -> Recording {
        Recording {
            file: "(none)".into(),
            provenance: Provenance {
                source: Source::Authored,
                date: String::new(),
                model: None,
                reference: None,
                note: Some("fault script only".into()),
            },
            exchanges: Vec::new(),
            sha256: String::new(),
        }
    }

    /// Reads and prepares a recording; problems come back located.
    pub fn load(path: &Path) -> Result<Recording, Diagnostic> {
        let file: Arc<str> = path.display().to_string().into();
        refuse_escape(path, &file)?;
        let source = read_source(path, &file, "recording")?;
        // The recorder writes JSON (which is YAML), read by serde_json several times faster
        // than any YAML reader; hand-written recordings, and anything serde_json refuses, go to
        // the YAML reader, which also locates every error.
        let parsed: RecordingFile = parse_json_or_yaml(&file, &source)?;
        let spans = Arc::new(LazySpans {
            file: file.clone(),
            source,
            index: std::sync::OnceLock::new(),
        });
        let (index, source) = (&spans, &spans.source);
        if parsed.exchanges.is_empty() {
            return Err(Diagnostic::new(
                "recording has no exchanges",
                index.locate("exchanges"),
                source,
            ));
        }
        let mut exchanges = Vec::with_capacity(parsed.exchanges.len());
        for (i, ex) in parsed.exchanges.into_iter().enumerate() {
            let location = ExchangeLocation {
                spans: spans.clone(),
                item: i,
            };
            let bodies = [
                ex.response.body.is_some(),
                ex.response.body_text.is_some(),
                ex.response.stream.is_some(),
            ];
            if bodies.iter().filter(|b| **b).count() > 1 {
                return Err(Diagnostic::new(
                    "a response has one of `body` (JSON), `body_text` or `stream`",
                    index.locate(&format!("exchanges[{i}].response")),
                    source,
                ));
            }
            if let Some(st) = &ex.response.stream
                && let Some(j) = st.events.windows(2).position(|w| w[1].at_ms < w[0].at_ms)
            {
                return Err(Diagnostic::new(
                    "stream event offsets (`at_ms`) must not decrease",
                    index.locate(&format!(
                        "exchanges[{i}].response.stream.events[{}].at_ms",
                        j + 1
                    )),
                    source,
                ));
            }
            let response_body = match (&ex.response.body, &ex.response.body_text) {
                (Some(v), _) => serde_json::to_vec(v).unwrap_or_default(),
                (None, Some(t)) => t.clone().into_bytes(),
                (None, None) => Vec::new(),
            };
            let canonical_body = ex
                .request
                .body
                .as_ref()
                .map(|b| canonical(b, &ex.request.ignore));
            exchanges.push(Prepared {
                exchange: ex,
                canonical_body,
                response_body,
                location,
            });
        }
        let mut sha256 = String::with_capacity(64);
        for b in sha2::Sha256::digest(source.as_bytes()) {
            let _ = std::fmt::Write::write_fmt(&mut sha256, format_args!("{b:02x}"));
        }
        Ok(Recording {
            file,
            provenance: parsed.provenance,
            exchanges,
            sha256,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn canonical_compares_numbers_by_value_and_sorts_keys() {
        assert_eq!(
            canonical(&json!({"t": 0.0, "a": [1.5, 2]}), &[]),
            canonical(&json!({"a": [1.5, 2.0], "t": 0}), &[])
        );
        assert_ne!(
            canonical(&json!({"t": 0.5}), &[]),
            canonical(&json!({"t": 0}), &[])
        );
    }

    #[test]
    fn canonical_text_is_compact_json_with_sorted_keys() {
        assert_eq!(
            canonical(
                &json!({"n": 1e20, "b": "é\"\n\u{1}", "a": [1, 2.5, -3, 3.0, true, null]}),
                &[]
            ),
            r#"{"a":[1,2.5,-3,3,true,null],"b":"é\"\n\u0001","n":1e+20}"#
        );
    }

    #[test]
    fn canonical_drops_ignored_pointers() {
        let b = json!({"model": "m", "temperature": 0.2, "messages": [{"role": "user", "content": "x"}]});
        assert_eq!(
            canonical(&b, &["/temperature".into()]),
            json!({"model": "m", "messages": [{"role": "user", "content": "x"}]}).to_string()
        );
    }

    #[test]
    fn broken_recording_is_located() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("r.yaml");
        std::fs::write(&p, "provenance: {source: authored, date: 2026-01-01}\nexchanges:\n  - request: {path: /v1/x}\n    respons: {status: 200}\n").unwrap();
        let d = Recording::load(&p).unwrap_err();
        assert!(
            d.message.contains("unknown field `respons`"),
            "{}",
            d.message
        );
        assert_eq!(d.location.line, 4);
    }
}

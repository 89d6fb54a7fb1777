//! The result of one trial, as every reporter reads it. Reporters see only this type; they
//! never reach back into the run.

use std::fmt;

use serde::Serialize;

use crate::dialect::DialectKind;
use crate::suite::Priority;

/// Where requests go.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// Recordings served by the local mock (default; no keys, no network).
    Replay,
    /// The targets' real APIs, keys from the environment.
    Live,
    /// Live, and each trial's exchanges written as a recording (`fixtures/`).
    Record,
}

impl Mode {
    /// The name used on the command line and in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Replay => "replay",
            Mode::Live => "live",
            Mode::Record => "record",
        }
    }
}

/// The four ways a trial can end.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, serde::Deserialize, PartialOrd, Ord,
)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Every expectation and the dialect contract held.
    Pass,
    /// The provider or subject broke an expectation or its dialect's contract.
    Fail,
    /// provcheck could not run the trial (no matching recording, unreadable recording, I/O).
    Error,
    /// Not run, with a reason (no recording, capability not declared, ignored).
    Skip,
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Status::Pass => "pass",
            Status::Fail => "fail",
            Status::Error => "error",
            Status::Skip => "skip",
        })
    }
}

/// One trial's outcome.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct Outcome {
    /// `suite::scenario::target`.
    pub trial: String,
    /// Suite name.
    pub suite: String,
    /// Scenario id.
    pub scenario: String,
    /// Scenario title.
    pub title: String,
    /// Category for the audit.
    pub category: String,
    /// Priority for the audit.
    pub priority: Priority,
    /// Tags.
    pub tags: Vec<String>,
    /// Target name.
    pub target: String,
    /// The target's dialect.
    pub dialect: DialectKind,
    /// Concrete models the scenario used on this target.
    pub models: Vec<String>,
    /// Replay or live.
    pub mode: Mode,
    /// How it ended.
    pub status: Status,
    /// One line: the first failure, the error, or the skip reason.
    pub message: Option<String>,
    /// Every finding, each with the location of the expectation it concerns.
    pub details: Vec<String>,
    /// The scenario's `file:line:col`.
    pub location: String,
    /// The recording used, if any.
    pub recording: Option<String>,
    /// The recording's provenance line.
    pub provenance: Option<String>,
    /// Wall-clock time of the trial in milliseconds.
    pub duration_ms: u64,
    /// Requests sent.
    pub requests: u32,
    /// SHA-256 of the recording file used, so a run record says exactly what was replayed.
    pub recording_sha256: Option<String>,
    /// One entry per request sent, in order.
    pub exchanges: Vec<ExchangeRecord>,
    /// What the trial cost at the provider: set only when it sent to a real API (live or
    /// record mode), never for trials served by the local mock.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spent: Option<Spent>,
    /// Record mode: the recording this trial's exchanges were written to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recorded: Option<String>,
}

/// Requests sent to a real API and the output tokens its replies reported.
#[derive(Debug, Clone, Copy, Default, Serialize, serde::Deserialize, PartialEq, Eq)]
pub struct Spent {
    /// HTTP requests that left the client (retries included).
    pub requests: u64,
    /// Output tokens the replies reported.
    pub output_tokens: u64,
}

impl Spent {
    /// Adds another spend to this one.
    pub fn add(&mut self, other: Spent) {
        self.requests += other.requests;
        self.output_tokens += other.output_tokens;
    }
}

/// What one request observed, kept for the run record and for drift diffs.
#[derive(Debug, Clone, Default, Serialize, serde::Deserialize, PartialEq)]
pub struct ExchangeRecord {
    /// Step index (0 for single-request scenarios).
    pub step: usize,
    /// Concurrent copy index.
    pub copy: usize,
    /// The concrete model requested.
    pub model: String,
    /// HTTP status, when a response arrived.
    pub status: Option<u16>,
    /// The transport error, when none did.
    pub transport_error: Option<String>,
    /// From send to the end of the body.
    pub elapsed_ms: u64,
    /// The model the provider says answered.
    pub reply_model: Option<String>,
    /// The finish reason as the provider sent it.
    pub raw_finish_reason: Option<String>,
    /// Normalized finish reason.
    pub finish_reason: Option<String>,
    /// Reported token usage.
    pub input_tokens: Option<u64>,
    /// Reported token usage.
    pub output_tokens: Option<u64>,
    /// The provider's error type, for error replies.
    pub error_type: Option<String>,
    /// Length of the assembled text in characters.
    pub text_chars: usize,
    /// Contract violations found in this reply.
    pub violations: Vec<String>,
    /// The reply body's shape: every field with its JSON type, values dropped.
    pub shape: Shape,
    /// Names of the response headers that matter for drift (request ids, rate limits, retry).
    pub headers: Vec<String>,
    /// For a streamed reply: the distinct event types in order of first appearance.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stream_event_types: Option<Vec<String>>,
    /// For a streamed reply: events received, time to first token and the longest gap (ms).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stream_timing: Option<StreamTiming>,
}

/// The timing of a streamed reply, in milliseconds.
#[derive(Debug, Clone, Copy, Default, Serialize, serde::Deserialize, PartialEq)]
pub struct StreamTiming {
    /// Events received.
    pub events: usize,
    /// From sending the request to the first content event.
    pub time_to_first_token_ms: Option<u64>,
    /// The longest pause between two events.
    pub max_gap_ms: u64,
}

/// A reply's [`shape`], shared: replies of one kind have the same shape, and a run of
/// thousands of trials keeps one copy of each distinct shape instead of one per exchange (it
/// was the largest part of a large run's memory). Reads as the `serde_json::Value` it holds,
/// and serializes as that value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shape(std::sync::Arc<serde_json::Value>);

impl Shape {
    /// The shape of `v`, shared with every earlier identical one.
    pub fn of(v: &serde_json::Value) -> Shape {
        Shape::from(shape(v))
    }
}

impl From<serde_json::Value> for Shape {
    fn from(v: serde_json::Value) -> Shape {
        use std::collections::HashSet;
        use std::sync::{Arc, Mutex, OnceLock};
        static SEEN: OnceLock<Mutex<HashSet<Arc<serde_json::Value>>>> = OnceLock::new();
        let mut seen = SEEN
            .get_or_init(Default::default)
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        if let Some(s) = seen.get(&v) {
            return Shape(s.clone());
        }
        let s = Arc::new(v);
        seen.insert(s.clone());
        Shape(s)
    }
}

impl Default for Shape {
    fn default() -> Shape {
        Shape::from(serde_json::Value::Null)
    }
}

impl std::ops::Deref for Shape {
    type Target = serde_json::Value;

    fn deref(&self) -> &serde_json::Value {
        &self.0
    }
}

impl Serialize for Shape {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(s)
    }
}

impl<'de> serde::Deserialize<'de> for Shape {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Shape, D::Error> {
        serde_json::Value::deserialize(d).map(Shape::from)
    }
}

/// The type skeleton of a JSON value: objects keep their keys, leaves become their type
/// name, arrays become the merged shape of their elements. Two replies with the same shape
/// differ only in content.
pub fn shape(v: &serde_json::Value) -> serde_json::Value {
    use serde_json::Value;
    match v {
        Value::Null => Value::String("null".into()),
        Value::Bool(_) => Value::String("boolean".into()),
        Value::Number(_) => Value::String("number".into()),
        Value::String(_) => Value::String("string".into()),
        Value::Object(m) => Value::Object(m.iter().map(|(k, v)| (k.clone(), shape(v))).collect()),
        Value::Array(items) => {
            let mut merged: Option<Value> = None;
            for item in items {
                let s = shape(item);
                merged = Some(match (merged, s) {
                    (Some(Value::Object(mut a)), Value::Object(b)) => {
                        for (k, v) in b {
                            a.entry(k).or_insert(v);
                        }
                        Value::Object(a)
                    }
                    (Some(a), _) => a,
                    (None, s) => s,
                });
            }
            Value::Array(merged.into_iter().collect())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::shape;
    use serde_json::json;

    #[test]
    fn shape_drops_values_and_merges_array_items() {
        let v = json!({"id": "x", "n": 3, "choices": [{"a": 1}, {"b": null}], "e": []});
        assert_eq!(
            shape(&v),
            json!({"id": "string", "n": "number", "choices": [{"a": "number", "b": "null"}], "e": []})
        );
    }
}

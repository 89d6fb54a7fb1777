//! What a scenario expects, as written in a suite. Every type here rejects unknown keys, so an
//! expectation on a field that does not exist is a load error with its location.
//!
//! Regexes and JSON Schemas compile while the suite loads: a bad pattern is reported at its
//! line, and no trial ever compiles one again.

use std::collections::BTreeSet;
use std::fmt;
use std::sync::Arc;

use serde::{Deserialize, Deserializer};
use serde_json::Value;

use crate::neutral::FinishReason;

/// The expectations of one request step (applied to every concurrent copy).
#[derive(Debug, Clone, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Expect {
    /// HTTP status of the reply.
    pub status: Option<u16>,
    /// The normalized finish reason, or any of a list.
    pub finish_reason: Option<OneOrMany<FinishReason>>,
    /// Checks on the assembled text.
    pub text: Option<TextExpect>,
    /// Checks on the text read as JSON.
    pub json: Option<JsonExpect>,
    /// Bounds on reported token usage.
    pub usage: Option<UsageExpect>,
    /// The error the request must end in.
    pub error: Option<ErrorExpect>,
    /// JSON-pointer checks on the raw reply body.
    #[serde(default)]
    pub raw: Vec<RawExpect>,
    /// Wall-clock bounds on each request, in milliseconds.
    pub elapsed_ms: Option<Bounds>,
    /// Checks across the concurrent copies of the request.
    pub concurrent: Option<ConcurrentExpect>,
    /// Checks on the model the provider says answered.
    pub model: Option<ModelExpect>,
    /// How many requests reached the mock during this step (fault scenarios).
    pub attempts: Option<Bounds>,
    /// The pauses between consecutive requests the mock saw, in ms.
    pub waits_ms: Option<WaitsExpect>,
    /// What the client's circuit breaker did during this step.
    pub circuit: Option<CircuitExpect>,
    /// Checks on a streamed reply.
    pub stream: Option<StreamExpect>,
    /// Checks on a model listing (Ollama `/api/ps`, `/api/tags`), by alias.
    pub models: Option<ModelsExpect>,
    /// Checks on the tool calls the reply made.
    pub tool_calls: Option<ToolCallsExpect>,
    /// How many choices the reply carries (OpenAI `n`): a number or `{min, max}`.
    pub choices: Option<Bounds>,
    /// The stop sequence the reply reports as the one that matched (Anthropic
    /// `stop_sequence`).
    pub stop_sequence: Option<String>,
    /// Checks on the output tokens' log probabilities (OpenAI `logprobs`).
    pub logprobs: Option<LogprobsExpect>,
    /// The tools the step's request offered, attached by the loader: a call to any other tool
    /// fails the step, and arguments are validated against the offered schemas.
    #[serde(skip)]
    pub offered_tools: Option<OfferedTools>,
    /// The step's request's `max_tokens`, attached by the loader: a finish reason is judged
    /// against whether the reply reached it.
    #[serde(skip)]
    pub max_tokens: Option<u32>,
    /// The schema of the step's request's strict `json_schema` response format, attached by
    /// the loader: a reply that keeps the contract satisfies it.
    #[serde(skip)]
    pub requested_schema: Option<Schema>,
    /// The step's request said `tool_choice: none`, attached by the loader: any tool call in
    /// the reply breaks the request's contract, whatever the model chose.
    #[serde(skip)]
    pub tools_forbidden: bool,
}

/// Checks on a reply's log probabilities (evaluated in `expect/params.rs`).
#[derive(Debug, Clone, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LogprobsExpect {
    /// Log probabilities must (true) or must not (false) come with the reply.
    pub present: Option<bool>,
    /// How many alternatives every token carries (`top_logprobs`).
    pub top_logprobs: Option<Bounds>,
}

/// Checks on the tool calls of a reply (evaluated in `expect/tools.rs`).
#[derive(Debug, Clone, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ToolCallsExpect {
    /// How many calls: a number, or `{min, max}`.
    pub count: Option<Bounds>,
    /// The called tools' names: a list (in this order, one per call) or `{any_order: [...]}`
    /// (the set of names called).
    pub names: Option<NamesExpect>,
    /// Every call's arguments parse and satisfy their schemas (true, the default), or some
    /// call's do not (false).
    pub arguments_valid: Option<bool>,
    /// A JSON Schema every call's parsed arguments must satisfy, besides its tool's own.
    pub schema: Option<Schema>,
    /// JSON-pointer checks on the parsed arguments; each must hold for at least one of the
    /// calls it selects.
    #[serde(default)]
    pub arguments: Vec<ArgumentExpect>,
}

/// Which tools were called.
#[derive(Debug, Clone, PartialEq)]
pub enum NamesExpect {
    /// One name per call, in order.
    InOrder(Vec<String>),
    /// The set of names called, whatever the order and repetitions.
    AnyOrder(Vec<String>),
}

// By hand rather than `untagged`, whose error hides what was wrong.
impl<'de> Deserialize<'de> for NamesExpect {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct AnyOrder {
            any_order: Vec<String>,
        }
        let v = Value::deserialize(d)?;
        let r = if v.is_array() {
            serde_json::from_value(v).map(NamesExpect::InOrder)
        } else {
            serde_json::from_value::<AnyOrder>(v).map(|a| NamesExpect::AnyOrder(a.any_order))
        };
        r.map_err(|e| {
            serde::de::Error::custom(format!(
                "`names` is a list of names (in order) or `{{any_order: [names]}}`: {e}"
            ))
        })
    }
}

impl NamesExpect {
    /// The names, whichever form.
    pub fn names(&self) -> &[String] {
        match self {
            NamesExpect::InOrder(n) | NamesExpect::AnyOrder(n) => n,
        }
    }
}

/// A JSON-pointer check on the parsed arguments of the selected calls (all of them, or those
/// `call` and `tool` pick).
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ArgumentExpect {
    /// Only the call at this position (0-based).
    pub call: Option<usize>,
    /// Only calls to this tool.
    pub tool: Option<String>,
    /// RFC 6901 pointer into the arguments, e.g. `/city`.
    pub pointer: String,
    /// The value there must equal this (`null` included).
    #[serde(default, deserialize_with = "present")]
    pub equals: Option<Value>,
    /// The pointer must (true) or must not (false) resolve.
    pub exists: Option<bool>,
}

/// Which models a listing must and must not contain, named by alias (resolved per target).
/// A listed `llama3.2:latest` counts as `llama3.2`.
#[derive(Debug, Clone, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ModelsExpect {
    /// Aliases whose models must be listed.
    #[serde(default)]
    pub includes: Vec<String>,
    /// Aliases whose models must not be listed.
    #[serde(default)]
    pub excludes: Vec<String>,
}

/// The pauses between the attempts the mock saw: one bound per pause, in order, and/or a
/// bound every pause must meet, and whether they must grow (exponential backoff).
#[derive(Debug, Clone, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct WaitsExpect {
    /// Bounds for the 1st, 2nd, ... pause.
    #[serde(default)]
    pub each: Vec<Bounds>,
    /// A bound for every pause.
    pub all: Option<Bounds>,
    /// Each pause is clearly longer than the one before (at least 1.2 times and 50 ms
    /// longer), as exponential backoff makes it.
    #[serde(default)]
    pub growing: bool,
}

/// What the circuit breaker did during a step.
#[derive(Debug, Clone, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CircuitExpect {
    /// The states it moved to, in order (`open`, `half_open`, `closed`).
    pub states: Option<Vec<crate::client::CircuitState>>,
    /// Requests that failed fast without reaching the mock.
    pub failed_fast: Option<Bounds>,
}

/// Checks on a streamed reply's shape and timing.
#[derive(Debug, Clone, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StreamExpect {
    /// The stream keeps its dialect's contract (true), or must break it (false: contract
    /// breaches are then what the scenario looks for, not failures).
    pub well_formed: Option<bool>,
    /// A contract breach whose text contains this must be found. That breach is then the
    /// scenario's subject rather than a failure; any other breach still fails the trial
    /// unless `well_formed: false` is also given.
    pub violation: Option<String>,
    /// Bounds on the number of events.
    pub events: Option<Bounds>,
    /// Bounds on the time from sending the request to the first content event, in ms.
    pub time_to_first_token_ms: Option<Bounds>,
    /// Bounds on the longest pause between two events, in ms.
    pub max_gap_ms: Option<Bounds>,
    /// The assembled text equals the text of this earlier step (0-based), e.g. the same
    /// prompt sent without streaming.
    pub same_text_as_step: Option<usize>,
}

impl StreamExpect {
    /// True when contract breaches are expected rather than failures.
    pub fn expects_breach(&self) -> bool {
        self.well_formed == Some(false) || self.violation.is_some()
    }
}

/// Checks on the reply's `model` field.
#[derive(Debug, Clone, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ModelExpect {
    /// The reply names the requested model, exactly or followed by a version suffix
    /// (`gpt-4o-mini` answered by `gpt-4o-mini-2024-07-18`).
    #[serde(default)]
    pub matches_request: bool,
    /// The reply names exactly this model.
    pub equals: Option<String>,
}

/// Distinguishes a key written as `null` from a missing key.
fn present<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Value>, D::Error> {
    Value::deserialize(d).map(Some)
}

/// One value or a list of accepted values.
#[derive(Debug, Clone, PartialEq)]
pub enum OneOrMany<T> {
    /// Exactly this value.
    One(T),
    /// Any of these values.
    Many(Vec<T>),
}

// Not `#[serde(untagged)]`: its error ("did not match any variant") hides the real one, such as
// the list of valid finish reasons.
impl<'de, T: serde::de::DeserializeOwned> Deserialize<'de> for OneOrMany<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = Value::deserialize(d)?;
        let r = if v.is_array() {
            serde_json::from_value(v).map(OneOrMany::Many)
        } else {
            serde_json::from_value(v).map(OneOrMany::One)
        };
        r.map_err(serde::de::Error::custom)
    }
}

impl<T: PartialEq> OneOrMany<T> {
    /// True when `v` is accepted.
    pub fn accepts(&self, v: &T) -> bool {
        match self {
            OneOrMany::One(x) => x == v,
            OneOrMany::Many(xs) => xs.contains(v),
        }
    }
}

/// Inclusive numeric bounds; either side may be open. A bare number means exactly that.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Bounds {
    /// Lower bound, inclusive.
    pub min: Option<u64>,
    /// Upper bound, inclusive.
    pub max: Option<u64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct BoundsMap {
    min: Option<u64>,
    max: Option<u64>,
}

impl<'de> Deserialize<'de> for Bounds {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = Bounds;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a non-negative number or `{min, max}`")
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Bounds, E> {
                Ok(Bounds {
                    min: Some(v),
                    max: Some(v),
                })
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Bounds, E> {
                u64::try_from(v)
                    .map(|v| Bounds {
                        min: Some(v),
                        max: Some(v),
                    })
                    .map_err(|_| E::custom("bounds must not be negative"))
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, map: A) -> Result<Bounds, A::Error> {
                let m = BoundsMap::deserialize(serde::de::value::MapAccessDeserializer::new(map))?;
                if let (Some(a), Some(b)) = (m.min, m.max)
                    && a > b
                {
                    return Err(serde::de::Error::custom(format!(
                        "min ({a}) is greater than max ({b})"
                    )));
                }
                Ok(Bounds {
                    min: m.min,
                    max: m.max,
                })
            }
        }
        d.deserialize_any(V)
    }
}

impl Bounds {
    /// True when `v` lies within the bounds.
    pub fn contains(&self, v: u64) -> bool {
        self.min.is_none_or(|m| v >= m) && self.max.is_none_or(|m| v <= m)
    }
}

impl fmt::Display for Bounds {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.min, self.max) {
            (Some(a), Some(b)) => write!(f, "{a}..={b}"),
            (Some(a), None) => write!(f, ">= {a}"),
            (None, Some(b)) => write!(f, "<= {b}"),
            (None, None) => write!(f, "any"),
        }
    }
}

/// Checks on the reply text.
#[derive(Debug, Clone, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TextExpect {
    /// The text must (true) or must not (false) be non-empty.
    pub non_empty: Option<bool>,
    /// A substring the text must contain.
    pub contains: Option<String>,
    /// A substring the text must not contain.
    pub not_contains: Option<String>,
    /// A regex the text must match (searched, not anchored).
    pub matches: Option<Pattern>,
    /// The text's length limit, in characters.
    pub max_chars: Option<usize>,
}

/// A compiled regular expression that remembers its source.
#[derive(Clone)]
pub struct Pattern(pub Arc<regex::Regex>);

impl fmt::Debug for Pattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "/{}/", self.0.as_str())
    }
}

impl<'de> Deserialize<'de> for Pattern {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        regex::Regex::new(&s)
            .map(|r| Pattern(Arc::new(r)))
            .map_err(|e| serde::de::Error::custom(format!("invalid regex: {e}")))
    }
}

/// Checks on the reply text read as JSON.
#[derive(Debug, Clone, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct JsonExpect {
    /// The text must (true) or must not (false) parse as JSON.
    pub valid: Option<bool>,
    /// A JSON Schema the parsed text must satisfy.
    pub schema: Option<Schema>,
}

/// A compiled JSON Schema that remembers its source.
#[derive(Clone)]
pub struct Schema {
    /// The schema as written.
    pub source: Value,
    /// The compiled validator, shared by every trial that uses it.
    pub validator: Arc<jsonschema::Validator>,
}

impl fmt::Debug for Schema {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Schema({})", self.source)
    }
}

impl<'de> Deserialize<'de> for Schema {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let source = Value::deserialize(d)?;
        let validator = jsonschema::validator_for(&source)
            .map_err(|e| serde::de::Error::custom(format!("invalid JSON Schema: {e}")))?;
        Ok(Schema {
            source,
            validator: Arc::new(validator),
        })
    }
}

/// Bounds on token usage.
#[derive(Debug, Clone, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct UsageExpect {
    /// Usage must be reported (true) or may be absent (false, the default).
    #[serde(default)]
    pub present: bool,
    /// Bounds on prompt tokens.
    pub input_tokens: Option<Bounds>,
    /// Bounds on generated tokens.
    pub output_tokens: Option<Bounds>,
}

/// How a request failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// The provider answered with a non-2xx status.
    Http,
    /// The client gave up at its deadline.
    Timeout,
    /// The connection failed or was cut.
    Connection,
    /// A stream that started with 200 carried an error event.
    Stream,
    /// The client's circuit breaker refused to send.
    CircuitOpen,
}

impl ErrorKind {
    /// The name used in suites.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::Http => "http",
            ErrorKind::Timeout => "timeout",
            ErrorKind::Connection => "connection",
            ErrorKind::CircuitOpen => "circuit_open",
            ErrorKind::Stream => "stream",
        }
    }
}

/// The error a request must end in.
#[derive(Debug, Clone, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ErrorExpect {
    /// What kind of failure (default: http).
    pub kind: Option<ErrorKind>,
    /// The HTTP status.
    pub status: Option<u16>,
    /// The provider's error type, e.g. `invalid_request_error`.
    #[serde(rename = "type")]
    pub kind_name: Option<String>,
    /// The provider's error code, e.g. `invalid_value`.
    pub code: Option<String>,
    /// The parameter the error names (OpenAI `param`), e.g. `temperature`.
    pub param: Option<String>,
    /// A substring of the error message.
    pub message_contains: Option<String>,
}

/// A JSON-pointer check on the raw reply body.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawExpect {
    /// RFC 6901 pointer, e.g. `/choices/0/message/role`.
    pub pointer: String,
    /// The value there must equal this (`null` included).
    #[serde(default, deserialize_with = "present")]
    pub equals: Option<Value>,
    /// The pointer must (true) or must not (false) resolve.
    pub exists: Option<bool>,
}

/// Checks across the concurrent copies of a request.
#[derive(Debug, Clone, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ConcurrentExpect {
    /// Every copy got a reply with its own id.
    #[serde(default)]
    pub distinct_ids: bool,
}

impl Expect {
    /// Every expectation key, in the order they are checked.
    pub const KEYS: [&'static str; 16] = [
        "status",
        "finish_reason",
        "text",
        "json",
        "usage",
        "error",
        "raw",
        "elapsed_ms",
        "concurrent",
        "model",
        "stream",
        "models",
        "attempts",
        "waits_ms",
        "circuit",
        "tool_calls",
    ];

    /// The names of the keys set, in the order they are checked (used to point failures at
    /// their line).
    pub fn keys(&self) -> BTreeSet<&'static str> {
        let mut k = BTreeSet::new();
        let pairs: [(&'static str, bool); 15] = [
            ("status", self.status.is_some()),
            ("finish_reason", self.finish_reason.is_some()),
            ("text", self.text.is_some()),
            ("json", self.json.is_some()),
            ("usage", self.usage.is_some()),
            ("error", self.error.is_some()),
            ("raw", !self.raw.is_empty()),
            ("elapsed_ms", self.elapsed_ms.is_some()),
            ("concurrent", self.concurrent.is_some()),
            ("model", self.model.is_some()),
            ("stream", self.stream.is_some()),
            ("models", self.models.is_some()),
            ("attempts", self.attempts.is_some()),
            ("waits_ms", self.waits_ms.is_some()),
            ("circuit", self.circuit.is_some()),
        ];
        for (name, set) in pairs {
            if set {
                k.insert(name);
            }
        }
        if self.tool_calls.is_some() {
            k.insert("tool_calls");
        }
        let params = [
            ("choices", self.choices.is_some()),
            ("stop_sequence", self.stop_sequence.is_some()),
            ("logprobs", self.logprobs.is_some()),
        ];
        for (name, set) in params {
            if set {
                k.insert(name);
            }
        }
        k
    }
}
/// A tool a request offered, with its compiled parameters schema.
#[derive(Debug, Clone)]
pub struct OfferedTool {
    /// The tool's name.
    pub name: String,
    /// Its parameters schema, when it declared one.
    pub schema: Option<Schema>,
}

/// The tools one request offered, shared by every expectation of its step.
pub type OfferedTools = Arc<[OfferedTool]>;

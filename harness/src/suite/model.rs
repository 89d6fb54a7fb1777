//! The typed model of a suite file. Deserialized by the YAML reader in `source`; unknown keys are rejected
//! everywhere so a typo is an error, not a silently ignored check.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::expect::Expect;
use crate::source::Location;
pub use crate::vocab::{Capability, Priority};

/// The override key that applies in gateway mode (`--gateway`), before any target or dialect
/// key: what a gateway should do can differ from what provcheck's own client does.
pub const GATEWAY_OVERRIDE: &str = "gateway";

/// The override key that applies in client mode (`--client-cmd`), before any target or
/// dialect key: what a client reports can be judged where the wire cannot (a cut stream is an
/// error the client surfaces, not a stream provcheck decodes).
pub const CLIENT_OVERRIDE: &str = "client";

/// One suite file as written.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SuiteFile {
    /// The suite's name; trials are named `suite::scenario::target`.
    #[schemars(regex(pattern = r"^[a-z0-9_-]+$"))]
    pub suite: String,
    /// Default category for the scenarios (the audit groups by it).
    pub category: String,
    /// What the suite covers, for the audit.
    #[serde(default)]
    pub description: Option<String>,
    /// Named server-side resources and how many trials of one target may hold each at once
    /// (live and record modes), as nextest's test groups: `resources: { model-store: 1 }`.
    #[serde(default)]
    pub resources: BTreeMap<String, u32>,
    /// The scenarios.
    pub scenarios: Vec<Scenario>,
}

/// One behaviour to check.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// Unique within its suite; `[a-z0-9_-]+` so it can name a recording file.
    #[schemars(regex(pattern = r"^[a-z0-9_-]+$"))]
    pub id: String,
    /// One line saying what is checked.
    pub title: String,
    /// Overrides the suite's category.
    #[serde(default)]
    pub category: Option<String>,
    /// Weight in the audit.
    #[serde(default)]
    pub priority: Priority,
    /// Capabilities a target must declare for the scenario to run there.
    #[serde(default)]
    pub requires: Vec<Capability>,
    /// Free-form labels selected with `--tag`.
    #[serde(default)]
    pub tags: Vec<String>,
    /// Only targets speaking these dialects run it (default: all); the others get a trial
    /// skipped as not applicable. Gives no reason, so `lint` refuses it: prefer
    /// `not_applicable`.
    #[serde(default)]
    pub dialects: Option<Vec<crate::dialect::DialectKind>>,
    /// The dialects whose API does not define the behaviour, each with the reason (e.g.
    /// `anthropic: The Messages API has no n parameter`): their targets get a trial skipped
    /// as not applicable, with the reason, instead of a run. Every other dialect runs it.
    #[serde(default)]
    pub not_applicable: BTreeMap<crate::dialect::DialectKind, String>,
    /// Marks the scenario ignored (run with `--ignored`), with the reason.
    #[serde(default)]
    pub ignore: Option<String>,
    /// The whole trial's deadline in milliseconds.
    #[serde(default)]
    pub deadline_ms: Option<u64>,
    /// How many identical copies of each request are sent at once.
    #[serde(default = "one")]
    #[schemars(range(min = 1))]
    pub concurrency: u32,
    /// The scenario changes what the server holds (loads, unloads, pulls or switches models):
    /// in live and record modes no other trial of the same target runs while it does.
    #[serde(default)]
    pub exclusive: bool,
    /// A resource declared in the suite's `resources`: at most its limit of trials of one
    /// target that name it run at once (live and record modes).
    #[serde(default)]
    pub resource: Option<String>,
    /// The limit of `resource`, from the suite's `resources` (filled by the loader).
    #[serde(skip)]
    pub resource_limit: Option<u32>,
    /// Send the scenario's requests this many times (default 1), each repetition a request
    /// counted against the run's budgets. Contract expectations must hold on every
    /// repetition; behaviour expectations on at least `pass_rate` of them.
    #[serde(default)]
    #[schemars(range(min = 1))]
    pub repeat: Option<u32>,
    /// With `repeat`: the fraction of repetitions (0 < rate <= 1, default 1) whose behaviour
    /// expectations must all hold.
    #[serde(default)]
    #[schemars(extend("exclusiveMinimum" = 0, "maximum" = 1))]
    pub pass_rate: Option<f64>,
    /// A single request (shorthand for one step).
    #[serde(default)]
    pub request: Option<RequestSpec>,
    /// Expectations for the single request.
    #[serde(default)]
    pub expect: Option<Expect>,
    /// Per-dialect or per-target expectations replacing `expect` where providers differ; the
    /// key [`GATEWAY_OVERRIDE`] replaces it in gateway mode.
    #[serde(default)]
    pub overrides: BTreeMap<String, Expect>,
    /// Several requests sent in order (a conversation, a switch between models).
    #[serde(default)]
    pub steps: Vec<Step>,
    /// A fault script: what the local mock does with each request, in order. Scenarios with
    /// a script always run on the mock, in every mode.
    #[serde(default)]
    pub mock: Vec<MockStep>,
    /// The client's resilience policy for this scenario, over the target's.
    #[serde(default)]
    pub client: Option<crate::client::PolicySpec>,
    /// Where its `dialects` list is written, if it has one (filled by the loader).
    #[serde(skip)]
    pub dialects_location: Option<Location>,
    /// Where the scenario starts in its file (filled by the loader).
    #[serde(skip)]
    pub location: Location,
    /// Where each expectation key is written, keyed `step.key` (filled by the loader).
    #[serde(skip)]
    pub expect_locations: BTreeMap<String, Location>,
}

fn one() -> u32 {
    1
}

/// Why a scenario with these `not_applicable` reasons and `dialects` list does not apply to
/// `dialect`: its reason, or, for a dialect the list leaves out, a note that none was given.
/// `None` where it applies. The run record's copy of a scenario answers the same way.
pub fn not_applicable_reason(
    not_applicable: &BTreeMap<crate::dialect::DialectKind, String>,
    dialects: Option<&[crate::dialect::DialectKind]>,
    dialect: crate::dialect::DialectKind,
) -> Option<String> {
    if let Some(reason) = not_applicable.get(&dialect) {
        return Some(reason.trim().to_string());
    }
    let ds = dialects.filter(|ds| !ds.contains(&dialect))?;
    let names: Vec<&str> = ds.iter().map(|d| d.as_str()).collect();
    Some(format!(
        "scenario limited to {} (no reason given)",
        names.join(", ")
    ))
}

impl Scenario {
    /// Why the scenario does not apply to `dialect`: its `not_applicable` reason, or, for a
    /// dialect left out of `dialects`, a note that none was given. `None` where it applies.
    pub fn not_applicable_to(&self, dialect: crate::dialect::DialectKind) -> Option<String> {
        not_applicable_reason(&self.not_applicable, self.dialects.as_deref(), dialect)
    }

    /// The dialects the scenario leaves out without a reason (by `dialects:`).
    pub fn unexplained_exclusions(&self) -> Vec<crate::dialect::DialectKind> {
        let Some(ds) = &self.dialects else {
            return Vec::new();
        };
        crate::dialect::DialectKind::ALL
            .into_iter()
            .filter(|d| !ds.contains(d) && !self.not_applicable.contains_key(d))
            .collect()
    }

    /// How many times the scenario's requests are sent (`repeat`, at least 1).
    pub fn repetitions(&self) -> u32 {
        self.repeat.unwrap_or(1).max(1)
    }

    /// The fraction of repetitions that must keep the behaviour expectations.
    pub fn pass_rate(&self) -> f64 {
        self.pass_rate.unwrap_or(1.0)
    }
}

/// One request of a multi-step scenario.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Step {
    /// Wait this long before sending the step's request, in ms (e.g. past a breaker's cooldown).
    #[serde(default)]
    pub pause_ms: Option<u64>,
    /// The request.
    pub request: RequestSpec,
    /// What its reply must satisfy.
    #[serde(default)]
    pub expect: Expect,
    /// Per-dialect, per-target or gateway-mode replacements for `expect`.
    #[serde(default)]
    pub overrides: BTreeMap<String, Expect>,
}

/// A request in suite form: the model is an alias that each target resolves.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(extend("not" = {"required": ["patch", "raw_body"]}))]
pub struct RequestSpec {
    /// A model alias (`small`, `second`, `tools`, ...) resolved per target.
    #[serde(default = "small")]
    pub model: String,
    /// A system prompt, placed before the messages.
    #[serde(default)]
    pub system: Option<String>,
    /// What to call: a chat (default) or one of Ollama's model-management endpoints.
    #[serde(default)]
    pub op: Op,
    /// The conversation (required for `chat`).
    #[serde(default)]
    pub messages: Vec<MessageSpec>,
    /// Upper bound on generated tokens.
    #[serde(default)]
    pub max_tokens: Option<u32>,
    /// Sampling temperature.
    #[serde(default)]
    pub temperature: Option<f64>,
    /// Requested output format.
    #[serde(default)]
    pub response_format: Option<FormatSpec>,
    /// The client's deadline for this request in milliseconds.
    #[serde(default)]
    pub timeout_ms: Option<u64>,
    /// Ask for a streamed reply (OpenAI also gets `stream_options.include_usage`).
    #[serde(default)]
    pub stream: bool,
    /// Tools the model may call.
    #[serde(default)]
    pub tools: Vec<super::tool_spec::ToolSpec>,
    /// Whether and which tool must be called: `auto`, `none`, `required` or `{name: tool}`.
    #[serde(default)]
    pub tool_choice: Option<super::tool_spec::ToolChoiceSpec>,
    /// Allow or forbid several tool calls in one reply.
    #[serde(default)]
    pub parallel_tool_calls: Option<bool>,
    /// Stop sequences.
    #[serde(default)]
    pub stop: Vec<String>,
    /// Nucleus sampling.
    #[serde(default)]
    pub top_p: Option<f64>,
    /// How many choices to generate (OpenAI `n`).
    #[serde(default)]
    pub n: Option<u32>,
    /// A sampling seed.
    #[serde(default)]
    pub seed: Option<i64>,
    /// Ask for the output tokens' log probabilities.
    #[serde(default)]
    pub logprobs: Option<bool>,
    /// How many alternatives per token, with `logprobs`.
    #[serde(default)]
    pub top_logprobs: Option<u32>,
    /// A JSON merge patch (RFC 7396) applied to the encoded body: `null` removes a field, any
    /// other value replaces or adds it. For sending what the typed fields can't express (a
    /// missing or mistyped field, an out-of-range value).
    #[serde(default)]
    #[schemars(with = "Option<serde_json::Map<String, Value>>")]
    pub patch: Option<Value>,
    /// A body sent exactly as written instead of the encoded one (a body that is not JSON).
    #[serde(default)]
    pub raw_body: Option<String>,
}

fn small() -> String {
    "small".to_string()
}

/// One action of a fault script, repeated `times` times. Exactly one of `status`, `drop`
/// and `recorded`.
#[derive(Debug, Clone, PartialEq, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MockStep {
    /// How many requests in a row get this action.
    #[serde(default = "one")]
    #[schemars(range(min = 1))]
    pub times: u32,
    /// Answer with this status; the body is the dialect's documented error body unless
    /// `body` is given.
    #[serde(default)]
    pub status: Option<u16>,
    /// Response headers (`retry-after`, `retry-after-ms`, `x-should-retry`, ...).
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// A JSON body replacing the dialect's error body.
    #[serde(default)]
    pub body: Option<Value>,
    /// Close the connection without answering.
    #[serde(default)]
    pub drop: bool,
    /// Answer with the scenario's recorded exchange (its fixture).
    #[serde(default)]
    pub recorded: bool,
    /// Wait this long before sending headers, in ms.
    #[serde(default)]
    pub delay_ms: Option<u64>,
    /// With a recorded stream: cut the connection after this many events.
    #[serde(default)]
    pub cut_after: Option<usize>,
    /// With a recorded stream: send the events this far apart, in ms (a slow stream).
    #[serde(default)]
    pub event_gap_ms: Option<u64>,
    /// With a recorded stream: after this many events, send the dialect's mid-stream error
    /// event (`body` replaces its JSON) and end the stream without its terminal marker.
    #[serde(default)]
    pub error_after: Option<usize>,
    /// With a recorded stream: after this many events, pause `pause_ms` (a gap between events).
    #[serde(default)]
    pub pause_after: Option<usize>,
    /// How long the pause of `pause_after` lasts, in ms.
    #[serde(default)]
    pub pause_ms: Option<u64>,
    /// With a recorded whole (non-streamed) reply: every tool call in it carries these
    /// arguments instead, encoded as the dialect encodes arguments.
    #[serde(default)]
    pub tool_arguments: Option<Value>,
}

impl MockStep {
    /// Whether the step reshapes the recorded (or forwarded) reply it serves.
    pub fn reshapes(&self) -> bool {
        self.cut_after.is_some()
            || self.event_gap_ms.is_some()
            || self.error_after.is_some()
            || self.pause_after.is_some()
            || self.pause_ms.is_some()
            || self.tool_arguments.is_some()
    }
}

/// The endpoint a request calls.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize, schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Op {
    /// A chat completion in the target's dialect.
    #[default]
    Chat,
    /// Ollama `POST /api/pull` with streamed progress (needs `model_pull`).
    Pull,
    /// Ollama `GET /api/ps`: the running models (needs `model_management`).
    Ps,
    /// Ollama `GET /api/tags`: the local models (needs `model_management`).
    Tags,
    /// Ollama `POST /api/show`: one model's details (needs `model_management`).
    Show,
    /// Ollama `POST /api/chat` with no messages and `keep_alive: 0` (needs `model_management`).
    Unload,
    /// Ollama `POST /api/generate` with the last message as the prompt, not streamed.
    Generate,
}

impl Op {
    /// The capability a target must declare for this operation.
    pub fn capability(self) -> Option<Capability> {
        match self {
            Op::Chat | Op::Generate => None,
            Op::Pull => Some(Capability::ModelPull),
            Op::Ps | Op::Tags | Op::Show | Op::Unload => Some(Capability::ModelManagement),
        }
    }
}

/// A message: `{user: text}` shorthand, `{role: r, content: text}` for any role (including
/// malformed ones sent on purpose), an assistant turn that called tools
/// (`{tool_calls: [...]}`, with an optional `assistant: text`), or a tool result
/// (`{tool_result: {call_id, content}}`).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(try_from = "RawMessage")]
pub struct MessageSpec {
    /// The role as it will be sent.
    pub role: String,
    /// The text.
    pub content: String,
    /// The calls an assistant turn made.
    pub tool_calls: Vec<super::tool_spec::ToolCallSpec>,
    /// Set on a tool result turn.
    pub tool_result: Option<super::tool_spec::ToolResultSpec>,
    /// Content given as parts (`{role: r, parts: [...]}`), sent instead of `content`.
    pub parts: Vec<PartSpec>,
}

/// One part of a message's content: `{text: ...}` or `{image: {media_type, data}}`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(try_from = "RawPart")]
pub enum PartSpec {
    /// A text part.
    Text(String),
    /// An inline image.
    Image(ImageSpec),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPart {
    text: Option<String>,
    image: Option<ImageSpec>,
}

impl TryFrom<RawPart> for PartSpec {
    type Error = String;

    fn try_from(p: RawPart) -> Result<Self, String> {
        match (p.text, p.image) {
            (Some(t), None) => Ok(PartSpec::Text(t)),
            (None, Some(i)) => Ok(PartSpec::Image(i)),
            _ => Err("a part is either `{text: ...}` or `{image: {media_type, data}}`".into()),
        }
    }
}

/// An inline image.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ImageSpec {
    /// Its media type: `image/png`, `image/jpeg`, `image/gif` or `image/webp`.
    pub media_type: String,
    /// The image bytes, base64-encoded.
    pub data: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMessage {
    user: Option<String>,
    assistant: Option<String>,
    system: Option<String>,
    developer: Option<String>,
    role: Option<String>,
    content: Option<String>,
    tool_calls: Option<Vec<super::tool_spec::ToolCallSpec>>,
    tool_result: Option<super::tool_spec::ToolResultSpec>,
    parts: Option<Vec<PartSpec>>,
}

impl TryFrom<RawMessage> for MessageSpec {
    type Error = String;

    fn try_from(m: RawMessage) -> Result<Self, String> {
        const EITHER: &str = "a message is either `{user|assistant|system|developer: text}`, `{role: r, content: text}`, `{role: r, parts: [...]}`, `{tool_calls: [...]}` (with an optional `assistant: text`) or `{tool_result: {call_id, content}}`";
        let others = m.user.is_some()
            || m.system.is_some()
            || m.developer.is_some()
            || m.role.is_some()
            || m.content.is_some()
            || m.parts.is_some();
        if let Some(parts) = m.parts {
            let alone = m.user.is_none()
                && m.system.is_none()
                && m.developer.is_none()
                && m.assistant.is_none()
                && m.content.is_none()
                && m.tool_calls.is_none()
                && m.tool_result.is_none();
            return match (m.role, alone, parts.is_empty()) {
                (Some(role), true, false) => Ok(MessageSpec {
                    role,
                    content: String::new(),
                    tool_calls: Vec::new(),
                    tool_result: None,
                    parts,
                }),
                (_, _, true) => Err("`parts` is empty: give at least one part".into()),
                _ => Err(format!("{EITHER}; `parts` goes with `role` only")),
            };
        }
        if let Some(r) = m.tool_result {
            if others || m.assistant.is_some() || m.tool_calls.is_some() {
                return Err(format!("{EITHER}; `tool_result` stands alone"));
            }
            return Ok(MessageSpec {
                role: "tool".into(),
                content: r.text(),
                tool_calls: Vec::new(),
                tool_result: Some(r),
                parts: Vec::new(),
            });
        }
        if let Some(calls) = m.tool_calls {
            if others {
                return Err(format!(
                    "{EITHER}; `tool_calls` goes with `assistant: text` or alone"
                ));
            }
            if calls.is_empty() {
                return Err(
                    "`tool_calls` is empty: an assistant turn with calls has at least one".into(),
                );
            }
            return Ok(MessageSpec {
                role: "assistant".into(),
                content: m.assistant.unwrap_or_default(),
                tool_calls: calls,
                tool_result: None,
                parts: Vec::new(),
            });
        }
        let short = [
            ("user", m.user),
            ("assistant", m.assistant),
            ("system", m.system),
            ("developer", m.developer),
        ];
        let mut given: Vec<(&str, String)> = short
            .into_iter()
            .filter_map(|(r, c)| c.map(|c| (r, c)))
            .collect();
        match (given.len(), m.role, m.content) {
            (1, None, None) => {
                let (role, content) = given.remove(0);
                Ok(MessageSpec {
                    role: role.to_string(),
                    content,
                    tool_calls: Vec::new(),
                    tool_result: None,
                    parts: Vec::new(),
                })
            }
            (0, Some(role), Some(content)) => Ok(MessageSpec {
                role,
                content,
                tool_calls: Vec::new(),
                tool_result: None,
                parts: Vec::new(),
            }),
            (0, Some(_), None) => Err("a message with `role` needs `content`".into()),
            _ => Err(EITHER.into()),
        }
    }
}

/// The output format in suite form: `text`, `json_object`, or `{json_schema: {name, schema,
/// strict}}`.
#[derive(Debug, Clone, PartialEq)]
pub enum FormatSpec {
    /// Plain text.
    Text,
    /// Any JSON object.
    JsonObject,
    /// JSON valid against `schema`.
    JsonSchema {
        /// Schema name.
        name: String,
        /// The schema.
        schema: Value,
        /// Strict enforcement.
        strict: bool,
    },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct JsonSchemaSpec {
    name: String,
    schema: Value,
    #[serde(default)]
    strict: bool,
}

impl<'de> Deserialize<'de> for FormatSpec {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = FormatSpec;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("`text`, `json_object` or `{json_schema: {name, schema, strict}}`")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<FormatSpec, E> {
                match v {
                    "text" => Ok(FormatSpec::Text),
                    "json_object" => Ok(FormatSpec::JsonObject),
                    other => Err(E::unknown_variant(
                        other,
                        &["text", "json_object", "json_schema"],
                    )),
                }
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<FormatSpec, A::Error> {
                let key: String = map
                    .next_key()?
                    .ok_or_else(|| serde::de::Error::custom("empty response_format"))?;
                if key != "json_schema" {
                    return Err(serde::de::Error::unknown_field(&key, &["json_schema"]));
                }
                let spec: JsonSchemaSpec = map.next_value()?;
                if let Some(extra) = map.next_key::<String>()? {
                    return Err(serde::de::Error::unknown_field(&extra, &[]));
                }
                Ok(FormatSpec::JsonSchema {
                    name: spec.name,
                    schema: spec.schema,
                    strict: spec.strict,
                })
            }
        }
        d.deserialize_any(V)
    }
}

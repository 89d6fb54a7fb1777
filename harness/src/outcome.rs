//! The result of one trial, as every reporter reads it. Reporters see only this type; they
//! never reach back into the run.

use std::fmt;

use serde::Serialize;

use crate::dialect::DialectKind;
use crate::vocab::Priority;

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
    /// What the trial judged.
    pub subject: Subject,
    /// Client mode (`--client-cmd`, `--client`): the name of the client under test, the
    /// trial's subject.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client: Option<String>,
    /// Whether any request of the trial was answered by the target: by its real API (live
    /// and record modes, sent directly or forwarded by the mock behind a fault script; a
    /// request that timed out once sent counts), or in replay by its recording, which stands
    /// in for it. False when every request met a scripted fault, or none got through: such a
    /// trial is no evidence about the target.
    #[serde(default)]
    pub reached_target: bool,
    /// How it ended.
    pub status: Status,
    /// Why it did not run (set exactly when the status is [`Status::Skip`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub skip: Option<Skip>,
    /// Why provcheck could not judge it (set exactly when the status is [`Status::Error`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<TrialError>,
    /// Every breach found, in the order found; a failed trial has at least one.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub findings: Vec<Finding>,
    /// Record mode: why this trial's exchanges were not written as a recording.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_recorded: Option<String>,
    /// The scenario's `file:line:col`.
    pub location: String,
    /// The recording used, if any.
    pub recording: Option<String>,
    /// Where the recording came from.
    pub provenance: Option<Provenance>,
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
    /// The scenario has behaviour expectations (text, which tool, argument values): the trial
    /// is evidence about the model's behaviour as well as the wire.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub behaviour_checked: bool,
    /// `repeat: N`: how many repetitions ran and how many kept the behaviour expectations.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repetitions: Option<Repetitions>,
}

/// How a scenario's repetitions went (`repeat: N`, `pass_rate`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, serde::Deserialize)]
pub struct Repetitions {
    /// Repetitions sent.
    pub n: u32,
    /// Repetitions whose behaviour expectations all held.
    pub behaviour_passed: u32,
    /// The fraction of repetitions that must keep the behaviour expectations.
    pub pass_rate: f64,
}

impl Repetitions {
    /// True when enough repetitions kept the behaviour expectations.
    pub fn behaviour_holds(&self) -> bool {
        self.n > 0 && f64::from(self.behaviour_passed) >= self.pass_rate * f64::from(self.n) - 1e-9
    }
}

/// What a run does with a trial whose only findings are behaviour findings
/// (`--behaviour fail|warn`).
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, serde::Deserialize, clap::ValueEnum,
)]
#[serde(rename_all = "snake_case")]
pub enum BehaviourMode {
    /// The trial fails, as for a contract breach (the default).
    #[default]
    Fail,
    /// The trial passes with its behaviour findings kept as warnings: the run gates on the
    /// contract alone.
    Warn,
}

impl BehaviourMode {
    /// The name used on the command line and in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            BehaviourMode::Fail => "fail",
            BehaviourMode::Warn => "warn",
        }
    }
}

impl Outcome {
    /// The skip's kind, for a skipped trial.
    pub fn skip_kind(&self) -> Option<SkipKind> {
        self.skip.as_ref().map(|s| s.kind)
    }

    /// Marks the trial skipped.
    pub fn set_skip(&mut self, skip: Skip) {
        self.status = Status::Skip;
        self.skip = Some(skip);
    }

    /// Findings about the wire (and those of no class: a missed deadline, a request that got
    /// no reply), in the order found.
    pub fn contract_findings(&self) -> impl Iterator<Item = &Finding> {
        self.findings.iter().filter(|f| !f.is_behaviour())
    }

    /// Findings about what the model chose to say, in the order found.
    pub fn behaviour_findings(&self) -> impl Iterator<Item = &Finding> {
        self.findings.iter().filter(|f| f.is_behaviour())
    }

    /// A pass that kept behaviour findings as warnings (`--behaviour warn`).
    pub fn behaviour_warning(&self) -> bool {
        self.status == Status::Pass && self.findings.iter().any(Finding::is_behaviour)
    }

    /// Whether the trial is evidence about the target: some request reached it or its
    /// recording. A trial whose every reply came from a fault script judged the client.
    pub fn reached_target(&self) -> bool {
        self.subject == Subject::Provider
    }

    /// Whether the trial judged the provider: it reached the target, and no client under test
    /// (`--client-cmd`) stood between (then the client's reading of the replies is judged).
    pub fn judged_provider(&self) -> bool {
        self.reached_target() && self.client.is_none()
    }

    /// The client a trial judged, as the audit names it: the client under test, a gateway, or
    /// provcheck's own client; `None` when the trial judged the provider.
    pub fn judged_client(&self) -> Option<&str> {
        match (&self.client, self.subject) {
            (Some(name), _) => Some(name),
            (None, Subject::Gateway) => Some("gateway"),
            (None, Subject::Client) => Some("provcheck"),
            (None, _) => None,
        }
    }

    /// Sets the verdict from the findings: any contract finding fails the trial; behaviour
    /// findings alone fail it under [`BehaviourMode::Fail`] and leave it passing, with the
    /// findings kept as warnings, under [`BehaviourMode::Warn`]. A trial without findings
    /// keeps its status.
    pub fn settle_verdict(&mut self, mode: BehaviourMode) {
        if self.findings.is_empty() || matches!(self.status, Status::Error | Status::Skip) {
            return;
        }
        let contract = self.findings.iter().any(|f| !f.is_behaviour());
        self.status = if contract || mode == BehaviourMode::Fail {
            Status::Fail
        } else {
            Status::Pass
        };
    }

    /// Marks the trial errored: provcheck could not judge it.
    pub fn set_error(&mut self, kind: ErrorKind, message: impl Into<String>) {
        self.status = Status::Error;
        self.error = Some(TrialError {
            kind,
            message: message.into(),
        });
    }
}

/// What a trial judged. A trial that never reached the target is no evidence about it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Subject {
    /// The provider's replies, against the contract (served live, or from its recording).
    Provider,
    /// provcheck's own client (its retry, backoff and breaker policy), meeting a fault script
    /// on the mock; whether the target's own replies took part is the outcome's
    /// `reached_target`.
    Client,
    /// A gateway under test (`--gateway`), whose upstream is the mock.
    Gateway,
    /// provcheck itself (a check of the harness; belongs in `cargo test`).
    Provcheck,
}

impl Subject {
    /// The name used in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Subject::Provider => "provider",
            Subject::Client => "client",
            Subject::Gateway => "gateway",
            Subject::Provcheck => "provcheck",
        }
    }
}

/// Why a trial did not run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Skip {
    /// The kind of reason, for counting and for the audit's gaps.
    pub kind: SkipKind,
    /// The particulars, by kind: the key's variable for [`SkipKind::NoKey`], the recording's
    /// path for [`SkipKind::NotRecorded`], the reason for [`SkipKind::NotApplicable`], the
    /// capability, the alias, the `ignore` reason,
    /// which budget, why a gateway can't be judged, or the whole reason for
    /// [`SkipKind::Other`].
    pub detail: String,
}

impl Skip {
    /// A skip of `kind` with its particulars.
    pub fn new(kind: SkipKind, detail: impl Into<String>) -> Skip {
        Skip {
            kind,
            detail: detail.into(),
        }
    }
}

/// The kinds of reason a trial is skipped for.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum SkipKind {
    /// Live mode and the target's key variable is unset.
    NoKey,
    /// Replay mode and no recording exists for the trial.
    NotRecorded,
    /// The API of the target's dialect does not define the behaviour (the scenario's
    /// `not_applicable`, or a dialect `dialects:` leaves out); the detail is the reason.
    NotApplicable,
    /// The target does not declare a capability the scenario requires.
    CapabilityNotDeclared,
    /// The target has no model for an alias the scenario uses.
    NoModelAlias,
    /// The scenario is marked `ignore`.
    Ignored,
    /// Live or record mode, and the run's `--max-requests` or `--max-output-tokens` budget
    /// was spent before the trial could send.
    OverBudget,
    /// Gateway mode, and the scenario judges provcheck's own client rather than what a
    /// gateway does.
    NotForGateway,
    /// Client mode, and the scenario cannot judge a client run once per trial (its state
    /// spans steps or concurrent copies, or it reads the wire), or the client said it cannot
    /// run it.
    NotForClient,
    /// Any other reason.
    Other,
}

impl SkipKind {
    /// True when the scenario is not for this subject (a capability or model alias the
    /// target does not declare, a check of provcheck's own client in gateway mode): such a
    /// trial is not applicable, not a missing check.
    pub fn not_declared(self) -> bool {
        matches!(
            self,
            SkipKind::NotApplicable
                | SkipKind::CapabilityNotDeclared
                | SkipKind::NoModelAlias
                | SkipKind::NotForGateway
                | SkipKind::NotForClient
        )
    }

    /// True when the target could not be exercised at all (no key, no recording): on a
    /// target the run requires, such a skip fails the run.
    pub fn target_unavailable(self) -> bool {
        matches!(self, SkipKind::NoKey | SkipKind::NotRecorded)
    }
}

/// Why provcheck could not judge a trial.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct TrialError {
    /// What went wrong, by kind.
    pub kind: ErrorKind,
    /// The explanation, possibly several lines (a recording's diagnostic with its caret).
    pub message: String,
}

/// The kinds of trouble that keep provcheck from judging a trial.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// The recording does not load, or none was planned.
    Recording,
    /// The replay mock could not start.
    Mock,
    /// The scenario's request could not be encoded for the dialect.
    Request,
    /// A request matched no exchange of the recording.
    Unmatched,
    /// `--strict`: the recording holds an exchange the trial never asked for.
    Unused,
    /// The live concurrency limit was closed, so the trial could not be admitted.
    Admission,
    /// Record mode: the recording could not be written.
    RecordWrite,
    /// Live and record modes: the target's preflight failed (unreachable, key rejected, wrong
    /// base URL), so the trial sent nothing.
    Preflight,
    /// Live and record modes: a request that should have got a reply got none (refused,
    /// reset, timed out), so nothing could be judged.
    Transport,
    /// Client mode: the client under test could not be run or judged (it did not start,
    /// crashed, hung past the deadline, or printed something that is not the protocol).
    Client,
    /// A reply went past one of the target's `limits` (body bytes, stream events, line
    /// bytes); reading stopped there, so it could not be judged.
    Limit,
    /// `--run-deadline` passed before the trial finished (or started).
    RunDeadline,
    /// The run was interrupted (SIGINT, SIGTERM) before the trial finished (or started).
    Interrupted,
    /// Read from an older run record, which kept no kind.
    Other,
}

/// One breach a trial found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Finding {
    /// The scenario key it concerns (`expect.finish_reason`, `steps[1].overrides.anthropic.text`),
    /// or `contract` for a breach of the dialect's contract; empty for a missed deadline.
    pub path: String,
    /// What kind of check found it.
    pub kind: FindingKind,
    /// Contract (the wire) or behaviour (what the model chose to say), when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub class: Option<Class>,
    /// What was expected and what was seen.
    pub message: String,
    /// `file:line:col` of the expectation (the scenario's, for contract breaches).
    pub location: String,
}

impl Finding {
    /// True for a finding about what the model chose to say.
    pub fn is_behaviour(&self) -> bool {
        self.class == Some(Class::Behaviour)
    }
}

/// What kind of check found a breach.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FindingKind {
    /// An expectation of the scenario did not hold for a reply.
    Expectation,
    /// A reply broke its dialect's contract (required fields, types, stream grammar).
    Contract,
    /// A request got no reply (timeout, connection, open circuit) where one was expected.
    Transport,
    /// The trial did not finish within its deadline.
    Deadline,
}

/// The two kinds of expectation: the wire, or what the model chose to say.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Class {
    /// Status, shapes, error bodies, finish reason, usage, stream grammar, tool-call
    /// structure and argument validity.
    Contract,
    /// Text contains or matches, which tool was called, argument values.
    Behaviour,
}

impl Class {
    /// The name used in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Class::Contract => "contract",
            Class::Behaviour => "behaviour",
        }
    }
}

/// Where a recording came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Provenance {
    /// Recorded from the real API, or written by hand.
    pub source: Source,
    /// When (`YYYY-MM-DD`).
    pub date: String,
    /// The model that answered, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
}

/// How a recording was made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// Recorded from the real API.
    Live,
    /// Written by hand from the documented contract.
    Authored,
}

impl Provenance {
    /// Whether the recording came from the real API.
    pub fn is_live(&self) -> bool {
        self.source == Source::Live
    }
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

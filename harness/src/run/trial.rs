//! Running one planned trial: start the replay mock (or aim at the live API), send each
//! step's requests, decode, judge, and produce an [`Outcome`].

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::task::JoinSet;

use super::plan::PlannedTrial;
use crate::client::{Subject, Transport};
use crate::dialect::{Body, WireRequest};
use crate::expect::Expect;
use crate::mock::ReplayMock;
use crate::neutral::{ChatRequest, Message, Request, ResponseFormat, Role};
use crate::observation::{Observation, Observed, StepObservation};
use crate::outcome::{
    ErrorKind, ExchangeRecord, Finding, FindingKind, Mode, Outcome, Shape, Status, StreamTiming,
    TrialError,
};
use crate::record::Recording;
use crate::suite::model::{FormatSpec, Op, RequestSpec};

/// What every trial shares.
pub(crate) struct RunContext {
    /// Replay or live.
    pub mode: Mode,
    /// The one HTTP client.
    pub transport: Transport,
    /// Request deadline when a scenario sets none.
    pub request_timeout: Duration,
    /// Whole-trial deadline when a scenario sets none.
    pub trial_deadline: Duration,
    /// Reads an environment variable (keys in live mode).
    pub env: EnvLookup,
    /// Replay speed for recorded stream timing: 1.0 as recorded, 0 without waiting.
    pub speed: f64,
    /// Live and record modes: per-target concurrency, budgets, recordings written.
    pub live: super::live::Live,
    /// `--strict`: a replayed recording with an exchange never served is an error.
    pub strict: bool,
    /// Gateway mode: the gateway under test, whose upstream is the mock.
    pub gateway: Option<super::gateway::Gateway>,
    /// `--behaviour`: whether behaviour findings alone fail a trial.
    pub behaviour: crate::outcome::BehaviourMode,
    /// Client mode: the client under test, run once per trial against its mock.
    pub client: Option<super::client_cmd::ClientUnderTest>,
    /// Set when the run must end early (`--run-deadline`, SIGINT, SIGTERM): trials not yet
    /// started become errors, and those in flight are cancelled.
    pub stop: Arc<super::stop::Stop>,
}

/// Reads an environment variable; injected so tests never depend on the real environment.
pub(crate) type EnvLookup = Arc<dyn Fn(&str) -> Option<String> + Send + Sync>;

/// An outcome with the fields every status shares filled in: a pass until told otherwise,
/// or the plan's skip.
pub(crate) fn blank_outcome(t: &PlannedTrial, mode: Mode) -> Outcome {
    Outcome {
        trial: t.name.clone(),
        suite: t.suite.to_string(),
        scenario: t.scenario.id.clone(),
        title: t.scenario.title.clone(),
        category: t.category.to_string(),
        priority: t.scenario.priority,
        tags: t.scenario.tags.clone(),
        target: t.target.name.clone(),
        dialect: t.target.dialect,
        models: t.models.clone(),
        mode,
        subject: t.subject,
        client: None,
        status: if t.skip.is_some() {
            Status::Skip
        } else {
            Status::Pass
        },
        skip: t.skip.clone(),
        error: None,
        findings: Vec::new(),
        reached_target: false,
        not_recorded: None,
        location: t.scenario.location.to_string(),
        recording: t.recording.as_ref().map(|p| p.display().to_string()),
        provenance: None,
        duration_ms: 0,
        requests: 0,
        recording_sha256: None,
        exchanges: Vec::new(),
        spent: None,
        recorded: None,
        behaviour_checked: super::judge::scenario_judges_behaviour(&t.scenario),
        repetitions: None,
    }
}

/// Converts a suite request into the neutral form for one target.
pub(crate) fn neutral_request(spec: &RequestSpec, model: &str) -> ChatRequest {
    let mut messages = Vec::with_capacity(spec.messages.len() + 1);
    if let Some(s) = &spec.system {
        messages.push(Message::new(Role::System, s.clone()));
    }
    messages.extend(crate::suite::tools::neutral_messages(&spec.messages));
    let (tools, tool_choice, parallel_tool_calls) = crate::suite::tools::neutral_tools(spec);
    ChatRequest {
        model: model.to_string(),
        messages,
        max_tokens: spec.max_tokens,
        temperature: spec.temperature,
        response_format: spec.response_format.as_ref().map(|f| match f {
            FormatSpec::Text => ResponseFormat::Text,
            FormatSpec::JsonObject => ResponseFormat::JsonObject,
            FormatSpec::JsonSchema {
                name,
                schema,
                strict,
            } => ResponseFormat::JsonSchema {
                name: name.clone(),
                schema: schema.clone(),
                strict: *strict,
            },
        }),
        stream: spec.stream,
        tools,
        tool_choice,
        parallel_tool_calls,
        stop: spec.stop.clone(),
        top_p: spec.top_p,
        n: spec.n,
        seed: spec.seed,
        logprobs: spec.logprobs,
        top_logprobs: spec.top_logprobs,
    }
}

/// Converts a suite request of any operation into the neutral form for one target.
pub(crate) fn neutral(spec: &RequestSpec, model: &str) -> Request {
    match spec.op {
        Op::Chat => Request::Chat(neutral_request(spec, model)),
        Op::Pull => Request::Pull {
            model: model.to_string(),
        },
        Op::Ps => Request::ListRunning,
        Op::Tags => Request::ListLocal,
        Op::Show => Request::Show {
            model: model.to_string(),
        },
        Op::Unload => Request::Unload {
            model: model.to_string(),
        },
        Op::Generate => Request::Generate {
            model: model.to_string(),
            prompt: spec
                .messages
                .last()
                .map(|m| m.content.clone())
                .unwrap_or_default(),
        },
    }
}

/// The path part of a base URL (`https://api.openai.com/v1` -> `/v1`), kept when the host is
/// swapped for the mock's.
pub(crate) fn base_path(base_url: &str) -> &str {
    let rest = base_url
        .split_once("://")
        .map(|(_, r)| r)
        .unwrap_or(base_url);
    match rest.find('/') {
        Some(i) => rest[i..].trim_end_matches('/'),
        None => "",
    }
}

/// Runs a trial to its outcome. Never panics on input; every failure is an outcome.
pub(crate) async fn execute(ctx: &RunContext, t: &PlannedTrial) -> Outcome {
    let started = Instant::now();
    let mut outcome = blank_outcome(t, ctx.mode);
    outcome.client = ctx.client.as_ref().map(|c| c.spec.name.clone());
    if t.skip.is_some() {
        return outcome;
    }
    let deadline = t
        .scenario
        .deadline_ms
        .map(Duration::from_millis)
        .unwrap_or(ctx.trial_deadline);
    if let Some(reason) = ctx.stop.reason() {
        outcome.set_error(reason.kind(), format!("{}; not run", reason.message()));
        return outcome;
    }
    // Waiting for a live slot happens before the deadline starts: it is not the trial's time.
    let admitted = tokio::select! {
        a = ctx.live.admit(t) => a,
        reason = ctx.stop.stopped() => {
            outcome.set_error(reason.kind(), format!("{}; not run", reason.message()));
            return outcome;
        }
    };
    let admission = match admitted {
        Ok(a) => a,
        Err(super::live::Refused::Budget(skip)) => {
            outcome.set_skip(skip);
            return outcome;
        }
        Err(super::live::Refused::Closed) => {
            let why = "the live concurrency limit was closed; the trial could not be admitted";
            outcome.set_error(ErrorKind::Admission, why);
            return outcome;
        }
    };
    // A client under test is killed at the deadline and reported as hung; the grace lets
    // that report, rather than a bare deadline, be the outcome.
    let outer = match &ctx.client {
        Some(_) => deadline + super::client_cmd::GRACE,
        None => deadline,
    };
    let ends_at = Instant::now() + deadline;
    let ended = {
        let running = tokio::time::timeout(
            outer,
            run(ctx, t, &mut outcome, admission.as_ref(), ends_at),
        );
        tokio::select! {
            r = running => Ended::Ran(r.is_ok()),
            reason = ctx.stop.stopped() => Ended::Stopped(reason),
        }
    };
    let finished = match ended {
        Ended::Ran(true) => true,
        Ended::Ran(false) => {
            outcome.status = Status::Fail;
            outcome.findings.push(Finding {
                path: String::new(),
                kind: FindingKind::Deadline,
                class: None,
                message: format!(
                    "the trial did not finish within its deadline of {} ms",
                    deadline.as_millis()
                ),
                location: outcome.location.clone(),
            });
            false
        }
        Ended::Stopped(reason) => {
            // Cut off: what it found so far judges nothing.
            outcome.findings.clear();
            outcome.set_error(reason.kind(), reason.message());
            false
        }
    };
    if let Some(a) = admission {
        ctx.live.settle(t, a, &mut outcome, finished);
    }
    outcome.duration_ms = started.elapsed().as_millis() as u64;
    outcome
}

/// How a trial's run ended: on its own (within its deadline or not), or stopped with the run.
enum Ended {
    Ran(bool),
    Stopped(super::stop::StopReason),
}

/// A trial in three stages: prepare (where requests go, the mock that answers them),
/// observe (send every step), judge (the dialect contract and the expectations).
async fn run(
    ctx: &RunContext,
    t: &PlannedTrial,
    outcome: &mut Outcome,
    admission: Option<&super::live::Admission>,
    ends_at: Instant,
) {
    use super::client_cmd::Ran;
    let steps = step_plans(&t.scenario);
    let result = async {
        let prepared = prepare(ctx, t, outcome, admission).await?;
        // `repeat: N` sends the whole scenario N times; each repetition is judged alone.
        let mut repetitions = Vec::new();
        for rep in 0..t.scenario.repetitions() as usize {
            let first_step = rep * steps.len();
            let ran = match (&ctx.client, &prepared.mock) {
                (Some(client), Some(mock)) => {
                    let base = prepared.base_url.as_str();
                    super::client_cmd::observe(client, t, mock, base, ends_at, outcome).await?
                }
                _ => Ran::Observed(
                    observe(ctx, t, &prepared, &steps, outcome, admission, first_step).await?,
                ),
            };
            match ran {
                Ran::Observed(o) => repetitions.push(o),
                Ran::Skip(skip) => return Ok(Err(skip)),
            }
        }
        outcome.reached_target = repetitions.iter().any(|o| reached_target(&prepared, o));
        check_witness(ctx, t, &prepared)?;
        Ok(Ok(repetitions))
    }
    .await;
    match result {
        Ok(Ok(repetitions)) => match repetitions.iter().find_map(|o| unanswered(t, &steps, o)) {
            Some((kind, why)) => outcome.set_error(kind, why),
            None => super::judge::judge(ctx, t, &steps, &repetitions, outcome),
        },
        // The client said it cannot run the trial.
        Ok(Err(skip)) => outcome.set_skip(skip),
        Err(TrialError { kind, message }) => outcome.set_error(kind, message),
    }
}

/// A live request that got no reply (refused, reset, timed out) where its step expects one
/// says nothing about the provider's contract: the trial could not be judged. The first such
/// request's kind and one line, or `None`. A step that expects an error (in `expect` or any
/// override) is judged as usual, and so are requests the local mock answered: a client that
/// meets a fault script's dropped connection and gives up is the subject failing. A reply
/// past the target's limits is never judged, in any mode: only its start was read.
fn unanswered(
    t: &PlannedTrial,
    steps: &[StepPlan<'_>],
    observation: &Observation,
) -> Option<(ErrorKind, String)> {
    // Behind a fault script every request is the mock's to answer, even when it forwards.
    let live = t.live && t.scenario.mock.is_empty();
    let several = steps.len() > 1;
    for (i, (plan, step)) in steps.iter().zip(&observation.steps).enumerate() {
        let expects_error =
            plan.expect.error.is_some() || plan.overrides.values().any(|e| e.error.is_some());
        let n = step.copies.len();
        for (c, copy) in step.copies.iter().enumerate() {
            let Err(e) = &copy.result else { continue };
            let kind = match e {
                crate::client::TransportError::Limit(_) => ErrorKind::Limit,
                _ if live && !expects_error => ErrorKind::Transport,
                _ => continue,
            };
            let mut at = Vec::new();
            if several {
                at.push(format!("steps[{i}]"));
            }
            if n > 1 {
                at.push(format!("copy {}/{n}", c + 1));
            }
            let message = if at.is_empty() {
                e.to_string()
            } else {
                format!("{}: {e}", at.join(" "))
            };
            return Some((kind, message));
        }
    }
    None
}

/// Where a trial's requests go and, unless it is live, the mock that answers them.
struct Prepared {
    /// The replay mock (replay, fault scripts, recordings record mode keeps).
    mock: Option<ReplayMock>,
    /// The recording the mock serves, when the trial needs one.
    loaded: Option<Arc<Recording>>,
    /// The base URL requests are sent to.
    base_url: String,
    /// The key sent, if the target takes one.
    key: Option<String>,
}

/// One step's request and what it is judged against.
pub(super) struct StepPlan<'a> {
    spec: &'a RequestSpec,
    pub(super) expect: &'a Expect,
    pub(super) overrides: &'a std::collections::BTreeMap<String, Expect>,
    /// `steps[i].` for a multi-step scenario, empty otherwise: the start of each finding's path.
    pub(super) prefix: String,
}

impl StepPlan<'_> {
    /// Whether the step's request is meant to be refused: sent malformed (`patch`, `raw_body`)
    /// or expected to get a client error other than a rate limit or timeout (a value out of
    /// range, an unknown model). A gateway may forward such a request as it came.
    fn invalid_on_purpose(&self) -> bool {
        let refused = self
            .expect
            .error
            .as_ref()
            .and_then(|e| e.status)
            .is_some_and(|s| (400..500).contains(&s) && s != 408 && s != 429);
        refused || self.spec.patch.is_some() || self.spec.raw_body.is_some()
    }

    /// Whether an expectation of the step (its own or an override) reads the reply body
    /// itself (`raw` pointers, the listed `models`), so the body must be kept for judging.
    fn reads_body(&self) -> bool {
        let reads = |e: &Expect| !e.raw.is_empty() || e.models.is_some();
        reads(self.expect) || self.overrides.values().any(reads)
    }
}

fn step_plans(sc: &crate::suite::Scenario) -> Vec<StepPlan<'_>> {
    match &sc.request {
        Some(r) => {
            static NONE: std::sync::OnceLock<Expect> = std::sync::OnceLock::new();
            vec![StepPlan {
                spec: r,
                expect: sc
                    .expect
                    .as_ref()
                    .unwrap_or_else(|| NONE.get_or_init(Expect::default)),
                overrides: &sc.overrides,
                prefix: String::new(),
            }]
        }
        None => sc
            .steps
            .iter()
            .enumerate()
            .map(|(i, s)| StepPlan {
                spec: &s.request,
                expect: &s.expect,
                overrides: &s.overrides,
                prefix: format!("steps[{i}]."),
            })
            .collect(),
    }
}

fn trial_error(kind: ErrorKind, message: impl Into<String>) -> TrialError {
    TrialError {
        kind,
        message: message.into(),
    }
}

/// Whether any request of the trial was answered by the target (see
/// [`Outcome::reached_target`]): behind the mock, one it forwarded or, in replay, one served
/// from the recording; sent directly, one that got a reply or timed out once sent.
fn reached_target(prepared: &Prepared, observation: &Observation) -> bool {
    match &prepared.mock {
        Some(m) => {
            let w = m.witness();
            w.forwarded > 0 || !w.served.is_empty()
        }
        None => observation.steps.iter().flat_map(|s| &s.copies).any(|c| {
            matches!(
                c.result,
                Ok(_) | Err(crate::client::TransportError::Timeout(_))
            )
        }),
    }
}

/// Where a fault script's `recorded` steps go in live and record modes: the target's real API,
/// with the real key, through a transport that counts (and in record mode keeps) what is sent.
fn upstream(
    ctx: &RunContext,
    t: &PlannedTrial,
    admission: Option<&super::live::Admission>,
) -> crate::mock::Upstream {
    let target = &t.target;
    let key = target.key_env.as_ref().and_then(|v| (ctx.env)(v));
    crate::mock::Upstream {
        base_url: target.base_url.clone(),
        auth: key.map(|k| target.dialect.auth_header(&k)),
        transport: match admission {
            Some(a) => ctx.transport.with_tap(a.capture.clone()),
            None => ctx.transport.clone(),
        },
        timeout: ctx.request_timeout,
    }
}

/// Loads the recording and starts the mock, unless the trial is live without a fault script.
/// Fault scripts always run on the mock (real APIs can't be made to fail on cue); live, the
/// mock forwards their `recorded` steps to the target. Recordings record mode keeps run on the
/// mock too: the plan says which trials go live.
async fn prepare(
    ctx: &RunContext,
    t: &PlannedTrial,
    outcome: &mut Outcome,
    admission: Option<&super::live::Admission>,
) -> Result<Prepared, TrialError> {
    let target = &t.target;
    let sc = &t.scenario;
    if t.live && sc.mock.is_empty() {
        return Ok(Prepared {
            mock: None,
            loaded: None,
            base_url: target.base_url.clone(),
            key: target.key_env.as_ref().and_then(|v| (ctx.env)(v)),
        });
    }
    let needs_recording = !t.live && (sc.mock.is_empty() || sc.mock.iter().any(|m| m.recorded));
    let rec = match &t.recording {
        _ if t.live => Arc::new(Recording::empty()),
        Some(path) if needs_recording => match Recording::load(path) {
            Ok(r) => Arc::new(r),
            Err(d) => {
                let why = format!("recording does not load:\n{}", d.render(false));
                return Err(trial_error(ErrorKind::Recording, why));
            }
        },
        Some(_) => Arc::new(Recording::empty()),
        None => {
            return Err(trial_error(
                ErrorKind::Recording,
                "no recording path planned",
            ));
        }
    };
    let mut loaded = None;
    if needs_recording {
        outcome.provenance = Some(provenance(&rec.provenance));
        outcome.recording_sha256 = Some(rec.sha256.clone());
        loaded = Some(rec.clone());
    }
    let fixed = ctx.gateway.as_ref().map(|g| &*g.mock);
    let up = t.live.then(|| upstream(ctx, t, admission));
    let m = match &ctx.client {
        Some(_) => ReplayMock::start_lenient(rec, &sc.mock, target.dialect, ctx.speed, up).await,
        None => ReplayMock::start(rec, &sc.mock, target.dialect, ctx.speed, fixed, up).await,
    }
    .map_err(|e| {
        trial_error(
            ErrorKind::Mock,
            format!("cannot start the replay mock: {e}"),
        )
    })?;
    let (base_url, key) = match &ctx.gateway {
        Some(g) => (g.url.trim_end_matches('/').to_string(), g.key.clone()),
        // A placeholder key exercises the auth header without holding a secret.
        None => (
            format!("{}{}", m.uri(), base_path(&target.base_url)),
            target
                .key_env
                .as_ref()
                .map(|_| "provcheck-replay".to_string()),
        ),
    };
    Ok(Prepared {
        mock: Some(m),
        loaded,
        base_url,
        key,
    })
}

/// The client policy a trial runs with. The scenario sets what it needs to run in reasonable
/// time (a short cooldown, say); the target's own settings are the subject's configuration and
/// are applied last, so a misconfigured client shows up as a failing scenario instead of being
/// papered over.
fn client_policy(ctx: &RunContext, t: &PlannedTrial) -> crate::client::Policy {
    match &ctx.gateway {
        Some(_) => super::gateway::Gateway::caller_policy(ctx.request_timeout),
        None => {
            let mut policy = crate::client::Policy::sdk_defaults(t.target.dialect);
            if let Some(spec) = &t.scenario.client {
                policy.apply(spec);
            }
            policy.apply(&t.target.resilience);
            policy
        }
    }
}

/// Sends every step's requests and collects what each observed, noting the exchanges in the
/// outcome as they happen, numbered from `first_step` (a repetition's steps follow the
/// previous repetition's).
#[allow(clippy::too_many_arguments)]
async fn observe(
    ctx: &RunContext,
    t: &PlannedTrial,
    prepared: &Prepared,
    steps: &[StepPlan<'_>],
    outcome: &mut Outcome,
    admission: Option<&super::live::Admission>,
    first_step: usize,
) -> Result<Observation, TrialError> {
    let (target, sc, mock) = (&t.target, &t.scenario, prepared.mock.as_ref());
    // In gateway mode requests are written and read in the gateway's dialect; the mock behind
    // it still speaks the target's.
    let dialect = ctx.gateway.as_ref().map_or(target.dialect, |g| g.dialect);
    let default_wire = crate::dialect::WireOptions::default();
    let wire_options = if dialect == target.dialect {
        &target.wire
    } else {
        &default_wire
    };
    let auth = prepared.key.as_deref().map(|k| dialect.auth_header(k));
    // A live trial's transport reports every attempt to its admission: what it spent, and in
    // record mode the exchanges to write. Behind a fault script the mock's forwarding does
    // that instead: the client's attempts at the mock cost the provider nothing.
    let transport = match admission {
        Some(a) if mock.is_none() => ctx.transport.with_tap(a.capture.clone()),
        _ => ctx.transport.clone(),
    }
    .with_limits(target.limits);
    let policy = client_policy(ctx, t);
    let default_timeout = policy.attempt_timeout.min(ctx.request_timeout);
    let subject = Arc::new(Subject::new(policy));
    let mut observation = Observation::default();
    for (i, step) in steps.iter().enumerate() {
        if let Some(ms) = sc.steps.get(i).and_then(|s| s.pause_ms) {
            tokio::time::sleep(Duration::from_millis(ms)).await;
        }
        let hits_before = mock.map(|m| m.witness().hits.len()).unwrap_or(0);
        let sent_before = mock.map(|m| m.witness().requests.len()).unwrap_or(0);
        let events_before = subject.events().len();
        let model = target
            .models
            .get(&step.spec.model)
            .cloned()
            .unwrap_or_default();
        let wire = dialect
            .encode_request(&neutral(step.spec, &model), wire_options)
            .map_err(|e| trial_error(ErrorKind::Request, e.to_string()))?
            .customized(step.spec.patch.as_ref(), step.spec.raw_body.as_deref());
        // A scenario's `timeout_ms` is the subject's deadline: through a gateway, the
        // gateway's to keep, so provcheck waits the run's whole request deadline.
        let timeout = step
            .spec
            .timeout_ms
            .filter(|_| ctx.gateway.is_none())
            .map(Duration::from_millis)
            .unwrap_or(default_timeout);
        let copies = send_copies(
            &transport,
            &subject,
            &prepared.base_url,
            &wire,
            auth.as_ref(),
            timeout,
            sc.concurrency,
            dialect,
            step.reads_body(),
        )
        .await;
        outcome.requests += sc.concurrency;
        // Through a gateway, what it sent upstream must be a valid request of the upstream's
        // dialect, unless the caller's own request was malformed on purpose.
        if ctx.gateway.is_some()
            && let Some(m) = mock
            && !step.invalid_on_purpose()
        {
            let sent = m.witness().requests.split_off(sent_before);
            let location = outcome.location.clone();
            outcome.findings.extend(super::gateway::upstream_findings(
                target.dialect,
                &sent,
                sent_before,
                &location,
            ));
        }
        let step = StepObservation {
            model,
            aliases: target.models.clone(),
            copies,
            mock_hits: mock
                .map(|m| m.witness().hits.split_off(hits_before))
                .unwrap_or_default(),
            mock_ran: mock.is_some(),
            client_events: subject.events().split_off(events_before),
        };
        record_exchanges(outcome, first_step + observation.steps.len(), &step);
        if let Some(a) = admission {
            ctx.live.replies(a, &step);
        }
        observation.steps.push(step);
    }
    Ok(observation)
}

/// What the mock witnessed that keeps the trial from being judged: a request no exchange of
/// the recording matched, or (`--strict`) an exchange never asked for.
fn check_witness(
    ctx: &RunContext,
    t: &PlannedTrial,
    prepared: &Prepared,
) -> Result<(), TrialError> {
    let Some(m) = &prepared.mock else {
        return Ok(());
    };
    if let Some(miss) = m.witness().misses.first() {
        return Err(trial_error(ErrorKind::Unmatched, miss.explanation.clone()));
    }
    // A fault script answers some steps itself, so its recording's other exchanges may
    // rightly go unserved: strictness is for plain replays.
    if ctx.strict
        && t.scenario.mock.is_empty()
        && let Some(rec) = &prepared.loaded
        && let Some(e) = crate::record::matching::unused_explanation(rec, &m.unused())
    {
        return Err(trial_error(ErrorKind::Unused, e));
    }
    Ok(())
}

/// A recording's provenance as an outcome keeps it.
pub(crate) fn provenance(p: &crate::record::format::Provenance) -> crate::outcome::Provenance {
    use crate::record::format::Source as S;
    crate::outcome::Provenance {
        source: match p.source {
            S::Live => crate::outcome::Source::Live,
            S::Authored => crate::outcome::Source::Authored,
        },
        date: p.date.clone(),
        model: p.model.clone(),
    }
}

/// Headers whose presence (not value) is tracked for drift: ids, rate limits, retry hints.
fn header_of_interest(name: &str) -> bool {
    name.contains("ratelimit")
        || name.contains("request-id")
        || name.starts_with("retry-after")
        || name == "x-should-retry"
        || name == "openai-processing-ms"
}

fn record_exchanges(outcome: &mut Outcome, step_index: usize, step: &StepObservation) {
    for (copy, obs) in step.copies.iter().enumerate() {
        let mut rec = ExchangeRecord {
            step: step_index,
            copy,
            model: step.model.clone(),
            elapsed_ms: obs.elapsed.as_millis() as u64,
            ..ExchangeRecord::default()
        };
        match &obs.result {
            Err(e) => rec.transport_error = Some(e.to_string()),
            Ok(r) => {
                rec.status = Some(r.status);
                rec.reply_model = r.model.clone();
                rec.raw_finish_reason = r.raw_finish_reason.clone();
                rec.finish_reason = r.finish_reason.map(|f| f.as_str().to_string());
                rec.input_tokens = r.usage.and_then(|u| u.input_tokens);
                rec.output_tokens = r.usage.and_then(|u| u.output_tokens);
                rec.error_type = r.error.as_ref().and_then(|e| e.kind.clone());
                rec.text_chars = r.text.chars().count();
                rec.violations = r.violations.clone();
                rec.shape = obs.shape.clone().unwrap_or_else(|| Shape::of(&r.raw));
                let mut names: Vec<String> = r
                    .headers
                    .iter()
                    .map(|(k, _)| k.to_ascii_lowercase())
                    .filter(|k| header_of_interest(k))
                    .collect();
                names.sort();
                names.dedup();
                rec.headers = names;
                if let Some(st) = &r.stream {
                    rec.stream_event_types = Some(st.event_types.clone());
                    rec.stream_timing = Some(StreamTiming {
                        events: st.events,
                        time_to_first_token_ms: st
                            .time_to_first_token
                            .map(|d| d.as_millis() as u64),
                        max_gap_ms: st.max_gap.as_millis() as u64,
                    });
                }
            }
        }
        outcome.exchanges.push(rec);
    }
}

#[allow(clippy::too_many_arguments)]
async fn send_copies(
    transport: &Transport,
    subject: &Arc<Subject>,
    base_url: &str,
    wire: &WireRequest,
    auth: Option<&(&'static str, String)>,
    timeout: Duration,
    n: u32,
    dialect: crate::dialect::DialectKind,
    keep_raw: bool,
) -> Vec<Observed> {
    let one = |transport: Transport,
               subject: Arc<Subject>,
               base: String,
               wire: WireRequest,
               auth: Option<(&'static str, String)>| async move {
        let started = Instant::now();
        let streamed = wire.body.get("stream") == Some(&serde_json::Value::Bool(true));
        let raw = subject
            .call(|retry| {
                // The SDKs tell the server which retry this is; gateways and logs use it.
                let mut attempt = wire.clone();
                attempt
                    .headers
                    .push(("x-stainless-retry-count", retry.to_string()));
                let transport = transport.clone();
                let base = base.clone();
                let auth = auth.clone();
                async move {
                    transport
                        .send(
                            &base,
                            &attempt,
                            auth.as_ref().map(|(k, v)| (*k, v.as_str())),
                            timeout,
                            streamed.then_some(dialect),
                        )
                        .await
                }
            })
            .await;
        let mut shape = None;
        let result = raw.map(|raw| {
            let body = match &raw.stream {
                Some((frames, end)) => Body::Stream(frames, end),
                None => Body::Whole(&raw.body),
            };
            let mut reply = dialect.decode_response(&wire, raw.status, &raw.headers, body);
            if !keep_raw {
                shape = Some(crate::outcome::Shape::of(&reply.raw));
                reply.raw = serde_json::Value::Null;
            }
            reply
        });
        Observed {
            result,
            elapsed: started.elapsed(),
            shape,
        }
    };
    if n == 1 {
        return vec![
            one(
                transport.clone(),
                subject.clone(),
                base_url.to_string(),
                wire.clone(),
                auth.cloned(),
            )
            .await,
        ];
    }
    let mut set = JoinSet::new();
    for i in 0..n as usize {
        let fut = one(
            transport.clone(),
            subject.clone(),
            base_url.to_string(),
            wire.clone(),
            auth.cloned(),
        );
        set.spawn(async move { (i, fut.await) });
    }
    let mut out: Vec<Option<Observed>> = (0..n).map(|_| None).collect();
    while let Some(joined) = set.join_next().await {
        if let Ok((i, obs)) = joined {
            out[i] = Some(obs);
        }
    }
    out.into_iter()
        .map(|o| {
            o.unwrap_or_else(|| Observed {
                result: Err(crate::client::TransportError::Connection(
                    "request task panicked".into(),
                )),
                elapsed: Duration::ZERO,
                shape: None,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::base_path;

    #[test]
    fn base_path_keeps_prefix() {
        assert_eq!(base_path("https://api.openai.com/v1"), "/v1");
        assert_eq!(base_path("https://api.anthropic.com"), "");
        assert_eq!(base_path("http://127.0.0.1:4000/proxy/v1/"), "/proxy/v1");
    }
}

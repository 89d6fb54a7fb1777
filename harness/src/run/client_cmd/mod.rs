//! Client mode (`--client-cmd 'CMD'`, or `--client NAME` from targets.yaml's `clients:`): the
//! subject is any client (an SDK, an application's LLM layer), run as a command once per trial
//! with the provider's usual variables pointing at that trial's mock. It prints what it got
//! (docs/CLIENTS.md); provcheck judges that and what the mock saw it do (attempts, waits).
//!
//! One process per request: a scenario whose state must live in one client across requests
//! (steps, concurrent copies sharing a rate limiter or breaker) is not applicable, with the
//! reason, and so is one whose expectations read the wire, which a client's report does not
//! carry, unless the scenario gives `overrides.client`.

pub(crate) mod process;
pub(crate) mod protocol;

use std::time::{Duration, Instant};

use crate::expect::Expect;
use crate::expect::spec::ErrorKind as ExpectedKind;
use crate::mock::ReplayMock;
use crate::observation::{Observation, StepObservation};
use crate::outcome::{ErrorKind, ExchangeRecord, Outcome, Skip, SkipKind, Subject, TrialError};
use crate::suite::Scenario;
use crate::suite::model::{CLIENT_OVERRIDE, Op};
use crate::target::{ClientSpec, Target};

use super::plan::PlannedTrial;
use process::ProcessError;
use protocol::{RequestFile, Said};

/// The dummy key every client is given: the mock takes any, and a real one must never reach
/// a client under test.
pub(crate) const DUMMY_KEY: &str = "provcheck-dummy-key";

/// The client under test.
#[derive(Debug, Clone)]
pub(crate) struct ClientUnderTest {
    /// Its name, command, dialects, directory and variables.
    pub(crate) spec: ClientSpec,
    /// provcheck's own environment, read once: the allowlisted variables passed through.
    pub(crate) inherited: Vec<(String, String)>,
}

impl ClientUnderTest {
    /// The client `spec`, passing through the allowlisted variables of this process.
    pub(crate) fn new(spec: ClientSpec) -> ClientUnderTest {
        let inherited = process::ALLOWED_ENV
            .iter()
            .filter_map(|k| std::env::var(k).ok().map(|v| (k.to_string(), v)))
            .collect();
        ClientUnderTest { spec, inherited }
    }
}

/// A name for a client given only as a command: the file stem of its last word
/// (`python clients/openai_sdk.py` is `openai_sdk`).
pub(crate) fn name_of_command(command: &str) -> String {
    let last = command.split_whitespace().last().unwrap_or("client");
    let stem = std::path::Path::new(last.trim_matches(['\'', '"']))
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let name: String = stem
        .chars()
        .map(|c| match c {
            'a'..='z' | '0'..='9' | '_' | '-' => c,
            'A'..='Z' => c.to_ascii_lowercase(),
            _ => '-',
        })
        .collect();
    if name.is_empty() {
        "client".into()
    } else {
        name
    }
}

/// Narrows a plan to the client: trials of targets in dialects it does not speak are dropped
/// (like a scenario's `dialects:`), every other trial judges the client, and the ones it
/// cannot judge are skipped with the reason.
pub(crate) fn narrow_plan(trials: Vec<PlannedTrial>, client: &ClientSpec) -> Vec<PlannedTrial> {
    trials
        .into_iter()
        .filter(|t| client.dialects.is_empty() || client.dialects.contains(&t.target.dialect))
        .map(|mut t| {
            t.subject = Subject::Client;
            if t.skip.is_none() {
                t.skip = cannot_judge(&t.scenario, &t.target);
            }
            t
        })
        .collect()
}

/// The override keys that apply in client mode, most specific first.
pub(crate) fn override_keys(target: &Target) -> [&str; 3] {
    [
        CLIENT_OVERRIDE,
        target.name.as_str(),
        target.dialect.as_str(),
    ]
}

/// Why a scenario cannot judge a client run once per request, if it cannot.
pub(crate) fn cannot_judge(sc: &Scenario, target: &Target) -> Option<Skip> {
    let skip = |why: String| Some(Skip::new(SkipKind::NotForClient, why));
    if !sc.steps.is_empty() {
        return skip(format!(
            "its {} steps share state (a circuit breaker, a conversation) that lives in one client process, and client mode runs one process per request",
            sc.steps.len()
        ));
    }
    if sc.concurrency > 1 {
        return skip(format!(
            "its {} concurrent copies share one client (its rate limiter, its connection pool), and client mode runs one process per request",
            sc.concurrency
        ));
    }
    let request = sc.request.as_ref()?;
    if request.op != Op::Chat {
        let op = format!("{:?}", request.op).to_lowercase();
        return skip(format!("`op: {op}` is a model-management call, not a chat"));
    }
    let keys = override_keys(target);
    let expect = keys
        .iter()
        .find_map(|k| sc.overrides.get(*k))
        .or(sc.expect.as_ref())?;
    match wire_keys(expect).first() {
        Some(key) => skip(format!(
            "its expectations read `{key}`, which a client's report does not carry; give it `overrides.client` to judge a client"
        )),
        None => None,
    }
}

/// The expectation keys a client's report cannot answer: they read the wire or provcheck's
/// own client.
fn wire_keys(e: &Expect) -> Vec<&'static str> {
    let mut keys = Vec::new();
    let mut add = |on: bool, key| {
        if on {
            keys.push(key);
        }
    };
    add(e.stream.is_some(), "stream");
    add(!e.raw.is_empty(), "raw");
    add(e.circuit.is_some(), "circuit");
    add(e.concurrent.is_some(), "concurrent");
    add(e.model.is_some(), "model");
    add(e.models.is_some(), "models");
    add(
        e.error
            .as_ref()
            .is_some_and(|x| x.kind == Some(ExpectedKind::CircuitOpen)),
        "error.kind: circuit_open",
    );
    keys
}

/// The environment of one run of the client: the allowlist, the client's own variables, then
/// the provider variables aimed at the trial's mock (last, so nothing can aim it elsewhere).
fn environment(
    client: &ClientUnderTest,
    mock_uri: &str,
    base_url: &str,
    request_file: &std::path::Path,
) -> Vec<(String, String)> {
    let mut env = client.inherited.clone();
    env.extend(client.spec.env.iter().map(|(k, v)| (k.clone(), v.clone())));
    let aimed = [
        ("OPENAI_BASE_URL", format!("{mock_uri}/v1")),
        ("OPENAI_API_KEY", DUMMY_KEY.to_string()),
        ("ANTHROPIC_BASE_URL", mock_uri.to_string()),
        ("ANTHROPIC_API_KEY", DUMMY_KEY.to_string()),
        ("OLLAMA_HOST", mock_uri.to_string()),
        ("PROVCHECK_BASE_URL", base_url.to_string()),
        ("PROVCHECK_REQUEST", request_file.display().to_string()),
    ];
    env.retain(|(k, _)| !aimed.iter().any(|(a, _)| a == k));
    env.extend(aimed.into_iter().map(|(k, v)| (k.to_string(), v)));
    env
}

/// The request file for one trial, removed when dropped.
struct TempFile(std::path::PathBuf);

impl TempFile {
    fn write(contents: &[u8]) -> std::io::Result<TempFile> {
        use std::sync::atomic::{AtomicU64, Ordering};
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let path =
            std::env::temp_dir().join(format!("provcheck-client-{}-{n}.json", std::process::id()));
        std::fs::write(&path, contents)?;
        Ok(TempFile(path))
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

fn client_error(client: &ClientSpec, why: String, stderr: &str) -> TrialError {
    // The trial's name heads every line that shows this message (console, JUnit, audit).
    let mut message = format!("client `{}` {why}", client.name);
    if !stderr.is_empty() {
        message.push_str("\n  stderr (last lines):");
        for line in stderr
            .lines()
            .rev()
            .take(12)
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
        {
            message.push_str("\n    ");
            message.push_str(line);
        }
    }
    TrialError {
        kind: ErrorKind::Client,
        message,
    }
}

/// What a run of the client ended in: an observation to judge, or a skip it asked for.
pub(crate) enum Ran {
    /// Judge this.
    Observed(Observation),
    /// The client said it cannot run the trial.
    Skip(Skip),
}

/// Runs the client once for the trial's one request and reads what it reported, with what
/// the mock saw meanwhile. `deadline` is the trial's.
pub(crate) async fn observe(
    client: &ClientUnderTest,
    t: &PlannedTrial,
    mock: &ReplayMock,
    base_url: &str,
    deadline: Instant,
    outcome: &mut Outcome,
) -> Result<Ran, TrialError> {
    let err = |why: String, stderr: &str| client_error(&client.spec, why, stderr);
    let (target, sc) = (&t.target, &t.scenario);
    let Some(spec) = sc.request.as_ref() else {
        return Err(err("has no single request to make".into(), ""));
    };
    let model = target.models.get(&spec.model).cloned().unwrap_or_default();
    let neutral = super::trial::neutral_request(spec, &model);
    let wire = target
        .dialect
        .encode_request(
            &crate::neutral::Request::Chat(neutral.clone()),
            &target.wire,
        )
        .map_err(|e| TrialError {
            kind: ErrorKind::Request,
            message: e.to_string(),
        })?;
    let file = RequestFile {
        trial: &t.name,
        target: &target.name,
        dialect: target.dialect,
        base_url,
        neutral: &neutral,
        wire: &wire,
        timeout_ms: spec.timeout_ms,
        max_retries: sc.client.as_ref().and_then(|c| c.max_retries),
    };
    let file = TempFile::write(file.to_json().to_string().as_bytes())
        .map_err(|e| err(format!("cannot be given its request file: {e}"), ""))?;
    let env = environment(client, &mock.uri(), base_url, &file.0);
    // With `repeat: N` the client runs N times on one mock: each run owns the hits after it.
    let hits_before = mock.witness().hits.len();
    let finished = process::run(&client.spec, &env, deadline)
        .await
        .map_err(|e: ProcessError| err(e.to_string(), e.stderr_tail()))?;
    outcome.requests += 1;
    let code = match finished.status.code() {
        Some(c) => format!("exit status {c}"),
        None => format!("{} (killed by a signal)", finished.status),
    };
    let said = protocol::parse(&finished.stdout, finished.wall)
        .map_err(|e| err(format!("{e} ({code})"), &finished.stderr_tail))?;
    let copies = match said {
        Said::Observed(o) => vec![*o],
        Said::Skip(why) => return Ok(Ran::Skip(Skip::new(SkipKind::NotForClient, why))),
        Said::Nothing if finished.status.success() => Vec::new(),
        Said::Nothing => {
            return Err(err(
                format!("crashed: {code}, and no report on stdout"),
                &finished.stderr_tail,
            ));
        }
    };
    let step = StepObservation {
        model,
        aliases: target.models.clone(),
        copies,
        mock_hits: mock.witness().hits.split_off(hits_before),
        mock_ran: true,
        client_events: Vec::new(),
    };
    outcome.exchanges.push(exchange(&step, finished.wall));
    Ok(Ran::Observed(Observation { steps: vec![step] }))
}

/// The run as the outcome keeps it: what the client reported, and for how long it ran.
fn exchange(step: &StepObservation, wall: Duration) -> ExchangeRecord {
    let mut rec = ExchangeRecord {
        model: step.model.clone(),
        elapsed_ms: wall.as_millis() as u64,
        ..ExchangeRecord::default()
    };
    match step.copies.first().map(|c| &c.result) {
        None => rec.transport_error = Some("the client reported nothing (exit status 0)".into()),
        Some(Err(e)) => rec.transport_error = Some(e.to_string()),
        Some(Ok(r)) => {
            rec.status = Some(r.status);
            rec.raw_finish_reason = r.raw_finish_reason.clone();
            rec.finish_reason = r.finish_reason.map(|f| f.as_str().to_string());
            rec.input_tokens = r.usage.and_then(|u| u.input_tokens);
            rec.output_tokens = r.usage.and_then(|u| u.output_tokens);
            rec.error_type = r.error.as_ref().and_then(|e| e.kind.clone());
            rec.text_chars = r.text.chars().count();
        }
    }
    rec
}

/// How long past the trial's deadline the run waits for a client it has killed to be
/// reported as hung, before the trial's own deadline finding takes over.
pub(crate) const GRACE: Duration = Duration::from_secs(3);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_from_commands() {
        assert_eq!(
            name_of_command("python clients/openai_sdk.py"),
            "openai_sdk"
        );
        assert_eq!(name_of_command("/venv/bin/python ./My.App.py"), "my-app");
        assert_eq!(name_of_command("node"), "node");
        assert_eq!(name_of_command(""), "client");
    }

    #[test]
    fn the_mock_variables_win_over_the_clients_own() {
        let mut spec = ClientSpec {
            name: "c".into(),
            command: "true".into(),
            dialects: Vec::new(),
            workdir: None,
            env: [
                ("OPENAI_API_KEY".to_string(), "sk-real".to_string()),
                ("APP_MODE".to_string(), "test".to_string()),
            ]
            .into(),
        };
        spec.env
            .insert("OPENAI_BASE_URL".into(), "https://api.openai.com/v1".into());
        let c = ClientUnderTest {
            spec,
            inherited: vec![("PATH".into(), "/bin".into())],
        };
        let env = environment(
            &c,
            "http://127.0.0.1:9/__replay/1",
            "http://127.0.0.1:9/__replay/1/v1",
            std::path::Path::new("/tmp/r.json"),
        );
        let get = |k: &str| {
            env.iter()
                .filter(|(n, _)| n == k)
                .map(|(_, v)| v.as_str())
                .collect::<Vec<_>>()
        };
        assert_eq!(get("OPENAI_API_KEY"), [DUMMY_KEY]);
        assert_eq!(get("OPENAI_BASE_URL"), ["http://127.0.0.1:9/__replay/1/v1"]);
        assert_eq!(get("ANTHROPIC_BASE_URL"), ["http://127.0.0.1:9/__replay/1"]);
        assert_eq!(get("APP_MODE"), ["test"]);
        assert_eq!(get("PATH"), ["/bin"]);
        assert_eq!(get("PROVCHECK_REQUEST"), ["/tmp/r.json"]);
    }
}

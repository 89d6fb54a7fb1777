//! Client mode (`--client-cmd`): provcheck runs a client as a command once per trial against
//! that trial's mock and judges what it reports and what the mock saw it do.
//!
//! Bad output, a crash and a hang are checked with tiny shell scripts. The reference adapters
//! of the official SDKs (clients/*.py) run against the resilience suite when their virtualenv
//! is there (`clients/venv.sh` makes it; .ci/run does); without it those tests say so and
//! pass, since a developer's machine may lack Python packages. Deliberately broken adapters
//! (harness/tests/clients/) must fail the scenarios that catch their bug.

use std::collections::BTreeMap;
use std::path::PathBuf;

use crate::common::{provcheck_env, root, run_record, text};
use provcheck::outcome::{Outcome, SkipKind, Status, Subject};

/// Runs provcheck in client mode with `args` after `--client-cmd CMD`; returns its outcomes
/// by trial, and its console output.
fn client_run(cmd: &str, args: &[&str]) -> (BTreeMap<String, Outcome>, String) {
    let reports = tempfile::tempdir().unwrap();
    client_run_in(&reports, cmd, args)
}

/// [`client_run`], writing the reports into `reports`.
fn client_run_in(
    reports: &tempfile::TempDir,
    cmd: &str,
    args: &[&str],
) -> (BTreeMap<String, Outcome>, String) {
    let mut all = vec![
        "--client-cmd",
        cmd,
        "--reports",
        reports.path().to_str().unwrap(),
        // Four at a time: the SDKs' interpreters start slowly, and a machine busy starting
        // them could delay a retry past its scenario's bound.
        "--test-threads",
        "4",
    ];
    all.extend_from_slice(args);
    let out = provcheck_env(&all, &[]);
    let (stdout, stderr) = text(&out);
    let console = format!("{stdout}\n{stderr}");
    let path = reports.path().join("run.json");
    assert!(path.exists(), "no run record written:\n{console}");
    let outcomes = run_record(&path)
        .outcomes
        .into_iter()
        .map(|o| (o.trial.clone(), o))
        .collect();
    (outcomes, console)
}

fn error_message(o: &Outcome) -> String {
    assert_eq!(o.status, Status::Error, "{o:#?}");
    o.error.as_ref().unwrap().message.clone()
}

const TRIAL: &str = "resilience::no_retry_on_400::openai";

#[test]
fn output_that_is_not_the_protocol_is_an_error_naming_trial_and_cause() {
    for (script, cause) in [
        ("echo 'all good'", "printed something that is not JSON"),
        (
            "echo '{\"reply\": {\"txt\": \"Hi\"}}'",
            "printed JSON that is not the protocol (unknown field `txt`",
        ),
        ("echo '[1]'", "expected one JSON object"),
    ] {
        let (o, console) = client_run(script, &[TRIAL, "--exact"]);
        let m = error_message(&o[TRIAL]);
        assert!(
            m.starts_with("client `") && m.contains(cause),
            "{script}: {m}\n{console}"
        );
    }
}

#[test]
fn a_crash_is_an_error_with_the_stderr_tail() {
    let (o, _) = client_run(
        "echo 'Traceback: boom in the adapter' >&2; exit 1",
        &[TRIAL, "--exact"],
    );
    let m = error_message(&o[TRIAL]);
    assert!(m.contains("crashed: exit status 1"), "{m}");
    assert!(m.contains("Traceback: boom in the adapter"), "{m}");
    assert_eq!(o[TRIAL].subject, Subject::Client);
}

#[test]
fn a_hang_is_killed_at_the_deadline_and_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let marker = dir.path().join("grandchild-alive");
    // A grandchild that would leave a mark after the run, unless its group is killed.
    let script = format!(
        "(sleep 4; touch {}) & echo waiting >&2; sleep 60",
        marker.display()
    );
    let started = std::time::Instant::now();
    let (o, _) = client_run(&script, &[TRIAL, "--exact", "--trial-deadline-ms", "1500"]);
    let m = error_message(&o[TRIAL]);
    assert!(
        m.contains("hung: still running at the trial's deadline"),
        "{m}"
    );
    assert!(m.contains("waiting"), "{m}");
    assert!(
        started.elapsed().as_secs() < 30,
        "the run waited for the hung client"
    );
    std::thread::sleep(std::time::Duration::from_millis(4500));
    assert!(
        !marker.exists(),
        "a child of the hung client outlived its trial"
    );
}

#[test]
fn exit_status_zero_without_output_is_judged_on_the_mock_alone() {
    // The client sends nothing: the mock saw no attempt, which `attempts: 1` catches.
    let reports = tempfile::tempdir().unwrap();
    let (o, console) = client_run_in(&reports, "true", &[TRIAL, "--exact"]);
    let t = &o[TRIAL];
    // Every report names the client under test.
    assert!(
        console.contains("by subject: client true 0 pass 1 fail 0 error 0 skip"),
        "{console}"
    );
    let junit = std::fs::read_to_string(reports.path().join("junit.xml")).unwrap();
    assert!(
        junit.contains(r#"<property name="client" value="true"/>"#),
        "{junit}"
    );
    assert_eq!(t.status, Status::Fail, "{t:#?}");
    assert!(
        t.findings[0]
            .message
            .starts_with("the mock saw 0 attempt(s)"),
        "{:?}",
        t.findings
    );
    assert_eq!(t.client.as_deref(), Some("true"));
}

#[test]
fn the_client_gets_the_mock_and_dummy_keys_never_the_real_ones() {
    let dir = tempfile::tempdir().unwrap();
    let seen = dir.path().join("env.txt");
    let script = format!(
        "env > {}; cat \"$PROVCHECK_REQUEST\" >> {}; echo '{{\"skip\": \"only looking\"}}'",
        seen.display(),
        seen.display()
    );
    let reports = tempfile::tempdir().unwrap();
    let out = provcheck_env(
        &[
            "--client-cmd",
            &script,
            "--reports",
            reports.path().to_str().unwrap(),
            TRIAL,
            "--exact",
        ],
        &[("OPENAI_API_KEY", "sk-real-secret")],
    );
    let env = std::fs::read_to_string(&seen).unwrap();
    assert!(!env.contains("sk-real-secret"), "{env}");
    assert!(env.contains("OPENAI_API_KEY=provcheck-dummy-key"), "{env}");
    assert!(env.contains("OPENAI_BASE_URL=http://127.0.0.1:"), "{env}");
    assert!(env.contains("\"protocol\":\"provcheck-client/1\""), "{env}");
    assert!(
        env.contains("\"trial\":\"resilience::no_retry_on_400::openai\""),
        "{env}"
    );
    let o = &run_record(&reports.path().join("run.json")).outcomes[0];
    assert_eq!(o.status, Status::Skip, "{}", text(&out).1);
    assert_eq!(o.skip.as_ref().unwrap().kind, SkipKind::NotForClient);
}

/// The virtualenv with the pinned SDKs: `PROVCHECK_CLIENTS_VENV`, or where `clients/venv.sh`
/// puts it by default. `None` (and a note) when it is not there.
fn venv_python() -> Option<PathBuf> {
    let venv = match std::env::var_os("PROVCHECK_CLIENTS_VENV") {
        Some(v) => PathBuf::from(v),
        None => {
            use sha2::Digest;
            let reqs = std::fs::read(root().join("clients/requirements.txt")).ok()?;
            let hash = format!("{:x}", sha2::Sha256::digest(&reqs));
            let cache = std::env::var_os("PROVCHECK_CACHE")
                .map(PathBuf::from)
                .or_else(|| {
                    std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache/provcheck"))
                })?;
            cache.join(format!("clients-venv-{}", &hash[..12]))
        }
    };
    let python = venv.join("bin/python");
    if python.exists() && venv.join(".complete").exists() {
        Some(python)
    } else {
        eprintln!(
            "note: skipping the SDK adapter check: no virtualenv at {} (make it with clients/venv.sh)",
            venv.display()
        );
        None
    }
}

/// Statuses by scenario id.
fn by_scenario(o: &BTreeMap<String, Outcome>) -> BTreeMap<String, String> {
    o.values()
        .map(|o| (o.scenario.clone(), o.status.to_string()))
        .collect()
}

fn expect(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect()
}

/// The resilience scenarios a one-shot client cannot run, and why (they skip everywhere).
const NOT_FOR_CLIENTS: [(&str, &str); 2] =
    [("circuit_breaker", "skip"), ("rate_limit_burst", "skip")];

#[test]
fn the_official_sdks_against_the_resilience_suite() {
    let Some(python) = venv_python() else { return };
    let python = python.display().to_string();
    let pass = [
        "connection_reset_then_recovery",
        "give_up_after_max_retries",
        "no_retry_on_400",
        "no_retry_on_401",
        "retry_500_then_success",
        "retry_after_http_date",
        "retry_after_ms",
        "retry_after_seconds",
        "timeout_slow_headers",
        "timeout_slow_stream",
        "truncated_stream_not_retried",
        "x_should_retry_false",
    ];
    let mut want: Vec<(&str, &str)> = pass.iter().map(|s| (*s, "pass")).collect();
    want.extend(NOT_FOR_CLIENTS);
    // The Ollama client retries nothing; the scenarios' `ollama` overrides say so
    // (docs/CLIENTS.md, "What the official SDKs do"), and it passes them. Only Anthropic
    // documents a 529: elsewhere that scenario is skipped as not applicable.
    for (adapter, dialect, extra) in [
        ("openai_sdk", "openai", ("retry_529_overloaded", "skip")),
        (
            "anthropic_sdk",
            "anthropic",
            ("retry_529_overloaded", "pass"),
        ),
        ("ollama_sdk", "ollama", ("retry_529_overloaded", "skip")),
    ] {
        let cmd = format!("{python} clients/{adapter}.py");
        let (o, console) = client_run(&cmd, &["--client-dialect", dialect, "resilience::"]);
        let mut want = want.clone();
        want.push(extra);
        assert_eq!(by_scenario(&o), expect(&want), "{adapter}:\n{console}");
        assert!(o.values().all(|o| o.client.as_deref() == Some(adapter)));
    }
}

#[test]
fn the_official_sdks_against_the_streaming_faults() {
    let Some(python) = venv_python() else { return };
    for (adapter, dialect) in [
        ("openai_sdk", "openai"),
        ("anthropic_sdk", "anthropic"),
        ("ollama_sdk", "ollama"),
    ] {
        let cmd = format!("{} clients/{adapter}.py", python.display());
        let (o, console) = client_run(&cmd, &["--client-dialect", dialect, "streaming::"]);
        let statuses = by_scenario(&o);
        for s in ["mid_stream_error", "truncated_stream"] {
            assert_eq!(statuses[s], "pass", "{adapter} {s}:\n{console}");
        }
    }
}

#[test]
fn broken_adapters_fail_the_scenarios_that_catch_them() {
    let Some(python) = venv_python() else { return };
    let python = python.display().to_string();
    let run = |script: &str, trial: &str| -> Vec<String> {
        let cmd = format!("{python} harness/tests/clients/{script}");
        let (o, console) = client_run(&cmd, &[trial, "--exact"]);
        let t = &o[trial];
        assert_eq!(t.status, Status::Fail, "{script} on {trial}:\n{console}");
        t.findings.iter().map(|f| f.message.clone()).collect()
    };
    let f = run(
        "openai_no_retries.py",
        "resilience::retry_500_then_success::openai",
    );
    assert!(
        f.iter()
            .any(|m| m.starts_with("the mock saw 1 attempt(s), expected 2..=2: [500 at")),
        "{f:?}"
    );
    let f = run(
        "openai_ignores_retry_after.py",
        "resilience::retry_after_seconds::openai",
    );
    assert!(
        f.iter().any(|m| m.starts_with("attempt 2 came ")
            && m.ends_with(" ms after attempt 1, expected 950..=1600")),
        "{f:?}"
    );
    let f = run(
        "openai_swallows_errors.py",
        "resilience::give_up_after_max_retries::openai",
    );
    assert!(
        f.iter()
            .any(|m| m.starts_with("expected an error, got HTTP 200 with a normal reply")),
        "{f:?}"
    );
    // The Ollama client's scenarios expect one attempt, but still the error surfaced.
    let f = run(
        "ollama_swallows_errors.py",
        "resilience::retry_500_then_success::ollama",
    );
    assert!(
        f.iter()
            .any(|m| m.starts_with("expected an error, got HTTP 200 with a normal reply")),
        "{f:?}"
    );
}

#[test]
fn client_mode_is_replay_only_and_a_client_must_be_declared() {
    let out = provcheck_env(
        &["--client-cmd", "true", "--mode", "live", "--no-reports"],
        &[],
    );
    let (_, stderr) = text(&out);
    assert!(
        stderr.contains(
            "client mode judges a client against the local mock: it runs in replay mode, not live"
        ),
        "{stderr}"
    );
    let out = provcheck_env(&["--client", "nobody", "--no-reports"], &[]);
    let (_, stderr) = text(&out);
    assert!(
        stderr.contains("--client nobody: targets.yaml declares no such client (known: anthropic-sdk, ollama-sdk, openai-sdk)"),
        "{stderr}"
    );
}

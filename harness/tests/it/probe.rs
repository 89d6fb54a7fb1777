//! `provcheck probe` against the in-tree reference provider: it finds each dialect, declares
//! what it saw work and nothing else, never shows the key, honours the budget and
//! `--require`, and the entry it writes lets every shipped suite run live against the
//! reference with no skip for a capability or alias the reference has, and no failure.

use std::path::Path;

use provcheck::dialect::DialectKind;
use provcheck::outcome::{SkipKind, Status};
use provcheck::reference::{Config, ReferenceProvider};

use crate::common::{provcheck, provcheck_env, root, run_record, text};

/// Runs `provcheck probe` with `args` (the suites are the shipped ones).
fn probe(args: &[&str], env: &[(&str, &str)]) -> (i32, String, String) {
    let suites = root().join("suites");
    let mut all = vec!["probe", "--suite", suites.to_str().unwrap()];
    all.extend(args);
    let out = provcheck_env(&all, env);
    let (stdout, stderr) = text(&out);
    (out.status.code().unwrap_or(-1), stdout, stderr)
}

/// The capabilities the entry for `name` declares, read back from the written file.
fn declared(file: &Path, name: &str) -> Vec<String> {
    let text = std::fs::read_to_string(file).unwrap();
    let v: serde_json::Value = crate::common::yaml_from_str(&text).unwrap();
    v["targets"][name]["capabilities"]
        .as_array()
        .unwrap_or_else(|| panic!("no capabilities for {name} in\n{text}"))
        .iter()
        .map(|c| c.as_str().unwrap().to_string())
        .collect()
}

#[test]
fn each_dialect_is_found_and_every_request_is_printed_with_its_verdict() {
    let server = ReferenceProvider::start(Config::default()).unwrap();
    let url = format!("http://{}", server.addr());
    // No --dialect: the reference speaks them all, and Ollama's native API is tried first.
    let (code, out, err) = probe(&[&url], &[]);
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(out.contains("dialect: ollama"), "{out}");
    for check in [
        "streaming",
        "json_mode",
        "tools",
        "parallel_tools",
        "vision",
        "model_pull",
    ] {
        let line = out
            .lines()
            .find(|l| l.starts_with(check) && l.contains(" -> "))
            .unwrap_or_else(|| panic!("no line for {check}:\n{out}"));
        assert!(line.contains(": yes, "), "{line}");
    }
    // Given /v1 or not, an OpenAI base ends in /v1 and an Anthropic base takes none.
    for (dialect, typed, base) in [
        (DialectKind::Openai, url.clone(), format!("{url}/v1")),
        (DialectKind::Anthropic, format!("{url}/v1"), url.clone()),
        (
            DialectKind::OpenaiResponses,
            url.clone(),
            format!("{url}/v1"),
        ),
    ] {
        let (code, out, err) = probe(&[&typed, "--dialect", dialect.as_str()], &[]);
        assert_eq!(code, 0, "{out}\n{err}");
        assert!(out.contains(&format!("    base_url: {base}  #")), "{out}");
        assert!(
            out.contains(&format!("    dialect: {}  #", dialect.as_str())),
            "{out}"
        );
    }
}

#[test]
fn a_server_without_tools_or_streaming_gets_neither_declared() {
    let server = ReferenceProvider::start(Config {
        tools: false,
        streaming: false,
        ..Config::default()
    })
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("targets.yaml");
    for dialect in ["openai", "anthropic", "ollama"] {
        let name = format!("lacks-{dialect}");
        let url = format!("http://{}", server.addr());
        let (code, out, err) = probe(
            &[
                &url,
                "--dialect",
                dialect,
                "--name",
                &name,
                "--write",
                file.to_str().unwrap(),
            ],
            &[],
        );
        assert_eq!(code, 0, "{out}\n{err}");
        let caps = declared(&file, &name);
        for cap in ["tools", "parallel_tools", "streaming"] {
            assert!(
                !caps.contains(&cap.to_string()),
                "{dialect}: {cap} declared: {caps:?}\n{out}"
            );
        }
        assert!(caps.contains(&"json_schema".to_string()), "{caps:?}");
        let tools = out.lines().find(|l| l.starts_with("tools ")).unwrap();
        assert!(tools.contains("400") && tools.contains(": no, "), "{tools}");
        assert!(out.contains("# not declared: streaming"), "{out}");
        // A required capability it lacks fails the probe, naming it.
        let (code, _, err) = probe(&[&url, "--dialect", dialect, "--require", "tools"], &[]);
        assert_eq!(code, 101, "{err}");
        assert!(
            err.contains("required capability tools was not seen working"),
            "{err}"
        );
    }
}

#[test]
fn the_key_is_sent_but_never_shown_and_the_entry_names_its_variable() {
    let secret = "sk-probe-secret-4242";
    let server = ReferenceProvider::start(Config {
        api_key: Some(secret.into()),
        ..Config::default()
    })
    .unwrap();
    let url = format!("http://{}/v1", server.addr());
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("targets.yaml");
    let args = [
        &url,
        "--dialect",
        "openai",
        "--key-env",
        "PROBE_KEY",
        "--write",
        file.to_str().unwrap(),
    ];
    let (code, out, err) = probe(&args, &[("PROBE_KEY", secret)]);
    assert_eq!(code, 0, "{out}\n{err}");
    let written = std::fs::read_to_string(&file).unwrap();
    for (what, s) in [("stdout", &out), ("stderr", &err), ("the file", &written)] {
        assert!(!s.contains(secret), "the key is in {what}:\n{s}");
    }
    assert!(written.contains("key_env: PROBE_KEY"), "{written}");
    // Without the key the listing is refused, and the probe says a key is needed.
    let (code, out, _) = probe(&[&url, "--dialect", "openai"], &[]);
    assert_ne!(code, 0);
    assert!(out.contains("a key is needed"), "{out}");
    // A key in the URL is refused before anything is sent, without echoing it.
    let with_creds = format!("http://user:{secret}@{}/v1", server.addr());
    let (code, out, err) = probe(&[&with_creds], &[]);
    assert_eq!(code, 2);
    assert!(!out.contains(secret) && !err.contains(secret), "{out}{err}");
}

#[test]
fn a_server_that_answers_no_dialect_is_an_error_after_every_attempt_is_shown() {
    // A port nothing listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("http://127.0.0.1:{port}");
    let (code, out, err) = probe(&[&url], &[]);
    assert_eq!(code, 2, "{out}\n{err}");
    for dialect in ["ollama", "openai", "anthropic", "openai-responses"] {
        assert!(
            out.contains(&format!("{dialect} models ")),
            "{dialect} not tried:\n{out}"
        );
    }
    assert!(out.contains("no response: "), "{out}");
    assert!(
        err.contains("did not answer a model listing and a chat"),
        "{err}"
    );
}

#[test]
fn the_budget_stops_the_probe_and_nothing_unseen_is_declared() {
    let server = ReferenceProvider::start(Config::default()).unwrap();
    let url = format!("http://{}", server.addr());
    // Two requests: the listing and the chat; every probe after is not sent.
    let (code, out, err) = probe(&[&url, "--dialect", "openai", "--max-requests", "2"], &[]);
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(out.contains("not sent: --max-requests 2"), "{out}");
    assert!(out.contains("capabilities: []"), "{out}");
    let (code, _, err) = probe(
        &[
            &url,
            "--dialect",
            "openai",
            "--max-requests",
            "2",
            "--require",
            "streaming",
        ],
        &[],
    );
    assert_eq!(code, 101, "{err}");
}

/// The Done-when of issue 17: probe each dialect of the reference provider into one
/// targets.yaml (a copy of the shipped one, whose comments and clients must survive), then
/// run every shipped suite live against those targets with no edit: no trial is skipped for a
/// capability or alias (except `text_only` where the suites judge no refusal: Anthropic and
/// the Responses API) and, judged on the contract, none fails.
#[test]
fn probed_targets_run_the_shipped_suites_with_no_false_skip() {
    let server = ReferenceProvider::start(Config::default()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("targets.yaml");
    let shipped = std::fs::read_to_string(root().join("targets.yaml")).unwrap();
    std::fs::write(&file, &shipped).unwrap();
    let url = format!("http://{}", server.addr());
    let names = ["p-openai", "p-anthropic", "p-ollama", "p-openai-responses"];
    for (name, dialect) in names
        .iter()
        .zip(["openai", "anthropic", "ollama", "openai-responses"])
    {
        let f = file.to_str().unwrap();
        let (code, out, err) = probe(
            &[&url, "--dialect", dialect, "--name", name, "--write", f],
            &[],
        );
        assert_eq!(code, 0, "{out}\n{err}");
    }
    // Probing again replaces the entry instead of adding a second one.
    let (code, _, _) = probe(
        &[
            &url,
            "--dialect",
            "ollama",
            "--name",
            "p-ollama",
            "--write",
            file.to_str().unwrap(),
        ],
        &[],
    );
    assert_eq!(code, 0);
    let written = std::fs::read_to_string(&file).unwrap();
    assert_eq!(written.matches("\n  p-ollama:").count(), 1, "{written}");
    for line in shipped
        .lines()
        .filter(|l| l.starts_with('#') || l.starts_with("  "))
    {
        assert!(written.contains(line), "lost `{line}`:\n{written}");
    }
    let reports = dir.path().join("reports");
    let mut args = vec![
        "--mode",
        "live",
        "--targets",
        file.to_str().unwrap(),
        "--reports",
        reports.to_str().unwrap(),
        "--behaviour",
        "warn",
        "--live-concurrency",
        "1",
    ];
    for n in &names {
        args.extend(["--target", n]);
    }
    let out = provcheck(&args);
    let (stdout, stderr) = text(&out);
    assert!(stdout.contains("test result:"), "{stdout}\n{stderr}");
    let record = run_record(&reports.join("run.json"));
    let mut wrong = Vec::new();
    for o in &record.outcomes {
        let false_skip = match o.skip.as_ref() {
            // The anthropic dialect has no schema-less JSON mode (nor has the built-in target).
            Some(s) if s.kind == SkipKind::CapabilityNotDeclared => {
                !(s.detail == "json_mode" && o.target == "p-anthropic")
            }
            Some(s) if s.kind == SkipKind::NoModelAlias => {
                !(s.detail == "text_only"
                    && matches!(o.target.as_str(), "p-anthropic" | "p-openai-responses"))
            }
            _ => false,
        };
        let applicable = o.skip.as_ref().is_none_or(|s| s.kind != SkipKind::Other);
        if false_skip || (applicable && matches!(o.status, Status::Fail | Status::Error)) {
            wrong.push(format!("{}: {:?} {:?}", o.trial, o.status, o.skip));
        }
    }
    assert!(wrong.is_empty(), "{wrong:#?}\n{stdout}");
    assert!(
        record
            .outcomes
            .iter()
            .filter(|o| o.status == Status::Pass)
            .count()
            > 100
    );
}

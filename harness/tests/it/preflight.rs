//! The preflight: before a live run sends a trial, each target is checked once (refused, DNS,
//! TLS, key rejected, wrong base URL). An unusable target gives one line naming it and the
//! likely cause; its trials are errors that sent nothing, and `--require` names it. A live
//! request that gets no reply is an error with one line, not a failure. Everything here stays
//! on 127.0.0.1 (the DNS case asks for a `.invalid` name, which never resolves).

use std::path::Path;
use std::process::Output;

use crate::common;
use crate::raw_server::{MODELS, RawServer, respond};

const SUITE: &str = r#"suite: pf
category: messages
scenarios:
  - id: hello
    title: A plain reply
    request:
      messages:
        - user: Say hello.
      max_tokens: 20
    expect:
      status: 200
  - id: hello_again
    title: Another plain reply
    request:
      messages:
        - user: Say hello again.
      max_tokens: 20
    expect:
      status: 200
"#;

/// A project with the suite and one target `t` of `dialect` at `base_url`.
fn project(dialect: &str, base_url: &str, extra: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("suites")).unwrap();
    std::fs::write(dir.path().join("suites/pf.yaml"), SUITE).unwrap();
    std::fs::write(
        dir.path().join("targets.yaml"),
        format!(
            "targets:\n  t:\n    dialect: {dialect}\n    base_url: {base_url}\n    models: {{ small: raw-model }}\n{extra}"
        ),
    )
    .unwrap();
    dir
}

fn run(dir: &Path, env: &[(&str, &str)], extra: &[&str]) -> Output {
    let mut c = common::command(dir);
    c.args(["--mode", "live", "--target", "t"]).args(extra);
    c.envs(env.iter().copied());
    c.output().expect("run provcheck")
}

/// The run's stderr lines that start with `error: preflight:`.
fn preflight_lines(o: &Output) -> Vec<String> {
    let (_, stderr) = common::text(o);
    stderr
        .lines()
        .filter(|l| l.starts_with("error: preflight:"))
        .map(str::to_string)
        .collect()
}

/// Checks what every unusable target gives: one preflight line containing `cause`, both
/// trials errors in JUnit and the run record (kind preflight, nothing sent), exit 101, and
/// with `--require` the target named as not exercised.
fn assert_unusable(dir: &Path, env: &[(&str, &str)], cause: &str) -> String {
    let out = run(dir, env, &["--require", "t"]);
    let (stdout, stderr) = common::text(&out);
    assert_eq!(out.status.code(), Some(101), "{stdout}\n{stderr}");
    let lines = preflight_lines(&out);
    assert_eq!(lines.len(), 1, "one line per target:\n{stderr}");
    let line = &lines[0];
    assert!(line.contains("target `t`"), "{line}");
    assert!(line.contains(cause), "expected {cause:?} in {line}");
    assert!(
        stderr.contains("required target t was not exercised: 2 trial(s) errored"),
        "{stderr}"
    );
    let (_, cases) = common::junit_cases(&dir.join("reports/junit.xml"));
    assert_eq!(cases.len(), 2);
    for c in &cases {
        assert_eq!(c.status, "error", "{c:?}");
        assert!(c.message.contains(cause), "{c:?}");
        assert!(!c.message.contains('\n'), "one line: {c:?}");
    }
    let record = common::run_record(&dir.join("reports/run.json"));
    for o in &record.outcomes {
        let e = o.error.as_ref().expect("an error");
        assert_eq!(e.kind, provcheck::outcome::ErrorKind::Preflight);
        assert_eq!(o.requests, 0, "nothing sent: {o:?}");
        assert!(o.exchanges.is_empty());
    }
    line.clone()
}

#[test]
fn a_refused_port_is_named_once_and_its_trials_are_errors() {
    // A port that was free a moment ago: nothing listens there now.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let dir = project("openai", &format!("http://127.0.0.1:{port}/v1"), "");
    let line = assert_unusable(
        dir.path(),
        &[],
        &format!("connection refused (127.0.0.1:{port})"),
    );
    assert!(line.contains("is the server running"), "{line}");
}

#[test]
fn an_unusable_target_fails_the_run_only_when_required() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let dir = project("openai", &format!("http://127.0.0.1:{port}/v1"), "");
    let out = run(dir.path(), &[], &[]);
    let (stdout, stderr) = common::text(&out);
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    assert_eq!(preflight_lines(&out).len(), 1, "{stderr}");
    assert!(
        stderr.contains("note: target `t` was not usable: 2 trial(s) not sent")
            && stderr.contains("--require t"),
        "{stderr}"
    );
    // Still errors in the reports: an unreachable target is never shown as a pass.
    let (_, cases) = common::junit_cases(&dir.path().join("reports/junit.xml"));
    assert!(cases.iter().all(|c| c.status == "error"), "{cases:?}");
}

#[test]
fn a_rejected_key_is_named_and_costs_one_request() {
    let server = RawServer::start(|_, conn| {
        respond(
            conn,
            401,
            "application/json",
            r#"{"error":{"message":"Incorrect API key provided.","type":"invalid_request_error","param":null,"code":"invalid_api_key"}}"#,
        )
    });
    let dir = project(
        "openai",
        &format!("{}/v1", server.url()),
        "    key_env: PF_TEST_KEY\n",
    );
    let line = assert_unusable(
        dir.path(),
        &[("PF_TEST_KEY", "pf-wrong-key")],
        "key rejected",
    );
    assert!(line.contains("HTTP 401"), "{line}");
    assert!(line.contains("check the key in PF_TEST_KEY"), "{line}");
    assert!(
        !line.contains("pf-wrong-key"),
        "the key is never shown: {line}"
    );
    let seen = server.seen();
    assert_eq!(
        seen.len(),
        1,
        "the preflight only, no trial, no retry: {seen:?}"
    );
    assert_eq!(
        (seen[0].method.as_str(), seen[0].path.as_str()),
        ("GET", "/v1/models")
    );
}

#[test]
fn an_anthropic_base_url_with_v1_gets_the_hint() {
    // Answers the Anthropic routes where they are; anything else is a plain 404 page.
    let server = RawServer::start(|req, conn| match req.path.as_str() {
        "/v1/models" => respond(conn, 200, "application/json", r#"{"data":[]}"#),
        _ => respond(conn, 404, "text/plain", "404 page not found"),
    });
    let dir = project("anthropic", &format!("{}/v1", server.url()), "");
    let line = assert_unusable(dir.path(), &[], "HTTP 404 on GET");
    assert!(line.contains("/v1/v1/models"), "{line}");
    assert!(
        line.contains(&format!(
            "(wrong base URL? an Anthropic base_url takes no /v1: try {})",
            server.url()
        )),
        "{line}"
    );
}

#[test]
fn an_unresolvable_host_is_a_dns_failure() {
    let dir = project("ollama", "http://provcheck-preflight.invalid:11434", "");
    let line = assert_unusable(
        dir.path(),
        &[],
        "DNS lookup failed for provcheck-preflight.invalid",
    );
    assert!(line.contains("check the host in base_url"), "{line}");
}

#[test]
fn https_to_a_plain_http_port_is_a_tls_failure() {
    let server = RawServer::start(|_, conn| respond(conn, 200, "application/json", MODELS));
    let dir = project("openai", &format!("https://{}/v1", server.addr), "");
    let line = assert_unusable(
        dir.path(),
        &[],
        &format!("TLS handshake failed ({})", server.addr),
    );
    assert!(line.contains("starts with http://"), "{line}");
}

#[test]
fn a_live_request_without_a_reply_is_an_error_of_one_line_and_a_404_page_says_so_first() {
    // The preflight passes; `hello` never gets an answer, `hello_again` gets a 404 page.
    let server = RawServer::start(|req, conn| {
        if req.method == "GET" {
            return respond(conn, 200, "application/json", MODELS);
        }
        if req.body.contains("again") {
            return respond(conn, 404, "text/plain", "404 page not found");
        }
        // Read, then hold the connection without a word until the client gives up.
        std::thread::sleep(std::time::Duration::from_secs(5));
    });
    let dir = project(
        "openai",
        &format!("{}/v1", server.url()),
        "    resilience: { max_retries: 0 }\n",
    );
    let out = run(dir.path(), &[], &["--request-timeout-ms", "300"]);
    let (stdout, stderr) = common::text(&out);
    assert_eq!(out.status.code(), Some(101), "{stdout}\n{stderr}");
    assert!(preflight_lines(&out).is_empty(), "{stderr}");
    let record = common::run_record(&dir.path().join("reports/run.json"));
    let by = |s: &str| {
        record
            .outcomes
            .iter()
            .find(|o| o.scenario == s)
            .unwrap()
            .clone()
    };
    let hello = by("hello");
    assert_eq!(hello.status, provcheck::outcome::Status::Error, "{hello:?}");
    let e = hello.error.unwrap();
    assert_eq!(e.kind, provcheck::outcome::ErrorKind::Transport);
    assert_eq!(e.message, "timed out after 300 ms");
    let again = by("hello_again");
    assert_eq!(again.status, provcheck::outcome::Status::Fail, "{again:?}");
    assert!(
        again.findings[0]
            .message
            .starts_with("HTTP 404 (wrong base URL? an OpenAI base_url ends in /v1 once"),
        "{:?}",
        again.findings
    );
    let (_, cases) = common::junit_cases(&dir.path().join("reports/junit.xml"));
    let case = cases
        .iter()
        .find(|c| c.trial.contains("::hello::"))
        .unwrap();
    assert_eq!(case.status, "error", "{case:?}");
}

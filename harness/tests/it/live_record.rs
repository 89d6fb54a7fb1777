//! Live and record modes against a local stand-in for an OpenAI-compatible server (wiremock on
//! 127.0.0.1): the key reaches the server and never a recording, recordings replay green, a
//! secret the server echoes stops the write, budgets skip what they must, `--record
//! missing|all` and `--strict` do what they say. Nothing here leaves the machine.

use crate::common;

use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use wiremock::matchers::any;
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

const KEY_VAR: &str = "PROVCHECK_TEST_KEY";
const FAKE_KEY: &str = "pc-test-Fake-K3y-0123456789";
const REPORTED_MODEL: &str = "standin-model-2026-01-01";

/// Answers chat completions the way OpenAI documents them, plain or streamed; with `echo`
/// it puts the request's authorization header into the reply, as a careless gateway might.
struct StandIn {
    echo: bool,
    delay: Duration,
}

fn chunk(delta: Value, finish: Value) -> String {
    json!({
        "id": "chatcmpl-standin", "object": "chat.completion.chunk", "created": 1764028800,
        "model": REPORTED_MODEL,
        "choices": [{"index": 0, "delta": delta, "logprobs": null, "finish_reason": finish}]
    })
    .to_string()
}

impl Respond for StandIn {
    fn respond(&self, req: &Request) -> ResponseTemplate {
        let body: Value = serde_json::from_slice(&req.body).unwrap_or(Value::Null);
        let auth = req
            .headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string();
        let text = if self.echo {
            format!("hello, you sent {auth}")
        } else {
            "hello there".to_string()
        };
        let usage = json!({"prompt_tokens": 9, "completion_tokens": 5, "total_tokens": 14});
        let base = ResponseTemplate::new(200)
            .set_delay(self.delay)
            .insert_header("x-request-id", "req_standin_1")
            .insert_header("x-ratelimit-remaining-requests", "99")
            .insert_header("set-cookie", "session=standin-cookie-value")
            .insert_header("cf-ray", "standin-ray");
        if body["stream"] == json!(true) {
            let mut events = vec![
                chunk(json!({"role": "assistant", "content": ""}), Value::Null),
                chunk(json!({"content": text}), Value::Null),
                chunk(json!({}), json!("stop")),
            ];
            if body.pointer("/stream_options/include_usage") == Some(&json!(true)) {
                events.push(
                    json!({"id": "chatcmpl-standin", "object": "chat.completion.chunk",
                           "created": 1764028800, "model": REPORTED_MODEL, "choices": [],
                           "usage": usage})
                    .to_string(),
                );
            }
            events.push("[DONE]".into());
            let sse: String = events.iter().map(|e| format!("data: {e}\n\n")).collect();
            return base.set_body_raw(sse, "text/event-stream");
        }
        base.set_body_json(json!({
            "id": "chatcmpl-standin", "object": "chat.completion", "created": 1764028800,
            "model": REPORTED_MODEL,
            "choices": [{"index": 0, "message": {"role": "assistant", "content": text},
                         "logprobs": null, "finish_reason": "stop"}],
            "usage": usage
        }))
    }
}

/// A stand-in server on its own runtime, which serves while the test thread runs the binary.
struct Server {
    rt: tokio::runtime::Runtime,
    server: MockServer,
}

impl Server {
    fn start(echo: bool, delay: Duration) -> Server {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let server = rt.block_on(async {
            let s = MockServer::start().await;
            Mock::given(any())
                .respond_with(StandIn { echo, delay })
                .mount(&s)
                .await;
            s
        });
        Server { rt, server }
    }

    /// The trials' requests: the preflight's GET of the models list, once per run, is not
    /// one of them.
    fn requests(&self) -> Vec<Request> {
        self.rt
            .block_on(self.server.received_requests())
            .unwrap_or_default()
            .into_iter()
            .filter(|r| r.url.path() != "/v1/models")
            .collect()
    }

    fn reset(&self) {
        self.rt.block_on(async {
            self.server.reset().await;
        });
        self.rt.block_on(async {
            Mock::given(any())
                .respond_with(StandIn {
                    echo: false,
                    delay: Duration::ZERO,
                })
                .mount(&self.server)
                .await;
        });
    }
}

const SUITE: &str = r#"suite: standin
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
      finish_reason: stop
      text: { contains: hello }
      usage: { present: true, output_tokens: { min: 1, max: 20 } }
  - id: hello_stream
    title: A streamed reply
    requires: [streaming]
    request:
      stream: true
      messages:
        - user: Say hello, streamed.
      max_tokens: 20
    expect:
      status: 200
      finish_reason: stop
      text: { contains: hello }
      stream: { well_formed: true, events: { min: 3 } }
"#;

/// A project directory: the suite, and a targets file pointing `standin` at `server`.
fn project(server: &Server, suite: &str) -> tempfile::TempDir {
    project_with(server, suite, "")
}

/// Like [`project`], with `extra` appended to the target's entry in targets.yaml.
fn project_with(server: &Server, suite: &str, extra: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("suites")).unwrap();
    std::fs::write(dir.path().join("suites/standin.yaml"), suite).unwrap();
    std::fs::write(
        dir.path().join("targets.yaml"),
        format!(
            "targets:\n  standin:\n    dialect: openai\n    base_url: {}/v1\n    key_env: {KEY_VAR}\n    models: {{ small: standin-model }}\n    capabilities: [streaming]\n{extra}",
            server.server.uri()
        ),
    )
    .unwrap();
    dir
}

/// Runs provcheck in `dir` against the stand-in target, the fake key set when `key` is.
fn provcheck(dir: &Path, key: bool, args: &[&str]) -> Output {
    let env: &[(&str, &str)] = if key { &[(KEY_VAR, FAKE_KEY)] } else { &[] };
    provcheck_env(dir, env, args)
}

/// Runs provcheck in `dir` with exactly `env` set among the variables that matter.
fn provcheck_env(dir: &Path, env: &[(&str, &str)], args: &[&str]) -> Output {
    let mut c = common::command(dir);
    c.args(["--target", "standin"]).args(args);
    for (k, v) in env {
        c.env(k, v);
    }
    c.output().expect("run provcheck")
}

const SESSION_VAR: &str = "PROVCHECK_TEST_SESSION";
const SESSION: &str = "session-0123456789abcdef";

fn fixture(dir: &Path, scenario: &str) -> PathBuf {
    dir.join(format!("fixtures/standin/standin/{scenario}.yaml"))
}

fn all_text(dir: &Path, out: &Output) -> String {
    let (stdout, stderr) = common::text(out);
    let mut s = format!("{stdout}\n{stderr}\n");
    for r in ["run.json", "junit.xml", "COVERAGE_AUDIT.md"] {
        s.push_str(&std::fs::read_to_string(dir.join("reports").join(r)).unwrap_or_default());
    }
    s
}

#[test]
fn record_sends_the_key_writes_no_key_and_replays_green() {
    let server = Server::start(false, Duration::ZERO);
    let dir = project(&server, SUITE);
    let out = provcheck(dir.path(), true, &["--mode", "record"]);
    let (stdout, stderr) = common::text(&out);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(stdout.contains("2 passed"), "{stdout}");
    assert!(
        stdout.contains("recorded: 2 recordings written"),
        "{stdout}"
    );

    // (1) The key reached the server.
    let seen = server.requests();
    assert_eq!(seen.len(), 2);
    for r in &seen {
        assert_eq!(
            r.headers.get("authorization").unwrap().to_str().unwrap(),
            format!("Bearer {FAKE_KEY}")
        );
    }

    // (2) ... and no recording holds it; what is kept is what is worth keeping.
    for scenario in ["hello", "hello_stream"] {
        let text = std::fs::read_to_string(fixture(dir.path(), scenario)).unwrap();
        assert!(!text.contains(FAKE_KEY), "{text}");
        assert!(
            !text.contains("set-cookie") && !text.contains("standin-cookie"),
            "{text}"
        );
        assert!(!text.contains("cf-ray"), "{text}");
        let v: Value = crate::common::yaml_from_str(&text).unwrap();
        assert_eq!(v["provenance"]["source"], "live", "{text}");
        assert_eq!(v["provenance"]["model"], REPORTED_MODEL, "{text}");
        assert_eq!(
            v["provenance"]["reference"],
            format!("{}/v1", server.server.uri())
        );
        let date = v["provenance"]["date"].as_str().unwrap();
        assert!(
            chrono::NaiveDate::parse_from_str(date, "%Y-%m-%d").is_ok(),
            "{date}"
        );
        let ex = &v["exchanges"][0];
        assert_eq!(ex["request"]["path"], "/v1/chat/completions");
        assert_eq!(ex["request"]["headers"]["authorization"], "<redacted>");
        assert_eq!(ex["request"]["headers"]["content-type"], "application/json");
        assert_eq!(ex["request"]["body"]["model"], "standin-model");
        assert_eq!(ex["response"]["headers"]["x-request-id"], "req_standin_1");
        assert_eq!(
            ex["response"]["headers"]["x-ratelimit-remaining-requests"],
            "99"
        );
        if scenario == "hello_stream" {
            let st = &ex["response"]["stream"];
            assert_eq!(st["format"], "sse", "{text}");
            assert_eq!(st["end"], "clean");
            let events = st["events"].as_array().unwrap();
            assert_eq!(events.last().unwrap()["data"], "[DONE]");
            assert!(events.iter().all(|e| e["at_ms"].is_u64()), "{text}");
        } else {
            assert_eq!(ex["response"]["body"]["model"], REPORTED_MODEL);
        }
    }
    let record = common::run_record(&dir.path().join("reports/run.json"));
    assert_eq!(record.mode, provcheck::outcome::Mode::Record);
    let spent = record.spent["standin"];
    assert_eq!((spent.requests, spent.output_tokens), (2, 10));
    assert!(record.outcomes.iter().all(|o| o.recorded.is_some()));
    assert!(!all_text(dir.path(), &out).contains(FAKE_KEY));

    // The recordings replay green, with no key and no server, strictly.
    drop(server);
    let out = provcheck(dir.path(), false, &["--strict"]);
    let (stdout, stderr) = common::text(&out);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(stdout.contains("2 passed"), "{stdout}");
    let record = common::run_record(&dir.path().join("reports/run.json"));
    assert!(record.spent.is_empty());
    assert!(record.outcomes.iter().all(|o| {
        o.provenance
            .as_ref()
            .map(provcheck::report::text::provenance)
            .is_some_and(|p| p.starts_with("live "))
    }));
}

#[test]
fn a_secret_echoed_in_a_body_or_a_stream_event_stops_the_write() {
    let server = Server::start(true, Duration::ZERO);
    let dir = project(&server, SUITE);
    let out = provcheck(dir.path(), true, &["--mode", "record"]);
    let (stdout, stderr) = common::text(&out);
    assert_eq!(out.status.code(), Some(101), "{stdout}\n{stderr}");
    for scenario in ["hello", "hello_stream"] {
        assert!(
            !fixture(dir.path(), scenario).exists(),
            "{scenario} was written"
        );
        let trial = format!("standin::{scenario}::standin");
        assert!(
            stdout.contains(&format!("ERROR {trial}: refusing to write"))
                && stdout.contains(&format!("contains the value of {KEY_VAR}")),
            "{stdout}"
        );
    }
    assert!(!dir.path().join("fixtures/standin/standin").exists());
    // The key is named, never shown: not on the console, not in any report.
    let everything = all_text(dir.path(), &out);
    assert!(!everything.contains(FAKE_KEY), "{everything}");
    let record = common::run_record(&dir.path().join("reports/run.json"));
    assert!(
        record
            .outcomes
            .iter()
            .all(|o| o.status == provcheck::outcome::Status::Error && o.recorded.is_none())
    );
}

fn many(n: usize) -> String {
    let mut s = String::from("suite: standin\ncategory: messages\nscenarios:\n");
    for i in 0..n {
        s.push_str(&format!(
            "  - id: s{i}\n    title: Reply {i}\n    request:\n      messages:\n        - user: Say hello {i}.\n      max_tokens: 20\n    expect:\n      status: 200\n"
        ));
    }
    s
}

#[test]
fn budgets_skip_the_rest_with_the_reason_and_the_record_counts_the_spend() {
    let server = Server::start(false, Duration::ZERO);
    let dir = project(&server, &many(5));
    let out = provcheck(dir.path(), true, &["--mode", "live", "--max-requests", "2"]);
    let (stdout, stderr) = common::text(&out);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(stdout.contains("2 passed"), "{stdout}");
    assert!(
        stdout.contains("3 × budget: --max-requests 2 would be exceeded; not sent"),
        "{stdout}"
    );
    assert!(
        stdout.contains("spent 2 requests, 10 output tokens"),
        "{stdout}"
    );
    assert_eq!(server.requests().len(), 2);
    let record = common::run_record(&dir.path().join("reports/run.json"));
    assert_eq!(record.spent["standin"].requests, 2);
    assert_eq!(record.spent["standin"].output_tokens, 10);
    assert_eq!(record.budget.unwrap().max_requests, Some(2));
    assert_eq!(record.totals.skip, 3);
    let audit = std::fs::read_to_string(dir.path().join("reports/COVERAGE_AUDIT.md")).unwrap();
    assert!(audit.contains("3 over budget"), "{audit}");
    assert!(
        audit.contains(
            "- **Spent at the providers**: `standin` 2 requests, 10 output tokens (budget: 2 requests)"
        ),
        "{audit}"
    );

    // Output tokens are counted as replies arrive: one at a time, the first reply spends
    // the budget and nothing else starts.
    server.reset();
    let out = provcheck(
        dir.path(),
        true,
        &[
            "--mode",
            "live",
            "--max-output-tokens",
            "3",
            "--test-threads",
            "1",
        ],
    );
    let (stdout, stderr) = common::text(&out);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(
        stdout.contains("4 × budget: --max-output-tokens 3 spent; not sent"),
        "{stdout}"
    );
    assert_eq!(server.requests().len(), 1);
}

#[test]
fn live_concurrency_limits_trials_in_flight_per_target() {
    let server = Server::start(false, Duration::from_millis(300));
    let dir = project(&server, &many(3));
    let started = Instant::now();
    let out = provcheck(
        dir.path(),
        true,
        &["--mode", "live", "--live-concurrency", "1"],
    );
    let (stdout, stderr) = common::text(&out);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(stdout.contains("3 passed"), "{stdout}");
    // One at a time: three 300 ms replies can't overlap.
    assert!(started.elapsed() >= Duration::from_millis(900));
}

#[test]
fn record_missing_keeps_recordings_and_record_all_rewrites_them() {
    let server = Server::start(false, Duration::ZERO);
    let dir = project(&server, SUITE);
    let out = provcheck(dir.path(), true, &["--mode", "record"]);
    assert!(out.status.success(), "{}", common::text(&out).0);
    let path = fixture(dir.path(), "hello");
    // Hand-edit the recording: a replayable change the live server would not make.
    let edited = std::fs::read_to_string(&path)
        .unwrap()
        .replace("hello there", "hello from the edited recording");
    std::fs::write(&path, &edited).unwrap();
    std::fs::remove_file(fixture(dir.path(), "hello_stream")).unwrap();
    server.reset();

    let out = provcheck(dir.path(), true, &["--mode", "record"]);
    let (stdout, stderr) = common::text(&out);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert_eq!(std::fs::read_to_string(&path).unwrap(), edited);
    assert!(fixture(dir.path(), "hello_stream").exists());
    // Only the missing one went to the server.
    assert_eq!(server.requests().len(), 1);
    assert!(stdout.contains("recorded: 1 recording written"), "{stdout}");

    server.reset();
    let out = provcheck(dir.path(), true, &["--mode", "record", "--record", "all"]);
    let (stdout, stderr) = common::text(&out);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    let rewritten = std::fs::read_to_string(&path).unwrap();
    assert!(rewritten.contains("hello there") && !rewritten.contains("edited"));
    assert_eq!(server.requests().len(), 2);

    // --record belongs to record mode.
    let out = provcheck(dir.path(), true, &["--mode", "live", "--record", "all"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        common::text(&out)
            .1
            .contains("--record all needs --mode record")
    );
}

#[test]
fn strict_names_a_recorded_exchange_never_served() {
    let server = Server::start(false, Duration::ZERO);
    let dir = project(&server, SUITE);
    assert!(
        provcheck(dir.path(), true, &["--mode", "record"])
            .status
            .success()
    );
    drop(server);
    let path = fixture(dir.path(), "hello");
    let mut v: Value =
        crate::common::yaml_from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let mut extra = v["exchanges"][0].clone();
    extra["request"]["body"]["max_tokens"] = json!(99);
    v["exchanges"].as_array_mut().unwrap().push(extra);
    std::fs::write(&path, crate::common::yaml_to_string(&v).unwrap()).unwrap();

    let out = provcheck(dir.path(), false, &["standin::hello::"]);
    assert!(out.status.success(), "{}", common::text(&out).0);
    let out = provcheck(dir.path(), false, &["--strict", "standin::hello::"]);
    let (stdout, stderr) = common::text(&out);
    assert_eq!(out.status.code(), Some(101), "{stdout}\n{stderr}");
    assert!(
        stdout
            .contains("--strict: 1 of 2 recorded exchanges were never served, first exchange 1 at"),
        "{stdout}"
    );
    assert!(
        stdout.contains("exchange 1 (POST /v1/chat/completions)"),
        "{stdout}"
    );
}

#[test]
fn without_the_key_live_and_record_skip_and_require_fails() {
    let server = Server::start(false, Duration::ZERO);
    let dir = project(&server, SUITE);
    for mode in ["live", "record"] {
        let out = provcheck(dir.path(), false, &["--mode", mode]);
        let (stdout, stderr) = common::text(&out);
        assert!(out.status.success(), "{stdout}\n{stderr}");
        assert!(
            stdout.contains(&format!("2 × no key: {KEY_VAR} is not set")),
            "{stdout}"
        );
        let out = provcheck(dir.path(), false, &["--mode", mode, "--require", "standin"]);
        assert_eq!(out.status.code(), Some(101));
        assert!(
            common::text(&out)
                .1
                .contains("required target standin was not exercised")
        );
    }
    assert!(server.requests().is_empty());
    assert!(!dir.path().join("fixtures").exists());
}

#[test]
fn configured_redaction_keeps_secrets_out_and_replay_green() {
    let server = Server::start(false, Duration::ZERO);
    // The prompt itself carries a configured secret: redacting the message content by
    // pointer keeps it out, and the pointer becomes an `ignore` so replay still matches.
    let suite = SUITE.replace("Say hello.", &format!("Say hello to {SESSION}."));
    let redact = format!(
        "    redact:\n      headers: [x-ratelimit-remaining-requests]\n      json: [/messages/*/content, /id]\n      env: [{SESSION_VAR}]\n"
    );
    let dir = project_with(&server, &suite, &redact);
    let env = [(KEY_VAR, FAKE_KEY), (SESSION_VAR, SESSION)];
    let out = provcheck_env(dir.path(), &env, &["--mode", "record", "standin::hello::"]);
    let (stdout, stderr) = common::text(&out);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    let text = std::fs::read_to_string(fixture(dir.path(), "hello")).unwrap();
    assert!(
        !text.contains(SESSION) && !text.contains(FAKE_KEY),
        "{text}"
    );
    let v: Value = crate::common::yaml_from_str(&text).unwrap();
    let ex = &v["exchanges"][0];
    assert_eq!(
        ex["request"]["body"]["messages"][0]["content"],
        "<redacted>"
    );
    assert_eq!(ex["request"]["ignore"], json!(["/messages/0/content"]));
    assert_eq!(ex["response"]["body"]["id"], "<redacted>");
    assert!(
        ex["response"]["headers"]
            .get("x-ratelimit-remaining-requests")
            .is_none()
    );
    drop(server);
    let out = provcheck_env(dir.path(), &[], &["--strict", "standin::hello::"]);
    let (stdout, stderr) = common::text(&out);
    assert!(
        out.status.success() && stdout.contains("1 passed"),
        "{stdout}\n{stderr}"
    );

    // Without the pointer, the configured variable's value in the prompt stops the write.
    let server = Server::start(false, Duration::ZERO);
    let redact = format!("    redact: {{ env: [{SESSION_VAR}] }}\n");
    let dir = project_with(&server, &suite, &redact);
    let out = provcheck_env(dir.path(), &env, &["--mode", "record", "standin::hello::"]);
    let (stdout, stderr) = common::text(&out);
    assert_eq!(out.status.code(), Some(101), "{stdout}\n{stderr}");
    assert!(
        stdout.contains(&format!("contains the value of {SESSION_VAR}")),
        "{stdout}"
    );
    assert!(!fixture(dir.path(), "hello").exists());
}

#[test]
fn an_attempt_without_a_response_is_reported_not_recorded() {
    let server = Server::start(false, Duration::from_millis(1500));
    let suite = "suite: standin\ncategory: limits\nscenarios:\n  - id: slow\n    title: Gives up at its deadline\n    client: { max_retries: 0 }\n    request:\n      messages:\n        - user: Say hello.\n      timeout_ms: 200\n    expect:\n      error: { kind: timeout }\n";
    let dir = project(&server, suite);
    let out = provcheck(dir.path(), true, &["--mode", "record"]);
    let (stdout, stderr) = common::text(&out);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(
        stdout.contains("recorded: 0 recordings written"),
        "{stdout}"
    );
    assert!(
        stdout.contains(
            "not recorded standin::slow::standin: request 1 of 1 got no response (timed out after 200 ms)"
        ),
        "{stdout}"
    );
    assert!(!fixture(dir.path(), "slow").exists());
    let record = common::run_record(&dir.path().join("reports/run.json"));
    assert_eq!(record.spent["standin"].requests, 1);
}

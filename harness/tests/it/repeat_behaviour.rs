//! `repeat: N` with `pass_rate`, and `--behaviour fail|warn`, against a local server that says
//! the magic word on 3 of every 5 requests: behaviour passes at a rate of 0.6 and fails at
//! 0.8, a contract breach on one repetition fails whatever the rate, each repetition is a
//! request counted against the budget, and the recorded repetitions replay to the same
//! verdict. Nothing leaves 127.0.0.1.

use crate::common;

use std::path::Path;
use std::process::Output;
use std::sync::atomic::{AtomicUsize, Ordering};

use provcheck::outcome::{BehaviourMode, Class, Status};
use serde_json::json;
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

/// Says PINEAPPLE on requests 1-3 of every 5, "banana" on 4 and 5; with `breach_on`, the
/// reply to that request (1-based) has no `id`, which the OpenAI contract requires.
struct Sometimes {
    seen: AtomicUsize,
    breach_on: Option<usize>,
}

impl Respond for Sometimes {
    fn respond(&self, _: &Request) -> ResponseTemplate {
        let n = self.seen.fetch_add(1, Ordering::SeqCst) + 1;
        let word = if (n - 1) % 5 < 3 {
            "PINEAPPLE"
        } else {
            "banana"
        };
        let mut body = json!({
            "id": format!("chatcmpl-{n}"), "object": "chat.completion", "created": 1764028800,
            "model": "sometimes-1",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": word},
                         "logprobs": null, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 9, "completion_tokens": 2, "total_tokens": 11}
        });
        if self.breach_on == Some(n) {
            body.as_object_mut().unwrap().remove("id");
        }
        ResponseTemplate::new(200).set_body_json(body)
    }
}

struct Server {
    rt: tokio::runtime::Runtime,
    server: MockServer,
}

impl Server {
    fn start(breach_on: Option<usize>) -> Server {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let server = rt.block_on(async {
            let s = MockServer::start().await;
            // The live preflight lists models first; only chat requests count.
            Mock::given(method("GET"))
                .respond_with(
                    ResponseTemplate::new(200).set_body_json(json!({"object": "list", "data": []})),
                )
                .mount(&s)
                .await;
            Mock::given(method("POST"))
                .respond_with(Sometimes {
                    seen: AtomicUsize::new(0),
                    breach_on,
                })
                .mount(&s)
                .await;
            s
        });
        Server { rt, server }
    }

    /// Chat requests received.
    fn requests(&self) -> usize {
        self.rt
            .block_on(self.server.received_requests())
            .map_or(0, |r| {
                r.iter().filter(|r| r.method.as_str() == "POST").count()
            })
    }
}

fn suite(pass_rate: f64) -> String {
    format!(
        r#"suite: magic
category: messages
scenarios:
  - id: magic_word
    title: The model says the magic word often enough
    repeat: 5
    pass_rate: {pass_rate}
    request:
      system: Always answer with the single word PINEAPPLE.
      messages:
        - user: What is the word?
      max_tokens: 10
    expect:
      status: 200
      text: {{ contains: PINEAPPLE }}
      usage: {{ present: true }}
"#
    )
}

fn project(server: &Server, pass_rate: f64) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("suites")).unwrap();
    std::fs::write(dir.path().join("suites/magic.yaml"), suite(pass_rate)).unwrap();
    std::fs::write(
        dir.path().join("targets.yaml"),
        format!(
            "targets:\n  local:\n    dialect: openai\n    base_url: {}/v1\n    models: {{ small: sometimes }}\n",
            server.server.uri()
        ),
    )
    .unwrap();
    dir
}

fn run(dir: &Path, args: &[&str]) -> Output {
    let mut c = common::command(dir);
    c.args(["--target", "local"]).args(args);
    c.output().expect("run provcheck")
}

fn outcome(dir: &Path) -> provcheck::outcome::Outcome {
    let r = common::run_record(&dir.join("reports/run.json"));
    assert_eq!(r.outcomes.len(), 1);
    r.outcomes.into_iter().next().unwrap()
}

#[test]
fn three_of_five_passes_at_0_6() {
    let server = Server::start(None);
    let dir = project(&server, 0.6);
    let out = run(dir.path(), &["--mode", "live"]);
    let (stdout, stderr) = common::text(&out);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert_eq!(server.requests(), 5, "each repetition is a request");
    let o = outcome(dir.path());
    assert_eq!(o.status, Status::Pass);
    let r = o.repetitions.expect("repetitions recorded");
    assert_eq!((r.n, r.behaviour_passed), (5, 3));
    assert!(o.findings.is_empty(), "{:?}", o.findings);
    assert_eq!(o.spent.unwrap().requests, 5);
}

#[test]
fn three_of_five_fails_at_0_8_as_behaviour_or_warns() {
    let server = Server::start(None);
    let dir = project(&server, 0.8);
    let out = run(dir.path(), &["--mode", "live"]);
    let (stdout, stderr) = common::text(&out);
    assert_eq!(out.status.code(), Some(101), "{stdout}\n{stderr}");
    assert!(
        stdout.contains("behaviour expectations held in 3 of 5 repetitions; pass_rate 0.8 needs 4"),
        "{stdout}"
    );
    assert!(stdout.contains("[provider·behaviour]"), "{stdout}");
    let o = outcome(dir.path());
    assert_eq!(o.status, Status::Fail);
    assert!(o.findings.iter().all(|f| f.class == Some(Class::Behaviour)));
    let (_, cases) = common::junit_cases(&dir.path().join("reports/junit.xml"));
    assert!(cases[0].message.starts_with("behaviour: "), "{cases:?}");

    // The same misses under `--behaviour warn`: the trial passes, and every report says why.
    let out = run(dir.path(), &["--mode", "live", "--behaviour", "warn"]);
    let (stdout, stderr) = common::text(&out);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(
        stdout.contains("1 passed (1 with behaviour warnings)"),
        "{stdout}"
    );
    assert!(
        stdout.contains("WARN  magic::magic_word::local"),
        "{stdout}"
    );
    let r = common::run_record(&dir.path().join("reports/run.json"));
    assert_eq!(r.behaviour, BehaviourMode::Warn);
    assert!(r.outcomes[0].behaviour_warning());
    let junit = std::fs::read_to_string(dir.path().join("reports/junit.xml")).unwrap();
    assert!(
        junit.contains(r#"<property name="behaviour_warnings" value="2"/>"#),
        "{junit}"
    );
    let audit = std::fs::read_to_string(dir.path().join("reports/COVERAGE_AUDIT.md")).unwrap();
    assert!(audit.contains("⚠️ pass"), "{audit}");
    assert!(
        audit.contains("| **provider conformance** | 1 | – | – | 1/1 | – | 100.0% | 100.0% |"),
        "{audit}"
    );
    assert!(
        audit.contains("| **model behaviour** | 1 | – | – | 0/1 | – | 0.0% | 0.0% |"),
        "{audit}"
    );
}

#[test]
fn a_contract_breach_on_one_repetition_fails_whatever_the_rate() {
    let server = Server::start(Some(2));
    let dir = project(&server, 0.6);
    let out = run(dir.path(), &["--mode", "live", "--behaviour", "warn"]);
    let (stdout, stderr) = common::text(&out);
    assert_eq!(out.status.code(), Some(101), "{stdout}\n{stderr}");
    let o = outcome(dir.path());
    assert_eq!(o.status, Status::Fail);
    let contract: Vec<_> = o.contract_findings().collect();
    assert_eq!(contract.len(), 1, "{:?}", o.findings);
    assert!(
        contract[0]
            .message
            .starts_with("repetition 2/5: openai contract:"),
        "{}",
        contract[0].message
    );
    assert!(stdout.contains("[provider·contract]"), "{stdout}");
}

#[test]
fn repetitions_count_against_the_budget_and_replay_from_the_recording() {
    let server = Server::start(None);
    let dir = project(&server, 0.6);
    let out = run(dir.path(), &["--mode", "live", "--max-requests", "4"]);
    let (stdout, stderr) = common::text(&out);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert_eq!(server.requests(), 0, "{stdout}");
    assert!(
        stdout.contains("--max-requests 4 would be exceeded"),
        "{stdout}"
    );

    // Record mode writes all five exchanges; replay serves them in order, to the same verdict.
    let out = run(dir.path(), &["--mode", "record"]);
    let (stdout, stderr) = common::text(&out);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert_eq!(server.requests(), 5);
    let out = run(dir.path(), &["--strict"]);
    let (stdout, stderr) = common::text(&out);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    let r = outcome(dir.path()).repetitions.unwrap();
    assert_eq!((r.n, r.behaviour_passed), (5, 3));
    std::fs::write(dir.path().join("suites/magic.yaml"), suite(0.8)).unwrap();
    let out = run(dir.path(), &[]);
    assert_eq!(out.status.code(), Some(101));
}

#[test]
fn repeat_and_pass_rate_are_checked_where_they_are_written() {
    let server = Server::start(None);
    let dir = project(&server, 0.6);
    let bad = suite(1.5).replace("repeat: 5", "repeat: 0");
    std::fs::write(dir.path().join("suites/magic.yaml"), bad).unwrap();
    let out = common::command(dir.path()).arg("lint").output().unwrap();
    let (stdout, stderr) = common::text(&out);
    assert_eq!(out.status.code(), Some(2), "{stdout}\n{stderr}");
    assert!(stderr.contains("`repeat` must be at least 1"), "{stderr}");
    assert!(stderr.contains("magic.yaml:6:13"), "{stderr}");
    assert!(stderr.contains("`pass_rate` is a fraction"), "{stderr}");
}

//! Gateway mode: provcheck sends scenario requests to a gateway whose upstream is its mock at a
//! fixed address, and judges the gateway by what reached the mock. The gateways here are small
//! proxies on 127.0.0.1 written for the test: they rename the model and add a field of their
//! own (as LiteLLM does), so the mock must match leniently, and they retry with or without
//! backoff, so the same scenario passes one and fails the others.

use crate::common;

use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use common::{provcheck, text};
use http_body_util::{BodyExt, Full};

/// How a test gateway treats upstream failures.
#[derive(Clone, Copy)]
struct Behaviour {
    /// Retries after the first attempt on a 5xx or a failed connection.
    retries: u32,
    /// Wait before each retry.
    backoff: Duration,
}

/// A free port on 127.0.0.1 for the mock (bound and released; the mock binds it again).
fn free_addr() -> SocketAddr {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
}

/// Starts a gateway forwarding to `upstream`, on its own thread and runtime; returns its
/// address.
fn gateway(upstream: SocketAddr, b: Behaviour) -> SocketAddr {
    common::serve(move |client, req| forward(client, upstream, b, req))
}

async fn forward(
    client: Arc<reqwest::Client>,
    upstream: SocketAddr,
    b: Behaviour,
    req: hyper::Request<hyper::body::Incoming>,
) -> Result<hyper::Response<Full<Bytes>>, std::convert::Infallible> {
    let method = req.method().clone();
    let path = req.uri().path().to_string();
    let headers = req.headers().clone();
    let body = req.into_body().collect().await.unwrap().to_bytes();
    // Re-encode the body the way a gateway does: its own model name, a field of its own.
    let body = match serde_json::from_slice::<serde_json::Value>(&body) {
        Ok(mut v) => {
            v["model"] = "upstream-model".into();
            v["user"] = "test-gateway".into();
            Bytes::from(v.to_string())
        }
        Err(_) => body,
    };
    let mut attempt = 0;
    loop {
        let mut up = client
            .request(method.clone(), format!("http://{upstream}{path}"))
            .body(body.clone())
            .header("content-type", "application/json");
        for name in ["anthropic-version", "accept"] {
            if let Some(v) = headers.get(name) {
                up = up.header(name, v.as_bytes());
            }
        }
        let failed = match up.send().await {
            Ok(r) if r.status().as_u16() < 500 || attempt >= b.retries => {
                let status = r.status().as_u16();
                let ct = r
                    .headers()
                    .get("content-type")
                    .map(|v| v.as_bytes().to_vec())
                    .unwrap_or_else(|| b"application/json".to_vec());
                let bytes = r.bytes().await.unwrap_or_default();
                let mut resp = hyper::Response::new(Full::new(bytes));
                *resp.status_mut() = hyper::StatusCode::from_u16(status).unwrap();
                resp.headers_mut()
                    .insert("content-type", ct.try_into().unwrap());
                return Ok(resp);
            }
            Ok(_) => true,
            Err(_) => attempt >= b.retries,
        };
        if failed && attempt >= b.retries {
            let mut resp = hyper::Response::new(Full::new(Bytes::from_static(
                br#"{"error":{"message":"upstream unreachable","type":"api_error"}}"#,
            )));
            *resp.status_mut() = hyper::StatusCode::BAD_GATEWAY;
            resp.headers_mut()
                .insert("content-type", "application/json".try_into().unwrap());
            return Ok(resp);
        }
        attempt += 1;
        tokio::time::sleep(b.backoff).await;
    }
}

/// Runs `trial` (an exact trial name) through a gateway with behaviour `b`; returns the exit
/// code, stdout+stderr and the reports directory.
fn run_through(
    trial: &str,
    dialect: &str,
    b: Behaviour,
    extra: &[&str],
) -> (Option<i32>, String, tempfile::TempDir) {
    // The mock's port is chosen free and released before provcheck binds it; another test
    // may take it in between, so a busy port is tried again with a new one.
    for _ in 0..5 {
        let mock = free_addr();
        let gw = gateway(mock, b);
        let base = match dialect {
            "openai" => format!("http://{gw}/v1"),
            _ => format!("http://{gw}"),
        };
        let reports = tempfile::tempdir().unwrap();
        let mock_addr = mock.to_string();
        let mut args = vec![
            "--gateway",
            &base,
            "--gateway-dialect",
            dialect,
            "--mock-addr",
            &mock_addr,
            "--reports",
            reports.path().to_str().unwrap(),
            trial,
        ];
        if !trial.ends_with("::") {
            // A whole trial name; a name ending in `::` selects a suite's trials.
            args.push("--exact");
        }
        args.extend(extra);
        let out = provcheck(&args);
        let (stdout, stderr) = text(&out);
        if stderr.contains("cannot listen there") {
            continue;
        }
        return (out.status.code(), format!("{stdout}\n{stderr}"), reports);
    }
    panic!("no free port for the mock after 5 tries");
}

const BACKING_OFF: Behaviour = Behaviour {
    retries: 2,
    backoff: Duration::from_millis(500),
};

/// A fixed wait long enough that a loaded machine's jitter (it would take +200 ms on the
/// second wait) cannot pass for growth, and inside both waits' bounds of the 529 scenario, so
/// `growing` is what catches it.
const FIXED_BACKOFF: Behaviour = Behaviour {
    retries: 2,
    backoff: Duration::from_millis(1000),
};

#[test]
fn a_gateway_that_retries_with_backoff_passes_and_the_record_names_it() {
    let (code, out, reports) = run_through(
        "resilience::retry_500_then_success::openai",
        "openai",
        BACKING_OFF,
        &[],
    );
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("1 passed"), "{out}");
    let record = common::run_record(&reports.path().join("run.json"));
    let g = record.gateway.expect("run.json names the gateway");
    assert!(g.url.ends_with("/v1"), "{}", g.url);
    let audit = std::fs::read_to_string(reports.path().join("COVERAGE_AUDIT.md")).unwrap();
    assert!(audit.contains("Subject: the gateway at"), "{audit}");
}

#[test]
fn a_gateway_that_does_not_retry_fails_naming_the_attempts() {
    let (code, out, _r) = run_through(
        "resilience::retry_500_then_success::openai",
        "openai",
        Behaviour {
            retries: 0,
            backoff: Duration::ZERO,
        },
        &[],
    );
    assert_eq!(code, Some(101), "{out}");
    assert!(
        out.contains("the mock saw 1 attempt(s), expected 2"),
        "{out}"
    );
}

#[test]
fn a_gateway_that_retries_at_once_fails_naming_the_wait() {
    let (code, out, _r) = run_through(
        "resilience::retry_500_then_success::openai",
        "openai",
        Behaviour {
            retries: 2,
            backoff: Duration::ZERO,
        },
        &[],
    );
    assert_eq!(code, Some(101), "{out}");
    assert!(out.contains("attempt 2 came"), "{out}");
    assert!(
        out.contains("after attempt 1, expected 350..=1500"),
        "{out}"
    );
}

#[test]
fn an_anthropic_gateway_is_spoken_to_in_its_dialect() {
    // 529 twice, then the recording: three attempts with growing waits. A gateway with a
    // fixed backoff is caught by `growing`; the attempts themselves reached the mock.
    let (code, out, _r) = run_through(
        "resilience::retry_529_overloaded::anthropic",
        "anthropic",
        FIXED_BACKOFF,
        &[],
    );
    assert_eq!(code, Some(101), "{out}");
    assert!(!out.contains("attempt(s), expected"), "{out}");
    assert!(out.contains("is not clearly longer"), "{out}");
}

#[test]
fn scenarios_reading_provcheck_own_breaker_are_skipped_with_the_reason() {
    let (code, out, reports) = run_through(
        "resilience::circuit_breaker::openai",
        "openai",
        BACKING_OFF,
        &[],
    );
    assert_eq!(code, Some(0), "{out}");
    let (_, cases) = common::junit_cases(&reports.path().join("junit.xml"));
    assert_eq!(cases.len(), 1);
    assert_eq!(cases[0].status, "skip");
    assert!(
        cases[0].message.contains("provcheck's own circuit breaker"),
        "{:?}",
        cases[0]
    );
}

#[test]
fn ollama_endpoints_are_not_applicable_through_a_gateway_of_another_dialect() {
    let (code, out, reports) = run_through(
        "ollama-lifecycle::local_models_and_details::ollama",
        "openai",
        BACKING_OFF,
        &[],
    );
    assert_eq!(code, Some(0), "{out}");
    let (_, cases) = common::junit_cases(&reports.path().join("junit.xml"));
    assert_eq!(cases[0].status, "skip");
    assert!(
        cases[0]
            .message
            .contains("is an Ollama endpoint and the gateway speaks openai"),
        "{:?}",
        cases[0]
    );
    // Not applicable is not a coverage gap.
    let audit = std::fs::read_to_string(reports.path().join("COVERAGE_AUDIT.md")).unwrap();
    assert!(audit.contains("not for a gateway"), "{audit}");
}

#[test]
fn gateway_arguments_are_checked_before_anything_runs() {
    let busy = TcpListener::bind("127.0.0.1:0").unwrap();
    let busy_addr = busy.local_addr().unwrap().to_string();
    let gw = "http://127.0.0.1:9/v1";
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (vec!["--gateway", gw], "--mock-addr"),
        (vec!["--mock-addr", "127.0.0.1:9"], "--gateway"),
        (
            vec!["--gateway", "ftp://x", "--mock-addr", "127.0.0.1:9"],
            "not an http(s) URL",
        ),
        (
            vec![
                "--gateway",
                "http://user:secret@127.0.0.1:9/v1",
                "--mock-addr",
                "127.0.0.1:9",
            ],
            "must not carry credentials",
        ),
        (
            vec![
                "--gateway",
                gw,
                "--mock-addr",
                "127.0.0.1:9",
                "--mode",
                "live",
            ],
            "runs in replay mode",
        ),
        (
            vec![
                "--gateway",
                gw,
                "--mock-addr",
                "127.0.0.1:9",
                "--gateway-key-env",
                "PROVCHECK_TEST_UNSET_GATEWAY_KEY",
            ],
            "PROVCHECK_TEST_UNSET_GATEWAY_KEY is not set",
        ),
        (
            vec!["--gateway", gw, "--mock-addr", &busy_addr, "--no-reports"],
            "cannot listen there",
        ),
    ];
    for (args, want) in cases {
        let out = provcheck(&args);
        let (stdout, stderr) = text(&out);
        assert_eq!(out.status.code(), Some(2), "{args:?}\n{stdout}\n{stderr}");
        assert!(stderr.contains(want), "{args:?}: {stderr}");
        assert!(!stderr.contains("secret"), "{stderr}");
    }
}

#[test]
fn overrides_gateway_applies_in_gateway_mode_before_target_and_dialect_keys() {
    // A gateway configured never to retry: the scenario's own expectation (three attempts,
    // provcheck's client) fails through it, and `overrides.gateway` states what this gateway
    // should do instead, taking precedence over the `openai` key.
    let dir = tempfile::tempdir().unwrap();
    let suite = dir.path().join("gw.yaml");
    let scenario = |id: &str, gateway_override: &str| {
        format!(
            "  - id: {id}
    title: Five 503s
    mock:
      - status: 503
        times: 5
    request:
      messages: [{{ user: Say hi. }}]
    expect:
      error: {{ status: 503 }}
      attempts: 3
    overrides:
      openai:
        error: {{ status: 503 }}
        attempts: 3
{gateway_override}"
        )
    };
    std::fs::write(
        &suite,
        format!(
            "suite: gw\ncategory: resilience\nscenarios:\n{}{}",
            scenario(
                "with_override",
                "      gateway:\n        error: { status: 503 }\n        attempts: 1\n"
            ),
            scenario("without_override", "")
        ),
    )
    .unwrap();
    let (code, out, reports) = run_through(
        "gw::",
        "openai",
        Behaviour {
            retries: 0,
            backoff: Duration::ZERO,
        },
        &["--suite", suite.to_str().unwrap(), "--target", "openai"],
    );
    assert_eq!(code, Some(101), "{out}");
    let (_, cases) = common::junit_cases(&reports.path().join("junit.xml"));
    let status = |name: &str| {
        cases
            .iter()
            .find(|c| c.trial == name)
            .map(|c| (c.status, c.message.clone()))
            .unwrap()
    };
    assert_eq!(status("gw::with_override::openai").0, "pass", "{cases:?}");
    let (s, msg) = status("gw::without_override::openai");
    assert_eq!(s, "fail");
    assert!(
        msg.contains("overrides.openai.attempts: the mock saw 1 attempt(s), expected 3"),
        "{msg}"
    );
}

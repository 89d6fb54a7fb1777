//! The resilience checks can fail: a target whose client is misconfigured must fail the fault
//! scenarios that catch it, with messages naming the attempt and the wait that was wrong.

use crate::common;

use common::{junit_cases, provcheck, text};

/// Runs the resilience suite for openai with `resilience` as its targets.yaml policy and
/// returns every case.
fn run_with(resilience: &str) -> Vec<common::Case> {
    let dir = tempfile::tempdir().unwrap();
    let targets = dir.path().join("targets.yaml");
    std::fs::write(
        &targets,
        format!("targets:\n  openai:\n    resilience: {resilience}\n"),
    )
    .unwrap();
    let reports = dir.path().join("r");
    let out = provcheck(&[
        "--targets",
        targets.to_str().unwrap(),
        "--suite",
        "suites/resilience.yaml",
        "--target",
        "openai",
        "--reports",
        reports.to_str().unwrap(),
    ]);
    assert_ne!(out.status.code(), Some(2), "{:?}", text(&out));
    junit_cases(&reports.join("junit.xml")).1
}

fn case<'a>(cases: &'a [common::Case], scenario: &str) -> &'a common::Case {
    let name = format!("resilience::{scenario}::openai");
    cases
        .iter()
        .find(|c| c.trial == name)
        .unwrap_or_else(|| panic!("no {name}"))
}

#[test]
fn no_backoff_is_caught() {
    let cases = run_with("{backoff: {initial_ms: 0, max_ms: 0}}");
    let c = case(&cases, "retry_500_then_success");
    assert_eq!(c.status, "fail", "{c:?}");
    assert!(
        c.message.contains("attempt 2 came")
            && c.message.contains("after attempt 1, expected 350..=1500"),
        "{c:?}"
    );
    let c = case(&cases, "give_up_after_max_retries");
    assert_eq!(c.status, "fail", "{c:?}");
    assert!(c.description.contains("no backoff"), "{c:?}");
}

#[test]
fn ignoring_retry_after_is_caught() {
    let cases = run_with("{retry_after: false}");
    for (scenario, expected) in [
        ("retry_after_seconds", "expected 950..=1600"),
        ("retry_after_ms", "expected 1150..=1800"),
        ("retry_after_http_date", "expected 950..=2600"),
    ] {
        let c = case(&cases, scenario);
        assert_eq!(c.status, "fail", "{scenario}: {c:?}");
        assert!(
            c.message.contains("attempt 2 came") && c.message.contains(expected),
            "{scenario}: {c:?}"
        );
    }
    // Scenarios that don't involve Retry-After still pass.
    assert_eq!(case(&cases, "retry_500_then_success").status, "pass");
}

#[test]
fn a_breaker_that_never_opens_is_caught() {
    let cases = run_with("{circuit_breaker: {failure_threshold: 1000}}");
    let c = case(&cases, "circuit_breaker");
    assert_eq!(c.status, "fail", "{c:?}");
    assert!(
        c.description
            .contains("the circuit went through [], expected [open]"),
        "{c:?}"
    );
}

#[test]
fn retrying_what_must_not_be_retried_is_caught() {
    let cases = run_with("{x_should_retry: false}");
    let c = case(&cases, "x_should_retry_false");
    assert_eq!(c.status, "fail", "{c:?}");
    assert!(
        c.description
            .contains("the mock saw 3 attempt(s), expected 1..=1"),
        "{c:?}"
    );
}

//! Snapshots of what people read: the console summary, JUnit, the coverage audit and the
//! load diagnostics (rustc-style, file:line:col with a caret). A `contains` check lets the rest
//! of a report drift; a snapshot shows every change in review.
//!
//! What varies run to run (temp paths, timestamps, durations, hashes, ports, versions) is
//! replaced by a placeholder in [`normalise`], so the snapshots are the same on every run and
//! machine. To accept an intended change: `INSTA_UPDATE=always cargo test snapshots`, then review
//! the diff of `tests/it/snapshots/` (or review the `.snap.new` files a failing run leaves).

use std::path::Path;

use regex::Regex;
use serde_json::json;

use crate::common::{edit_recording, fixtures_copy, provcheck, text};

/// Replaces what varies between runs and machines with placeholders: `dir` (the test's temp
/// dir) by `[dir]`, then times, timestamps, durations, sha-256s, mock ports and the version.
fn normalise(s: &str, dir: &Path) -> String {
    let s = s.replace(&dir.display().to_string(), "[dir]");
    let rules = [
        // JUnit and audit timestamps (RFC 3339, with or without fractions and offset).
        (
            r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?( UTC)?",
            "[timestamp]",
        ),
        (r#"time="[0-9.]+""#, r#"time="[time]""#),
        (r"\b[0-9a-f]{64}\b", "[sha256]"),
        (r"\b\d+(\.\d+)? ?(ms|s)\b", "[duration]"),
        (r"finished in [0-9.]+s", "finished in [duration]"),
    ];
    let mut s = s.to_string();
    for (pattern, with) in rules {
        s = Regex::new(pattern)
            .unwrap()
            .replace_all(&s, with)
            .into_owned();
    }
    // Mock ports vary; the default Ollama port is fixed and stays.
    let ports = Regex::new(r"127\.0\.0\.1:(\d+)").unwrap();
    let s = ports.replace_all(&s, |c: &regex::Captures| match &c[1] {
        "11434" => c[0].to_string(),
        _ => "127.0.0.1:[port]".to_string(),
    });
    s.replace(env!("CARGO_PKG_VERSION"), "[version]")
}

/// A run over two suites with one recording edited so a critical scenario fails: the reports
/// then show a pass, a failure with its finding, and a skip with its reason.
fn run_with_a_failure(dir: &Path) -> String {
    let fixtures = fixtures_copy(dir);
    edit_recording(
        &fixtures.join("openai/limits/max_tokens_enforced.yaml"),
        |v| v["exchanges"][0]["response"]["body"]["choices"][0]["finish_reason"] = json!("stop"),
    );
    let reports = dir.join("reports");
    let out = provcheck(&[
        "--suite",
        "suites/limits.yaml",
        "--suite",
        "suites/structured-output.yaml",
        "--fixtures",
        fixtures.to_str().unwrap(),
        "--reports",
        reports.to_str().unwrap(),
    ]);
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(101), "{stdout}\n{stderr}");
    stdout
}

#[test]
fn console_summary_junit_and_audit() {
    let dir = tempfile::tempdir().unwrap();
    let stdout = run_with_a_failure(dir.path());
    // The libtest lines come in completion order; the summary from `provcheck:` on is fixed.
    let summary = &stdout[stdout.find("\nprovcheck: ").expect("a summary") + 1..];
    insta::assert_snapshot!("console_summary", normalise(summary, dir.path()));
    let reports = dir.path().join("reports");
    let junit = std::fs::read_to_string(reports.join("junit.xml")).unwrap();
    insta::assert_snapshot!("junit", normalise(&junit, dir.path()));
    let audit = std::fs::read_to_string(reports.join("COVERAGE_AUDIT.md")).unwrap();
    insta::assert_snapshot!("audit", normalise(&audit, dir.path()));
}

/// A suite that loads; each broken input below is this with one defect.
const GOOD: &str = "suite: s
category: c
scenarios:
  - id: a
    title: A
    requires: [json_mode]
    request:
      model: small
      messages:
        - user: hi
    expect:
      status: 200
      finish_reason: stop
";

/// Broken inputs, one per kind of load error, as (what, suite or targets, text): each is
/// written to a temp dir and linted; the snapshot holds the diagnostics of all of them.
fn broken_inputs() -> Vec<(&'static str, &'static str, String)> {
    let second = &GOOD[GOOD.find("  - id: a").unwrap()..];
    vec![
        (
            "syntax error",
            "suite",
            GOOD.replace("title: A", "title: \"A"),
        ),
        (
            "bad indent",
            "suite",
            GOOD.replace("    title: A", "    title: A\n   bad indent: 1"),
        ),
        (
            "unknown field",
            "suite",
            GOOD.replace("    title: A", "    title: A\n    prio: high"),
        ),
        (
            "wrong type",
            "suite",
            GOOD.replace("status: 200", "status: two hundred"),
        ),
        (
            "unknown capability",
            "suite",
            GOOD.replace("[json_mode]", "[json_mode, telepathy]"),
        ),
        (
            "expectation on a field that does not exist",
            "suite",
            GOOD.replace("finish_reason: stop", "usage: {cost: 3}"),
        ),
        (
            "two problems at once: a duplicate id and an unknown model alias",
            "suite",
            format!(
                "{GOOD}{}",
                second.replace("model: small", "model: enormous")
            ),
        ),
        (
            "unknown dialect in targets",
            "targets",
            "targets:\n  vllm:\n    dialect: openia\n    base_url: http://127.0.0.1:8000/v1\n"
                .to_string(),
        ),
    ]
}

#[test]
fn load_diagnostics() {
    let mut all = String::new();
    for (what, kind, source) in broken_inputs() {
        let dir = tempfile::tempdir().unwrap();
        let file = if kind == "targets" {
            "targets.yaml"
        } else {
            "broken.yaml"
        };
        let path = dir.path().join(file);
        std::fs::write(&path, source).unwrap();
        let p = path.to_str().unwrap();
        let args = if kind == "targets" {
            vec!["lint", "--targets", p]
        } else {
            vec!["lint", p]
        };
        let out = provcheck(&args);
        let (stdout, stderr) = text(&out);
        assert_eq!(out.status.code(), Some(2), "{what}:\n{stdout}\n{stderr}");
        all.push_str(&format!("=== {what}\n{}\n", normalise(&stderr, dir.path())));
    }
    insta::assert_snapshot!("load_diagnostics", all);
}

/// The trial lines and the closing line: a pass, a failure, a skip the plan decided (not
/// applicable, capability not declared) reading `skipped (reason)`, and a scenario marked
/// `ignore` reading `ignored (reason)`. One thread, so the lines come in name order.
#[test]
fn trial_lines_say_skipped_for_planned_skips_and_ignored_for_ignored_scenarios() {
    let dir = tempfile::tempdir().unwrap();
    let suite = dir.path().join("lines.yaml");
    std::fs::write(
        &suite,
        "suite: lines
category: c
scenarios:
  - id: a_pass
    title: A refusal the script gives is read
    mock: [{ status: 400 }]
    request: { messages: [{ user: hi }] }
    expect: { error: { status: 400 } }
  - id: b_fail
    title: A refusal where a reply was expected fails
    mock: [{ status: 400 }]
    request: { messages: [{ user: hi }] }
    expect: { status: 200 }
  - id: c_not_applicable
    title: Not for OpenAI
    not_applicable: { openai: Chat Completions has no such parameter. }
    request: { messages: [{ user: hi }] }
  - id: d_capability
    title: Needs model pull
    requires: [model_pull]
    request: { messages: [{ user: hi }] }
  - id: e_ignored
    title: Slow
    ignore: takes minutes
    request: { messages: [{ user: hi }] }
",
    )
    .unwrap();
    let out = provcheck(&[
        "--suite",
        suite.to_str().unwrap(),
        "--target",
        "openai",
        "--no-reports",
        "--test-threads",
        "1",
    ]);
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(101), "{stdout}\n{stderr}");
    // Up to the summary's first line, which counts the ignored scenario apart from the skips.
    let head = stdout.find("\nprovcheck: ").expect("a summary") + 1;
    let lines = &stdout[..head + stdout[head..].find('\n').unwrap()];
    insta::assert_snapshot!("trial_lines", normalise(lines, dir.path()));
}

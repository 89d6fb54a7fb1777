//! The README's main command on the shipped suites: every scenario passes for all three
//! targets, the JUnit it writes parses with the right counts, and every trial's verdict is the
//! one pinned in `shipped_verdicts.txt`.
//!
//! A new scenario, target or recording changes the pinned list on purpose. To update it, run
//! `PROVCHECK_BLESS=1 cargo test shipped` and review the diff of `shipped_verdicts.txt`.

use std::path::Path;

use crate::common;

use common::{Case, junit_cases, provcheck, root, run_record, text};

/// The pinned verdicts, one `suite::scenario::target pass|skip(kind)` line per trial, sorted.
const VERDICTS: &str = "harness/tests/it/shipped_verdicts.txt";

#[test]
fn shipped_suites_pass_in_replay_and_junit_counts_are_right() {
    let dir = tempfile::tempdir().unwrap();
    let reports = dir.path().to_str().unwrap();
    let out = provcheck(&["--reports", reports]);
    let (stdout, stderr) = text(&out);
    assert!(
        out.status.success(),
        "exit {:?}\n{stdout}\n{stderr}",
        out.status
    );
    let (report, cases) = junit_cases(&dir.path().join("junit.xml"));
    let count = |s: &str| cases.iter().filter(|c| c.status == s).count();
    assert_eq!(count("fail") + count("error"), 0, "{cases:#?}");
    check_pinned(&verdict_lines(&cases, &dir.path().join("run.json")));
    assert_eq!(report.tests, cases.len());
    assert_eq!(report.failures, 0);
    assert_eq!(report.errors, 0);
    assert_eq!(report.skipped, count("skip"));
    // Every skip says why.
    for c in cases.iter().filter(|c| c.status == "skip") {
        assert!(!c.message.is_empty(), "silent skip: {c:?}");
    }
    // All three targets ran, and the libtest-style line and the summary agree.
    for target in ["openai", "anthropic", "ollama"] {
        assert!(
            cases
                .iter()
                .any(|c| c.trial.ends_with(&format!("::{target}")) && c.status == "pass"),
            "{target}"
        );
    }
    assert!(
        stdout.contains(&format!(
            "provcheck: {} passed, 0 failed, 0 errored, {} skipped",
            count("pass"),
            count("skip")
        )),
        "{stdout}"
    );
    // One testsuite per suite file.
    let suites: Vec<&str> = report.test_suites.iter().map(|s| s.name.as_str()).collect();
    let mut files: Vec<String> = std::fs::read_dir(common::root().join("suites"))
        .unwrap()
        .map(|e| {
            e.unwrap()
                .file_name()
                .to_string_lossy()
                .trim_end_matches(".yaml")
                .to_string()
        })
        .collect();
    files.sort();
    assert_eq!(suites, files);
}

/// One line per trial: its JUnit status, and for a skip the kind the run record gives it.
fn verdict_lines(cases: &[Case], record: &Path) -> Vec<String> {
    let record = run_record(record);
    let mut lines: Vec<String> = cases
        .iter()
        .map(|c| match c.status {
            "skip" => {
                let o = record.outcomes.iter().find(|o| o.trial == c.trial);
                let kind = o
                    .and_then(|o| o.skip_kind())
                    .map_or("none".to_string(), |k| {
                        serde_json::to_value(k)
                            .unwrap()
                            .as_str()
                            .unwrap()
                            .to_string()
                    });
                format!("{} skip({kind})", c.trial)
            }
            status => format!("{} {status}", c.trial),
        })
        .collect();
    lines.sort();
    lines
}

/// Compares `got` with the pinned file, or rewrites the file when PROVCHECK_BLESS is set.
fn check_pinned(got: &[String]) {
    let path = root().join(VERDICTS);
    let mut text = got.join("\n");
    text.push('\n');
    if std::env::var_os("PROVCHECK_BLESS").is_some() {
        std::fs::write(&path, &text).unwrap();
        return;
    }
    let pinned = std::fs::read_to_string(&path).unwrap_or_default();
    let want: Vec<&str> = pinned.lines().filter(|l| !l.is_empty()).collect();
    if want == got {
        return;
    }
    let missing: Vec<&&str> = want
        .iter()
        .filter(|l| !got.iter().any(|g| g == **l))
        .collect();
    let new: Vec<&String> = got.iter().filter(|g| !want.contains(&g.as_str())).collect();
    let mut diff = String::new();
    for l in &missing {
        diff.push_str(&format!("- {l}\n"));
    }
    for l in &new {
        diff.push_str(&format!("+ {l}\n"));
    }
    panic!(
        "the shipped run's verdicts differ from {VERDICTS} (- pinned, + this run):\n{diff}\n\
         If the change is intended, run `PROVCHECK_BLESS=1 cargo test shipped` and commit the file."
    );
}

#[test]
fn junit_carries_the_properties_reports_need() {
    let dir = tempfile::tempdir().unwrap();
    let out = provcheck(&[
        "--reports",
        dir.path().to_str().unwrap(),
        "--exact",
        "limits::max_tokens_enforced::anthropic",
    ]);
    assert!(out.status.success(), "{:?}", text(&out));
    let (report, _) = junit_cases(&dir.path().join("junit.xml"));
    let tc = &report.test_suites[0].test_cases[0];
    let props: Vec<(String, String)> = tc
        .properties
        .iter()
        .map(|p| (p.name.as_str().to_string(), p.value.as_str().to_string()))
        .collect();
    let get = |k: &str| {
        props
            .iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    assert_eq!(get("target"), "anthropic");
    assert_eq!(get("mode"), "replay");
    assert_eq!(get("model"), "claude-haiku-4-5");
    assert!(get("provenance").starts_with("authored "), "{props:?}");
    assert_eq!(get("location"), "suites/limits.yaml:6:5");
}

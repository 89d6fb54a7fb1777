//! The README's main command on the shipped suites: every scenario passes for all three
//! targets, and the JUnit it writes parses with the right counts.

use crate::common;

use common::{junit_cases, provcheck, text};

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
    assert!(
        count("pass") >= 30,
        "expected at least 30 passing trials, got {}",
        count("pass")
    );
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
    assert_eq!(get("location"), "suites/limits.yaml:5:5");
}

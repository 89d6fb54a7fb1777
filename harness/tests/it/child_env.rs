//! Child processes run with a cleared environment plus an allowlist: a developer's
//! `OLLAMA_HOST`, API keys or `CI` must not change what a test concludes.
//!
//! The proof runs this test binary again as a child with a polluted environment, and in it a
//! probe that runs `provcheck` through the shared helper and checks the run saw none of it.
//! `OLLAMA_HOST` is the witness: it moves the `ollama` target's base URL, which the run record
//! keeps, so if the helper stopped clearing the environment the probe would see the bogus host.

use std::process::Command;

use crate::common::{provcheck, run_record, text};

/// The probe's full name, as libtest filters it.
const PROBE: &str = "child_env::probe_sees_a_clean_environment";

/// What a developer's shell might hold. The host is one `ollama_base_url` keeps verbatim.
const POLLUTION: &[(&str, &str)] = &[
    ("OLLAMA_HOST", "http://polluted.invalid:9"),
    ("OPENAI_API_KEY", "sk-polluted"),
    ("ANTHROPIC_API_KEY", "sk-ant-polluted"),
    ("RUST_TEST_THREADS", "7"),
    ("CI", "true"),
    ("GITHUB_STEP_SUMMARY", "/nonexistent/summary.md"),
];

#[test]
fn a_polluted_environment_does_not_reach_provcheck() {
    let out = Command::new(std::env::current_exe().unwrap())
        .args([PROBE, "--exact", "--ignored", "--nocapture"])
        .envs(POLLUTION.iter().copied())
        .output()
        .expect("run the test binary again");
    let (stdout, stderr) = text(&out);
    assert!(
        out.status.success(),
        "the probe failed:\n{stdout}\n{stderr}"
    );
    // The filter must have matched the probe, or this proves nothing.
    assert!(stdout.contains("1 passed"), "{stdout}\n{stderr}");
}

#[test]
#[ignore = "run by a_polluted_environment_does_not_reach_provcheck, in a polluted environment"]
fn probe_sees_a_clean_environment() {
    let dir = tempfile::tempdir().unwrap();
    let reports = dir.path().join("reports");
    let out = provcheck(&[
        "--target",
        "ollama",
        "--exact",
        "limits::max_tokens_enforced::ollama",
        "--reports",
        reports.to_str().unwrap(),
    ]);
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(stdout.contains("1 passed"), "{stdout}");
    let record = run_record(&reports.join("run.json"));
    let ollama = record.targets.iter().find(|t| t.name == "ollama").unwrap();
    assert_eq!(
        ollama.base_url, "http://127.0.0.1:11434",
        "OLLAMA_HOST reached the child"
    );
}

//! The run record and the audit a normal run writes beside junit.xml: what run.json holds,
//! that no key reaches it, and that `provcheck audit` regenerates the same document from it.

use crate::common;

use common::{provcheck, provcheck_env, run_record, text};

#[test]
fn a_run_writes_its_record_and_audit_beside_junit() {
    let dir = tempfile::tempdir().unwrap();
    let reports = dir.path().join("reports");
    let out = provcheck(&["--reports", reports.to_str().unwrap()]);
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    for f in ["run.json", "junit.xml", "COVERAGE_AUDIT.md"] {
        assert!(
            stdout.contains(&format!("wrote {}", reports.join(f).display())),
            "{stdout}"
        );
    }
    let r = run_record(&reports.join("run.json"));
    assert_eq!(r.format, "provcheck-run");
    assert_eq!(r.format_version, 2);
    assert_eq!(r.provcheck_version, env!("CARGO_PKG_VERSION"));
    assert!(
        r.started_at <= r.finished_at,
        "{} {}",
        r.started_at,
        r.finished_at
    );
    assert_eq!(r.totals.trials, r.outcomes.len());
    assert_eq!(
        r.totals.pass + r.totals.fail + r.totals.error + r.totals.skip,
        r.totals.trials
    );
    let names: Vec<&str> = r.targets.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names, ["openai", "anthropic", "ollama", "openai-responses"]);
    assert_eq!(r.targets[0].models["small"], "gpt-4o-mini");
    assert_eq!(r.targets[0].key_env.as_deref(), Some("OPENAI_API_KEY"));
    let limits = r.suites.iter().find(|s| s.name == "limits").unwrap();
    assert_eq!(limits.file, "suites/limits.yaml");
    assert!(
        limits
            .scenarios
            .iter()
            .any(|s| s.id == "max_tokens_enforced")
    );
    // Each trial carries what it observed and the recording it replayed, by hash.
    let o = r
        .outcomes
        .iter()
        .find(|o| o.trial == "limits::max_tokens_enforced::openai")
        .unwrap();
    assert_eq!(o.models, ["gpt-4o-mini"]);
    let provenance = provcheck::report::text::provenance(o.provenance.as_ref().unwrap());
    assert!(provenance.starts_with("authored"));
    assert_eq!(o.recording_sha256.as_deref().map(str::len), Some(64));
    let ex = &o.exchanges[0];
    assert_eq!(ex.status, Some(200));
    assert_eq!(ex.raw_finish_reason.as_deref(), Some("length"));
    assert_eq!(ex.shape["choices"][0]["finish_reason"], "string");
    assert!(ex.headers.contains(&"x-request-id".to_string()), "{ex:?}");

    // The audit is a function of the record: regenerating it gives the same bytes.
    let written = std::fs::read_to_string(reports.join("COVERAGE_AUDIT.md")).unwrap();
    let again = dir.path().join("again.md");
    let out = provcheck(&[
        "audit",
        reports.join("run.json").to_str().unwrap(),
        "--output",
        again.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{:?}", text(&out));
    assert_eq!(std::fs::read_to_string(&again).unwrap(), written);
    let out = provcheck(&[
        "audit",
        reports.join("run.json").to_str().unwrap(),
        "--output",
        "-",
    ]);
    assert_eq!(text(&out).0, written);
    assert!(written.starts_with("# Coverage audit\n"), "{written}");
    assert!(written.contains("mode **replay"), "{written}");
}

#[test]
fn no_key_reaches_the_record_or_the_audit() {
    let dir = tempfile::tempdir().unwrap();
    // A port nothing listens on: the live request fails at once, on 127.0.0.1 only.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let targets = dir.path().join("targets.yaml");
    std::fs::write(
        &targets,
        format!(
            "targets:\n  gateway:\n    dialect: openai\n    base_url: http://user:url-secret-9@127.0.0.1:{port}/v1\n    key_env: GATEWAY_KEY\n    models: {{small: m}}\n"
        ),
    )
    .unwrap();
    let suite = dir.path().join("s.yaml");
    std::fs::write(
        &suite,
        "suite: s\ncategory: c\nscenarios:\n  - id: hello\n    title: Hello\n    request: {messages: [{user: hi}]}\n    expect: {status: 200}\n",
    )
    .unwrap();
    let reports = dir.path().join("reports");
    let out = provcheck_env(
        &[
            "--mode",
            "live",
            "--targets",
            targets.to_str().unwrap(),
            "--suite",
            suite.to_str().unwrap(),
            "--target",
            "gateway",
            "--request-timeout-ms",
            "3000",
            "--reports",
            reports.to_str().unwrap(),
        ],
        &[("GATEWAY_KEY", "sk-test-secret-123")],
    );
    let (stdout, stderr) = text(&out);
    // The target is unusable but not `--require`d: its trials are errors in the reports, and
    // the run does not fail on it.
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    for f in ["run.json", "junit.xml", "COVERAGE_AUDIT.md"] {
        let body = std::fs::read_to_string(reports.join(f)).unwrap();
        assert!(!body.contains("sk-test-secret-123"), "{f} holds the key");
        assert!(!body.contains("url-secret-9"), "{f} holds the URL's secret");
    }
    assert!(!stdout.contains("sk-test-secret-123") && !stderr.contains("sk-test-secret-123"));
    let r = run_record(&reports.join("run.json"));
    assert_eq!(r.targets[0].base_url, format!("http://127.0.0.1:{port}/v1"));
    assert_eq!(r.targets[0].key_env.as_deref(), Some("GATEWAY_KEY"));
    // Nothing listens there: the preflight says so, and the trial sent nothing.
    let e = r.outcomes[0].error.as_ref().expect("a preflight error");
    assert_eq!(e.kind, provcheck::outcome::ErrorKind::Preflight);
    assert!(e.message.contains("connection refused"), "{e:?}");
    assert!(r.outcomes[0].exchanges.is_empty());
}

#[test]
fn audit_and_diff_reject_what_is_not_a_run_record() {
    let dir = tempfile::tempdir().unwrap();
    let junit = dir.path().join("junit.xml");
    std::fs::write(&junit, "<testsuites/>").unwrap();
    let missing = dir.path().join("missing.json");
    let other = dir.path().join("other.json");
    std::fs::write(&other, "{\"tests\": 3}").unwrap();
    for (args, path, why) in [
        (
            vec!["audit", junit.to_str().unwrap()],
            &junit,
            "invalid JSON",
        ),
        (
            vec!["audit", other.to_str().unwrap()],
            &other,
            "expected \"format\": \"provcheck-run\"",
        ),
        (
            vec!["diff", other.to_str().unwrap(), missing.to_str().unwrap()],
            &other,
            "not a provcheck run record",
        ),
        (
            vec![
                "merge",
                "--output",
                dir.path().to_str().unwrap(),
                missing.to_str().unwrap(),
            ],
            &missing,
            "cannot read",
        ),
        (
            vec!["--rerun-failed", junit.to_str().unwrap()],
            &junit,
            "not a provcheck run record",
        ),
    ] {
        let out = provcheck(&args);
        let (_, stderr) = text(&out);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(
            stderr.contains(&path.display().to_string()) && stderr.contains(why),
            "{args:?}: {stderr}"
        );
    }
}

//! Malformed suites and targets: a rustc-style message with file:line:col and the offending
//! key, a non-zero exit, no panic, and no trial run (no report written).

use crate::common;

use common::{provcheck, text};

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

/// Writes `suite` to a temp file, runs `provcheck` (and `provcheck lint`) on it, and checks
/// the exit code, the location and the message.
fn rejects(suite: &str, line: u32, col: u32, message: &str) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("broken.yaml");
    std::fs::write(&path, suite).unwrap();
    let reports = dir.path().join("reports");
    let p = path.to_str().unwrap();
    for args in [
        vec!["--suite", p, "--reports", reports.to_str().unwrap()],
        vec!["lint", p],
    ] {
        let out = provcheck(&args);
        let (stdout, stderr) = text(&out);
        assert_eq!(out.status.code(), Some(2), "{args:?}\n{stdout}\n{stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
        let at = format!("--> {p}:{line}:{col}");
        assert!(stderr.contains(&at), "expected {at:?} in:\n{stderr}");
        assert!(
            stderr.contains(message),
            "expected {message:?} in:\n{stderr}"
        );
        assert!(
            stderr.contains('^'),
            "no caret under the offending key:\n{stderr}"
        );
        assert!(
            !stdout.contains("test result"),
            "trials ran despite a bad suite:\n{stdout}"
        );
    }
    assert!(
        !reports.exists(),
        "a report was written for a run that never started"
    );
}

#[test]
fn syntax_error() {
    // An unclosed quote is reported at the quote (saphyr-parser), not at the end of the file.
    rejects(
        &GOOD.replace("title: A", "title: \"A"),
        5,
        12,
        "invalid indentation in quoted scalar",
    );
    rejects(
        &GOOD.replace("    title: A", "    title: A\n   bad indent: 1"),
        6,
        4,
        "did not find expected '-' indicator",
    );
}

#[test]
fn unknown_field() {
    rejects(
        &GOOD.replace("    title: A", "    title: A\n    prio: high"),
        6,
        5,
        "unknown field `prio`",
    );
}

#[test]
fn wrong_type() {
    rejects(
        &GOOD.replace("status: 200", "status: two hundred"),
        12,
        15,
        "invalid type: string \"two hundred\", expected u16",
    );
}

#[test]
fn duplicate_scenario_id() {
    let twice = format!("{GOOD}{}", &GOOD[GOOD.find("  - id: a").unwrap()..]);
    rejects(&twice, 14, 9, "duplicate scenario id `a`");
}

#[test]
fn unknown_capability() {
    rejects(
        &GOOD.replace("[json_mode]", "[json_mode, telepathy]"),
        6,
        27,
        "unknown variant `telepathy`",
    );
}

#[test]
fn unknown_model_alias() {
    rejects(
        &GOOD.replace("model: small", "model: enormous"),
        8,
        14,
        "unknown model alias `enormous`",
    );
}

#[test]
fn expectation_on_a_field_that_does_not_exist() {
    rejects(
        &GOOD.replace(
            "finish_reason: stop",
            "finish_reason: stop\n      vibes: good",
        ),
        14,
        7,
        "unknown field `vibes`",
    );
    rejects(
        &GOOD.replace("finish_reason: stop", "usage: {cost: 3}"),
        13,
        15,
        "unknown field `cost`",
    );
}

#[test]
fn empty_and_garbage_files() {
    for bad in [
        "",
        "\u{0}\u{1}binary",
        "- just\n- a list\n",
        "suite: s\ncategory: c\nscenarios: 7\n",
    ] {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bad.yaml");
        std::fs::write(&path, bad).unwrap();
        let out = provcheck(&["lint", path.to_str().unwrap()]);
        let (_, stderr) = text(&out);
        assert_eq!(out.status.code(), Some(2), "{bad:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
        assert!(stderr.contains(&path.display().to_string()), "{stderr}");
    }
}

#[test]
fn all_problems_are_reported_at_once() {
    let src = format!(
        "{GOOD}  - id: a\n    title: B\n    request:\n      model: huge\n      messages: [{{user: x}}]\n"
    );
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("two.yaml");
    std::fs::write(&path, src).unwrap();
    let (_, stderr) = text(&provcheck(&["lint", path.to_str().unwrap()]));
    assert!(stderr.contains("duplicate scenario id `a`"), "{stderr}");
    assert!(stderr.contains("unknown model alias `huge`"), "{stderr}");
    assert!(stderr.contains("2 problems found"), "{stderr}");
}

#[test]
fn broken_targets_file_is_located() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("targets.yaml");
    std::fs::write(
        &path,
        "targets:\n  vllm:\n    dialect: openia\n    base_url: http://127.0.0.1:8000/v1\n",
    )
    .unwrap();
    let out = provcheck(&["lint", "--targets", path.to_str().unwrap()]);
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr.contains("unknown variant `openia`"), "{stderr}");
    assert!(
        stderr.contains(&format!("{}:3:14", path.display())),
        "{stderr}"
    );
}

#[test]
fn lint_refuses_a_broken_reply_no_fault_script_explains() {
    let src = format!(
        "{GOOD}  - id: cut\n    title: C\n    request:\n      stream: true\n      messages: [{{user: x}}]\n    expect:\n      stream: {{ violation: connection closed before the terminal marker }}\n  - id: scripted\n    title: S\n    mock: [{{recorded: true, cut_after: 2}}]\n    request:\n      stream: true\n      messages: [{{user: x}}]\n    expect:\n      stream: {{ violation: connection closed before the terminal marker }}\n"
    );
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("live.yaml");
    std::fs::write(&path, src).unwrap();
    let out = provcheck(&["lint", path.to_str().unwrap()]);
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(2), "{stdout}\n{stderr}");
    assert!(
        stderr.contains(&format!("--> {}:20:7", path.display())),
        "{stderr}"
    );
    assert!(
        stderr.contains(
            "scenario `cut` expects a stream violation, but no fault script puts it there"
        ),
        "{stderr}"
    );
    assert!(!stderr.contains("`scripted`"), "{stderr}");
    assert!(stderr.contains("1 problem found"), "{stderr}");
}

#[test]
fn the_shipped_suites_are_lint_clean() {
    let out = provcheck(&["lint"]);
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    assert!(stdout.starts_with("ok: "), "{stdout}");
}

//! The runner behaves as libtest users expect: filters, --exact, --list, --skip, tags,
//! a filter that matches nothing is an error, and skips are visible.

use crate::common;

use common::{junit_cases, provcheck, text};

fn listed(args: &[&str]) -> Vec<String> {
    let mut all = vec!["--list"];
    all.extend_from_slice(args);
    let out = provcheck(&all);
    assert!(out.status.success(), "{:?}", text(&out));
    text(&out)
        .0
        .lines()
        .filter_map(|l| l.strip_suffix(": test"))
        .map(str::to_string)
        .collect()
}

#[test]
fn list_names_trials_suite_scenario_target_sorted() {
    let names = listed(&[]);
    assert!(
        names.contains(&"messages::system_message::anthropic".to_string()),
        "{names:?}"
    );
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(names, sorted);
    assert!(
        names.iter().all(|n| n.split("::").count() == 3),
        "{names:?}"
    );
}

#[test]
fn filter_exact_skip_and_target() {
    assert_eq!(
        listed(&["--exact", "limits::max_tokens_enforced::openai"]),
        vec!["limits::max_tokens_enforced::openai"]
    );
    let openai = listed(&["::system_message::", "--target", "openai"]);
    assert_eq!(openai, vec!["messages::system_message::openai"]);
    let skipped = listed(&["::system_message::", "--skip", "ollama"]);
    assert!(
        skipped.iter().all(|n| !n.ends_with("::ollama")) && skipped.len() == 3,
        "{skipped:?}"
    );
}

#[test]
fn tags_select_scenarios() {
    let smoke = listed(&["--tag", "smoke"]);
    assert!(!smoke.is_empty());
    for n in &smoke {
        assert!(
            [
                "system_message",
                "multi_turn_assistant",
                "max_tokens_enforced",
                "basic_stream"
            ]
            .iter()
            .any(|s| n.contains(s)),
            "{n} is not tagged smoke"
        );
    }
    let both = listed(&["--tag", "smoke", "--tag", "timeouts"]);
    assert!(smoke.iter().all(|n| both.contains(n)), "tags are a union");
    for t in ["anthropic", "ollama", "openai"] {
        assert!(
            both.contains(&format!("limits::request_timeout::{t}")),
            "{both:?}"
        );
    }
    assert!(
        !both.iter().any(|n| n.contains("::json_mode_object::")),
        "{both:?}"
    );
}

#[test]
fn a_filter_that_matches_nothing_is_an_error() {
    let out = provcheck(&["no_such_scenario_anywhere", "--no-reports"]);
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr.contains("no trial matches the filter \"no_such_scenario_anywhere\""),
        "{stderr}"
    );
    let out = provcheck(&["--tag", "no-such-tag", "--no-reports"]);
    assert_eq!(out.status.code(), Some(2));
    let out = provcheck(&["--target", "gemini", "--no-reports"]);
    assert!(text(&out).1.contains("unknown target `gemini`"));
}

#[test]
fn skips_are_reported_with_reasons() {
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("no-fixtures");
    std::fs::create_dir(&empty).unwrap();
    let reports = dir.path().join("r");
    let out = provcheck(&[
        "::system_message::",
        "--fixtures",
        empty.to_str().unwrap(),
        "--reports",
        reports.to_str().unwrap(),
    ]);
    let (stdout, _) = text(&out);
    assert!(
        out.status.success(),
        "skips alone do not fail a run: {stdout}"
    );
    // A planned skip reads `skipped`, never libtest's `ignored`.
    assert!(stdout.contains("... skipped (no recording at"), "{stdout}");
    assert!(!stdout.contains("ignored (no recording"), "{stdout}");
    let (report, cases) = junit_cases(&reports.join("junit.xml"));
    assert_eq!(report.skipped, 4);
    assert!(
        cases
            .iter()
            .all(|c| c.status == "skip" && c.message.starts_with("skipped (no recording at")),
        "{cases:?}"
    );
    // The capability skip names the capability.
    let out = provcheck(&[
        "--exact",
        "structured-output::json_mode_object::anthropic",
        "--no-reports",
    ]);
    assert!(
        text(&out)
            .0
            .contains("capability `json_mode` not declared by target anthropic")
    );
}

#[test]
fn live_mode_without_keys_skips_and_says_why() {
    // Only the keyed targets are selected: nothing here may reach the network.
    let out = provcheck(&[
        "--mode",
        "live",
        "--target",
        "openai",
        "--target",
        "anthropic",
        "--no-reports",
        "::system_message::",
    ]);
    let (stdout, _) = text(&out);
    assert!(out.status.success(), "{stdout}");
    assert!(
        stdout.contains("no key: OPENAI_API_KEY is not set"),
        "{stdout}"
    );
    assert!(
        stdout.contains("no key: ANTHROPIC_API_KEY is not set"),
        "{stdout}"
    );
}

#[test]
fn ignored_scenarios_skip_with_reason_and_run_under_ignored() {
    let dir = tempfile::tempdir().unwrap();
    let suite = dir.path().join("s.yaml");
    std::fs::write(
        &suite,
        "suite: s\ncategory: c\nscenarios:\n  - id: slow\n    title: Slow\n    ignore: takes minutes\n    request: {messages: [{user: hi}]}\n  - id: fast\n    title: Fast\n    request: {messages: [{user: hi}]}\n",
    )
    .unwrap();
    let reports = dir.path().join("r");
    let base = [
        "--suite",
        suite.to_str().unwrap(),
        "--target",
        "openai",
        "--reports",
        reports.to_str().unwrap(),
    ];
    let out = provcheck(&base);
    assert!(out.status.success(), "{:?}", text(&out));
    let (_, cases) = junit_cases(&reports.join("junit.xml"));
    let slow = cases.iter().find(|c| c.trial == "s::slow::openai").unwrap();
    assert_eq!(
        (slow.status, slow.message.as_str()),
        ("skip", "ignored (takes minutes)")
    );
    let (stdout, _) = text(&out);
    assert!(
        stdout
            .lines()
            .any(|l| l.starts_with("test s::slow::openai")
                && l.ends_with("... ignored (takes minutes)")),
        "{stdout}"
    );

    let mut only_ignored = base.to_vec();
    only_ignored.push("--ignored");
    let out = provcheck(&only_ignored);
    let (stdout, _) = text(&out);
    assert!(stdout.contains("test s::slow::openai"), "{stdout}");
    assert!(
        !stdout.contains("s::fast::openai"),
        "--ignored runs only ignored trials: {stdout}"
    );
}

/// A subcommand written after options is still the subcommand, not a trial filter (issue 17).
#[test]
fn subcommand_after_options_is_taken_as_the_subcommand() {
    let out = provcheck(&["--targets", "targets.yaml", "lint"]);
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(stdout.starts_with("ok: "), "{stdout}");
    assert!(!stderr.contains("no trial matches"), "{stderr}");
    // With paths after it, as `lint` takes them.
    let out = provcheck(&["--fixtures", "fixtures", "lint", "suites/messages.yaml"]);
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(stdout.starts_with("ok: 1 suites"), "{stdout}");
}

/// An option's value that names a subcommand is a value, and the run still runs.
#[test]
fn option_value_named_like_a_subcommand_is_a_value() {
    let out = provcheck(&["--list", "--target", "openai", "::system_message::"]);
    assert!(out.status.success(), "{:?}", text(&out));
    let out = provcheck(&["--list", "--tag", "lint"]);
    let (stdout, stderr) = text(&out);
    assert!(!stdout.starts_with("ok: "), "{stdout}");
    assert!(stderr.contains("give no trial"), "{stderr}");
}

/// A second filter word is not taken for a subcommand without a word on what a run accepts.
#[test]
fn a_second_filter_word_says_a_run_takes_one() {
    let out = provcheck(&["--list", "unknown_model", "image_part"]);
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("a run takes one name filter"), "{stderr}");
}

/// Options the subcommand does not take: clap's error, then how the line was read.
#[test]
fn misplaced_subcommand_with_run_options_says_how_it_was_read() {
    let out = provcheck(&["--mode", "replay", "lint"]);
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("unexpected argument '--mode'"), "{stderr}");
    assert!(
        stderr.contains("read as `provcheck lint --mode replay`"),
        "{stderr}"
    );
}

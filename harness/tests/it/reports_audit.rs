//! The audit's content, not just its existence: required targets skipped show as top gaps with
//! their reason, weighted coverage moves by exactly the weight of a failing critical scenario,
//! and `--previous` lists the status change.

use crate::common;

use common::{edit_recording, fixtures_copy, provcheck, run_record, text};
use serde_json::json;

fn section<'a>(md: &'a str, heading: &str) -> &'a str {
    let start = md
        .find(heading)
        .unwrap_or_else(|| panic!("no {heading:?} in:\n{md}"));
    let rest = &md[start + heading.len()..];
    &rest[..rest.find("\n## ").unwrap_or(rest.len())]
}

#[test]
fn a_skipped_required_target_is_the_top_gap_with_its_reason() {
    let dir = tempfile::tempdir().unwrap();
    let reports = dir.path().join("r");
    // Live, no key: both targets skip without touching the network.
    let out = provcheck(&[
        "--mode",
        "live",
        "--target",
        "openai",
        "--target",
        "anthropic",
        "--require",
        "anthropic",
        "::system_message::",
        "--reports",
        reports.to_str().unwrap(),
    ]);
    let (stdout, stderr) = text(&out);
    assert_eq!(
        out.status.code(),
        Some(101),
        "a required target skipped fails the run\n{stdout}\n{stderr}"
    );
    assert!(
        stderr.contains("required target anthropic was not exercised: 1 trial(s) skipped (no key: ANTHROPIC_API_KEY is not set)"),
        "{stderr}"
    );
    let md = std::fs::read_to_string(reports.join("COVERAGE_AUDIT.md")).unwrap();
    assert!(
        md.contains("| **anthropic** | anthropic | `https://api.anthropic.com` |"),
        "{md}"
    );
    assert!(md.contains("| yes |"), "the required column: {md}");
    let gaps = section(&md, "## Gaps, ranked");
    let first = gaps.lines().find(|l| l.starts_with("| 1 |")).unwrap();
    assert!(first.contains("`messages::system_message`"), "{first}");
    assert!(
        first.contains(
            "| anthropic | required target skipped | no key: ANTHROPIC_API_KEY is not set |"
        ),
        "{first}"
    );
    assert!(
        first.contains("| 32 | critical |"),
        "critical 8 × impact 4: {first}"
    );
    let second = gaps.lines().find(|l| l.starts_with("| 2 |")).unwrap();
    assert!(
        second.contains("| openai | skipped: no key | no key: OPENAI_API_KEY is not set |"),
        "{second}"
    );
    // The matrix says skip and why.
    let matrix = section(&md, "## Matrix");
    assert!(matrix.contains("| ⏭️ skip [1] | ⏭️ skip [2] |"), "{matrix}");
    assert!(
        matrix.contains("1. no key: OPENAI_API_KEY is not set"),
        "{matrix}"
    );
    assert!(
        md.contains("**Weighted coverage**: **0.0%** (0 of 16"),
        "{md}"
    );
    assert!(
        md.contains("Selection: name filter `::system_message::`."),
        "{md}"
    );
    // Scenarios filtered out are shown as not in this run, not as passing or missing.
    assert!(md.contains("- **Not in this run**:"), "{md}");

    // Not required: the same skips do not fail the run.
    let out = provcheck(&[
        "--mode",
        "live",
        "--target",
        "anthropic",
        "::system_message::",
        "--no-reports",
    ]);
    assert!(out.status.success(), "{:?}", text(&out));
    let out = provcheck(&["--require", "gemini", "--no-reports"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out).1.contains("--require gemini"),
        "{:?}",
        text(&out)
    );
}

fn weighted(md: &str) -> (u64, u64) {
    let line = md
        .lines()
        .find(|l| l.starts_with("- **Weighted coverage**"))
        .unwrap();
    let nums: Vec<u64> = line
        .split(['(', ' '])
        .filter_map(|w| w.parse().ok())
        .collect();
    (nums[0], nums[1])
}

#[test]
fn weighted_coverage_drops_by_a_failing_critical_scenario() {
    let dir = tempfile::tempdir().unwrap();
    let before = dir.path().join("before");
    let out = provcheck(&["--reports", before.to_str().unwrap()]);
    assert!(out.status.success(), "{:?}", text(&out));
    let md_before = std::fs::read_to_string(before.join("COVERAGE_AUDIT.md")).unwrap();
    let (pass, all) = weighted(&md_before);
    assert_eq!(pass, all, "the shipped suites all pass: {md_before}");
    // Counted from the record, so new shipped scenarios do not break the arithmetic.
    let record = run_record(&before.join("run.json"));
    let critical: std::collections::BTreeSet<&str> = record
        .outcomes
        .iter()
        .filter(|o| o.priority == provcheck::suite::Priority::Critical)
        .map(|o| o.trial.rsplit_once("::").unwrap().0)
        .collect();
    let openai_critical = record
        .outcomes
        .iter()
        .filter(|o| o.priority == provcheck::suite::Priority::Critical && o.target == "openai")
        .count();
    let n = critical.len();
    assert!(
        md_before.contains(&format!("Critical paths: {n} of {n} critical scenarios")),
        "{md_before}"
    );

    let fixtures = fixtures_copy(dir.path());
    edit_recording(
        &fixtures.join("openai/limits/max_tokens_enforced.yaml"),
        |v| v["exchanges"][0]["response"]["body"]["choices"][0]["finish_reason"] = json!("stop"),
    );
    let after = dir.path().join("after");
    let out = provcheck(&[
        "--fixtures",
        fixtures.to_str().unwrap(),
        "--reports",
        after.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(101));
    let md = std::fs::read_to_string(after.join("COVERAGE_AUDIT.md")).unwrap();
    assert_eq!(weighted(&md), (all - 8, all), "critical weighs 8:\n{md}");
    let cov = section(&md, "## Weighted coverage");
    assert!(
        cov.contains(&format!(
            "| openai | {}/{openai_critical} |",
            openai_critical - 1
        )),
        "{cov}"
    );
    assert!(
        cov.contains(&format!("Critical paths: {} of {n} critical scenarios pass on every applicable target. Not covered: `limits::max_tokens_enforced` (openai fail).", n - 1)),
        "{cov}"
    );
    let gaps = section(&md, "## Gaps, ranked");
    let first = gaps.lines().find(|l| l.starts_with("| 1 |")).unwrap();
    assert!(
        first.contains("`limits::max_tokens_enforced`")
            && first
                .contains("| openai | failing | expect.finish_reason: expected length, got stop"),
        "{first}"
    );
    let matrix = section(&md, "### limits");
    assert!(
        matrix.contains("| critical | ❌ fail [1] | ✅ pass | ✅ pass |"),
        "{matrix}"
    );

    // With the previous run: the regression, and the coverage before and after.
    let out = provcheck(&[
        "audit",
        after.join("run.json").to_str().unwrap(),
        "--previous",
        before.join("run.json").to_str().unwrap(),
        "--output",
        "-",
    ]);
    assert!(out.status.success(), "{:?}", text(&out));
    let md = text(&out).0;
    let changes = section(&md, "## Changes since the previous run");
    let pct = |p: u64| format!("{:.1}%", p as f64 * 100.0 / all as f64);
    assert!(
        changes.contains(&format!(
            "Weighted coverage {} → {}",
            pct(all),
            pct(all - 8)
        )),
        "{changes}"
    );
    assert!(
        changes.contains("| `limits::max_tokens_enforced::openai` | critical | ✅ pass | ❌ fail | expect.finish_reason: expected length, got stop"),
        "{changes}"
    );
    assert_eq!(run_record(&after.join("run.json")).totals.fail, 1);
}

/// A scenario's `not_applicable` reason is data all the way: the typed skip in run.json, the
/// JUnit message, the trial's console line and the audit's Not applicable list, and never a
/// gap.
#[test]
fn a_not_applicable_reason_reaches_every_report_and_is_no_gap() {
    let dir = tempfile::tempdir().unwrap();
    let reports = dir.path().join("r");
    let out = provcheck(&[
        "validation::n_zero::",
        "--reports",
        reports.to_str().unwrap(),
    ]);
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    let reason = "The Messages API has no `n` parameter.";
    let record = run_record(&reports.join("run.json"));
    let o = record
        .outcomes
        .iter()
        .find(|o| o.trial == "validation::n_zero::anthropic")
        .expect("a trial, skipped, not a missing one");
    let skip = o.skip.as_ref().expect("skipped");
    assert_eq!(skip.kind, provcheck::outcome::SkipKind::NotApplicable);
    assert_eq!(skip.detail, reason);
    let (_, cases) = common::junit_cases(&reports.join("junit.xml"));
    let case = cases
        .iter()
        .find(|c| c.trial == "validation::n_zero::anthropic")
        .unwrap();
    assert_eq!(case.status, "skip");
    assert_eq!(case.message, format!("skipped (not applicable: {reason})"));
    assert!(
        stdout
            .lines()
            .any(|l| l.contains("validation::n_zero::anthropic") && l.contains(reason)),
        "{stdout}"
    );
    let md = std::fs::read_to_string(reports.join("COVERAGE_AUDIT.md")).unwrap();
    let na = section(&md, "## Not applicable");
    assert!(
        na.lines()
            .any(|l| l.contains("`n_zero`") && l.contains("| anthropic |") && l.contains(reason)),
        "{na}"
    );
    let gaps = section(&md, "## Gaps, ranked");
    assert!(
        !gaps.contains("anthropic"),
        "an n/a cell is no gap:\n{gaps}"
    );
}

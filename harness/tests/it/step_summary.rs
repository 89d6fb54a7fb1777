//! GitHub's step summary: with `GITHUB_STEP_SUMMARY` set, a run and a merge append the audit's
//! summary and ranked gaps to that file, after what earlier steps wrote, exactly as the audit
//! renders them.

use crate::common::{provcheck_env, text};

/// The section of `md` that starts at `heading`, up to the next heading of its level or above.
fn section<'a>(md: &'a str, heading: &str) -> &'a str {
    let start = md
        .find(heading)
        .unwrap_or_else(|| panic!("no {heading:?} in:\n{md}"));
    let rest = &md[start..];
    let end = rest[heading.len()..]
        .find("\n## ")
        .or_else(|| rest[heading.len()..].find("\n# "))
        .map_or(rest.len(), |i| i + heading.len() + 1);
    &rest[..end]
}

#[test]
fn a_run_and_a_merge_append_the_audit_summary_and_gaps_to_the_step_summary() {
    let dir = tempfile::tempdir().unwrap();
    let summary = dir.path().join("summary.md");
    let prior = "## Build\n\nbuilt in 3 s\n";
    std::fs::write(&summary, prior).unwrap();
    let env = [("GITHUB_STEP_SUMMARY", summary.to_str().unwrap())];
    let reports = dir.path().join("r");
    let run = |extra: &[&str]| {
        let mut args = vec!["--reports", reports.to_str().unwrap(), "limits::"];
        args.extend_from_slice(extra);
        let out = provcheck_env(&args, &env);
        let (stdout, stderr) = text(&out);
        assert!(out.status.success(), "{stdout}\n{stderr}");
        stdout
    };
    let stdout = run(&[]);
    assert!(
        stdout.contains("(appended)"),
        "the console says where: {stdout}"
    );
    let audit = std::fs::read_to_string(reports.join("COVERAGE_AUDIT.md")).unwrap();
    let first = std::fs::read_to_string(&summary).unwrap();
    let added = first
        .strip_prefix(prior)
        .unwrap_or_else(|| panic!("what was there is kept, first: {first}"));
    assert!(added.starts_with("\n# provcheck: replay"), "{added}");
    for heading in ["## Summary", "## Gaps, ranked"] {
        assert_eq!(
            section(added, heading),
            section(&audit, heading),
            "{heading}"
        );
    }
    assert!(
        !added.contains("## Matrix"),
        "only the summary and the gaps: {added}"
    );

    // A second step appends again; --no-reports writes nothing, the summary included.
    run(&["--no-reports"]);
    assert_eq!(std::fs::read_to_string(&summary).unwrap(), first);
    run(&[]);
    assert_eq!(
        std::fs::read_to_string(&summary).unwrap(),
        format!("{first}{added}")
    );

    // Merging CI shards appends the merged record's summary.
    let merged = dir.path().join("m");
    let record = reports.join("run.json");
    let out = provcheck_env(
        &[
            "merge",
            "--output",
            merged.to_str().unwrap(),
            record.to_str().unwrap(),
        ],
        &env,
    );
    assert!(out.status.success(), "{:?}", text(&out));
    let after = std::fs::read_to_string(&summary).unwrap();
    let tail = after.strip_prefix(&format!("{first}{added}")).unwrap();
    let merged_audit = std::fs::read_to_string(merged.join("COVERAGE_AUDIT.md")).unwrap();
    assert_eq!(
        section(tail, "## Summary"),
        section(&merged_audit, "## Summary")
    );
}

//! CI sharding and reruns: partitions 1/3, 2/3 and 3/3, merged, conclude exactly what the
//! unpartitioned run concludes; `merge` refuses records that would make it lie; an empty shard
//! is a note; `--rerun-failed` reruns exactly the failed set.

use crate::common;

use std::collections::BTreeSet;
use std::path::Path;

use common::{edit_recording, fixtures_copy, junit_cases, provcheck, run_record, text, verdicts};
use serde_json::json;

fn run(args: &[&str], reports: &Path) -> std::process::Output {
    let mut all = vec!["--reports", reports.to_str().unwrap()];
    all.extend_from_slice(args);
    provcheck(&all)
}

#[test]
fn partitions_merged_equal_the_unpartitioned_run() {
    let dir = tempfile::tempdir().unwrap();
    // One failure and one error in the mix, so the comparison covers every status.
    let fixtures = fixtures_copy(dir.path());
    edit_recording(
        &fixtures.join("ollama/limits/max_tokens_enforced.yaml"),
        |v| v["exchanges"][0]["response"]["body"]["eval_count"] = json!(40),
    );
    edit_recording(
        &fixtures.join("openai/messages/multi_turn_assistant.yaml"),
        |v| v["exchanges"][0]["request"]["body"]["messages"][2]["content"] = json!("Other?"),
    );
    let fx = fixtures.to_str().unwrap();
    let whole = dir.path().join("whole");
    assert_eq!(run(&["--fixtures", fx], &whole).status.code(), Some(101));
    let expected = verdicts(&whole.join("run.json"));
    assert!(expected.iter().any(|(_, s, _)| s == "fail"));
    assert!(expected.iter().any(|(_, s, _)| s == "error"));
    assert!(expected.iter().any(|(_, s, _)| s == "skip"));

    let mut shards = Vec::new();
    let mut seen = BTreeSet::new();
    for k in 1..=3 {
        let reports = dir.path().join(format!("shard{k}"));
        let out = run(
            &["--fixtures", fx, "--partition", &format!("{k}/3")],
            &reports,
        );
        assert!(
            matches!(out.status.code(), Some(0 | 101)),
            "{:?}",
            text(&out)
        );
        let v = verdicts(&reports.join("run.json"));
        // Round-robin over sorted names: sizes within one of each other, no trial twice.
        let size = v.len();
        assert!(
            size.abs_diff(expected.len() / 3) <= 1,
            "shard {k} has {size}"
        );
        for t in &v {
            assert!(seen.insert(t.0.clone()), "{} in two shards", t.0);
        }
        let r = run_record(&reports.join("run.json"));
        assert_eq!(
            r.selection.partition.as_deref(),
            Some(format!("{k}/3").as_str())
        );
        shards.push(reports.join("run.json"));
    }
    let merged = dir.path().join("merged");
    let mut args = vec!["merge", "--output", merged.to_str().unwrap()];
    args.extend(shards.iter().map(|p| p.to_str().unwrap()));
    let out = provcheck(&args);
    assert!(out.status.success(), "{:?}", text(&out));
    assert_eq!(verdicts(&merged.join("run.json")), expected);

    // The merged JUnit and audit are the unpartitioned run's, timings aside.
    let (_, whole_cases) = junit_cases(&whole.join("junit.xml"));
    let (report, merged_cases) = junit_cases(&merged.join("junit.xml"));
    assert_eq!(report.tests, expected.len());
    let strip = |cs: Vec<common::Case>| -> Vec<(String, &str, String)> {
        cs.into_iter()
            .map(|c| (c.trial, c.status, c.message))
            .collect()
    };
    assert_eq!(strip(merged_cases), strip(whole_cases));
    let audit = std::fs::read_to_string(merged.join("COVERAGE_AUDIT.md")).unwrap();
    let whole_audit = std::fs::read_to_string(whole.join("COVERAGE_AUDIT.md")).unwrap();
    let from = |md: &str| md[md.find("## Summary").unwrap()..].to_string();
    assert_eq!(from(&audit), from(&whole_audit));
    assert!(audit.contains("merged from 3 records"), "{audit}");
    assert!(audit.contains("(partition 2/3)"), "{audit}");

    // A trial in two records, or two modes, cannot be merged.
    let again = dir.path().join("again");
    let out = provcheck(&[
        "merge",
        "--output",
        again.to_str().unwrap(),
        shards[0].to_str().unwrap(),
        shards[0].to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out).1.contains("appears in both"), "{:?}", text(&out));
    let live = dir.path().join("live");
    let out = provcheck(&[
        "--mode",
        "live",
        "--target",
        "openai",
        "::system_message::",
        "--reports",
        live.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{:?}", text(&out));
    let out = provcheck(&[
        "merge",
        "--output",
        again.to_str().unwrap(),
        shards[1].to_str().unwrap(),
        live.join("run.json").to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out).1.contains("is a replay run and"),
        "{:?}",
        text(&out)
    );
    assert!(!again.join("run.json").exists());
}

#[test]
fn an_empty_shard_is_a_note_and_still_merges() {
    let dir = tempfile::tempdir().unwrap();
    // limits.yaml against one target: two trials, so shard 3/3 is empty.
    let base = ["--suite", "suites/limits.yaml", "--target", "openai"];
    let mut shards = Vec::new();
    for k in 1..=3 {
        let reports = dir.path().join(format!("s{k}"));
        let mut args = base.to_vec();
        let p = format!("{k}/3");
        args.extend(["--partition", &p]);
        let out = run(&args, &reports);
        let (stdout, stderr) = text(&out);
        assert!(out.status.success(), "{stdout}\n{stderr}");
        if k == 3 {
            assert!(
                stderr.contains(
                    "note: partition 3/3 holds no selected trial (the plan has 2); nothing ran"
                ),
                "{stderr}"
            );
        }
        shards.push(reports.join("run.json"));
    }
    assert!(run_record(&shards[2]).outcomes.is_empty());
    let merged = dir.path().join("m");
    let mut args = vec!["merge", "--output", merged.to_str().unwrap()];
    args.extend(shards.iter().map(|p| p.to_str().unwrap()));
    assert!(provcheck(&args).status.success());
    assert_eq!(run_record(&merged.join("run.json")).outcomes.len(), 2);

    // A filter matching only another shard's trials is not a typo; one matching none is.
    let out = run(
        &[&base[..], &["--partition", "2/2", "max_tokens"]].concat(),
        &dir.path().join("f"),
    );
    assert!(out.status.success(), "{:?}", text(&out));
    let out = run(
        &[&base[..], &["--partition", "2/2", "no_such_trial"]].concat(),
        &dir.path().join("g"),
    );
    assert_eq!(out.status.code(), Some(2));
    for bad in ["0/3", "4/3", "x"] {
        let out = provcheck(&["--partition", bad, "--no-reports"]);
        assert_eq!(out.status.code(), Some(2), "{bad}");
        assert!(
            text(&out).1.contains("is not a partition"),
            "{:?}",
            text(&out)
        );
    }
}

#[test]
fn rerun_failed_reruns_exactly_the_failed_set() {
    let dir = tempfile::tempdir().unwrap();
    let fixtures = fixtures_copy(dir.path());
    edit_recording(
        &fixtures.join("openai/limits/max_tokens_enforced.yaml"),
        |v| v["exchanges"][0]["response"]["body"]["choices"][0]["finish_reason"] = json!("stop"),
    );
    edit_recording(
        &fixtures.join("anthropic/messages/system_message.yaml"),
        |v| v["exchanges"][0]["response"]["body"]["stop_reason"] = serde_json::Value::Null,
    );
    edit_recording(
        &fixtures.join("openai/messages/multi_turn_assistant.yaml"),
        |v| v["exchanges"][0]["request"]["body"]["messages"][2]["content"] = json!("Other?"),
    );
    let fx = fixtures.to_str().unwrap();
    let first = dir.path().join("first");
    assert_eq!(run(&["--fixtures", fx], &first).status.code(), Some(101));
    let failed: BTreeSet<String> = verdicts(&first.join("run.json"))
        .into_iter()
        .filter(|(_, s, _)| s == "fail" || s == "error")
        .map(|(t, _, _)| t)
        .collect();
    assert_eq!(
        failed,
        BTreeSet::from([
            "limits::max_tokens_enforced::openai".to_string(),
            "messages::multi_turn_assistant::openai".to_string(),
            "messages::system_message::anthropic".to_string(),
        ])
    );

    let second = dir.path().join("second");
    let out = run(
        &[
            "--fixtures",
            fx,
            "--rerun-failed",
            first.join("run.json").to_str().unwrap(),
        ],
        &second,
    );
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(101), "{stdout}\n{stderr}");
    assert!(
        stderr.contains("note: rerunning the 3 trial(s)"),
        "{stderr}"
    );
    assert!(stdout.contains("running 3 tests"), "{stdout}");
    let r = run_record(&second.join("run.json"));
    let rerun: BTreeSet<String> = r.outcomes.iter().map(|o| o.trial.clone()).collect();
    assert_eq!(rerun, failed);
    assert!(r.selection.rerun_failed_from.is_some());

    // Fixed recordings: the rerun passes, and a record with no failure reruns nothing.
    let out = run(
        &["--rerun-failed", first.join("run.json").to_str().unwrap()],
        &dir.path().join("third"),
    );
    assert!(out.status.success(), "{:?}", text(&out));
    assert_eq!(
        run_record(&dir.path().join("third/run.json")).totals.pass,
        3
    );
    let out = run(
        &[
            "--rerun-failed",
            dir.path().join("third/run.json").to_str().unwrap(),
        ],
        &dir.path().join("fourth"),
    );
    let (stdout, _) = text(&out);
    assert!(out.status.success());
    assert!(stdout.contains("no trial failed or errored in"), "{stdout}");
    assert!(!stdout.contains("running "), "nothing ran: {stdout}");
    assert!(!dir.path().join("fourth").exists());
}

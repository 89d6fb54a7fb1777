//! `provcheck diff` on records of real runs: a field whose type changed is shape drift (exit
//! 1); different text, token counts and a model's version suffix are content variance (exit 0).

use crate::common;

use std::path::{Path, PathBuf};

use common::{edit_recording, fixtures_copy, provcheck, text};
use serde_json::json;

const FILE: &str = "openai/messages/system_message.yaml";

/// Replays `messages::system_message::openai` from `fixtures` and returns the record's path.
fn replay(dir: &Path, name: &str, fixtures: &Path) -> PathBuf {
    let reports = dir.join(name);
    let out = provcheck(&[
        "--exact",
        "messages::system_message::openai",
        "--fixtures",
        fixtures.to_str().unwrap(),
        "--reports",
        reports.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{name}: {:?}", text(&out));
    reports.join("run.json")
}

#[test]
fn diff_separates_a_changed_type_from_changed_text() {
    let dir = tempfile::tempdir().unwrap();
    let base = replay(dir.path(), "base", &common::root().join("fixtures"));

    let typed = fixtures_copy(&dir.path().join("typed"));
    edit_recording(&typed.join(FILE), |v| {
        v["exchanges"][0]["response"]["body"]["system_fingerprint"] = json!(42);
        v["exchanges"][0]["response"]["headers"]["x-ratelimit-remaining-requests"] = json!("99");
    });
    let typed = replay(dir.path(), "typed", &typed);

    let worded = fixtures_copy(&dir.path().join("worded"));
    edit_recording(&worded.join(FILE), |v| {
        let body = &mut v["exchanges"][0]["response"]["body"];
        body["choices"][0]["message"]["content"] = json!("PINEAPPLE, of course.");
        body["usage"]["completion_tokens"] = json!(6);
        body["model"] = json!("gpt-4o-mini-2025-01-31");
    });
    let worded = replay(dir.path(), "worded", &worded);

    let out = provcheck(&["diff", base.to_str().unwrap(), typed.to_str().unwrap()]);
    let (md, stderr) = text(&out);
    assert_eq!(
        out.status.code(),
        Some(1),
        "shape drift exits 1\n{md}\n{stderr}"
    );
    assert!(md.contains("**Shape drift: 2 changes in 1 trial**"), "{md}");
    let shape = &md[md.find("## Shape drift").unwrap()..];
    assert!(
        shape.contains("| `messages::system_message::openai` | step 0 · copy 0 | `system_fingerprint` changed type: string → number |"),
        "{md}"
    );
    assert!(
        shape.contains("tracked headers added `x-ratelimit-remaining-requests`"),
        "{md}"
    );
    assert!(
        !md.contains("## Content variance"),
        "nothing else changed: {md}"
    );

    let report = dir.path().join("drift.md");
    let out = provcheck(&[
        "diff",
        base.to_str().unwrap(),
        worded.to_str().unwrap(),
        "--output",
        report.to_str().unwrap(),
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "content variance is not drift: {:?}",
        text(&out)
    );
    let md = std::fs::read_to_string(&report).unwrap();
    assert!(
        md.contains("**No shape drift** in 1 trial and 1 exchanges compared."),
        "{md}"
    );
    assert!(!md.contains("## Shape drift"), "{md}");
    let content = &md[md.find("## Content variance (1)").unwrap()..];
    for part in [
        "reply model `gpt-4o-mini-2024-07-18` → `gpt-4o-mini-2025-01-31`",
        "text length 9 → 21 chars",
        "output tokens 3 → 6",
    ] {
        assert!(content.contains(part), "{part}: {md}");
    }

    // Compared against itself: nothing at all.
    let out = provcheck(&["diff", base.to_str().unwrap(), base.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0));
    assert!(!text(&out).0.contains("## "), "{}", text(&out).0);
}

#[test]
fn a_live_run_without_keys_is_listed_as_not_compared() {
    let dir = tempfile::tempdir().unwrap();
    let base = replay(dir.path(), "base", &common::root().join("fixtures"));
    let live = dir.path().join("live");
    let out = provcheck(&[
        "--mode",
        "live",
        "--exact",
        "messages::system_message::openai",
        "--reports",
        live.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{:?}", text(&out));
    let out = provcheck(&[
        "diff",
        base.to_str().unwrap(),
        live.join("run.json").to_str().unwrap(),
    ]);
    let md = text(&out).0;
    assert_eq!(out.status.code(), Some(0), "{md}");
    assert!(md.contains("| replay · "), "{md}");
    assert!(md.contains("| live · "), "{md}");
    assert!(
        md.contains("skipped in the new record: no key: OPENAI_API_KEY is not set"),
        "{md}"
    );
}

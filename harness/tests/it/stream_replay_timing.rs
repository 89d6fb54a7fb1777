//! Replay keeps recorded stream timing, a check of provcheck itself: the recording in
//! `data/replay_gap.yaml` pauses 300 ms between two words. At --speed 1 the client sees that
//! gap (the scenario expects 200..=5000 ms: an event read late on a loaded machine shortens
//! the gap after it and lengthens the one before); at --speed 0 it sees none.

use crate::common;

use common::{junit_cases, provcheck, root, text};

const SUITE: &str = "suite: replay\ncategory: streaming\nscenarios:\n  - id: recorded_gap\n    \
    title: Replay keeps the recorded gaps between tokens\n    requires: [streaming]\n    \
    request:\n      stream: true\n      messages:\n        - user: Say \"one, two\".\n      \
    max_tokens: 10\n    expect:\n      status: 200\n      \
    stream: { well_formed: true, max_gap_ms: { min: 200, max: 5000 } }\n";

fn run(speed: &str) -> (Option<i32>, common::Case) {
    let dir = tempfile::tempdir().unwrap();
    let suite = dir.path().join("replay.yaml");
    std::fs::write(&suite, SUITE).unwrap();
    let fixtures = dir.path().join("fixtures");
    std::fs::create_dir_all(fixtures.join("openai/replay")).unwrap();
    std::fs::copy(
        root().join("harness/tests/it/data/replay_gap.yaml"),
        fixtures.join("openai/replay/recorded_gap.yaml"),
    )
    .unwrap();
    let reports = dir.path().join("reports");
    let out = provcheck(&[
        "--suite",
        suite.to_str().unwrap(),
        "--fixtures",
        fixtures.to_str().unwrap(),
        "--exact",
        "replay::recorded_gap::openai",
        "--speed",
        speed,
        "--reports",
        reports.to_str().unwrap(),
    ]);
    let (_, cases) = junit_cases(&reports.join("junit.xml"));
    assert_eq!(cases.len(), 1, "{:?}", text(&out));
    (out.status.code(), cases[0].clone())
}

#[test]
fn recorded_gap_is_kept_at_speed_one_and_dropped_at_speed_zero() {
    let (code, case) = run("1");
    assert_eq!((code, case.status), (Some(0), "pass"), "{case:?}");

    let (code, case) = run("0");
    assert_eq!((code, case.status), (Some(101), "fail"), "{case:?}");
    let gap: u64 = case
        .message
        .split("longest gap between events ")
        .nth(1)
        .and_then(|r| r.split(" ms").next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no gap in {:?}", case.message));
    assert!(
        gap < 250,
        "at speed 0 the 300 ms gap must vanish, saw {gap} ms"
    );
}

#[test]
fn speed_must_be_a_non_negative_number() {
    for bad in ["--speed=-1", "--speed=fast", "--speed=NaN"] {
        let out = provcheck(&[bad, "--list"]);
        assert_eq!(out.status.code(), Some(2), "{bad}: {:?}", text(&out));
        assert!(
            text(&out).1.contains("is not a speed factor"),
            "{:?}",
            text(&out)
        );
    }
}

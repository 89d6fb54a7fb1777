//! Replay keeps recorded stream timing: the recording of `streaming::stream_timing` pauses
//! 300 ms between two words. At --speed 1 the client sees that gap (the scenario expects
//! 250..=1500 ms); at --speed 0 it sees none.

use crate::common;

use common::{junit_cases, provcheck, text};

fn run(speed: &str) -> (Option<i32>, common::Case) {
    let dir = tempfile::tempdir().unwrap();
    let out = provcheck(&[
        "--exact",
        "streaming::stream_timing::openai",
        "--speed",
        speed,
        "--reports",
        dir.path().to_str().unwrap(),
    ]);
    let (_, cases) = junit_cases(&dir.path().join("junit.xml"));
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
        gap < 100,
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

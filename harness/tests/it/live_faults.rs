//! Faults in front of a live provider: against the in-tree reference provider on 127.0.0.1,
//! under target names no fixture knows, every fault scenario runs live with no recording. The
//! failing attempts come from the mock, the attempt that should succeed is forwarded to the
//! target with its real key (the reference refuses a request without it), the key reaches no
//! report or recording, and record mode writes recordings that replay green.

use std::collections::BTreeSet;
use std::path::Path;

use provcheck::dialect::DialectKind;
use provcheck::reference::{Config, ReferenceProvider};
use provcheck::report::run_record::RunRecord;

use crate::common::{junit_cases, provcheck_env, run_record, text};

const KEY_VAR: &str = "PROVCHECK_TEST_KEY";
const KEY: &str = "pc-test-Live-Faults-K3y-0123456789";

/// The fault scenarios: the resilience suite's tags, and the broken-reply scenarios of the
/// other suites (tagged `faults`).
const TAGS: &[&str] = &[
    "--tag",
    "faults",
    "--tag",
    "retries",
    "--tag",
    "rate-limits",
    "--tag",
    "circuit-breaker",
    "--tag",
    "timeouts",
    "--tag",
    "network",
];

/// Two new targets: `newco` (OpenAI) on a reference provider that wants the key, `newant`
/// (Anthropic) on one that takes none.
fn targets(keyed: &ReferenceProvider, open: &ReferenceProvider, dir: &Path) -> String {
    let models = "{ small: ref-small, second: ref-second, tools: ref-tools }";
    let yaml = format!(
        "targets:\n\
         \x20 newco:\n    dialect: openai\n    base_url: {}\n    key_env: {KEY_VAR}\n    \
         models: {models}\n    capabilities: [streaming, tools]\n\
         \x20 newant:\n    dialect: anthropic\n    base_url: {}\n    \
         models: {models}\n    capabilities: [streaming, tools]\n",
        keyed.base_url(DialectKind::Openai),
        open.base_url(DialectKind::Anthropic),
    );
    let path = dir.join("targets.yaml");
    std::fs::write(&path, yaml).unwrap();
    path.to_string_lossy().into_owned()
}

fn run(dir: &Path, mode: &str, key: &str, fixtures: &Path, reports: &Path) -> std::process::Output {
    let server_targets = dir.join("targets.yaml");
    let mut args = vec![
        "--mode",
        mode,
        "--targets",
        server_targets.to_str().unwrap(),
        "--fixtures",
        fixtures.to_str().unwrap(),
        "--reports",
        reports.to_str().unwrap(),
        "--live-concurrency",
        "8",
        "--target",
        "newco",
        "--target",
        "newant",
        // Its 100 ms pacing is judged at the mock with a 20 ms margin: too tight for a busy
        // test machine running both targets at once, and not what these tests are about.
        "--skip",
        "rate_limit_burst",
    ];
    args.extend(TAGS);
    provcheck_env(&args, &[(KEY_VAR, key)])
}

fn no_key_in(dir: &Path) {
    for entry in walk(dir) {
        let text = std::fs::read_to_string(&entry).unwrap_or_default();
        assert!(!text.contains(KEY), "the key is in {}", entry.display());
    }
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

fn servers() -> (ReferenceProvider, ReferenceProvider) {
    let keyed = ReferenceProvider::start(Config {
        api_key: Some(KEY.to_string()),
        ..Config::default()
    })
    .expect("reference provider");
    let open = ReferenceProvider::start(Config::default()).expect("reference provider");
    (keyed, open)
}

#[test]
fn fault_scenarios_run_live_for_a_new_target_without_recordings() {
    let (server, open) = servers();
    let dir = tempfile::tempdir().unwrap();
    targets(&server, &open, dir.path());
    let empty = dir.path().join("no-fixtures");
    std::fs::create_dir_all(&empty).unwrap();
    let reports = dir.path().join("live");
    let out = run(dir.path(), "live", KEY, &empty, &reports);
    let (_, cases) = junit_cases(&reports.join("junit.xml"));
    // `newco`'s server refuses a request without the key: its forwarded attempts carried it.
    // A scenario whose API does not define the behaviour in a dialect is skipped there.
    let not_passed: Vec<_> = cases
        .iter()
        .filter(|c| c.status != "pass" && !c.message.starts_with("skipped (not applicable: "))
        .collect();
    assert!(
        not_passed.is_empty() && out.status.code() == Some(0),
        "{not_passed:#?}\n{:?}",
        text(&out)
    );
    let trials: BTreeSet<&str> = cases.iter().map(|c| c.trial.as_str()).collect();
    for t in [
        "resilience::retry_500_then_success::newco",
        "resilience::retry_529_overloaded::newant",
        "streaming::truncated_stream::newant",
        "streaming::mid_stream_error::newco",
        "streaming::stream_timing::newant",
        "limits::request_timeout::newco",
        "tools::invalid_arguments_detected::newant",
    ] {
        assert!(trials.contains(t), "{t} did not run: {trials:?}");
    }
    // What reached the target is told apart from what met only the mock's faults.
    let record: RunRecord = run_record(&reports.join("run.json"));
    let reached = |scenario: &str| {
        let o = record
            .outcomes
            .iter()
            .find(|o| o.trial == format!("{scenario}::newco"))
            .unwrap_or_else(|| panic!("no {scenario}"));
        assert_eq!(o.subject.as_str(), "client", "{scenario}");
        (o.reached_target, o.spent.as_ref().map(|s| s.requests))
    };
    assert_eq!(
        reached("resilience::retry_500_then_success"),
        (true, Some(1))
    );
    assert_eq!(
        reached("resilience::give_up_after_max_retries"),
        (false, None)
    );
    no_key_in(&reports);
}

#[test]
fn record_mode_writes_the_forwarded_replies_and_they_replay() {
    let (server, open) = servers();
    let dir = tempfile::tempdir().unwrap();
    targets(&server, &open, dir.path());
    let fixtures = dir.path().join("fixtures");
    std::fs::create_dir_all(&fixtures).unwrap();
    let out = run(
        dir.path(),
        "record",
        KEY,
        &fixtures,
        &dir.path().join("rec"),
    );
    assert_eq!(out.status.code(), Some(0), "{:?}", text(&out));
    let written = walk(&fixtures);
    assert!(
        written
            .iter()
            .any(|p| p.ends_with("newco/resilience/retry_500_then_success.yaml")),
        "{written:?}"
    );
    // A script that never serves the target's reply has nothing to record.
    assert!(
        !written
            .iter()
            .any(|p| p.ends_with("newco/resilience/give_up_after_max_retries.yaml")),
        "{written:?}"
    );
    no_key_in(&fixtures);
    drop((server, open));
    let replay = dir.path().join("replay");
    let out = run(dir.path(), "replay", "", &fixtures, &replay);
    let (_, cases) = junit_cases(&replay.join("junit.xml"));
    // A scenario whose API does not define the behaviour in a dialect is skipped there.
    let not_passed: Vec<_> = cases
        .iter()
        .filter(|c| c.status != "pass" && !c.message.starts_with("skipped (not applicable: "))
        .collect();
    assert!(
        not_passed.is_empty() && out.status.code() == Some(0),
        "{not_passed:#?}\n{:?}",
        text(&out)
    );
}

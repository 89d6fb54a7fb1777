//! Ending a run early and still reporting it: `--run-deadline`, a trial's own deadline, and
//! SIGINT/SIGTERM sent to the real binary while its trials hang on a server that never
//! answers. The reports are valid either way; no timing is asserted beyond "it ended".

use std::path::Path;
use std::process::{Child, Output, Stdio};
use std::time::{Duration, Instant};

use crate::common;
use crate::raw_server::{MODELS, RawServer, respond};

/// A server that answers the preflight and holds every other request without a word.
fn hanging_server() -> RawServer {
    RawServer::start(|req, conn| {
        if req.method == "GET" {
            return respond(conn, 200, "application/json", MODELS);
        }
        std::thread::sleep(Duration::from_secs(600));
    })
}

/// A project with `n` plain scenarios (the first with `first_extra` keys) against `server`.
fn project(server: &RawServer, n: usize, first_extra: &str) -> tempfile::TempDir {
    let mut suite = String::from("suite: hang\ncategory: messages\nscenarios:\n");
    for i in 0..n {
        let extra = if i == 0 { first_extra } else { "" };
        suite.push_str(&format!(
            "  - id: s{i}\n    title: s{i}\n{extra}    request:\n      messages:\n        - user: hi {i}\n      max_tokens: 5\n    expect:\n      status: 200\n"
        ));
    }
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("suites")).unwrap();
    std::fs::write(dir.path().join("suites/hang.yaml"), suite).unwrap();
    std::fs::write(
        dir.path().join("targets.yaml"),
        format!(
            "targets:\n  t:\n    dialect: openai\n    base_url: {}/v1\n    models: {{ small: raw-model }}\n",
            server.url()
        ),
    )
    .unwrap();
    dir
}

fn spawn(dir: &Path, args: &[&str]) -> Child {
    common::command(dir)
        .args(["--mode", "live", "--target", "t", "--live-concurrency", "2"])
        .args(["--test-threads", "2", "--request-timeout-ms", "600000"])
        .args(["--trial-deadline-ms", "600000"])
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start provcheck")
}

/// Waits for the child to end (killing it after a minute: a hang is the defect).
fn finish(mut child: Child) -> Output {
    let start = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if start.elapsed() > Duration::from_secs(60) {
            let _ = child.kill();
            let out = child.wait_with_output().unwrap();
            panic!("provcheck did not end:\n{}", common::text(&out).0);
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    child.wait_with_output().unwrap()
}

/// Waits until the server holds `n` trial requests.
fn wait_for_requests(server: &RawServer, n: usize) {
    let start = Instant::now();
    while server.seen().iter().filter(|r| r.method == "POST").count() < n {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "no trial reached the server"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn signal(child: &Child, sig: &str) {
    let ok = std::process::Command::new("kill")
        .args([sig, &child.id().to_string()])
        .status()
        .unwrap()
        .success();
    assert!(ok, "kill {sig}");
}

/// Every outcome is an error of `kind`, with one of `messages`; JUnit agrees.
fn assert_all_errors(dir: &Path, kind: provcheck::outcome::ErrorKind, messages: &[&str]) {
    let record = common::run_record(&dir.join("reports/run.json"));
    assert!(!record.outcomes.is_empty());
    for o in &record.outcomes {
        let e = o
            .error
            .as_ref()
            .unwrap_or_else(|| panic!("not an error: {o:?}"));
        assert_eq!(e.kind, kind, "{o:?}");
        assert!(messages.contains(&e.message.as_str()), "{e:?}");
    }
    let (_, cases) = common::junit_cases(&dir.join("reports/junit.xml"));
    assert_eq!(cases.len(), record.outcomes.len());
    assert!(cases.iter().all(|c| c.status == "error"), "{cases:?}");
    assert!(dir.join("reports/COVERAGE_AUDIT.md").is_file());
}

#[cfg(unix)]
#[test]
fn sigint_and_sigterm_cancel_the_trials_and_still_write_valid_reports() {
    use provcheck::outcome::ErrorKind;
    for (sig, code) in [("-INT", 130), ("-TERM", 143)] {
        let server = hanging_server();
        let dir = project(&server, 6, "");
        let child = spawn(dir.path(), &[]);
        wait_for_requests(&server, 2);
        signal(&child, sig);
        let out = finish(child);
        let (stdout, stderr) = common::text(&out);
        assert_eq!(out.status.code(), Some(code), "{sig}\n{stdout}\n{stderr}");
        assert!(
            stderr.contains("stopping; the reports will be written"),
            "{stderr}"
        );
        let record = common::run_record(&dir.path().join("reports/run.json"));
        assert!(record.interrupted);
        let json = std::fs::read_to_string(dir.path().join("reports/run.json")).unwrap();
        assert!(json.contains("\"interrupted\":true"), "run.json says so");
        assert_all_errors(
            dir.path(),
            ErrorKind::Interrupted,
            &["interrupted", "interrupted; not run"],
        );
        // The two in flight were cut off; the others never started.
        let cut = record
            .outcomes
            .iter()
            .filter(|o| o.error.as_ref().unwrap().message == "interrupted")
            .count();
        assert_eq!(cut, 2, "{:?}", record.outcomes);
    }
}

#[cfg(unix)]
#[test]
fn a_second_sigint_exits_at_once_and_leaves_the_previous_reports_whole() {
    let server = hanging_server();
    let dir = project(&server, 4, "");
    // The previous run's reports: a run stopped by its deadline writes all three.
    let out = finish(spawn(dir.path(), &["--run-deadline", "1s"]));
    assert_eq!(out.status.code(), Some(101), "{}", common::text(&out).1);
    let child = spawn(dir.path(), &[]);
    wait_for_requests(&server, 4);
    signal(&child, "-INT");
    signal(&child, "-INT");
    let out = finish(child);
    assert_eq!(out.status.code(), Some(130), "{}", common::text(&out).1);
    // Whichever run's they are, the reports are whole: never a half-written file.
    let _ = common::run_record(&dir.path().join("reports/run.json"));
    let _ = common::junit_cases(&dir.path().join("reports/junit.xml"));
}

#[test]
fn the_run_deadline_ends_every_trial_as_an_error_and_a_trial_deadline_holds() {
    use provcheck::outcome::{ErrorKind, Status};
    let server = hanging_server();
    let dir = project(&server, 5, "    deadline_ms: 300\n");
    let out = finish(spawn(dir.path(), &["--run-deadline", "2s"]));
    let (stdout, stderr) = common::text(&out);
    assert_eq!(out.status.code(), Some(101), "{stdout}\n{stderr}");
    assert!(
        stderr.contains("the run stopped early: the run deadline of 2s passed"),
        "{stderr}"
    );
    let record = common::run_record(&dir.path().join("reports/run.json"));
    assert!(!record.interrupted);
    let (first, rest): (Vec<_>, Vec<_>) = record.outcomes.iter().partition(|o| o.scenario == "s0");
    // s0's own deadline ended it long before the run's.
    assert_eq!(first[0].status, Status::Fail, "{:?}", first[0]);
    assert!(
        first[0].findings[0]
            .message
            .contains("did not finish within its deadline of 300 ms")
    );
    for o in rest {
        let e = o.error.as_ref().unwrap_or_else(|| panic!("{o:?}"));
        assert_eq!(e.kind, ErrorKind::RunDeadline);
        assert!(
            [
                "the run deadline of 2s passed",
                "the run deadline of 2s passed; not run"
            ]
            .contains(&e.message.as_str()),
            "{e:?}"
        );
    }
    let (_, cases) = common::junit_cases(&dir.path().join("reports/junit.xml"));
    assert_eq!(cases.len(), 5);
}

//! Helpers shared by the integration tests: run the real binary from the repository root and
//! read the JUnit it writes.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use quick_junit::{NonSuccessKind, Report, TestCaseStatus};

/// The repository root (where suites/, fixtures/ and targets.yaml live).
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// The variables a child `provcheck` inherits from the test process: enough to run at all
/// (PATH) and to debug or measure it (backtraces, coverage profiles), nothing that can change
/// what it concludes. Everything else (OLLAMA_HOST, *_API_KEY, RUST_TEST_THREADS, CI, ...) is
/// cleared, so a developer's shell cannot change a test; a test that wants a variable sets it.
pub const INHERITED_ENV: &[&str] = &["PATH", "RUST_BACKTRACE", "LLVM_PROFILE_FILE"];

/// The real binary, to run in `dir` with a cleared environment plus [`INHERITED_ENV`] and
/// `NO_COLOR`. Every child process of these tests is built here.
pub fn command(dir: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_provcheck"));
    cmd.current_dir(dir).env_clear();
    for k in INHERITED_ENV {
        if let Some(v) = std::env::var_os(k) {
            cmd.env(k, v);
        }
    }
    cmd.env("NO_COLOR", "1");
    cmd
}

/// Runs `provcheck` from the repository root with `args`.
pub fn provcheck(args: &[&str]) -> Output {
    provcheck_env(args, &[])
}

/// stdout and stderr as text.
pub fn text(o: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

/// A test case's verdict as read back from JUnit.
#[derive(Debug, Clone, PartialEq)]
pub struct Case {
    /// `suite::scenario::target` rebuilt from the JUnit names.
    pub trial: String,
    /// pass, fail, error or skip.
    pub status: &'static str,
    /// The message (first line of the reason).
    pub message: String,
    /// The description (every finding).
    pub description: String,
}

/// Parses a JUnit file into cases.
pub fn junit_cases(path: &Path) -> (Report, Vec<Case>) {
    let xml =
        std::fs::read_to_string(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    let report = Report::deserialize_from_str(&xml)
        .unwrap_or_else(|e| panic!("JUnit does not parse: {e}\n{xml}"));
    let mut cases = Vec::new();
    for suite in &report.test_suites {
        for tc in &suite.test_cases {
            let (status, message, description) = match &tc.status {
                TestCaseStatus::Success { .. } => ("pass", None, None),
                TestCaseStatus::NonSuccess {
                    kind,
                    message,
                    description,
                    ..
                } => (
                    if *kind == NonSuccessKind::Failure {
                        "fail"
                    } else {
                        "error"
                    },
                    message.clone(),
                    description.clone(),
                ),
                TestCaseStatus::Skipped {
                    message,
                    description,
                    ..
                } => ("skip", message.clone(), description.clone()),
            };
            cases.push(Case {
                trial: format!("{}::{}", suite.name.as_str(), tc.name.as_str()),
                status,
                message: message.map(|m| m.as_str().to_string()).unwrap_or_default(),
                description: description
                    .map(|m| m.as_str().to_string())
                    .unwrap_or_default(),
            });
        }
    }
    (report, cases)
}

/// Copies a directory tree.
pub fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let dest = to.join(e.file_name());
        if e.path().is_dir() {
            copy_tree(&e.path(), &dest);
        } else {
            std::fs::copy(e.path(), dest).unwrap();
        }
    }
}

/// Runs `provcheck` from the repository root with `args` and extra environment variables.
pub fn provcheck_env(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = command(&root());
    cmd.args(args).envs(env.iter().copied());
    cmd.output().expect("run provcheck")
}

/// Edits a recording in place: parse the YAML, apply `edit` to it as JSON, write it back.
pub fn edit_recording(path: &Path, edit: impl FnOnce(&mut serde_json::Value)) {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut v: serde_json::Value = crate::common::yaml_from_str(&text).unwrap();
    edit(&mut v);
    std::fs::write(path, crate::common::yaml_to_string(&v).unwrap()).unwrap();
}

/// A copy of the shipped fixtures in `dir`, returned as its path.
pub fn fixtures_copy(dir: &Path) -> PathBuf {
    let to = dir.join("fixtures");
    copy_tree(&root().join("fixtures"), &to);
    to
}

/// Loads a run record written by a run, panicking with the path if it does not load.
pub fn run_record(path: &Path) -> provcheck::report::run_record::RunRecord {
    provcheck::report::run_record::RunRecord::load(path).unwrap_or_else(|e| panic!("{e}"))
}

/// (trial, status, message) of every outcome: what a run concluded, without timings.
pub fn verdicts(path: &Path) -> std::collections::BTreeSet<(String, String, String)> {
    run_record(path)
        .outcomes
        .into_iter()
        .map(|o| {
            let message = provcheck::report::text::headline_or_empty(&o);
            (o.trial, o.status.to_string(), message)
        })
        .collect()
}

/// Reads YAML with provcheck's own reader (the one suites and recordings go through).
pub fn yaml_from_str<T: serde::de::DeserializeOwned>(
    text: &str,
) -> Result<T, provcheck::source::Diagnostic> {
    provcheck::source::parse_yaml(&"test.yaml".into(), text)
}

/// Writes block YAML with provcheck's own writer (the one recording skeletons go through).
pub fn yaml_to_string<T: serde::Serialize>(value: &T) -> Result<String, serde_json::Error> {
    provcheck::source::to_yaml_string(value)
}

/// The trial a recording under a fixtures tree stands for: `target/suite/scenario.yaml` is
/// `suite::scenario::target`.
pub fn trial_of_fixture(file: &str) -> String {
    let p: Vec<&str> = file.trim_end_matches(".yaml").split('/').collect();
    format!("{}::{}::{}", p[1], p[2], p[0])
}

/// What one broken recording must do to its trial.
pub struct Break<'a> {
    /// `suite::scenario::target`.
    pub trial: String,
    /// What the breakage stands for, for the assertion messages.
    pub why: &'a str,
    /// The JUnit status the trial must end with.
    pub status: &'a str,
    /// Each must appear in the trial's message or details.
    pub says: Vec<&'a str>,
}

/// Asserts every break ends its trial as stated, saying why, and that every other trial passed
/// or was skipped: the breakage is what fails, nothing else.
pub fn assert_breaks(cases: &[Case], breaks: &[Break<'_>]) {
    for b in breaks {
        let c = cases
            .iter()
            .find(|c| c.trial == b.trial)
            .unwrap_or_else(|| panic!("no case {}", b.trial));
        assert_eq!(c.status, b.status, "{} ({}): {c:?}", b.trial, b.why);
        let all = format!("{}\n{}", c.message, c.description);
        for s in &b.says {
            assert!(
                all.contains(s),
                "{} ({}) should mention {s:?}; got:\n{all}",
                b.trial,
                b.why
            );
        }
    }
    for c in cases
        .iter()
        .filter(|c| breaks.iter().all(|b| b.trial != c.trial))
    {
        assert!(
            matches!(c.status, "pass" | "skip"),
            "collateral failure: {c:?}"
        );
    }
}

/// Serves HTTP/1 on 127.0.0.1 from a thread and runtime of its own, each request answered by
/// `handle` with one shared reqwest client (the test gateways and translators forward with
/// it); returns the address.
pub fn serve<H, F, B, E>(handle: H) -> std::net::SocketAddr
where
    H: Fn(std::sync::Arc<reqwest::Client>, hyper::Request<hyper::body::Incoming>) -> F
        + Clone
        + Send
        + 'static,
    F: std::future::Future<Output = Result<hyper::Response<B>, E>> + Send + 'static,
    B: hyper::body::Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    E: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(listener).unwrap();
            let client = std::sync::Arc::new(reqwest::Client::new());
            loop {
                let Ok((tcp, _)) = listener.accept().await else {
                    continue;
                };
                let (client, handle) = (client.clone(), handle.clone());
                tokio::spawn(async move {
                    let svc = hyper::service::service_fn(move |req| handle(client.clone(), req));
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(hyper_util::rt::TokioIo::new(tcp), svc)
                        .await;
                });
            }
        });
    });
    addr
}

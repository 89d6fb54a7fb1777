//! Running the client's command for one trial: `/bin/sh -c CMD` in a process group of its own,
//! with a cleared environment plus an allowlist, until it exits or the deadline passes. The
//! whole group is killed when the run is done with it (exited, timed out, or the trial
//! abandoned), so no child of the client outlives its trial.

use std::io::Read;
use std::os::unix::process::CommandExt;
use std::process::{Child, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use tokio::sync::oneshot;

use crate::target::ClientSpec;

/// Variables passed through from provcheck's own environment: enough to find and run an
/// interpreter and its virtualenv. Everything else (the developer's real keys above all) is
/// cleared.
pub(crate) const ALLOWED_ENV: &[&str] = &[
    "PATH",
    "HOME",
    "USER",
    "LANG",
    "LC_ALL",
    "LC_CTYPE",
    "TZ",
    "TMPDIR",
    "VIRTUAL_ENV",
    "PYENV_ROOT",
    "PYENV_VERSION",
];

/// At most this much of the client's stdout is kept (a report is one small object).
const STDOUT_CAP: usize = 1 << 20;
/// The last this many bytes of its stderr are kept, for messages.
const STDERR_TAIL: usize = 2000;
/// How often the child is polled for its exit.
const POLL: Duration = Duration::from_millis(5);
/// How long the output readers may take to finish once the group is dead.
const DRAIN: Duration = Duration::from_secs(2);

/// What a finished run of the command left.
#[derive(Debug)]
pub(crate) struct Finished {
    pub(crate) status: ExitStatus,
    pub(crate) stdout: String,
    pub(crate) stderr_tail: String,
    pub(crate) wall: Duration,
}

/// Why the command gave nothing to judge.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ProcessError {
    /// `/bin/sh` could not be started.
    #[error("could not be started (`{command}`): {source}")]
    Spawn {
        /// The command line.
        command: String,
        /// Why.
        source: std::io::Error,
    },
    /// Still running at the trial's deadline (its process group was killed).
    #[error("hung: still running at the trial's deadline, after {} ms; its process group was killed", .0.as_millis())]
    Hung(Duration, String),
}

impl ProcessError {
    /// The client's stderr tail, when it ran at all.
    pub(crate) fn stderr_tail(&self) -> &str {
        match self {
            ProcessError::Spawn { .. } => "",
            ProcessError::Hung(_, tail) => tail,
        }
    }
}

/// The child and its process group; dropping it kills the group and reaps the child, so an
/// abandoned trial (its future dropped at the run's deadline) leaves nothing running.
struct Group {
    child: Child,
    reaped: bool,
}

impl Group {
    fn kill(&self) {
        // The group id is the child's pid (`process_group(0)`).
        let Ok(pgid) = libc::pid_t::try_from(self.child.id()) else {
            return;
        };
        // SAFETY: killpg only sends a signal; a group that is already gone gives ESRCH.
        unsafe {
            libc::killpg(pgid, libc::SIGKILL);
        }
    }
}

impl Drop for Group {
    fn drop(&mut self) {
        self.kill();
        if !self.reaped {
            let _ = self.child.wait();
        }
    }
}

fn read_all(
    mut r: impl Read + Send + 'static,
    keep: fn(&mut Vec<u8>),
) -> oneshot::Receiver<Vec<u8>> {
    let (tx, rx) = oneshot::channel();
    std::thread::spawn(move || {
        let mut out = Vec::new();
        let mut buf = [0u8; 8192];
        while let Ok(n) = r.read(&mut buf) {
            if n == 0 {
                break;
            }
            out.extend_from_slice(&buf[..n]);
            keep(&mut out);
        }
        let _ = tx.send(out);
    });
    rx
}

fn cap_stdout(v: &mut Vec<u8>) {
    v.truncate(STDOUT_CAP);
}

fn tail_stderr(v: &mut Vec<u8>) {
    if v.len() > STDERR_TAIL * 2 {
        v.drain(..v.len() - STDERR_TAIL);
    }
}

async fn drained(rx: oneshot::Receiver<Vec<u8>>) -> Vec<u8> {
    tokio::time::timeout(DRAIN, rx)
        .await
        .ok()
        .and_then(Result::ok)
        .unwrap_or_default()
}

/// The last [`STDERR_TAIL`] bytes as text.
fn tail(bytes: &[u8]) -> String {
    let from = bytes.len().saturating_sub(STDERR_TAIL);
    String::from_utf8_lossy(&bytes[from..]).trim().to_string()
}

/// Runs `spec`'s command with exactly `env` (on top of nothing) until it exits or
/// `deadline` passes.
pub(crate) async fn run(
    spec: &ClientSpec,
    env: &[(String, String)],
    deadline: Instant,
) -> Result<Finished, ProcessError> {
    let started = Instant::now();
    let mut cmd = std::process::Command::new("/bin/sh");
    cmd.arg("-c")
        .arg(&spec.command)
        .env_clear()
        .envs(env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0);
    if let Some(dir) = &spec.workdir {
        cmd.current_dir(dir);
    }
    let mut child = cmd.spawn().map_err(|source| ProcessError::Spawn {
        command: spec.command.clone(),
        source,
    })?;
    let out = child.stdout.take().map(|s| read_all(s, cap_stdout));
    let err = child.stderr.take().map(|s| read_all(s, tail_stderr));
    let mut group = Group {
        child,
        reaped: false,
    };
    let status = loop {
        if let Ok(Some(status)) = group.child.try_wait() {
            group.reaped = true;
            break Some(status);
        }
        if Instant::now() >= deadline {
            break None;
        }
        tokio::time::sleep(POLL).await;
    };
    let wall = started.elapsed();
    // Exited or not, nothing it started may outlive the trial.
    drop(group);
    let stdout = match out {
        Some(rx) => drained(rx).await,
        None => Vec::new(),
    };
    let stderr = match err {
        Some(rx) => drained(rx).await,
        None => Vec::new(),
    };
    let stderr_tail = tail(&stderr);
    match status {
        Some(status) => Ok(Finished {
            status,
            stdout: String::from_utf8_lossy(&stdout).into_owned(),
            stderr_tail,
            wall,
        }),
        None => Err(ProcessError::Hung(wall, stderr_tail)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(command: &str) -> ClientSpec {
        ClientSpec {
            name: "t".into(),
            command: command.into(),
            dialects: Vec::new(),
            workdir: None,
            env: Default::default(),
        }
    }

    fn env() -> Vec<(String, String)> {
        vec![("PATH".into(), std::env::var("PATH").unwrap_or_default())]
    }

    fn block<F: std::future::Future>(f: F) -> F::Output {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
            .block_on(f)
    }

    #[test]
    fn output_status_and_environment() {
        let mut e = env();
        e.push(("ONLY_THIS".into(), "yes".into()));
        let f = block(run(
            &spec("echo \"$ONLY_THIS ${HOME:-nohome}\"; echo oops >&2; exit 3"),
            &e,
            Instant::now() + Duration::from_secs(30),
        ))
        .unwrap();
        assert_eq!(f.stdout.trim(), "yes nohome");
        assert_eq!(f.stderr_tail, "oops");
        assert_eq!(f.status.code(), Some(3));
    }

    #[test]
    fn a_hang_is_killed_with_its_children_at_the_deadline() {
        let dir = tempfile::tempdir().unwrap();
        let marker = dir.path().join("child-alive");
        // The background child would write the marker after 3 s unless the group is killed.
        let cmd = format!(
            "(sleep 3; touch {}) & echo started >&2; sleep 30",
            marker.display()
        );
        let e = block(run(
            &spec(&cmd),
            &env(),
            Instant::now() + Duration::from_millis(500),
        ))
        .unwrap_err();
        assert!(matches!(e, ProcessError::Hung(..)), "{e}");
        assert_eq!(e.stderr_tail(), "started");
        std::thread::sleep(Duration::from_millis(3500));
        assert!(!marker.exists(), "a child of the client outlived its trial");
    }

    #[test]
    fn a_missing_directory_is_a_spawn_error() {
        let mut s = spec("true");
        s.workdir = Some("/nonexistent/provcheck-client-dir".into());
        let e = block(run(&s, &env(), Instant::now() + Duration::from_secs(5))).unwrap_err();
        assert!(
            e.to_string().starts_with("could not be started (`true`)"),
            "{e}"
        );
    }
}

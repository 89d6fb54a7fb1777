//! Ending a run early and still reporting it: `--run-deadline` and SIGINT/SIGTERM. Once the
//! run is told to stop, no trial starts, trials in flight are cancelled (their requests and
//! their mocks dropped), and each becomes an error with the reason; the run then returns
//! normally so the reports are written. A second interrupt exits at once: reports are written
//! atomically, so the previous ones are left whole.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;

use crate::outcome::ErrorKind;

/// Why a run stopped early.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum StopReason {
    /// `--run-deadline` passed.
    RunDeadline(Duration),
    /// SIGINT (Ctrl-C).
    Interrupt,
    /// SIGTERM.
    Terminate,
}

impl StopReason {
    /// The error kind of the trials it ends.
    pub(crate) fn kind(self) -> ErrorKind {
        match self {
            StopReason::RunDeadline(_) => ErrorKind::RunDeadline,
            StopReason::Interrupt | StopReason::Terminate => ErrorKind::Interrupted,
        }
    }

    /// The one-line reason on a trial it ended.
    pub(crate) fn message(self) -> String {
        match self {
            StopReason::RunDeadline(d) => {
                format!("the run deadline of {} passed", show_duration(d))
            }
            StopReason::Interrupt | StopReason::Terminate => "interrupted".into(),
        }
    }

    /// The exit code of an interrupted run (128 + the signal's number, as shells report a
    /// process the signal killed); `None` for a run deadline, which exits as any run does.
    pub(crate) fn exit_code(self) -> Option<u8> {
        match self {
            StopReason::RunDeadline(_) => None,
            StopReason::Interrupt => Some(130),
            StopReason::Terminate => Some(143),
        }
    }
}

/// The run's stop signal: set once (the first reason wins), awaited by every trial.
#[derive(Debug)]
pub(crate) struct Stop {
    tx: watch::Sender<Option<StopReason>>,
}

impl Default for Stop {
    fn default() -> Self {
        Stop {
            tx: watch::Sender::new(None),
        }
    }
}

impl Stop {
    /// Tells the run to stop; a later reason does not replace the first.
    pub(crate) fn trigger(&self, reason: StopReason) {
        self.tx.send_if_modified(|cur| {
            if cur.is_some() {
                return false;
            }
            *cur = Some(reason);
            true
        });
    }

    /// Why the run stopped, if it did.
    pub(crate) fn reason(&self) -> Option<StopReason> {
        *self.tx.borrow()
    }

    /// Resolves when the run is told to stop, with the reason.
    pub(crate) async fn stopped(&self) -> StopReason {
        let mut rx = self.tx.subscribe();
        match rx.wait_for(Option::is_some).await {
            Ok(r) => r.unwrap_or(StopReason::Interrupt),
            // The sender lives in `self`, so it cannot be dropped while this waits.
            Err(_) => std::future::pending().await,
        }
    }
}

/// Starts, on the current runtime, the run deadline's timer and the signal handlers: the first
/// SIGINT or SIGTERM stops the run, a second one exits at once.
pub(crate) fn arm(stop: &Arc<Stop>, run_deadline: Option<Duration>) {
    let rt = crate::runtime::runtime();
    let _in_runtime = rt.enter();
    if let Some(d) = run_deadline {
        let stop = stop.clone();
        rt.spawn(async move {
            tokio::time::sleep(d).await;
            stop.trigger(StopReason::RunDeadline(d));
        });
    }
    // Listened for before this returns, so a signal right after the run starts is not lost.
    let Some(mut signals) = Signals::listen() else {
        return;
    };
    let stop = stop.clone();
    rt.spawn(async move {
        let first = signals.next().await;
        eprintln!(
            "\n{}: stopping; the reports will be written (press Ctrl-C again to exit at once)",
            match first {
                StopReason::Terminate => "SIGTERM",
                _ => "interrupted",
            }
        );
        stop.trigger(first);
        let second = signals.next().await;
        std::process::exit(i32::from(second.exit_code().unwrap_or(130)));
    });
}

/// SIGINT and SIGTERM, listened for from creation on: once listened for, they no longer kill
/// the process, so the run can end itself and write its reports.
#[cfg(unix)]
struct Signals {
    int: tokio::signal::unix::Signal,
    term: tokio::signal::unix::Signal,
}

#[cfg(unix)]
impl Signals {
    fn listen() -> Option<Signals> {
        use tokio::signal::unix::{SignalKind, signal};
        Some(Signals {
            int: signal(SignalKind::interrupt()).ok()?,
            term: signal(SignalKind::terminate()).ok()?,
        })
    }

    async fn next(&mut self) -> StopReason {
        tokio::select! {
            _ = self.int.recv() => StopReason::Interrupt,
            _ = self.term.recv() => StopReason::Terminate,
        }
    }
}

#[cfg(not(unix))]
struct Signals;

#[cfg(not(unix))]
impl Signals {
    fn listen() -> Option<Signals> {
        Some(Signals)
    }

    async fn next(&mut self) -> StopReason {
        let _ = tokio::signal::ctrl_c().await;
        StopReason::Interrupt
    }
}

/// Parses a duration as `--run-deadline` takes it: a number with a unit (`ms`, `s`, `m`, `h`),
/// or several (`1m30s`).
pub(crate) fn parse_duration(s: &str) -> Result<Duration, String> {
    let bad = || format!("`{s}` is not a duration: expected e.g. 90s, 10m, 1h30m or 500ms");
    let mut total = Duration::ZERO;
    let mut rest = s.trim();
    if rest.is_empty() {
        return Err(bad());
    }
    while !rest.is_empty() {
        let digits = rest.find(|c: char| !c.is_ascii_digit()).ok_or_else(bad)?;
        if digits == 0 {
            return Err(bad());
        }
        let n: u64 = rest[..digits].parse().map_err(|_| bad())?;
        rest = &rest[digits..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit())
            .unwrap_or(rest.len());
        let unit = match &rest[..unit_len] {
            "ms" => Duration::from_millis(n),
            "s" => Duration::from_secs(n),
            "m" => Duration::from_secs(n.saturating_mul(60)),
            "h" => Duration::from_secs(n.saturating_mul(3600)),
            _ => return Err(bad()),
        };
        total = total.saturating_add(unit);
        rest = &rest[unit_len..];
    }
    if total.is_zero() {
        return Err(bad());
    }
    Ok(total)
}

/// A duration as `parse_duration` reads it back (`1m30s`, `500ms`).
pub(crate) fn show_duration(d: Duration) -> String {
    let ms = d.as_millis();
    if ms % 1000 != 0 {
        return format!("{ms}ms");
    }
    let (h, m, s) = (ms / 3_600_000, ms / 60_000 % 60, ms / 1000 % 60);
    let mut out = String::new();
    for (n, u) in [(h, "h"), (m, "m"), (s, "s")] {
        if n > 0 {
            out.push_str(&format!("{n}{u}"));
        }
    }
    if out.is_empty() { "0s".into() } else { out }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse_and_show_round_trip() {
        assert_eq!(parse_duration("90s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("1h30m"), Ok(Duration::from_secs(5400)));
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        for bad in ["", "10", "s", "1x", "0s", "-1s", "1.5s"] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
        assert_eq!(show_duration(Duration::from_secs(5400)), "1h30m");
        assert_eq!(show_duration(Duration::from_millis(1500)), "1500ms");
    }

    #[test]
    fn the_first_reason_wins_and_waiters_see_it() {
        let stop = Arc::new(Stop::default());
        assert_eq!(stop.reason(), None);
        let waiter = {
            let stop = stop.clone();
            std::thread::spawn(move || crate::runtime::runtime().block_on(stop.stopped()))
        };
        stop.trigger(StopReason::Terminate);
        stop.trigger(StopReason::Interrupt);
        assert_eq!(stop.reason(), Some(StopReason::Terminate));
        assert_eq!(waiter.join().unwrap(), StopReason::Terminate);
        assert_eq!(StopReason::Terminate.exit_code(), Some(143));
        assert_eq!(
            StopReason::RunDeadline(Duration::from_secs(60)).message(),
            "the run deadline of 1m passed"
        );
    }
}

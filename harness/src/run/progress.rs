//! The one-line progress display of a live or record run on a terminal: trials done of the
//! total, failures, requests and output tokens spent at the providers, and the time elapsed,
//! redrawn under the trial lines as each trial finishes. In CI (stdout not a terminal, or `CI`
//! set) and in replay, where a run takes seconds, only the plain trial lines are printed.

use std::time::Duration;

use console::Term;

use crate::outcome::{Mode, Spent};

/// Whether a run shows the progress line: live or record mode, stdout a terminal, and `CI`
/// unset (CI services set it, to any value, and their logs are no terminal to redraw).
pub(crate) fn wanted(mode: Mode, stdout_is_terminal: bool, ci: Option<&str>) -> bool {
    mode != Mode::Replay && stdout_is_terminal && ci.is_none_or(|v| v.is_empty())
}

/// What the line counts so far.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Tally {
    /// Trials finished (run or skipped).
    pub done: usize,
    /// All trials of the run.
    pub total: usize,
    /// Trials that failed or errored.
    pub failed: usize,
    /// Requests and output tokens spent at the providers.
    pub spent: Spent,
}

impl Tally {
    /// Counts one finished trial.
    pub(crate) fn add(&mut self, failed: bool, spent: Option<Spent>) {
        self.done += 1;
        self.failed += usize::from(failed);
        if let Some(s) = spent {
            self.spent.add(s);
        }
    }
}

/// The line, e.g. `[12/304] 1 failed · 37 requests · 1204 output tokens · 0:42 elapsed`.
pub(crate) fn render(t: &Tally, elapsed: Duration) -> String {
    let plural = |n: u64, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
    format!(
        "[{}/{}] {} failed · {} · {} · {} elapsed",
        t.done,
        t.total,
        t.failed,
        plural(t.spent.requests, "request", "requests"),
        plural(t.spent.output_tokens, "output token", "output tokens"),
        clock(elapsed)
    )
}

/// `m:ss`, or `h:mm:ss` from an hour on.
fn clock(d: Duration) -> String {
    let s = d.as_secs();
    match s / 3600 {
        0 => format!("{}:{:02}", s / 60, s % 60),
        h => format!("{h}:{:02}:{:02}", s / 60 % 60, s % 60),
    }
}

/// The progress line on the terminal: drawn below the trial lines, cleared before each new
/// trial line and at the end, so the terminal keeps only the lines.
pub(crate) struct Display {
    term: Term,
}

impl Display {
    /// A display on stdout.
    pub(crate) fn stdout() -> Display {
        Display {
            term: Term::stdout(),
        }
    }

    /// Prints a trial line above the progress line, then redraws it.
    pub(crate) fn line(&self, line: &str, t: &Tally, elapsed: Duration) {
        let _ = self.term.clear_line();
        let _ = self.term.write_line(line);
        self.draw(t, elapsed);
    }

    /// Draws the progress line (no newline), cut to the terminal's width.
    pub(crate) fn draw(&self, t: &Tally, elapsed: Duration) {
        let _ = self.term.clear_line();
        let width = usize::from(self.term.size().1).saturating_sub(1).max(20);
        let _ = self
            .term
            .write_str(&console::truncate_str(&render(t, elapsed), width, "…"));
        let _ = self.term.flush();
    }

    /// Clears the progress line for what follows.
    pub(crate) fn finish(&self) {
        let _ = self.term.clear_line();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_line_shows_only_live_runs_on_a_terminal_outside_ci() {
        assert!(wanted(Mode::Live, true, None));
        assert!(wanted(Mode::Record, true, Some("")));
        // CI, or output that is not a terminal: the plain lines, as before.
        assert!(!wanted(Mode::Live, true, Some("true")));
        assert!(!wanted(Mode::Live, false, None));
        assert!(!wanted(Mode::Record, false, Some("1")));
        // Replay takes seconds: no line.
        assert!(!wanted(Mode::Replay, true, None));
    }

    #[test]
    fn the_line_counts_trials_failures_spend_and_time() {
        let mut t = Tally {
            total: 304,
            ..Tally::default()
        };
        t.add(
            false,
            Some(Spent {
                requests: 3,
                output_tokens: 40,
            }),
        );
        t.add(
            true,
            Some(Spent {
                requests: 1,
                output_tokens: 1,
            }),
        );
        t.add(false, None);
        insta::assert_snapshot!(
            render(&t, Duration::from_secs(42)),
            @"[3/304] 1 failed · 4 requests · 41 output tokens · 0:42 elapsed"
        );
        let one = Tally {
            done: 1,
            total: 1,
            failed: 0,
            spent: Spent {
                requests: 1,
                output_tokens: 1,
            },
        };
        insta::assert_snapshot!(
            render(&one, Duration::from_secs(3723)),
            @"[1/1] 0 failed · 1 request · 1 output token · 1:02:03 elapsed"
        );
    }
}

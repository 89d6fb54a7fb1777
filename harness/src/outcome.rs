//! The result of one trial, as every reporter reads it. Reporters see only this type; they
//! never reach back into the run.

use std::fmt;

use serde::Serialize;

use crate::dialect::DialectKind;
use crate::suite::Priority;

/// Where requests go.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// Recordings served by the local mock (default; no keys, no network).
    Replay,
    /// The targets' real APIs, keys from the environment.
    Live,
}

impl Mode {
    /// The name used on the command line and in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Replay => "replay",
            Mode::Live => "live",
        }
    }
}

/// The four ways a trial can end.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Every expectation and the dialect contract held.
    Pass,
    /// The provider or subject broke an expectation or its dialect's contract.
    Fail,
    /// provcheck could not run the trial (no matching recording, unreadable recording, I/O).
    Error,
    /// Not run, with a reason (no recording, capability not declared, ignored).
    Skip,
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Status::Pass => "pass",
            Status::Fail => "fail",
            Status::Error => "error",
            Status::Skip => "skip",
        })
    }
}

/// One trial's outcome.
#[derive(Debug, Clone, Serialize)]
pub struct Outcome {
    /// `suite::scenario::target`.
    pub trial: String,
    /// Suite name.
    pub suite: String,
    /// Scenario id.
    pub scenario: String,
    /// Scenario title.
    pub title: String,
    /// Category for the audit.
    pub category: String,
    /// Priority for the audit.
    pub priority: Priority,
    /// Tags.
    pub tags: Vec<String>,
    /// Target name.
    pub target: String,
    /// The target's dialect.
    pub dialect: DialectKind,
    /// Concrete models the scenario used on this target.
    pub models: Vec<String>,
    /// Replay or live.
    pub mode: Mode,
    /// How it ended.
    pub status: Status,
    /// One line: the first failure, the error, or the skip reason.
    pub message: Option<String>,
    /// Every finding, each with the location of the expectation it concerns.
    pub details: Vec<String>,
    /// The scenario's `file:line:col`.
    pub location: String,
    /// The recording used, if any.
    pub recording: Option<String>,
    /// The recording's provenance line.
    pub provenance: Option<String>,
    /// Wall-clock time of the trial in milliseconds.
    pub duration_ms: u64,
    /// Requests sent.
    pub requests: u32,
}

//! The words suites, targets and outcomes share: the capabilities a scenario requires and a
//! target declares, a scenario's priority, and what makes a valid name. Below all of them, so
//! none imports another for these words.

use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// A provider feature a scenario needs. A target that does not declare it is skipped.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Deserialize,
    Serialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Capability {
    /// Streamed replies.
    Streaming,
    /// `response_format: json_object` or its equivalent.
    JsonMode,
    /// Output constrained by a JSON Schema.
    JsonSchema,
    /// Function / tool calling.
    Tools,
    /// Several tool calls in one reply.
    ParallelTools,
    /// Ollama's `/api/pull`.
    ModelPull,
    /// Ollama's `/api/tags`, `/api/show`, `/api/ps` and keep_alive.
    ModelManagement,
    /// Images in a message (the `vision` model alias takes them).
    Vision,
}

impl fmt::Display for Capability {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let v = serde_json::to_value(self).unwrap_or(Value::Null);
        f.write_str(v.as_str().unwrap_or("?"))
    }
}

/// Names of targets, scenarios and suites end up in file paths and trial names.
pub(crate) fn valid_name(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-')
}

/// How much a scenario matters to the audit.
#[derive(
    Debug,
    Clone,
    Copy,
    Default,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Deserialize,
    Serialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Priority {
    /// A production outage if broken.
    Critical,
    /// A visible defect if broken.
    High,
    /// The default.
    #[default]
    Medium,
    /// Nice to know.
    Low,
}

impl Priority {
    /// The name used in suites and reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Priority::Critical => "critical",
            Priority::High => "high",
            Priority::Medium => "medium",
            Priority::Low => "low",
        }
    }
}

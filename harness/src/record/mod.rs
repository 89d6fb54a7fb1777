//! Recordings: the file format, loading, matching requests to recorded exchanges, and (record
//! mode) turning live exchanges into redacted recordings.

pub mod format;
pub(crate) mod matching;
pub(crate) mod recorder;
pub mod redact;
pub mod write;

pub use format::{Provenance, Recording, Source};
pub(crate) use recorder::RecordPolicy;

use std::path::{Path, PathBuf};

/// Where the recording of (target, suite, scenario) lives.
pub(crate) fn path_for(fixtures: &Path, target: &str, suite: &str, scenario: &str) -> PathBuf {
    fixtures
        .join(target)
        .join(suite)
        .join(format!("{scenario}.yaml"))
}

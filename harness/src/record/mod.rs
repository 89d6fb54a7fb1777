//! Recordings: the file format, loading, and matching requests to recorded exchanges.

pub mod format;
pub mod matching;
pub mod write;

pub use format::{Provenance, Recording, Source};

use std::path::{Path, PathBuf};

/// Where the recording of (target, suite, scenario) lives.
pub fn path_for(fixtures: &Path, target: &str, suite: &str, scenario: &str) -> PathBuf {
    fixtures
        .join(target)
        .join(suite)
        .join(format!("{scenario}.yaml"))
}

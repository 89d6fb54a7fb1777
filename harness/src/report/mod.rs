//! Reporters. Each reads only the collected [`Outcome`]s (wrapped in a [`RunRecord`] with the
//! run's inputs) and writes one artifact; files are written atomically (temp file, then
//! rename) so a crash never leaves half a report.
//!
//! [`Outcome`]: crate::outcome::Outcome
//! [`RunRecord`]: run_record::RunRecord

pub(crate) mod audit;
mod audit_evidence;
mod audit_na;
pub(crate) mod console;
pub(crate) mod coverage;
pub(crate) mod diff;
pub(crate) mod junit;
pub(crate) mod legacy;
pub(crate) mod markdown;
pub(crate) mod merge;
pub mod run_record;
pub(crate) mod step_summary;
#[cfg(test)]
pub(crate) mod test_support;
pub mod text;

use std::path::{Path, PathBuf};

pub(crate) use crate::fsio::{write_atomic, write_atomic_with};

use run_record::RunRecord;

/// The run record's file name in a reports directory.
pub(crate) const RUN_JSON: &str = "run.json";
/// The JUnit report's file name.
pub(crate) const JUNIT_XML: &str = "junit.xml";
/// The coverage audit's file name.
pub(crate) const AUDIT_MD: &str = "COVERAGE_AUDIT.md";

/// A report that could not be written.
#[derive(Debug, thiserror::Error)]
#[error("cannot write {}: {source}", path.display())]
pub struct WriteError {
    /// The report's path.
    pub path: PathBuf,
    /// Why.
    pub source: std::io::Error,
}

/// Writes run.json, junit.xml and COVERAGE_AUDIT.md for `record` into `dir`, each atomically,
/// and returns their paths. Runs and `merge` share it, so a merged directory looks exactly
/// like a run's.
pub(crate) fn write_all(dir: &Path, record: &RunRecord) -> Result<Vec<PathBuf>, WriteError> {
    let cannot = |path: &Path, source: std::io::Error| WriteError {
        path: path.to_path_buf(),
        source,
    };
    let (run_json, junit_xml, audit_md) =
        (dir.join(RUN_JSON), dir.join(JUNIT_XML), dir.join(AUDIT_MD));
    // The three are independent, so they are rendered and written side by side: on a large
    // run this is most of the time between the last trial and the exit.
    let (json, junit, audit) = std::thread::scope(|scope| {
        // The record is the biggest file by far (every reply's shape): streamed to disk rather
        // than built as one string, so a large run does not hold it twice in memory.
        let json = scope.spawn(|| {
            write_atomic_with(&run_json, |w| record.write_json(w)).map_err(|e| cannot(&run_json, e))
        });
        let junit = scope.spawn(|| {
            write_atomic_with(&junit_xml, |w| junit::write(&record.outcomes, w))
                .map_err(|e| cannot(&junit_xml, e))
        });
        let audit = write_atomic(&audit_md, audit::render(record, None).as_bytes())
            .map_err(|e| cannot(&audit_md, e));
        let join = |h: std::thread::ScopedJoinHandle<'_, Result<(), WriteError>>| {
            h.join().unwrap_or_else(|p| std::panic::resume_unwind(p))
        };
        (join(json), join(junit), audit)
    });
    json?;
    junit?;
    audit?;
    Ok(vec![run_json, junit_xml, audit_md])
}

//! Reporters. Each reads only the collected [`Outcome`]s (wrapped in a [`RunRecord`] with the
//! run's inputs) and writes one artifact; files are written atomically (temp file, then
//! rename) so a crash never leaves half a report.
//!
//! [`Outcome`]: crate::outcome::Outcome
//! [`RunRecord`]: run_record::RunRecord

pub mod audit;
pub mod console;
pub mod coverage;
pub mod diff;
pub mod junit;
pub mod markdown;
pub mod merge;
pub mod run_record;
#[cfg(test)]
pub(crate) mod test_support;

use std::io::Write;
use std::path::{Path, PathBuf};

use run_record::RunRecord;

/// The run record's file name in a reports directory.
pub const RUN_JSON: &str = "run.json";
/// The JUnit report's file name.
pub const JUNIT_XML: &str = "junit.xml";
/// The coverage audit's file name.
pub const AUDIT_MD: &str = "COVERAGE_AUDIT.md";

/// Writes run.json, junit.xml and COVERAGE_AUDIT.md for `record` into `dir`, each atomically,
/// and returns their paths. Runs and `merge` share it, so a merged directory looks exactly
/// like a run's.
pub fn write_all(dir: &Path, record: &RunRecord) -> Result<Vec<PathBuf>, String> {
    let cannot = |path: &Path, e: std::io::Error| format!("cannot write {}: {e}", path.display());
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
        let join = |h: std::thread::ScopedJoinHandle<'_, Result<(), String>>| {
            h.join().unwrap_or_else(|p| std::panic::resume_unwind(p))
        };
        (join(json), join(junit), audit)
    });
    json?;
    junit?;
    audit?;
    Ok(vec![run_json, junit_xml, audit_md])
}

/// Writes `bytes` to `path` via a temporary file in the same directory and a rename.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    write_atomic_with(path, |w| w.write_all(bytes))
}

/// Like [`write_atomic`], with the content produced by `fill` into a buffered writer.
pub fn write_atomic_with(
    path: &Path,
    fill: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> std::io::Result<()> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("report");
    let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let result = (|| {
        let mut w = std::io::BufWriter::new(std::fs::File::create(&tmp)?);
        fill(&mut w)?;
        // Flushed and renamed, not fsynced: the rename is what keeps a reader from seeing a
        // half-written report if provcheck dies; surviving a power cut is not a report's job,
        // and three fsyncs were a tenth of a large run's wall time.
        w.flush()?;
        drop(w);
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atomic_write_replaces_and_leaves_no_temp() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("sub/r.xml");
        write_atomic(&p, b"one").unwrap();
        write_atomic(&p, b"two").unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"two");
        let names: Vec<_> = std::fs::read_dir(p.parent().unwrap())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names.len(), 1);
    }
}

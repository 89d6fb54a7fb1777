//! GitHub's step summary: when `GITHUB_STEP_SUMMARY` names a file, a run (or a merge of CI
//! shards) appends the audit's summary and ranked gaps to it, so a pull request shows them
//! without anyone downloading the artifacts. The file is shared by every step of the job, so
//! it is appended to, never truncated.

use std::io::Write;
use std::path::{Path, PathBuf};

use super::WriteError;
use super::audit::render_summary_and_gaps;
use super::run_record::RunRecord;

/// The variable GitHub Actions sets to the job's summary file.
pub(crate) const ENV: &str = "GITHUB_STEP_SUMMARY";

/// Appends the summary of `record` to `path`, creating the file if needed.
pub(crate) fn append(path: &Path, record: &RunRecord) -> Result<(), WriteError> {
    let text = render_summary_and_gaps(record);
    let cannot = |source| WriteError {
        path: path.to_path_buf(),
        source,
    };
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .create(true)
        .open(path)
        .map_err(cannot)?;
    // One write of the whole text, after a blank line so it never runs into what an earlier
    // step left without a final newline.
    f.write_all(format!("\n{text}").as_bytes()).map_err(cannot)
}

/// Appends the summary of `record` to the file [`ENV`] names, if it names one; returns it.
pub(crate) fn append_if_requested(record: &RunRecord) -> Result<Option<PathBuf>, WriteError> {
    match std::env::var_os(ENV).filter(|v| !v.is_empty()) {
        Some(path) => {
            let path = PathBuf::from(path);
            append(&path, record).map(|()| Some(path))
        }
        None => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outcome::Status;
    use crate::report::test_support::{outcome, record};
    use crate::suite::Priority;

    fn sample() -> RunRecord {
        record(vec![
            outcome("s::a::openai", Priority::Critical, Status::Pass, None),
            outcome(
                "s::b::openai",
                Priority::High,
                Status::Fail,
                Some("expect.status: expected 200, got 500"),
            ),
        ])
    }

    #[test]
    fn appends_after_what_is_there_and_again_on_the_next_run() {
        let record = sample();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("summary.md");
        std::fs::write(&path, "# an earlier step\nits table").unwrap();
        append(&path, &record).unwrap();
        append(&path, &record).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        let one = render_summary_and_gaps(&record);
        assert_eq!(text, format!("# an earlier step\nits table\n{one}\n{one}"));
        assert!(one.contains("## Summary\n"), "{one}");
        assert!(one.contains("## Gaps, ranked\n"), "{one}");
        assert!(
            one.contains("Title of b"),
            "the failing scenario is a gap: {one}"
        );
    }

    #[test]
    fn an_unwritable_summary_file_is_an_error_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        let e = append(dir.path(), &sample()).unwrap_err();
        assert_eq!(e.path, dir.path());
    }
}

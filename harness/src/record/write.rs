//! Writing recording files: YAML, atomically, never over an existing file unless asked.

use std::path::Path;

use super::format::RecordingFile;

/// Serializes a recording to YAML with a short header comment.
pub fn to_yaml(rec: &RecordingFile) -> Result<String, serde_norway::Error> {
    let body = serde_norway::to_string(rec)?;
    Ok(format!(
        "# provcheck recording; see docs/SUITES.md#recordings\n{body}"
    ))
}

/// Writes `rec` to `path` (creating directories). Refuses to replace a file unless
/// `overwrite` is set, so a scaffold can never clobber a hand-written recording.
pub fn write(path: &Path, rec: &RecordingFile, overwrite: bool) -> Result<(), String> {
    if path.exists() && !overwrite {
        return Err(format!("{} exists; not overwritten", path.display()));
    }
    let text = to_yaml(rec).map_err(|e| format!("cannot serialize {}: {e}", path.display()))?;
    crate::report::write_atomic(path, text.as_bytes())
        .map_err(|e| format!("cannot write {}: {e}", path.display()))
}

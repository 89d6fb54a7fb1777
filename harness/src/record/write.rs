//! Writing recording files: YAML, atomically, never over an existing file unless asked, and
//! never when a secret of the run appears in them.

use std::path::Path;

use sha2::Digest;

use super::format::RecordingFile;
use super::redact::Secrets;

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
    write_checked(path, rec, overwrite, &Secrets::default()).map(|_| ())
}

/// Like [`write`], and refuses a recording in which any of `secrets` appears, naming the
/// variable, never the value; nothing is written then. Returns the SHA-256 of the text
/// written.
pub fn write_checked(
    path: &Path,
    rec: &RecordingFile,
    overwrite: bool,
    secrets: &Secrets,
) -> Result<String, String> {
    if path.exists() && !overwrite {
        return Err(format!("{} exists; not overwritten", path.display()));
    }
    let text = to_yaml(rec).map_err(|e| format!("cannot serialize {}: {e}", path.display()))?;
    // The text as written and every string inside it: YAML may quote, escape or fold a value
    // so that it no longer reads literally in the text, but never inside the parsed strings.
    let found = secrets.find(&text).or_else(|| {
        serde_json::to_value(rec)
            .ok()
            .and_then(|v| secrets.find_in_value(&v))
    });
    if let Some(var) = found {
        return Err(format!(
            "refusing to write {}: it contains the value of {var}; nothing was written (the \
             provider echoed a secret, or a header or field carries one: name it under \
             `redact:` in targets.yaml, see docs/SUITES.md#redaction)",
            path.display()
        ));
    }
    crate::fsio::write_atomic(path, text.as_bytes())
        .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    Ok(sha2::Sha256::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect())
}

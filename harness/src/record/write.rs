//! Writing recording files: JSON (which is YAML), atomically, never over an existing file unless asked, and
//! never when a secret of the run appears in them.

use std::path::{Path, PathBuf};

use sha2::Digest;

use super::format::RecordingFile;
use super::redact::Secrets;

/// The first line of every recording written: editors (yaml-language-server, JetBrains) read
/// the schema from it. Relative to a recording at `fixtures/<target>/<suite>/<scenario>.yaml`,
/// with `fixtures/` beside `schemas/` as in this repository.
pub const SCHEMA_LINE: &str =
    "# yaml-language-server: $schema=../../../schemas/recording.schema.json";

/// Serializes a recording as pretty JSON after the [`SCHEMA_LINE`] comment: YAML, so it stays
/// readable and diffable, and read as JSON, several times faster than YAML, once past the
/// comment (see `parse_json_or_yaml`).
pub fn to_text(rec: &RecordingFile) -> Result<String, serde_json::Error> {
    let json = serde_json::to_string_pretty(rec)?;
    Ok(format!("{SCHEMA_LINE}\n{json}\n"))
}

/// Serializes a recording skeleton to YAML with a short header comment: a skeleton is for a
/// person to fill in, and YAML is what people write.
pub(crate) fn to_yaml(rec: &RecordingFile) -> Result<String, serde_json::Error> {
    let body = crate::source::to_yaml_string(rec)?;
    Ok(format!(
        "{SCHEMA_LINE}\n# provcheck recording; see docs/SUITES.md#recordings\n{body}"
    ))
}

/// Why a recording was not written. Nothing is written in every case.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    /// The recording could not be serialized.
    #[error("cannot serialize {}: {message}", path.display())]
    Serialize {
        /// Where it was to go.
        path: PathBuf,
        /// The serializer's message.
        message: String,
    },
    /// A file is there already and overwriting was not asked for.
    #[error("{} exists; not overwritten", .0.display())]
    Exists(PathBuf),
    /// The recording holds the value of a secret variable (named, never the value).
    #[error(
        "refusing to write {}: it contains the value of {var}; nothing was written (the \
         provider echoed a secret, or a header or field carries one: name it under \
         `redact:` in targets.yaml, see docs/SUITES.md#redaction)",
        path.display()
    )]
    Secret {
        /// Where it was to go.
        path: PathBuf,
        /// The variable whose value it holds.
        var: String,
    },
    /// The filesystem refused.
    #[error("cannot write {}: {source}", path.display())]
    Io {
        /// Where it was to go.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
}

fn serialize_error(path: &Path, e: impl std::fmt::Display) -> WriteError {
    WriteError::Serialize {
        path: path.to_path_buf(),
        message: e.to_string(),
    }
}

/// Writes the skeleton `rec` to `path` as YAML (creating directories). Refuses to replace a
/// file unless `overwrite` is set, so a scaffold can never clobber a hand-written recording.
pub(crate) fn write(path: &Path, rec: &RecordingFile, overwrite: bool) -> Result<(), WriteError> {
    let text = to_yaml(rec).map_err(|e| serialize_error(path, e))?;
    write_text(path, rec, &text, overwrite, &Secrets::default()).map(|_| ())
}

/// Writes the recording `rec` to `path` as JSON, like [`write`], and refuses a recording in
/// which any of `secrets` appears, naming the variable, never the value; nothing is written
/// then. Returns the SHA-256 of the text written.
pub(crate) fn write_checked(
    path: &Path,
    rec: &RecordingFile,
    overwrite: bool,
    secrets: &Secrets,
) -> Result<String, WriteError> {
    let text = to_text(rec).map_err(|e| serialize_error(path, e))?;
    write_text(path, rec, &text, overwrite, secrets)
}

fn write_text(
    path: &Path,
    rec: &RecordingFile,
    text: &str,
    overwrite: bool,
    secrets: &Secrets,
) -> Result<String, WriteError> {
    if path.exists() && !overwrite {
        return Err(WriteError::Exists(path.to_path_buf()));
    }
    // The text as written and every string inside it: JSON and YAML may escape a value so
    // that it no longer reads literally in the text, but never inside the parsed strings.
    let found = secrets.find(text).or_else(|| {
        serde_json::to_value(rec)
            .ok()
            .and_then(|v| secrets.find_in_value(&v))
    });
    if let Some(var) = found {
        return Err(WriteError::Secret {
            path: path.to_path_buf(),
            var: var.to_string(),
        });
    }
    crate::fsio::write_atomic(path, text.as_bytes()).map_err(|source| WriteError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    Ok(sha2::Sha256::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::record::format::Recording;

    fn recording() -> RecordingFile {
        serde_json::from_value(json!({
            "provenance": {"source": "live", "date": "2026-12-02"},
            "exchanges": [{
                "request": {"method": "POST", "path": "/v1/chat/completions",
                    "body": {"messages": [{"role": "user", "content": "Two\nlines"}]}},
                "response": {"status": 200, "headers": {"content-type": "application/json"},
                    "body": {"choices": [{"message": {"content": "A reply\nover\nthree lines"}}]}},
            }],
        }))
        .unwrap()
    }

    #[test]
    fn a_recording_is_written_as_json_and_reads_back() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r.yaml");
        let sha = write_checked(&path, &recording(), false, &Secrets::default()).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        let (first, json) = text.split_once('\n').unwrap();
        assert_eq!(
            first, SCHEMA_LINE,
            "editors find the schema on the first line"
        );
        let as_json: serde_json::Value = serde_json::from_str(json).unwrap();
        let as_yaml: serde_json::Value =
            crate::source::parse_yaml(&"test.yaml".into(), &text).unwrap();
        assert_eq!(
            as_json, as_yaml,
            "the JSON written is also YAML with the same meaning"
        );
        let back = Recording::load(&path).unwrap();
        assert_eq!(back.sha256, sha);
        assert_eq!(
            back.exchanges[0].exchange.response.body,
            recording().exchanges[0].response.body
        );
    }

    #[test]
    fn a_skeleton_is_written_as_yaml_for_a_person_to_fill_in() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r.yaml");
        write(&path, &recording(), false).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        let (first, rest) = text.split_once('\n').unwrap();
        assert_eq!(
            first, SCHEMA_LINE,
            "editors find the schema on the first line"
        );
        assert!(rest.starts_with("# provcheck recording"), "{text}");
        assert!(serde_json::from_str::<serde_json::Value>(&text).is_err());
        assert!(Recording::load(&path).is_ok());
        assert!(
            write(&path, &recording(), false).is_err(),
            "never overwritten"
        );
    }
}

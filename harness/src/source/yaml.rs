//! Reading YAML text into typed values, with errors as located [`Diagnostic`]s.

use std::sync::Arc;

use serde::de::DeserializeOwned;

use super::diagnostic::Diagnostic;
use super::location::Location;

/// Parses YAML into `T`, turning serde_norway's error into a located diagnostic.
pub fn parse_yaml<T: DeserializeOwned>(file: &Arc<str>, source: &str) -> Result<T, Diagnostic> {
    serde_norway::from_str(source).map_err(|e| {
        let (line, col) = e
            .location()
            .map(|l| (l.line() as u32, l.column() as u32))
            .unwrap_or((1, 1));
        let mut msg = e.to_string();
        if let Some(i) = msg.rfind(" at line ")
            && msg[i + 9..]
                .split(" column ")
                .all(|n| n.parse::<u32>().is_ok())
        {
            msg.truncate(i);
        }
        Diagnostic::new(
            msg,
            Location {
                file: file.clone(),
                line: line.max(1),
                col: col.max(1),
            },
            source,
        )
    })
}

/// A syntax error found while indexing spans.
pub fn yaml_error(
    file: &Arc<str>,
    source: &str,
    (msg, line, col): (String, u32, u32),
) -> Diagnostic {
    Diagnostic::new(
        msg,
        Location {
            file: file.clone(),
            line,
            col,
        },
        source,
    )
}

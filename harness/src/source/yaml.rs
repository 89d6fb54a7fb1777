//! Reading YAML text into typed values, with errors as located [`Diagnostic`]s.
//!
//! serde_norway reads YAML, with a recursion limit and a limit on how often an alias may be
//! repeated, so neither deep nesting nor an alias bomb can exhaust the stack or memory.
//! Machine-written files are JSON, which is YAML too; serde_json reads those first.

use std::sync::Arc;

use serde::de::DeserializeOwned;

use super::diagnostic::Diagnostic;
use super::location::Location;

/// Parses YAML into `T`, turning serde_norway's error into a located diagnostic.
pub(crate) fn parse_yaml<T: DeserializeOwned>(
    file: &Arc<str>,
    source: &str,
) -> Result<T, Diagnostic> {
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

/// Parses a document that is usually JSON (what the recorder writes) and may be YAML (what a
/// person writes). JSON goes to serde_json; YAML, and JSON that serde_json refuses, go to
/// [`parse_yaml`], so every error reads and is located the same way whatever the syntax.
pub(crate) fn parse_json_or_yaml<T: DeserializeOwned>(
    file: &Arc<str>,
    source: &str,
) -> Result<T, Diagnostic> {
    if source.trim_start().starts_with('{')
        && let Ok(parsed) = serde_json::from_str(source)
    {
        return Ok(parsed);
    }
    parse_yaml(file, source)
}

/// A syntax error found while indexing spans.
pub(crate) fn yaml_error(
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

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use serde::Deserialize;
    use serde_json::Value;

    use super::*;

    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(deny_unknown_fields)]
    struct Doc {
        name: String,
        #[serde(default)]
        items: Vec<Value>,
    }

    fn file() -> Arc<str> {
        "f.yaml".into()
    }

    #[test]
    fn json_and_yaml_read_the_same() {
        let json = "{\n  \"name\": \"a\",\n  \"items\": [1, \"two\\nlines\"]\n}\n";
        let yaml = "name: a\nitems:\n  - 1\n  - |-\n    two\n    lines\n";
        let a: Doc = parse_json_or_yaml(&file(), json).unwrap();
        let b: Doc = parse_json_or_yaml(&file(), yaml).unwrap();
        assert_eq!(a, b);
        assert_eq!(a.items[1], Value::String("two\nlines".into()));
    }

    #[test]
    fn a_json_error_is_located_as_yaml_would_locate_it() {
        // serde_json refuses it; serde_norway's message and position are what the user sees.
        let json = "{\n  \"name\": \"a\",\n  \"colour\": 1\n}\n";
        let d = parse_json_or_yaml::<Doc>(&file(), json).unwrap_err();
        assert!(d.message.contains("unknown field `colour`"), "{d:?}");
        assert_eq!(d.location.to_string(), "f.yaml:3:3");
        assert_eq!(d.source_line.as_deref(), Some("  \"colour\": 1"));
    }

    #[test]
    fn an_alias_bomb_is_refused_not_expanded() {
        // Nine levels of ten aliases each: a billion strings if expanded.
        let mut yaml = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..10 {
            let refs = vec![format!("*a{}", i - 1); 10].join(", ");
            yaml.push_str(&format!("a{i}: &a{i} [{refs}]\n"));
        }
        let started = std::time::Instant::now();
        let d = parse_yaml::<BTreeMap<String, Value>>(&file(), &yaml).unwrap_err();
        assert!(d.message.contains("repetition limit exceeded"), "{d:?}");
        assert!(started.elapsed() < std::time::Duration::from_secs(5));
    }

    #[test]
    fn deep_nesting_is_refused_not_a_stack_overflow() {
        let deep = format!("{}{}", "[".repeat(1_000), "]".repeat(1_000));
        let d = parse_json_or_yaml::<Value>(&file(), &deep).unwrap_err();
        assert!(d.message.contains("recursion limit exceeded"), "{d:?}");
        let deep_json = format!("{{\"a\": {}1{}}}", "[".repeat(1_000), "]".repeat(1_000));
        let d = parse_json_or_yaml::<Value>(&file(), &deep_json).unwrap_err();
        assert!(d.message.contains("recursion limit exceeded"), "{d:?}");
        let block: String = (0..200)
            .map(|i| format!("{}k:\n", "  ".repeat(i)))
            .collect();
        let d = parse_yaml::<Value>(&file(), &block).unwrap_err();
        assert!(d.message.contains("recursion limit exceeded"), "{d:?}");
    }

    #[test]
    fn a_syntax_error_points_at_its_line_and_column() {
        let d = parse_yaml::<Doc>(&file(), "name: \"a\nitems: []\n").unwrap_err();
        assert!(
            d.message.contains("found unexpected end of stream"),
            "{d:?}"
        );
        assert_eq!(d.location.to_string(), "f.yaml:2:10");
    }
}

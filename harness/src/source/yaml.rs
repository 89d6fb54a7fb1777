//! Reading YAML text into typed values, with errors as located [`Diagnostic`]s.
//!
//! One reader: saphyr-parser parses the text once into events ([`super::events`]); serde
//! reads the typed value from them ([`super::de`]) and the span index is built from the same
//! events. Nesting, alias expansion and the size of a file are bounded (see
//! [`MAX_SOURCE_BYTES`], [`super::events::MAX_DEPTH`], [`super::de::EXPANSION_FACTOR`]), so no
//! file can exhaust the stack or memory. Machine-written files are JSON, which is YAML too;
//! serde_json reads those first.

use std::io::Read;
use std::path::Path;
use std::sync::Arc;

use serde::de::DeserializeOwned;

use super::de;
use super::diagnostic::Diagnostic;
use super::events::{self, YamlError};
use super::location::{Location, SpanIndex};

/// The largest suite, recording or targets file read, in bytes (64 MiB). A recording of a
/// long stream is a few MB; anything past this is refused before it is read, so a huge or
/// endless file (`/dev/zero`) cannot exhaust memory.
pub(crate) const MAX_SOURCE_BYTES: u64 = 64 * 1024 * 1024;

/// Reads a source file as UTF-8, refusing one over [`MAX_SOURCE_BYTES`] before reading it.
/// `what` names the file in the message (`cannot read suite: ...`).
pub(crate) fn read_source(path: &Path, file: &Arc<str>, what: &str) -> Result<String, Diagnostic> {
    let at = || Location {
        file: file.clone(),
        line: 1,
        col: 1,
    };
    let fail = |e: std::io::Error| Diagnostic::new(format!("cannot read {what}: {e}"), at(), "");
    let too_big = |len: u64| {
        Diagnostic::new(
            format!(
                "{what} is {:.1} MiB, over the {} MiB limit",
                len as f64 / (1024.0 * 1024.0),
                MAX_SOURCE_BYTES / (1024 * 1024)
            ),
            at(),
            "",
        )
    };
    let f = std::fs::File::open(path).map_err(fail)?;
    let len = f.metadata().map_err(fail)?.len();
    if len > MAX_SOURCE_BYTES {
        return Err(too_big(len));
    }
    // A file that grows while read, or a device that reports no size, stops at the limit too.
    let mut text = String::with_capacity(len as usize);
    let read = f
        .take(MAX_SOURCE_BYTES + 1)
        .read_to_string(&mut text)
        .map_err(fail)?;
    if read as u64 > MAX_SOURCE_BYTES {
        return Err(too_big(read as u64));
    }
    Ok(text)
}

/// Parses YAML into `T`; any problem comes back located.
pub fn parse_yaml<T: DeserializeOwned>(file: &Arc<str>, source: &str) -> Result<T, Diagnostic> {
    let doc = events::parse(source).map_err(|e| yaml_error(file, source, e))?;
    read_doc(file, source, &doc)
}

/// Parses YAML into `T` and indexes the position of every node, in one pass over the text.
pub(crate) fn parse_yaml_indexed<T: DeserializeOwned>(
    file: &Arc<str>,
    source: &str,
) -> Result<(T, SpanIndex), Diagnostic> {
    let doc = events::parse(source).map_err(|e| yaml_error(file, source, e))?;
    let value = read_doc(file, source, &doc)?;
    Ok((value, SpanIndex::from_doc(file.clone(), &doc)))
}

fn read_doc<T: DeserializeOwned>(
    file: &Arc<str>,
    source: &str,
    doc: &events::Doc<'_>,
) -> Result<T, Diagnostic> {
    de::from_doc(doc).map_err(|e| {
        let (line, col) = e.at.as_ref().map_or((1, 1), |(_, l, c)| (*l, *c));
        Diagnostic::new(
            e.to_string(),
            Location {
                file: file.clone(),
                line,
                col,
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
    let json = after_comments(source);
    if json.trim_start().starts_with('{')
        && let Ok(parsed) = serde_json::from_str(json)
    {
        return Ok(parsed);
    }
    parse_yaml(file, source)
}

/// `source` past its leading `#` comment lines: a recording written as JSON still starts with
/// the `# yaml-language-server: $schema=...` line that points editors at its schema, which
/// YAML reads as a comment and JSON does not read at all.
fn after_comments(source: &str) -> &str {
    let mut rest = source;
    while rest.starts_with('#') {
        rest = rest.split_once('\n').map_or("", |(_, r)| r);
    }
    rest
}

/// A syntax error found while parsing.
pub(crate) fn yaml_error(file: &Arc<str>, source: &str, e: YamlError) -> Diagnostic {
    // The parser stops where a quoted scalar's continuation is under-indented, and points at
    // its opening quote: nearly always a closing quote is missing.
    let help = e
        .msg
        .contains("in quoted scalar")
        .then_some("is the closing quote of this scalar missing?");
    let d = Diagnostic::new(
        e.msg,
        Location {
            file: file.clone(),
            line: e.line,
            col: e.col,
        },
        source,
    );
    match help {
        Some(h) => d.with_help(h),
        None => d,
    }
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
    fn json_after_a_comment_line_is_still_json() {
        let json = "# yaml-language-server: $schema=x.json\n{\n  \"name\": \"a\"\n}\n";
        let a: Doc = parse_json_or_yaml(&file(), json).unwrap();
        assert_eq!(a.name, "a");
        assert_eq!(after_comments(json), "{\n  \"name\": \"a\"\n}\n");
        // An error is still located in the whole file, comment line included.
        let bad = "# c\n{\n  \"name\": \"a\",\n  \"colour\": 1\n}\n";
        let d = parse_json_or_yaml::<Doc>(&file(), bad).unwrap_err();
        assert_eq!(d.location.to_string(), "f.yaml:4:3");
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
        // An unclosed quote is reported at the quote, where the fix goes.
        let d = parse_yaml::<Doc>(&file(), "name: \"a\nitems: []\n").unwrap_err();
        assert!(d.message.contains("quoted scalar"), "{d:?}");
        assert_eq!(d.location.to_string(), "f.yaml:1:7");
        assert!(
            d.help.as_deref().unwrap().contains("closing quote"),
            "{d:?}"
        );
        let d = parse_yaml::<Doc>(&file(), "a: [1, 2\nb: 3\n").unwrap_err();
        assert_eq!(d.location.line, 2, "{d:?}");
    }
}

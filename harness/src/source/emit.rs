//! Writing values as block YAML, for the files people are meant to edit (recording
//! skeletons). Machine-made files are JSON; this writer only has to be correct and readable,
//! not fast: a string is written plain when it would read back as the same string, and
//! double-quoted (JSON escapes are valid YAML) otherwise.

use serde::Serialize;
use serde_json::Value;

use super::de::reads_as_plain_string;

/// `value` as a block YAML document (ending in a newline).
pub fn to_yaml_string<T: Serialize>(value: &T) -> Result<String, serde_json::Error> {
    let value = serde_json::to_value(value)?;
    let mut out = String::new();
    match &value {
        Value::Object(m) if !m.is_empty() => mapping(&mut out, m, 0),
        Value::Array(a) if !a.is_empty() => sequence(&mut out, a, 0),
        v => {
            scalar(&mut out, v, 0);
            out.push('\n');
        }
    }
    Ok(out)
}

fn indent(out: &mut String, n: usize) {
    out.extend(std::iter::repeat_n(' ', n));
}

fn mapping(out: &mut String, m: &serde_json::Map<String, Value>, at: usize) {
    for (i, (k, v)) in m.iter().enumerate() {
        // The first entry of a mapping inside a sequence item follows its `- `.
        if i > 0 {
            indent(out, at);
        }
        string(out, k, None);
        out.push(':');
        value_after(out, v, at);
    }
}

fn sequence(out: &mut String, a: &[Value], at: usize) {
    for (i, v) in a.iter().enumerate() {
        if i > 0 {
            indent(out, at);
        }
        out.push_str("- ");
        match v {
            Value::Object(m) if !m.is_empty() => mapping(out, m, at + 2),
            Value::Array(a) if !a.is_empty() => sequence(out, a, at + 2),
            v => {
                scalar(out, v, at + 2);
                out.push('\n');
            }
        }
    }
}

/// A mapping's value, after its `key:`: nested collections on the next lines.
fn value_after(out: &mut String, v: &Value, at: usize) {
    match v {
        Value::Object(m) if !m.is_empty() => {
            out.push('\n');
            indent(out, at + 2);
            mapping(out, m, at + 2);
        }
        Value::Array(a) if !a.is_empty() => {
            out.push('\n');
            indent(out, at + 2);
            sequence(out, a, at + 2);
        }
        v => {
            out.push(' ');
            scalar(out, v, at + 2);
            out.push('\n');
        }
    }
}

/// A scalar; a multi-line string becomes a literal block indented to `block_at`.
fn scalar(out: &mut String, v: &Value, block_at: usize) {
    match v {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => out.push_str(&n.to_string()),
        Value::String(s) => string(out, s, Some(block_at)),
        Value::Array(_) => out.push_str("[]"),
        Value::Object(_) => out.push_str("{}"),
    }
}

fn string(out: &mut String, s: &str, block_at: Option<usize>) {
    if is_plain_safe(s) {
        out.push_str(s);
    } else if let Some(at) = block_at.filter(|_| is_block_safe(s)) {
        let body = s.trim_end_matches('\n');
        out.push_str(match s.len() - body.len() {
            0 => "|-",
            1 => "|",
            _ => "|+",
        });
        for line in s.split_terminator('\n') {
            out.push('\n');
            if !line.is_empty() {
                indent(out, at);
                out.push_str(line);
            }
        }
    } else {
        out.push_str(&Value::String(s.to_string()).to_string());
    }
}

/// True when `s` reads back the same as a literal block: several lines, the first not
/// indented (the block's indentation is taken from it), no control character but newlines.
fn is_block_safe(s: &str) -> bool {
    s.contains('\n')
        && !s.starts_with([' ', '\n'])
        && s.chars().all(|c| c == '\n' || !c.is_control())
}

/// True when `s` written plain reads back as the string `s`: no indicator, comment or
/// mapping syntax, no surrounding space, and not a null, bool or number.
fn is_plain_safe(s: &str) -> bool {
    let Some(first) = s.chars().next() else {
        return false;
    };
    let last = s.chars().next_back().unwrap_or(first);
    first.is_alphanumeric()
        && !last.is_whitespace()
        && !s.contains(": ")
        && !s.contains(" #")
        && !s.ends_with(':')
        && s.chars().all(|c| {
            !c.is_control() && !matches!(c, '{' | '}' | '[' | ']' | ',' | '"' | '\'' | '`')
        })
        && reads_as_plain_string(s)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::super::{de, events};
    use super::*;

    fn round_trip(v: &Value) {
        let text = to_yaml_string(v).unwrap();
        let back: Value = de::from_doc(&events::parse(&text).unwrap()).unwrap();
        assert_eq!(&back, v, "{text}");
    }

    #[test]
    fn what_is_written_reads_back_the_same() {
        round_trip(&json!({
            "source": "authored",
            "exchanges": [
                {"request": {"method": "POST", "body": {"model": "m", "n": 1, "x": null}},
                 "response": {"status": 200, "headers": {}, "body": "line one\nline two: x"}},
                {"block": "a\n  b\n\nc\n", "kept": "x\n\n\n", "lead": " y\nz", "tab": "p\tq\nr"},
                {"tags": [], "nested": [[1, 2], ["yes", "012", "true", "1.5", "", " pad", "a #b", "-x", "k: v"]]}
            ],
            "unicode": "café ✓",
            "quote": "say \"hi\"",
        }));
        round_trip(&json!([1, "two", {"a": [true]}]));
        round_trip(&json!("just a string"));
    }

    #[test]
    fn plain_strings_stay_plain() {
        let text =
            to_yaml_string(&json!({"model": "gpt-4o-mini", "yes": "yes", "n": "7"})).unwrap();
        assert_eq!(text, "model: gpt-4o-mini\nn: \"7\"\nyes: yes\n");
    }
}

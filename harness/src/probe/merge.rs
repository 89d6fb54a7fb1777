//! Merging a proposed entry into an existing targets.yaml as text, so every comment and
//! every other entry stays as written: the entry replaces one of the same name, or is added
//! at the end of the `targets:` mapping (which is created when the file has none). Where the
//! mapping starts and its entries begin comes from the YAML parser's events; only line
//! boundaries are edited.

use crate::source::events::{self, Kind};

/// Why an entry cannot be merged.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum MergeError {
    /// The file is not YAML.
    #[error("line {line}, column {col}: {msg}")]
    Yaml {
        /// The problem.
        msg: String,
        /// 1-based line.
        line: u32,
        /// 1-based column.
        col: u32,
    },
    /// `targets:` is written in a form the merge does not edit.
    #[error(
        "line {0}: `targets:` is a flow mapping with entries; write it as a block mapping, or add the entry by hand"
    )]
    FlowTargets(u32),
    /// The document is not a mapping.
    #[error("the file is not a mapping of `targets:` and other keys")]
    NotAMapping,
}

/// `source` with `entry` (rendered by `entry::render`, two-space indented) merged in as the
/// target `name`.
pub(super) fn merge(source: &str, name: &str, entry: &str) -> Result<String, MergeError> {
    let doc = events::parse(source).map_err(|e| MergeError::Yaml {
        msg: e.msg,
        line: e.line,
        col: e.col,
    })?;
    let ev = &doc.events;
    let lines: Vec<&str> = source.split_inclusive('\n').collect();
    let mut out: Vec<String> = lines.iter().map(|l| l.to_string()).collect();
    if let Some(last) = out.last_mut()
        && !last.ends_with('\n')
    {
        last.push('\n');
    }
    let top_map = match ev.first().map(|e| &e.kind) {
        Some(Kind::MapStart { end, .. }) => Some(*end),
        // An empty or comment-only file.
        Some(Kind::Scalar { value, .. }) if value.is_empty() => None,
        _ => return Err(MergeError::NotAMapping),
    };
    let Some(top_end) = top_map else {
        out.push(format!("targets:\n{entry}"));
        return Ok(out.concat());
    };
    // The top-level keys: where `targets` is, and the line of the key after it.
    let mut i = 1;
    let mut targets_at = None;
    let mut next_top_line = None;
    while i < top_end {
        let key_line = ev[i].line;
        let is_targets = matches!(&ev[i].kind, Kind::Scalar { value, .. } if value == "targets");
        if targets_at.is_some() && next_top_line.is_none() {
            next_top_line = Some(key_line);
        }
        if is_targets {
            targets_at = Some(i + 1);
        }
        i = doc.skip(i + 1);
    }
    let Some(v) = targets_at else {
        if out.last().is_some_and(|l| !l.trim().is_empty()) {
            out.push("\n".into());
        }
        out.push(format!("targets:\n{entry}"));
        return Ok(out.concat());
    };
    // Where the `targets:` section ends: before the next top-level key and the comments and
    // blank lines that lead into it (they belong to that key), or at the end of the file.
    let mut section_end = next_top_line.map_or(out.len(), |l| l as usize - 1);
    while section_end > 0 && leads_into_next(&out[section_end - 1]) {
        section_end -= 1;
    }
    match &ev[v].kind {
        Kind::MapStart { end, .. } if opens_flow(&lines, ev[v].line, ev[v].col) => {
            if *end != v + 1 {
                return Err(MergeError::FlowTargets(ev[v].line));
            }
            // `targets: {}`: the braces go, the entry follows.
            let at = ev[v].line as usize - 1;
            out[at] = replace_braces(&out[at], ev[v].col);
            out.insert(at + 1, entry.to_string());
            Ok(out.concat())
        }
        Kind::MapStart { end, .. } => {
            let mut k = v + 1;
            while k < *end {
                let is_name = matches!(&ev[k].kind, Kind::Scalar { value, .. } if value == name);
                let next = doc.skip(k + 1);
                if is_name {
                    let from = ev[k].line as usize - 1;
                    let to = if next < *end {
                        ev[next].line as usize - 1
                    } else {
                        section_end
                    };
                    let from = swallow_probe_header(&out, from);
                    let to = back_over_sibling_comments(&out, from, to);
                    out.splice(from..to, [entry.to_string()]);
                    return Ok(out.concat());
                }
                k = next;
            }
            out.insert(section_end, entry.to_string());
            Ok(out.concat())
        }
        // `targets:` with no value (null): the entry becomes its value.
        Kind::Scalar { value, .. } if value.is_empty() || value == "~" || value == "null" => {
            let at = ev[v - 1].line as usize - 1;
            out[at] = "targets:\n".into();
            out.insert(at + 1, entry.to_string());
            Ok(out.concat())
        }
        _ => Err(MergeError::NotAMapping),
    }
}

/// A blank line or a comment at column 0: what precedes the next top-level key.
fn leads_into_next(line: &str) -> bool {
    line.trim().is_empty() || line.starts_with('#')
}

/// Whether the node at (line, col) starts with `{`.
fn opens_flow(lines: &[&str], line: u32, col: u32) -> bool {
    lines
        .get(line as usize - 1)
        .and_then(|l| l.chars().nth(col as usize - 1))
        == Some('{')
}

/// The line with the `{}` at `col` removed, keeping a comment after it.
fn replace_braces(line: &str, col: u32) -> String {
    let chars: Vec<char> = line.chars().collect();
    let start = col as usize - 1;
    let close = chars[start..]
        .iter()
        .position(|c| *c == '}')
        .map_or(chars.len(), |p| start + p + 1);
    let before: String = chars[..start].iter().collect();
    let after: String = chars[close..].iter().collect();
    format!("{}{}", before.trim_end(), after.trim_end_matches('\n'))
        .trim_end()
        .to_string()
        + "\n"
}

/// An entry written by an earlier probe starts at its header comment.
fn swallow_probe_header(out: &[String], from: usize) -> usize {
    if from > 0
        && out[from - 1]
            .trim_start()
            .starts_with("# Written by `provcheck probe")
    {
        from - 1
    } else {
        from
    }
}

/// The comment lines just before the next sibling belong to it, not to the replaced entry.
fn back_over_sibling_comments(out: &[String], from: usize, mut to: usize) -> usize {
    while to > from + 1 && out[to - 1].trim_start().starts_with('#') {
        let indent = out[to - 1].len() - out[to - 1].trim_start().len();
        let entry_indent = out[from].len() - out[from].trim_start().len();
        if indent > entry_indent {
            break;
        }
        to -= 1;
    }
    to
}

#[cfg(test)]
mod tests {
    use super::*;

    const ENTRY: &str =
        "  # Written by `provcheck probe http://h`: x\n  mine:\n    dialect: openai  # why\n";

    #[test]
    fn an_empty_flow_mapping_takes_the_entry_and_the_rest_stays() {
        let src = "# head\ntargets: {}  # none yet\n\n# clients\nclients:\n  a:\n    command: x\n";
        let got = merge(src, "mine", ENTRY).unwrap();
        assert_eq!(
            got,
            format!(
                "# head\ntargets:  # none yet\n{ENTRY}\n# clients\nclients:\n  a:\n    command: x\n"
            )
        );
    }

    #[test]
    fn a_block_mapping_gets_the_entry_at_its_end_before_the_next_sections_comments() {
        let src =
            "targets:\n  # the old one\n  old:\n    dialect: ollama\n\n# clients\nclients: {}\n";
        let got = merge(src, "mine", ENTRY).unwrap();
        assert_eq!(
            got,
            format!(
                "targets:\n  # the old one\n  old:\n    dialect: ollama\n{ENTRY}\n# clients\nclients: {{}}\n"
            )
        );
    }

    #[test]
    fn an_entry_of_the_same_name_is_replaced_and_its_neighbours_keep_their_comments() {
        let src = "targets:\n  # Written by `provcheck probe http://old`: x\n  mine:\n    dialect: ollama  # old\n  # the next one\n  next:\n    dialect: openai\n";
        let got = merge(src, "mine", ENTRY).unwrap();
        assert_eq!(
            got,
            format!("targets:\n{ENTRY}  # the next one\n  next:\n    dialect: openai\n")
        );
        // Replacing again gives the same file.
        assert_eq!(merge(&got, "mine", ENTRY).unwrap(), got);
    }

    #[test]
    fn files_without_targets_get_the_section() {
        assert_eq!(
            merge("", "mine", ENTRY).unwrap(),
            format!("targets:\n{ENTRY}")
        );
        assert_eq!(
            merge("# only a comment\n", "mine", ENTRY).unwrap(),
            format!("# only a comment\ntargets:\n{ENTRY}")
        );
        assert_eq!(
            merge("clients: {}", "mine", ENTRY).unwrap(),
            format!("clients: {{}}\n\ntargets:\n{ENTRY}")
        );
        assert_eq!(
            merge("targets:\n", "mine", ENTRY).unwrap(),
            format!("targets:\n{ENTRY}")
        );
    }

    #[test]
    fn what_cannot_be_merged_says_where() {
        let e = merge("targets: {a: {dialect: openai}}\n", "mine", ENTRY).unwrap_err();
        assert_eq!(e, MergeError::FlowTargets(1));
        assert!(matches!(
            merge("targets: [\n", "mine", ENTRY),
            Err(MergeError::Yaml { .. })
        ));
        assert_eq!(
            merge("- a\n", "mine", ENTRY).unwrap_err(),
            MergeError::NotAMapping
        );
    }
}

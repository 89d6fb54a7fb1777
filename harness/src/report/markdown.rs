//! Markdown that renders the same on GitHub as it reads in a terminal: escaped table cells and
//! small table builders shared by the audit and the drift report.

/// Escapes text for Markdown prose or a table cell: `|` would end a cell, `<` would start an
/// HTML tag GitHub swallows (`<redacted>`), and a line break would end the table row.
pub(crate) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '|' => out.push_str("\\|"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\r' => {}
            '\n' => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// Escapes and shortens text for a table cell, keeping it to one line of at most `max`
/// characters; the full text lives in run.json.
pub(crate) fn cell(text: &str, max: usize) -> String {
    let one_line = text.lines().map(str::trim).collect::<Vec<_>>().join(" ");
    let short: String = if one_line.chars().count() > max {
        let mut s: String = one_line.chars().take(max.saturating_sub(1)).collect();
        s.push('…');
        s
    } else {
        one_line
    };
    escape(&short)
}

/// Inline code, safe in a table cell. Backquotes inside become quotes: GitHub has no escape
/// for them inside a code span.
pub(crate) fn code(text: &str) -> String {
    format!(
        "`{}`",
        text.replace('`', "'")
            .replace('|', "\\|")
            .replace('\n', " ")
    )
}

/// A table from a header row and body rows whose cells are already escaped.
pub(crate) fn table(header: &[&str], align_right: &[usize], rows: &[Vec<String>]) -> String {
    let mut out = format!("| {} |\n|", header.join(" | "));
    for i in 0..header.len() {
        out.push_str(if align_right.contains(&i) {
            "---:|"
        } else {
            "---|"
        });
    }
    out.push('\n');
    for r in rows {
        out.push_str(&format!("| {} |\n", r.join(" | ")));
    }
    out
}

/// A share as a percentage with one decimal, or "n/a" when nothing was counted.
pub(crate) fn percent(part: u64, whole: u64) -> String {
    if whole == 0 {
        "n/a".into()
    } else {
        format!("{:.1}%", part as f64 * 100.0 / whole as f64)
    }
}

/// "1 trial", "2 trials".
pub(crate) fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_stay_in_their_column() {
        assert_eq!(escape("a|b <redacted>\nc"), "a\\|b &lt;redacted&gt; c");
        assert_eq!(cell("x|y\n  z", 100), "x\\|y z");
        assert_eq!(cell("abcdef", 4), "abc…");
        assert_eq!(code("a`b|c"), "`a'b\\|c`");
        assert_eq!(
            table(&["a", "n"], &[1], &[vec!["x".into(), "1".into()]]),
            "| a | n |\n|---|---:|\n| x | 1 |\n"
        );
        assert_eq!(percent(1, 3), "33.3%");
        assert_eq!(percent(0, 0), "n/a");
    }
}

//! Errors in input files, rendered the way rustc renders them: message, `--> file:line:col`,
//! the source line and a caret under the offending token.

use std::fmt;

use super::location::Location;

/// One problem found in a suite, recording or targets file.
#[derive(Debug, Clone, PartialEq)]
pub struct Diagnostic {
    /// What is wrong, in one line.
    pub message: String,
    /// Where.
    pub location: Location,
    /// An optional hint on how to fix it.
    pub help: Option<String>,
    /// The source line, kept so the diagnostic renders without re-reading the file.
    pub source_line: Option<String>,
}

#[cfg(test)]
impl Diagnostic {
    /// Asserts the message holds `needle`, showing the whole message when it doesn't.
    pub(crate) fn assert_says(&self, needle: &str) {
        assert!(self.message.contains(needle), "{}", self.message);
    }
}

impl Diagnostic {
    /// A diagnostic at `location`; `source` is the file's text, used for the snippet.
    pub fn new(message: impl Into<String>, mut location: Location, source: &str) -> Diagnostic {
        let lines: Vec<&str> = source.lines().collect();
        // An error at end of input points past the last line; show the last line instead,
        // with the caret just after its end, so the reader sees where the file stopped.
        if location.line as usize > lines.len()
            && let Some(last) = lines.last()
        {
            location.line = lines.len() as u32;
            location.col = last.chars().count() as u32 + 1;
        }
        let source_line = lines
            .get(location.line.saturating_sub(1) as usize)
            .map(|l| l.to_string());
        Diagnostic {
            message: message.into(),
            location,
            help: None,
            source_line,
        }
    }

    /// Adds a hint.
    pub fn with_help(mut self, help: impl Into<String>) -> Diagnostic {
        self.help = Some(help.into());
        self
    }

    /// Renders with optional color (red heading, blue gutter) as rustc does.
    pub fn render(&self, color: bool) -> String {
        let style = |s: &str, code: &str| {
            if color {
                format!("\x1b[{code}m{s}\x1b[0m")
            } else {
                s.to_string()
            }
        };
        let line_no = self.location.line.to_string();
        let pad = " ".repeat(line_no.len());
        let mut out = format!(
            "{}{}\n{pad}{} {}\n",
            style("error", "1;31"),
            style(&format!(": {}", self.message), "1"),
            style("-->", "1;34"),
            self.location
        );
        if let Some(src) = &self.source_line {
            let col = self.location.col.saturating_sub(1) as usize;
            let rest: String = src.chars().skip(col).collect();
            let width = token_width(&rest).max(1);
            let indent: String = src
                .chars()
                .take(col)
                .map(|c| if c == '\t' { '\t' } else { ' ' })
                .collect();
            out.push_str(&format!("{pad} {}\n", style("|", "1;34")));
            out.push_str(&format!(
                "{} {} {}\n",
                style(&line_no, "1;34"),
                style("|", "1;34"),
                src
            ));
            out.push_str(&format!(
                "{pad} {} {indent}{}\n",
                style("|", "1;34"),
                style(&"^".repeat(width), "1;31")
            ));
        }
        if let Some(help) = &self.help {
            out.push_str(&format!(
                "{pad} {} {}\n",
                style("=", "1;34"),
                style(&format!("help: {help}"), "1")
            ));
        }
        out
    }
}

/// The width of the token a caret should underline: a key up to its colon, a list dash, or a
/// scalar up to the end of the line.
fn token_width(rest: &str) -> usize {
    if rest.starts_with("- ") {
        return 1;
    }
    let end = rest
        .find(": ")
        .or_else(|| rest.strip_suffix(':').map(str::len))
        .or_else(|| rest.find(" #"))
        .unwrap_or(rest.trim_end().len());
    rest[..end].chars().count()
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.render(false))
    }
}

impl std::error::Error for Diagnostic {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_rustc_style_with_caret_under_key() {
        let src = "a: 1\n  finish_reasn: stop\n";
        let loc = Location {
            file: "s.yaml".into(),
            line: 2,
            col: 3,
        };
        let d = Diagnostic::new("unknown field `finish_reasn`", loc, src)
            .with_help("did you mean `finish_reason`?");
        let text = d.render(false);
        assert_eq!(
            text,
            "error: unknown field `finish_reasn`\n --> s.yaml:2:3\n  |\n2 |   finish_reasn: stop\n  |   ^^^^^^^^^^^^\n  = help: did you mean `finish_reason`?\n"
        );
    }
}

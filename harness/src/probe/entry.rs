//! The targets.yaml entry the probe proposes, as text with a comment on every line saying
//! what the probe saw and which scenarios need it. Only what was seen working is declared;
//! what was not, and the aliases the suites use that the probe could not fill, are comment
//! lines, so a reader knows why a scenario will skip.

use super::caps::Findings;
use super::usage::{Usage, named};
use crate::dialect::DialectKind;

/// What the entry is built from.
pub(super) struct EntryInput<'a> {
    /// The target's name.
    pub name: &'a str,
    /// What was probed, as typed (for the header comment).
    pub url: &'a str,
    /// The key's variable, if one was given.
    pub key_env: Option<&'a str>,
    /// What the probe found.
    pub findings: &'a Findings,
    /// What the suites use for this dialect.
    pub usage: &'a Usage,
}

/// A scalar as YAML reads it back: plain when that is the same string, quoted otherwise.
fn scalar(s: &str) -> String {
    crate::source::to_yaml_string(&s)
        .map(|y| y.trim_end().to_string())
        .unwrap_or_else(|_| format!("{s:?}"))
}

/// One line, no newlines or stray comment marks, short.
fn comment(s: &str) -> String {
    let one: String = s.split_whitespace().collect::<Vec<_>>().join(" ");
    one.chars().take(160).collect()
}

/// The entry, indented to sit under `targets:` (two spaces), ending in a newline.
pub(super) fn render(e: &EntryInput<'_>) -> String {
    let f = e.findings;
    let d = f.found.dialect;
    let mut out = String::new();
    let mut line = |indent: usize, text: String, why: &str| {
        out.push_str(&" ".repeat(indent));
        out.push_str(&text);
        if !why.is_empty() {
            out.push_str("  # ");
            out.push_str(&comment(why));
        }
        out.push('\n');
    };
    line(
        2,
        format!(
            "# Written by `provcheck probe {}`: every declared line was seen working.",
            e.url
        ),
        "",
    );
    line(2, format!("{}:", scalar(e.name)), "");
    line(
        4,
        format!("dialect: {}", d.as_str()),
        &format!(
            "its model listing and a chat kept the {} contract",
            d.as_str()
        ),
    );
    let base_why = match d {
        DialectKind::Openai | DialectKind::OpenaiResponses => "this dialect's base URL ends in /v1",
        DialectKind::Anthropic | DialectKind::Ollama => "this dialect's base URL takes no /v1",
    };
    line(
        4,
        format!("base_url: {}", scalar(&f.found.base_url)),
        base_why,
    );
    if let Some(var) = e.key_env {
        line(
            4,
            format!("key_env: {}", scalar(var)),
            "the key is read from this variable at run time",
        );
    }
    models(&mut line, e);
    capabilities(&mut line, e);
    out
}

fn models(line: &mut impl FnMut(usize, String, &str), e: &EntryInput<'_>) {
    let f = e.findings;
    line(4, "models:".into(), "");
    for (alias, pick) in &f.aliases {
        let users = e
            .usage
            .aliases
            .get(alias)
            .map(|u| named(u))
            .unwrap_or_default();
        let why = if users.is_empty() {
            pick.why.clone()
        } else {
            format!("{}; for {users}", pick.why)
        };
        line(6, format!("{alias}: {}", scalar(&pick.model)), &why);
    }
    for (alias, users) in &e.usage.aliases {
        if !f.aliases.contains_key(alias) {
            line(
                6,
                format!(
                    "# {alias}: not found by the probe; {} skip without it",
                    named(users)
                ),
                "",
            );
        }
    }
}

fn capabilities(line: &mut impl FnMut(usize, String, &str), e: &EntryInput<'_>) {
    let f = e.findings;
    if f.caps.is_empty() {
        line(4, "capabilities: []".into(), "none was seen working");
    } else {
        line(4, "capabilities:".into(), "");
    }
    for (cap, evidence) in &f.caps {
        line(6, format!("- {cap}"), evidence);
    }
    for (cap, why) in &f.lacks {
        let users = e.usage.caps.get(cap).map(|u| named(u)).unwrap_or_default();
        let skip = if users.is_empty() {
            String::new()
        } else {
            format!("; {users} skip")
        };
        line(
            6,
            format!("# not declared: {cap} ({}){skip}", comment(why)),
            "",
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::probe::caps::{Findings, Pick};
    use crate::probe::detect::Found;
    use crate::vocab::Capability;

    fn findings() -> Findings {
        Findings {
            found: Found {
                dialect: DialectKind::Openai,
                base_url: "http://h:1/v1".into(),
                models: vec!["m:1b".into()],
                chat_model: "m:1b".into(),
            },
            caps: [(Capability::Streaming, "9 events".to_string())].into(),
            lacks: [(Capability::Tools, "refused\nwith 400".to_string())].into(),
            aliases: [(
                "small".to_string(),
                Pick {
                    model: "m:1b".into(),
                    why: "answered a chat".into(),
                },
            )]
            .into(),
        }
    }

    #[test]
    fn every_value_line_says_why_and_nothing_unseen_is_declared() {
        let f = findings();
        let usage = Usage {
            aliases: [
                ("small".to_string(), vec!["a::b".to_string()]),
                ("tools".to_string(), vec!["tools::x".to_string()]),
            ]
            .into(),
            caps: [(Capability::Tools, vec!["tools::x".to_string()])].into(),
        };
        let text = render(&EntryInput {
            name: "mine",
            url: "http://h:1",
            key_env: Some("MY_KEY"),
            findings: &f,
            usage: &usage,
        });
        for line in text.lines() {
            let t = line.trim_start();
            let structural = t.ends_with(':') && !t.starts_with('#');
            assert!(
                structural || t.starts_with('#') || t.contains("  # "),
                "no comment on `{line}`:\n{text}"
            );
        }
        assert!(text.contains("    key_env: MY_KEY  # "), "{text}");
        assert!(
            text.contains("      small: m:1b  # answered a chat; for a::b"),
            "{text}"
        );
        assert!(text.contains("      - streaming  # 9 events"), "{text}");
        assert!(!text.contains("- tools"), "{text}");
        assert!(
            text.contains("# not declared: tools (refused with 400); tools::x skip"),
            "{text}"
        );
        assert!(
            text.contains("# tools: not found by the probe; tools::x skip"),
            "{text}"
        );
        // The entry reads back as YAML with the values as written.
        let v: serde_json::Value =
            crate::source::parse_yaml(&"t.yaml".into(), &format!("targets:\n{text}")).unwrap();
        assert_eq!(v["targets"]["mine"]["models"]["small"], "m:1b");
        assert_eq!(
            v["targets"]["mine"]["capabilities"],
            serde_json::json!(["streaming"])
        );
    }
}

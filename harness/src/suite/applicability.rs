//! Where a scenario applies: every dialect, except those whose API does not define the
//! behaviour, each named with the reason (`not_applicable`). The loader checks the reasons;
//! `provcheck lint` refuses a dialect left out without one (the older `dialects:` list).

use super::load::Suite;
use super::model::Scenario;
use crate::dialect::DialectKind;
use crate::source::Diagnostic;
use crate::source::location::SpanIndex;

/// Load-time checks: a reason for every dialect named, not both forms at once, and at least
/// one dialect left to run the scenario.
pub(super) fn check(
    sc: &Scenario,
    base: &str,
    index: &SpanIndex,
    source: &str,
    diags: &mut Vec<Diagnostic>,
) {
    let key = format!("{base}.not_applicable");
    if sc.dialects.is_some() && !sc.not_applicable.is_empty() {
        diags.push(
            Diagnostic::new(
                "`dialects` and `not_applicable` do not go together",
                index.locate(&key),
                source,
            )
            .with_help(
                "drop `dialects`: every dialect that `not_applicable` does not name runs the scenario",
            ),
        );
    }
    for (d, reason) in &sc.not_applicable {
        if reason.trim().is_empty() {
            diags.push(
                Diagnostic::new(
                    format!("`not_applicable.{}` needs a reason", d.as_str()),
                    index.locate_value(&format!("{key}.{}", d.as_str())),
                    source,
                )
                .with_help("say why the API does not define the behaviour, e.g. `the Messages API has no n parameter`"),
            );
        }
    }
    let runs_somewhere = DialectKind::ALL
        .into_iter()
        .any(|d| sc.not_applicable_to(d).is_none());
    if !runs_somewhere {
        let at = if sc.dialects.is_some() {
            index.locate_value(&format!("{base}.dialects"))
        } else {
            index.locate(&key)
        };
        diags.push(Diagnostic::new(
            "the scenario applies to no dialect, so it would never run",
            at,
            source,
        ));
    }
}

/// For `provcheck lint`: every scenario that leaves dialects out with `dialects:`, which gives
/// no reason, located at that key. A report could only say "limited to other dialects".
pub fn unexplained_exclusions(suite: &Suite) -> Vec<Diagnostic> {
    let source = std::fs::read_to_string(&*suite.file).unwrap_or_default();
    let mut out = Vec::new();
    for sc in &suite.scenarios {
        let left_out = sc.unexplained_exclusions();
        if left_out.is_empty() {
            continue;
        }
        let names: Vec<&str> = left_out.iter().map(|d| d.as_str()).collect();
        let example: Vec<String> = names.iter().map(|n| format!("{n}: <why>")).collect();
        let location = sc
            .dialects_location
            .clone()
            .unwrap_or_else(|| sc.location.clone());
        out.push(
            Diagnostic::new(
                format!(
                    "scenario `{}` leaves out {} without a reason",
                    sc.id,
                    names.join(", ")
                ),
                location,
                &source,
            )
            .with_help(format!(
                "replace `dialects:` with `not_applicable: {{ {} }}`, each reason saying why that API does not define the behaviour",
                example.join(", ")
            )),
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::suite::load::{Known, load_suite};

    fn load(scenario_keys: &str) -> Result<Suite, Vec<Diagnostic>> {
        let src = format!(
            "suite: s\ncategory: c\nscenarios:\n  - id: a\n    title: A\n{scenario_keys}    request:\n      messages:\n        - user: hi\n"
        );
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("s.yaml");
        std::fs::write(&p, src).unwrap();
        let known = Known {
            aliases: ["small".to_string()].into(),
            targets: Default::default(),
        };
        load_suite(&p, &known)
    }

    fn at(d: &Diagnostic) -> (u32, u32) {
        (d.location.line, d.location.col)
    }

    #[test]
    fn reasons_load_and_say_why_per_dialect() {
        let s = load("    not_applicable:\n      anthropic: The Messages API has no n.\n").unwrap();
        let sc = &s.scenarios[0];
        assert_eq!(
            sc.not_applicable_to(DialectKind::Anthropic).as_deref(),
            Some("The Messages API has no n.")
        );
        assert_eq!(sc.not_applicable_to(DialectKind::Openai), None);
        assert!(unexplained_exclusions(&s).is_empty());
    }

    #[test]
    fn a_blank_reason_is_refused_at_its_value() {
        let err = load("    not_applicable:\n      anthropic: '  '\n").unwrap_err();
        assert_eq!(err.len(), 1, "{err:?}");
        assert!(
            err[0]
                .message
                .contains("`not_applicable.anthropic` needs a reason")
        );
        assert_eq!(at(&err[0]), (7, 18));
    }

    #[test]
    fn an_unknown_dialect_is_refused_at_its_key() {
        let err = load("    not_applicable:\n      gemini: Not ours.\n").unwrap_err();
        assert!(err[0].message.contains("gemini"), "{}", err[0].message);
        assert!(
            err[0].message.contains("openai-responses"),
            "{}",
            err[0].message
        );
        assert_eq!(err[0].location.line, 7, "{err:?}");
    }

    #[test]
    fn both_forms_at_once_or_no_dialect_left_are_refused() {
        let err = load("    dialects: [openai]\n    not_applicable:\n      anthropic: No.\n")
            .unwrap_err();
        assert!(err[0].message.contains("do not go together"));
        assert_eq!(at(&err[0]), (7, 5));
        let all = "    not_applicable:\n      openai: a\n      anthropic: b\n      ollama: c\n      openai-responses: d\n";
        let err = load(all).unwrap_err();
        assert!(err[0].message.contains("applies to no dialect"), "{err:?}");
        assert_eq!(at(&err[0]), (6, 5));
    }

    #[test]
    fn lint_refuses_dialects_without_reasons_at_the_key() {
        let s = load("    dialects: [openai]\n").unwrap();
        let diags = unexplained_exclusions(&s);
        assert_eq!(diags.len(), 1);
        assert!(
            diags[0]
                .message
                .contains("leaves out anthropic, ollama, openai-responses without a reason"),
            "{}",
            diags[0].message
        );
        assert_eq!(at(&diags[0]), (6, 5));
        assert!(
            diags[0]
                .help
                .as_deref()
                .unwrap()
                .contains("not_applicable: {")
        );
        // The run still skips it, saying that no reason was given.
        assert_eq!(
            s.scenarios[0]
                .not_applicable_to(DialectKind::Ollama)
                .as_deref(),
            Some("scenario limited to openai (no reason given)")
        );
    }
}

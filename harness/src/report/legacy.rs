//! Reading run records of format version 1, whose outcomes carried their skip reason, error
//! and findings as preformatted text (`message`, `details`) and their provenance as a line.
//! The text is parsed back here, once, into the typed fields of the current format; nothing
//! else reads the old layout.

use serde_json::{Value, json};

use crate::outcome::{Finding, FindingKind, Provenance, Skip, SkipKind, Source};

/// Rewrites a version-1 record's outcomes, in place, into the current layout.
pub(crate) fn upgrade_v1(record: &mut Value) {
    let gateway = record.get("gateway").is_some_and(|g| !g.is_null());
    // Once upgraded the data is in the current layout, and says so.
    record["format_version"] = json!(crate::report::run_record::FORMAT_VERSION);
    let Some(outcomes) = record.get_mut("outcomes").and_then(Value::as_array_mut) else {
        return;
    };
    for o in outcomes.iter_mut().filter_map(Value::as_object_mut) {
        let message = o
            .remove("message")
            .and_then(|m| m.as_str().map(str::to_string));
        let details: Vec<String> = o
            .remove("details")
            .and_then(|d| serde_json::from_value(d).ok())
            .unwrap_or_default();
        let location = o
            .get("location")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        let status = o
            .get("status")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        let mut rest: Vec<&String> = Vec::new();
        for d in &details {
            match d.strip_prefix(crate::report::text::NOT_RECORDED) {
                Some(why) => {
                    o.insert("not_recorded".into(), json!(why));
                }
                None => rest.push(d),
            }
        }
        let message = message.unwrap_or_default();
        match status.as_str() {
            "skip" => {
                o.insert("skip".into(), json!(skip_from_reason(&message)));
            }
            "error" => {
                o.insert("error".into(), json!({"kind": "other", "message": message}));
                // A refused recording led the details; the findings follow it.
                if rest.first().is_some_and(|d| **d == message) {
                    rest.remove(0);
                }
            }
            _ => {}
        }
        let mut findings: Vec<Finding> = rest.iter().map(|d| finding_from_line(d)).collect();
        if status == "fail" && findings.is_empty() {
            findings.push(Finding {
                path: String::new(),
                kind: FindingKind::Deadline,
                class: None,
                message,
                location,
            });
        }
        o.insert("findings".into(), json!(findings));
        let provenance = o
            .get("provenance")
            .and_then(Value::as_str)
            .and_then(provenance_from_line);
        o.insert("provenance".into(), json!(provenance));
        let subject = if gateway { "gateway" } else { "provider" };
        o.insert("subject".into(), json!(subject));
    }
}

/// A skip from its version-1 reason, by the prefixes that version wrote.
pub(crate) fn skip_from_reason(reason: &str) -> Skip {
    let after = |p: &str| reason.strip_prefix(p).map(str::to_string);
    if let Some(d) = after("no key: ") {
        return Skip::new(SkipKind::NoKey, d);
    }
    if let Some(d) = after("no recording at ") {
        return Skip::new(SkipKind::NotRecorded, d);
    }
    if let Some(rest) = reason.strip_prefix("capability `")
        && let Some((cap, _)) = rest.split_once("` not declared by")
    {
        return Skip::new(SkipKind::CapabilityNotDeclared, cap);
    }
    if reason.starts_with("target ")
        && let Some((_, alias)) = reason.split_once(" has no model for alias `")
    {
        return Skip::new(SkipKind::NoModelAlias, alias.trim_end_matches('`'));
    }
    if let Some(d) = after("ignored: ") {
        return Skip::new(SkipKind::Ignored, d);
    }
    if let Some(d) = after("budget: ") {
        return Skip::new(SkipKind::OverBudget, d);
    }
    if let Some(d) = after("not for a gateway: ") {
        return Skip::new(SkipKind::NotForGateway, d);
    }
    if let Some(d) = after("not for a client: ") {
        return Skip::new(SkipKind::NotForClient, d);
    }
    Skip::new(SkipKind::Other, reason)
}

/// A finding from its version-1 detail line, `LABEL: MESSAGE (at FILE:LINE:COL)`.
pub(crate) fn finding_from_line(line: &str) -> Finding {
    let (body, location) = match line.rsplit_once(" (at ") {
        Some((b, loc)) if loc.ends_with(')') => (b, loc.trim_end_matches(')').to_string()),
        _ => (line, String::new()),
    };
    let (path, message) = body.split_once(": ").unwrap_or(("", body));
    let kind = if path == "contract" {
        FindingKind::Contract
    } else {
        FindingKind::Expectation
    };
    Finding {
        path: path.to_string(),
        kind,
        class: None,
        message: message.to_string(),
        location,
    }
}

/// A provenance from its version-1 line, `live 2026-11-25 (gpt-4o-mini)`.
pub(crate) fn provenance_from_line(line: &str) -> Option<Provenance> {
    let (source, rest) = line.split_once(' ')?;
    let source = match source {
        "live" => Source::Live,
        "authored" => Source::Authored,
        _ => return None,
    };
    let (date, model) = match rest.split_once(" (") {
        Some((d, m)) => (d, Some(m.trim_end_matches(')').to_string())),
        None => (rest, None),
    };
    Some(Provenance {
        source,
        date: date.to_string(),
        model,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_v1_skip_reason_comes_back_typed() {
        let cases = [
            ("no key: K is not set", SkipKind::NoKey, "K is not set"),
            (
                "no recording at f/x.yaml",
                SkipKind::NotRecorded,
                "f/x.yaml",
            ),
            (
                "capability `tools` not declared by target t",
                SkipKind::CapabilityNotDeclared,
                "tools",
            ),
            (
                "target t has no model for alias `second`",
                SkipKind::NoModelAlias,
                "second",
            ),
            ("ignored: slow", SkipKind::Ignored, "slow"),
            ("budget: spent", SkipKind::OverBudget, "spent"),
            ("not for a gateway: why", SkipKind::NotForGateway, "why"),
            ("something else", SkipKind::Other, "something else"),
        ];
        for (reason, kind, detail) in cases {
            let s = skip_from_reason(reason);
            assert_eq!((s.kind, s.detail.as_str()), (kind, detail), "{reason}");
            assert_eq!(crate::report::text::skip_reason(&s, "t"), reason);
        }
    }

    #[test]
    fn provenance_and_findings_round_trip_through_their_text() {
        for line in ["live 2026-11-20 (gpt-4o)", "authored 2026-11-25"] {
            let p = provenance_from_line(line).unwrap();
            assert_eq!(crate::report::text::provenance(&p), line);
        }
        assert!(provenance_from_line("live 2026-11-20").unwrap().is_live());
        let f = finding_from_line("expect.text: a: b (at s.yaml:3:7)");
        assert_eq!(
            (f.path.as_str(), f.message.as_str(), f.location.as_str()),
            ("expect.text", "a: b", "s.yaml:3:7")
        );
        assert_eq!(
            crate::report::text::finding_line(&f),
            "expect.text: a: b (at s.yaml:3:7)"
        );
        assert_eq!(
            finding_from_line("contract: x (at l)").kind,
            FindingKind::Contract
        );
    }
}

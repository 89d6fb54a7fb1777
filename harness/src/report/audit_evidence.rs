//! The audit's evidence sections: provider conformance, client resilience and model
//! behaviour, apart, each with its weighted coverage and what broke it. A trial that never
//! reached the target (every reply from a fault script) is evidence about the client only.

use std::fmt::Write;

use super::audit::{coverage_row, coverage_table};
use super::coverage::{Coverage, Evidence, evidence_coverage};
use super::markdown::{cell, code, percent, plural, table};
use super::run_record::RunRecord;
use crate::outcome::{BehaviourMode, Outcome};

/// Rows of a failure list shown before it is cut; run.json keeps them all.
const MAX_ROWS: usize = 50;

/// Writes the evidence overview and one section per kind of evidence.
pub(super) fn render(out: &mut String, r: &RunRecord) {
    let covs: Vec<(Evidence, Coverage)> = Evidence::ALL
        .iter()
        .map(|e| (*e, evidence_coverage(&r.outcomes, *e)))
        .collect();
    out.push_str("## Provider conformance, client resilience, model behaviour\n\n");
    let _ = writeln!(
        out,
        "Each trial says what it judged (its subject: `provider`, `client`, `gateway`). \
         **Provider conformance** counts the trials that reached the target (live, or its \
         recording) with no client under test in between, and only their contract findings: \
         status, shapes, error bodies, finish reasons, usage, stream grammar, tool-call \
         structure. **Client resilience** counts, per client (provcheck's own, a gateway, or a \
         client under test), the trials whose replies all came from a fault script and every \
         trial of a client under test: they judge the client, never the provider. **Model behaviour** counts the trials that reached the target and \
         have behaviour expectations (text, which tool, argument values), and only their \
         behaviour findings. Weights and formula as under Weighted coverage. In this run \
         (`--behaviour {}`), behaviour findings alone {}.\n",
        r.behaviour.as_str(),
        match r.behaviour {
            BehaviourMode::Fail => "failed their trials",
            BehaviourMode::Warn => "only warned (their trials passed)",
        },
    );
    let rows: Vec<Vec<String>> = covs
        .iter()
        .map(|(e, c)| {
            let mut row = coverage_row(format!("**{}**", e.label()), &c.total, &c.by_priority);
            row.insert(1, c.total.applicable.to_string());
            row
        })
        .collect();
    out.push_str(&table(
        &[
            "evidence",
            "trials",
            "critical",
            "high",
            "medium",
            "low",
            "weighted",
            "confirmed live",
        ],
        &[1, 2, 3, 4, 5, 6, 7],
        &rows,
    ));
    out.push('\n');
    for (e, c) in &covs {
        section(out, r, *e, c);
    }
}

fn section(out: &mut String, r: &RunRecord, e: Evidence, cov: &Coverage) {
    let mut title = e.label().to_string();
    title[..1].make_ascii_uppercase();
    let _ = writeln!(out, "### {title}\n");
    if cov.total.applicable == 0 {
        out.push_str("No trial in this run is evidence of this kind.\n\n");
        return;
    }
    let first = match e {
        Evidence::ClientResilience => "client · target",
        _ => "target",
    };
    coverage_table(out, first, cov);
    let misses: Vec<&Outcome> = r
        .outcomes
        .iter()
        .filter(|o| e.covers(o) && super::coverage::applicable(o) && !e.passes(o))
        .collect();
    if misses.is_empty() {
        out.push_str("Every applicable trial passed by this measure.\n\n");
        return;
    }
    let _ = writeln!(
        out,
        "Not passing by this measure ({}):\n",
        plural(misses.len(), "trial", "trials")
    );
    let rows: Vec<Vec<String>> = misses
        .iter()
        .take(MAX_ROWS)
        .map(|o| {
            vec![
                code(&o.trial),
                o.priority.as_str().into(),
                super::text::subject_label(o),
                cell(&why(o, e), 160),
            ]
        })
        .collect();
    out.push_str(&table(&["trial", "priority", "subject", "why"], &[], &rows));
    if misses.len() > MAX_ROWS {
        let _ = writeln!(
            out,
            "\n…and {} more (every outcome is in run.json).",
            misses.len() - MAX_ROWS
        );
    }
    out.push('\n');
}

/// Why a trial does not pass as evidence of kind `e`: its first finding of that kind, or the
/// skip or error that kept it from being judged.
fn why(o: &Outcome, e: Evidence) -> String {
    let finding = match e {
        Evidence::ModelBehaviour => o.behaviour_findings().next(),
        _ => o.contract_findings().next(),
    };
    let mut s = match finding {
        Some(f) => super::text::finding_headline(f),
        None => super::text::headline(o).unwrap_or_else(|| o.status.to_string()),
    };
    if let (Evidence::ModelBehaviour, Some(r)) = (e, &o.repetitions) {
        s = format!("{} — {s}", super::text::repetitions(r));
    }
    s
}

/// Weighted coverage of one kind of evidence, as the summary line shows it.
pub(super) fn summary_line(r: &RunRecord) -> String {
    let parts: Vec<String> = Evidence::ALL
        .iter()
        .map(|e| {
            let c = evidence_coverage(&r.outcomes, *e).total;
            format!(
                "{} **{}**",
                e.label(),
                percent(c.passing_weight, c.applicable_weight)
            )
        })
        .collect();
    parts.join(" · ")
}

#[cfg(test)]
mod tests {
    use crate::outcome::{BehaviourMode, Class, Finding, FindingKind, Status, Subject};
    use crate::report::test_support::{outcome, record};
    use crate::suite::Priority;

    fn finding(class: Class, message: &str) -> Finding {
        Finding {
            path: "expect.text".into(),
            kind: FindingKind::Expectation,
            class: Some(class),
            message: message.into(),
            location: "s.yaml:1:1".into(),
        }
    }

    #[test]
    fn the_three_kinds_of_evidence_are_counted_apart() {
        // A provider trial that missed only behaviour, under --behaviour warn: a pass.
        let mut warned = outcome("s::word::openai", Priority::High, Status::Pass, None);
        warned.behaviour_checked = true;
        warned.findings = vec![finding(Class::Behaviour, "no PINEAPPLE")];
        // A provider trial that broke the contract.
        let mut broke = outcome("s::cut::openai", Priority::Critical, Status::Fail, None);
        broke.findings = vec![finding(Class::Contract, "stop at the limit")];
        // provcheck's client against a fault script, failing: no evidence about openai.
        let mut retry = outcome("r::retry::openai", Priority::High, Status::Fail, None);
        retry.subject = Subject::Client;
        retry.findings = vec![finding(Class::Contract, "no backoff")];
        // A client under test reading a recording: evidence about that client only.
        let mut sdk = outcome("s::other::openai", Priority::Low, Status::Pass, None);
        sdk.client = Some("openai-python".into());
        let mut r = record(vec![warned, broke, retry, sdk]);
        r.behaviour = BehaviourMode::Warn;
        let md = crate::report::audit::render(&r, None);
        let rows = [
            "| **provider conformance** | 2 | 0/1 | 1/1 | – | – | 33.3% | 0.0% |",
            "| **client resilience** | 2 | – | 0/1 | – | 1/1 | 20.0% | 0.0% |",
            "| **model behaviour** | 1 | – | 0/1 | – | – | 0.0% | 0.0% |",
            "| openai-python · openai | – | – | – | 1/1 | 100.0% | 0.0% |",
            "| provcheck · openai | – | 0/1 | – | – | 0.0% | 0.0% |",
            "| `r::retry::openai` | high | client | expect.text: no backoff |",
            "| `s::word::openai` | high | provider | expect.text: no PINEAPPLE |",
            "| `s::cut::openai` | critical | provider | expect.text: stop at the limit |",
            "(`--behaviour warn`), behaviour findings alone only warned (their trials passed)",
            "- **By evidence** (weighted): provider conformance **33.3%** · client resilience **20.0%** · model behaviour **0.0%**",
            "1 trial passed with behaviour warnings",
            "⚠️ pass",
        ];
        for row in rows {
            assert!(md.contains(row), "{row}\n{md}");
        }
    }
}

//! `COVERAGE_AUDIT.md`: the coverage audit as a lead would put it in a repository, rendered
//! from a run record alone (and optionally the previous one), so `provcheck audit run.json`
//! reproduces what the run wrote byte for byte.

use std::collections::BTreeMap;
use std::fmt::Write;

use crate::outcome::SkipKind;
use crate::outcome::{Mode, Outcome, Status};
use crate::report::coverage::{
    self, Cell, Coverage, GapKind, Matrix, PRIORITIES, Tally, skip_kind, weight,
};
use crate::report::markdown::{cell, code, escape, percent, plural, table};
use crate::report::run_record::RunRecord;
use crate::suite::Priority;

/// Rows of a list shown before it is cut; run.json keeps them all.
const MAX_GAP_ROWS: usize = 100;

/// Renders the audit.
pub(crate) fn render(record: &RunRecord, previous: Option<&RunRecord>) -> String {
    let cov = coverage::coverage(&record.outcomes);
    let gaps = coverage::gaps(record);
    let m = coverage::matrix(record);
    let mut out = String::new();
    header(&mut out, record);
    summary(&mut out, record, &m, &cov, &gaps);
    if let Some(prev) = previous {
        changes_section(&mut out, prev, record);
    }
    weighted(&mut out, record, &cov);
    super::audit_evidence::render(&mut out, record);
    gap_list(&mut out, &gaps);
    super::audit_na::section(&mut out, &m);
    matrix(&mut out, &m);
    inputs(&mut out, record);
    out
}

/// The audit's summary and its ranked gaps, under a heading naming the run's mode: what a CI
/// page shows (GitHub's step summary, see `step_summary`), rendered by the same functions as
/// the audit so the two never disagree.
pub(crate) fn render_summary_and_gaps(record: &RunRecord) -> String {
    let cov = coverage::coverage(&record.outcomes);
    let gaps = coverage::gaps(record);
    let m = coverage::matrix(record);
    let mut out = format!(
        "# provcheck: {}\n\nThe coverage audit's summary and ranked gaps; the matrix, the \
         weighting formula and the evidence are in `{}` among the run's reports.\n\n",
        mode_text(record.mode),
        super::AUDIT_MD
    );
    summary(&mut out, record, &m, &cov, &gaps);
    gap_list(&mut out, &gaps);
    out
}

fn when(ts: &str) -> String {
    chrono::DateTime::parse_from_rfc3339(ts)
        .map(|t| {
            t.with_timezone(&chrono::Utc)
                .format("%Y-%m-%d %H:%M UTC")
                .to_string()
        })
        .unwrap_or_else(|_| escape(ts))
}

fn elapsed(record: &RunRecord) -> Option<String> {
    let a = chrono::DateTime::parse_from_rfc3339(&record.started_at).ok()?;
    let b = chrono::DateTime::parse_from_rfc3339(&record.finished_at).ok()?;
    let ms = (b - a).num_milliseconds().max(0);
    Some(format!("{:.1} s", ms as f64 / 1000.0))
}

fn mode_text(mode: Mode) -> &'static str {
    match mode {
        Mode::Replay => "replay (recordings served by a local mock)",
        Mode::Live => "live (the providers' real APIs)",
        Mode::Record => "record (the providers' real APIs, exchanges written as recordings)",
    }
}

fn selection_text(record: &RunRecord) -> String {
    let s = &record.selection;
    let mut parts = Vec::new();
    if let Some(f) = &s.filter {
        parts.push(format!("name filter {}", code(f)));
    }
    if !s.skip.is_empty() {
        parts.push(format!(
            "skipping names containing {}",
            s.skip
                .iter()
                .map(|t| code(t))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    if !s.tags.is_empty() {
        parts.push(format!(
            "tags {}",
            s.tags
                .iter()
                .map(|t| code(t))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    if let Some(p) = &s.partition {
        parts.push(format!("partition {}", escape(p)));
    }
    if let Some(r) = &s.rerun_failed_from {
        parts.push(format!(
            "rerun of the trials that failed or errored in {}",
            code(r)
        ));
    }
    if !s.merged_from.is_empty() {
        parts.push(format!(
            "merged from {}: {}",
            plural(s.merged_from.len(), "record", "records"),
            s.merged_from
                .iter()
                .map(|m| escape(m))
                .collect::<Vec<_>>()
                .join("; ")
        ));
    }
    if parts.is_empty() {
        "every planned trial".into()
    } else {
        parts.join("; ")
    }
}

fn header(out: &mut String, r: &RunRecord) {
    out.push_str("# Coverage audit\n\n");
    let _ = writeln!(
        out,
        "Run of **{}**{} · mode **{}** · provcheck {} · run record format {}\n",
        when(&r.started_at),
        elapsed(r).map(|e| format!(" ({e})")).unwrap_or_default(),
        mode_text(r.mode),
        escape(&r.provcheck_version),
        r.format_version,
    );
    let _ = writeln!(out, "Selection: {}.\n", selection_text(r));
    if let Some(g) = &r.gateway {
        let _ = writeln!(
            out,
            "Subject: the gateway at {} ({} dialect), its upstream provcheck's mock at {}. \
             Expectations judge what the gateway did; attempts and waits are what reached the mock.\n",
            escape(&g.url),
            g.dialect.as_str(),
            escape(&g.mock_addr),
        );
    }
    if r.targets.is_empty() {
        return;
    }
    let rows: Vec<Vec<String>> = r
        .targets
        .iter()
        .map(|t| {
            vec![
                format!("**{}**", escape(&t.name)),
                t.dialect.as_str().into(),
                code(&t.base_url),
                t.models
                    .iter()
                    .map(|(a, m)| format!("{} {}", escape(a), code(m)))
                    .collect::<Vec<_>>()
                    .join(", "),
                if t.required { "yes" } else { "no" }.into(),
            ]
        })
        .collect();
    out.push_str(&table(
        &["target", "dialect", "base URL", "models", "required"],
        &[],
        &rows,
    ));
    out.push('\n');
}

fn summary(
    out: &mut String,
    r: &RunRecord,
    m: &Matrix<'_>,
    cov: &Coverage,
    gaps: &[coverage::Gap],
) {
    out.push_str("## Summary\n\n");
    let t = &r.totals;
    let _ = writeln!(
        out,
        "- **Trials**: {} — ✅ {} pass · ❌ {} fail · 💥 {} error · ⏭️ {} skip",
        t.trials, t.pass, t.fail, t.error, t.skip
    );
    summary_spent(out, r);
    summary_skips(out, r);
    summary_applicability(out, r, m);
    summary_coverage(out, cov);
    summary_evidence(out, r);
    summary_gaps(out, gaps);
}

/// What the run cost at the providers, against its budget.
fn summary_spent(out: &mut String, r: &RunRecord) {
    if r.spent.is_empty() {
        return;
    }
    let parts: Vec<String> = r
        .spent
        .iter()
        .map(|(target, s)| {
            format!(
                "{} {} requests, {} output tokens",
                code(target),
                s.requests,
                s.output_tokens
            )
        })
        .collect();
    let budget = r.budget.map(|b| {
        let limits: Vec<String> = [
            b.max_requests.map(|n| format!("{n} requests")),
            b.max_output_tokens.map(|n| format!("{n} output tokens")),
        ]
        .into_iter()
        .flatten()
        .collect();
        format!(" (budget: {})", limits.join(", "))
    });
    let _ = writeln!(
        out,
        "- **Spent at the providers**: {}{}",
        parts.join("; "),
        budget.unwrap_or_default()
    );
}

/// Skips counted by kind: a skip is never silent.
fn summary_skips(out: &mut String, r: &RunRecord) {
    let mut skips: BTreeMap<SkipKind, usize> = BTreeMap::new();
    for o in &r.outcomes {
        if let Some(k) = skip_kind(o) {
            *skips.entry(k).or_default() += 1;
        }
    }
    if !skips.is_empty() {
        let parts: Vec<String> = skips
            .iter()
            .map(|(k, n)| format!("{n} {}", skip_label(*k)))
            .collect();
        let _ = writeln!(out, "- **Skips**: {}", parts.join(", "));
    }
}

/// Trials that do not apply, and pairs that apply but were not selected.
fn summary_applicability(out: &mut String, r: &RunRecord, m: &Matrix<'_>) {
    let not_run = m
        .categories
        .values()
        .flatten()
        .flat_map(|row| &row.cells)
        .filter(|c| matches!(c, Cell::NotRun))
        .count();
    let other_dialect = super::audit_na::count(m);
    let not_declared = super::audit_na::declared_out(&r.outcomes);
    let _ = writeln!(
        out,
        "- **Not applicable**: {} (the target does not declare a capability or model the scenario needs), {} scenario × target {} (the dialect's API does not define the behaviour; reasons under Not applicable)",
        plural(not_declared, "trial", "trials"),
        other_dialect,
        if other_dialect == 1 { "pair" } else { "pairs" },
    );
    if not_run > 0 {
        let _ = writeln!(
            out,
            "- **Not in this run**: {} scenario × target {} that apply but were not selected ({})",
            not_run,
            if not_run == 1 { "pair" } else { "pairs" },
            selection_text(r)
        );
    }
}

/// The weighted coverage and how much of it rests on live evidence.
fn summary_coverage(out: &mut String, cov: &Coverage) {
    let c = &cov.total;
    let _ = writeln!(
        out,
        "- **Weighted coverage**: **{}** ({} of {} weight points pass; formula below)",
        percent(c.passing_weight, c.applicable_weight),
        c.passing_weight,
        c.applicable_weight
    );
    let _ = writeln!(
        out,
        "- **Confirmed live**: **{}** of the weight passes on live evidence (a live run or a live recording)",
        percent(c.live_weight, c.applicable_weight)
    );
}

/// The three kinds of evidence, apart, and what behaviour findings did to their trials.
fn summary_evidence(out: &mut String, r: &RunRecord) {
    let _ = writeln!(
        out,
        "- **By evidence** (weighted): {}",
        super::audit_evidence::summary_line(r)
    );
    let warned = r.outcomes.iter().filter(|o| o.behaviour_warning()).count();
    if r.behaviour == crate::outcome::BehaviourMode::Warn {
        let _ = writeln!(
            out,
            "- **Behaviour findings warn** (`--behaviour warn`): {} passed with behaviour warnings",
            plural(warned, "trial", "trials")
        );
    }
}

/// Gap trials counted by kind.
fn summary_gaps(out: &mut String, gaps: &[coverage::Gap]) {
    let mut by_kind: BTreeMap<GapKind, usize> = BTreeMap::new();
    for g in gaps {
        *by_kind.entry(g.kind).or_default() += g.targets.len();
    }
    if by_kind.is_empty() {
        out.push_str("- **Gaps**: none\n\n");
    } else {
        let parts: Vec<String> = by_kind
            .iter()
            .map(|(k, n)| format!("{n} {}", k.label()))
            .collect();
        let _ = writeln!(out, "- **Gaps** (trials): {}\n", parts.join(", "));
    }
}

fn skip_label(k: SkipKind) -> &'static str {
    match k {
        SkipKind::NoKey => "no key",
        SkipKind::NotRecorded => "not recorded",
        SkipKind::NotApplicable => "not applicable",
        SkipKind::CapabilityNotDeclared => "capability not declared",
        SkipKind::NoModelAlias => "no model for an alias",
        SkipKind::Ignored => "ignored",
        SkipKind::OverBudget => "over budget",
        SkipKind::NotForGateway => "not for a gateway",
        SkipKind::NotForClient => "not for a client",
        SkipKind::Other => "other",
    }
}

pub(super) fn tally_cell(t: Option<&Tally>) -> String {
    match t {
        Some(t) if t.applicable > 0 => format!("{}/{}", t.passing, t.applicable),
        _ => "–".into(),
    }
}

/// One row: a name, passing/applicable per priority, weighted coverage, confirmed live.
pub(super) fn coverage_row(
    name: String,
    total: &Tally,
    per: &BTreeMap<Priority, Tally>,
) -> Vec<String> {
    let mut cells = vec![name];
    cells.extend(PRIORITIES.iter().map(|p| tally_cell(per.get(p))));
    cells.push(percent(total.passing_weight, total.applicable_weight));
    cells.push(percent(total.live_weight, total.applicable_weight));
    cells
}

const COVERAGE_HEAD: [&str; 6] = [
    "critical",
    "high",
    "medium",
    "low",
    "weighted",
    "confirmed live",
];

/// Coverage per target and for all targets, as a table whose first column is `first`.
pub(super) fn coverage_table(out: &mut String, first: &str, cov: &Coverage) {
    let mut rows: Vec<Vec<String>> = cov
        .by_target
        .iter()
        .map(|(t, (total, per))| coverage_row(escape(t), total, per))
        .collect();
    rows.push(coverage_row(
        "**all targets**".into(),
        &cov.total,
        &cov.by_priority,
    ));
    let mut head = vec![first];
    head.extend(COVERAGE_HEAD);
    out.push_str(&table(&head, &[1, 2, 3, 4, 5, 6], &rows));
    out.push('\n');
}

fn weighted(out: &mut String, r: &RunRecord, cov: &Coverage) {
    out.push_str("## Weighted coverage\n\n");
    let weights: Vec<String> = PRIORITIES
        .iter()
        .map(|p| format!("{} {}", p.as_str(), weight(*p)))
        .collect();
    let _ = writeln!(
        out,
        "Weights by priority: {}.\n\n\
         **weighted coverage = Σ weight(passing trials) / Σ weight(applicable trials)**\n\n\
         A trial is applicable unless its dialect's API does not define the behaviour, or its \
         target does not declare a capability or model alias the scenario needs. A skip for want of a key or a recording, an ignored scenario and \
         an error all count as applicable and not passing. *Confirmed live* counts only \
         passing trials whose evidence is live. Cells below are passing/applicable trials.\n",
        weights.join(", ")
    );
    coverage_table(out, "target", cov);
    // Critical paths: a critical scenario is covered only if it passes everywhere it applies.
    let mut critical: BTreeMap<String, Vec<&Outcome>> = BTreeMap::new();
    for o in r
        .outcomes
        .iter()
        .filter(|o| o.priority == crate::suite::Priority::Critical && coverage::applicable(o))
    {
        critical
            .entry(format!("{}::{}", o.suite, o.scenario))
            .or_default()
            .push(o);
    }
    if critical.is_empty() {
        out.push_str("No critical scenario ran.\n\n");
        return;
    }
    let broken: Vec<String> = critical
        .iter()
        .filter_map(|(name, os)| {
            let not: Vec<String> = os
                .iter()
                .filter(|o| o.status != Status::Pass)
                .map(|o| format!("{} {}", escape(&o.target), o.status))
                .collect();
            (!not.is_empty()).then(|| format!("{} ({})", code(name), not.join(", ")))
        })
        .collect();
    let _ = writeln!(
        out,
        "Critical paths: {} of {} critical scenarios pass on every applicable target.{}\n",
        critical.len() - broken.len(),
        critical.len(),
        if broken.is_empty() {
            String::new()
        } else {
            format!(" Not covered: {}.", broken.join("; "))
        }
    );
}

fn gap_list(out: &mut String, gaps: &[coverage::Gap]) {
    out.push_str("## Gaps, ranked\n\n");
    if gaps.is_empty() {
        out.push_str("No gaps: every applicable trial passed on live evidence.\n\n");
        return;
    }
    let impacts: Vec<String> = GapKind::ALL
        .iter()
        .map(|k| format!("{} {}", k.label(), k.impact()))
        .collect();
    let _ = writeln!(
        out,
        "Ranked by **score = priority weight × impact**, impact: {}. Ties go to the more \
         harmful kind.\n",
        impacts.join(", ")
    );
    let rows: Vec<Vec<String>> = gaps
        .iter()
        .take(MAX_GAP_ROWS)
        .enumerate()
        .map(|(i, g)| {
            vec![
                (i + 1).to_string(),
                g.score().to_string(),
                g.priority.as_str().into(),
                format!("{}<br>{}", code(&g.scenario), cell(&g.title, 90)),
                escape(&g.targets.join(", ")),
                g.kind.label().into(),
                cell(&g.why, 160),
            ]
        })
        .collect();
    out.push_str(&table(
        &[
            "#", "score", "priority", "scenario", "targets", "gap", "why",
        ],
        &[0, 1],
        &rows,
    ));
    if gaps.len() > MAX_GAP_ROWS {
        let _ = writeln!(
            out,
            "\n…and {} more, lower ranked (every outcome is in run.json).",
            gaps.len() - MAX_GAP_ROWS
        );
    }
    out.push('\n');
}

/// A matrix cell's text and the note it points to, if any.
fn cell_text(c: &Cell<'_>) -> (String, Option<String>) {
    match c {
        Cell::NotRun => ("—".into(), None),
        Cell::OtherDialect(reason) => ("n/a".into(), Some(format!("not applicable: {reason}"))),
        Cell::Ran(o) => {
            let headline = super::text::headline(o);
            let why = headline.as_deref().map(|m| m.lines().next().unwrap_or(""));
            let class = super::text::finding_class(o).unwrap_or("contract");
            match o.status {
                Status::Pass if o.behaviour_warning() => (
                    "⚠️ pass".into(),
                    super::text::lead_finding(o)
                        .map(|f| format!("behaviour: {}", super::text::finding_headline(f))),
                ),
                Status::Pass => ("✅ pass".into(), None),
                Status::Fail => ("❌ fail".into(), why.map(|w| format!("{class}: {w}"))),
                Status::Error => ("💥 error".into(), why.map(str::to_string)),
                Status::Skip if !coverage::applicable(o) => ("n/a".into(), why.map(str::to_string)),
                Status::Skip => ("⏭️ skip".into(), why.map(str::to_string)),
            }
        }
    }
}

fn matrix(out: &mut String, m: &Matrix<'_>) {
    out.push_str("## Matrix\n\n");
    out.push_str(
        "✅ pass · ⚠️ pass with behaviour warnings (`--behaviour warn`) · ❌ fail (the provider \
         or subject broke an expectation or its contract; the note says whether a contract or \
         a behaviour finding) · \
         💥 error (provcheck could not run it) · ⏭️ skip · n/a (does not apply to the target) · \
         — (applies, not in this run). Numbers point to the notes under each table.\n\n",
    );
    for (category, rows) in &m.categories {
        let _ = writeln!(out, "### {}\n", escape(category));
        let mut notes: Vec<String> = Vec::new();
        let mut body = Vec::new();
        for row in rows {
            let mut cells = vec![
                format!(
                    "{} {}",
                    code(&row.scenario.id),
                    cell(&row.scenario.title, 80)
                ),
                row.scenario.priority.as_str().into(),
            ];
            for c in &row.cells {
                let (text, note) = cell_text(c);
                match note {
                    Some(n) => {
                        let n = cell(&n, 300);
                        let i = match notes.iter().position(|x| *x == n) {
                            Some(i) => i,
                            None => {
                                notes.push(n);
                                notes.len() - 1
                            }
                        };
                        cells.push(format!("{text} [{}]", i + 1));
                    }
                    None => cells.push(text),
                }
            }
            body.push(cells);
        }
        let mut head = vec!["scenario", "priority"];
        head.extend(m.targets.iter().map(String::as_str));
        out.push_str(&table(&head, &[], &body));
        out.push('\n');
        for (i, n) in notes.iter().enumerate() {
            let _ = writeln!(out, "{}. {n}", i + 1);
        }
        if !notes.is_empty() {
            out.push('\n');
        }
    }
}

fn inputs(out: &mut String, r: &RunRecord) {
    if r.suites.is_empty() {
        return;
    }
    out.push_str("## Suites\n\n");
    let rows: Vec<Vec<String>> = r
        .suites
        .iter()
        .map(|s| {
            vec![
                escape(&s.name),
                code(&s.file),
                escape(&s.category),
                s.scenarios.len().to_string(),
                cell(s.description.as_deref().unwrap_or(""), 120),
            ]
        })
        .collect();
    out.push_str(&table(
        &["suite", "file", "category", "scenarios", "covers"],
        &[3],
        &rows,
    ));
}

/// Status changes between two records, paired by trial name.
#[derive(Debug, Default)]
pub(crate) struct Changes<'a> {
    /// Trials in both whose status differs: (before, after).
    pub changed: Vec<(&'a Outcome, &'a Outcome)>,
    /// Trials only in the newer record.
    pub added: Vec<&'a Outcome>,
    /// Trials only in the older record.
    pub removed: Vec<&'a Outcome>,
}

/// Compares two records trial by trial.
pub(crate) fn changes<'a>(old: &'a RunRecord, new: &'a RunRecord) -> Changes<'a> {
    let before: BTreeMap<&str, &Outcome> =
        old.outcomes.iter().map(|o| (o.trial.as_str(), o)).collect();
    let after: BTreeMap<&str, &Outcome> =
        new.outcomes.iter().map(|o| (o.trial.as_str(), o)).collect();
    let mut c = Changes::default();
    for (name, n) in &after {
        match before.get(name) {
            Some(o) if o.status != n.status => c.changed.push((o, n)),
            Some(_) => {}
            None => c.added.push(n),
        }
    }
    c.removed = before
        .iter()
        .filter(|(name, _)| !after.contains_key(*name))
        .map(|(_, o)| *o)
        .collect();
    c
}

fn status_text(o: &Outcome) -> String {
    match o.status {
        Status::Pass => "✅ pass".into(),
        Status::Fail => "❌ fail".into(),
        Status::Error => "💥 error".into(),
        Status::Skip => "⏭️ skip".into(),
    }
}

fn changes_section(out: &mut String, prev: &RunRecord, r: &RunRecord) {
    let c = changes(prev, r);
    out.push_str("## Changes since the previous run\n\n");
    let before = coverage::coverage(&prev.outcomes).total;
    let after = coverage::coverage(&r.outcomes).total;
    let _ = writeln!(
        out,
        "Previous run: {}, mode {}. Weighted coverage {} → {}; confirmed live {} → {}.\n",
        when(&prev.started_at),
        prev.mode.as_str(),
        percent(before.passing_weight, before.applicable_weight),
        percent(after.passing_weight, after.applicable_weight),
        percent(before.live_weight, before.applicable_weight),
        percent(after.live_weight, after.applicable_weight),
    );
    if c.changed.is_empty() && c.added.is_empty() && c.removed.is_empty() {
        out.push_str("No trial changed status; no trial was added or removed.\n\n");
        return;
    }
    if !c.changed.is_empty() {
        let mut changed = c.changed.clone();
        // Regressions first: a trial that stopped passing matters more than one that started.
        changed.sort_by_key(|(o, n)| {
            (
                !(o.status == Status::Pass && n.status != Status::Pass),
                n.priority,
                n.trial.clone(),
            )
        });
        let rows: Vec<Vec<String>> = changed
            .iter()
            .map(|(o, n)| {
                vec![
                    code(&n.trial),
                    n.priority.as_str().into(),
                    status_text(o),
                    status_text(n),
                    cell(&super::text::headline_or_empty(n), 160),
                ]
            })
            .collect();
        let _ = writeln!(
            out,
            "{} changed status:\n",
            plural(changed.len(), "trial", "trials")
        );
        out.push_str(&table(
            &["trial", "priority", "before", "now", "why now"],
            &[],
            &rows,
        ));
        out.push('\n');
    }
    for (label, list) in [("New", &c.added), ("Removed", &c.removed)] {
        if list.is_empty() {
            continue;
        }
        let _ = writeln!(out, "{label} trials ({}):\n", list.len());
        for o in list.iter().take(MAX_GAP_ROWS) {
            let _ = writeln!(out, "- {} ({})", code(&o.trial), status_text(o));
        }
        if list.len() > MAX_GAP_ROWS {
            let _ = writeln!(out, "- …and {} more", list.len() - MAX_GAP_ROWS);
        }
        out.push('\n');
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::test_support::{outcome, record};
    use crate::suite::Priority;

    #[test]
    fn audit_shows_skips_with_reasons_and_escapes_cells() {
        let mut r = record(vec![
            outcome("s::a::openai", Priority::Critical, Status::Pass, None),
            outcome(
                "s::a::anthropic",
                Priority::Critical,
                Status::Skip,
                Some("no key: ANTHROPIC_API_KEY is not set"),
            ),
            outcome(
                "s::b::openai",
                Priority::Low,
                Status::Fail,
                Some("expect.text: got \"a|b\" <x>"),
            ),
        ]);
        r.targets[1].required = true;
        let md = render(&r, None);
        assert!(md.contains("| **anthropic** | anthropic |"), "{md}");
        assert!(
            md.contains("| anthropic | yes |") || md.contains("| yes |"),
            "{md}"
        );
        assert!(md.contains("⏭️ skip [1]"), "{md}");
        assert!(
            md.contains("1. no key: ANTHROPIC_API_KEY is not set"),
            "{md}"
        );
        assert!(md.contains("required target skipped"), "{md}");
        assert!(md.contains("got \"a\\|b\" &lt;x&gt;"), "{md}");
        assert!(!md.contains("a|b"), "{md}");
        // 8 of 8 + 8 + 1 weight points pass.
        assert!(
            md.contains("**Weighted coverage**: **47.1%** (8 of 17"),
            "{md}"
        );
        assert!(md.contains("Not covered: `s::a` (anthropic skip)"), "{md}");
    }

    #[test]
    fn changes_list_regressions_first() {
        let old = record(vec![
            outcome("s::a::openai", Priority::Low, Status::Fail, Some("x")),
            outcome("s::b::openai", Priority::High, Status::Pass, None),
            outcome("s::gone::openai", Priority::High, Status::Pass, None),
        ]);
        let new = record(vec![
            outcome("s::a::openai", Priority::Low, Status::Pass, None),
            outcome("s::b::openai", Priority::High, Status::Fail, Some("broke")),
            outcome("s::new::openai", Priority::High, Status::Pass, None),
        ]);
        let c = changes(&old, &new);
        assert_eq!(c.changed.len(), 2);
        assert_eq!(c.added[0].trial, "s::new::openai");
        assert_eq!(c.removed[0].trial, "s::gone::openai");
        let md = render(&new, Some(&old));
        let b = md
            .find("| `s::b::openai` | high | ✅ pass | ❌ fail | broke |")
            .unwrap();
        let a = md
            .find("| `s::a::openai` | low | ❌ fail | ✅ pass |")
            .unwrap();
        assert!(b < a, "{md}");
        assert!(md.contains("New trials (1):\n\n- `s::new::openai`"), "{md}");
        assert!(
            md.contains("Removed trials (1):\n\n- `s::gone::openai`"),
            "{md}"
        );
    }
}

//! The short colored summary printed after libtest's lines.

use std::collections::BTreeMap;

use console::Style;

use crate::outcome::{Outcome, SkipKind, Status};

/// Counts per status.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Counts {
    /// Passed.
    pub pass: usize,
    /// Failed.
    pub fail: usize,
    /// Errored.
    pub error: usize,
    /// Skipped.
    pub skip: usize,
}

/// Counts outcomes by status.
pub(crate) fn counts(outcomes: &[Outcome]) -> Counts {
    let mut c = Counts::default();
    for o in outcomes {
        match o.status {
            Status::Pass => c.pass += 1,
            Status::Fail => c.fail += 1,
            Status::Error => c.error += 1,
            Status::Skip => c.skip += 1,
        }
    }
    c
}

/// One line per failed, errored or warned trial: its first finding (or error), its subject and
/// the kind of finding.
fn trial_lines(outcomes: &[Outcome], color: bool) -> String {
    let s = |style: Style| style.force_styling(color);
    let mut out = String::new();
    for o in outcomes
        .iter()
        .filter(|o| matches!(o.status, Status::Fail | Status::Error) || o.behaviour_warning())
    {
        let tag = match o.status {
            Status::Fail => s(Style::new().red()).apply_to("FAIL "),
            Status::Error => s(Style::new().magenta()).apply_to("ERROR"),
            _ => s(Style::new().yellow()).apply_to("WARN "),
        };
        let headline = match o.status {
            Status::Pass => super::text::lead_finding(o)
                .map(super::text::finding_headline)
                .unwrap_or_default(),
            _ => super::text::headline_or_empty(o),
        };
        let first_line = headline.lines().next().unwrap_or("");
        let kind = super::text::finding_class(o)
            .map(|c| format!("·{c}"))
            .unwrap_or_default();
        out.push_str(&format!(
            "  {tag} {}: {first_line} [{}{kind}]\n",
            o.trial,
            super::text::subject_label(o)
        ));
    }
    out
}

/// Two lines that keep the evidence apart: trials by subject (a trial that never reached the
/// target judged the client, not the provider), and failing or warned trials by the kind of
/// finding (any contract finding, or behaviour findings only).
fn subjects_and_kinds(outcomes: &[Outcome]) -> String {
    let mut by_subject: BTreeMap<String, Counts> = BTreeMap::new();
    for o in outcomes {
        let e = by_subject.entry(super::text::subject_label(o)).or_default();
        match o.status {
            Status::Pass => e.pass += 1,
            Status::Fail => e.fail += 1,
            Status::Error => e.error += 1,
            Status::Skip => e.skip += 1,
        }
    }
    let mut out = String::new();
    let parts: Vec<String> = by_subject
        .iter()
        .map(|(subject, c)| {
            format!(
                "{subject} {} pass {} fail {} error {} skip",
                c.pass, c.fail, c.error, c.skip
            )
        })
        .collect();
    if !parts.is_empty() {
        out.push_str(&format!("  by subject: {}\n", parts.join(" · ")));
    }
    let (mut contract, mut behaviour) = (0, 0);
    for o in outcomes.iter().filter(|o| o.status != Status::Error) {
        match super::text::finding_class(o) {
            Some("contract") => contract += 1,
            Some(_) => behaviour += 1,
            None => {}
        }
    }
    if contract + behaviour > 0 {
        out.push_str(&format!(
            "  findings: {contract} trial{} broke the contract, {behaviour} only the expected behaviour\n",
            if contract == 1 { "" } else { "s" }
        ));
    }
    out
}

/// How the summary counts trials whose dialect's API does not define the behaviour.
const NOT_APPLICABLE: &str = "not applicable: the dialect's API does not define the behaviour (reasons above and in the audit)";

/// The summary's first line. Scenarios marked `ignore` are counted apart from the skips, as
/// their trial lines say.
fn head_line(outcomes: &[Outcome], c: Counts) -> String {
    let warned = outcomes.iter().filter(|o| o.behaviour_warning()).count();
    let ignored = outcomes
        .iter()
        .filter(|o| o.status == Status::Skip && o.skip_kind() == Some(SkipKind::Ignored))
        .count();
    format!(
        "provcheck: {} passed{}, {} failed, {} errored, {} skipped{}",
        c.pass,
        if warned > 0 {
            format!(" ({warned} with behaviour warnings)")
        } else {
            String::new()
        },
        c.fail,
        c.error,
        c.skip - ignored,
        if ignored > 0 {
            format!(", {ignored} ignored")
        } else {
            String::new()
        }
    )
}

/// Renders the summary: totals, per-target counts (and what live trials spent), the skip
/// reasons grouped, and in record mode what was recorded.
pub(crate) fn summary(outcomes: &[Outcome], reports: &[String], color: bool) -> String {
    let s = |style: Style| style.force_styling(color);
    let c = counts(outcomes);
    let mut out = String::new();
    let head = head_line(outcomes, c);
    let style = if c.fail + c.error > 0 {
        s(Style::new().red().bold())
    } else {
        s(Style::new().green().bold())
    };
    out.push_str(&style.apply_to(head).to_string());
    out.push('\n');
    let mut per_target: BTreeMap<&str, Counts> = BTreeMap::new();
    for o in outcomes {
        let e = per_target.entry(&o.target).or_default();
        match o.status {
            Status::Pass => e.pass += 1,
            Status::Fail => e.fail += 1,
            Status::Error => e.error += 1,
            Status::Skip => e.skip += 1,
        }
    }
    let spent = crate::report::run_record::spent_by_target(outcomes);
    // Columns line up whatever the target names and counts: a gateway or a new dialect's
    // target is often longer than the built-in names.
    let name_w = per_target
        .keys()
        .map(|t| t.chars().count())
        .max()
        .unwrap_or(0);
    let num_w = outcomes.len().to_string().len();
    for (t, c) in &per_target {
        out.push_str(&format!(
            "  {t:<name_w$} {:>num_w$} pass  {:>num_w$} fail  {:>num_w$} error  {:>num_w$} skip",
            c.pass, c.fail, c.error, c.skip
        ));
        if let Some(s) = spent.get(*t) {
            out.push_str(&format!(
                "  · spent {} request{}, {} output token{}",
                s.requests,
                if s.requests == 1 { "" } else { "s" },
                s.output_tokens,
                if s.output_tokens == 1 { "" } else { "s" }
            ));
        }
        out.push('\n');
    }
    out.push_str(&subjects_and_kinds(outcomes));
    let mut reasons: BTreeMap<String, usize> = BTreeMap::new();
    for o in outcomes.iter().filter(|o| o.status == Status::Skip) {
        // Reasons a dialect's API does not define a behaviour differ per scenario: they are
        // on each trial's line and in the audit, and counted here as one.
        if o.skip_kind() == Some(SkipKind::NotApplicable) {
            *reasons.entry(NOT_APPLICABLE.to_string()).or_default() += 1;
            continue;
        }
        let r = super::text::headline_or_empty(o);
        // Group "no recording at <path>" and the like by their stem, not their path.
        let key = r.split(" at ").next().unwrap_or(&r).to_string();
        *reasons.entry(key).or_default() += 1;
    }
    if !reasons.is_empty() {
        out.push_str(&s(Style::new().yellow()).apply_to("  skipped:").to_string());
        out.push('\n');
        for (r, n) in &reasons {
            out.push_str(&format!("    {n} × {r}\n"));
        }
    }
    let recorded = outcomes.iter().filter(|o| o.recorded.is_some()).count();
    let not_recorded: Vec<(&str, &str)> = outcomes
        .iter()
        .filter_map(|o| {
            let why = o.not_recorded.as_deref()?;
            Some((o.trial.as_str(), why))
        })
        .collect();
    if recorded > 0 || !not_recorded.is_empty() {
        out.push_str(&format!(
            "  recorded: {recorded} recording{} written\n",
            if recorded == 1 { "" } else { "s" }
        ));
        for (trial, why) in &not_recorded {
            out.push_str(&format!(
                "    {} {trial}: {why}\n",
                s(Style::new().yellow()).apply_to("not recorded")
            ));
        }
    }
    out.push_str(&trial_lines(outcomes, color));
    for r in reports {
        out.push_str(&format!("  wrote {r}\n"));
    }
    out
}

//! Outcomes as text: the one place where skips, errors and findings become the lines the
//! console, libtest, JUnit and the audit print. The outcome itself holds only typed values.

use crate::outcome::{Finding, FindingKind, Outcome, Provenance, Skip, SkipKind, Source, Status};

/// A skip's reason as one line, e.g. `no key: OPENAI_API_KEY is not set`.
pub(crate) fn skip_reason(skip: &Skip, target: &str) -> String {
    let d = &skip.detail;
    match skip.kind {
        SkipKind::NoKey => format!("no key: {d}"),
        SkipKind::NotRecorded => format!("no recording at {d}"),
        SkipKind::CapabilityNotDeclared => {
            format!("capability `{d}` not declared by target {target}")
        }
        SkipKind::NoModelAlias => format!("target {target} has no model for alias `{d}`"),
        SkipKind::Ignored => format!("ignored: {d}"),
        SkipKind::OverBudget => format!("budget: {d}"),
        SkipKind::NotForGateway => format!("not for a gateway: {d}"),
        SkipKind::Other => d.clone(),
    }
}

/// What a finding is labelled with: its scenario key, or `contract`.
fn label(f: &Finding) -> &str {
    &f.path
}

/// A finding as its one-line headline (`expect.text: text "x" does not contain "y"`).
pub(crate) fn finding_headline(f: &Finding) -> String {
    if f.kind == FindingKind::Deadline || f.path.is_empty() {
        return f.message.clone();
    }
    format!("{}: {}", label(f), f.message)
}

/// A finding as a detail line, with the location of the expectation it concerns.
pub(crate) fn finding_line(f: &Finding) -> String {
    format!("{} (at {})", finding_headline(f), f.location)
}

/// The outcome's message: the skip reason, the error, or the first finding. `None` for a pass.
pub(crate) fn headline(o: &Outcome) -> Option<String> {
    match o.status {
        Status::Pass => None,
        Status::Skip => o.skip.as_ref().map(|s| skip_reason(s, &o.target)),
        Status::Error => o.error.as_ref().map(|e| e.message.clone()),
        Status::Fail => o.findings.first().map(finding_headline),
    }
}

/// The outcome's message, or the empty string.
pub fn headline_or_empty(o: &Outcome) -> String {
    headline(o).unwrap_or_default()
}

/// Every detail line: each finding with its location, and why a record-mode trial was not
/// recorded. When a recording could not be written for a trial with findings, that refusal
/// leads, so the failure text shows it first.
pub(crate) fn detail_lines(o: &Outcome) -> Vec<String> {
    let mut out = Vec::new();
    let findings: Vec<String> = o
        .findings
        .iter()
        .filter(|f| f.kind != FindingKind::Deadline)
        .map(finding_line)
        .collect();
    if let Some(e) = &o.error
        && e.kind == crate::outcome::ErrorKind::RecordWrite
        && !findings.is_empty()
    {
        out.push(e.message.clone());
    }
    out.extend(findings);
    if let Some(why) = &o.not_recorded {
        out.push(format!("{NOT_RECORDED}{why}"));
    }
    out
}

/// Prefix of the detail saying why a record-mode trial's exchanges were not written.
pub(crate) const NOT_RECORDED: &str = "not recorded: ";

/// A recording's provenance as one line: `authored 2026-11-25 (gpt-4o-mini)`.
pub fn provenance(p: &Provenance) -> String {
    let src = match p.source {
        Source::Live => "live",
        Source::Authored => "authored",
    };
    match &p.model {
        Some(m) => format!("{src} {} ({m})", p.date),
        None => format!("{src} {}", p.date),
    }
}

/// The text libtest prints under a failed trial, and the reason it shows for a skipped one.
pub(crate) fn libtest_text(o: &Outcome) -> String {
    if o.status == Status::Skip {
        return headline_or_empty(o);
    }
    let mut s = format!("[{}]", o.status);
    let details = detail_lines(o);
    if details.is_empty() {
        s.push(' ');
        s.push_str(&headline_or_empty(o));
    }
    for d in &details {
        s.push_str("\n  ");
        s.push_str(d);
    }
    s.push_str(&format!("\n  scenario at {}", o.location));
    if let Some(r) = &o.recording {
        s.push_str(&format!("\n  recording {r}"));
    }
    s
}

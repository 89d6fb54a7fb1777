//! Outcomes as text: the one place where skips, errors and findings become the lines the
//! console, libtest, JUnit and the audit print. The outcome itself holds only typed values.

use crate::outcome::{
    Class, Finding, FindingKind, Outcome, Provenance, Repetitions, Skip, SkipKind, Source, Status,
};

/// A skip's reason as one line, e.g. `no key: OPENAI_API_KEY is not set`.
pub(crate) fn skip_reason(skip: &Skip, target: &str) -> String {
    let d = &skip.detail;
    match skip.kind {
        SkipKind::NoKey => format!("no key: {d}"),
        SkipKind::NotRecorded => format!("no recording at {d}"),
        SkipKind::NotApplicable => format!("not applicable: {d}"),
        SkipKind::CapabilityNotDeclared => {
            format!("capability `{d}` not declared by target {target}")
        }
        SkipKind::NoModelAlias => format!("target {target} has no model for alias `{d}`"),
        SkipKind::Ignored => format!("ignored: {d}"),
        SkipKind::OverBudget => format!("budget: {d}"),
        SkipKind::NotForGateway => format!("not for a gateway: {d}"),
        SkipKind::NotForClient => format!("not for a client: {d}"),
        SkipKind::Other => d.clone(),
    }
}

/// A skip as the console line and JUnit say it: `ignored (<reason>)` for a scenario marked
/// `ignore`, `skipped (<reason>)` for every other reason not to run (planned or found by the
/// run). `None` unless the trial was skipped.
pub(crate) fn skip_verdict(o: &Outcome) -> Option<String> {
    let skip = o.skip.as_ref().filter(|_| o.status == Status::Skip)?;
    Some(match skip.kind {
        SkipKind::Ignored => format!("ignored ({})", skip.detail),
        _ => format!("skipped ({})", skip_reason(skip, &o.target)),
    })
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

/// The outcome's message: the skip reason, the error, or the first finding (the first
/// contract finding when there is one: the wire matters before the model's choices). `None`
/// for a pass.
pub(crate) fn headline(o: &Outcome) -> Option<String> {
    match o.status {
        Status::Pass => None,
        Status::Skip => o.skip.as_ref().map(|s| skip_reason(s, &o.target)),
        Status::Error => o.error.as_ref().map(|e| e.message.clone()),
        Status::Fail => lead_finding(o).map(finding_headline),
    }
}

/// The finding a failure is known by: the first contract finding, else the first behaviour
/// finding. For a pass with behaviour warnings, the first warning.
pub(crate) fn lead_finding(o: &Outcome) -> Option<&Finding> {
    o.contract_findings()
        .next()
        .or_else(|| o.behaviour_findings().next())
}

/// What kind of finding makes the trial what it is: `contract` when any contract finding
/// (or a missed deadline) is among them, `behaviour` when only behaviour findings are, `None`
/// without findings.
pub(crate) fn finding_class(o: &Outcome) -> Option<&'static str> {
    match (o.contract_findings().next(), o.behaviour_findings().next()) {
        (Some(_), _) => Some(Class::Contract.as_str()),
        (None, Some(_)) => Some(Class::Behaviour.as_str()),
        (None, None) => None,
    }
}

/// What the trial judged, as reports name it: `provider`, `client`, `gateway`, `provcheck`,
/// or `client NAME` for a client under test (`--client-cmd`), which stands between provcheck
/// and even a recorded provider.
pub(crate) fn subject_label(o: &Outcome) -> String {
    match &o.client {
        Some(name) => format!("client {name}"),
        None => o.subject.as_str().to_string(),
    }
}

/// The class tag a detail line starts with.
fn class_tag(f: &Finding) -> &'static str {
    if f.is_behaviour() {
        "[behaviour]"
    } else {
        "[contract]"
    }
}

/// A finding as a tagged detail line: `[contract] expect.status: ... (at file:line:col)`. A
/// dialect breach is not labelled `contract` twice.
pub(crate) fn tagged_finding_line(f: &Finding) -> String {
    let body = if f.kind == FindingKind::Contract {
        format!("{} (at {})", f.message, f.location)
    } else {
        finding_line(f)
    };
    format!("{} {body}", class_tag(f))
}

/// The outcome's message, or the empty string.
pub fn headline_or_empty(o: &Outcome) -> String {
    headline(o).unwrap_or_default()
}

/// Every detail line: each finding with its class and location, and why a record-mode trial was not
/// recorded. When a recording could not be written for a trial with findings, that refusal
/// leads, so the failure text shows it first.
pub(crate) fn detail_lines(o: &Outcome) -> Vec<String> {
    let mut out = Vec::new();
    // Contract findings first, then behaviour: the two kinds apart, each tagged.
    let findings: Vec<String> = o
        .contract_findings()
        .chain(o.behaviour_findings())
        .filter(|f| f.kind != FindingKind::Deadline)
        .map(tagged_finding_line)
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

/// How a repeated scenario's behaviour went: `behaviour held in 3/5 repetitions (pass_rate 0.6)`.
pub(crate) fn repetitions(r: &Repetitions) -> String {
    format!(
        "behaviour held in {}/{} repetitions (pass_rate {})",
        r.behaviour_passed, r.n, r.pass_rate
    )
}

/// The text libtest prints under a failed trial, and the reason it shows for a skipped one.
pub(crate) fn libtest_text(o: &Outcome) -> String {
    if o.status == Status::Skip {
        return headline_or_empty(o);
    }
    let mut s = format!("[{}] subject {}", o.status, subject_label(o));
    if let Some(c) = finding_class(o) {
        s.push_str(&format!(" · {c}"));
    }
    if let Some(r) = &o.repetitions {
        s.push_str(&format!(" · {}", repetitions(r)));
    }
    let details = detail_lines(o);
    if details.is_empty() {
        s.push_str(" · ");
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

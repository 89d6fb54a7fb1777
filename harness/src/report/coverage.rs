//! What the audit computes from a run record, kept apart from how it is written: the scenario ×
//! target matrix, coverage weighted by priority, and the gaps ranked by what they risk.

use std::collections::BTreeMap;

use crate::dialect::DialectKind;
use crate::outcome::SkipKind;
use crate::outcome::{Mode, Outcome, Status};
use crate::report::run_record::{RunRecord, ScenarioInfo};
use crate::suite::Priority;

/// A priority's weight in coverage and gap ranking: each step up doubles, so one critical
/// trial outweighs a high and a medium together.
pub(crate) fn weight(p: Priority) -> u64 {
    match p {
        Priority::Critical => 8,
        Priority::High => 4,
        Priority::Medium => 2,
        Priority::Low => 1,
    }
}

/// Every priority, most important first.
pub(crate) const PRIORITIES: [Priority; 4] = [
    Priority::Critical,
    Priority::High,
    Priority::Medium,
    Priority::Low,
];

/// The kind of a skip; `None` when the trial was not skipped.
pub(crate) fn skip_kind(o: &Outcome) -> Option<SkipKind> {
    o.skip_kind().filter(|_| o.status == Status::Skip)
}

/// A trial counts towards coverage unless its target declares that the scenario is not for
/// it (a capability or model alias it lacks). A skip for want of a key or a recording does
/// count: the check applies, there is just no evidence.
pub(crate) fn applicable(o: &Outcome) -> bool {
    !skip_kind(o).is_some_and(SkipKind::not_declared)
}

/// Whether a passing trial's evidence comes from the real API: a live run, a trial that sent
/// to a real API (record mode), or a replay of a recording captured live.
pub(crate) fn live_evidence(o: &Outcome) -> bool {
    o.mode == Mode::Live || o.spent.is_some() || o.provenance.as_ref().is_some_and(|p| p.is_live())
}

/// Passing and applicable counts and weights.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Tally {
    /// Applicable trials.
    pub applicable: usize,
    /// Passing trials.
    pub passing: usize,
    /// Sum of the applicable trials' weights.
    pub applicable_weight: u64,
    /// Sum of the passing trials' weights.
    pub passing_weight: u64,
    /// Sum of the weights of passing trials with live evidence.
    pub live_weight: u64,
}

impl Tally {
    /// Counts `o`, passing or not as the caller judges it.
    fn add_as(&mut self, o: &Outcome, passing: bool) {
        if !applicable(o) {
            return;
        }
        let w = weight(o.priority);
        self.applicable += 1;
        self.applicable_weight += w;
        if passing {
            self.passing += 1;
            self.passing_weight += w;
            if live_evidence(o) {
                self.live_weight += w;
            }
        }
    }
}

/// Coverage overall, per target and per priority.
#[derive(Debug, Clone, Default)]
pub(crate) struct Coverage {
    /// All trials.
    pub total: Tally,
    /// By priority.
    pub by_priority: BTreeMap<Priority, Tally>,
    /// By target, then priority.
    pub by_target: BTreeMap<String, (Tally, BTreeMap<Priority, Tally>)>,
}

/// Weighted coverage: Σ weight(passing) / Σ weight(applicable).
pub(crate) fn coverage(outcomes: &[Outcome]) -> Coverage {
    let mut c = Coverage::default();
    for o in outcomes {
        c.add(o, o.status == Status::Pass);
    }
    c
}

impl Coverage {
    fn add(&mut self, o: &Outcome, passing: bool) {
        self.add_under(o, passing, o.target.clone());
    }

    /// Counts `o` in the totals and under `row` (a target, or a client on a target).
    fn add_under(&mut self, o: &Outcome, passing: bool, row: String) {
        self.total.add_as(o, passing);
        self.by_priority
            .entry(o.priority)
            .or_default()
            .add_as(o, passing);
        let (t, per) = self.by_target.entry(row).or_default();
        t.add_as(o, passing);
        per.entry(o.priority).or_default().add_as(o, passing);
    }
}

/// The three kinds of evidence the audit keeps apart. A trial is evidence about the provider
/// only when it reached the target (live or its recording); one whose every reply came from
/// a fault script judged the client (or the gateway) in front of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Evidence {
    /// The provider's replies against the wire contract, model behaviour aside.
    ProviderConformance,
    /// The client's or gateway's retries, backoff, deadlines and breaker against scripted
    /// faults.
    ClientResilience,
    /// What the model chose to say, in trials that reached the target and judge it.
    ModelBehaviour,
}

impl Evidence {
    /// In the order the audit shows them.
    pub(crate) const ALL: [Evidence; 3] = [
        Evidence::ProviderConformance,
        Evidence::ClientResilience,
        Evidence::ModelBehaviour,
    ];

    /// The name the audit shows.
    pub(crate) fn label(self) -> &'static str {
        match self {
            Evidence::ProviderConformance => "provider conformance",
            Evidence::ClientResilience => "client resilience",
            Evidence::ModelBehaviour => "model behaviour",
        }
    }

    /// Whether `o` is evidence of this kind.
    pub(crate) fn covers(self, o: &Outcome) -> bool {
        match self {
            Evidence::ProviderConformance => o.judged_provider(),
            Evidence::ClientResilience => o.judged_client().is_some(),
            Evidence::ModelBehaviour => o.judged_provider() && o.behaviour_checked,
        }
    }

    /// Whether `o` passes as evidence of this kind: it was judged (not skipped or errored)
    /// and has no finding of the kind that counts. Conformance and resilience ignore
    /// behaviour findings; behaviour ignores contract findings and needs its repetitions to
    /// meet their pass rate.
    pub(crate) fn passes(self, o: &Outcome) -> bool {
        if !matches!(o.status, Status::Pass | Status::Fail) {
            return false;
        }
        match self {
            Evidence::ProviderConformance | Evidence::ClientResilience => {
                o.contract_findings().next().is_none()
            }
            Evidence::ModelBehaviour => {
                o.behaviour_findings().next().is_none()
                    && o.repetitions.is_none_or(|r| r.behaviour_holds())
            }
        }
    }
}

/// Weighted coverage of one kind of evidence: its trials only, each passing by that kind's
/// measure.
pub(crate) fn evidence_coverage(outcomes: &[Outcome], ev: Evidence) -> Coverage {
    let mut c = Coverage::default();
    for o in outcomes.iter().filter(|o| ev.covers(o)) {
        // Client resilience is per client: provcheck's own, a gateway, or a client under test.
        let row = match (ev, o.judged_client()) {
            (Evidence::ClientResilience, Some(client)) => format!("{client} · {}", o.target),
            _ => o.target.clone(),
        };
        c.add_under(o, ev.passes(o), row);
    }
    c
}

/// What a matrix cell holds.
#[derive(Debug, Clone)]
pub(crate) enum Cell<'a> {
    /// The trial's outcome.
    Ran(&'a Outcome),
    /// No trial (an older run record, or a trial not selected), and the scenario does not
    /// apply to this target's dialect, for this reason.
    OtherDialect(String),
    /// The scenario applies but was not selected in this run (filter, tag, partition).
    NotRun,
}

/// One scenario's row.
#[derive(Debug, Clone)]
pub(crate) struct Row<'a> {
    /// The scenario.
    pub scenario: ScenarioInfo,
    /// One cell per column of [`Matrix::targets`].
    pub cells: Vec<Cell<'a>>,
}

/// The scenario × target matrix, grouped by category.
#[derive(Debug, Clone)]
pub(crate) struct Matrix<'a> {
    /// Column order.
    pub targets: Vec<String>,
    /// Category -> rows in suite and file order.
    pub categories: BTreeMap<String, Vec<Row<'a>>>,
}

/// Builds the matrix from the record's suites (so scenarios that did not run still show) and
/// its outcomes (so a trial of a scenario the record does not list still shows).
pub(crate) fn matrix(record: &RunRecord) -> Matrix<'_> {
    let mut targets: Vec<String> = record.targets.iter().map(|t| t.name.clone()).collect();
    for o in &record.outcomes {
        if !targets.contains(&o.target) {
            targets.push(o.target.clone());
        }
    }
    let dialect_of = |name: &str| -> Option<DialectKind> {
        record.target(name).map(|t| t.dialect).or_else(|| {
            record
                .outcomes
                .iter()
                .find(|o| o.target == name)
                .map(|o| o.dialect)
        })
    };
    let mut by_trial: BTreeMap<(&str, &str, &str), &Outcome> = BTreeMap::new();
    for o in &record.outcomes {
        by_trial.insert((&o.suite, &o.scenario, &o.target), o);
    }
    let mut scenarios: Vec<(String, ScenarioInfo)> = Vec::new();
    let mut known: std::collections::HashSet<(String, String)> = Default::default();
    for s in &record.suites {
        for sc in &s.scenarios {
            scenarios.push((s.name.clone(), sc.clone()));
            known.insert((s.name.clone(), sc.id.clone()));
        }
    }
    for o in &record.outcomes {
        if known.insert((o.suite.clone(), o.scenario.clone())) {
            scenarios.push((
                o.suite.clone(),
                ScenarioInfo {
                    id: o.scenario.clone(),
                    title: o.title.clone(),
                    category: o.category.clone(),
                    priority: o.priority,
                    requires: Vec::new(),
                    dialects: None,
                    not_applicable: BTreeMap::new(),
                    tags: o.tags.clone(),
                },
            ));
        }
    }
    let mut categories: BTreeMap<String, Vec<Row<'_>>> = BTreeMap::new();
    for (suite, sc) in scenarios {
        let cells = targets
            .iter()
            .map(
                |t| match by_trial.get(&(suite.as_str(), sc.id.as_str(), t.as_str())) {
                    Some(o) => Cell::Ran(o),
                    None => match dialect_of(t).and_then(|d| sc.not_applicable_to(d)) {
                        Some(reason) => Cell::OtherDialect(reason),
                        None => Cell::NotRun,
                    },
                },
            )
            .collect();
        categories
            .entry(sc.category.clone())
            .or_default()
            .push(Row {
                scenario: sc,
                cells,
            });
    }
    Matrix {
        targets,
        categories,
    }
}

/// What kind of gap, in order of production impact.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum GapKind {
    /// The provider or subject broke an expectation or its contract.
    Failing,
    /// A target the run requires was not exercised (no key, no recording).
    RequiredSkipped,
    /// provcheck could not run the trial: the behaviour is unknown.
    Error,
    /// Live, and the target's key was not set.
    NoKey,
    /// Replay, and no recording exists.
    NotRecorded,
    /// Live or record, and the run's budget was spent before the trial could send.
    OverBudget,
    /// The scenario is marked ignore.
    Ignored,
    /// Skipped for another reason.
    OtherSkip,
    /// The target does not declare a capability or model the scenario needs, or (gateway
    /// mode) the scenario judges provcheck's own client.
    NotDeclared,
    /// Passes only on a recording authored from documentation, never confirmed live.
    AuthoredOnly,
}

impl GapKind {
    /// Multiplies the priority weight in the ranking.
    pub(crate) fn impact(self) -> u64 {
        match self {
            GapKind::Failing | GapKind::RequiredSkipped => 4,
            GapKind::Error => 3,
            GapKind::NoKey | GapKind::NotRecorded | GapKind::OverBudget => 2,
            GapKind::Ignored
            | GapKind::OtherSkip
            | GapKind::NotDeclared
            | GapKind::AuthoredOnly => 1,
        }
    }

    /// How the audit names it.
    pub(crate) fn label(self) -> &'static str {
        match self {
            GapKind::Failing => "failing",
            GapKind::RequiredSkipped => "required target skipped",
            GapKind::Error => "could not run",
            GapKind::NoKey => "skipped: no key",
            GapKind::NotRecorded => "not recorded",
            GapKind::OverBudget => "skipped: over budget",
            GapKind::Ignored => "ignored",
            GapKind::OtherSkip => "skipped",
            GapKind::NotDeclared => "capability not declared",
            GapKind::AuthoredOnly => "authored, never confirmed live",
        }
    }

    /// Every kind, in rank order.
    pub(crate) const ALL: [GapKind; 10] = [
        GapKind::Failing,
        GapKind::RequiredSkipped,
        GapKind::Error,
        GapKind::NoKey,
        GapKind::NotRecorded,
        GapKind::OverBudget,
        GapKind::Ignored,
        GapKind::OtherSkip,
        GapKind::NotDeclared,
        GapKind::AuthoredOnly,
    ];
}

/// One gap: a trial (or, for authored recordings, a scenario on several targets) that lacks
/// passing live evidence.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Gap {
    /// The scenario's priority.
    pub priority: Priority,
    /// `suite::scenario`.
    pub scenario: String,
    /// Its title.
    pub title: String,
    /// The targets concerned.
    pub targets: Vec<String>,
    /// What kind.
    pub kind: GapKind,
    /// Why, in one line.
    pub why: String,
}

impl Gap {
    /// weight(priority) × impact(kind).
    pub(crate) fn score(&self) -> u64 {
        weight(self.priority) * self.kind.impact()
    }
}

/// The kind of gap an outcome is, if any.
pub(crate) fn gap_kind(o: &Outcome, required: bool) -> Option<GapKind> {
    Some(match o.status {
        Status::Fail => GapKind::Failing,
        Status::Error => GapKind::Error,
        Status::Pass if live_evidence(o) => return None,
        Status::Pass
            if o.provenance
                .as_ref()
                .is_some_and(|p| p.source == crate::outcome::Source::Authored) =>
        {
            GapKind::AuthoredOnly
        }
        Status::Pass => return None,
        Status::Skip => match skip_kind(o).unwrap_or(SkipKind::Other) {
            // The API does not define the behaviour there: nothing is missing.
            SkipKind::NotApplicable => return None,
            k if required && k.target_unavailable() => GapKind::RequiredSkipped,
            SkipKind::NoKey => GapKind::NoKey,
            SkipKind::NotRecorded => GapKind::NotRecorded,
            SkipKind::CapabilityNotDeclared
            | SkipKind::NoModelAlias
            | SkipKind::NotForGateway
            | SkipKind::NotForClient => GapKind::NotDeclared,
            SkipKind::Ignored => GapKind::Ignored,
            SkipKind::OverBudget => GapKind::OverBudget,
            SkipKind::Other => GapKind::OtherSkip,
        },
    })
}

/// The gaps, highest score first; ties go to the more harmful kind, then the higher
/// priority, then by name. Authored-only passes are grouped per scenario: one line per
/// scenario says which targets still lack live evidence.
pub(crate) fn gaps(record: &RunRecord) -> Vec<Gap> {
    let mut out: Vec<Gap> = Vec::new();
    // Where each scenario's authored-only gap is in `out`: a lookup, not a scan per outcome.
    let mut authored: std::collections::HashMap<String, usize> = Default::default();
    for o in &record.outcomes {
        let required = record.target(&o.target).is_some_and(|t| t.required);
        let Some(kind) = gap_kind(o, required) else {
            continue;
        };
        let scenario = format!("{}::{}", o.suite, o.scenario);
        if kind == GapKind::AuthoredOnly {
            if let Some(&i) = authored.get(&scenario) {
                out[i].targets.push(o.target.clone());
                continue;
            }
            authored.insert(scenario.clone(), out.len());
        }
        let why = match kind {
            GapKind::AuthoredOnly => "replayed recording is authored from documentation".into(),
            _ => crate::report::text::headline(o)
                .as_deref()
                .and_then(|m| m.lines().next())
                .unwrap_or("")
                .to_string(),
        };
        out.push(Gap {
            priority: o.priority,
            scenario,
            title: o.title.clone(),
            targets: vec![o.target.clone()],
            kind,
            why,
        });
    }
    out.sort_by(|a, b| {
        b.score()
            .cmp(&a.score())
            .then(a.kind.cmp(&b.kind))
            .then(a.priority.cmp(&b.priority))
            .then(a.scenario.cmp(&b.scenario))
            .then(a.targets.cmp(&b.targets))
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::test_support::{outcome, record};

    fn pass(t: &str, p: Priority) -> Outcome {
        outcome(t, p, Status::Pass, None)
    }

    #[test]
    fn weighted_coverage_drops_by_the_failing_weight() {
        let mut outcomes = vec![
            pass("s::crit::openai", Priority::Critical),
            pass("s::high::openai", Priority::High),
            pass("s::low::openai", Priority::Low),
            outcome(
                "s::json::anthropic",
                Priority::High,
                Status::Skip,
                Some("capability `json_mode` not declared by target anthropic"),
            ),
        ];
        let c = coverage(&outcomes);
        assert_eq!(
            (c.total.passing_weight, c.total.applicable_weight),
            (13, 13)
        );
        assert_eq!(
            c.total.applicable, 3,
            "the undeclared capability is not applicable"
        );
        outcomes[0].status = Status::Fail;
        let c = coverage(&outcomes);
        assert_eq!((c.total.passing_weight, c.total.applicable_weight), (5, 13));
        assert_eq!(c.by_priority[&Priority::Critical].passing, 0);
        // A missing key is applicable and not passing: it lowers coverage.
        outcomes.push(outcome(
            "s::crit::anthropic",
            Priority::Critical,
            Status::Skip,
            Some("no key: ANTHROPIC_API_KEY is not set"),
        ));
        let c = coverage(&outcomes);
        assert_eq!((c.total.passing_weight, c.total.applicable_weight), (5, 21));
        assert_eq!(c.by_target["anthropic"].0.applicable_weight, 8);
        assert_eq!(
            c.total.live_weight, 0,
            "authored recordings are not live evidence"
        );
    }

    #[test]
    fn matrix_marks_other_dialects_and_trials_not_run() {
        let mut r = record(vec![
            pass("s::a::openai", Priority::High),
            pass("s::b::anthropic", Priority::High),
        ]);
        r.suites[0].scenarios[1].dialects = Some(vec![DialectKind::Anthropic]);
        let m = matrix(&r);
        assert_eq!(m.targets, ["openai", "anthropic"]);
        let rows = &m.categories["s"];
        assert!(matches!(rows[0].cells[0], Cell::Ran(o) if o.trial == "s::a::openai"));
        assert!(matches!(rows[0].cells[1], Cell::NotRun));
        assert!(
            matches!(&rows[1].cells[0], Cell::OtherDialect(r) if r.contains("limited to anthropic"))
        );
        assert!(matches!(rows[1].cells[1], Cell::Ran(_)));
    }

    #[test]
    fn gaps_rank_by_priority_times_impact() {
        let mut r = record(vec![
            outcome(
                "s::low_fail::openai",
                Priority::Low,
                Status::Fail,
                Some("x"),
            ),
            outcome(
                "s::crit_nokey::anthropic",
                Priority::Critical,
                Status::Skip,
                Some("no key: ANTHROPIC_API_KEY is not set"),
            ),
            outcome(
                "s::med_fail::openai",
                Priority::Medium,
                Status::Fail,
                Some("y"),
            ),
            pass("s::crit_pass::openai", Priority::Critical),
            pass("s::crit_pass::anthropic", Priority::Critical),
        ]);
        let g = gaps(&r);
        let order: Vec<(&str, GapKind)> = g.iter().map(|g| (g.scenario.as_str(), g.kind)).collect();
        assert_eq!(
            order,
            [
                ("s::crit_nokey", GapKind::NoKey),
                ("s::med_fail", GapKind::Failing),
                ("s::crit_pass", GapKind::AuthoredOnly),
                ("s::low_fail", GapKind::Failing),
            ]
        );
        assert_eq!(g[2].targets, ["openai", "anthropic"]);
        // Required: the same skip becomes the top gap, with its reason.
        r.targets
            .iter_mut()
            .find(|t| t.name == "anthropic")
            .unwrap()
            .required = true;
        let g = gaps(&r);
        assert_eq!(g[0].kind, GapKind::RequiredSkipped);
        assert_eq!(g[0].why, "no key: ANTHROPIC_API_KEY is not set");
        assert_eq!(g[0].score(), 32);
    }
}

//! The judge step of a trial: each reply against its dialect's contract (unless the scenario
//! looks for that breach), then against the step's expectations (or the override that
//! applies), repetition by repetition; then the verdict from what was found.
//!
//! Contract findings fail the trial whichever repetition they came from. Behaviour findings
//! count per repetition: the trial keeps its behaviour expectations when at least
//! `pass_rate` of the repetitions had none. What a run does with behaviour findings alone is
//! `--behaviour fail|warn` ([`BehaviourMode`]).

use super::plan::PlannedTrial;
use super::trial::{RunContext, StepPlan};
use crate::expect::{Expect, evaluate};
use crate::observation::{Observation, StepObservation};
#[cfg(test)]
use crate::outcome::BehaviourMode;
use crate::outcome::{Class, Finding, FindingKind, Outcome, Repetitions};

/// Judges every repetition of a trial and sets its verdict.
pub(super) fn judge(
    ctx: &RunContext,
    t: &PlannedTrial,
    steps: &[StepPlan<'_>],
    repetitions: &[Observation],
    outcome: &mut Outcome,
) {
    let dialect = ctx.gateway.as_ref().map_or(t.target.dialect, |g| g.dialect);
    let judged: Vec<Vec<Finding>> = repetitions
        .iter()
        .map(|obs| {
            let mut found = Vec::new();
            judge_once(ctx, t, steps, obs, dialect, &outcome.location, &mut found);
            found
        })
        .collect();
    if judged.len() > 1 {
        let (findings, reps) = over_repetitions(judged, t.scenario.pass_rate());
        outcome.findings.extend(findings);
        outcome.repetitions = Some(reps);
    } else {
        outcome.findings.extend(judged.into_iter().flatten());
    }
    outcome.settle_verdict(ctx.behaviour);
}

/// The findings of several repetitions as one trial's: every contract finding, marked with
/// its repetition; the behaviour findings only when too few repetitions kept them, led by a
/// finding saying how many did, then the first failing repetition's own.
fn over_repetitions(judged: Vec<Vec<Finding>>, pass_rate: f64) -> (Vec<Finding>, Repetitions) {
    let n = judged.len();
    let mut contract = Vec::new();
    let mut first_miss: Option<Vec<Finding>> = None;
    let mut passed = 0u32;
    for (i, found) in judged.into_iter().enumerate() {
        let mark = |mut f: Finding| {
            f.message = format!("repetition {}/{n}: {}", i + 1, f.message);
            f
        };
        let (behaviour, wire): (Vec<Finding>, Vec<Finding>) =
            found.into_iter().partition(Finding::is_behaviour);
        contract.extend(wire.into_iter().map(mark));
        if behaviour.is_empty() {
            passed += 1;
        } else if first_miss.is_none() {
            first_miss = Some(behaviour.into_iter().map(mark).collect());
        }
    }
    let reps = Repetitions {
        n: n as u32,
        behaviour_passed: passed,
        pass_rate,
    };
    let mut findings = contract;
    if !reps.behaviour_holds()
        && let Some(miss) = first_miss
    {
        let needed = (pass_rate * n as f64 - 1e-9).ceil() as u64;
        findings.push(Finding {
            path: "pass_rate".into(),
            kind: FindingKind::Expectation,
            class: Some(Class::Behaviour),
            message: format!(
                "behaviour expectations held in {passed} of {n} repetitions; pass_rate {pass_rate} needs {needed}"
            ),
            location: miss[0].location.clone(),
        });
        findings.extend(miss);
    }
    (findings, reps)
}

/// One repetition: every step's contract breaches and expectation findings, in step order.
fn judge_once(
    ctx: &RunContext,
    t: &PlannedTrial,
    steps: &[StepPlan<'_>],
    observation: &Observation,
    dialect: crate::dialect::DialectKind,
    scenario_location: &str,
    out: &mut Vec<Finding>,
) {
    let (target, sc) = (&t.target, &t.scenario);
    for (step_index, (plan, step)) in steps.iter().zip(&observation.steps).enumerate() {
        let keys = match &ctx.client {
            Some(_) => super::client_cmd::override_keys(target).to_vec(),
            None => super::gateway::override_keys(target, ctx.gateway.as_ref().map(|g| g.dialect)),
        };
        let override_key = keys.into_iter().find(|k| plan.overrides.contains_key(*k));
        let prefix = &plan.prefix;
        let (expect, expect_path) = match override_key {
            Some(k) => (&plan.overrides[k], format!("{prefix}overrides.{k}")),
            None => (plan.expect, format!("{prefix}expect")),
        };
        let base_url = ctx.gateway.as_ref().map_or(&target.base_url, |g| &g.url);
        contract_findings(expect, step, dialect, base_url, scenario_location, out);
        for f in evaluate(expect, step, &observation.steps[..step_index]) {
            let path = format!("{expect_path}.{}", f.key);
            let location = sc
                .expect_locations
                .get(&path)
                .or_else(|| sc.expect_locations.get(&expect_path))
                .map(ToString::to_string)
                .unwrap_or_else(|| scenario_location.to_string());
            out.push(Finding {
                path,
                kind: f.kind,
                class: f.class,
                message: f.message,
                location,
            });
        }
    }
}

/// The dialect contract breaches of a step's replies that the scenario is not looking for.
fn contract_findings(
    expect: &Expect,
    step: &StepObservation,
    dialect: crate::dialect::DialectKind,
    base_url: &str,
    scenario_location: &str,
    out: &mut Vec<Finding>,
) {
    let n = step.copies.len();
    for (i, copy) in step.copies.iter().enumerate() {
        let Ok(reply) = &copy.result else { continue };
        let expects_404 = expect.status == Some(404)
            || expect.error.is_some()
            || expect
                .stream
                .as_ref()
                .is_some_and(|s| s.well_formed == Some(false));
        if reply.status == 404 && !reply.violations.is_empty() && !expects_404 {
            // A body that is not the dialect's error on a 404 is most often another server's
            // page: the route is not where the base URL says. That comes first, not the
            // missing fields it leads to.
            out.push(Finding {
                path: "contract".into(),
                kind: FindingKind::Contract,
                class: Some(Class::Contract),
                message: format!(
                    "HTTP 404 (wrong base URL? {})",
                    super::preflight::base_url_hint(dialect, base_url)
                ),
                location: scenario_location.to_string(),
            });
        }
        for v in reply
            .violations
            .iter()
            .filter(|v| !breach_expected(expect, v))
        {
            let who = if n > 1 {
                format!("copy {}/{n}: ", i + 1)
            } else {
                String::new()
            };
            out.push(Finding {
                path: "contract".into(),
                kind: FindingKind::Contract,
                class: Some(Class::Contract),
                message: format!("{who}{} contract: {v}", dialect.as_str()),
                location: scenario_location.to_string(),
            });
        }
    }
}

/// Contract breaches a scenario is looking for are its subject, not failures: every breach
/// when it expects a broken stream (`well_formed: false`), the one it names (`violation`), and
/// the mid-stream error event when it expects one.
fn breach_expected(expect: &Expect, violation: &str) -> bool {
    let stream = expect.stream.as_ref();
    let all = stream.is_some_and(|s| s.well_formed == Some(false));
    let named = stream
        .and_then(|s| s.violation.as_deref())
        .is_some_and(|v| violation.contains(v));
    let stream_error = expect
        .error
        .as_ref()
        .is_some_and(|e| e.kind == Some(crate::expect::spec::ErrorKind::Stream));
    all || named || (stream_error && violation.starts_with("mid-stream error"))
}

/// Whether a scenario judges what the model chose to say anywhere: in any step's
/// expectations or any override.
pub(super) fn scenario_judges_behaviour(sc: &crate::suite::Scenario) -> bool {
    use crate::expect::judges_behaviour;
    sc.expect.iter().any(judges_behaviour)
        || sc.overrides.values().any(judges_behaviour)
        || sc
            .steps
            .iter()
            .any(|s| judges_behaviour(&s.expect) || s.overrides.values().any(judges_behaviour))
}

/// What `--behaviour` makes of a trial's findings; exposed for the verdict's tests.
#[cfg(test)]
fn verdict(findings: Vec<Finding>, mode: BehaviourMode) -> crate::outcome::Status {
    let mut o = crate::report::test_support::outcome(
        "s::a::t",
        crate::suite::Priority::High,
        crate::outcome::Status::Pass,
        None,
    );
    o.findings = findings;
    o.settle_verdict(mode);
    o.status
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outcome::Status;

    fn f(class: Option<Class>, msg: &str) -> Finding {
        Finding {
            path: "expect.text".into(),
            kind: FindingKind::Expectation,
            class,
            message: msg.into(),
            location: "s.yaml:1:1".into(),
        }
    }

    #[test]
    fn behaviour_alone_fails_or_warns_by_mode_and_contract_always_fails() {
        let b = || vec![f(Some(Class::Behaviour), "no PINEAPPLE")];
        assert_eq!(verdict(b(), BehaviourMode::Fail), Status::Fail);
        assert_eq!(verdict(b(), BehaviourMode::Warn), Status::Pass);
        let both = || {
            let mut v = b();
            v.push(f(Some(Class::Contract), "finish_reason stop at the limit"));
            v
        };
        assert_eq!(verdict(both(), BehaviourMode::Warn), Status::Fail);
        // A missed deadline has no class: it is never a mere behaviour warning.
        assert_eq!(
            verdict(vec![f(None, "deadline")], BehaviourMode::Warn),
            Status::Fail
        );
        assert_eq!(verdict(vec![], BehaviourMode::Fail), Status::Pass);
    }

    #[test]
    fn repetitions_need_the_pass_rate_for_behaviour_and_every_one_for_contract() {
        // 3 of 5 repetitions said the word.
        let reps = |contract_breach_in: Option<usize>| -> Vec<Vec<Finding>> {
            (0..5)
                .map(|i| {
                    let mut v = Vec::new();
                    if i >= 3 {
                        v.push(f(Some(Class::Behaviour), "no PINEAPPLE"));
                    }
                    if contract_breach_in == Some(i) {
                        v.push(f(Some(Class::Contract), "usage missing"));
                    }
                    v
                })
                .collect()
        };
        let (found, r) = over_repetitions(reps(None), 0.6);
        assert!(found.is_empty(), "{found:?}");
        assert_eq!((r.n, r.behaviour_passed), (5, 3));
        let (found, r) = over_repetitions(reps(None), 0.8);
        assert!(!r.behaviour_holds());
        assert_eq!(
            found[0].message,
            "behaviour expectations held in 3 of 5 repetitions; pass_rate 0.8 needs 4"
        );
        assert_eq!(found[1].message, "repetition 4/5: no PINEAPPLE");
        assert!(found.iter().all(Finding::is_behaviour));
        let (found, _) = over_repetitions(reps(Some(1)), 0.6);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].message, "repetition 2/5: usage missing");
        assert!(!found[0].is_behaviour());
    }
}

//! libtest-mimic integration: one trial per planned (scenario, target), all run on one static
//! multi-thread tokio runtime with one shared HTTP client; outcomes collected for the reports.

use std::sync::{Arc, Mutex};

use libtest_mimic::{Arguments, Completion, Conclusion, Failed, Trial};

use super::plan::{Partition, PlannedTrial};
use super::trial::{RunContext, blank_outcome, execute};
use crate::outcome::{Outcome, Skip, SkipKind, Status};
use crate::runtime::runtime;

/// The result of a run: libtest's conclusion and every outcome, sorted by trial name.
pub struct RunResult {
    /// libtest-mimic's counts.
    pub conclusion: Conclusion,
    /// One outcome per selected trial (skips included).
    pub outcomes: Vec<Outcome>,
}

/// Why a run could not start.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// A filter selected nothing: almost always a typo, and a green run would hide it.
    #[error("no trial matches the filter {0:?} (use --list to see the trial names)")]
    NothingMatched(String),
}

/// The text libtest shows for a finished trial: the failure under a failed or errored one,
/// the reason beside a skipped one. The caller supplies it, so the run never renders
/// outcomes itself.
pub type TrialText = fn(&Outcome) -> String;

/// Runs the planned trials through libtest-mimic. With a partition, only this shard's share
/// of the plan (round-robin over the sorted trial names) reaches libtest, and libtest's name
/// filters apply within the shard.
pub fn run(
    args: &Arguments,
    plan: Vec<PlannedTrial>,
    ctx: Arc<RunContext>,
    partition: Option<Partition>,
    text: TrialText,
) -> Result<RunResult, RunError> {
    let collected: Arc<Mutex<Vec<Outcome>>> = Arc::new(Mutex::new(Vec::with_capacity(plan.len())));
    let mut trials = Vec::with_capacity(plan.len());
    // Counted over the whole plan, not the shard: a filter that matches only other shards'
    // trials is not a typo, and its shard is simply empty.
    let mut matched = 0usize;
    for (position, planned) in plan.into_iter().enumerate() {
        let ignored_reason = planned.scenario.ignore.clone();
        let name = planned.name.clone();
        let mut probe = Trial::test(name.clone(), || Ok(()));
        if ignored_reason.is_some() {
            probe = probe.with_ignored_flag(true);
        }
        if args.is_filtered_out(&probe) {
            continue;
        }
        matched += 1;
        if partition.is_some_and(|p| !p.contains(position)) {
            continue;
        }
        if args.is_ignored(&probe) && !args.list {
            // libtest never calls an ignored trial; record its skip here so it is not silent.
            let mut o = blank_outcome(&planned, ctx.mode);
            let reason = ignored_reason.as_deref().unwrap_or("");
            o.set_skip(Skip::new(SkipKind::Ignored, reason));
            collected.lock().unwrap_or_else(|p| p.into_inner()).push(o);
        }
        let sink = collected.clone();
        let ctx = ctx.clone();
        let trial = Trial::ignorable_test(name, move || {
            let outcome = runtime().block_on(execute(&ctx, &planned));
            let verdict = match outcome.status {
                Status::Pass => Ok(Completion::Completed),
                Status::Skip => Ok(Completion::ignored_with(text(&outcome))),
                Status::Fail | Status::Error => Err(Failed::from(text(&outcome))),
            };
            // Kept until the reports are written: trimmed to size (a first push reserves
            // room for four exchanges; most trials send one request).
            let mut outcome = outcome;
            outcome.exchanges.shrink_to_fit();
            sink.lock().unwrap_or_else(|p| p.into_inner()).push(outcome);
            verdict
        })
        .with_ignored_flag(ignored_reason.is_some());
        trials.push(trial);
    }
    if matched == 0
        && let Some(f) = &args.filter
    {
        return Err(RunError::NothingMatched(f.clone()));
    }
    if args.list && args.logfile.is_none() {
        // libtest-mimic's list, the same lines, but buffered: it writes one line per system
        // call, and for 10,000 trials that was a good part of the time of `--list`.
        use std::io::Write;
        let mut out = std::io::BufWriter::new(std::io::stdout().lock());
        for t in trials
            .iter()
            .filter(|t| !args.ignored || t.has_ignored_flag())
        {
            let kind = if t.kind().is_empty() {
                String::new()
            } else {
                format!("[{}] ", t.kind())
            };
            let what = if t.is_bench() { "bench" } else { "test" };
            let _ = writeln!(out, "{kind}{}: {what}", t.name());
        }
        let _ = out.flush();
        let conclusion = Conclusion {
            num_filtered_out: 0,
            num_passed: 0,
            num_failed: 0,
            num_ignored: 0,
            num_measured: 0,
        };
        return Ok(RunResult {
            conclusion,
            outcomes: Vec::new(),
        });
    }
    // Only trials that survived filtering are passed on: libtest-mimic would otherwise count
    // them as "filtered out", which is right, but we already know the count.
    let conclusion = libtest_mimic::run(args, trials);
    let mut outcomes = std::mem::take(&mut *collected.lock().unwrap_or_else(|p| p.into_inner()));
    // Trial names are unique, so an unstable sort gives the same order without a scratch
    // copy of every outcome at the run's peak.
    outcomes.sort_unstable_by(|a, b| a.trial.cmp(&b.trial));
    Ok(RunResult {
        conclusion,
        outcomes,
    })
}

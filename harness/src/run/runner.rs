//! libtest-mimic integration: one trial per planned (scenario, target), all run on one static
//! multi-thread tokio runtime with one shared HTTP client; outcomes collected for the reports.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use libtest_mimic::{Arguments, Conclusion, Trial};

use super::printer::{Job, Verdict};

use super::plan::{Partition, PlannedTrial};
use super::preflight::{PREFLIGHT_TIMEOUT, Unusable, check_all};
use super::trial::{RunContext, blank_outcome, execute};
use crate::outcome::{ErrorKind, Outcome, Skip, SkipKind, Status};
use crate::runtime::runtime;

/// The result of a run: libtest's conclusion and every outcome, sorted by trial name.
pub(crate) struct RunResult {
    /// libtest-mimic's counts.
    pub conclusion: Conclusion,
    /// One outcome per selected trial (skips included).
    pub outcomes: Vec<Outcome>,
}

/// Why a run could not start.
#[derive(Debug, thiserror::Error)]
pub(crate) enum RunError {
    /// A filter selected nothing: almost always a typo, and a green run would hide it.
    #[error("no trial matches the filter {0:?} (use --list to see the trial names)")]
    NothingMatched(String),
}

/// The text libtest shows for a finished trial: the failure under a failed or errored one,
/// the reason beside a skipped one. The caller supplies it, so the run never renders
/// outcomes itself.
pub(crate) type TrialText = fn(&Outcome) -> String;

/// Runs the planned trials through libtest-mimic. With a partition, only this shard's share
/// of the plan (round-robin over the sorted trial names) reaches libtest, and libtest's name
/// filters apply within the shard.
pub(crate) fn run(
    args: &Arguments,
    plan: Vec<PlannedTrial>,
    ctx: Arc<RunContext>,
    partition: Option<Partition>,
    text: TrialText,
) -> Result<RunResult, RunError> {
    let collected: Arc<Mutex<Vec<Outcome>>> = Arc::new(Mutex::new(Vec::with_capacity(plan.len())));
    let mut selected = Vec::with_capacity(plan.len());
    // Counted over the whole plan, not the shard: a filter that matches only other shards'
    // trials is not a typo, and its shard is simply empty.
    let mut matched = 0usize;
    for (position, planned) in plan.into_iter().enumerate() {
        let mut probe = Trial::test(planned.name.clone(), || Ok(()));
        if planned.scenario.ignore.is_some() {
            probe = probe.with_ignored_flag(true);
        }
        if args.is_filtered_out(&probe) {
            continue;
        }
        matched += 1;
        if partition.is_some_and(|p| !p.contains(position)) {
            continue;
        }
        let ignored = args.is_ignored(&probe);
        if ignored && !args.list {
            // libtest never calls an ignored trial; record its skip here so it is not silent.
            let mut o = blank_outcome(&planned, ctx.mode);
            let reason = planned.scenario.ignore.as_deref().unwrap_or("");
            o.set_skip(Skip::new(SkipKind::Ignored, reason));
            collected.lock().unwrap_or_else(|p| p.into_inner()).push(o);
        }
        selected.push((planned, ignored));
    }
    let unusable = if args.list {
        HashMap::new()
    } else {
        preflight(&ctx, &selected)
    };
    let jobs: Vec<Job> = selected
        .into_iter()
        .map(|(planned, ignored)| {
            let refused = unusable
                .get(&planned.target.name)
                .filter(|_| planned.live && planned.skip.is_none())
                .cloned();
            job(planned, ignored, refused, &ctx, &collected, text)
        })
        .collect();
    if matched == 0
        && let Some(f) = &args.filter
    {
        return Err(RunError::NothingMatched(f.clone()));
    }
    if args.list && args.logfile.is_none() {
        write_list(args, &jobs);
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
    let progress = super::progress::wanted(
        ctx.mode,
        console::Term::stdout().is_term(),
        (ctx.env)("CI").as_deref(),
    );
    let conclusion = super::printer::run(args, jobs, progress);
    let mut outcomes = std::mem::take(&mut *collected.lock().unwrap_or_else(|p| p.into_inner()));
    // Trial names are unique, so an unstable sort gives the same order without a scratch
    // copy of every outcome at the run's peak.
    outcomes.sort_unstable_by(|a, b| a.trial.cmp(&b.trial));
    Ok(RunResult {
        conclusion,
        outcomes,
    })
}

/// One selected trial as the printer runs it: an ignored one's verdict is known; any other
/// runs (or, when preflight found its target unusable, errors without sending), its outcome
/// kept in `sink` for the reports.
fn job(
    planned: PlannedTrial,
    ignored: bool,
    refused: Option<Arc<Unusable>>,
    ctx: &Arc<RunContext>,
    sink: &Arc<Mutex<Vec<Outcome>>>,
    text: TrialText,
) -> Job {
    let name = planned.name.clone();
    if ignored {
        let why = planned.scenario.ignore.clone().unwrap_or_default();
        return Job {
            name,
            run: Err(Verdict::Ignored(why)),
        };
    }
    let (ctx, sink) = (ctx.clone(), sink.clone());
    let run = move || {
        let outcome = match refused {
            Some(u) => {
                let mut o = blank_outcome(&planned, ctx.mode);
                o.set_error(ErrorKind::Preflight, format!("not sent: {u}"));
                o
            }
            None => runtime().block_on(execute(&ctx, &planned)),
        };
        let verdict = match (outcome.status, outcome.skip_kind()) {
            (Status::Pass, _) => Verdict::Pass,
            (Status::Skip, Some(SkipKind::Ignored)) => {
                Verdict::Ignored(planned.scenario.ignore.clone().unwrap_or_default())
            }
            (Status::Skip, _) => Verdict::Skip(text(&outcome)),
            (Status::Fail | Status::Error, _) => Verdict::Fail(text(&outcome)),
        };
        // Kept until the reports are written: trimmed to size (a first push reserves room
        // for four exchanges; most trials send one request).
        let mut outcome = outcome;
        outcome.exchanges.shrink_to_fit();
        let spent = outcome.spent;
        sink.lock().unwrap_or_else(|p| p.into_inner()).push(outcome);
        (verdict, spent)
    };
    Job {
        name,
        run: Ok(Box::new(run)),
    }
}

/// libtest-mimic's list, the same lines, but buffered: it writes one line per system call,
/// and for 10,000 trials that was a good part of the time of `--list`.
fn write_list(args: &Arguments, jobs: &[Job]) {
    use std::io::Write;
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    for j in jobs.iter().filter(|j| !args.ignored || j.run.is_err()) {
        let _ = writeln!(out, "{}: test", j.name);
    }
    let _ = out.flush();
}

/// Checks, once and all at once, every target that a selected trial will send to (live or
/// record mode, not skipped, not ignored), and prints one line for each that is unusable.
fn preflight(
    ctx: &RunContext,
    selected: &[(PlannedTrial, bool)],
) -> HashMap<String, Arc<Unusable>> {
    let mut targets: Vec<Arc<crate::target::Target>> = Vec::new();
    for (t, ignored) in selected {
        if t.live
            && t.skip.is_none()
            && !ignored
            && !targets.iter().any(|x| x.name == t.target.name)
        {
            targets.push(t.target.clone());
        }
    }
    if targets.is_empty() {
        return HashMap::new();
    }
    let key = |t: &crate::target::Target| t.key_env.as_ref().and_then(|v| (ctx.env)(v));
    let timeout = PREFLIGHT_TIMEOUT.min(ctx.request_timeout);
    let unusable = runtime().block_on(check_all(&ctx.transport, &targets, &key, timeout));
    let mut names: Vec<&String> = unusable.keys().collect();
    names.sort();
    for n in names {
        eprintln!("error: preflight: {}", unusable[n]);
    }
    unusable
}

//! The plan: every (scenario, target) pair that applies becomes a trial, and every reason not
//! to run one (capability not declared, model alias missing, no recording, no key) is decided
//! here, before anything runs, so skips are known and shown up front.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::outcome::Mode;
use crate::record;
use crate::suite::{Scenario, Suite};
use crate::target::Target;

/// One trial to hand to the runner.
#[derive(Debug, Clone)]
pub struct PlannedTrial {
    /// `suite::scenario::target`.
    pub name: String,
    /// Suite name.
    pub suite: Arc<str>,
    /// The scenario's category (its own, or the suite's).
    pub category: Arc<str>,
    /// The scenario.
    pub scenario: Arc<Scenario>,
    /// The target.
    pub target: Arc<Target>,
    /// Concrete models, one per step.
    pub models: Vec<String>,
    /// The recording to replay (replay mode).
    pub recording: Option<PathBuf>,
    /// Why the trial will not run, decided now.
    pub skip: Option<String>,
}

/// What the planner needs.
pub struct PlanInput<'a> {
    /// Loaded suites.
    pub suites: &'a [Suite],
    /// Targets to run against.
    pub targets: &'a [Arc<Target>],
    /// Replay or live.
    pub mode: Mode,
    /// The fixtures directory.
    pub fixtures: &'a Path,
    /// Only scenarios carrying one of these tags (empty: all).
    pub tags: &'a [String],
    /// Reads an environment variable (injected so tests need no real environment).
    pub env: &'a dyn Fn(&str) -> Option<String>,
}

/// Builds the trials, sorted by name so runs and reports are reproducible.
pub fn plan(input: &PlanInput<'_>) -> Vec<PlannedTrial> {
    let mut trials = Vec::new();
    for suite in input.suites {
        let suite_name: Arc<str> = suite.name.as_str().into();
        for sc in &suite.scenarios {
            if !input.tags.is_empty() && !sc.tags.iter().any(|t| input.tags.contains(t)) {
                continue;
            }
            let category: Arc<str> = sc.category.as_deref().unwrap_or(&suite.category).into();
            for target in input.targets {
                if let Some(ds) = &sc.dialects
                    && !ds.contains(&target.dialect)
                {
                    continue;
                }
                trials.push(plan_one(input, &suite_name, &category, sc, target));
            }
        }
    }
    trials.sort_by(|a, b| a.name.cmp(&b.name));
    trials
}

fn plan_one(
    input: &PlanInput<'_>,
    suite: &Arc<str>,
    category: &Arc<str>,
    sc: &Arc<Scenario>,
    target: &Arc<Target>,
) -> PlannedTrial {
    let aliases: Vec<&str> = match &sc.request {
        Some(r) => vec![r.model.as_str()],
        None => sc.steps.iter().map(|s| s.request.model.as_str()).collect(),
    };
    let models: Vec<String> = aliases
        .iter()
        .filter_map(|a| target.models.get(*a).cloned())
        .collect();
    let mut skip = None;
    if let Some(c) = sc
        .requires
        .iter()
        .find(|c| !target.capabilities.contains(c))
    {
        skip = Some(format!(
            "capability `{c}` not declared by target {}",
            target.name
        ));
    } else if let Some(a) = aliases.iter().find(|a| !target.models.contains_key(**a)) {
        skip = Some(format!(
            "target {} has no model for alias `{a}`",
            target.name
        ));
    }
    let mut recording = None;
    match input.mode {
        Mode::Replay => {
            let p = record::path_for(input.fixtures, &target.name, suite, &sc.id);
            if skip.is_none() && !p.is_file() {
                skip = Some(format!("no recording at {}", p.display()));
            }
            recording = Some(p);
        }
        Mode::Live => {
            if let Some(var) = &target.key_env
                && skip.is_none()
                && (input.env)(var).is_none_or(|v| v.trim().is_empty())
            {
                skip = Some(format!("no key: {var} is not set"));
            }
        }
    }
    PlannedTrial {
        name: format!("{suite}::{}::{}", sc.id, target.name),
        suite: suite.clone(),
        category: category.clone(),
        scenario: sc.clone(),
        target: target.clone(),
        models,
        recording,
        skip,
    }
}

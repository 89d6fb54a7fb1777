//! The plan: every (scenario, target) pair that applies becomes a trial, and every reason not
//! to run one (capability not declared, model alias missing, no recording, no key) is decided
//! here, before anything runs, so skips are known and shown up front.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::outcome::{Mode, Skip, SkipKind, Subject};
use crate::record;
use crate::suite::{Scenario, Suite};
use crate::target::Target;

/// One trial to hand to the runner.
#[derive(Debug, Clone)]
pub(crate) struct PlannedTrial {
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
    /// Sends to the target's real API (live, and record mode's trials being recorded);
    /// otherwise the local mock answers (replay, fault scripts, recordings kept in record mode).
    pub live: bool,
    /// Record mode: where the trial's live exchanges are written.
    pub record_to: Option<PathBuf>,
    /// Why the trial will not run, decided now.
    pub skip: Option<Skip>,
    /// What the trial judges.
    pub subject: Subject,
}

/// What the planner needs.
pub(crate) struct PlanInput<'a> {
    /// Loaded suites.
    pub suites: &'a [Suite],
    /// Targets to run against.
    pub targets: &'a [Arc<Target>],
    /// Replay, live or record.
    pub mode: Mode,
    /// Record mode: which trials are recorded (the others replay their recording).
    pub record: record::RecordPolicy,
    /// The fixtures directory.
    pub fixtures: &'a Path,
    /// Only scenarios carrying one of these tags (empty: all).
    pub tags: &'a [String],
    /// Reads an environment variable (injected so tests need no real environment).
    pub env: &'a dyn Fn(&str) -> Option<String>,
    /// Gateway mode, with the gateway's dialect: scenarios that cannot judge a gateway are
    /// skipped.
    pub gateway: Option<crate::dialect::DialectKind>,
}

/// Builds the trials, sorted by name so runs and reports are reproducible.
pub(crate) fn plan(input: &PlanInput<'_>) -> Vec<PlannedTrial> {
    let mut trials = Vec::new();
    let mut recorded = Recorded::default();
    for suite in input.suites {
        let suite_name: Arc<str> = suite.name.as_str().into();
        for sc in &suite.scenarios {
            if !input.tags.is_empty() && !sc.tags.iter().any(|t| input.tags.contains(t)) {
                continue;
            }
            let category: Arc<str> = sc.category.as_deref().unwrap_or(&suite.category).into();
            for target in input.targets {
                if let Some(reason) = sc.not_applicable_to(target.dialect) {
                    trials.push(not_applicable(
                        input,
                        &suite_name,
                        &category,
                        sc,
                        target,
                        reason,
                    ));
                    continue;
                }
                trials.push(plan_one(
                    input,
                    &mut recorded,
                    &suite_name,
                    &category,
                    sc,
                    target,
                ));
            }
        }
    }
    trials.sort_by(|a, b| a.name.cmp(&b.name));
    trials
}

/// Which recordings exist, read a directory at a time: a `stat` per planned trial was most of
/// the planning time of a large suite.
#[derive(Default)]
struct Recorded(std::collections::HashMap<PathBuf, std::collections::HashSet<std::ffi::OsString>>);

impl Recorded {
    /// `path.is_file()`: true at once when its directory lists a regular file of that name,
    /// and otherwise asked of the file system (a symlink, a case-insensitive match, a file
    /// written since the listing).
    fn is_file(&mut self, path: &Path) -> bool {
        let (Some(dir), Some(name)) = (path.parent(), path.file_name()) else {
            return path.is_file();
        };
        if !self.0.contains_key(dir) {
            let files = std::fs::read_dir(dir)
                .map(|entries| {
                    entries
                        .flatten()
                        .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
                        .map(|e| e.file_name())
                        .collect()
                })
                .unwrap_or_default();
            self.0.insert(dir.to_path_buf(), files);
        }
        self.0[dir].contains(name) || path.is_file()
    }
}

/// What judges a trial of `sc`: a gateway in gateway mode, the client when a fault script
/// stands in for the target, else the provider.
fn subject_of(input: &PlanInput<'_>, sc: &Scenario) -> Subject {
    if input.gateway.is_some() {
        Subject::Gateway
    } else if !sc.mock.is_empty() {
        Subject::Client
    } else {
        Subject::Provider
    }
}

/// A trial of a scenario whose API does not define the behaviour in the target's dialect:
/// skipped as not applicable, with the reason, so the gap is shown rather than silent. It
/// needs no recording, key or model.
fn not_applicable(
    input: &PlanInput<'_>,
    suite: &Arc<str>,
    category: &Arc<str>,
    sc: &Arc<Scenario>,
    target: &Arc<Target>,
    reason: String,
) -> PlannedTrial {
    PlannedTrial {
        name: format!("{suite}::{}::{}", sc.id, target.name),
        suite: suite.clone(),
        category: category.clone(),
        scenario: sc.clone(),
        target: target.clone(),
        models: Vec::new(),
        recording: None,
        live: false,
        record_to: None,
        skip: Some(Skip::new(SkipKind::NotApplicable, reason)),
        subject: subject_of(input, sc),
    }
}

fn plan_one(
    input: &PlanInput<'_>,
    recorded: &mut Recorded,
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
    // Model-management operations imply their capability even when `requires` omits it.
    let ops: Vec<crate::suite::model::Op> = match &sc.request {
        Some(r) => vec![r.op],
        None => sc.steps.iter().map(|s| s.request.op).collect(),
    };
    let required: Vec<crate::suite::Capability> = sc
        .requires
        .iter()
        .copied()
        .chain(ops.iter().filter_map(|o| o.capability()))
        .collect();
    if let Some(c) = required.iter().find(|c| !target.capabilities.contains(c)) {
        skip = Some(Skip::new(SkipKind::CapabilityNotDeclared, c.to_string()));
    } else if let Some(a) = aliases.iter().find(|a| !target.models.contains_key(**a)) {
        skip = Some(Skip::new(SkipKind::NoModelAlias, *a));
    } else if let Some(dialect) = input.gateway {
        skip = super::gateway::cannot_judge(sc, target, dialect);
    }
    let mut recording = None;
    // A fault script runs on the mock in every mode. Its `recorded` steps serve the target's
    // reply: from the recording in replay, from the target itself in live and record modes
    // (the mock forwards them). Anything else needs a recording in replay and a key in live
    // mode. Record mode is live, except that `--record missing` replays what is already
    // recorded (VCR's "once").
    let scripted = !sc.mock.is_empty();
    let serves_target = !scripted || sc.mock.iter().any(|m| m.recorded);
    let p = record::path_for(input.fixtures, &target.name, suite, &sc.id);
    let keeps_recording = input.mode == Mode::Record
        && input.record == record::RecordPolicy::Missing
        && recorded.is_file(&p);
    let live = serves_target && input.mode != Mode::Replay && !keeps_recording;
    let needs_recording = serves_target && !live;
    if needs_recording && skip.is_none() && !recorded.is_file(&p) {
        skip = Some(Skip::new(SkipKind::NotRecorded, p.display().to_string()));
    }
    let record_to = (live && input.mode == Mode::Record).then(|| p.clone());
    if !live {
        recording = Some(p);
    }
    if live
        && let Some(var) = &target.key_env
        && skip.is_none()
        && (input.env)(var).is_none_or(|v| v.trim().is_empty())
    {
        skip = Some(Skip::new(SkipKind::NoKey, format!("{var} is not set")));
    }
    // A fault script judges whoever meets its faults: provcheck's client, or the gateway.
    // Whether the target's own replies took part is the outcome's `reached_target`.
    let subject = subject_of(input, sc);
    PlannedTrial {
        name: format!("{suite}::{}::{}", sc.id, target.name),
        suite: suite.clone(),
        category: category.clone(),
        scenario: sc.clone(),
        target: target.clone(),
        models,
        recording,
        live,
        record_to,
        skip,
        subject,
    }
}

/// One CI shard: trial number `i` (0-based, in sorted order) belongs to shard `i % count + 1`.
/// Round-robin over sorted names, like nextest's `count:` partitions, keeps shards within one
/// trial of each other in size and stable when unrelated trials are added far away.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Partition {
    /// This shard, 1-based.
    pub index: usize,
    /// The number of shards.
    pub count: usize,
}

impl Partition {
    /// Whether the trial at `position` (0-based, in sorted order) belongs to this shard.
    pub(crate) fn contains(self, position: usize) -> bool {
        position % self.count == self.index - 1
    }
}

impl std::str::FromStr for Partition {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let bad = || format!("`{s}` is not a partition: expected K/N with 1 <= K <= N, e.g. 2/3");
        let (k, n) = s.split_once('/').ok_or_else(bad)?;
        let index: usize = k.trim().parse().map_err(|_| bad())?;
        let count: usize = n.trim().parse().map_err(|_| bad())?;
        if index == 0 || count == 0 || index > count {
            return Err(bad());
        }
        Ok(Partition { index, count })
    }
}

impl std::fmt::Display for Partition {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::target;

    fn suite(yaml: &str) -> Vec<Suite> {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("s.yaml");
        std::fs::write(&p, yaml).unwrap();
        let targets = target::builtins(None);
        let known = crate::suite::Known {
            aliases: targets
                .iter()
                .flat_map(|t| t.models.keys().cloned())
                .collect(),
            targets: targets.iter().map(|t| t.name.clone()).collect(),
        };
        crate::suite::load_suites(&[p], &known).unwrap()
    }

    #[test]
    fn a_fault_script_makes_the_client_the_subject() {
        let suites = suite(
            "suite: s\ncategory: c\nscenarios:\n  - id: a\n    title: A\n    request: {messages: [{user: hi}]}\n  - id: f\n    title: F\n    mock: [{status: 500}, {status: 503}]\n    request: {messages: [{user: hi}]}\n    expect: {error: {status: 503}}\n  - id: r\n    title: R\n    mock: [{status: 500}, {recorded: true}]\n    request: {messages: [{user: hi}]}\n",
        );
        let targets = [Arc::new(target::builtins(None).remove(0))];
        let dir = tempfile::tempdir().unwrap();
        let subjects = |gateway| -> Vec<Subject> {
            plan(&PlanInput {
                suites: &suites,
                targets: &targets,
                mode: Mode::Replay,
                record: record::RecordPolicy::Missing,
                fixtures: dir.path(),
                tags: &[],
                env: &|_| None,
                gateway,
            })
            .iter()
            .map(|t| t.subject)
            .collect()
        };
        assert_eq!(
            subjects(None),
            [Subject::Provider, Subject::Client, Subject::Client]
        );
        assert_eq!(
            subjects(Some(crate::dialect::DialectKind::Openai)),
            [Subject::Gateway; 3]
        );
    }

    #[test]
    fn live_fault_scripts_reach_the_target_through_the_mock_without_a_recording() {
        let suites = suite(
            "suite: s\ncategory: c\nscenarios:\n  - id: f\n    title: F\n    mock: [{status: 500}, {status: 503}]\n    request: {messages: [{user: hi}]}\n  - id: r\n    title: R\n    mock: [{status: 500}, {recorded: true}]\n    request: {messages: [{user: hi}]}\n",
        );
        let targets = [Arc::new(target::builtins(None).remove(0))];
        let dir = tempfile::tempdir().unwrap();
        let key = |_: &str| Some("k".to_string());
        let at = |mode, env: &dyn Fn(&str) -> Option<String>| {
            plan(&PlanInput {
                suites: &suites,
                targets: &targets,
                mode,
                record: record::RecordPolicy::Missing,
                fixtures: dir.path(),
                tags: &[],
                env,
                gateway: None,
            })
        };
        // Live: the script that serves the target's reply goes live, needs a key and no
        // recording; the one that never does stays on the mock, and needs neither.
        let p = at(Mode::Live, &key);
        assert_eq!(
            (p[0].live, p[0].skip.is_none()),
            (false, true),
            "{:?}",
            p[0]
        );
        assert_eq!((p[1].live, p[1].skip.is_none()), (true, true), "{:?}", p[1]);
        assert!(p[1].recording.is_none());
        let p = at(Mode::Live, &|_| None);
        assert_eq!(p[1].skip.as_ref().unwrap().kind, SkipKind::NoKey);
        assert!(p[0].skip.is_none());
        // Record: the forwarded replies are written as the scenario's recording.
        let p = at(Mode::Record, &key);
        assert!(p[1].live && p[1].record_to.is_some());
        // Replay: the recording stands in for the target.
        let p = at(Mode::Replay, &|_| None);
        assert!(!p[1].live);
        assert_eq!(p[1].skip.as_ref().unwrap().kind, SkipKind::NotRecorded);
        assert!(p[0].skip.is_none());
    }

    #[test]
    fn every_skip_the_plan_writes_is_classified() {
        let suites = suite(
            "suite: s\ncategory: c\nscenarios:\n  - id: j\n    title: J\n    requires: [json_mode]\n    request: {messages: [{user: hi}]}\n  - id: x\n    title: X\n    request: {model: second, messages: [{user: hi}]}\n",
        );
        let mut t = target::builtins(None).remove(1);
        t.models.remove("second");
        let targets = [Arc::new(t)];
        let dir = tempfile::tempdir().unwrap();
        let kinds = |mode, env: &dyn Fn(&str) -> Option<String>| -> Vec<SkipKind> {
            plan(&PlanInput {
                suites: &suites,
                targets: &targets,
                mode,
                record: record::RecordPolicy::Missing,
                fixtures: dir.path(),
                tags: &[],
                env,
                gateway: None,
            })
            .iter()
            .map(|t| t.skip.as_ref().unwrap().kind)
            .collect()
        };
        assert_eq!(
            kinds(Mode::Replay, &|_| None),
            [SkipKind::CapabilityNotDeclared, SkipKind::NoModelAlias]
        );
        let suites_ok = suite(
            "suite: s\ncategory: c\nscenarios:\n  - id: a\n    title: A\n    request: {messages: [{user: hi}]}\n",
        );
        let p = plan(&PlanInput {
            suites: &suites_ok,
            targets: &targets,
            mode: Mode::Replay,
            record: record::RecordPolicy::Missing,
            fixtures: dir.path(),
            tags: &[],
            env: &|_| None,
            gateway: None,
        });
        assert_eq!(p[0].skip.as_ref().unwrap().kind, SkipKind::NotRecorded);
        let p = plan(&PlanInput {
            suites: &suites_ok,
            targets: &targets,
            mode: Mode::Live,
            record: record::RecordPolicy::Missing,
            fixtures: dir.path(),
            tags: &[],
            env: &|_| None,
            gateway: None,
        });
        assert_eq!(p[0].skip.as_ref().unwrap().kind, SkipKind::NoKey);
        assert_eq!(
            crate::run::live::Budget::requests_reason(2).kind,
            SkipKind::OverBudget
        );
        assert_eq!(
            crate::run::live::Budget::tokens_reason(100).kind,
            SkipKind::OverBudget
        );
    }

    #[test]
    fn record_mode_records_what_is_missing_or_everything() {
        let suites = suite(
            "suite: s\ncategory: c\nscenarios:\n  - id: a\n    title: A\n    request: {messages: [{user: hi}]}\n  - id: b\n    title: B\n    request: {messages: [{user: hi}]}\n  - id: f\n    title: F\n    mock: [{status: 500}]\n    request: {messages: [{user: hi}]}\n",
        );
        let targets = [Arc::new(target::builtins(None).remove(0))];
        let dir = tempfile::tempdir().unwrap();
        let existing = record::path_for(dir.path(), "openai", "s", "a");
        std::fs::create_dir_all(existing.parent().unwrap()).unwrap();
        std::fs::write(&existing, "kept").unwrap();
        let key = |k: &str| (k == "OPENAI_API_KEY").then(|| "sk-x".to_string());
        let plan_with = |policy, env: &dyn Fn(&str) -> Option<String>| {
            plan(&PlanInput {
                suites: &suites,
                targets: &targets,
                mode: Mode::Record,
                record: policy,
                fixtures: dir.path(),
                tags: &[],
                env,
                gateway: None,
            })
        };
        // name, live, records to, skipped
        let view = |p: Vec<PlannedTrial>| -> Vec<(String, bool, bool, bool)> {
            p.into_iter()
                .map(|t| {
                    (
                        t.scenario.id.clone(),
                        t.live,
                        t.record_to.is_some(),
                        t.skip.is_some(),
                    )
                })
                .collect()
        };
        let s = |id: &str, live, rec, skip| (id.to_string(), live, rec, skip);
        assert_eq!(
            view(plan_with(record::RecordPolicy::Missing, &key)),
            [
                s("a", false, false, false),
                s("b", true, true, false),
                s("f", false, false, false)
            ]
        );
        assert_eq!(
            view(plan_with(record::RecordPolicy::All, &key)),
            [
                s("a", true, true, false),
                s("b", true, true, false),
                s("f", false, false, false)
            ]
        );
        // Without the key only the trials that would go live are skipped: a kept recording
        // and a fault script still run.
        let p = plan_with(record::RecordPolicy::Missing, &|_| None);
        assert_eq!(
            view(p.clone()),
            [
                s("a", false, false, false),
                s("b", true, true, true),
                s("f", false, false, false)
            ]
        );
        assert_eq!(p[1].skip.as_ref().unwrap().kind, SkipKind::NoKey);
    }

    #[test]
    fn partitions_are_round_robin_disjoint_and_complete() {
        let parts: Vec<Partition> = (1..=3).map(|k| format!("{k}/3").parse().unwrap()).collect();
        let mut seen = vec![0; 10];
        for p in &parts {
            for (i, n) in seen.iter_mut().enumerate() {
                if p.contains(i) {
                    *n += 1;
                }
            }
        }
        assert!(seen.iter().all(|n| *n == 1), "{seen:?}");
        assert!(parts[0].contains(0) && parts[1].contains(1) && parts[2].contains(2));
        assert!(parts[0].contains(3));
        assert_eq!(parts[1].to_string(), "2/3");
        for bad in ["0/3", "4/3", "1/0", "a/b", "3", ""] {
            assert!(bad.parse::<Partition>().is_err(), "{bad}");
        }
    }
}

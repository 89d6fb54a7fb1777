//! `provcheck merge`: joins the run records of CI shards (or any runs of one mode) into one,
//! refusing anything that would make the joined record lie: a trial recorded twice, records
//! of different modes, or one target configured differently in two records.

use std::collections::BTreeMap;

use crate::report::run_record::{
    self, FORMAT, FORMAT_VERSION, RunRecord, Selection, SuiteInfo, Totals,
};

/// Why records cannot be merged.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum MergeError {
    /// Nothing to merge.
    #[error("no run record to merge")]
    Empty,
    /// Replay and live outcomes mean different things.
    #[error("{a} is a {a_mode} run and {b} a {b_mode} run; only runs of one mode can be merged")]
    Modes {
        /// First file.
        a: String,
        /// Its mode.
        a_mode: &'static str,
        /// Conflicting file.
        b: String,
        /// Its mode.
        b_mode: &'static str,
    },
    /// Under `--behaviour fail` a behaviour miss fails its trial, under `warn` it passes: the
    /// statuses of the two would not add up.
    #[error(
        "{a} ran with --behaviour {a_mode} and {b} with --behaviour {b_mode}; only runs of one behaviour mode can be merged"
    )]
    BehaviourModes {
        /// First file.
        a: String,
        /// Its behaviour mode.
        a_mode: &'static str,
        /// Conflicting file.
        b: String,
        /// Its behaviour mode.
        b_mode: &'static str,
    },
    /// The same trial in two records.
    #[error("trial {trial} appears in both {a} and {b}")]
    Duplicate {
        /// The trial.
        trial: String,
        /// First file.
        a: String,
        /// Second file.
        b: String,
    },
    /// One target, two configurations.
    #[error("target {target} is configured differently in {a} and {b}")]
    Target {
        /// The target.
        target: String,
        /// First file.
        a: String,
        /// Second file.
        b: String,
    },
}

/// How a source record is described in the merged one.
fn describe(path: &str, r: &RunRecord) -> String {
    match &r.selection.partition {
        Some(p) => format!("{path} (partition {p})"),
        None => path.to_string(),
    }
}

/// Merges `(path, record)` pairs, in the order given.
pub(crate) fn merge(records: &[(String, RunRecord)]) -> Result<RunRecord, MergeError> {
    let (first_path, first) = records.first().ok_or(MergeError::Empty)?;
    let mut out = RunRecord {
        format: FORMAT.into(),
        format_version: FORMAT_VERSION,
        provcheck_version: first.provcheck_version.clone(),
        started_at: first.started_at.clone(),
        finished_at: first.finished_at.clone(),
        mode: first.mode,
        selection: Selection {
            filter: first.selection.filter.clone(),
            skip: first.selection.skip.clone(),
            tags: first.selection.tags.clone(),
            partition: None,
            rerun_failed_from: None,
            merged_from: Vec::new(),
        },
        targets: Vec::new(),
        suites: Vec::new(),
        totals: Totals::default(),
        spent: Default::default(),
        budget: first.budget,
        gateway: first.gateway.clone(),
        behaviour: first.behaviour,
        // A shard that was interrupted leaves the merged run incomplete.
        interrupted: records.iter().any(|(_, r)| r.interrupted),
        outcomes: Vec::new(),
    };
    let mut seen: BTreeMap<String, &str> = BTreeMap::new();
    let mut target_from: BTreeMap<String, &str> = BTreeMap::new();
    for (path, r) in records {
        if r.mode != first.mode {
            return Err(MergeError::Modes {
                a: first_path.clone(),
                a_mode: first.mode.as_str(),
                b: path.clone(),
                b_mode: r.mode.as_str(),
            });
        }
        if r.behaviour != first.behaviour {
            return Err(MergeError::BehaviourModes {
                a: first_path.clone(),
                a_mode: first.behaviour.as_str(),
                b: path.clone(),
                b_mode: r.behaviour.as_str(),
            });
        }
        out.selection.merged_from.push(describe(path, r));
        narrow_to(&mut out, r);
        for t in &r.targets {
            match out.targets.iter().find(|x| x.name == t.name) {
                Some(existing) if existing != t => {
                    return Err(MergeError::Target {
                        target: t.name.clone(),
                        a: target_from[&t.name].to_string(),
                        b: path.clone(),
                    });
                }
                Some(_) => {}
                None => {
                    target_from.insert(t.name.clone(), path);
                    out.targets.push(t.clone());
                }
            }
        }
        join_suites(&mut out.suites, &r.suites);
        for o in &r.outcomes {
            if let Some(a) = seen.insert(o.trial.clone(), path) {
                return Err(MergeError::Duplicate {
                    trial: o.trial.clone(),
                    a: a.to_string(),
                    b: path.clone(),
                });
            }
            out.outcomes.push(o.clone());
        }
    }
    out.suites.sort_by(|a, b| a.file.cmp(&b.file));
    out.outcomes.sort_by(|a, b| a.trial.cmp(&b.trial));
    out.totals = Totals::of(&out.outcomes);
    out.spent = run_record::spent_by_target(&out.outcomes);
    Ok(out)
}

/// Narrows what the merged record claims to what `r` shares with it: the budget, the
/// selection and the time span.
fn narrow_to(out: &mut RunRecord, r: &RunRecord) {
    // Each shard enforced its own budget; a merged record claims one only if all agree.
    if out.budget != r.budget {
        out.budget = None;
    }
    // Keep a filter or tags only if every part shares them; otherwise the merged record
    // would claim a selection that some of its trials were not chosen by.
    if out.selection.filter != r.selection.filter {
        out.selection.filter = None;
    }
    if out.selection.tags != r.selection.tags {
        out.selection.tags.clear();
    }
    if out.selection.skip != r.selection.skip {
        out.selection.skip.clear();
    }
    // RFC 3339 timestamps in UTC with the same precision order as strings.
    if r.started_at < out.started_at {
        out.started_at = r.started_at.clone();
    }
    if r.finished_at > out.finished_at {
        out.finished_at = r.finished_at.clone();
    }
}

/// Adds `suites` to `out`: each suite once, with every scenario any part knew.
fn join_suites(out: &mut Vec<SuiteInfo>, suites: &[SuiteInfo]) {
    for s in suites {
        match out.iter_mut().find(|x| x.name == s.name) {
            Some(existing) => {
                for sc in &s.scenarios {
                    if !existing.scenarios.iter().any(|x| x.id == sc.id) {
                        existing.scenarios.push(sc.clone());
                    }
                }
            }
            None => out.push(s.clone()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outcome::{Mode, Status};
    use crate::report::test_support::{outcome, record};
    use crate::suite::Priority;

    fn rec(trials: &[&str], partition: &str) -> RunRecord {
        let mut r = record(
            trials
                .iter()
                .map(|t| outcome(t, Priority::High, Status::Pass, None))
                .collect(),
        );
        r.selection.partition = Some(partition.into());
        r
    }

    #[test]
    fn shards_join_into_one_sorted_record() {
        let mut a = rec(&["s::b::openai", "s::d::openai"], "1/2");
        a.started_at = "2026-11-25T10:00:05.000Z".into();
        let b = rec(&["s::a::openai", "s::c::openai"], "2/2");
        let m = merge(&[("a.json".into(), a), ("b.json".into(), b)]).unwrap();
        let names: Vec<&str> = m.outcomes.iter().map(|o| o.trial.as_str()).collect();
        assert_eq!(
            names,
            [
                "s::a::openai",
                "s::b::openai",
                "s::c::openai",
                "s::d::openai"
            ]
        );
        assert_eq!(m.totals.pass, 4);
        assert_eq!(m.started_at, "2026-11-25T10:00:00.000Z");
        assert_eq!(m.selection.partition, None);
        assert_eq!(
            m.selection.merged_from,
            ["a.json (partition 1/2)", "b.json (partition 2/2)"]
        );
        assert_eq!(m.suites[0].scenarios.len(), 4);
    }

    #[test]
    fn refuses_duplicates_modes_and_conflicting_targets() {
        let a = rec(&["s::a::openai"], "1/2");
        let e = merge(&[("a.json".into(), a.clone()), ("b.json".into(), a.clone())]).unwrap_err();
        assert_eq!(
            e.to_string(),
            "trial s::a::openai appears in both a.json and b.json"
        );
        let mut live = rec(&["s::b::openai"], "2/2");
        live.mode = Mode::Live;
        let e = merge(&[("a.json".into(), a.clone()), ("l.json".into(), live)]).unwrap_err();
        assert!(
            e.to_string()
                .contains("a.json is a replay run and l.json a live run"),
            "{e}"
        );
        let mut warn = rec(&["s::b::openai"], "2/2");
        warn.behaviour = crate::outcome::BehaviourMode::Warn;
        let e = merge(&[("a.json".into(), a.clone()), ("w.json".into(), warn)]).unwrap_err();
        assert!(
            e.to_string()
                .contains("a.json ran with --behaviour fail and w.json with --behaviour warn"),
            "{e}"
        );
        let mut other = rec(&["s::b::openai"], "2/2");
        other.targets[0].base_url = "http://127.0.0.1:2".into();
        let e = merge(&[("a.json".into(), a), ("o.json".into(), other)]).unwrap_err();
        assert!(matches!(e, MergeError::Target { .. }), "{e}");
        assert_eq!(merge(&[]).unwrap_err(), MergeError::Empty);
    }

    #[test]
    fn a_version_1_shard_merges_with_a_version_2_shard() {
        let v1_text = include_str!("testdata/run-v1.json");
        let whole = RunRecord::parse(v1_text).unwrap();
        // The second shard is the same run's other half, written by this build (version 2);
        // the first is read from its version-1 text, with that half of its outcomes.
        let mut newer = whole.clone();
        newer.outcomes.retain(|o| o.target != "anthropic");
        let newer = RunRecord::parse(&newer.to_json()).unwrap();
        let mut older: serde_json::Value = serde_json::from_str(v1_text).unwrap();
        older["outcomes"]
            .as_array_mut()
            .unwrap()
            .retain(|o| o["target"] == "anthropic");
        let older = RunRecord::parse(&older.to_string()).unwrap();
        let m = merge(&[("old.json".into(), older), ("new.json".into(), newer)]).unwrap();
        assert_eq!(m.totals, whole.totals);
        assert_eq!(m.to_json(), {
            let mut w = whole.clone();
            w.started_at = m.started_at.clone();
            w.finished_at = m.finished_at.clone();
            w.selection = m.selection.clone();
            w.to_json()
        });
    }
}

//! Builders for report unit tests: outcomes and records without running anything.

use crate::dialect::DialectKind;
use crate::outcome::{ExchangeRecord, Mode, Outcome, Status};
use crate::report::legacy;
use crate::report::run_record::{
    FORMAT, FORMAT_VERSION, RunRecord, ScenarioInfo, Selection, SuiteInfo, TargetInfo, Totals,
};
use crate::suite::Priority;

/// An outcome for `suite::scenario::target` with sensible defaults.
pub(crate) fn outcome(
    trial: &str,
    priority: Priority,
    status: Status,
    message: Option<&str>,
) -> Outcome {
    let parts: Vec<&str> = trial.split("::").collect();
    let dialect = match parts[2] {
        "anthropic" => DialectKind::Anthropic,
        "ollama" => DialectKind::Ollama,
        _ => DialectKind::Openai,
    };
    Outcome {
        trial: trial.into(),
        suite: parts[0].into(),
        scenario: parts[1].into(),
        title: format!("Title of {}", parts[1]),
        category: parts[0].into(),
        priority,
        tags: Vec::new(),
        target: parts[2].into(),
        dialect,
        models: vec!["m".into()],
        mode: Mode::Replay,
        subject: crate::outcome::Subject::Provider,
        client: None,
        status,
        // The message is read as a version-1 record held it: a skip reason, an error, or a
        // finding's `path: message`.
        skip: (status == Status::Skip)
            .then(|| legacy::skip_from_reason(message.unwrap_or_default())),
        error: (status == Status::Error).then(|| crate::outcome::TrialError {
            kind: crate::outcome::ErrorKind::Other,
            message: message.unwrap_or_default().to_string(),
        }),
        findings: match (status, message) {
            (Status::Fail, Some(m)) => vec![legacy::finding_from_line(m)],
            _ => Vec::new(),
        },
        reached_target: false,
        not_recorded: None,
        location: format!("suites/{}.yaml:1:1", parts[0]),
        recording: None,
        provenance: legacy::provenance_from_line("authored 2026-11-25"),
        duration_ms: 1,
        requests: 1,
        recording_sha256: None,
        exchanges: vec![ExchangeRecord::default()],
        spent: None,
        recorded: None,
        behaviour_checked: false,
        repetitions: None,
    }
}

/// A record holding `outcomes`, with targets and suites derived from them.
pub(crate) fn record(outcomes: Vec<Outcome>) -> RunRecord {
    let mut targets: Vec<TargetInfo> = Vec::new();
    let mut suites: Vec<SuiteInfo> = Vec::new();
    for o in &outcomes {
        if !targets.iter().any(|t| t.name == o.target) {
            targets.push(TargetInfo {
                name: o.target.clone(),
                dialect: o.dialect,
                base_url: "http://127.0.0.1:1".into(),
                key_env: None,
                models: Default::default(),
                capabilities: Vec::new(),
                required: false,
            });
        }
        let pos = match suites.iter().position(|s| s.name == o.suite) {
            Some(p) => p,
            None => {
                suites.push(SuiteInfo {
                    name: o.suite.clone(),
                    file: format!("suites/{}.yaml", o.suite),
                    category: o.category.clone(),
                    description: None,
                    scenarios: Vec::new(),
                });
                suites.len() - 1
            }
        };
        let s = &mut suites[pos];
        if !s.scenarios.iter().any(|sc| sc.id == o.scenario) {
            s.scenarios.push(ScenarioInfo {
                not_applicable: Default::default(),
                id: o.scenario.clone(),
                title: o.title.clone(),
                category: o.category.clone(),
                priority: o.priority,
                requires: Vec::new(),
                dialects: None,
                tags: Vec::new(),
            });
        }
    }
    RunRecord {
        format: FORMAT.into(),
        format_version: FORMAT_VERSION,
        provcheck_version: "0.1.0".into(),
        started_at: "2026-11-25T10:00:00.000Z".into(),
        finished_at: "2026-11-25T10:00:01.500Z".into(),
        mode: Mode::Replay,
        selection: Selection::default(),
        targets,
        suites,
        totals: Totals::of(&outcomes),
        spent: Default::default(),
        budget: None,
        gateway: None,
        behaviour: Default::default(),
        interrupted: false,
        outcomes,
    }
}

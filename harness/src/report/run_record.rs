//! `reports/run.json`: the whole run as data. The outcomes themselves plus what is needed to
//! read them without the run: when, in which mode, against which targets (never a key), and
//! which suites and scenarios existed, so the audit can tell "not applicable" and "not in this
//! run" apart from a skip. `audit`, `diff`, `merge` and `--rerun-failed` all start from here.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::dialect::DialectKind;
use crate::outcome::{Mode, Outcome, Spent, Status};
pub(crate) use crate::record::redact::redact_url;
use crate::suite::{Capability, Priority, Suite};
use crate::target::Target;

/// The value of [`RunRecord::format`]; a JSON file without it is not a run record.
pub const FORMAT: &str = "provcheck-run";
/// The newest record layout this build reads and the one it writes. Bump it when a field
/// changes meaning or disappears; added optional fields keep the version. Version 2 made
/// outcomes typed (skip, error, findings, provenance, subject); version 1 records are still
/// read, through `report::legacy`.
pub const FORMAT_VERSION: u32 = 2;

/// A whole run.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RunRecord {
    /// Always [`FORMAT`].
    pub format: String,
    /// The record layout, [`FORMAT_VERSION`] when written by this build.
    pub format_version: u32,
    /// The provcheck that ran.
    pub provcheck_version: String,
    /// When the first trial started, RFC 3339 in UTC.
    pub started_at: String,
    /// When the last trial finished, RFC 3339 in UTC.
    pub finished_at: String,
    /// Replay or live.
    pub mode: Mode,
    /// How the trials were chosen.
    pub selection: Selection,
    /// The targets the run used.
    pub targets: Vec<TargetInfo>,
    /// The suites loaded, with every scenario whether or not it ran.
    pub suites: Vec<SuiteInfo>,
    /// Counts by status.
    pub totals: Totals,
    /// What the run spent at the providers, per target: requests sent to a real API and the
    /// output tokens reported (live and record modes; empty in replay).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub spent: BTreeMap<String, Spent>,
    /// The run's budget, when one was set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub budget: Option<BudgetInfo>,
    /// Gateway mode: the gateway that was the subject.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gateway: Option<GatewayInfo>,
    /// `--behaviour`: whether behaviour findings alone failed a trial or only warned.
    #[serde(default)]
    pub behaviour: crate::outcome::BehaviourMode,
    /// The run was interrupted (SIGINT, SIGTERM): trials it cut off are errors with reason
    /// `interrupted`, and the others never ran.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub interrupted: bool,
    /// One per trial, sorted by trial name.
    pub outcomes: Vec<Outcome>,
}

/// The gateway a gateway-mode run judged.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct GatewayInfo {
    /// Its base URL (credentials never appear here: the key comes from an environment
    /// variable).
    pub url: String,
    /// The dialect it was spoken to in.
    pub dialect: crate::dialect::DialectKind,
    /// The mock's address, the gateway's upstream.
    pub mock_addr: String,
}

/// How a run chose its trials, so a reader knows what "not in this run" means.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Selection {
    /// libtest's name filter, if any.
    #[serde(default)]
    pub filter: Option<String>,
    /// libtest's `--skip` filters.
    #[serde(default)]
    pub skip: Vec<String>,
    /// `--tag` values.
    #[serde(default)]
    pub tags: Vec<String>,
    /// `--partition K/N`, if any.
    #[serde(default)]
    pub partition: Option<String>,
    /// The record whose failures this run reran (`--rerun-failed`).
    #[serde(default)]
    pub rerun_failed_from: Option<String>,
    /// The records this one was merged from (`provcheck merge`).
    #[serde(default)]
    pub merged_from: Vec<String>,
}

/// A target as the run used it. The key's variable name is kept, its value never is.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct TargetInfo {
    /// Target name.
    pub name: String,
    /// Wire protocol.
    pub dialect: DialectKind,
    /// Base URL, with any user info and query removed.
    pub base_url: String,
    /// The environment variable the key is read from.
    pub key_env: Option<String>,
    /// Alias -> concrete model.
    pub models: BTreeMap<String, String>,
    /// Declared capabilities.
    pub capabilities: Vec<Capability>,
    /// `--require`d: a skip for want of a key or recording fails the run.
    #[serde(default)]
    pub required: bool,
}

impl TargetInfo {
    /// Describes a target for the record.
    pub(crate) fn from_target(t: &Target, required: bool) -> TargetInfo {
        TargetInfo {
            name: t.name.clone(),
            dialect: t.dialect,
            base_url: redact_url(&t.base_url),
            key_env: t.key_env.clone(),
            models: t.models.clone(),
            capabilities: t.capabilities.iter().copied().collect(),
            required,
        }
    }
}

/// A suite file as loaded.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct SuiteInfo {
    /// Suite name.
    pub name: String,
    /// The file it came from.
    pub file: String,
    /// Default category.
    pub category: String,
    /// What it covers.
    #[serde(default)]
    pub description: Option<String>,
    /// Its scenarios, in file order.
    pub scenarios: Vec<ScenarioInfo>,
}

impl SuiteInfo {
    /// Describes a loaded suite for the record.
    pub(crate) fn from_suite(s: &Suite) -> SuiteInfo {
        SuiteInfo {
            name: s.name.clone(),
            file: s.file.to_string(),
            category: s.category.clone(),
            description: s.description.clone(),
            scenarios: s
                .scenarios
                .iter()
                .map(|sc| ScenarioInfo {
                    id: sc.id.clone(),
                    title: sc.title.clone(),
                    category: sc.category.clone().unwrap_or_else(|| s.category.clone()),
                    priority: sc.priority,
                    requires: sc.requires.clone(),
                    dialects: sc.dialects.clone(),
                    not_applicable: sc.not_applicable.clone(),
                    tags: sc.tags.clone(),
                })
                .collect(),
        }
    }
}

/// A scenario as the audit needs it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ScenarioInfo {
    /// Scenario id.
    pub id: String,
    /// One-line title.
    pub title: String,
    /// Its category (its own or the suite's).
    pub category: String,
    /// Its priority.
    pub priority: Priority,
    /// Capabilities it requires.
    #[serde(default)]
    pub requires: Vec<Capability>,
    /// The dialects it is limited to (none: every dialect).
    #[serde(default)]
    pub dialects: Option<Vec<DialectKind>>,
    /// The dialects whose API does not define the behaviour, with the reason.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub not_applicable: BTreeMap<DialectKind, String>,
    /// Tags.
    #[serde(default)]
    pub tags: Vec<String>,
}

impl ScenarioInfo {
    /// Why the scenario does not apply to `dialect`, as the run would have said it: its
    /// `not_applicable` reason, or that `dialects` leaves the dialect out. `None` where it
    /// applies.
    pub fn not_applicable_to(&self, dialect: DialectKind) -> Option<String> {
        crate::suite::model::not_applicable_reason(
            &self.not_applicable,
            self.dialects.as_deref(),
            dialect,
        )
    }
}

/// `--max-requests` and `--max-output-tokens` as the run had them.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct BudgetInfo {
    /// Most requests the run may send to real APIs.
    #[serde(default)]
    pub max_requests: Option<u64>,
    /// Most output tokens after which no trial starts.
    #[serde(default)]
    pub max_output_tokens: Option<u64>,
}

/// Sums what the outcomes spent, per target (targets that spent nothing are left out).
pub(crate) fn spent_by_target(outcomes: &[Outcome]) -> BTreeMap<String, Spent> {
    let mut out: BTreeMap<String, Spent> = BTreeMap::new();
    for o in outcomes {
        if let Some(s) = o.spent {
            out.entry(o.target.clone()).or_default().add(s);
        }
    }
    out
}

/// Counts by status.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct Totals {
    /// All trials in the record.
    pub trials: usize,
    /// Passed.
    pub pass: usize,
    /// Failed.
    pub fail: usize,
    /// Errored.
    pub error: usize,
    /// Skipped.
    pub skip: usize,
}

impl Totals {
    /// Counts outcomes.
    pub(crate) fn of(outcomes: &[Outcome]) -> Totals {
        let mut t = Totals {
            trials: outcomes.len(),
            ..Totals::default()
        };
        for o in outcomes {
            match o.status {
                Status::Pass => t.pass += 1,
                Status::Fail => t.fail += 1,
                Status::Error => t.error += 1,
                Status::Skip => t.skip += 1,
            }
        }
        t
    }
}

/// Why a file could not be read as a run record. Every message names the file.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The file could not be read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// The file is not JSON, or not a run record.
    #[error("{path}: not a provcheck run record: {why}")]
    NotARecord {
        /// The file.
        path: String,
        /// What was wrong.
        why: String,
    },
    /// A record from a newer provcheck.
    #[error(
        "{path}: run record format_version {found} is newer than this provcheck reads ({FORMAT_VERSION}); upgrade provcheck"
    )]
    TooNew {
        /// The file.
        path: String,
        /// The version found.
        found: u64,
    },
}

impl RunRecord {
    /// Loads and checks a record.
    pub fn load(path: &Path) -> Result<RunRecord, LoadError> {
        let shown = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| LoadError::Io {
            path: shown.clone(),
            source,
        })?;
        Self::parse(&text).map_err(|e| match e {
            LoadError::NotARecord { why, .. } => LoadError::NotARecord { path: shown, why },
            LoadError::TooNew { found, .. } => LoadError::TooNew { path: shown, found },
            other => other,
        })
    }

    /// Parses a record from text. Errors carry an empty path; [`RunRecord::load`] fills it.
    pub fn parse(text: &str) -> Result<RunRecord, LoadError> {
        let not = |why: String| LoadError::NotARecord {
            path: String::new(),
            why,
        };
        // The header is checked on an untyped value first, so a JUnit file or someone else's
        // JSON is named for what it is rather than for the first field serde misses.
        let value: serde_json::Value = serde_json::from_str(text).map_err(|e| {
            not(format!(
                "invalid JSON at line {} column {}: {e}",
                e.line(),
                e.column()
            ))
        })?;
        if value.get("format").and_then(|f| f.as_str()) != Some(FORMAT) {
            return Err(not(format!("expected \"format\": \"{FORMAT}\"")));
        }
        let version = value
            .get("format_version")
            .and_then(|v| v.as_u64())
            .ok_or_else(|| not("no numeric format_version".into()))?;
        if version > u64::from(FORMAT_VERSION) {
            return Err(LoadError::TooNew {
                path: String::new(),
                found: version,
            });
        }
        if version == 1 {
            let mut value = value;
            crate::report::legacy::upgrade_v1(&mut value);
            return serde_json::from_value(value).map_err(|e| not(format!("{e}")));
        }
        serde_json::from_str(text)
            .map_err(|e| not(format!("line {} column {}: {e}", e.line(), e.column())))
    }

    /// Writes the record as compact JSON and a newline. Compact because a large run's record
    /// is mostly reply shapes and tools read it; `jq . run.json` is there for people.
    pub fn write_json(&self, w: &mut dyn std::io::Write) -> std::io::Result<()> {
        serde_json::to_writer(&mut *w, self)?;
        w.write_all(b"\n")
    }

    /// The record as [`RunRecord::write_json`] writes it.
    pub fn to_json(&self) -> String {
        let mut buf = Vec::new();
        // Writing plain data (strings, numbers, maps with string keys) to memory cannot fail.
        let _ = self.write_json(&mut buf);
        String::from_utf8(buf).unwrap_or_default()
    }

    /// Targets by name.
    pub(crate) fn target(&self, name: &str) -> Option<&TargetInfo> {
        self.targets.iter().find(|t| t.name == name)
    }
}

/// The current time as the record writes it.
pub(crate) fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::test_support;

    /// A record written by the provcheck of format version 1 (a small replay run with a pass,
    /// a failure, an error and three kinds of skip), kept so newer builds go on reading it.
    const V1: &str = include_str!("testdata/run-v1.json");

    #[test]
    fn reads_a_version_1_record() {
        let r = RunRecord::parse(V1).unwrap();
        assert_eq!(r.outcomes.len(), 7);
        assert_eq!(Totals::of(&r.outcomes), r.totals);
        let kinds: Vec<_> = r.outcomes.iter().filter_map(|o| o.skip_kind()).collect();
        assert_eq!(
            kinds,
            [
                crate::outcome::SkipKind::NotRecorded,
                crate::outcome::SkipKind::Ignored,
                crate::outcome::SkipKind::CapabilityNotDeclared
            ]
        );
        let failed = r
            .outcomes
            .iter()
            .find(|o| o.status == Status::Fail)
            .unwrap();
        assert_eq!(failed.findings[0].path, "expect.text");
        assert_eq!(failed.findings[0].location, "suites/messages.yaml:21:7");
        assert_eq!(
            crate::report::text::headline(failed).unwrap(),
            "expect.text: text \"PINEAPPLE\" does not contain \"MANGO\""
        );
        let errored = r
            .outcomes
            .iter()
            .find(|o| o.status == Status::Error)
            .unwrap();
        assert!(
            errored
                .error
                .as_ref()
                .unwrap()
                .message
                .starts_with("recording does not load:")
        );
        let p = r.outcomes[0].provenance.as_ref().unwrap();
        assert_eq!(
            crate::report::text::provenance(p),
            "authored 2026-11-25 (claude-haiku-4-5)"
        );
        // Written again, it is a current record that reads back the same.
        let again = RunRecord::parse(&r.to_json()).unwrap();
        assert_eq!(again.to_json(), r.to_json());
        assert_eq!(r.format_version, FORMAT_VERSION);
    }

    #[test]
    fn round_trips_and_rejects_what_is_not_a_record() {
        let r = test_support::record(vec![test_support::outcome(
            "s::a::openai",
            Priority::High,
            Status::Pass,
            None,
        )]);
        assert_eq!(
            RunRecord::parse(&r.to_json()).unwrap().to_json(),
            r.to_json()
        );
        let e = RunRecord::parse("<testsuites/>").unwrap_err().to_string();
        assert!(e.contains("invalid JSON"), "{e}");
        let e = RunRecord::parse("{}").unwrap_err().to_string();
        assert!(e.contains("expected \"format\": \"provcheck-run\""), "{e}");
        let newer = r.to_json().replace(
            &format!("\"format_version\":{FORMAT_VERSION}"),
            "\"format_version\":99",
        );
        assert!(matches!(
            RunRecord::parse(&newer),
            Err(LoadError::TooNew { found: 99, .. })
        ));
        let broken = r
            .to_json()
            .replace("\"mode\":\"replay\"", "\"mode\":\"sideways\"");
        let e = RunRecord::parse(&broken).unwrap_err().to_string();
        assert!(e.contains("line ") && e.contains("sideways"), "{e}");
    }

    #[test]
    fn load_names_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("junit.xml");
        std::fs::write(&p, "<testsuites/>").unwrap();
        let e = RunRecord::load(&p).unwrap_err().to_string();
        assert!(e.starts_with(&p.display().to_string()), "{e}");
        let missing = dir.path().join("none.json");
        let e = RunRecord::load(&missing).unwrap_err().to_string();
        assert!(e.contains(&missing.display().to_string()), "{e}");
    }

    #[test]
    fn urls_lose_credentials() {
        assert_eq!(
            redact_url("https://user:sk-secret@gw.example/v1?api_key=sk-2"),
            "https://gw.example/v1"
        );
        assert_eq!(
            redact_url("http://127.0.0.1:11434"),
            "http://127.0.0.1:11434"
        );
    }
}

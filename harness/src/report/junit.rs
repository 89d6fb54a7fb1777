//! JUnit XML via quick-junit: one `<testsuite>` per suite, one `<testcase>` per scenario ×
//! target; failure, error and skipped kept apart, each with its message and details.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use quick_junit::{
    NonSuccessKind, Property, Report, TestCase, TestCaseStatus, TestSuite, XmlString,
};

use crate::outcome::{Outcome, Status};

/// Writes outcomes as a JUnit document to `w`, without holding the whole text in memory.
pub(crate) fn write(outcomes: &[Outcome], w: &mut dyn std::io::Write) -> std::io::Result<()> {
    report(outcomes).serialize(w).map_err(std::io::Error::other)
}

fn report(outcomes: &[Outcome]) -> Report {
    let mut report = Report::new("provcheck");
    let mut by_suite: BTreeMap<&str, Vec<&Outcome>> = BTreeMap::new();
    for o in outcomes {
        by_suite.entry(&o.suite).or_default().push(o);
    }
    let mut total = Duration::ZERO;
    let mut x = Interned::default();
    for (suite, cases) in by_suite {
        let mut ts = TestSuite::new(suite);
        let mut suite_time = Duration::ZERO;
        for o in cases {
            let time = Duration::from_millis(o.duration_ms);
            suite_time += time;
            let mut tc = TestCase::new(format!("{}::{}", o.scenario, o.target), status_of(o));
            tc.set_classname(format!("{}.{}", o.suite, o.scenario));
            tc.set_time(time);
            let mut props = vec![
                Property::new(x.get("target"), x.get(&o.target)),
                Property::new(x.get("dialect"), x.get(o.dialect.as_str())),
                Property::new(x.get("model"), x.get(&o.models.join(", "))),
                Property::new(x.get("mode"), x.get(o.mode.as_str())),
                Property::new(x.get("priority"), x.get(o.priority.as_str())),
                Property::new(x.get("category"), x.get(&o.category)),
                Property::new(x.get("location"), o.location.as_str()),
            ];
            props.push(Property::new(x.get("subject"), x.get(o.subject.as_str())));
            if let Some(c) = &o.client {
                props.push(Property::new(x.get("client"), x.get(c)));
            }
            let (contract, behaviour) = (
                o.contract_findings().count(),
                o.behaviour_findings().count(),
            );
            if contract + behaviour > 0 {
                props.push(Property::new(
                    x.get("contract_findings"),
                    x.get(&contract.to_string()),
                ));
                props.push(Property::new(
                    x.get("behaviour_findings"),
                    x.get(&behaviour.to_string()),
                ));
            }
            if o.behaviour_warning() {
                // A pass under `--behaviour warn` that kept behaviour findings: JUnit has no
                // warning status, so the property and the output carry them.
                props.push(Property::new(
                    x.get("behaviour_warnings"),
                    x.get(&behaviour.to_string()),
                ));
                tc.set_system_out(super::text::detail_lines(o).join("\n"));
            }
            if let Some(r) = &o.repetitions {
                props.push(Property::new(
                    x.get("repetitions"),
                    super::text::repetitions(r).as_str(),
                ));
            }
            if let Some(p) = &o.provenance {
                let p = super::text::provenance(p);
                props.push(Property::new(x.get("provenance"), x.get(&p)));
            }
            if let Some(r) = &o.recording {
                props.push(Property::new(x.get("recording"), r.as_str()));
            }
            tc.add_properties(props);
            ts.add_test_case(tc);
        }
        ts.set_time(suite_time);
        total += suite_time;
        report.add_test_suite(ts);
    }
    report.set_time(total);
    report
}

/// A test case's status: its kind, and unless it passed, its message, type and details. A
/// skip's message is its line's verdict, `skipped (reason)`, or `ignored (reason)` for a
/// scenario marked `ignore`, whose type is `ignored`.
fn status_of(o: &Outcome) -> TestCaseStatus {
    let mut status = match o.status {
        Status::Pass => return TestCaseStatus::success(),
        Status::Fail => TestCaseStatus::non_success(NonSuccessKind::Failure),
        Status::Error => TestCaseStatus::non_success(NonSuccessKind::Error),
        Status::Skip => TestCaseStatus::skipped(),
    };
    let class = super::text::finding_class(o);
    let message = match o.status {
        Status::Skip => super::text::skip_verdict(o),
        _ => super::text::headline(o),
    };
    if let Some(m) = message {
        // The message says which kind of finding failed the trial.
        status.set_message(match (o.status, class) {
            (Status::Fail, Some(c)) => format!("{c}: {m}"),
            _ => m,
        });
    }
    status.set_type(match (o.status, class) {
        (Status::Fail, Some("behaviour")) => "behaviour",
        (Status::Fail, _) => "contract",
        (Status::Error, _) => "harness-error",
        _ if o.skip_kind() == Some(crate::outcome::SkipKind::Ignored) => "ignored",
        _ => "skipped",
    });
    let details = super::text::detail_lines(o);
    if !details.is_empty() {
        status.set_description(details.join("\n"));
    }
    status
}

/// quick-junit sanitizes every string it is given (ANSI escapes, control characters), and on a
/// large run that is most of the rendering time. The names and values repeated on every test
/// case (property names, target, dialect, model, mode, priority, category, provenance) are
/// sanitized once each and cloned; an `XmlString` passed in is not sanitized again.
#[derive(Default)]
struct Interned(HashMap<String, XmlString>);

impl Interned {
    fn get(&mut self, s: &str) -> XmlString {
        if let Some(x) = self.0.get(s) {
            return x.clone();
        }
        let x = XmlString::new(s);
        self.0.insert(s.to_string(), x.clone());
        x
    }
}

//! JUnit XML via quick-junit: one `<testsuite>` per suite, one `<testcase>` per scenario ×
//! target; failure, error and skipped kept apart, each with its message and details.

use std::collections::BTreeMap;
use std::time::Duration;

use quick_junit::{NonSuccessKind, Property, Report, TestCase, TestCaseStatus, TestSuite};

use crate::outcome::{Outcome, Status};

/// Renders outcomes as a JUnit document.
pub fn render(outcomes: &[Outcome]) -> Result<String, quick_junit::SerializeError> {
    let mut report = Report::new("provcheck");
    let mut by_suite: BTreeMap<&str, Vec<&Outcome>> = BTreeMap::new();
    for o in outcomes {
        by_suite.entry(&o.suite).or_default().push(o);
    }
    let mut total = Duration::ZERO;
    for (suite, cases) in by_suite {
        let mut ts = TestSuite::new(suite);
        let mut suite_time = Duration::ZERO;
        for o in cases {
            let time = Duration::from_millis(o.duration_ms);
            suite_time += time;
            let mut status = match o.status {
                Status::Pass => TestCaseStatus::success(),
                Status::Fail => TestCaseStatus::non_success(NonSuccessKind::Failure),
                Status::Error => TestCaseStatus::non_success(NonSuccessKind::Error),
                Status::Skip => TestCaseStatus::skipped(),
            };
            if o.status != Status::Pass {
                if let Some(m) = &o.message {
                    status.set_message(m.as_str());
                }
                status.set_type(match o.status {
                    Status::Fail => "contract-or-expectation",
                    Status::Error => "harness-error",
                    _ => "skipped",
                });
                if !o.details.is_empty() {
                    status.set_description(o.details.join("\n"));
                }
            }
            let mut tc = TestCase::new(format!("{}::{}", o.scenario, o.target), status);
            tc.set_classname(format!("{}.{}", o.suite, o.scenario));
            tc.set_time(time);
            let mut props = vec![
                Property::new("target", o.target.as_str()),
                Property::new("dialect", o.dialect.as_str()),
                Property::new("model", o.models.join(", ")),
                Property::new("mode", o.mode.as_str()),
                Property::new("priority", o.priority.as_str()),
                Property::new("category", o.category.as_str()),
                Property::new("location", o.location.as_str()),
            ];
            if let Some(p) = &o.provenance {
                props.push(Property::new("provenance", p.as_str()));
            }
            if let Some(r) = &o.recording {
                props.push(Property::new("recording", r.as_str()));
            }
            tc.add_properties(props);
            ts.add_test_case(tc);
        }
        ts.set_time(suite_time);
        total += suite_time;
        report.add_test_suite(ts);
    }
    report.set_time(total);
    report.to_string()
}

//! Live truth, checked before anything runs: a scenario must pass against any server that keeps
//! the contract, so it may expect a broken reply (a stream violation, an error event mid-stream,
//! a transport error, an open circuit, tool arguments that break the schema) only when its own
//! fault script puts the breakage there, or its request is deliberately outside the contract
//! (a `patch` or `raw_body`, or the `absent` model alias: Ollama documents an in-band error
//! for pulling it). `provcheck
//! lint` refuses the others, at the key that expects the breakage: a healthy server would fail
//! them, and a broken recording is a test of provcheck, which belongs in `cargo test`.

use super::load::Suite;
use super::model::{RequestSpec, Scenario};
use crate::expect::Expect;
use crate::expect::spec::ErrorKind;
use crate::source::{Diagnostic, Location};

/// Every expectation of a broken reply in `suite` that no fault script explains, located at its
/// key. A scenario with a fault script (`mock:`) explains all its expectations.
pub fn unexplained_breakage(suite: &Suite) -> Vec<Diagnostic> {
    let source = std::fs::read_to_string(&*suite.file).unwrap_or_default();
    let mut out = Vec::new();
    for sc in suite.scenarios.iter().filter(|sc| sc.mock.is_empty()) {
        for (path, expect, request) in expects(sc) {
            if out_of_contract(request) {
                continue;
            }
            for (key, what) in breakage(expect) {
                let location = sc
                    .expect_locations
                    .get(&format!("{path}.{key}"))
                    .cloned()
                    .unwrap_or_else(|| sc.location.clone());
                out.push(unexplained(sc, what, location, &source));
            }
        }
    }
    out
}

fn unexplained(sc: &Scenario, what: &str, location: Location, source: &str) -> Diagnostic {
    Diagnostic::new(
        format!(
            "scenario `{}` expects {what}, but no fault script puts it there: a server that \
             keeps the contract fails it",
            sc.id
        ),
        location,
        source,
    )
    .with_help(
        "add a `mock:` fault script that breaks the target's reply (e.g. `- recorded: true` with \
         `cut_after`, `error_after`, `delay_ms`, `tool_arguments`); a check of provcheck \
         itself against a broken recording belongs in its tests",
    )
}

/// A request deliberately outside the contract, whose documented answer may be a broken-looking
/// reply: one naming the `absent` model alias (a model no registry has), or one whose body is
/// patched or replaced (`patch`, `raw_body`).
fn out_of_contract(request: Option<&RequestSpec>) -> bool {
    request.is_some_and(|r| r.model == "absent" || r.patch.is_some() || r.raw_body.is_some())
}

/// Each expectation block of a scenario with its path below the scenario (`expect`,
/// `overrides.anthropic`, `steps[1].expect`), as the loader keys their locations, and the
/// request it judges.
fn expects(sc: &Scenario) -> Vec<(String, &Expect, Option<&RequestSpec>)> {
    let mut out = Vec::new();
    let request = sc.request.as_ref();
    if let Some(e) = &sc.expect {
        out.push(("expect".to_string(), e, request));
    }
    for (k, e) in &sc.overrides {
        out.push((format!("overrides.{k}"), e, request));
    }
    for (i, step) in sc.steps.iter().enumerate() {
        let request = Some(&step.request);
        out.push((format!("steps[{i}].expect"), &step.expect, request));
        for (k, e) in &step.overrides {
            out.push((format!("steps[{i}].overrides.{k}"), e, request));
        }
    }
    out
}

/// The keys of `e` that expect a broken reply, with what they expect.
fn breakage(e: &Expect) -> Vec<(&'static str, &'static str)> {
    let mut out = Vec::new();
    if e.stream.as_ref().is_some_and(|s| s.expects_breach()) {
        out.push(("stream", "a stream violation"));
    }
    match e.error.as_ref().and_then(|x| x.kind) {
        Some(ErrorKind::Stream) => out.push(("error", "an error event mid-stream")),
        Some(ErrorKind::Timeout) => out.push(("error", "a timeout")),
        Some(ErrorKind::Connection) => out.push(("error", "a connection error")),
        Some(ErrorKind::CircuitOpen) => out.push(("error", "an open circuit")),
        Some(ErrorKind::Http) | None => {}
    }
    if e.tool_calls.as_ref().and_then(|t| t.arguments_valid) == Some(false) {
        out.push(("tool_calls", "invalid tool arguments"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lint(src: &str) -> Vec<String> {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("s.yaml");
        std::fs::write(&p, src).unwrap();
        let known = crate::suite::Known {
            aliases: ["small".to_string()].into(),
            targets: ["openai".to_string()].into(),
        };
        let suite = crate::suite::load::load_suite(&p, &known).unwrap();
        unexplained_breakage(&suite)
            .iter()
            .map(|d| d.render(false))
            .collect()
    }

    const HEAD: &str = "suite: s\ncategory: c\nscenarios:\n";

    #[test]
    fn each_kind_of_breakage_needs_a_fault_script() {
        let f = lint(&format!(
            "{HEAD}  - id: cut\n    title: C\n    request: {{stream: true, messages: [{{user: hi}}]}}\n    expect:\n      status: 200\n      stream: {{violation: connection closed}}\n  - id: slow\n    title: S\n    steps:\n      - request: {{messages: [{{user: hi}}]}}\n        expect:\n          error: {{kind: timeout}}\n    \n  - id: args\n    title: A\n    request: {{messages: [{{user: hi}}]}}\n    expect:\n      tool_calls: {{arguments_valid: false}}\n    overrides:\n      openai:\n        error: {{kind: stream}}\n"
        ));
        assert_eq!(f.len(), 4, "{f:#?}");
        assert!(
            f[0].contains("`cut` expects a stream violation"),
            "{}",
            f[0]
        );
        assert!(f[0].contains("s.yaml:9:7"), "{}", f[0]);
        assert!(f[1].contains("`slow` expects a timeout"), "{}", f[1]);
        assert!(f[1].contains("s.yaml:15:11"), "{}", f[1]);
        assert!(
            f.iter()
                .any(|m| m.contains("invalid tool arguments") && m.contains("s.yaml:21:7")),
            "{f:#?}"
        );
        assert!(
            f.iter()
                .any(|m| m.contains("an error event mid-stream") && m.contains("s.yaml:24:9")),
            "{f:#?}"
        );
    }

    #[test]
    fn a_deliberately_absent_model_explains_an_in_band_error() {
        let src = format!(
            "{HEAD}  - id: pull\n    title: P\n    request: {{op: pull, model: absent}}\n    expect:\n      error: {{kind: stream}}\n"
        );
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("s.yaml");
        std::fs::write(&p, &src).unwrap();
        let known = crate::suite::Known {
            aliases: ["small".to_string(), "absent".to_string()].into(),
            targets: ["openai".to_string()].into(),
        };
        let suite = crate::suite::load::load_suite(&p, &known).unwrap();
        assert!(unexplained_breakage(&suite).is_empty());
    }

    #[test]
    fn a_deliberately_invalid_body_explains_a_broken_reply() {
        let f = lint(&format!(
            "{HEAD}  - id: raw\n    title: R\n    request: {{messages: [{{user: hi}}], raw_body: 'not json'}}\n    expect:\n      error: {{kind: connection}}\n  - id: patched\n    title: P\n    request: {{messages: [{{user: hi}}], patch: {{stream: true}}}}\n    expect:\n      stream: {{well_formed: false}}\n"
        ));
        assert!(f.is_empty(), "{f:#?}");
    }

    #[test]
    fn a_fault_script_or_an_http_error_is_fine() {
        let f = lint(&format!(
            "{HEAD}  - id: cut\n    title: C\n    mock: [{{recorded: true, cut_after: 2}}]\n    request: {{stream: true, messages: [{{user: hi}}]}}\n    expect:\n      stream: {{violation: connection closed}}\n  - id: bad\n    title: B\n    request: {{messages: [{{user: ''}}]}}\n    expect:\n      error: {{kind: http, status: 400}}\n      stream: {{well_formed: true}}\n      tool_calls: {{arguments_valid: true}}\n"
        ));
        assert!(f.is_empty(), "{f:#?}");
    }
}

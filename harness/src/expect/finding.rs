//! What a check reports: the expectation key it concerns, the kind of check, whether the key
//! judges the wire (contract) or what the model chose to say (behaviour), and the message.
//! The run adds the key's full path and its location.

use super::spec::Expect;
use crate::outcome::{Class, FindingKind};

/// One expectation that did not hold.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Finding {
    /// The expectation key (`finish_reason`, `text`, ...).
    pub key: &'static str,
    /// What kind of check found it.
    pub kind: FindingKind,
    /// Contract or behaviour.
    pub class: Option<Class>,
    /// What was expected and what was seen.
    pub message: String,
}

/// Every check an expectation can make, named `key` or `key.part`, with its class: the one
/// table the classing lives in. *Contract* judges the wire: status, shapes, error bodies, a
/// finish reason consistent with the output, usage within limits, stream grammar and timing,
/// tool-call structure, arguments valid against the offered schema, and what the client did.
/// *Behaviour* judges what the model chose to say: text contains or matches (which is how
/// following a system prompt is checked), which tool it called and how often, argument values,
/// JSON content beyond parsing, and the same text twice.
pub(crate) const CHECKS: &[(&str, Class)] = &[
    ("status", Class::Contract),
    ("error", Class::Contract),
    ("finish_reason", Class::Contract),
    // Stopping at the token limit where `stop` was expected, or calling a tool or not, is the
    // model's choice; the reason reported is still checked against the output as contract.
    ("finish_reason.model_choice", Class::Behaviour),
    ("text", Class::Behaviour),
    ("json.valid", Class::Contract),
    // JSON cut off at the token limit the model chose to reach is not a broken JSON mode.
    ("json.truncated", Class::Behaviour),
    ("json.schema", Class::Behaviour),
    // A strict `json_schema` response format is the provider's promise, whatever the model.
    ("json.requested_schema", Class::Contract),
    ("usage", Class::Contract),
    ("raw", Class::Contract),
    ("elapsed_ms", Class::Contract),
    ("concurrent", Class::Contract),
    ("model", Class::Contract),
    ("models", Class::Contract),
    ("attempts", Class::Contract),
    ("waits_ms", Class::Contract),
    ("circuit", Class::Contract),
    ("stream", Class::Contract),
    // Where a reply ends is the model's: ending before the stop sequence is behaviour, going
    // on past it (the `stop` field ignored) is contract.
    ("stop_sequence.reached", Class::Behaviour),
    ("stream.same_text_as_step", Class::Behaviour),
    ("tool_calls.offered", Class::Contract),
    // Under `tool_choice: none` the API promises no call: a call breaks the wire.
    ("tool_calls.forbidden", Class::Contract),
    ("tool_calls.arguments_valid", Class::Contract),
    // Arguments cut off at the token limit the model chose to reach are not a broken call, and
    // a fault script can only make arguments invalid in a call the model chose to make.
    ("tool_calls.truncated", Class::Behaviour),
    ("tool_calls.no_call", Class::Behaviour),
    ("tool_calls.count", Class::Behaviour),
    ("tool_calls.names", Class::Behaviour),
    ("tool_calls.arguments", Class::Behaviour),
    ("tool_calls.schema", Class::Behaviour),
];

/// The class of a check (`text`, `tool_calls.names`): its entry in [`CHECKS`], or its key's.
/// Anything unlisted judges the wire.
pub(crate) fn class_of(check: &str) -> Class {
    let key = check.split('.').next().unwrap_or(check);
    [check, key]
        .iter()
        .find_map(|c| CHECKS.iter().find(|(name, _)| name == c))
        .map_or(Class::Contract, |(_, class)| *class)
}

/// The checks `expect` makes, named as in [`CHECKS`] (conditional checks, such as
/// `finish_reason.model_choice`, only as their key).
pub(crate) fn checks_of(expect: &Expect) -> Vec<&'static str> {
    let mut out: Vec<&'static str> = Vec::new();
    for key in expect.keys() {
        match key {
            "json" => {
                let j = expect.json.as_ref();
                out.push("json.valid");
                if j.is_some_and(|j| j.schema.is_some()) {
                    out.push("json.schema");
                }
            }
            "stream" => {
                out.push("stream");
                if expect
                    .stream
                    .as_ref()
                    .is_some_and(|s| s.same_text_as_step.is_some())
                {
                    out.push("stream.same_text_as_step");
                }
            }
            "tool_calls" => {
                let Some(tc) = &expect.tool_calls else {
                    continue;
                };
                out.push("tool_calls.arguments_valid");
                for (set, check) in [
                    (tc.count.is_some(), "tool_calls.count"),
                    (tc.names.is_some(), "tool_calls.names"),
                    (!tc.arguments.is_empty(), "tool_calls.arguments"),
                    (tc.schema.is_some(), "tool_calls.schema"),
                ] {
                    if set {
                        out.push(check);
                    }
                }
            }
            k => out.push(k),
        }
    }
    out
}

/// True when `expect` judges what the model chose to say.
pub(crate) fn judges_behaviour(expect: &Expect) -> bool {
    checks_of(expect)
        .iter()
        .any(|c| class_of(c) == Class::Behaviour)
}

/// A finding for `check` (`text`, `tool_calls.names`), classed by [`class_of`], its message
/// prefixed with the copy it concerns when the step sent several.
pub(crate) fn finding(
    check: &'static str,
    copy: Option<(usize, usize)>,
    message: String,
) -> Finding {
    let key = check.split('.').next().unwrap_or(check);
    let message = match copy {
        Some((i, n)) if n > 1 => format!("copy {}/{n}: {message}", i + 1),
        _ => message,
    };
    Finding {
        key,
        kind: FindingKind::Expectation,
        class: Some(class_of(check)),
        message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_issue_lists_are_classed_as_written() {
        for k in [
            "status",
            "error",
            "finish_reason",
            "json.valid",
            "usage",
            "stream",
            "raw",
            "tool_calls.offered",
            "tool_calls.arguments_valid",
            "attempts",
            "waits_ms",
            "circuit",
        ] {
            assert_eq!(class_of(k), Class::Contract, "{k}");
        }
        for k in [
            "text",
            "tool_calls.names",
            "tool_calls.count",
            "tool_calls.arguments",
            "tool_calls.schema",
            "json.schema",
            "finish_reason.model_choice",
            "stream.same_text_as_step",
        ] {
            assert_eq!(class_of(k), Class::Behaviour, "{k}");
        }
        // A part not in the table takes its key's class.
        assert_eq!(class_of("stream.events"), Class::Contract);
        assert_eq!(class_of("text.max_chars"), Class::Behaviour);
        let f = finding("tool_calls.names", None, "x".into());
        assert_eq!((f.key, f.class), ("tool_calls", Some(Class::Behaviour)));
        let f = finding("text", Some((1, 3)), "no".into());
        assert_eq!(f.message, "copy 2/3: no");
        assert_eq!(finding("text", Some((0, 1)), "no".into()).message, "no");
    }

    #[test]
    fn every_expectation_key_is_in_the_table() {
        let yaml = r#"
status: 200
finish_reason: stop
text: { contains: x }
json: { valid: true, schema: { type: object } }
usage: { present: true }
error: { status: 400 }
raw: [{ pointer: /a, exists: true }]
elapsed_ms: { max: 10 }
concurrent: { distinct_ids: true }
model: { matches_request: true }
stream: { well_formed: true, same_text_as_step: 0 }
models: { includes: [small] }
attempts: 1
waits_ms: { growing: true }
circuit: { failed_fast: 1 }
tool_calls: { count: 1, names: [a], arguments: [{ pointer: /x, exists: true }], schema: {} }
"#;
        let e: Expect = crate::source::parse_yaml(&"test.yaml".into(), yaml).unwrap();
        let keys = e.keys();
        assert_eq!(keys.len(), Expect::KEYS.len(), "{keys:?}");
        for k in Expect::KEYS {
            assert!(keys.contains(k), "{k} is not in Expect::keys()");
            assert!(
                CHECKS
                    .iter()
                    .any(|(c, _)| c == &k || c.starts_with(&format!("{k}."))),
                "{k} has no class in CHECKS"
            );
        }
        // The sampling-parameter keys (`choices`, `stop_sequence`, `logprobs`) are judged by
        // expect::params and sit beside KEYS.
        let params = ["choices", "stop_sequence", "logprobs"];
        for (c, _) in CHECKS {
            let key = c.split('.').next().unwrap();
            assert!(
                Expect::KEYS.contains(&key) || params.contains(&key),
                "{c} names no expectation key"
            );
        }
        let checks = checks_of(&e);
        for c in [
            "json.schema",
            "stream.same_text_as_step",
            "tool_calls.names",
        ] {
            assert!(checks.contains(&c), "{c}: {checks:?}");
        }
        assert!(judges_behaviour(&e));
        let wire: Expect =
            crate::source::parse_yaml(&"test.yaml".into(), "{status: 200, usage: {present: true}}")
                .unwrap();
        assert!(!judges_behaviour(&wire));
    }
}

//! Judging a reply's tool calls: the `tool_calls` expectation, and the rule that holds even
//! without it: when the request offered tools, a call to any other tool fails the step.
//!
//! Arguments are judged in three layers, each reported with the call it concerns: they must
//! parse as JSON (OpenAI sends them as a string that may not), satisfy the JSON Schema of the
//! tool they call (compiled when the suite loaded), and satisfy `tool_calls.schema` if given.

use std::collections::BTreeSet;

use serde_json::Value;

use super::finding::{Finding, finding};
use super::spec::{ArgumentExpect, Expect, NamesExpect, Schema};
use crate::neutral::{FinishReason, Reply, ToolCall};

pub(crate) use super::spec::{OfferedTool, OfferedTools};

/// Arguments that parse and satisfy the offered tool's schema: the wire's part of a call.
const VALID: &str = "tool_calls.arguments_valid";
/// Arguments broken because the reply was cut at the token limit: the model chose to run that
/// long, so (as with JSON cut off at the limit) it is behaviour, not a broken wire.
const TRUNCATED: &str = "tool_calls.truncated";
/// A step expected invalid arguments but the reply made no call to judge: whether the model
/// calls a tool is its choice (a fault script can only rewrite a call the target made).
const NO_CALL: &str = "tool_calls.no_call";

/// Evaluates the tool-call checks of `expect` against one reply. Nothing is judged when the
/// step expects an error: an error reply carries no calls.
pub(super) fn check(
    expect: &Expect,
    reply: &Reply,
    copy: Option<(usize, usize)>,
    out: &mut Vec<Finding>,
) {
    if expect.error.is_some() {
        return;
    }
    let offered = expect.offered_tools.as_deref().unwrap_or(&[]);
    let calls = &reply.tool_calls;
    check_allowed(expect, offered, calls, copy, out);
    let Some(tc) = &expect.tool_calls else {
        return;
    };
    if let Some(b) = tc.count
        && !b.contains(calls.len() as u64)
    {
        let got = match calls.len() {
            0 if reply.text.is_empty() => "no tool call".to_string(),
            0 => format!("no tool call (text: {})", quote(&reply.text, 80)),
            1 => "1 tool call".to_string(),
            n => format!("{n} tool calls"),
        };
        // How many calls the model chose to make is behaviour.
        out.push(finding(
            "tool_calls.count",
            copy,
            format!("{got}, expected {}", count(b)),
        ));
    }
    if let Some(names) = &tc.names {
        check_names(names, calls, copy, out);
    }
    let verdicts: Vec<Vec<(&'static str, String)>> = calls
        .iter()
        .map(|c| problems(c, offered, tc.schema.as_ref()))
        .collect();
    match tc.arguments_valid {
        Some(true) | None => {
            // Cut: the reply says so, or its usage reached the limit (a reply that reached it
            // but claims to have finished is the dialect contract's finding, reported apart).
            let cut = reply.finish_reason == Some(FinishReason::Length)
                || super::eval::reached_limit(expect, reply) == Some(true);
            for (i, (c, p)) in calls.iter().zip(&verdicts).enumerate() {
                for (check, p) in p {
                    let (check, why) = match *check {
                        VALID if cut => (TRUNCATED, " (the reply was cut at the token limit)"),
                        other => (other, ""),
                    };
                    out.push(finding(
                        check,
                        copy,
                        format!("call {i} ({}): {p}{why}", c.name),
                    ));
                }
            }
        }
        Some(false) if calls.is_empty() => out.push(finding(
            NO_CALL,
            copy,
            "expected invalid arguments, but the reply made no tool call".into(),
        )),
        Some(false) => {
            if verdicts.iter().all(Vec::is_empty) {
                out.push(finding(
                    VALID,
                    copy,
                    format!(
                        "expected some call's arguments to be invalid, but all {} are valid: {}",
                        calls.len(),
                        calls
                            .iter()
                            .map(|c| format!("{}({})", c.name, quote(&c.arguments_raw, 80)))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                ));
            }
        }
    }
    for a in &tc.arguments {
        check_argument(a, calls, copy, out);
    }
}

/// The rules that hold without a `tool_calls` expectation: every call names an offered tool,
/// and none comes under `tool_choice: none`.
fn check_allowed(
    expect: &Expect,
    offered: &[OfferedTool],
    calls: &[ToolCall],
    copy: Option<(usize, usize)>,
    out: &mut Vec<Finding>,
) {
    if !offered.is_empty() {
        for (i, c) in calls.iter().enumerate() {
            if !offered.iter().any(|t| t.name == c.name) {
                let names: Vec<&str> = offered.iter().map(|t| t.name.as_str()).collect();
                out.push(finding(
                    "tool_calls.offered",
                    copy,
                    format!(
                        "call {i} names {:?}, a tool the request did not offer (offered: {})",
                        c.name,
                        names.join(", ")
                    ),
                ));
            }
        }
    }
    if expect.tools_forbidden {
        for (i, c) in calls.iter().enumerate() {
            out.push(finding(
                "tool_calls.forbidden",
                copy,
                format!(
                    "call {i} names {:?} although the request's tool_choice is none (no tool may be called)",
                    c.name
                ),
            ));
        }
    }
}

/// `1` reads "exactly 1"; other bounds as usual.
fn count(b: super::spec::Bounds) -> String {
    match (b.min, b.max) {
        (Some(a), Some(z)) if a == z => format!("exactly {a}"),
        _ => b.to_string(),
    }
}

fn check_names(
    want: &NamesExpect,
    calls: &[ToolCall],
    copy: Option<(usize, usize)>,
    out: &mut Vec<Finding>,
) {
    let got: Vec<&str> = calls.iter().map(|c| c.name.as_str()).collect();
    match want {
        NamesExpect::InOrder(w) => {
            if got != *w {
                out.push(finding(
                    "tool_calls.names",
                    copy,
                    format!(
                        "calls are [{}], expected [{}]",
                        got.join(", "),
                        w.join(", ")
                    ),
                ));
            }
        }
        NamesExpect::AnyOrder(w) => {
            let got: BTreeSet<&str> = got.into_iter().collect();
            let want: BTreeSet<&str> = w.iter().map(String::as_str).collect();
            if got != want {
                let list = |s: &BTreeSet<&str>| s.iter().copied().collect::<Vec<_>>().join(", ");
                out.push(finding(
                    "tool_calls.names",
                    copy,
                    format!(
                        "tools called are {{{}}}, expected {{{}}} in any order",
                        list(&got),
                        list(&want)
                    ),
                ));
            }
        }
    }
}

/// What is wrong with one call's arguments, each with its check: not JSON (with the text as
/// sent) or against its tool's schema (the contract), or against the expectation's own schema
/// (the values the model chose).
fn problems(
    c: &ToolCall,
    offered: &[OfferedTool],
    extra: Option<&Schema>,
) -> Vec<(&'static str, String)> {
    let Some(args) = &c.arguments else {
        let why = serde_json::from_str::<Value>(&c.arguments_raw)
            .err()
            .map(|e| format!(" ({e})"))
            .unwrap_or_default();
        return vec![(
            VALID,
            format!(
                "arguments are not valid JSON{why}: {}",
                quote(&c.arguments_raw, 200)
            ),
        )];
    };
    let mut out = Vec::new();
    let own = offered
        .iter()
        .find(|t| t.name == c.name)
        .and_then(|t| t.schema.as_ref());
    for (schema, what, check) in [
        (own, "the tool's schema", VALID),
        (extra, "`tool_calls.schema`", "tool_calls.schema"),
    ] {
        let Some(schema) = schema else { continue };
        let errors: Vec<String> = schema
            .validator
            .iter_errors(args)
            .take(3)
            .map(|e| {
                let at = e.instance_path().to_string();
                format!("{e} (at {})", if at.is_empty() { "/" } else { &at })
            })
            .collect();
        if !errors.is_empty() {
            out.push((
                check,
                format!(
                    "arguments {} do not match {what}: {}",
                    quote(&c.arguments_raw, 120),
                    errors.join("; ")
                ),
            ));
        }
    }
    out
}

fn check_argument(
    a: &ArgumentExpect,
    calls: &[ToolCall],
    copy: Option<(usize, usize)>,
    out: &mut Vec<Finding>,
) {
    let selected: Vec<(usize, &ToolCall)> = calls
        .iter()
        .enumerate()
        .filter(|(i, c)| {
            a.call.is_none_or(|k| k == *i) && a.tool.as_ref().is_none_or(|t| *t == c.name)
        })
        .collect();
    let which = match (a.call, &a.tool) {
        (Some(k), Some(t)) => format!("call {k} to {t:?}"),
        (Some(k), None) => format!("call {k}"),
        (None, Some(t)) => format!("call to {t:?}"),
        (None, None) => "tool call".to_string(),
    };
    if selected.is_empty() {
        let made = match calls.len() {
            0 => "the reply made none".to_string(),
            1 => "the reply made 1".to_string(),
            n => format!("the reply made {n}"),
        };
        out.push(finding(
            "tool_calls.arguments",
            copy,
            format!("no {which} to check {} against ({made})", a.pointer),
        ));
        return;
    }
    let holds = |c: &ToolCall| {
        let Some(args) = &c.arguments else {
            return false;
        };
        let got = args.pointer(&a.pointer);
        a.exists.is_none_or(|e| e == got.is_some())
            && a.equals.as_ref().is_none_or(|w| got == Some(w))
    };
    // Arguments that are not JSON are already reported (as invalid); only the root cause.
    if selected.iter().any(|(_, c)| holds(c)) || selected.iter().all(|(_, c)| c.arguments.is_none())
    {
        return;
    }
    let mut want = Vec::new();
    if let Some(w) = &a.equals {
        want.push(format!("{} = {w}", a.pointer));
    }
    match a.exists {
        Some(true) if a.equals.is_none() => want.push(format!("{} present", a.pointer)),
        Some(false) => want.push(format!("no {}", a.pointer)),
        _ => {}
    }
    let seen: Vec<String> = selected
        .iter()
        .map(|(i, c)| {
            let v = match &c.arguments {
                None => "unreadable (not JSON)".to_string(),
                Some(args) => args
                    .pointer(&a.pointer)
                    .map(Value::to_string)
                    .unwrap_or_else(|| "absent".into()),
            };
            if selected.len() == 1 {
                v
            } else {
                format!("{v} in call {i}")
            }
        })
        .collect();
    let msg = if selected.len() == 1 {
        let which = if which == "tool call" {
            "the tool call".to_string()
        } else {
            which
        };
        format!(
            "{which} does not have {} in its arguments ({} is {})",
            want.join(" and "),
            a.pointer,
            seen[0]
        )
    } else {
        format!(
            "no {which} has {} in its arguments ({} is {})",
            want.join(" and "),
            a.pointer,
            seen.join(", ")
        )
    };
    out.push(finding("tool_calls.arguments", copy, msg));
}

fn quote(s: &str, max: usize) -> String {
    if s.chars().count() > max {
        format!("{:?}…", s.chars().take(max).collect::<String>())
    } else {
        format!("{s:?}")
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use serde_json::json;

    use super::*;
    use crate::expect::evaluate;
    use crate::observation::{Observed, StepObservation};

    fn schema(v: Value) -> Schema {
        serde_json::from_value(v).unwrap()
    }

    fn expect(yaml: &str) -> Expect {
        let mut e: Expect = crate::source::parse_yaml(&"test.yaml".into(), yaml).unwrap();
        e.offered_tools = Some(std::sync::Arc::from(vec![
            OfferedTool {
                name: "get_weather".into(),
                schema: Some(schema(json!({
                    "type": "object",
                    "properties": {"city": {"type": "string"}, "unit": {"enum": ["c", "f"]}},
                    "required": ["city"],
                    "additionalProperties": false
                }))),
            },
            OfferedTool {
                name: "get_time".into(),
                schema: None,
            },
        ]));
        e
    }

    fn call(name: &str, raw: &str) -> ToolCall {
        ToolCall {
            id: Some("call_1".into()),
            name: name.into(),
            arguments_raw: raw.into(),
            arguments: serde_json::from_str(raw).ok(),
        }
    }

    fn run(e: &Expect, calls: Vec<ToolCall>) -> Vec<String> {
        judged(e, calls, FinishReason::ToolCalls)
            .into_iter()
            .map(|f| f.message)
            .collect()
    }

    /// A step of one copy that got `reply`.
    fn one_copy(reply: Reply) -> StepObservation {
        StepObservation {
            model: "m".into(),
            copies: vec![Observed {
                result: Ok(reply),
                elapsed: Duration::from_millis(1),
                shape: None,
            }],
            ..StepObservation::default()
        }
    }

    /// Every finding of `e` on a reply with `calls` that finished for `finish`.
    fn judged(e: &Expect, calls: Vec<ToolCall>, finish: FinishReason) -> Vec<Finding> {
        let reply = Reply {
            status: 200,
            finish_reason: Some(finish),
            tool_calls: calls,
            ..Reply::default()
        };
        let found = evaluate(e, &one_copy(reply), &[]);
        assert!(found.iter().all(|f| f.key == "tool_calls"), "{found:?}");
        found
    }

    #[test]
    fn arguments_cut_at_the_token_limit_are_behaviour_not_contract() {
        let e = expect("{tool_calls: {count: 1}}");
        let cut = || vec![call("get_weather", r#"{"city": "Par"#)];
        let f = judged(&e, cut(), FinishReason::Length);
        assert_eq!(f.len(), 1, "{f:?}");
        assert_eq!(f[0].class, Some(crate::outcome::Class::Behaviour), "{f:?}");
        assert!(
            f[0].message
                .ends_with("(the reply was cut at the token limit)"),
            "{f:?}"
        );
        // The same arguments on a reply that ended by itself break the wire.
        let f = judged(&e, cut(), FinishReason::ToolCalls);
        assert_eq!(f[0].class, Some(crate::outcome::Class::Contract), "{f:?}");
        // A reply whose usage reached the limit is cut whatever finish reason it claims.
        let mut limited = e.clone();
        limited.max_tokens = Some(200);
        let reply = Reply {
            status: 200,
            finish_reason: Some(FinishReason::ToolCalls),
            tool_calls: cut(),
            usage: Some(crate::neutral::Usage {
                input_tokens: Some(5),
                output_tokens: Some(200),
            }),
            ..Reply::default()
        };
        let f = evaluate(&limited, &one_copy(reply), &[]);
        let args: Vec<_> = f
            .iter()
            .filter(|f| f.message.contains("arguments"))
            .collect();
        assert_eq!(args.len(), 1, "{f:?}");
        assert_eq!(
            args[0].class,
            Some(crate::outcome::Class::Behaviour),
            "{f:?}"
        );
        // A cut call whose arguments parse is still held to the tool's schema as behaviour.
        let f = judged(&e, vec![call("get_weather", "{}")], FinishReason::Length);
        assert_eq!(f.len(), 1, "{f:?}");
        assert_eq!(f[0].class, Some(crate::outcome::Class::Behaviour), "{f:?}");
    }

    #[test]
    fn a_call_under_tool_choice_none_breaks_the_contract() {
        let mut e = expect("{tool_calls: {count: 0}}");
        let f = judged(
            &e,
            vec![call("get_weather", r#"{"city":"Paris"}"#)],
            FinishReason::Stop,
        );
        assert!(
            f.iter()
                .all(|f| f.class == Some(crate::outcome::Class::Behaviour)),
            "{f:?}"
        );
        e.tools_forbidden = true;
        let f = judged(
            &e,
            vec![call("get_weather", r#"{"city":"Paris"}"#)],
            FinishReason::Stop,
        );
        let forbidden: Vec<_> = f
            .iter()
            .filter(|f| f.class == Some(crate::outcome::Class::Contract))
            .collect();
        assert_eq!(forbidden.len(), 1, "{f:?}");
        assert_eq!(
            forbidden[0].message,
            "call 0 names \"get_weather\" although the request's tool_choice is none (no tool may be called)"
        );
        assert!(judged(&e, vec![], FinishReason::Stop).is_empty());
    }

    #[test]
    fn expecting_invalid_arguments_with_no_call_is_behaviour() {
        let e = expect("{tool_calls: {arguments_valid: false}}");
        let f = judged(&e, vec![], FinishReason::Stop);
        assert_eq!(f.len(), 1, "{f:?}");
        assert_eq!(
            f[0].message,
            "expected invalid arguments, but the reply made no tool call"
        );
        assert_eq!(f[0].class, Some(crate::outcome::Class::Behaviour), "{f:?}");
    }

    #[test]
    fn a_matching_call_passes() {
        let e = expect(
            "{tool_calls: {count: 1, names: [get_weather], arguments: [{pointer: /city, equals: Paris}, {pointer: /unit, exists: false}]}}",
        );
        assert_eq!(
            run(&e, vec![call("get_weather", r#"{"city":"Paris"}"#)]),
            Vec::<String>::new()
        );
    }

    #[test]
    fn a_tool_that_was_not_offered_always_fails() {
        let e = expect("{status: 200}");
        assert_eq!(
            run(&e, vec![call("get_wether", "{}")]),
            vec![
                "call 0 names \"get_wether\", a tool the request did not offer (offered: get_weather, get_time)"
            ]
        );
        let mut none_offered = e.clone();
        none_offered.offered_tools = None;
        assert!(run(&none_offered, vec![call("anything", "{}")]).is_empty());
    }

    #[test]
    fn arguments_that_are_not_json_show_the_text() {
        let e = expect("{tool_calls: {count: 1}}");
        let f = run(&e, vec![call("get_weather", r#"{"city": "Par"#)]);
        assert_eq!(f.len(), 1, "{f:?}");
        assert!(
            f[0].starts_with(
                "call 0 (get_weather): arguments are not valid JSON (EOF while parsing"
            ),
            "{f:?}"
        );
        assert!(f[0].ends_with(r#": "{\"city\": \"Par""#), "{f:?}");
    }

    #[test]
    fn schema_violations_and_expected_invalidity() {
        let bad = || vec![call("get_weather", r#"{"city": 42, "unit": "k"}"#)];
        let f = run(&expect("{tool_calls: {}}"), bad());
        assert_eq!(f.len(), 1, "{f:?}");
        assert!(
            f[0].contains(
                "do not match the tool's schema: 42 is not of type \"string\" (at /city)"
            ),
            "{f:?}"
        );
        assert!(run(&expect("{tool_calls: {arguments_valid: false}}"), bad()).is_empty());
        let f = run(
            &expect("{tool_calls: {arguments_valid: false}}"),
            vec![call("get_weather", r#"{"city":"Oslo"}"#)],
        );
        assert!(
            f[0].starts_with("expected some call's arguments to be invalid, but all 1 are valid"),
            "{f:?}"
        );
        let f = run(
            &expect("{tool_calls: {schema: {type: object, required: [tz]}}}"),
            vec![call("get_time", "{}")],
        );
        assert!(
            f[0].contains("do not match `tool_calls.schema`: \"tz\" is a required property"),
            "{f:?}"
        );
    }

    #[test]
    fn count_names_and_argument_checks() {
        let two = || {
            vec![
                call("get_weather", r#"{"city":"Tokyo"}"#),
                call("get_weather", r#"{"city":"Paris"}"#),
            ]
        };
        let e = expect(
            "{tool_calls: {count: {min: 2}, names: {any_order: [get_weather]}, arguments: [{tool: get_weather, pointer: /city, equals: Paris}, {pointer: /city, equals: Tokyo}]}}",
        );
        assert!(run(&e, two()).is_empty());
        let e = expect(
            "{tool_calls: {count: 1, names: [get_time], arguments: [{call: 0, pointer: /city, equals: Paris}, {tool: get_time, pointer: /tz, exists: true}, {pointer: /city, equals: Rome}]}}",
        );
        assert_eq!(
            run(&e, two()),
            vec![
                "2 tool calls, expected exactly 1",
                "calls are [get_weather, get_weather], expected [get_time]",
                "call 0 does not have /city = \"Paris\" in its arguments (/city is \"Tokyo\")",
                "no call to \"get_time\" to check /tz against (the reply made 2)",
                "no tool call has /city = \"Rome\" in its arguments (/city is \"Tokyo\" in call 0, \"Paris\" in call 1)",
            ]
        );
        assert_eq!(
            run(&expect("{tool_calls: {count: 1}}"), vec![]),
            vec!["no tool call, expected exactly 1"]
        );
    }
}

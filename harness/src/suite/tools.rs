//! Tool calling in suite form: the tools a request offers, its tool choice, the assistant
//! turns that called tools and the tool results that answer them, with the checks serde
//! cannot make (valid and unique tool names, a tool choice naming an offered tool, results
//! answering an earlier call) and the conversion into the neutral request.
//!
//! The loader also hands each step's offered tools (schemas compiled once, here) to that
//! step's expectations, so a reply's calls can be judged against them without the
//! expectations knowing about requests.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use serde_json::Value;

use super::model::{MessageSpec, RequestSpec, Scenario};
pub use super::tool_spec::{ToolCallSpec, ToolChoiceSpec, ToolResultSpec, ToolSpec};
use crate::expect::Expect;
use crate::expect::tools::{OfferedTool, OfferedTools};
use crate::neutral::{Message, Role, Tool, ToolCall, ToolChoice, ToolResult};
use crate::source::Diagnostic;
use crate::source::{Location, SpanIndex};

/// The neutral form of a suite's tools, tool choice and parallel flag.
pub fn neutral_tools(spec: &RequestSpec) -> (Vec<Tool>, Option<ToolChoice>, Option<bool>) {
    let tools = spec
        .tools
        .iter()
        .map(|t| Tool {
            name: t.name.clone(),
            description: t.description.clone(),
            parameters: t
                .parameters
                .as_ref()
                .map(|s| s.source.clone())
                .unwrap_or(Value::Null),
            strict: t.strict,
        })
        .collect();
    let choice = spec.tool_choice.as_ref().map(|c| match c {
        ToolChoiceSpec::Auto => ToolChoice::Auto,
        ToolChoiceSpec::None => ToolChoice::None,
        ToolChoiceSpec::Required => ToolChoice::Required,
        ToolChoiceSpec::Named(n) => ToolChoice::Named(n.clone()),
    });
    (tools, choice, spec.parallel_tool_calls)
}

/// The neutral messages of a conversation. A tool result learns its tool's name from the
/// call it answers (Ollama matches results by name).
pub fn neutral_messages(specs: &[MessageSpec]) -> Vec<Message> {
    let mut names: HashMap<&str, &str> = HashMap::new();
    specs
        .iter()
        .map(|m| {
            for c in &m.tool_calls {
                names.insert(&c.id, &c.name);
            }
            let mut msg = Message::new(Role::parse(&m.role), m.content.clone());
            msg.tool_calls = m
                .tool_calls
                .iter()
                .map(|c| ToolCall {
                    id: Some(c.id.clone()),
                    name: c.name.clone(),
                    arguments_raw: c.arguments.to_string(),
                    arguments: Some(c.arguments.clone()),
                })
                .collect();
            msg.tool_result = m.tool_result.as_ref().map(|r| ToolResult {
                call_id: r.call_id.clone(),
                name: names.get(r.call_id.as_str()).unwrap_or(&"").to_string(),
                is_error: r.is_error,
            });
            msg.parts = m.parts.iter().map(neutral_part).collect();
            msg
        })
        .collect()
}

fn neutral_part(p: &super::model::PartSpec) -> crate::neutral::ContentPart {
    match p {
        super::model::PartSpec::Text(t) => crate::neutral::ContentPart::Text(t.clone()),
        super::model::PartSpec::Image(i) => crate::neutral::ContentPart::Image {
            media_type: i.media_type.clone(),
            data: i.data.clone(),
        },
    }
}

/// Every request of a scenario with its YAML path.
fn requests<'a>(sc: &'a Scenario, base: &str) -> Vec<(String, &'a RequestSpec)> {
    let mut out = Vec::new();
    if let Some(r) = &sc.request {
        out.push((format!("{base}.request"), r));
    }
    for (i, step) in sc.steps.iter().enumerate() {
        out.push((format!("{base}.steps[{i}].request"), &step.request));
    }
    out
}

fn valid_tool_name(n: &str) -> bool {
    (1..=64).contains(&n.len())
        && n.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// Where tool diagnostics go: the file's spans and text, and the list they join.
struct Sink<'a> {
    index: &'a SpanIndex,
    source: &'a str,
    diags: &'a mut Vec<Diagnostic>,
}

impl Sink<'_> {
    fn push(&mut self, msg: String, loc: Location, help: Option<String>) {
        let d = Diagnostic::new(msg, loc, self.source);
        self.diags.push(match help {
            Some(h) => d.with_help(h),
            None => d,
        });
    }

    /// The key at `path`.
    fn at(&self, path: &str) -> Location {
        self.index.locate(path)
    }

    /// The value at `path`.
    fn value(&self, path: &str) -> Location {
        self.index.locate_value(path)
    }
}

/// The checks serde cannot make on a scenario's tools, tool turns and `tool_calls`
/// expectations; each problem becomes a located diagnostic.
pub(crate) fn check(
    sc: &Scenario,
    base: &str,
    index: &SpanIndex,
    source: &str,
    diags: &mut Vec<Diagnostic>,
) {
    let mut sink = Sink {
        index,
        source,
        diags,
    };
    for (path, req) in requests(sc, base) {
        let offered = check_offered(req, &path, &mut sink);
        check_choice(req, &path, &offered, &mut sink);
        check_history(req, &path, &offered, &mut sink);
    }
    for (epath, e, req) in expects(sc, base) {
        if let Some(tc) = &e.tool_calls {
            check_expected_calls(tc, req, &epath, &mut sink);
        }
    }
}

/// Tool names are valid and unique, parameters are object schemas; returns the offered
/// names with their index.
fn check_offered<'r>(
    req: &'r RequestSpec,
    path: &str,
    sink: &mut Sink,
) -> BTreeMap<&'r str, usize> {
    let mut offered: BTreeMap<&str, usize> = BTreeMap::new();
    for (i, t) in req.tools.iter().enumerate() {
        let tpath = format!("{path}.tools[{i}]");
        if !valid_tool_name(&t.name) {
            sink.push(
                format!("tool name `{}` must match [a-zA-Z0-9_-]{{1,64}}", t.name),
                sink.value(&format!("{tpath}.name")),
                None,
            );
        }
        if let Some(first) = offered.insert(&t.name, i) {
            sink.push(
                format!("duplicate tool name `{}`", t.name),
                sink.value(&format!("{tpath}.name")),
                Some(format!(
                    "first offered at {}",
                    sink.at(&format!("{path}.tools[{first}]"))
                )),
            );
        }
        if let Some(p) = &t.parameters
            && p.source.get("type").and_then(Value::as_str) != Some("object")
        {
            sink.push(
                "a tool's `parameters` must be an object schema (`type: object`)".into(),
                sink.at(&format!("{tpath}.parameters")),
                Some("every dialect passes the arguments as one JSON object".into()),
            );
        }
    }
    offered
}

/// `tool_choice` and `parallel_tool_calls` come with tools, and a named choice is offered.
fn check_choice(req: &RequestSpec, path: &str, offered: &BTreeMap<&str, usize>, sink: &mut Sink) {
    if req.tools.is_empty() {
        for key in ["tool_choice", "parallel_tool_calls"] {
            let set = match key {
                "tool_choice" => req.tool_choice.is_some(),
                _ => req.parallel_tool_calls.is_some(),
            };
            if set {
                sink.push(
                    format!("`{key}` needs `tools`"),
                    sink.at(&format!("{path}.{key}")),
                    None,
                );
            }
        }
    }
    if let Some(ToolChoiceSpec::Named(n)) = &req.tool_choice
        && !req.tools.is_empty()
        && !offered.contains_key(n.as_str())
    {
        let names = offered.keys().copied().collect::<Vec<_>>().join(", ");
        sink.push(
            format!("`tool_choice` names `{n}`, which `tools` does not offer"),
            sink.value(&format!("{path}.tool_choice.name")),
            Some(format!("offered: {names}")),
        );
    }
}

/// The conversation's assistant turns call offered tools with mapping arguments and unique
/// ids, and each tool result answers an earlier call.
fn check_history(req: &RequestSpec, path: &str, offered: &BTreeMap<&str, usize>, sink: &mut Sink) {
    let mut calls: BTreeMap<&str, String> = BTreeMap::new();
    for (i, m) in req.messages.iter().enumerate() {
        let mpath = format!("{path}.messages[{i}]");
        for (j, c) in m.tool_calls.iter().enumerate() {
            let cpath = format!("{mpath}.tool_calls[{j}]");
            if !offered.contains_key(c.name.as_str()) {
                sink.push(
                    format!(
                        "the assistant turn calls `{}`, which `tools` does not offer",
                        c.name
                    ),
                    sink.value(&format!("{cpath}.name")),
                    Some(
                        "Anthropic rejects a history that uses a tool the request does not define"
                            .into(),
                    ),
                );
            }
            if !c.arguments.is_object() {
                sink.push(
                    "a call's `arguments` must be a mapping".into(),
                    sink.at(&format!("{cpath}.arguments")),
                    None,
                );
            }
            if let Some(first) = calls.insert(&c.id, cpath.clone()) {
                sink.push(
                    format!("duplicate call id `{}`", c.id),
                    sink.value(&format!("{cpath}.id")),
                    Some(format!("first used at {}", sink.at(&first))),
                );
            }
        }
        if let Some(r) = &m.tool_result
            && !calls.contains_key(r.call_id.as_str())
        {
            sink.push(
                format!(
                    "`tool_result` answers `{}`, which no earlier assistant turn calls",
                    r.call_id
                ),
                sink.value(&format!("{mpath}.tool_result.call_id")),
                Some(
                    "put the call in an earlier `{tool_calls: [{id, name, arguments}]}` message"
                        .into(),
                ),
            );
        }
    }
}

/// A `tool_calls` expectation names offered tools and its argument checks are complete.
fn check_expected_calls(
    tc: &crate::expect::spec::ToolCallsExpect,
    req: &RequestSpec,
    epath: &str,
    sink: &mut Sink,
) {
    let offered = |n: &str| req.tools.is_empty() || req.tools.iter().any(|t| t.name == n);
    if let Some(names) = &tc.names {
        let key = match names {
            crate::expect::spec::NamesExpect::InOrder(_) => "names",
            crate::expect::spec::NamesExpect::AnyOrder(_) => "names.any_order",
        };
        for (j, n) in names.names().iter().enumerate() {
            if !offered(n) {
                sink.push(
                    format!("`{n}` is not one of the request's `tools`"),
                    sink.value(&format!("{epath}.tool_calls.{key}[{j}]")),
                    None,
                );
            }
        }
    }
    for (j, a) in tc.arguments.iter().enumerate() {
        let apath = format!("{epath}.tool_calls.arguments[{j}]");
        if !a.pointer.is_empty() && !a.pointer.starts_with('/') {
            sink.push(
                format!("JSON pointer `{}` must start with `/`", a.pointer),
                sink.value(&format!("{apath}.pointer")),
                None,
            );
        }
        if a.equals.is_none() && a.exists.is_none() {
            sink.push(
                "an `arguments` check needs `equals` or `exists`".into(),
                sink.at(&apath),
                None,
            );
        }
        if let Some(t) = &a.tool
            && !offered(t)
        {
            sink.push(
                format!("`{t}` is not one of the request's `tools`"),
                sink.value(&format!("{apath}.tool")),
                None,
            );
        }
    }
}

/// Every expectation block of a scenario with its YAML path and the request it judges.
fn expects<'a>(sc: &'a Scenario, base: &str) -> Vec<(String, &'a Expect, &'a RequestSpec)> {
    let mut out = Vec::new();
    if let Some(r) = &sc.request {
        if let Some(e) = &sc.expect {
            out.push((format!("{base}.expect"), e, r));
        }
        for (k, e) in &sc.overrides {
            out.push((format!("{base}.overrides.{k}"), e, r));
        }
    }
    for (i, step) in sc.steps.iter().enumerate() {
        out.push((
            format!("{base}.steps[{i}].expect"),
            &step.expect,
            &step.request,
        ));
        for (k, e) in &step.overrides {
            out.push((format!("{base}.steps[{i}].overrides.{k}"), e, &step.request));
        }
    }
    out
}

fn offered_tools(req: &RequestSpec) -> Option<OfferedTools> {
    if req.tools.is_empty() {
        return None;
    }
    let tools: Vec<OfferedTool> = req
        .tools
        .iter()
        .map(|t| OfferedTool {
            name: t.name.clone(),
            schema: t.parameters.clone(),
        })
        .collect();
    Some(Arc::from(tools))
}

/// The schema a strict `json_schema` response format asks for, compiled; `None` for any other
/// format, a non-strict one, or a schema that does not compile (the provider judges that).
fn requested_schema(req: &RequestSpec) -> Option<crate::expect::spec::Schema> {
    match &req.response_format {
        Some(crate::suite::model::FormatSpec::JsonSchema {
            schema,
            strict: true,
            ..
        }) => jsonschema::validator_for(schema)
            .ok()
            .map(|v| crate::expect::spec::Schema {
                source: schema.clone(),
                validator: Arc::new(v),
            }),
        _ => None,
    }
}

/// Hands each request's offered tools to the expectations that judge its reply. A scenario
/// whose request offers tools gets an (empty) `expect` if it has none, so the rule that calls
/// must name an offered tool applies to it too.
pub fn attach(sc: &mut Scenario) {
    if let Some(offered) = sc.request.as_ref().and_then(offered_tools) {
        let e = sc.expect.get_or_insert_with(Expect::default);
        e.offered_tools = Some(offered.clone());
        for e in sc.overrides.values_mut() {
            e.offered_tools = Some(offered.clone());
        }
    }
    if let Some(schema) = sc.request.as_ref().and_then(requested_schema) {
        let e = sc.expect.get_or_insert_with(Expect::default);
        e.requested_schema = Some(schema.clone());
        for e in sc.overrides.values_mut() {
            e.requested_schema = Some(schema.clone());
        }
    }
    for step in &mut sc.steps {
        if let Some(schema) = requested_schema(&step.request) {
            step.expect.requested_schema = Some(schema.clone());
            for e in step.overrides.values_mut() {
                e.requested_schema = Some(schema.clone());
            }
        }
    }
    // Under `tool_choice: none` a call is the provider's breach, not the model's choice.
    let forbids =
        |r: &RequestSpec| r.tool_choice == Some(crate::suite::tool_spec::ToolChoiceSpec::None);
    if sc.request.as_ref().is_some_and(forbids) {
        let e = sc.expect.get_or_insert_with(Expect::default);
        e.tools_forbidden = true;
        sc.overrides
            .values_mut()
            .for_each(|e| e.tools_forbidden = true);
    }
    for step in &mut sc.steps {
        if forbids(&step.request) {
            step.expect.tools_forbidden = true;
            step.overrides
                .values_mut()
                .for_each(|e| e.tools_forbidden = true);
        }
    }
    // The token limit tells a reply cut at it (whose finish reason must say so: contract) from
    // one the model chose to end early or run long (behaviour).
    if let Some(limit) = sc.request.as_ref().and_then(|r| r.max_tokens) {
        sc.expect
            .iter_mut()
            .for_each(|e| e.max_tokens = Some(limit));
        sc.overrides
            .values_mut()
            .for_each(|e| e.max_tokens = Some(limit));
    }
    for step in &mut sc.steps {
        if let Some(limit) = step.request.max_tokens {
            step.expect.max_tokens = Some(limit);
            step.overrides
                .values_mut()
                .for_each(|e| e.max_tokens = Some(limit));
        }
        if let Some(offered) = offered_tools(&step.request) {
            step.expect.offered_tools = Some(offered.clone());
            for e in step.overrides.values_mut() {
                e.offered_tools = Some(offered.clone());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::load::{Known, load_suite};
    use super::*;

    fn load(src: &str) -> Result<super::super::load::Suite, Vec<Diagnostic>> {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("s.yaml");
        std::fs::write(&p, src).unwrap();
        let known = Known {
            aliases: ["small".to_string()].into(),
            targets: ["openai".to_string()].into(),
        };
        load_suite(&p, &known)
    }

    /// A suite whose one request is `request` (indented as written).
    fn suite(request: &str, expect: &str) -> String {
        format!(
            "suite: s\ncategory: c\nscenarios:\n  - id: a\n    title: A\n    request:\n{request}    expect:\n{expect}"
        )
    }

    const TOOLS: &str = "      tools:\n        - name: get_weather\n          parameters: {type: object, properties: {city: {type: string}}, required: [city]}\n        - name: get_time\n";

    fn errors(src: &str) -> Vec<(String, u32)> {
        load(src)
            .unwrap_err()
            .into_iter()
            .map(|d| (d.message, d.location.line))
            .collect()
    }

    #[test]
    fn a_round_trip_loads_and_converts() {
        let req = format!(
            "      messages:\n        - user: Weather in Paris?\n        - assistant: Checking.\n          tool_calls:\n            - {{id: c1, name: get_weather, arguments: {{city: Paris}}}}\n        - tool_result: {{call_id: c1, content: {{temp: 18}}, is_error: true}}\n      tool_choice: {{name: get_time}}\n      parallel_tool_calls: false\n{TOOLS}"
        );
        let s = load(&suite(&req, "      tool_calls: {count: 1}\n")).unwrap();
        let sc = &s.scenarios[0];
        let spec = sc.request.as_ref().unwrap();
        let msgs = neutral_messages(&spec.messages);
        assert_eq!(msgs[1].role, Role::Assistant);
        assert_eq!(msgs[1].content, "Checking.");
        assert_eq!(msgs[1].tool_calls[0].arguments_raw, r#"{"city":"Paris"}"#);
        assert_eq!(msgs[2].role, Role::Tool);
        assert_eq!(msgs[2].content, r#"{"temp":18}"#);
        assert_eq!(
            msgs[2].tool_result,
            Some(ToolResult {
                call_id: "c1".into(),
                name: "get_weather".into(),
                is_error: true
            })
        );
        let (tools, choice, parallel) = neutral_tools(spec);
        assert_eq!(tools[1].parameters, Value::Null);
        assert_eq!(choice, Some(ToolChoice::Named("get_time".into())));
        assert_eq!(parallel, Some(false));
        let offered = sc.expect.as_ref().unwrap().offered_tools.as_ref().unwrap();
        assert_eq!(offered.len(), 2);
        assert!(offered[0].schema.is_some() && offered[1].schema.is_none());
    }

    #[test]
    fn offered_tools_reach_every_expectation() {
        let req = format!("      messages: [{{user: hi}}]\n{TOOLS}");
        let src = suite(&req, "      status: 200\n").replace(
            "    expect:\n",
            "    overrides:\n      openai: {status: 201}\n    expect:\n",
        );
        let s = load(&src).unwrap();
        let sc = &s.scenarios[0];
        assert!(sc.overrides["openai"].offered_tools.is_some());
        // A scenario without `expect` gets one, so the offered-tools rule still applies.
        let bare = format!(
            "suite: s\ncategory: c\nscenarios:\n  - id: a\n    title: A\n    request:\n{req}"
        );
        let s = load(&bare).unwrap();
        assert!(
            s.scenarios[0]
                .expect
                .as_ref()
                .unwrap()
                .offered_tools
                .is_some()
        );
    }

    #[test]
    fn tool_problems_are_located() {
        let req = "      messages:\n        - user: hi\n        - tool_calls: [{id: c1, name: search, arguments: [1]}]\n        - tool_calls: [{id: c1, name: get_weather}]\n        - tool_result: {call_id: c9, content: x}\n      tool_choice: {name: get_date}\n      tools:\n        - name: get weather\n        - name: get_time\n          parameters: {type: array}\n        - name: get_time\n";
        let got = errors(&suite(
            req,
            "      tool_calls:\n        names: [get_date]\n        arguments: [{tool: nope, pointer: city}, {pointer: /x}]\n",
        ));
        let want: Vec<(&str, u32)> = vec![
            ("tool name `get weather` must match [a-zA-Z0-9_-]{1,64}", 14),
            (
                "a tool's `parameters` must be an object schema (`type: object`)",
                16,
            ),
            ("duplicate tool name `get_time`", 17),
            (
                "`tool_choice` names `get_date`, which `tools` does not offer",
                12,
            ),
            (
                "the assistant turn calls `search`, which `tools` does not offer",
                9,
            ),
            ("a call's `arguments` must be a mapping", 9),
            (
                "the assistant turn calls `get_weather`, which `tools` does not offer",
                10,
            ),
            ("duplicate call id `c1`", 10),
            (
                "`tool_result` answers `c9`, which no earlier assistant turn calls",
                11,
            ),
            ("`get_date` is not one of the request's `tools`", 20),
            ("JSON pointer `city` must start with `/`", 21),
            ("an `arguments` check needs `equals` or `exists`", 21),
            ("`nope` is not one of the request's `tools`", 21),
            ("an `arguments` check needs `equals` or `exists`", 21),
        ];
        let got: Vec<(&str, u32)> = got.iter().map(|(m, l)| (m.as_str(), *l)).collect();
        assert_eq!(got, want);
    }

    #[test]
    fn choices_need_tools_and_messages_keep_their_shape() {
        let got = errors(&suite(
            "      messages: [{user: hi}]\n      tool_choice: required\n      parallel_tool_calls: true\n",
            "      status: 200\n",
        ));
        assert_eq!(
            got,
            vec![
                ("`tool_choice` needs `tools`".to_string(), 8),
                ("`parallel_tool_calls` needs `tools`".to_string(), 9)
            ]
        );
        for (bad, want) in [
            (
                "{tool_result: {call_id: c, content: x}, user: hi}",
                "`tool_result` stands alone",
            ),
            (
                "{tool_calls: [{id: c, name: f}], user: hi}",
                "`tool_calls` goes with `assistant: text` or alone",
            ),
            ("{tool_calls: []}", "`tool_calls` is empty"),
            ("{tool_result: {call_id: c}}", "missing field `content`"),
            (
                "{tool_calls: [{id: c, name: f, args: {}}]}",
                "unknown field `args`",
            ),
        ] {
            let src = suite(&format!("      messages: [{bad}]\n"), "      status: 200\n");
            let e = errors(&src);
            assert!(e[0].0.contains(want), "{bad}: {e:?}");
        }
        let e = errors(&suite(
            &format!("      messages: [{{user: hi}}]\n      tool_choice: sometimes\n{TOOLS}"),
            "      status: 200\n",
        ));
        assert!(
            e[0].0.contains(
                "unknown variant `sometimes`, expected one of `auto`, `none`, `required`"
            ),
            "{e:?}"
        );
        let e = errors(&suite(
            &format!("      messages: [{{user: hi}}]\n{TOOLS}"),
            "      tool_calls: {names: {some_order: [get_time]}}\n",
        ));
        assert!(
            e[0].0
                .contains("`names` is a list of names (in order) or `{any_order: [names]}`"),
            "{e:?}"
        );
    }
}

//! Deliberately broken tool-calling and structured-output recordings: each must make its
//! trial fail for the stated reason, while the untouched recordings of the same suites keep
//! passing. Only the `tools` and `structured-output` suites run, so work in progress in other
//! suites cannot make this test fail.

use crate::common;

use common::{
    Break, assert_breaks, copy_tree, edit_recording, junit_cases, provcheck, root, text,
    trial_of_fixture,
};
use serde_json::{Value, json};

struct Broken {
    /// fixtures-relative path: target/suite/scenario.yaml
    file: &'static str,
    /// What the breakage stands for.
    why: &'static str,
    edit: fn(&mut Value),
    /// Every one of these must appear in the trial's message or details.
    reasons: &'static [&'static str],
}

fn body(v: &mut Value, i: usize) -> &mut Value {
    &mut v["exchanges"][i]["response"]["body"]
}

/// The `data` of stream event `i` of exchange 0, edited as text.
fn event(v: &mut Value, i: usize, edit: impl FnOnce(&str) -> String) {
    let data = &mut v["exchanges"][0]["response"]["stream"]["events"][i]["data"];
    *data = json!(edit(data.as_str().unwrap()));
}

const CASES: &[Broken] = &[
    // Arguments that are not JSON.
    Broken {
        file: "openai/tools/single_tool_call.yaml",
        why: "OpenAI arguments cut off mid-object",
        edit: |v| {
            body(v, 0)["choices"][0]["message"]["tool_calls"][0]["function"]["arguments"] =
                json!("{\"city\":\"Paris\",\"unit\":")
        },
        reasons: &[
            "expect.tool_calls: call 0 (get_weather): arguments are not valid JSON (EOF while parsing",
            r#": "{\"city\":\"Paris\",\"unit\":""#,
        ],
    },
    Broken {
        file: "ollama/tools/single_tool_call.yaml",
        why: "Ollama arguments sent as a string",
        edit: |v| {
            body(v, 0)["message"]["tool_calls"][0]["function"]["arguments"] =
                json!("{\"city\": \"Paris\"")
        },
        reasons: &[
            "ollama contract: `message.tool_calls[0].function.arguments` must be an object, got string",
            "arguments are not valid JSON (EOF while parsing",
            r#": "{\"city\": \"Paris\"""#,
        ],
    },
    Broken {
        file: "anthropic/tools/streamed_tool_call.yaml",
        why: "a streamed tool_use input whose pieces do not join into JSON",
        edit: |v| event(v, 10, |d| d.replace(r#"\"celsius\"}"#, r#"\"celsius\""#)),
        reasons: &[
            "anthropic contract: event 11 (content_block_stop): the input of tool_use block 1 is not valid JSON",
        ],
    },
    // Arguments that violate the schema.
    Broken {
        file: "anthropic/tools/single_tool_call.yaml",
        why: "a unit outside the tool's enum",
        edit: |v| body(v, 0)["content"][1]["input"]["unit"] = json!("kelvin"),
        reasons: &[
            "expect.tool_calls: call 0 (get_weather): arguments",
            "do not match the tool's schema: \"kelvin\" is not one of \"celsius\" or \"fahrenheit\" (at /unit)",
        ],
    },
    Broken {
        file: "ollama/tools/streamed_tool_call.yaml",
        why: "a streamed argument outside the tool's enum",
        edit: |v| event(v, 0, |d| d.replace("celsius", "kelvin")),
        reasons: &["do not match the tool's schema: \"kelvin\" is not one of"],
    },
    Broken {
        file: "ollama/tools/unicode_arguments.yaml",
        why: "an argument the schema forbids (additionalProperties: false)",
        edit: |v| {
            body(v, 0)["message"]["tool_calls"][0]["function"]["arguments"]["urgent"] = json!(true)
        },
        reasons: &["Additional properties are not allowed ('urgent' was unexpected)"],
    },
    // A tool that was not offered.
    Broken {
        file: "ollama/tools/single_tool_call.yaml",
        why: "a call to a tool the request did not offer",
        edit: |v| {
            body(v, 0)["message"]["tool_calls"][0]["function"]["name"] = json!("get_forecast")
        },
        reasons: &[
            "call 0 names \"get_forecast\", a tool the request did not offer (offered: get_weather, get_time)",
        ],
    },
    Broken {
        file: "anthropic/tools/tool_choice_none.yaml",
        why: "a tool call despite tool_choice none, to a tool not offered",
        edit: |v| {
            let b = body(v, 0);
            b["content"] = json!([{"type": "tool_use", "id": "toolu_x", "name": "web_search", "input": {}, "caller": {"type": "direct"}}]);
            b["stop_reason"] = json!("tool_use");
        },
        reasons: &[
            "call 0 names \"web_search\", a tool the request did not offer (offered: get_weather)",
            "expect.tool_calls: 1 tool call, expected exactly 0",
            "expect.finish_reason: expected stop, got tool_calls",
        ],
    },
    // A tool_use block without an id; an OpenAI call without its type.
    Broken {
        file: "anthropic/tools/parallel_tool_calls.yaml",
        why: "a tool_use block without an id",
        edit: |v| {
            body(v, 0)["content"][2]
                .as_object_mut()
                .unwrap()
                .remove("id");
        },
        reasons: &["anthropic contract: `content[2].id` is missing (required string)"],
    },
    Broken {
        file: "openai/tools/unicode_arguments.yaml",
        why: "an OpenAI tool call without type and id",
        edit: |v| {
            let call = body(v, 0)["choices"][0]["message"]["tool_calls"][0]
                .as_object_mut()
                .unwrap();
            call.remove("type");
            call.remove("id");
        },
        reasons: &[
            "openai contract: `choices[0].message.tool_calls[0].id` is missing (required string)",
            "openai contract: `choices[0].message.tool_calls[0].type` is missing (required string)",
        ],
    },
    // A finish reason that disagrees with the content.
    Broken {
        file: "openai/tools/parallel_tool_calls.yaml",
        why: "tool calls reported with finish_reason stop, no tool choice forcing them",
        edit: |v| body(v, 0)["choices"][0]["finish_reason"] = json!("stop"),
        reasons: &[
            "openai contract: `choices[0].finish_reason` is \"stop\" but `choices[0].message.tool_calls` carries 2 tool calls",
        ],
    },
    Broken {
        file: "openai/tools/tool_result_round_trip.yaml",
        why: "finish_reason tool_calls on a plain text answer",
        edit: |v| body(v, 1)["choices"][0]["finish_reason"] = json!("tool_calls"),
        reasons: &[
            "openai contract: `choices[0].finish_reason` is \"tool_calls\" but `choices[0].message.tool_calls` carries no call",
        ],
    },
    Broken {
        file: "anthropic/tools/forced_tool_choice.yaml",
        why: "a tool_use block with stop_reason end_turn",
        edit: |v| body(v, 0)["stop_reason"] = json!("end_turn"),
        reasons: &[
            "anthropic contract: `content` has 1 tool_use block but `stop_reason` is \"end_turn\" (expected \"tool_use\")",
        ],
    },
    Broken {
        file: "openai/tools/streamed_tool_call.yaml",
        why: "a streamed tool call ending with finish_reason stop",
        edit: |v| {
            event(v, 10, |d| {
                d.replace(
                    r#""finish_reason":"tool_calls""#,
                    r#""finish_reason":"stop""#,
                )
            })
        },
        reasons: &[
            "openai contract: the stream's `finish_reason` is \"stop\" but the stream's `delta.tool_calls` carries 1 tool call",
        ],
    },
    // Structured output that breaks its nested schema.
    Broken {
        file: "openai/structured-output/nested_json_schema.yaml",
        why: "a year as a string deep inside the structured output",
        edit: |v| {
            let m = &mut body(v, 0)["choices"][0]["message"]["content"];
            *m = json!(m.as_str().unwrap().replace("1889", "\"1889\""));
        },
        reasons: &[
            "JSON does not match the schema: \"1889\" is not of type \"integer\" (at /landmarks/0/completed)",
        ],
    },
];

#[test]
fn each_broken_tool_recording_fails_for_its_reason() {
    let dir = tempfile::tempdir().unwrap();
    let fixtures = dir.path().join("fixtures");
    copy_tree(&root().join("fixtures"), &fixtures);
    for case in CASES {
        edit_recording(&fixtures.join(case.file), case.edit);
    }
    let reports = dir.path().join("reports");
    let out = provcheck(&[
        "--suite",
        "suites/tools.yaml",
        "--suite",
        "suites/structured-output.yaml",
        "--fixtures",
        fixtures.to_str().unwrap(),
        "--reports",
        reports.to_str().unwrap(),
    ]);
    let (stdout, stderr) = text(&out);
    assert_eq!(
        out.status.code(),
        Some(101),
        "a run with failures exits 101\n{stdout}\n{stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
    let (_, cases) = junit_cases(&reports.join("junit.xml"));
    let breaks: Vec<Break> = CASES
        .iter()
        .map(|case| Break {
            trial: trial_of_fixture(case.file),
            why: case.why,
            status: "fail",
            says: case.reasons.to_vec(),
        })
        .collect();
    assert_breaks(&cases, &breaks);
    assert!(
        cases.iter().filter(|c| c.status == "pass").count() >= 15,
        "the untouched recordings still ran: {cases:?}"
    );
}

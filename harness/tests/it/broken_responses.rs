//! Broken openai-responses recordings, one per contract rule of the Responses API: each is a
//! shipped recording with one defect, and its scenario must fail on the contract naming the
//! rule, while the untouched recordings pass.

use crate::common;

use std::path::Path;

use common::{
    Break, assert_breaks, copy_tree, junit_cases, provcheck, root, text, trial_of_fixture,
};
use serde_json::{Value, json};

/// What a case edits: the events of every streamed exchange, or the body of every whole one.
enum Edit {
    Stream(fn(&mut Vec<Value>)),
    Body(fn(&mut Value)),
}

struct Broken {
    /// Under `fixtures/openai-responses/`.
    file: &'static str,
    rule: &'static str,
    edit: Edit,
    reason: &'static str,
}

fn data(events: &[Value], i: usize) -> Value {
    serde_json::from_str(events[i]["data"].as_str().unwrap()).unwrap()
}

fn set_data(events: &mut [Value], i: usize, v: Value) {
    events[i]["data"] = json!(v.to_string());
}

/// Index of the first event of type `ty`.
fn find(events: &[Value], ty: &str) -> usize {
    (0..events.len())
        .find(|&i| data(events, i)["type"] == ty)
        .unwrap_or_else(|| panic!("no {ty} event"))
}

const CASES: &[Broken] = &[
    Broken {
        file: "streaming/basic_stream.yaml",
        rule: "a missing terminal event",
        edit: Edit::Stream(|ev| {
            ev.pop();
        }),
        reason: "stream ended without the terminal marker",
    },
    Broken {
        file: "streaming/stream_matches_plain.yaml",
        rule: "sequence numbers going back",
        edit: Edit::Stream(|ev| {
            let i = find(ev, "response.output_text.delta");
            let mut d = data(ev, i);
            d["sequence_number"] = json!(1);
            set_data(ev, i, d);
        }),
        reason: "`sequence_number` 1 does not increase",
    },
    Broken {
        file: "streaming/stream_timing.yaml",
        rule: "a delta for an item never added",
        edit: Edit::Stream(|ev| {
            let i = find(ev, "response.output_text.delta");
            let mut d = data(ev, i);
            d["output_index"] = json!(3);
            set_data(ev, i, d);
        }),
        reason: "`output_index` 3 names no item announced by `response.output_item.added`",
    },
    Broken {
        file: "streaming/concurrent_streams.yaml",
        rule: "two terminal events",
        edit: Edit::Stream(|ev| {
            let last = ev.last().unwrap().clone();
            ev.push(last);
        }),
        reason: "received after the terminal marker",
    },
    Broken {
        file: "streaming/stream_max_tokens.yaml",
        rule: "status completed on a cut stream",
        edit: Edit::Stream(|ev| {
            let i = find(ev, "response.incomplete");
            let mut d = data(ev, i);
            d["type"] = json!("response.completed");
            d["response"]["status"] = json!("completed");
            d["response"]["incomplete_details"] = Value::Null;
            set_data(ev, i, d);
            ev[i]["event"] = json!("response.completed");
        }),
        reason: "status is \"completed\" but the terminal event's `response.usage.output_tokens` (16) reached `max_output_tokens` (16)",
    },
    Broken {
        file: "tools/streamed_tool_call.yaml",
        rule: "a final response that disagrees with the deltas",
        edit: Edit::Stream(|ev| {
            let i = find(ev, "response.completed");
            let mut d = data(ev, i);
            d["response"]["output"][0]["arguments"] = json!("{\"city\":\"Lyon\"}");
            set_data(ev, i, d);
        }),
        reason: "`response.output[0]` has arguments",
    },
    Broken {
        file: "limits/max_tokens_enforced.yaml",
        rule: "status completed on a cut reply",
        edit: Edit::Body(|b| {
            b["status"] = json!("completed");
            b["incomplete_details"] = Value::Null;
        }),
        reason: "status is \"completed\" but `usage.output_tokens` (16) reached `max_output_tokens` (16)",
    },
    Broken {
        file: "messages/system_message.yaml",
        rule: "output over the limit",
        edit: Edit::Body(|b| {
            b["status"] = json!("incomplete");
            b["incomplete_details"] = json!({"reason": "max_output_tokens"});
            b["usage"]["output_tokens"] = json!(40);
        }),
        reason: "`usage.output_tokens` is 40, over the request's `max_output_tokens` (20)",
    },
    Broken {
        file: "messages/malformed_role.yaml",
        rule: "the wrong error shape",
        edit: Edit::Body(|b| {
            *b = json!({"detail": "role narrator is not supported"});
        }),
        reason: "`error` is missing (required object)",
    },
    Broken {
        file: "structured-output/json_mode_object.yaml",
        rule: "a content part of an undocumented type",
        edit: Edit::Body(|b| b["output"][0]["content"][0]["type"] = json!("text")),
        reason: "`output[0].content[0].type` has undocumented value \"text\"",
    },
    Broken {
        file: "structured-output/json_schema_object.yaml",
        rule: "incomplete without its reason",
        edit: Edit::Body(|b| b["status"] = json!("incomplete")),
        reason: "`status` is \"incomplete\" but `incomplete_details` is missing or null",
    },
];

fn apply(path: &Path, edit: &Edit) {
    let mut rec: Value =
        crate::common::yaml_from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    for ex in rec["exchanges"].as_array_mut().unwrap() {
        let response = &mut ex["response"];
        match edit {
            Edit::Stream(f) if response["stream"].is_object() => {
                let stream = &mut response["stream"];
                let mut events: Vec<Value> =
                    serde_json::from_value(stream["events"].take()).unwrap();
                f(&mut events);
                stream["events"] = Value::Array(events);
            }
            Edit::Body(f) if response["body"].is_object() => f(&mut response["body"]),
            _ => {}
        }
    }
    std::fs::write(path, serde_json::to_string_pretty(&rec).unwrap()).unwrap();
}

#[test]
fn each_broken_responses_recording_fails_naming_its_rule() {
    let dir = tempfile::tempdir().unwrap();
    let fixtures = dir.path().join("fixtures");
    copy_tree(
        &root().join("fixtures/openai-responses"),
        &fixtures.join("openai-responses"),
    );
    for case in CASES {
        apply(
            &fixtures.join("openai-responses").join(case.file),
            &case.edit,
        );
    }
    let reports = dir.path().join("reports");
    let mut args = vec![
        "--target",
        "openai-responses",
        "--fixtures",
        fixtures.to_str().unwrap(),
        "--reports",
        reports.to_str().unwrap(),
        "--speed",
        "4",
    ];
    for suite in [
        "streaming",
        "tools",
        "limits",
        "messages",
        "structured-output",
    ] {
        args.extend([
            "--suite",
            Box::leak(format!("suites/{suite}.yaml").into_boxed_str()),
        ]);
    }
    let out = provcheck(&args);
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(101), "{stdout}\n{stderr}");
    let (_, cases) = junit_cases(&reports.join("junit.xml"));
    let breaks: Vec<Break> = CASES
        .iter()
        .map(|case| Break {
            trial: trial_of_fixture(&format!("openai-responses/{}", case.file)),
            why: case.rule,
            status: "fail",
            says: vec!["contract", case.reason],
        })
        .collect();
    assert_breaks(&cases, &breaks);
}

//! Broken streams, one per stream-contract rule: each recording is a valid stream with one
//! defect, and its scenario must fail naming the rule, while the untouched streams pass.

use crate::common;

use std::path::Path;

use common::{
    Break, assert_breaks, copy_tree, junit_cases, provcheck, root, text, trial_of_fixture,
};
use serde_json::{Value, json};

struct Broken {
    file: &'static str,
    rule: &'static str,
    edit: fn(&mut Vec<Value>, &mut Value),
    reason: &'static str,
}

/// The data of event `i`, parsed.
fn data(events: &[Value], i: usize) -> Value {
    serde_json::from_str(events[i]["data"].as_str().unwrap()).unwrap()
}

fn set_data(events: &mut [Value], i: usize, v: Value) {
    events[i]["data"] = json!(v.to_string());
}

/// Index of the first event whose data satisfies `f`.
fn find(events: &[Value], f: impl Fn(&Value) -> bool) -> usize {
    events
        .iter()
        .position(|e| {
            serde_json::from_str::<Value>(e["data"].as_str().unwrap()).is_ok_and(|d| f(&d))
        })
        .expect("event not found")
}

const CASES: &[Broken] = &[
    Broken {
        file: "openai/streaming/basic_stream.yaml",
        rule: "a missing terminal marker",
        edit: |ev, _| {
            ev.pop();
        },
        reason: "stream ended without the terminal marker",
    },
    Broken {
        file: "anthropic/streaming/basic_stream.yaml",
        rule: "content_block_delta before content_block_start",
        edit: |ev, _| {
            let delta = ev.remove(3);
            ev.insert(1, delta);
        },
        reason: "delta for index 0, which was never started",
    },
    Broken {
        file: "anthropic/streaming/stream_max_tokens.yaml",
        rule: "a delta for an index never started",
        edit: |ev, _| {
            let mut d = data(ev, 4);
            d["index"] = json!(1);
            set_data(ev, 4, d);
        },
        reason: "delta for index 1, which was never started",
    },
    Broken {
        file: "openai/streaming/stream_max_tokens.yaml",
        rule: "a chunk id that changes mid-stream",
        edit: |ev, _| {
            let mut d = data(ev, 3);
            d["id"] = json!("chatcmpl-other");
            set_data(ev, 3, d);
        },
        reason: "`id` changed mid-stream",
    },
    Broken {
        file: "openai/streaming/stream_matches_plain.yaml",
        rule: "no finish_reason on the last choice chunk",
        edit: |ev, _| {
            let i = find(ev, |d| d["choices"][0]["finish_reason"].is_string());
            let mut d = data(ev, i);
            d["choices"][0]["finish_reason"] = Value::Null;
            set_data(ev, i, d);
        },
        reason: "has no `finish_reason`",
    },
    Broken {
        file: "openai/streaming/stream_timing.yaml",
        rule: "usage absent although include_usage was asked",
        edit: |ev, _| {
            let i = find(ev, |d| d["usage"].is_object());
            ev.remove(i);
        },
        reason: "no usage chunk before `[DONE]`",
    },
    Broken {
        file: "ollama/streaming/basic_stream.yaml",
        rule: "an event whose JSON does not parse",
        edit: |ev, _| {
            ev[1]["data"] = json!("{\"model\":\"llama3.2\",\"message\":{\"content\":\" two\"")
        },
        reason: "data is not JSON",
    },
    Broken {
        file: "anthropic/streaming/stream_matches_plain.yaml",
        rule: "a mid-stream error",
        edit: |ev, _| {
            ev.insert(
                4,
                json!({"at_ms": 170, "event": "error", "data": "{\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\",\"message\":\"Overloaded\"}}"}),
            );
        },
        reason: "mid-stream error at event 4: overloaded_error: Overloaded",
    },
    Broken {
        file: "ollama/streaming/stream_max_tokens.yaml",
        rule: "a connection closed before the terminal marker",
        edit: |ev, stream| {
            ev.pop();
            stream["end"] = json!("abort");
        },
        reason: "connection closed before the terminal marker",
    },
    Broken {
        file: "anthropic/streaming/stream_timing.yaml",
        rule: "message_delta without a stop_reason",
        edit: |ev, _| {
            let i = find(ev, |d| d["type"] == "message_delta");
            let mut d = data(ev, i);
            d["delta"]["stop_reason"] = Value::Null;
            set_data(ev, i, d);
        },
        reason: "no `stop_reason`",
    },
    Broken {
        file: "ollama/ollama-lifecycle/pull_progress.yaml",
        rule: "a pull whose completed exceeds total",
        edit: |ev, _| {
            let i = find(ev, |d| d["completed"].as_u64().is_some_and(|c| c > 1000));
            let mut d = data(ev, i);
            d["completed"] = json!(d["total"].as_u64().unwrap() + 1);
            set_data(ev, i, d);
        },
        reason: "exceeds total",
    },
];

fn edit_stream(path: &Path, edit: fn(&mut Vec<Value>, &mut Value)) {
    let mut rec: Value =
        crate::common::yaml_from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let exchange = rec["exchanges"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|e| e["response"]["stream"].is_object())
        .expect("a streamed exchange");
    let stream = &mut exchange["response"]["stream"];
    let mut events: Vec<Value> = serde_json::from_value(stream["events"].take()).unwrap();
    let times: Vec<Value> = events.iter().map(|e| e["at_ms"].clone()).collect();
    edit(&mut events, stream);
    // Reordering or inserting events keeps the original clock: offsets must not decrease.
    for (e, t) in events
        .iter_mut()
        .zip(times.iter().chain(std::iter::repeat(times.last().unwrap())))
    {
        e["at_ms"] = t.clone();
    }
    stream["events"] = Value::Array(events);
    std::fs::write(path, crate::common::yaml_to_string(&rec).unwrap()).unwrap();
}

#[test]
fn each_broken_stream_fails_naming_its_rule() {
    let dir = tempfile::tempdir().unwrap();
    let fixtures = dir.path().join("fixtures");
    copy_tree(&root().join("fixtures"), &fixtures);
    for case in CASES {
        edit_stream(&fixtures.join(case.file), case.edit);
    }
    let reports = dir.path().join("reports");
    let args = [
        "--fixtures",
        fixtures.to_str().unwrap(),
        "--reports",
        reports.to_str().unwrap(),
        "--speed",
        "4",
    ];
    let out = provcheck(
        &[
            &args[..],
            &[
                "--suite",
                "suites/streaming.yaml",
                "--suite",
                "suites/ollama-lifecycle.yaml",
            ],
        ]
        .concat(),
    );
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(101), "{stdout}\n{stderr}");
    let (_, cases) = junit_cases(&reports.join("junit.xml"));
    let breaks: Vec<Break> = CASES
        .iter()
        .map(|case| Break {
            trial: trial_of_fixture(case.file),
            why: case.rule,
            status: "fail",
            says: vec!["contract", case.reason],
        })
        .collect();
    assert_breaks(&cases, &breaks);
}

//! Deliberately broken recordings: each must make its scenario fail (or error) for the stated
//! reason, while the untouched recordings beside it keep passing.

use crate::common;

use std::path::Path;

use common::{
    Break, assert_breaks, copy_tree, junit_cases, provcheck, root, text, trial_of_fixture,
};
use serde_json::{Value, json};

struct Broken {
    /// fixtures-relative path: target/suite/scenario.yaml
    file: &'static str,
    /// What the breakage stands for.
    why: &'static str,
    edit: fn(&mut Value),
    status: &'static str,
    /// Every one of these must appear in the trial's message or details.
    reasons: &'static [&'static str],
}

fn body(v: &mut Value, i: usize) -> &mut Value {
    &mut v["exchanges"][i]["response"]["body"]
}

const CASES: &[Broken] = &[
    Broken {
        file: "openai/limits/max_tokens_enforced.yaml",
        why: "a max-tokens reply whose finish_reason is stop",
        edit: |v| body(v, 0)["choices"][0]["finish_reason"] = json!("stop"),
        status: "fail",
        reasons: &["expect.finish_reason: expected length, got stop"],
    },
    Broken {
        file: "ollama/limits/max_tokens_enforced.yaml",
        why: "more output tokens than max_tokens allowed",
        edit: |v| body(v, 0)["eval_count"] = json!(40),
        status: "fail",
        reasons: &[
            "usage.output_tokens is 40, expected 1..=16",
            "suites/limits.yaml:",
        ],
    },
    Broken {
        file: "anthropic/limits/max_tokens_enforced.yaml",
        why: "an Anthropic reply missing stop_reason",
        edit: |v| {
            body(v, 0).as_object_mut().unwrap().remove("stop_reason");
        },
        status: "fail",
        reasons: &["anthropic contract: `stop_reason` is missing"],
    },
    Broken {
        file: "anthropic/messages/system_message.yaml",
        why: "an Anthropic reply with a null stop_reason",
        edit: |v| body(v, 0)["stop_reason"] = Value::Null,
        status: "fail",
        reasons: &["`stop_reason` is null"],
    },
    Broken {
        file: "openai/structured-output/json_mode_object.yaml",
        why: "a JSON-mode reply that is not JSON",
        edit: |v| body(v, 0)["choices"][0]["message"]["content"] = json!("{\"city\": \"Paris\""),
        status: "fail",
        reasons: &["expect.json: text is not valid JSON"],
    },
    Broken {
        file: "ollama/structured-output/json_schema_object.yaml",
        why: "structured output missing a required property",
        edit: |v| body(v, 0)["message"]["content"] = json!("{\"city\": \"Paris\"}"),
        status: "fail",
        reasons: &[
            "JSON does not match the schema",
            "\"country\" is a required property",
        ],
    },
    Broken {
        file: "openai/messages/system_message.yaml",
        why: "an OpenAI reply without choices",
        edit: |v| {
            body(v, 0).as_object_mut().unwrap().remove("choices");
        },
        status: "fail",
        reasons: &["openai contract: `choices` is missing (required array)"],
    },
    Broken {
        file: "ollama/messages/system_message.yaml",
        why: "an Ollama reply without done",
        edit: |v| {
            body(v, 0).as_object_mut().unwrap().remove("done");
        },
        status: "fail",
        reasons: &["ollama contract: `done` is missing"],
    },
    Broken {
        file: "openai/messages/malformed_role.yaml",
        why: "an OpenAI error body without its type",
        edit: |v| {
            body(v, 0)["error"].as_object_mut().unwrap().remove("type");
        },
        status: "fail",
        reasons: &[
            "`error.type` is missing",
            "expected error type \"invalid_request_error\"",
        ],
    },
    Broken {
        file: "openai/messages/multi_turn_assistant.yaml",
        why: "a recording of a different request",
        edit: |v| {
            v["exchanges"][0]["request"]["body"]["messages"][2]["content"] =
                json!("What is my surname?")
        },
        status: "error",
        reasons: &[
            "no recorded exchange matches POST /v1/chat/completions",
            "body /messages/2/content",
        ],
    },
    Broken {
        file: "anthropic/messages/multi_turn_assistant.yaml",
        why: "a recording made with another anthropic-version",
        edit: |v| {
            v["exchanges"][0]["request"]["headers"]["anthropic-version"] = json!("2024-01-01")
        },
        status: "error",
        reasons: &["header anthropic-version: recorded \"2024-01-01\", sent \"2023-06-01\""],
    },
    Broken {
        file: "anthropic/concurrency/three_concurrent_requests.yaml",
        why: "concurrent requests answered with the same message id",
        edit: |v| {
            for i in 0..3 {
                body(v, i)["id"] = json!("msg_same");
            }
        },
        status: "fail",
        reasons: &["id \"msg_same\" was already returned to another concurrent request"],
    },
    Broken {
        file: "anthropic/messages/empty_user_message.yaml",
        why: "an empty user message accepted where the API documents a 400",
        edit: |v| v["exchanges"][0]["response"]["status"] = json!(200),
        status: "fail",
        reasons: &["overrides.anthropic.error: expected an error, got HTTP 200"],
    },
    Broken {
        file: "openai/model-switching/switch_models.yaml",
        why: "the second model's request answered by the first model",
        edit: |v| body(v, 1)["model"] = json!("gpt-4o-mini-2024-07-18"),
        status: "fail",
        reasons: &[
            "steps[1].expect.model",
            "but \"gpt-4.1-mini\" was requested",
        ],
    },
];

fn edit_recording(path: &Path, edit: fn(&mut Value)) {
    let mut v: Value =
        crate::common::yaml_from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    edit(&mut v);
    std::fs::write(path, crate::common::yaml_to_string(&v).unwrap()).unwrap();
}

#[test]
fn each_broken_recording_fails_for_its_reason() {
    let dir = tempfile::tempdir().unwrap();
    let fixtures = dir.path().join("fixtures");
    copy_tree(&root().join("fixtures"), &fixtures);
    for case in CASES {
        edit_recording(&fixtures.join(case.file), case.edit);
    }
    // A recording that is not even YAML: an error with its location, not a panic.
    let unparsable = fixtures.join("ollama/messages/multiple_system_messages.yaml");
    std::fs::write(
        &unparsable,
        "provenance: {source: authored, date: 2026-11-25\nexchanges: []\n",
    )
    .unwrap();

    let reports = dir.path().join("reports");
    let out = provcheck(&[
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
    let mut breaks: Vec<Break> = CASES
        .iter()
        .map(|case| Break {
            trial: trial_of_fixture(case.file),
            why: case.why,
            status: case.status,
            says: case.reasons.to_vec(),
        })
        .collect();
    let c = cases
        .iter()
        .find(|c| c.trial == "messages::multiple_system_messages::ollama")
        .expect("the unparsable recording's trial");
    assert_eq!(c.status, "error");
    let path = unparsable.display().to_string();
    assert!(
        c.message.contains(&format!("{path}:3:")) || c.message.contains(&format!("{path}:2:")),
        "{c:?}"
    );
    breaks.push(Break {
        trial: c.trial.clone(),
        why: "an unparsable recording",
        status: "error",
        says: Vec::new(),
    });
    assert_breaks(&cases, &breaks);
}

//! The request side of the contract (suites/validation.yaml, suites/parameters.yaml): for each
//! refusal and parameter, a broken recording (a server that accepts the invalid request, ignores
//! the parameter, or answers errors in another dialect's shape) makes the matching scenario fail
//! with a message naming the field, in replay, in every dialect where the API defines it.
//!
//! The broken recordings are made the way the authored ones are (tools/reference-live/
//! author-fixtures.sh): by recording the suites against the in-tree reference provider, here with
//! one rule broken, then replaying what was recorded.

use std::collections::BTreeMap;
use std::path::Path;

use provcheck::reference::{Broken, Config, ModelSpec, ReferenceProvider};

use crate::common::{provcheck_env, text};

const SUITES: [&str; 2] = ["suites/validation.yaml", "suites/parameters.yaml"];

/// A reference provider that knows the built-in targets' models and breaks `knob`.
fn server(knob: Broken) -> ReferenceProvider {
    let model = |name: &str, vision: bool| ModelSpec {
        vision,
        ..ModelSpec::text(name)
    };
    let models = vec![
        model("gpt-4o-mini", true),
        model("gpt-3.5-turbo", false),
        model("claude-haiku-4-5", true),
        model("llama3.2", false),
        model("llava", true),
    ];
    ReferenceProvider::start(Config {
        models,
        broken: [knob].into(),
        ..Config::default()
    })
    .expect("reference provider")
}

/// Records the request-side suites against `server` into `dir/fixtures`, then replays them from
/// there: each failed trial with its console report.
fn replayed_failures(server: &ReferenceProvider, dir: &Path) -> BTreeMap<String, String> {
    use provcheck::dialect::DialectKind::{Anthropic, Ollama, Openai};
    let targets = dir.join("targets.yaml");
    let yaml = format!(
        "targets:\n  openai: {{ base_url: {} }}\n  anthropic: {{ base_url: {} }}\n  ollama: {{ base_url: {} }}\n",
        server.base_url(Openai),
        server.base_url(Anthropic),
        server.base_url(Ollama)
    );
    std::fs::write(&targets, yaml).unwrap();
    let fixtures = dir.join("fixtures");
    let (targets, fixtures) = (targets.to_str().unwrap(), fixtures.to_str().unwrap());
    let mut args = vec!["--targets", targets, "--fixtures", fixtures, "--no-reports"];
    for s in SUITES {
        args.extend(["--suite", s]);
    }
    let key = "provcheck-request-side-key";
    let keys = [("OPENAI_API_KEY", key), ("ANTHROPIC_API_KEY", key)];
    let mut record = args.clone();
    record.extend([
        "--mode",
        "record",
        "--record",
        "all",
        "--live-concurrency",
        "1",
    ]);
    let out = provcheck_env(&record, &keys);
    assert!(
        text(&out).0.contains("recorded:"),
        "no recording:\n{}\n{}",
        text(&out).0,
        text(&out).1
    );
    let out = provcheck_env(&args, &[]);
    let (stdout, stderr) = text(&out);
    assert!(
        stdout.contains("test result:"),
        "no replay:\n{stdout}\n{stderr}"
    );
    // libtest-mimic prints each failure's report under `---- NAME ----`.
    let mut failures = BTreeMap::new();
    for block in stdout.split("---- ").skip(1) {
        if let Some((name, rest)) = block.split_once(" ----") {
            failures.insert(name.trim().to_string(), rest.to_string());
        }
    }
    failures
}

/// Checks that every `trial` failed in replay with a report containing its `needle`.
fn assert_caught(knob: Broken, cases: &[(&str, &str)]) {
    let server = server(knob);
    let dir = tempfile::tempdir().unwrap();
    let failures = replayed_failures(&server, dir.path());
    for (trial, needle) in cases {
        let report = failures.get(*trial).unwrap_or_else(|| {
            panic!(
                "{knob:?}: {trial} passed in replay of its broken recording; failed: {:?}",
                failures.keys().collect::<Vec<_>>()
            )
        });
        assert!(
            report.contains(needle),
            "{knob:?}: {trial} failed without naming {needle:?}:\n{report}"
        );
    }
}

#[test]
fn invalid_requests_accepted_fail_naming_the_field() {
    assert_caught(
        Broken::AcceptInvalid,
        &[
            ("validation::missing_model::openai", "expected an error"),
            ("validation::missing_model::anthropic", "expected an error"),
            ("validation::missing_model::ollama", "\"model is required\""),
            ("validation::missing_messages::openai", "\"messages\""),
            ("validation::missing_messages::anthropic", "\"messages\""),
            (
                "validation::missing_max_tokens::anthropic",
                "\"max_tokens\"",
            ),
            ("validation::empty_messages::openai", "\"messages\""),
            ("validation::empty_messages::anthropic", "\"messages\""),
            ("validation::messages_not_an_array::openai", "\"messages\""),
            (
                "validation::messages_not_an_array::anthropic",
                "\"messages\"",
            ),
            (
                "validation::messages_not_an_array::ollama",
                "cannot unmarshal",
            ),
            (
                "validation::max_tokens_not_a_number::openai",
                "\"max_tokens\"",
            ),
            (
                "validation::max_tokens_not_a_number::anthropic",
                "\"max_tokens\"",
            ),
            (
                "validation::temperature_above_maximum::openai",
                "\"temperature\"",
            ),
            (
                "validation::temperature_above_maximum::anthropic",
                "\"temperature\"",
            ),
            ("validation::top_p_above_one::openai", "\"top_p\""),
            ("validation::top_p_above_one::anthropic", "\"top_p\""),
            ("validation::max_tokens_zero::openai", "\"max_tokens\""),
            ("validation::max_tokens_zero::anthropic", "\"max_tokens\""),
            ("validation::max_tokens_negative::openai", "\"max_tokens\""),
            (
                "validation::max_tokens_negative::anthropic",
                "\"max_tokens\"",
            ),
            ("validation::n_zero::openai", "\"n\""),
            ("validation::body_not_json::openai", "expected an error"),
            ("validation::body_not_json::anthropic", "expected an error"),
            ("validation::body_not_json::ollama", "expected an error"),
            (
                "validation::system_role_in_messages::anthropic",
                "\"system\"",
            ),
            (
                "validation::tool_result_without_call::openai",
                "\"tool_calls\"",
            ),
            (
                "validation::tool_result_without_call_anthropic::anthropic",
                "\"tool_use\"",
            ),
            ("validation::unknown_model::openai", "expected an error"),
            ("validation::unknown_model::anthropic", "expected an error"),
            ("validation::unknown_model::ollama", "\"not found\""),
            (
                "validation::unknown_model_generate::ollama",
                "\"not found\"",
            ),
        ],
    );
}

#[test]
fn ignored_parameters_fail_naming_the_field() {
    let stop = "the request field `stop` was ignored";
    assert_caught(
        Broken::IgnoreStop,
        &[
            ("parameters::stop_sequence::openai", stop),
            ("parameters::stop_sequence::anthropic", stop),
            ("parameters::stop_sequence::ollama", stop),
            ("parameters::stop_sequence_stream::openai", stop),
            ("parameters::stop_sequence_stream::anthropic", stop),
            ("parameters::stop_sequence_stream::ollama", stop),
        ],
    );
    assert_caught(
        Broken::IgnoreN,
        &[("parameters::n_choices::openai", "(request field `n`)")],
    );
    assert_caught(
        Broken::IgnoreLogprobs,
        &[(
            "parameters::logprobs_shape::openai",
            "(request field `logprobs`)",
        )],
    );
    let image = "expected an error, got HTTP 200";
    assert_caught(
        Broken::IgnoreImages,
        &[
            ("parameters::image_part_text_only::openai", image),
            ("parameters::image_part_text_only::ollama", image),
        ],
    );
}

#[test]
fn error_bodies_in_another_dialects_shape_fail_naming_the_field() {
    assert_caught(
        Broken::ErrorShape,
        &[
            // OpenAI routes answering in Anthropic's shape.
            (
                "validation::missing_messages::openai",
                "`error.param` is missing",
            ),
            (
                "validation::unknown_model::openai",
                "Anthropic's error shape",
            ),
            // Anthropic and Ollama routes answering in OpenAI's shape.
            (
                "validation::missing_messages::anthropic",
                "`type` is missing",
            ),
            ("validation::unknown_model::anthropic", "`type` is missing"),
            (
                "validation::unknown_model::ollama",
                "`error` must be a string",
            ),
            (
                "validation::unknown_model_show::ollama",
                "`error` must be a string",
            ),
            (
                "parameters::image_part_text_only::ollama",
                "`error` must be a string",
            ),
        ],
    );
}

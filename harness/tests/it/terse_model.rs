//! A conformant server whose model says little passes the contract of scenarios whose verdict
//! once hung on what the model chose to say (found running the suites live against llama.cpp's
//! llama-server and its random-weight model): a reply that ends before the stop sequence, a
//! tool call cut off at the token limit, and no tool call where a fault script wanted one to
//! make invalid. Each is behaviour (a warning under `--behaviour warn`), never a contract failure.

use crate::common::{provcheck, text};
use crate::raw_server::{RawServer, respond};

/// What a terse model answers on each route.
fn terse_server() -> RawServer {
    RawServer::start(|req, conn| {
        if req.method == "GET" {
            let models = r#"{"object":"list","data":[{"id":"raw-model","object":"model","type":"model"}],"has_more":false}"#;
            return respond(conn, 200, "application/json", models);
        }
        let body: serde_json::Value = serde_json::from_str(&req.body).unwrap();
        let kelvin = req.body.contains("kelvin");
        let tools = body.get("tools").is_some();
        // A reply cut at the limit spent it all; one that ended by itself spent one token.
        let cut = tools && !kelvin;
        let spent = if cut {
            body["max_tokens"].as_u64().unwrap_or(1)
        } else {
            1
        };
        let reply = if req.path.ends_with("/messages") {
            let (content, stop) = if cut {
                // Cut at the token limit inside the call: what is there is an empty input.
                (
                    serde_json::json!([{"type": "tool_use", "id": "toolu_1", "name": "get_weather", "input": {}}]),
                    "max_tokens",
                )
            } else {
                (serde_json::json!([]), "end_turn")
            };
            serde_json::json!({
                "id": "msg_1", "type": "message", "role": "assistant", "model": "raw-model",
                "content": content, "stop_reason": stop, "stop_sequence": null,
                "usage": {"input_tokens": 3, "output_tokens": spent}
            })
        } else {
            let message = if cut {
                serde_json::json!({"role": "assistant", "content": null, "tool_calls": [{
                    "id": "call_1", "type": "function",
                    "function": {"name": "get_weather", "arguments": "{\"city\": \"Pa"}}]})
            } else {
                serde_json::json!({"role": "assistant", "content": ""})
            };
            let finish = if cut { "length" } else { "stop" };
            serde_json::json!({
                "id": "chatcmpl-1", "object": "chat.completion", "created": 1764028800,
                "model": "raw-model",
                "choices": [{"index": 0, "message": message, "logprobs": null, "finish_reason": finish}],
                "usage": {"prompt_tokens": 3, "completion_tokens": spent, "total_tokens": 3 + spent}
            })
        };
        respond(conn, 200, "application/json", &reply.to_string());
    })
}

#[test]
fn a_terse_model_keeps_the_contract_of_stop_and_tool_scenarios() {
    let server = terse_server();
    let dir = tempfile::tempdir().unwrap();
    let targets = dir.path().join("targets.yaml");
    let models = "{ small: raw-model, tools: raw-model }";
    std::fs::write(
        &targets,
        format!(
            "targets:\n  terse-openai:\n    dialect: openai\n    base_url: {url}/v1\n    models: {models}\n    capabilities: [tools]\n  \
             terse-anthropic:\n    dialect: anthropic\n    base_url: {url}\n    models: {models}\n    capabilities: [tools]\n",
            url = server.url()
        ),
    )
    .unwrap();
    let targets = targets.to_string_lossy().into_owned();
    let run = |behaviour: &str| {
        let out = provcheck(&[
            "--mode",
            "live",
            "--targets",
            &targets,
            "--target",
            "terse-openai",
            "--target",
            "terse-anthropic",
            "--no-reports",
            "--behaviour",
            behaviour,
            "--suite",
            "suites/parameters.yaml",
            "--suite",
            "suites/tools.yaml",
        ]);
        text(&out).0
    };
    let trials = [
        "parameters::stop_sequence::terse-openai",
        "parameters::stop_sequence::terse-anthropic",
        "tools::single_tool_call::terse-openai",
        "tools::single_tool_call::terse-anthropic",
        "tools::invalid_arguments_detected::terse-openai",
        "tools::invalid_arguments_detected::terse-anthropic",
    ];
    // The verdict line of `trial` (the console pads names to a column).
    let verdict = |out: &str, trial: &str| {
        out.lines()
            .find(|l| {
                l.strip_prefix("test ")
                    .and_then(|l| l.strip_prefix(trial))
                    .is_some_and(|r| r.starts_with(' '))
            })
            .map(|l| l.rsplit(' ').next().unwrap_or("").to_string())
    };
    let warned = run("warn");
    for t in trials {
        assert_eq!(
            verdict(&warned, t).as_deref(),
            Some("ok"),
            "{t} under --behaviour warn:\n{warned}"
        );
    }
    // Under the default the model's choices still fail the tool trials, as behaviour.
    let strict = run("fail");
    let t = "tools::single_tool_call::terse-openai";
    assert_eq!(verdict(&strict, t).as_deref(), Some("FAILED"), "{strict}");
    assert!(strict.contains(&format!("FAIL  {t}: ")), "{strict}");
}

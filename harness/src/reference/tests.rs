//! The crate's own decoders and contract checks against the reference provider: zero
//! violations from the conformant server in every dialect, streamed and not, and each broken
//! knob caught by the check it is for.

use std::time::Instant;

use futures_util::StreamExt;
use serde_json::{Value, json};

use super::{Broken, Config, ReferenceProvider};
use crate::dialect::stream::read_frames;
use crate::dialect::{Body, DialectKind, WireOp, WireOptions, WireRequest};
use crate::neutral::{
    ChatRequest, FinishReason, Message, Reply, Request, ResponseFormat, Role, Tool, ToolCall,
    ToolChoice, ToolResult,
};

/// Sends `w` to `server` as a `dialect` client would; status, headers and body.
fn send(
    server: &ReferenceProvider,
    dialect: DialectKind,
    w: &WireRequest,
) -> (u16, Vec<(String, String)>, reqwest::Response) {
    let url = format!("{}{}", server.base_url(dialect), w.path);
    crate::runtime::runtime().block_on(async {
        let client = reqwest::Client::new();
        let mut req = if w.method == "GET" {
            client.get(&url)
        } else {
            client.post(&url)
        };
        for (k, v) in &w.headers {
            req = req.header(*k, v);
        }
        if !w.body.is_null() {
            req = req.body(w.body.to_string());
        }
        let resp = req.send().await.expect("reference provider answers");
        let headers = resp
            .headers()
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_str().unwrap_or("").to_string()))
            .collect();
        (resp.status().as_u16(), headers, resp)
    })
}

/// Sends a wire request and decodes the reply the way a trial does.
fn exchange(
    server: &ReferenceProvider,
    dialect: DialectKind,
    w: &WireRequest,
    streamed: bool,
) -> Reply {
    let (status, headers, resp) = send(server, dialect, w);
    crate::runtime::runtime().block_on(async {
        if !streamed {
            let body = resp.bytes().await.expect("body");
            return dialect.decode_response(w, status, &headers, Body::Whole(&body));
        }
        let body = resp.bytes_stream().map(|r| r.map_err(|e| e.to_string()));
        let (frames, end) = read_frames(dialect, body, Instant::now()).await;
        dialect.decode_response(w, status, &headers, Body::Stream(&frames, &end))
    })
}

fn chat(server: &ReferenceProvider, dialect: DialectKind, req: &ChatRequest) -> Reply {
    let w = dialect.encode(req, &WireOptions::default());
    exchange(server, dialect, &w, req.stream)
}

fn user(text: &str) -> ChatRequest {
    ChatRequest {
        model: "ref-small".into(),
        messages: vec![Message::new(Role::User, text)],
        max_tokens: Some(64),
        ..ChatRequest::default()
    }
}

fn weather_tool() -> Tool {
    Tool {
        name: "get_weather".into(),
        description: Some("Current weather for a city.".into()),
        parameters: json!({"type":"object","properties":{"city":{"type":"string"},
            "unit":{"type":"string","enum":["celsius","fahrenheit"]}},
            "required":["city","unit"],"additionalProperties":false}),
        strict: None,
    }
}

fn tools(text: &str) -> ChatRequest {
    ChatRequest {
        model: "ref-tools".into(),
        tools: vec![weather_tool()],
        ..user(text)
    }
}

fn schema_request() -> (ChatRequest, Value) {
    let schema = json!({"type":"object","properties":{"city":{"type":"string","minLength":1},
        "landmarks":{"type":"array","minItems":2,"items":{"type":"object",
        "properties":{"name":{"type":"string"},"year":{"type":"integer","minimum":1000}},
        "required":["name","year"]}}},"required":["city","landmarks"],"additionalProperties":false});
    let req = ChatRequest {
        max_tokens: Some(400),
        response_format: Some(ResponseFormat::JsonSchema {
            name: "city".into(),
            schema: schema.clone(),
            strict: true,
        }),
        ..user("Describe Paris and two landmarks.")
    };
    (req, schema)
}

fn valid(schema: &Value, v: &Value) -> bool {
    jsonschema::validator_for(schema)
        .expect("schema")
        .is_valid(v)
}

fn both(req: &ChatRequest) -> [ChatRequest; 2] {
    let mut s = req.clone();
    s.stream = true;
    [req.clone(), s]
}

fn clean(r: &Reply, what: &str) {
    assert!(r.violations.is_empty(), "{what}: {:?}", r.violations);
    assert_eq!(r.status, 200, "{what}: {:?}", r.error);
}

#[test]
fn every_dialect_replies_without_contract_violations() {
    let server = ReferenceProvider::start(Config::default()).unwrap();
    for d in DialectKind::ALL {
        for req in both(&user("Say hello in one short sentence.")) {
            let r = chat(&server, d, &req);
            clean(&r, &format!("{d:?} text stream={}", req.stream));
            assert_eq!(r.finish_reason, Some(FinishReason::Stop));
            assert!(!r.text.is_empty() && r.text.split_whitespace().count() < 20);
            let u = r.usage.expect("usage");
            assert!(u.input_tokens >= Some(1) && u.output_tokens >= Some(1));
            if req.stream {
                assert!(r.stream.as_ref().is_some_and(|s| s.terminated));
            }
        }
    }
}

#[test]
fn max_tokens_cuts_with_the_length_finish_and_honest_usage() {
    let server = ReferenceProvider::start(Config::default()).unwrap();
    let long = ChatRequest {
        max_tokens: Some(16),
        ..user("Write a long essay about the history of the ocean.")
    };
    for d in DialectKind::ALL {
        for req in both(&long) {
            let r = chat(&server, d, &req);
            clean(&r, &format!("{d:?} cut stream={}", req.stream));
            assert_eq!(r.finish_reason, Some(FinishReason::Length), "{d:?}");
            assert_eq!(r.usage.unwrap().output_tokens, Some(16), "{d:?}");
            assert_eq!(super::text::count(&r.text), 16);
        }
    }
}

#[test]
fn json_mode_and_schema_give_valid_json() {
    let server = ReferenceProvider::start(Config::default()).unwrap();
    let (schema_req, schema) = schema_request();
    let json_req = ChatRequest {
        response_format: Some(ResponseFormat::JsonObject),
        ..user(r#"Give {"city": ...} for the capital of France."#)
    };
    for d in DialectKind::ALL {
        for req in both(&schema_req).into_iter().chain(both(&json_req)) {
            let r = chat(&server, d, &req);
            clean(&r, &format!("{d:?} json stream={}", req.stream));
            let v: Value = serde_json::from_str(&r.text).expect("JSON text");
            assert!(v.is_object());
            if req.response_format == schema_req.response_format {
                assert!(valid(&schema, &v), "{d:?}: {v}");
            }
        }
    }
}

#[test]
fn tool_calls_follow_schema_choice_and_parallelism() {
    let server = ReferenceProvider::start(Config::default()).unwrap();
    let one = tools("What is the weather in Paris right now? Use celsius.");
    let two = ChatRequest {
        parallel_tool_calls: Some(true),
        ..tools("What is the weather in Paris and in Tokyo? Use celsius.")
    };
    let none = ChatRequest {
        tool_choice: Some(ToolChoice::None),
        ..one.clone()
    };
    for d in DialectKind::ALL {
        for req in both(&one).into_iter().chain(both(&two)) {
            let r = chat(&server, d, &req);
            clean(&r, &format!("{d:?} tools stream={}", req.stream));
            assert_eq!(r.finish_reason, Some(FinishReason::ToolCalls), "{d:?}");
            let want = if req.parallel_tool_calls == Some(true) {
                2
            } else {
                1
            };
            assert_eq!(r.tool_calls.len(), want, "{d:?} {:?}", r.tool_calls);
            for c in &r.tool_calls {
                assert!(
                    valid(&weather_tool().parameters, c.arguments.as_ref().unwrap()),
                    "{c:?}"
                );
            }
            assert_eq!(r.tool_calls[0].arguments.as_ref().unwrap()["city"], "Paris");
        }
        let r = chat(&server, d, &none);
        clean(&r, &format!("{d:?} tool_choice none"));
        assert!(r.tool_calls.is_empty() && !r.text.is_empty());
    }
}

#[test]
fn a_tool_result_turn_is_answered_with_text() {
    let server = ReferenceProvider::start(Config::default()).unwrap();
    let mut req = tools("What is the weather in Paris right now? Use celsius.");
    let mut call = Message::new(Role::Assistant, "");
    call.tool_calls = vec![ToolCall {
        id: Some("call_1".into()),
        name: "get_weather".into(),
        arguments_raw: r#"{"city":"Paris","unit":"celsius"}"#.into(),
        arguments: None,
    }];
    let mut result = Message::new(Role::Tool, r#"{"temperature": 18}"#);
    result.tool_result = Some(ToolResult {
        call_id: "call_1".into(),
        name: "get_weather".into(),
        is_error: false,
    });
    req.messages.extend([call, result]);
    for d in DialectKind::ALL {
        for req in both(&req) {
            let r = chat(&server, d, &req);
            clean(&r, &format!("{d:?} tool result stream={}", req.stream));
            assert!(
                r.tool_calls.is_empty() && r.text.contains("18"),
                "{d:?} {}",
                r.text
            );
        }
    }
}

/// Invalid requests and the answer each API documents: (dialect, path, raw body, status, the
/// error's `code`, else its `type`, else a piece of its message). Issue 14's suites extend it.
const REFUSALS: &[(DialectKind, &str, &str, u16, &str)] = &[
    (
        DialectKind::Openai,
        "/v1/chat/completions",
        r#"{"model":"ref-small","messages":[]}"#,
        400,
        "empty_array",
    ),
    (
        DialectKind::Openai,
        "/v1/chat/completions",
        r#"{"messages":[{"role":"user","content":"x"}]}"#,
        400,
        "missing_required_parameter",
    ),
    (
        DialectKind::Openai,
        "/v1/chat/completions",
        r#"{"model":"ref-small","messages":"x"}"#,
        400,
        "invalid_type",
    ),
    (
        DialectKind::Openai,
        "/v1/chat/completions",
        r#"{"model":"ref-small","messages":[{"role":"user","content":"x"}],"max_tokens":"5"}"#,
        400,
        "invalid_type",
    ),
    (
        DialectKind::Openai,
        "/v1/chat/completions",
        r#"{"model":"ref-small","messages":[{"role":"user","content":"x"}],"temperature":2.5}"#,
        400,
        "above_max_value",
    ),
    (
        DialectKind::Openai,
        "/v1/chat/completions",
        r#"{"model":"ref-small","messages":[{"role":"user","content":"x"}],"top_p":1.5}"#,
        400,
        "above_max_value",
    ),
    (
        DialectKind::Openai,
        "/v1/chat/completions",
        r#"{"model":"ref-small","messages":[{"role":"user","content":"x"}],"max_tokens":0}"#,
        400,
        "below_min_value",
    ),
    (
        DialectKind::Openai,
        "/v1/chat/completions",
        r#"{"model":"ref-small","messages":[{"role":"user","content":"x"}],"n":0}"#,
        400,
        "below_min_value",
    ),
    (
        DialectKind::Openai,
        "/v1/chat/completions",
        r#"{"model":"ref-small","messages":[{"role":"narrator","content":"x"}]}"#,
        400,
        "invalid_value",
    ),
    (
        DialectKind::Openai,
        "/v1/chat/completions",
        r#"{"model":"ref-small","messages":[{"role":"tool","content":"x","tool_call_id":"c"}]}"#,
        400,
        "invalid_request_error",
    ),
    (
        DialectKind::Openai,
        "/v1/chat/completions",
        "hello",
        400,
        "invalid_request_error",
    ),
    (
        DialectKind::Openai,
        "/v1/chat/completions",
        r#"{"model":"nope","messages":[{"role":"user","content":"x"}]}"#,
        404,
        "model_not_found",
    ),
    (
        DialectKind::Anthropic,
        "/v1/messages",
        r#"{"model":"ref-small","messages":[{"role":"user","content":"x"}]}"#,
        400,
        "max_tokens: Field required",
    ),
    (
        DialectKind::Anthropic,
        "/v1/messages",
        r#"{"model":"ref-small","max_tokens":5,"messages":[]}"#,
        400,
        "at least one message",
    ),
    (
        DialectKind::Anthropic,
        "/v1/messages",
        r#"{"model":"ref-small","max_tokens":5,"messages":[{"role":"user","content":""}]}"#,
        400,
        "non-empty content",
    ),
    (
        DialectKind::Anthropic,
        "/v1/messages",
        r#"{"model":"ref-small","max_tokens":5,"messages":[{"role":"system","content":"x"}]}"#,
        400,
        "top-level `system`",
    ),
    (
        DialectKind::Anthropic,
        "/v1/messages",
        r#"{"model":"ref-small","max_tokens":5,"messages":[{"role":"narrator","content":"x"}]}"#,
        400,
        "messages.0.role",
    ),
    (
        DialectKind::Anthropic,
        "/v1/messages",
        r#"{"model":"ref-small","max_tokens":5,"temperature":1.5,"messages":[{"role":"user","content":"x"}]}"#,
        400,
        "temperature",
    ),
    (
        DialectKind::Anthropic,
        "/v1/messages",
        r#"{"model":"ref-small","max_tokens":"5","messages":[{"role":"user","content":"x"}]}"#,
        400,
        "max_tokens",
    ),
    (
        DialectKind::Anthropic,
        "/v1/messages",
        "hello",
        400,
        "invalid_request_error",
    ),
    (
        DialectKind::Anthropic,
        "/v1/messages",
        r#"{"model":"nope","max_tokens":5,"messages":[{"role":"user","content":"x"}]}"#,
        404,
        "not_found_error",
    ),
    (
        DialectKind::Ollama,
        "/api/chat",
        r#"{"messages":[]}"#,
        400,
        "model is required",
    ),
    (
        DialectKind::Ollama,
        "/api/chat",
        r#"{"model":"ref-small","messages":"x"}"#,
        400,
        "cannot unmarshal",
    ),
    (DialectKind::Ollama, "/api/chat", "hello", 400, "invalid"),
    (
        DialectKind::Ollama,
        "/api/chat",
        r#"{"model":"nope","messages":[]}"#,
        404,
        "model \"nope\" not found",
    ),
    (
        DialectKind::Ollama,
        "/api/generate",
        r#"{"model":"nope","prompt":"x"}"#,
        404,
        "model \"nope\" not found",
    ),
    (
        DialectKind::Ollama,
        "/api/show",
        r#"{"model":"nope"}"#,
        404,
        "model \"nope\" not found",
    ),
];

#[test]
fn invalid_requests_get_each_dialects_documented_error() {
    let server = ReferenceProvider::start(Config::default()).unwrap();
    let accepting = ReferenceProvider::start(Config {
        broken: [Broken::AcceptInvalid].into(),
        ..Config::default()
    })
    .unwrap();
    for &(d, path, body, status, want) in REFUSALS {
        let mut w = d.encode(&user("x"), &WireOptions::default());
        w.path = path;
        w.op = if path == "/api/show" {
            WireOp::Show
        } else {
            WireOp::Chat
        };
        let raw = send_raw(&server, &w, body);
        let r = d.decode_response(&w, raw.0, &raw.1, Body::Whole(&raw.2));
        assert!(r.violations.is_empty(), "{d:?} {body}: {:?}", r.violations);
        assert_eq!(r.status, status, "{d:?} {body}");
        let e = r.error.expect("an error");
        let hit = [e.code.as_deref(), e.kind.as_deref()].contains(&Some(want))
            || e.message.contains(want);
        assert!(hit, "{d:?} {body}: {e:?} lacks {want:?}");
        if status == 400 && d != DialectKind::Ollama {
            let (st, _, bytes) = send_raw(&accepting, &w, body);
            assert!(
                st == 200 || body == "hello",
                "{d:?} {body}: accept-invalid gave {st} {:?}",
                String::from_utf8_lossy(&bytes)
            );
        }
    }
}

/// Sends `body` as is to `w.path`, with `w`'s headers.
fn send_raw(
    server: &ReferenceProvider,
    w: &WireRequest,
    body: &str,
) -> (u16, Vec<(String, String)>, Vec<u8>) {
    let url = format!("http://{}{}", server.addr(), w.path);
    crate::runtime::runtime().block_on(async {
        let mut req = reqwest::Client::new().post(&url).body(body.to_string());
        for (k, v) in &w.headers {
            req = req.header(*k, v);
        }
        let resp = req.send().await.expect("answer");
        let headers = resp
            .headers()
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_str().unwrap_or("").to_string()))
            .collect();
        (
            resp.status().as_u16(),
            headers,
            resp.bytes().await.expect("body").to_vec(),
        )
    })
}

#[test]
fn anthropic_keys_and_version_are_checked_as_the_real_api_does() {
    let cfg = Config {
        api_key: Some("sk-ref".into()),
        ..Config::default()
    };
    let server = ReferenceProvider::start(cfg).unwrap();
    let d = DialectKind::Anthropic;
    let mut w = d.encode(&user("hi"), &WireOptions::default());
    let r = exchange(&server, d, &w, false);
    assert_eq!(
        (r.status, r.error.unwrap().kind.as_deref()),
        (401, Some("authentication_error"))
    );
    w.headers.push(("x-api-key", "sk-ref".into()));
    assert_eq!(exchange(&server, d, &w, false).status, 200);
    w.headers.retain(|(k, _)| *k != "anthropic-version");
    assert_eq!(exchange(&server, d, &w, false).status, 400);
}

#[test]
fn ollama_models_load_unload_and_pull() {
    let server = ReferenceProvider::start(Config::default()).unwrap();
    let d = DialectKind::Ollama;
    let op = |req: Request| d.encode_request(&req, &WireOptions::default()).unwrap();
    let r = exchange(&server, d, &op(Request::ListRunning), false);
    clean(&r, "ps");
    assert_eq!(r.raw["models"], json!([]));
    clean(&chat(&server, d, &user("Say hi.")), "chat");
    let r = exchange(&server, d, &op(Request::ListRunning), false);
    assert_eq!(r.raw["models"][0]["name"], "ref-small");
    let r = exchange(
        &server,
        d,
        &op(Request::Unload {
            model: "ref-small".into(),
        }),
        false,
    );
    clean(&r, "unload");
    let r = exchange(&server, d, &op(Request::ListRunning), false);
    assert_eq!(r.raw["models"], json!([]));
    for req in [
        Request::ListLocal,
        Request::Show {
            model: "ref-small".into(),
        },
    ] {
        clean(&exchange(&server, d, &op(req), false), "tags/show");
    }
    let r = exchange(
        &server,
        d,
        &op(Request::Pull {
            model: "ref-pullable".into(),
        }),
        true,
    );
    clean(&r, "pull");
    let r = exchange(
        &server,
        d,
        &op(Request::Pull {
            model: "absent".into(),
        }),
        true,
    );
    assert!(r.error.unwrap().message.contains("file does not exist"));
}

/// A request the knob is about, and whether the decoded reply shows the breach.
fn caught(knob: Broken, d: DialectKind) -> Option<bool> {
    let server = ReferenceProvider::start(Config {
        broken: [knob].into(),
        ..Config::default()
    })
    .unwrap();
    let cut = ChatRequest {
        max_tokens: Some(8),
        ..user("Write a long essay about the sea.")
    };
    let stream = ChatRequest {
        stream: true,
        ..user("Say hello.")
    };
    let r = match knob {
        Broken::FinishOnCut => chat(&server, d, &cut).finish_reason != Some(FinishReason::Length),
        Broken::UsageOverLimit => {
            chat(&server, d, &cut).usage.and_then(|u| u.output_tokens) > Some(8)
        }
        Broken::UsageMissing => chat(&server, d, &cut)
            .usage
            .is_none_or(|u| u.output_tokens.is_none()),
        Broken::StreamNoTerminal | Broken::StreamOutOfOrder | Broken::MissingFields => {
            let streamed = !chat(&server, d, &stream).violations.is_empty();
            streamed
                && (knob != Broken::MissingFields
                    || !chat(&server, d, &user("hi")).violations.is_empty())
        }
        Broken::ToolArgsInvalid => {
            let r = chat(&server, d, &tools("What is the weather in Paris?"));
            !r.tool_calls
                .iter()
                .all(|c| valid(&weather_tool().parameters, c.arguments.as_ref().unwrap()))
        }
        Broken::ToolChoiceIgnored => !chat(
            &server,
            d,
            &ChatRequest {
                tool_choice: Some(ToolChoice::None),
                ..tools("Weather in Paris?")
            },
        )
        .tool_calls
        .is_empty(),
        Broken::JsonModeProse => serde_json::from_str::<Value>(
            &chat(
                &server,
                d,
                &ChatRequest {
                    response_format: Some(ResponseFormat::JsonObject),
                    ..user("Give JSON.")
                },
            )
            .text,
        )
        .is_err(),
        Broken::SchemaIgnored => {
            let (req, schema) = schema_request();
            !valid(
                &schema,
                &serde_json::from_str(&chat(&server, d, &req).text).unwrap(),
            )
        }
        Broken::ErrorShape | Broken::WrongStatus | Broken::AcceptInvalid => {
            let r = chat(
                &server,
                d,
                &ChatRequest {
                    model: "nope".into(),
                    ..user("hi")
                },
            );
            match knob {
                Broken::ErrorShape => !r.violations.is_empty(),
                Broken::WrongStatus => r.status != 404,
                _ => r.status == 200,
            }
        }
        Broken::IgnoreStop | Broken::IgnoreN | Broken::IgnoreLogprobs | Broken::IgnoreImages => {
            return parameter_ignored(&server, knob, d);
        }
        Broken::NoUnload | Broken::PullNoSuccess => return None,
        Broken::WrongModel => chat(&server, d, &user("hi")).model.as_deref() != Some("ref-small"),
    };
    Some(r)
}

/// Whether a reply shows the parameter `knob` ignores was ignored; `None` where the dialect
/// has no such parameter.
fn parameter_ignored(server: &ReferenceProvider, knob: Broken, d: DialectKind) -> Option<bool> {
    use crate::neutral::ContentPart;
    let chat_dialect = matches!(
        d,
        DialectKind::Openai | DialectKind::Anthropic | DialectKind::Ollama
    );
    let r = match knob {
        Broken::IgnoreStop if chat_dialect => {
            let req = ChatRequest {
                stop: vec!["five".into()],
                ..user("Reply with exactly the words one two three four five six.")
            };
            chat(server, d, &req).text.contains("five")
        }
        Broken::IgnoreN if d == DialectKind::Openai => {
            let req = ChatRequest {
                n: Some(3),
                ..user("hi")
            };
            chat(server, d, &req).choices != Some(3)
        }
        Broken::IgnoreLogprobs if d == DialectKind::Openai => {
            let req = ChatRequest {
                logprobs: Some(true),
                top_logprobs: Some(2),
                ..user("hi")
            };
            chat(server, d, &req).logprobs.is_none()
        }
        Broken::IgnoreImages if chat_dialect => {
            let mut req = user("");
            req.messages[0].parts = vec![
                ContentPart::Text("What is this?".into()),
                ContentPart::Image {
                    media_type: "image/png".into(),
                    data: "AAAA".into(),
                },
            ];
            chat(server, d, &req).status == 200
        }
        _ => return None,
    };
    Some(r)
}

#[test]
fn parameters_are_honoured_when_nothing_is_broken() {
    use crate::neutral::ContentPart;
    let server = ReferenceProvider::start(Config::default()).unwrap();
    let d = DialectKind::Openai;
    let r = chat(
        &server,
        d,
        &ChatRequest {
            n: Some(3),
            logprobs: Some(true),
            top_logprobs: Some(2),
            ..user("hi")
        },
    );
    assert!(r.violations.is_empty(), "{:?}", r.violations);
    assert_eq!(r.choices, Some(3));
    assert!(r.logprobs.unwrap().iter().all(|t| t.alternatives == 2));
    let stop = ChatRequest {
        stop: vec!["five".into()],
        ..user("Reply with exactly the words one two three four five six.")
    };
    let r = chat(&server, DialectKind::Anthropic, &stop);
    assert!(r.violations.is_empty(), "{:?}", r.violations);
    assert_eq!(
        (r.text.trim_end(), r.stop_sequence.as_deref()),
        ("one two three four", Some("five"))
    );
    for d in [
        DialectKind::Openai,
        DialectKind::Anthropic,
        DialectKind::Ollama,
    ] {
        let mut req = user("");
        req.messages[0].parts = vec![
            ContentPart::Text("What is this?".into()),
            ContentPart::Image {
                media_type: "image/png".into(),
                data: "AAAA".into(),
            },
        ];
        assert_eq!(chat(&server, d, &req).status, 400, "{d:?}");
        req.model = "ref-vision".into();
        assert_eq!(chat(&server, d, &req).status, 200, "{d:?}");
    }
}

#[test]
fn every_broken_knob_is_caught() {
    for knob in Broken::ALL {
        for d in DialectKind::ALL {
            // Ollama has no tool_choice; its replies' model is not checked by the decoder.
            if d == DialectKind::Ollama
                && matches!(knob, Broken::WrongModel | Broken::ToolChoiceIgnored)
            {
                continue;
            }
            if let Some(c) = caught(knob, d) {
                assert!(c, "{knob:?} not caught on {d:?}");
            }
        }
    }
}

#[test]
fn lifecycle_knobs_are_caught() {
    let d = DialectKind::Ollama;
    let op = |req: Request| d.encode_request(&req, &WireOptions::default()).unwrap();
    let server = ReferenceProvider::start(Config {
        broken: [Broken::PullNoSuccess].into(),
        ..Config::default()
    })
    .unwrap();
    let r = exchange(
        &server,
        d,
        &op(Request::Pull {
            model: "ref-small".into(),
        }),
        true,
    );
    assert!(!r.violations.is_empty());
    let server = ReferenceProvider::start(Config {
        broken: [Broken::NoUnload].into(),
        ..Config::default()
    })
    .unwrap();
    chat(&server, d, &user("hi"));
    exchange(
        &server,
        d,
        &op(Request::Unload {
            model: "ref-small".into(),
        }),
        false,
    );
    let r = exchange(&server, d, &op(Request::ListRunning), false);
    assert_eq!(r.raw["models"][0]["name"], "ref-small");
    let server = ReferenceProvider::start(Config {
        broken: [Broken::IgnoreStop].into(),
        ..Config::default()
    })
    .unwrap();
    let mut w = DialectKind::Openai.encode(
        &user("Reply with exactly the words blue green red."),
        &WireOptions::default(),
    );
    w.body["stop"] = json!(["green"]);
    let r = exchange(&server, DialectKind::Openai, &w, false);
    assert!(r.text.contains("green"));
}

#[test]
fn a_server_without_tools_or_streaming_says_so_in_each_dialect() {
    let cfg = Config {
        tools: false,
        streaming: false,
        ..Config::default()
    };
    let server = ReferenceProvider::start(cfg).unwrap();
    for d in DialectKind::ALL {
        let r = chat(&server, d, &tools("What is the weather in Paris?"));
        assert_eq!(r.status, 400, "{d:?}");
        assert!(
            r.error.unwrap().message.contains("does not support tools"),
            "{d:?}"
        );
        let r = chat(
            &server,
            d,
            &ChatRequest {
                stream: true,
                ..user("Say hi.")
            },
        );
        assert_eq!(r.status, 200, "{d:?}");
        if d != DialectKind::Ollama {
            assert!(
                r.violations[0].starts_with("the body is not an SSE stream"),
                "{d:?} {:?}",
                r.violations
            );
        }
        assert!(!r.text.is_empty());
    }
}

//! Cross-dialect gateway mode: a gateway that speaks the Responses API to its callers in front
//! of a chat-completions upstream, and the reverse (`--gateway-dialect` differs from the
//! target's dialect). provcheck speaks the gateway's dialect and judges its replies and streams
//! by that dialect's contract, while the mock serves the target's recordings and fault scripts
//! in the upstream's dialect.
//!
//! The gateway is the in-tree translator (`translator/`): conformant, the shipped suites that
//! judge a reply's wire pass through it in both directions; with one [`Flaw`], the scenarios
//! that meet the flaw fail naming the rule it breaks.

use std::net::{SocketAddr, TcpListener};

use crate::common::{self, provcheck, text};
use crate::translator::{self, Flaw, Front, Translator};

/// A free port on 127.0.0.1 for the mock (bound and released; the mock binds it again).
fn free_addr() -> SocketAddr {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
}

/// The dialect provcheck speaks to a translator with this front, and the target whose
/// recordings its upstream is served.
fn dialects(front: Front) -> (&'static str, &'static str) {
    match front {
        Front::Responses => ("openai-responses", "openai"),
        Front::Chat => ("openai", "openai-responses"),
    }
}

/// What a run through a translator gave: exit code, console, and the JUnit cases.
struct Run {
    code: Option<i32>,
    out: String,
    cases: Vec<common::Case>,
}

impl Run {
    /// The status and message of the trial named `name`.
    fn case(&self, name: &str) -> (&str, &str) {
        let c = self
            .cases
            .iter()
            .find(|c| c.trial == name)
            .unwrap_or_else(|| panic!("no trial {name}:\n{}", self.out));
        (c.status, c.message.as_str())
    }
}

/// Runs the trials `filters` select through translator `t` in gateway mode.
fn run_through(t: Translator, filters: &[&str]) -> Run {
    run_with(t, filters, None)
}

/// [`run_through`], with a targets file.
fn run_with(t: Translator, filters: &[&str], targets: Option<&std::path::Path>) -> Run {
    let (gateway_dialect, target) = dialects(t.front);
    // The mock's port is chosen free and released before provcheck binds it; another test
    // may take it in between, so a busy port is tried again with a new one.
    for _ in 0..5 {
        let mock = free_addr();
        let gw = translator::start(mock, t);
        let base = format!("http://{gw}/v1");
        let reports = tempfile::tempdir().unwrap();
        let mock_addr = mock.to_string();
        let mut args = vec![
            "--gateway",
            &base,
            "--gateway-dialect",
            gateway_dialect,
            "--mock-addr",
            &mock_addr,
            "--target",
            target,
            "--speed",
            "0",
            "--reports",
            reports.path().to_str().unwrap(),
        ];
        if let Some(t) = targets {
            args.extend(["--targets", t.to_str().unwrap()]);
        }
        args.extend(filters);
        let out = provcheck(&args);
        let (stdout, stderr) = text(&out);
        if stderr.contains("cannot listen there") {
            continue;
        }
        let (_, cases) = common::junit_cases(&reports.path().join("junit.xml"));
        return Run {
            code: out.status.code(),
            out: format!("{stdout}\n{stderr}"),
            cases,
        };
    }
    panic!("no free port for the mock after 5 tries");
}

/// Suites whose scenarios judge a gateway's retries, backoff and deadlines rather than what
/// it translates: a translator that neither retries nor keeps a deadline of its own fails
/// them whichever dialects it speaks (tests/it/gateway.rs judges those with retrying proxies).
const NOT_TRANSLATION: [&str; 4] = [
    "--skip",
    "resilience::",
    "--skip",
    "limits::request_timeout",
];

/// The trials every direction must pass: plain and streamed replies, a tool call streamed, a
/// reply cut at the limit, an upstream error mid-stream and an upstream stream cut short.
const CORE: [&str; 8] = [
    "messages::system_message",
    "streaming::basic_stream",
    "streaming::mid_stream_error",
    "streaming::truncated_stream",
    "streaming::stream_max_tokens",
    "tools::streamed_tool_call",
    "tools::tool_result_round_trip",
    "limits::max_tokens_enforced",
];

fn conformant(front: Front) -> Run {
    run_through(
        Translator {
            front,
            flaw: Flaw::None,
        },
        &NOT_TRANSLATION,
    )
}

#[test]
fn a_responses_gateway_in_front_of_chat_completions_passes_the_shipped_suites() {
    let r = conformant(Front::Responses);
    assert_eq!(r.code, Some(0), "{}", r.out);
    let passed = r.cases.iter().filter(|c| c.status == "pass").count();
    assert!(passed >= 30, "only {passed} passed:\n{}", r.out);
    for t in CORE {
        assert_eq!(r.case(&format!("{t}::openai")).0, "pass", "{t}");
    }
    // A chat-completions parameter the Responses API has no field for cannot be sent
    // through it: not applicable, with the reason.
    let (status, why) = r.case("parameters::logprobs_shape::openai");
    assert_eq!(status, "skip");
    assert_eq!(
        why,
        "skipped (not applicable: the gateway speaks openai-responses to its callers: The Responses API \
         has no `logprobs` flag: log probabilities come inside output text parts, asked for \
         with `include`.)"
    );
}

#[test]
fn a_chat_gateway_in_front_of_the_responses_api_passes_the_shipped_suites() {
    let r = conformant(Front::Chat);
    assert_eq!(r.code, Some(0), "{}", r.out);
    let passed = r.cases.iter().filter(|c| c.status == "pass").count();
    assert!(passed >= 30, "only {passed} passed:\n{}", r.out);
    for t in CORE {
        assert_eq!(r.case(&format!("{t}::openai-responses")).0, "pass", "{t}");
    }
}

/// A broken translator, the trials its flaw must fail, and what each failure must say.
struct Broken {
    front: Front,
    flaw: Flaw,
    fails: &'static [(&'static str, &'static str)],
}

const BROKEN: [Broken; 8] = [
    Broken {
        front: Front::Responses,
        flaw: Flaw::DroppedTerminal,
        fails: &[
            (
                "streaming::basic_stream::openai",
                "openai-responses contract: stream ended without the terminal marker after 12 events (expected `response.completed`, `response.incomplete` or `response.failed`)",
            ),
            (
                "tools::streamed_tool_call::openai",
                "stream ended without the terminal marker",
            ),
        ],
    },
    Broken {
        front: Front::Responses,
        flaw: Flaw::CompletedWhenCut,
        fails: &[
            (
                "limits::max_tokens_enforced::openai",
                "openai-responses contract: status is \"completed\" but `usage.output_tokens` (16) reached `max_output_tokens` (16): a reply cut at the limit must be \"incomplete\"",
            ),
            (
                "streaming::stream_max_tokens::openai",
                "status is \"completed\" but the terminal event's `response.usage.output_tokens` (16) reached `max_output_tokens` (16)",
            ),
            (
                "streaming::truncated_stream::openai",
                "expected the stream to break its contract, but it is well formed",
            ),
        ],
    },
    Broken {
        front: Front::Responses,
        flaw: Flaw::LostArguments,
        fails: &[(
            "tools::streamed_tool_call::openai",
            "openai-responses contract: event 3 (response.function_call_arguments.done): `arguments` \"{\\\"city\\\":\\\"Paris\\\",\\\"unit\\\":\\\"celsius\\\"}\" disagrees with the deltas of output item 0 (\"\")",
        )],
    },
    Broken {
        front: Front::Responses,
        flaw: Flaw::StuckSequence,
        fails: &[
            (
                "streaming::basic_stream::openai",
                "openai-responses contract: event 4 (response.output_text.delta): `sequence_number` 3 does not increase (event 3 had 3)",
            ),
            (
                "tools::streamed_tool_call::openai",
                "event 3 (response.function_call_arguments.delta): `sequence_number` 2 does not increase",
            ),
        ],
    },
    Broken {
        front: Front::Responses,
        flaw: Flaw::Untranslated,
        fails: &[(
            "messages::system_message::openai",
            "the gateway's upstream request 1 (/v1/chat/completions) is not a valid openai request: Missing required parameter: 'messages'.",
        )],
    },
    Broken {
        front: Front::Chat,
        flaw: Flaw::DroppedTerminal,
        fails: &[(
            "streaming::basic_stream::openai-responses",
            "openai contract: stream ended without the terminal marker after 8 events (expected `[DONE]`)",
        )],
    },
    Broken {
        front: Front::Chat,
        flaw: Flaw::CompletedWhenCut,
        fails: &[
            (
                "limits::max_tokens_enforced::openai-responses",
                "expect.finish_reason: expected length, got stop",
            ),
            (
                "streaming::truncated_stream::openai-responses",
                "no contract breach mentions \"connection closed before the terminal marker\"",
            ),
        ],
    },
    Broken {
        front: Front::Chat,
        flaw: Flaw::LostArguments,
        fails: &[(
            "tools::streamed_tool_call::openai-responses",
            "expect.tool_calls: call 0 (get_weather): arguments are not valid JSON",
        )],
    },
];

/// Runs every broken translator over the suites: the trials its flaw meets fail, each naming
/// the rule (a contract rule of the caller's dialect, or of the upstream's for the request it
/// was sent, where there is one; else the expectation), and trials it does not meet (a plain
/// reply without a tool call) still pass.
#[test]
fn a_broken_translator_fails_the_scenarios_its_flaw_meets_naming_the_rule() {
    for b in &BROKEN {
        let r = run_through(
            Translator {
                front: b.front,
                flaw: b.flaw,
            },
            &NOT_TRANSLATION,
        );
        let what = format!("{:?} in front, {:?}", b.front, b.flaw);
        assert_eq!(r.code, Some(101), "{what}: {}", r.out);
        for (trial, want) in b.fails {
            let c = r.cases.iter().find(|c| c.trial == *trial).unwrap();
            assert_eq!(c.status, "fail", "{what}: {trial}: {c:?}");
            assert!(
                c.description.contains(want),
                "{what}: {trial} does not say {want:?}:\n{}",
                c.description
            );
        }
        if b.flaw != Flaw::Untranslated {
            let (_, target) = dialects(b.front);
            let plain = format!("messages::system_message::{target}");
            assert_eq!(r.case(&plain).0, "pass", "{what}");
        }
    }
}

/// docs/GATEWAY.md's `targets.yaml` example loads, and a Responses gateway judged with it
/// passes.
#[test]
fn the_documented_targets_example_runs_through_a_responses_gateway() {
    let doc = std::fs::read_to_string(common::root().join("docs/GATEWAY.md")).unwrap();
    let block = doc
        .split("```yaml\n")
        .nth(1)
        .and_then(|b| b.split("```").next())
        .expect("docs/GATEWAY.md has a yaml block");
    assert!(block.starts_with("# targets"), "{block}");
    let dir = tempfile::tempdir().unwrap();
    let targets = dir.path().join("targets.yaml");
    std::fs::write(&targets, block).unwrap();
    let t = Translator {
        front: Front::Responses,
        flaw: Flaw::None,
    };
    let r = run_with(
        t,
        &["tools::single_tool_call::openai", "--exact"],
        Some(&targets),
    );
    assert_eq!(r.code, Some(0), "{}", r.out);
    assert_eq!(r.case("tools::single_tool_call::openai").0, "pass");
}

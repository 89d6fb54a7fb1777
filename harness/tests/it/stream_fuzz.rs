//! Fuzz-style checks of the streaming decoders: a valid stream must decode to the same reply
//! however its bytes are split into chunks; a stream cut anywhere must never panic and must
//! either still give that reply (the cut fell after the terminal marker) or say what is wrong;
//! a stream with random bytes flipped must never panic.

use std::time::Instant;

use bytes::Bytes;
use provcheck::dialect::DialectKind;
use provcheck::dialect::decode_stream;
use provcheck::dialect::stream::{StreamOptions, read_frames};
use provcheck::neutral::{FinishReason, Reply};
use serde_json::{Value, json};

/// xorshift64*: tiny, seeded, good enough to pick split points.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Uniform-ish in `0..n` (n > 0).
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

struct Case {
    dialect: DialectKind,
    body: Vec<u8>,
    /// Bytes needed for the reply to be complete on a clean end, and on a cut.
    complete_clean: usize,
    complete_cut: usize,
}

fn openai() -> Case {
    let chunk = |delta: Value, finish: Value| {
        json!({"id":"chatcmpl-F","object":"chat.completion.chunk","created":1727346182,"model":"gpt-4o",
            "system_fingerprint":"fp_1","choices":[{"index":0,"delta":delta,"logprobs":null,"finish_reason":finish}]})
    };
    let events = [
        chunk(
            json!({"role":"assistant","content":"","refusal":null}),
            Value::Null,
        ),
        chunk(json!({"content":"Héllo, "}), Value::Null),
        chunk(json!({"content":"wörld 🌍\nline two"}), Value::Null),
        chunk(
            json!({"tool_calls":[{"index":0,"id":"call_A","type":"function","function":{"name":"get_weather","arguments":""}}]}),
            Value::Null,
        ),
        chunk(
            json!({"tool_calls":[{"index":0,"function":{"arguments":"{\"city\": \"Zü"}}]}),
            Value::Null,
        ),
        chunk(
            json!({"tool_calls":[{"index":0,"function":{"arguments":"rich\"}"}}]}),
            Value::Null,
        ),
        chunk(
            json!({"tool_calls":[{"index":1,"id":"call_B","type":"function","function":{"name":"now","arguments":"{}"}}]}),
            Value::Null,
        ),
        chunk(json!({}), json!("tool_calls")),
        json!({"id":"chatcmpl-F","object":"chat.completion.chunk","created":1727346182,"model":"gpt-4o",
            "choices":[],"usage":{"prompt_tokens":44,"completion_tokens":16,"total_tokens":60}}),
    ];
    let mut body = String::from(": keep-alive\n\n");
    for e in &events {
        body.push_str(&format!("data: {e}\n\n"));
    }
    body.push_str("data: [DONE]\n\n");
    let len = body.len();
    Case {
        dialect: DialectKind::Openai,
        body: body.into_bytes(),
        complete_clean: len,
        complete_cut: len,
    }
}

fn anthropic() -> Case {
    let events = [
        json!({"type":"message_start","message":{"id":"msg_F","type":"message","role":"assistant","content":[],
            "model":"claude-x","stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":25,"output_tokens":1}}}),
        json!({"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}),
        json!({"type": "ping"}),
        json!({"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Grüße 🌍"}}),
        json!({"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":", wie geht's?\n"}}),
        json!({"type":"content_block_stop","index":0}),
        json!({"type":"content_block_start","index":1,"content_block":{"type":"tool_use","id":"toolu_F","name":"get_weather","input":{}}}),
        json!({"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":""}}),
        json!({"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"{\"city\": \"Mün"}}),
        json!({"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"chen\", \"days\": 3}"}}),
        json!({"type":"content_block_stop","index":1}),
        json!({"type":"message_delta","delta":{"stop_reason":"tool_use","stop_sequence":null},"usage":{"output_tokens":42}}),
        json!({"type":"message_stop"}),
    ];
    // CRLF line ends, as some proxies send them.
    let mut body = String::new();
    for e in &events {
        body.push_str(&format!(
            "event: {}\r\ndata: {e}\r\n\r\n",
            e["type"].as_str().unwrap()
        ));
    }
    let len = body.len();
    Case {
        dialect: DialectKind::Anthropic,
        body: body.into_bytes(),
        complete_clean: len,
        complete_cut: len,
    }
}

fn ollama() -> Case {
    let chunk = |message: Value, done: bool| json!({"model":"llama3.2","created_at":"2024-08-04T08:52:19Z","message":message,"done":done});
    let mut last = chunk(json!({"role":"assistant","content":""}), true);
    for (k, v) in [
        ("done_reason", json!("stop")),
        ("total_duration", json!(4883583458u64)),
        ("load_duration", json!(1334875)),
        ("prompt_eval_count", json!(26)),
        ("prompt_eval_duration", json!(342546000)),
        ("eval_count", json!(282)),
        ("eval_duration", json!(4535599000u64)),
    ] {
        last[k] = v;
    }
    let lines = [
        chunk(json!({"role":"assistant","content":"Ça"}), false),
        chunk(json!({"role":"assistant","content":" va, 🌍"}), false),
        chunk(
            json!({"role":"assistant","content":"","tool_calls":[{"function":{"name":"get_weather","arguments":{"city":"Lyon"}}}]}),
            false,
        ),
        last,
    ];
    let body: String = lines.iter().map(|l| format!("{l}\n")).collect();
    let len = body.len();
    Case {
        dialect: DialectKind::Ollama,
        body: body.into_bytes(),
        // A clean end may drop the last newline; a cut line is incomplete.
        complete_clean: len - 1,
        complete_cut: len,
    }
}

fn decode(
    rt: &tokio::runtime::Runtime,
    dialect: DialectKind,
    chunks: Vec<Result<Bytes, String>>,
) -> Reply {
    let (frames, end) = rt.block_on(read_frames(
        dialect,
        futures_util::stream::iter(chunks),
        Instant::now(),
    ));
    decode_stream(
        dialect,
        200,
        &[],
        &frames,
        &end,
        &StreamOptions {
            usage_requested: true,
        },
    )
}

/// Splits `bytes` into chunks at random points (small, medium or large pieces), sometimes
/// with empty chunks between.
fn split(rng: &mut Rng, bytes: &[u8]) -> Vec<Result<Bytes, String>> {
    let mut chunks = Vec::new();
    // Tiny pieces are the slow case for the SSE parser in a debug build: used more sparingly.
    let max = match rng.below(6) {
        0 => 8,
        1 | 2 => 64,
        _ => bytes.len().max(1),
    };
    let mut at = 0;
    while at < bytes.len() {
        let n = 1 + rng.below(max);
        let end = (at + n).min(bytes.len());
        chunks.push(Ok(Bytes::copy_from_slice(&bytes[at..end])));
        if rng.below(10) == 0 {
            chunks.push(Ok(Bytes::new()));
        }
        at = end;
    }
    chunks
}

fn assert_same(case: &str, got: &Reply, want: &Reply) {
    assert!(got.violations.is_empty(), "{case}: {:?}", got.violations);
    assert_eq!(got.text, want.text, "{case}");
    assert_eq!(got.finish_reason, want.finish_reason, "{case}");
    assert_eq!(got.raw_finish_reason, want.raw_finish_reason, "{case}");
    assert_eq!(got.usage, want.usage, "{case}");
    assert_eq!(got.tool_calls, want.tool_calls, "{case}");
    assert_eq!(got.id, want.id, "{case}");
    assert_eq!(got.model, want.model, "{case}");
    let (g, w) = (got.stream.as_ref().unwrap(), want.stream.as_ref().unwrap());
    assert_eq!(g.events, w.events, "{case}");
    assert_eq!(g.event_types, w.event_types, "{case}");
    assert!(g.terminated, "{case}");
}

/// Splits, cuts and garbles `case`'s body, a few hundred times each.
fn fuzz(case: Case, seed: u64) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let mut rng = Rng(seed);
    let name = case.dialect.as_str();
    let whole = decode(&rt, case.dialect, vec![Ok(Bytes::from(case.body.clone()))]);
    assert!(
        whole.violations.is_empty(),
        "{name}: {:?}",
        whole.violations
    );
    assert!(!whole.text.is_empty(), "{name}");
    assert_eq!(whole.finish_reason, Some(FinishReason::ToolCalls), "{name}");
    assert!(!whole.tool_calls.is_empty(), "{name}");
    assert!(
        whole.tool_calls.iter().all(|t| t.arguments.is_some()),
        "{name}"
    );
    assert!(whole.usage.is_some(), "{name}");

    // One byte at a time, once: the SSE parser re-scans a partial line on every chunk, so
    // this is the slow case in a debug build.
    let bytewise = case
        .body
        .chunks(1)
        .map(|b| Ok(Bytes::copy_from_slice(b)))
        .collect();
    assert_same(
        &format!("{name} bytewise"),
        &decode(&rt, case.dialect, bytewise),
        &whole,
    );

    for i in 0..500 {
        let chunks = split(&mut rng, &case.body);
        let got = decode(&rt, case.dialect, chunks);
        assert_same(&format!("{name} split #{i}"), &got, &whole);
    }

    for _ in 0..500 {
        let cut = rng.below(case.body.len() + 1);
        let broken = rng.below(2) == 0;
        let mut chunks = split(&mut rng, &case.body[..cut]);
        if broken {
            chunks.push(Err("connection reset by peer".into()));
        }
        let got = decode(&rt, case.dialect, chunks);
        let label = format!(
            "{name} cut at {cut} ({})",
            if broken { "broken" } else { "clean" }
        );
        if got.violations.is_empty() {
            assert_same(&label, &got, &whole);
        }
        let complete = if broken {
            case.complete_cut
        } else {
            case.complete_clean
        };
        if cut < complete {
            assert!(
                got.violations
                    .iter()
                    .any(|v| v.contains("terminal marker") || v.contains("not an SSE stream")),
                "{label}: {:?}",
                got.violations
            );
        } else {
            assert_same(&label, &got, &whole);
        }
    }

    for _ in 0..150 {
        let mut body = case.body.clone();
        for _ in 0..1 + rng.below(4) {
            let at = rng.below(body.len());
            body[at] = match rng.below(4) {
                0 => b'\n',
                1 => b'"',
                2 => b'{',
                _ => rng.next() as u8,
            };
        }
        let chunks = split(&mut rng, &body);
        // Anything may come out; it must come out without a panic.
        let _ = decode(&rt, case.dialect, chunks);
    }
}

#[test]
fn openai_stream_survives_splits_cuts_and_garbage() {
    fuzz(openai(), 0x9E37_79B9_7F4A_7C15);
}

#[test]
fn anthropic_stream_survives_splits_cuts_and_garbage() {
    fuzz(anthropic(), 0xD1B5_4A32_D192_ED03);
}

#[test]
fn ollama_stream_survives_splits_cuts_and_garbage() {
    fuzz(ollama(), 0x8CB9_2BA7_2F3D_8DD7);
}

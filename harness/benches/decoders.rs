//! Throughput of the streaming decoders: `read_frames` + `decode_stream` over a ~20 MB stream
//! per dialect, fed as 16 KiB reads (a socket's worth) and as one chunk per event (what the
//! replay mock writes). Run with `cargo bench --bench decoders`.

#![warn(clippy::too_many_lines)]

use std::time::{Duration, Instant};

use bytes::Bytes;
use provcheck::dialect::DialectKind;
use provcheck::dialect::decode_stream;
use provcheck::dialect::stream::{StreamOptions, read_frames};
use serde_json::json;

const TARGET: usize = 20 * 1024 * 1024;
const WORDS: [&str; 8] = [
    "The",
    " quick",
    " brown",
    " fox",
    " jumps",
    " over",
    " the",
    " lazy dög 🦊.",
];

/// A stream body being written, with each event's end offset.
struct Body {
    out: String,
    ends: Vec<usize>,
}

impl Body {
    fn push(&mut self, s: String) {
        self.out.push_str(&s);
        self.ends.push(self.out.len());
    }
}

/// A realistic stream body of about `TARGET` bytes, with each event's end offset.
fn body(dialect: DialectKind) -> (Vec<u8>, Vec<usize>) {
    let mut b = Body {
        out: String::with_capacity(TARGET + 4096),
        ends: Vec::new(),
    };
    match dialect {
        DialectKind::Openai => openai(&mut b),
        DialectKind::Anthropic => anthropic(&mut b),
        DialectKind::OpenaiResponses => responses(&mut b),
        DialectKind::Ollama => ollama(&mut b),
    }
    (b.out.into_bytes(), b.ends)
}

/// OpenAI chat completion chunks, a usage chunk and `[DONE]`.
fn openai(b: &mut Body) {
    let mut i = 0;
    let chunk = |delta: serde_json::Value, finish: serde_json::Value| {
        let c = json!({"id":"chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT","object":"chat.completion.chunk",
            "created":1741570283,"model":"gpt-4o-2024-08-06","service_tier":"default",
            "system_fingerprint":"fp_eb9dce56a8","choices":[{"index":0,"delta":delta,"logprobs":null,"finish_reason":finish}]});
        format!("data: {c}\n\n")
    };
    b.push(chunk(
        json!({"role":"assistant","content":"","refusal":null}),
        json!(null),
    ));
    while b.out.len() < TARGET {
        b.push(chunk(
            json!({"content": WORDS[i % WORDS.len()]}),
            json!(null),
        ));
        i += 1;
    }
    b.push(chunk(json!({}), json!("stop")));
    let u = json!({"id":"chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT","object":"chat.completion.chunk",
        "created":1741570283,"model":"gpt-4o-2024-08-06","choices":[],
        "usage":{"prompt_tokens":19,"completion_tokens":i,"total_tokens":i + 19}});
    b.push(format!("data: {u}\n\n"));
    b.push("data: [DONE]\n\n".into());
}

/// Anthropic message events with a ping every 500 deltas.
fn anthropic(b: &mut Body) {
    let mut i = 0;
    let ev = |v: serde_json::Value| {
        format!("event: {}\ndata: {v}\n\n", v["type"].as_str().unwrap_or(""))
    };
    b.push(
        ev(
            json!({"type":"message_start","message":{"id":"msg_01XFDUDYJgAACzvnptvVoYEL","type":"message",
            "role":"assistant","content":[],"model":"claude-sonnet-4-5","stop_reason":null,"stop_sequence":null,
            "usage":{"input_tokens":25,"output_tokens":1}}}),
        ),
    );
    b.push(ev(
        json!({"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}),
    ));
    while b.out.len() < TARGET {
        b.push(ev(json!({"type":"content_block_delta","index":0,
                "delta":{"type":"text_delta","text":WORDS[i % WORDS.len()]}})));
        i += 1;
        if i % 500 == 0 {
            b.push(ev(json!({"type": "ping"})));
        }
    }
    b.push(ev(json!({"type":"content_block_stop","index":0})));
    b.push(ev(
        json!({"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},
            "usage":{"output_tokens":i}}),
    ));
    b.push(ev(json!({"type":"message_stop"})));
}

/// Responses API events, numbered, ending in `response.completed`.
fn responses(b: &mut Body) {
    let mut i = 0;
    let mut seq = 0u64;
    let mut ev = |b: &mut Body, mut v: serde_json::Value| {
        v["sequence_number"] = json!(seq);
        seq += 1;
        let s = format!("event: {}\ndata: {v}\n\n", v["type"].as_str().unwrap_or(""));
        b.push(s);
    };
    let resp = |status: &str, output: serde_json::Value, usage: serde_json::Value| {
        json!({"id":"resp_bench","object":"response","created_at":1741570283,"status":status,
            "error":null,"incomplete_details":null,"model":"gpt-4o-2024-08-06","output":output,"usage":usage})
    };
    ev(
        b,
        json!({"type":"response.created","response":resp("in_progress", json!([]), json!(null))}),
    );
    ev(
        b,
        json!({"type":"response.output_item.added","output_index":0,
        "item":{"type":"message","id":"msg_bench","status":"in_progress","role":"assistant","content":[]}}),
    );
    ev(
        b,
        json!({"type":"response.content_part.added","item_id":"msg_bench","output_index":0,
        "content_index":0,"part":{"type":"output_text","text":"","annotations":[]}}),
    );
    let mut text = String::new();
    while b.out.len() < TARGET {
        let w = WORDS[i % WORDS.len()];
        text.push_str(w);
        ev(
            b,
            json!({"type":"response.output_text.delta","item_id":"msg_bench","output_index":0,
            "content_index":0,"delta":w,"logprobs":[]}),
        );
        i += 1;
    }
    let part = json!({"type":"output_text","text":text,"annotations":[]});
    let item = json!({"type":"message","id":"msg_bench","status":"completed","role":"assistant","content":[part]});
    ev(
        b,
        json!({"type":"response.output_text.done","item_id":"msg_bench","output_index":0,
        "content_index":0,"text":text,"logprobs":[]}),
    );
    ev(
        b,
        json!({"type":"response.content_part.done","item_id":"msg_bench","output_index":0,
        "content_index":0,"part":part}),
    );
    ev(
        b,
        json!({"type":"response.output_item.done","output_index":0,"item":item}),
    );
    let usage = json!({"input_tokens":19,"output_tokens":i,"total_tokens":i + 19});
    ev(
        b,
        json!({"type":"response.completed","response":resp("completed", json!([item]), usage)}),
    );
}

/// Ollama NDJSON lines ending in a `done` line.
fn ollama(b: &mut Body) {
    let mut i = 0;
    while b.out.len() < TARGET {
        let l = json!({"model":"llama3.2","created_at":"2024-08-04T08:52:19.385406455-07:00",
            "message":{"role":"assistant","content":WORDS[i % WORDS.len()]},"done":false});
        b.push(format!("{l}\n"));
        i += 1;
    }
    let l = json!({"model":"llama3.2","created_at":"2024-08-04T19:22:45.499127Z",
        "message":{"role":"assistant","content":""},"done":true,"done_reason":"stop",
        "total_duration":4883583458u64,"load_duration":1334875,"prompt_eval_count":26,
        "prompt_eval_duration":342546000,"eval_count":i,"eval_duration":4535599000u64});
    b.push(format!("{l}\n"));
}

/// Times framing and decoding `chunks`; returns both durations and the event count.
fn run(
    rt: &tokio::runtime::Runtime,
    dialect: DialectKind,
    chunks: Vec<Bytes>,
) -> (Duration, Duration, usize) {
    let t0 = Instant::now();
    let (frames, end) = rt.block_on(read_frames(
        dialect,
        futures_util::stream::iter(chunks.into_iter().map(Ok::<_, std::io::Error>)),
        Instant::now(),
    ));
    let framed = t0.elapsed();
    let t1 = Instant::now();
    let reply = decode_stream(
        dialect,
        200,
        &[],
        &frames,
        &end,
        &StreamOptions {
            usage_requested: true,
        },
    );
    let decoded = t1.elapsed();
    assert!(
        reply.violations.is_empty(),
        "{}: {:?}",
        dialect.as_str(),
        reply.violations
    );
    assert!(reply.text.len() > TARGET / 100);
    (framed, decoded, reply.stream.map_or(0, |s| s.events))
}

fn main() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("tokio runtime");
    println!(
        "{:<10} {:<16} {:>8} {:>8} {:>10} {:>10} {:>8}",
        "dialect", "chunks", "MB", "events", "frame ms", "decode ms", "MB/s"
    );
    for dialect in DialectKind::ALL {
        let (bytes, ends) = body(dialect);
        let whole = Bytes::from(bytes);
        let mb = whole.len() as f64 / 1e6;
        let reads: Vec<Bytes> = (0..whole.len())
            .step_by(16 * 1024)
            .map(|s| whole.slice(s..(s + 16 * 1024).min(whole.len())))
            .collect();
        let mut start = 0;
        let per_event: Vec<Bytes> = ends
            .iter()
            .map(|&e| {
                let b = whole.slice(start..e);
                start = e;
                b
            })
            .collect();
        for (label, chunks) in [("16 KiB reads", reads), ("one per event", per_event)] {
            // Best of three, so a busy machine skews the figure less.
            let best = (0..3)
                .map(|_| run(&rt, dialect, chunks.clone()))
                .min_by_key(|(f, d, _)| *f + *d)
                .expect("three runs");
            let (framed, decoded, events) = best;
            let total = (framed + decoded).as_secs_f64();
            println!(
                "{:<10} {:<16} {:>8.1} {:>8} {:>10.0} {:>10.0} {:>8.0}",
                dialect.as_str(),
                label,
                mb,
                events,
                framed.as_secs_f64() * 1e3,
                decoded.as_secs_f64() * 1e3,
                mb / total
            );
        }
    }
}

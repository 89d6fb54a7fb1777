//! Fuzz-style checks of the streaming decoders: a valid stream must decode to the same reply
//! however its bytes are split into chunks; a stream cut anywhere must never panic and must
//! either still give that reply (the cut fell after the terminal marker) or say what is wrong;
//! a stream with random bytes flipped must never panic. The streams and the ways to split and
//! garble them are `provcheck::fuzz::stream`'s, which `provcheck-fuzz` runs by the million.

use bytes::Bytes;
use provcheck::dialect::DialectKind;
use provcheck::fuzz::Rng;
use provcheck::fuzz::stream::{self, Case, Input, decode, garble, split};
use provcheck::neutral::{FinishReason, Reply};

fn assert_same(case: &str, got: &Reply, want: &Reply) {
    if let Err(e) = stream::same(got, want) {
        panic!("{case}: {e}");
    }
}

/// Splits, cuts and garbles `case`'s body, a few hundred times each.
fn fuzz(case: Case, seed: u64) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let mut rng = Rng::new(seed);
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
        garble(&mut rng, &mut body);
        let chunks = split(&mut rng, &body);
        // Anything may come out; it must come out without a panic.
        let _ = decode(&rt, case.dialect, chunks);
    }
}

#[test]
fn openai_stream_survives_splits_cuts_and_garbage() {
    fuzz(stream::case(DialectKind::Openai), 0x9E37_79B9_7F4A_7C15);
}

#[test]
fn anthropic_stream_survives_splits_cuts_and_garbage() {
    fuzz(stream::case(DialectKind::Anthropic), 0xD1B5_4A32_D192_ED03);
}

#[test]
fn ollama_stream_survives_splits_cuts_and_garbage() {
    fuzz(stream::case(DialectKind::Ollama), 0x8CB9_2BA7_2F3D_8DD7);
}

#[test]
fn openai_responses_stream_survives_splits_cuts_and_garbage() {
    fuzz(
        stream::case(DialectKind::OpenaiResponses),
        0x94D0_49BB_1331_11EB,
    );
}

/// The driver's own property, on a few hundred of its inputs per decoder: reshaped valid
/// streams decode the same, and nothing it generates panics.
#[test]
fn driver_inputs_hold_the_stream_properties() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let mut rng = Rng::new(7);
    for dialect in stream::DIALECTS {
        for _ in 0..150 {
            let input = stream::generate(&mut rng, dialect);
            let file = input.to_file();
            assert_eq!(Input::from_file(dialect, &file).as_ref(), Some(&input));
            stream::check(&rt, &input);
        }
    }
}

/// The check catches what it is for: a reshaped stream that really changes the reply (a text
/// delta dropped) fails it, and a body past `max_body_bytes` stops at the limit.
#[test]
fn the_stream_check_fails_on_a_changed_reply_and_reads_no_further_than_the_limit() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let mut body = stream::case(DialectKind::Ollama).body;
    let second = body.iter().position(|&b| b == b'\n').unwrap() + 1;
    body.drain(..second);
    let changed = Input {
        dialect: DialectKind::Ollama,
        body,
        splits: vec![10],
        cut: false,
        invariant: true,
    };
    let caught = std::panic::catch_unwind(|| stream::check(&rt, &changed));
    assert!(caught.is_err(), "a dropped text delta went unnoticed");

    let one = stream::records(&stream::case(DialectKind::Openai).body, true)[2].clone();
    let huge = Input {
        dialect: DialectKind::Openai,
        body: one.repeat(stream::LIMITS.max_body_bytes as usize / one.len() + 2),
        splits: Vec::new(),
        cut: false,
        invariant: false,
    };
    let read = stream::read(&rt, &huge);
    let limit = read.limit.expect("a limit stops an oversized body");
    assert!(
        limit.contains("max_stream_events") || limit.contains("max_body_bytes"),
        "{limit}"
    );
    assert!(read.reply.is_none());
}

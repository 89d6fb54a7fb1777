//! Hostile or broken servers, live, on 127.0.0.1: each ends its trial with a clear message,
//! and nothing is read past the target's limits (set low in targets.yaml, so that a debug
//! build on a loaded machine reaches each well before the request deadline; the defaults are
//! checked in `client::limits`). The server streams what it sends (up to 1 GB, or forever);
//! the test never holds it.

use std::io::Write;
use std::net::TcpStream;
use std::time::Duration;

use provcheck::outcome::{ErrorKind, Status};

use crate::common;
use crate::raw_server::{MODELS, RawServer, respond};

const CASES: &[&str] = &[
    "huge_body",
    "endless_stream",
    "endless_line",
    "never_answers",
    "headers_then_stall",
    "trickle",
    "invalid_utf8",
    "deep_json",
];

/// Writes `piece` until the client hangs up or `max` bytes went.
fn flood(conn: &mut TcpStream, piece: &[u8], max: u64) {
    let mut sent = 0u64;
    while sent < max {
        if conn.write_all(piece).is_err() {
            return;
        }
        sent += piece.len() as u64;
    }
}

fn hostile(case: &str, conn: &mut TcpStream) {
    let sse = "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\nconnection: close\r\n\r\n";
    let json = "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\nconnection: close\r\n\r\n";
    match case {
        // 1 GB with no declared length: only counting while reading can stop it.
        "huge_body" => {
            let _ = conn.write_all(json.as_bytes());
            flood(conn, &[b' '; 1 << 20], 1 << 30);
        }
        "endless_stream" => {
            let _ = conn.write_all(sse.as_bytes());
            let event = "data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"m\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"a\"},\"finish_reason\":null}]}\n\n";
            flood(conn, event.repeat(64).as_bytes(), u64::MAX);
        }
        "endless_line" => {
            let _ = conn.write_all(format!("{sse}data: ").as_bytes());
            flood(conn, &[b'a'; 1 << 16], u64::MAX);
        }
        "never_answers" => std::thread::sleep(Duration::from_secs(30)),
        "headers_then_stall" => {
            let _ = conn.write_all(
                b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{",
            );
            std::thread::sleep(Duration::from_secs(30));
        }
        "trickle" => {
            let _ = conn.write_all(json.as_bytes());
            for _ in 0..30 {
                if conn.write_all(b" ").is_err() {
                    return;
                }
                std::thread::sleep(Duration::from_secs(1));
            }
        }
        "invalid_utf8" => {
            let _ = conn.write_all(json.as_bytes());
            let _ = conn.write_all(b"{\"id\":\"\xff\xfe\xfd\"}");
        }
        "deep_json" => {
            let _ = conn.write_all(json.as_bytes());
            let mut body = "[".repeat(100_000);
            body.push_str(&"]".repeat(100_000));
            let _ = conn.write_all(body.as_bytes());
        }
        _ => respond(conn, 400, "text/plain", "unknown case"),
    }
    // The bodies above have no declared length: the end of the connection ends them.
    let _ = conn.shutdown(std::net::Shutdown::Both);
}

#[test]
fn each_hostile_server_ends_its_trial_with_a_clear_message_within_the_limits() {
    let server = RawServer::start(|req, conn| {
        if req.method == "GET" {
            return respond(conn, 200, "application/json", MODELS);
        }
        let case = CASES
            .iter()
            .find(|c| req.body.contains(&format!("CASE {c}.")))
            .copied()
            .unwrap_or("");
        hostile(case, conn);
    });
    let mut suite = String::from("suite: hostile\ncategory: messages\nscenarios:\n");
    for case in CASES {
        let stream = matches!(*case, "endless_stream" | "endless_line");
        suite.push_str(&format!(
            "  - id: {case}\n    title: {case}\n    request:\n      stream: {stream}\n      messages:\n        - user: 'CASE {case}.'\n      max_tokens: 5\n    expect:\n      status: 200\n"
        ));
    }
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("suites")).unwrap();
    std::fs::write(dir.path().join("suites/hostile.yaml"), suite).unwrap();
    std::fs::write(
        dir.path().join("targets.yaml"),
        format!(
            "targets:\n  t:\n    dialect: openai\n    base_url: {}/v1\n    models: {{ small: m }}\n    capabilities: [streaming]\n    resilience: {{ max_retries: 0 }}\n    limits: {{ max_body_bytes: 4194304, max_stream_events: 2000, max_line_bytes: 262144 }}\n",
            server.url()
        ),
    )
    .unwrap();
    let out = common::command(dir.path())
        .args([
            "--mode",
            "live",
            "--target",
            "t",
            "--request-timeout-ms",
            "5000",
        ])
        .output()
        .unwrap();
    let (stdout, stderr) = common::text(&out);
    assert_eq!(out.status.code(), Some(101), "{stdout}\n{stderr}");
    let record = common::run_record(&dir.path().join("reports/run.json"));
    let by = |id: &str| record.outcomes.iter().find(|o| o.scenario == id).unwrap();
    let error = |id: &str, kind: ErrorKind, message: &str| {
        let o = by(id);
        let e = o.error.as_ref().unwrap_or_else(|| panic!("{id}: {o:?}"));
        assert_eq!((e.kind, e.message.as_str()), (kind, message), "{id}");
    };
    error(
        "huge_body",
        ErrorKind::Limit,
        "the reply body passed max_body_bytes (4194304 bytes); reading stopped there",
    );
    error(
        "endless_stream",
        ErrorKind::Limit,
        "the stream passed max_stream_events (2000 events); reading stopped there",
    );
    error(
        "endless_line",
        ErrorKind::Limit,
        "a line of the stream passed max_line_bytes (262144 bytes) without a newline; reading stopped there",
    );
    for id in ["never_answers", "headers_then_stall", "trickle"] {
        error(id, ErrorKind::Transport, "timed out after 5000 ms");
    }
    for id in ["invalid_utf8", "deep_json"] {
        let o = by(id);
        assert_eq!(o.status, Status::Fail, "{id}: {o:?}");
        let first = &o.findings[0].message;
        assert!(first.contains("openai contract"), "{id}: {first}");
        assert!(!first.contains('\n'), "{id}: one line: {first}");
    }
}

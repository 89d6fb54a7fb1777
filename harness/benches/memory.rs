//! Peak memory of the real binary with 1,000 concurrent streams through the replay mock. Run
//! with `cargo bench --bench memory`. (The 10,000-trial replay run's peak is measured by the
//! replay bench: `PROVCHECK_BENCH_N=10000 PROVCHECK_BENCH_SETS=realistic cargo bench --bench
//! replay`.)
//!
//! One scenario with `concurrency: 1000` and a streamed request; its recording holds 1,000
//! realistic streams (each its own id): a reply of 24 lines over 160 text deltas, then a tool
//! call whose arguments stream in 24 pieces, a finish and usage: 190 SSE events, about 48 KB
//! per stream, 56 MB in all. The release `provcheck` is spawned on it at `--speed 0` and at
//! `--speed 1` (the recorded 2 ms between events kept, so all 1,000 streams are open at
//! once), the trial must pass, and the child's peak RSS (`wait4`'s `ru_maxrss`), CPU and wall
//! time are printed. Also printed for scale: the same binary `--list`ing the scenario (its
//! floor). `PROVCHECK_BIN` names the binary (default `target/release/provcheck`);
//! `PROVCHECK_BENCH_STREAMS` the number of streams (default 1000); `PROVCHECK_BENCH_DIR=DIR`
//! keeps the generated project in DIR, for profiling.

use std::io::Write;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

const LINES: usize = 24;
const DELTAS: usize = 160;
const ARG_PIECES: usize = 24;

fn main() {
    let streams: usize = std::env::var("PROVCHECK_BENCH_STREAMS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1_000);
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let bin = std::env::var("PROVCHECK_BIN")
        .map(Into::into)
        .unwrap_or_else(|_| root.join("target/release/provcheck"));
    let dir = tempfile::tempdir().expect("a temporary directory");
    // PROVCHECK_BENCH_DIR keeps the generated project there, for profiling the run.
    let kept = std::env::var_os("PROVCHECK_BENCH_DIR").map(std::path::PathBuf::from);
    let dir = kept.as_deref().unwrap_or(dir.path());
    std::fs::create_dir_all(dir).expect("PROVCHECK_BENCH_DIR");
    let bytes = generate(dir, streams);
    println!(
        "memory bench: {streams} concurrent streams of {} SSE events, {:.1} MB of recording",
        DELTAS + ARG_PIECES + 6,
        bytes as f64 / 1e6
    );
    let (code, cpu, rss, wall) = run(&bin, dir, &["--list"]);
    assert_eq!(code, Some(0), "--list failed");
    println!(
        "  --list (floor):  peak RSS {:>7.1} MB, cpu {:>6.2} s, wall {:>6.2} s",
        mb(rss),
        secs(cpu),
        secs(wall)
    );
    for speed in ["0", "1"] {
        let (code, cpu, rss, wall) = run(&bin, dir, &["--speed", speed, "--strict"]);
        let out = std::fs::read_to_string(dir.join("run.log")).unwrap_or_default();
        let tail: Vec<&str> = out.lines().rev().take(40).collect();
        assert_eq!(
            code,
            Some(0),
            "the {streams}-stream trial did not pass at speed {speed}:\n{}",
            tail.into_iter().rev().collect::<Vec<_>>().join("\n")
        );
        println!(
            "  --speed {speed}:       peak RSS {:>7.1} MB, cpu {:>6.2} s, wall {:>6.2} s",
            mb(rss),
            secs(cpu),
            secs(wall)
        );
    }
}

fn mb(kb: u64) -> f64 {
    kb as f64 / 1024.0
}

fn secs(d: Duration) -> f64 {
    d.as_secs_f64()
}

/// Runs `bin` on the project in `dir` with `args`: exit code, CPU, peak RSS (KB), wall time.
fn run(bin: &Path, dir: &Path, args: &[&str]) -> (Option<i32>, Duration, u64, Duration) {
    let _ = std::fs::write(dir.join("run.log"), "");
    let started = Instant::now();
    let child = Command::new(bin)
        .current_dir(dir)
        .args([
            "--suite",
            "load.yaml",
            "--fixtures",
            "fixtures",
            "--targets",
            "targets.yaml",
        ])
        .args(["--reports", "reports", "--exact", "load::streams::bench"])
        .args(args)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .stdout(log(dir))
        .stderr(log(dir))
        .spawn()
        .expect("start provcheck (cargo build --release first)");
    let (code, cpu, rss) = wait(child);
    (code, cpu, rss, started.elapsed())
}

/// The run's log, `run.log` in `dir` (truncated by each run), for the message of a failed one.
fn log(dir: &Path) -> std::fs::File {
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(dir.join("run.log"))
        .expect("run.log")
}

/// Writes the suite, targets.yaml and the recording; returns the recording's size.
fn generate(dir: &Path, streams: usize) -> usize {
    std::fs::write(
        dir.join("targets.yaml"),
        "targets:\n  bench:\n    dialect: openai\n    base_url: http://127.0.0.1:9/v1\n    \
         key_env: PROVCHECK_BENCH_API_KEY\n    models: { small: gpt-4o-mini }\n    \
         capabilities: [streaming, tools]\n    \
         token_param: max_completion_tokens\n",
    )
    .expect("targets.yaml");
    let suite = format!(
        "suite: load\ncategory: streaming\nscenarios:\n  - id: streams\n    \
         title: Many long streams with a tool call at once\n    requires: [streaming, tools]\n    \
         concurrency: {streams}\n    request:\n      stream: true\n      messages:\n        \
         - user: Describe the weather in Paris, then look it up.\n      max_tokens: 2000\n    \
         expect:\n      status: 200\n      finish_reason: tool_calls\n      \
         stream: {{ well_formed: true }}\n      concurrent: {{ distinct_ids: true }}\n"
    );
    std::fs::write(dir.join("load.yaml"), suite).expect("suite");
    // Written one exchange at a time: a recording built whole in memory would raise this
    // process's peak, which a spawned child's `ru_maxrss` inherits until it execs.
    let fixtures = dir.join("fixtures/bench/load");
    std::fs::create_dir_all(&fixtures).expect("fixtures dir");
    let file = std::fs::File::create(fixtures.join("streams.yaml")).expect("recording");
    let mut out = std::io::BufWriter::new(file);
    let provenance = json!({"source": "authored", "date": "2026-12-03",
        "model": "gpt-4o-mini-2024-07-18", "note": "Generated by the memory bench."});
    let mut bytes = 0;
    let mut put = |out: &mut std::io::BufWriter<std::fs::File>, s: &str| {
        out.write_all(s.as_bytes()).expect("recording");
        bytes += s.len();
    };
    put(
        &mut out,
        &format!("{{\"provenance\":{provenance},\"exchanges\":["),
    );
    for n in 0..streams {
        if n > 0 {
            put(&mut out, ",");
        }
        put(&mut out, &exchange(n).to_string());
    }
    put(&mut out, "]}");
    out.flush().expect("recording");
    bytes
}

/// Stream `n`: text over [`LINES`] lines in [`DELTAS`] deltas, a streamed tool call, usage.
fn exchange(n: usize) -> Value {
    let id = format!("chatcmpl-bench-{n}");
    let chunk = |delta: Value, finish: Value| {
        json!({"id": id, "object": "chat.completion.chunk", "created": 1764028800,
            "model": "gpt-4o-mini-2024-07-18", "system_fingerprint": "fp_bench",
            "choices": [{"index": 0, "delta": delta, "logprobs": null, "finish_reason": finish}]})
        .to_string()
    };
    let mut events = vec![chunk(
        json!({"role": "assistant", "content": ""}),
        Value::Null,
    )];
    for k in 0..DELTAS {
        let end = if (k + 1) % (DELTAS / LINES) == 0 {
            ".\n"
        } else {
            " "
        };
        let word = [
            "Sunny", "spells", "with", "a", "light", "breeze", "über", "Paris", "🌤",
        ][k % 9];
        events.push(chunk(
            json!({"content": format!("{word}{end}")}),
            Value::Null,
        ));
    }
    events.push(chunk(
        json!({"tool_calls": [{"index": 0, "id": format!("call_{n}"), "type": "function",
            "function": {"name": "get_weather", "arguments": ""}}]}),
        Value::Null,
    ));
    let args = format!(
        "{{\"city\": \"Paris\", \"days\": 3, \"note\": \"{}\"}}",
        "x".repeat(120)
    );
    let piece = args.len().div_ceil(ARG_PIECES);
    for p in args.as_bytes().chunks(piece) {
        let p = std::str::from_utf8(p).expect("ASCII arguments");
        events.push(chunk(
            json!({"tool_calls": [{"index": 0, "function": {"arguments": p}}]}),
            Value::Null,
        ));
    }
    events.push(chunk(json!({}), json!("tool_calls")));
    let usage = json!({"id": id, "object": "chat.completion.chunk", "created": 1764028800,
        "model": "gpt-4o-mini-2024-07-18", "choices": [],
        "usage": {"prompt_tokens": 31, "completion_tokens": DELTAS + ARG_PIECES,
            "total_tokens": 31 + DELTAS + ARG_PIECES}});
    events.push(usage.to_string());
    events.push("[DONE]".to_string());
    let events: Vec<Value> = events
        .into_iter()
        .enumerate()
        .map(|(k, data)| json!({"at_ms": 2 * k, "data": data}))
        .collect();
    json!({
        "request": {"method": "POST", "path": "/v1/chat/completions",
            "headers": {"authorization": "<redacted>", "content-type": "application/json"},
            "body": {"max_completion_tokens": 2000,
                "messages": [{"content": "Describe the weather in Paris, then look it up.", "role": "user"}],
                "model": "gpt-4o-mini", "stream": true, "stream_options": {"include_usage": true}}},
        "response": {"status": 200,
            "headers": {"content-type": "text/event-stream; charset=utf-8", "x-request-id": format!("req_bench_{n}")},
            "stream": {"format": "sse", "end": "clean", "events": events}}
    })
}

/// `wait4` reaps the child and gives its own rusage: exit code, CPU time, peak RSS in KB.
#[cfg(target_os = "linux")]
fn wait(child: std::process::Child) -> (Option<i32>, Duration, u64) {
    let pid = child.id() as libc::pid_t;
    let mut status = 0;
    // SAFETY: an all-zero rusage is a valid value of the plain C struct.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: `pid` is our own unreaped child; both pointers are to live locals.
    let r = unsafe { libc::wait4(pid, &mut status, 0, &mut ru) };
    assert_eq!(r, pid, "wait4: {}", std::io::Error::last_os_error());
    drop(child);
    let tv = |t: libc::timeval| {
        Duration::from_secs(t.tv_sec as u64) + Duration::from_micros(t.tv_usec as u64)
    };
    let code = libc::WIFEXITED(status).then(|| libc::WEXITSTATUS(status));
    (code, tv(ru.ru_utime) + tv(ru.ru_stime), ru.ru_maxrss as u64)
}

#[cfg(not(target_os = "linux"))]
fn wait(mut child: std::process::Child) -> (Option<i32>, Duration, u64) {
    let status = child.wait().expect("wait");
    (status.code(), Duration::ZERO, 0)
}

//! `provcheck-fuzz`: a fuzz driver on stable Rust for the readers of what other people write
//! or send.
//!
//! `cargo run --release --bin provcheck-fuzz -- --target T --iterations N --seed S`:
//! - `suite`, `recording`, `targets` mutate the shipped suites, recordings and targets.yaml
//!   (byte flips, YAML tokens inserted, ranges deleted, duplicated or spliced from another
//!   file, cuts) and feed each result to the real loader, which must return a value or a
//!   diagnostic;
//! - `stream-openai`, `stream-anthropic`, `stream-ollama`, `stream-openai-responses` feed a
//!   stream decoder the inputs of [`provcheck::fuzz::stream`] (the valid stream split
//!   anywhere, reshaped, cut, garbled, its events rearranged), read through the client's limit
//!   guard as a live trial reads them: a valid stream must decode the same however it is
//!   split, nothing may panic, and the heap one input takes must stay within
//!   [`HEAP_PER_BYTE`] times its size plus [`HEAP_SLACK`].
//!
//! Any failing input is minimised and kept under `harness/tests/fuzz-regressions/<target>/`,
//! where `cargo test` replays it forever after. It prints inputs per second and the failures
//! found, and exits 1 if there were any.

use std::alloc::{GlobalAlloc, Layout, System};
use std::collections::BTreeSet;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use provcheck::dialect::DialectKind;
use provcheck::fuzz::Rng;
use provcheck::fuzz::stream::{self, Input};
use provcheck::record::Recording;
use provcheck::suite::load::{Known, load_suite};

/// Heap one stream input may take per byte of its body, over what was in use before it.
/// Measured: under 40 for the worst inputs (thousands of tiny events, each a frame, a
/// parsed JSON value and a raw copy); a decoder that held a body twice over, or grew with
/// anything but its input, would pass it.
const HEAP_PER_BYTE: usize = 64;
/// Heap any stream input may take besides [`HEAP_PER_BYTE`]: the reply, the runtime's
/// buffers.
const HEAP_SLACK: usize = 1 << 20;

/// Counts the heap in use and its peak, so the driver can bound what one input takes.
struct Counting;

static IN_USE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

fn grew(by: usize) {
    let now = IN_USE.fetch_add(by, Ordering::Relaxed) + by;
    PEAK.fetch_max(now, Ordering::Relaxed);
}

// SAFETY: every call is passed to the system allocator unchanged; only counters are added.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller's contract for `layout` is the system allocator's.
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            grew(layout.size());
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from `alloc` above with this `layout`.
        unsafe { System.dealloc(ptr, layout) };
        IN_USE.fetch_sub(layout.size(), Ordering::Relaxed);
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: as for `alloc` and `dealloc`.
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            IN_USE.fetch_sub(layout.size(), Ordering::Relaxed);
            grew(new_size);
        }
        p
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

/// Tokens that steer mutations into YAML's grammar rather than random bytes only.
const TOKENS: &[&str] = &[
    "&a ",
    "*a",
    "[",
    "]",
    "{",
    "}",
    ": ",
    "- ",
    "\n",
    "  ",
    "\"",
    "'",
    "|",
    "|-\n",
    ">",
    "!!str ",
    "!x ",
    "~",
    "<<: *a",
    "#",
    "\t",
    "\0",
    "\u{feff}",
    "---\n",
    "...\n",
    "? ",
    ",",
    "\\u0000",
    "1e999",
    "-0x",
    "0o7",
    ".inf",
    "\u{e9}",
    "\r\n",
    "%YAML 1.2\n",
];

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let get = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .cloned()
    };
    let target = get("--target").unwrap_or_else(|| usage());
    let iterations: u64 =
        get("--iterations").map_or(10_000, |s| s.parse().unwrap_or_else(|_| usage()));
    let seed: u64 = get("--seed").map_or(1, |s| s.parse().unwrap_or_else(|_| usage()));
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let keep = root.join("harness/tests/fuzz-regressions").join(&target);
    std::panic::set_hook(Box::new(|_| {}));
    let mut run = Run {
        target: target.clone(),
        seed,
        rng: Rng::new(seed),
        keep,
        started: Instant::now(),
        last_note: Instant::now(),
        failures: 0,
    };
    let extra = match stream::DIALECTS
        .into_iter()
        .find(|d| stream::target_name(*d) == target)
    {
        Some(dialect) => fuzz_stream(&mut run, dialect, iterations),
        None => fuzz_yaml(&mut run, &root, iterations),
    };
    let secs = run.started.elapsed().as_secs_f64();
    println!(
        "{target}: {iterations} inputs in {secs:.1} s = {:.0} inputs/s, seed {seed}, {} failures{extra}",
        iterations as f64 / secs,
        run.failures
    );
    std::process::exit(i32::from(run.failures > 0));
}

/// One run of one target: what it needs to keep failures and report progress.
struct Run {
    target: String,
    seed: u64,
    rng: Rng,
    keep: PathBuf,
    started: Instant,
    last_note: Instant,
    failures: u64,
}

impl Run {
    /// Keeps a failing input and says so.
    fn kept(&mut self, i: u64, ext: &str, bytes: &[u8], why: &str) {
        self.failures += 1;
        let name = format!("seed{}-{i}.{ext}", self.seed);
        std::fs::create_dir_all(&self.keep).ok();
        std::fs::write(self.keep.join(&name), bytes).ok();
        eprintln!(
            "input {i} failed ({why}); kept as {}",
            self.keep.join(name).display()
        );
    }

    /// A progress line once a minute, so a long run shows how far it got.
    fn progress(&mut self, done: u64) {
        if self.last_note.elapsed().as_secs() >= 60 {
            self.last_note = Instant::now();
            let secs = self.started.elapsed().as_secs_f64();
            println!(
                "{}: {done} inputs so far in {secs:.0} s = {:.0} inputs/s, {} failures",
                self.target,
                done as f64 / secs,
                self.failures
            );
        }
    }
}

/// The YAML readers: mutated shipped files through the real loader.
fn fuzz_yaml(run: &mut Run, root: &Path, iterations: u64) -> String {
    let seeds = seed_files(root, &run.target);
    if seeds.is_empty() {
        usage();
    }
    let tmp = std::env::temp_dir().join(format!("provcheck-fuzz-{}", std::process::id()));
    // Recordings are refused outside fixtures/<target>/<suite>/: keep that shape.
    let input = tmp.join("fixtures/t/s/input.yaml");
    std::fs::create_dir_all(input.parent().unwrap()).expect("a temporary directory");
    let target = run.target.clone();
    for i in 0..iterations {
        let text = mutate(&mut run.rng, &seeds);
        if panics_on(&target, &input, &text) {
            let small = minimise(&target, &input, text);
            run.kept(i, "yaml", &small, "panic");
        }
        if i % 1024 == 0 {
            run.progress(i);
        }
    }
    let _ = std::fs::remove_dir_all(&tmp);
    String::new()
}

/// A stream decoder: generated inputs through [`stream::check`], with the heap measured.
fn fuzz_stream(run: &mut Run, dialect: DialectKind, iterations: u64) -> String {
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a runtime");
    let mut most = (0usize, 0usize);
    for i in 0..iterations {
        let input = stream::generate(&mut run.rng, dialect);
        match stream_fails(&rt, &input) {
            Ok(took) => {
                if took * most.1.max(1) > most.0 * input.body.len().max(1) {
                    most = (took, input.body.len().max(1));
                }
            }
            Err(why) => {
                let small = minimise_stream(&rt, input);
                run.kept(i, "stream", &small.to_file(), &why);
            }
        }
        if i % 1024 == 0 {
            run.progress(i);
        }
    }
    format!(
        "; most heap per body byte {:.1} ({} bytes for a {}-byte body)",
        most.0 as f64 / most.1 as f64,
        most.0,
        most.1
    )
}

/// The heap `input` took, or why it failed: a panic (its message) or too much heap.
fn stream_fails(rt: &tokio::runtime::Runtime, input: &Input) -> Result<usize, String> {
    let before = IN_USE.load(Ordering::Relaxed);
    PEAK.store(before, Ordering::Relaxed);
    let checked = catch_unwind(AssertUnwindSafe(|| stream::check(rt, input)));
    let took = PEAK.load(Ordering::Relaxed).saturating_sub(before);
    if let Err(payload) = checked {
        let msg = payload
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| payload.downcast_ref::<&str>().map(|s| (*s).to_string()))
            .unwrap_or_default();
        return Err(format!("panic: {msg}"));
    }
    let bound = HEAP_PER_BYTE * input.body.len() + HEAP_SLACK;
    if took > bound {
        return Err(format!(
            "{took} bytes of heap for a {}-byte body",
            input.body.len()
        ));
    }
    Ok(took)
}

/// Shrinks a failing stream input: its body (unless the failure is a valid stream decoding
/// differently, which depends on the whole body), then its split points.
fn minimise_stream(rt: &tokio::runtime::Runtime, mut input: Input) -> Input {
    let fails = |i: &Input| stream_fails(rt, i).is_err();
    if !input.invariant {
        let mut chunk = input.body.len() / 2;
        while chunk > 0 {
            let mut at = 0;
            while at < input.body.len() {
                let mut shorter = input.clone();
                shorter.body.drain(at..(at + chunk).min(input.body.len()));
                shorter.splits.retain(|&p| p < shorter.body.len());
                if fails(&shorter) {
                    input = shorter;
                } else {
                    at += chunk;
                }
            }
            chunk /= 2;
        }
    }
    let mut k = 0;
    while k < input.splits.len() {
        let mut fewer = input.clone();
        fewer.splits.remove(k);
        if fails(&fewer) {
            input = fewer;
        } else {
            k += 1;
        }
    }
    input
}

fn usage() -> ! {
    eprintln!(
        "usage: provcheck-fuzz --target suite|recording|targets|stream-openai|stream-anthropic|stream-ollama|stream-openai-responses [--iterations N] [--seed S]"
    );
    std::process::exit(2);
}

/// The shipped files of the target's kind.
fn seed_files(root: &Path, target: &str) -> Vec<Vec<u8>> {
    let mut paths = Vec::new();
    match target {
        "suite" => walk(&root.join("suites"), &mut paths),
        "recording" => walk(&root.join("fixtures"), &mut paths),
        "targets" => paths.push(root.join("targets.yaml")),
        _ => usage(),
    }
    paths.sort();
    paths.iter().filter_map(|p| std::fs::read(p).ok()).collect()
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        if p.is_dir() {
            walk(&p, out);
        } else if p.extension().is_some_and(|x| x == "yaml") {
            out.push(p);
        }
    }
}

/// Feeds `text` to the loader of `target`; true when it panicked.
fn panics_on(target: &str, input: &Path, text: &[u8]) -> bool {
    if std::fs::write(input, text).is_err() {
        return false;
    }
    catch_unwind(AssertUnwindSafe(|| load(target, input))).is_err()
}

/// The loader a fuzz target exercises; `cargo test` calls the same through the regressions.
fn load(target: &str, path: &Path) {
    match target {
        "suite" => {
            let known = Known {
                aliases: ["small", "tools", "second"].map(String::from).into(),
                targets: BTreeSet::from(["openai".to_string()]),
            };
            let _ = load_suite(path, &known);
        }
        "recording" => {
            let _ = Recording::load(path);
        }
        _ => {
            let _ = provcheck::target::load(path, None);
        }
    }
}

/// Shrinks a panicking input: drops chunks, halving their size, while it still panics.
fn minimise(target: &str, input: &Path, mut text: Vec<u8>) -> Vec<u8> {
    let mut chunk = text.len() / 2;
    while chunk > 0 {
        let mut at = 0;
        while at < text.len() {
            let mut shorter = text.clone();
            shorter.drain(at..(at + chunk).min(text.len()));
            if panics_on(target, input, &shorter) {
                text = shorter;
            } else {
                at += chunk;
            }
        }
        chunk /= 2;
    }
    text
}

/// One to four mutations of one seed file.
fn mutate(rng: &mut Rng, seeds: &[Vec<u8>]) -> Vec<u8> {
    let mut t = seeds[rng.below(seeds.len())].clone();
    for _ in 0..1 + rng.below(4) {
        let at = rng.below(t.len() + 1);
        match rng.below(6) {
            0 if !t.is_empty() => {
                let i = rng.below(t.len());
                t[i] ^= 1 << rng.below(8);
            }
            1 => {
                let tok = TOKENS[rng.below(TOKENS.len())].as_bytes();
                t.splice(at..at, tok.iter().copied());
            }
            2 => {
                let end = (at + rng.below(64)).min(t.len());
                t.drain(at..end);
            }
            3 => {
                let end = (at + rng.below(256)).min(t.len());
                let copy = t[at..end].to_vec();
                let to = rng.below(t.len() + 1);
                t.splice(to..to, copy);
            }
            4 => {
                let other = &seeds[rng.below(seeds.len())];
                let from = rng.below(other.len() + 1);
                let end = (from + rng.below(512)).min(other.len());
                t.splice(at..at, other[from..end].iter().copied());
            }
            _ => t.truncate(at),
        }
    }
    t
}

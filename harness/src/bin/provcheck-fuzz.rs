//! `provcheck-fuzz`: a fuzz driver on stable Rust for the readers of files other people write.
//!
//! `cargo run --release --bin provcheck-fuzz -- --target suite|recording|targets
//! --iterations N --seed S` mutates the shipped suites, recordings and targets.yaml (byte
//! flips, YAML tokens inserted, ranges deleted, duplicated or spliced from another file, cuts)
//! and feeds each result to the real loader. A loader must return a value or a diagnostic:
//! any panic is caught, the input minimised and kept under
//! `harness/tests/fuzz-regressions/<target>/`, where `cargo test` replays it forever after.
//! It prints inputs per second and the panics found, and exits 1 if there were any.

use std::collections::BTreeSet;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::time::Instant;

use provcheck::record::Recording;
use provcheck::suite::load::{Known, load_suite};

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
    let seeds = seed_files(&root, &target);
    if seeds.is_empty() {
        usage();
    }
    let keep = root.join("harness/tests/fuzz-regressions").join(&target);
    let tmp = std::env::temp_dir().join(format!("provcheck-fuzz-{}", std::process::id()));
    // Recordings are refused outside fixtures/<target>/<suite>/: keep that shape.
    let input = tmp.join("fixtures/t/s/input.yaml");
    std::fs::create_dir_all(input.parent().unwrap()).expect("a temporary directory");
    std::panic::set_hook(Box::new(|_| {}));
    let mut rng = Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1);
    let started = Instant::now();
    let mut panics = 0;
    for i in 0..iterations {
        let text = mutate(&mut rng, &seeds);
        if panics_on(&target, &input, &text) {
            panics += 1;
            let small = minimise(&target, &input, text);
            let name = format!("seed{seed}-{i}.yaml");
            std::fs::create_dir_all(&keep).ok();
            std::fs::write(keep.join(&name), &small).ok();
            eprintln!("panic on input {i}; kept as {}", keep.join(name).display());
        }
    }
    let secs = started.elapsed().as_secs_f64();
    let _ = std::fs::remove_dir_all(&tmp);
    println!(
        "{target}: {iterations} inputs in {secs:.1} s = {:.0} inputs/s, seed {seed}, {panics} panics",
        iterations as f64 / secs
    );
    std::process::exit(i32::from(panics > 0));
}

fn usage() -> ! {
    eprintln!("usage: provcheck-fuzz --target suite|recording|targets [--iterations N] [--seed S]");
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

/// xorshift64*: reproducible from the seed, no dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
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

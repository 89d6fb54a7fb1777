//! Keeps docs/SUITES.md true: every fenced `yaml` block in it is a complete file, loaded here
//! through the real loaders, and the examples together must use every key the formats accept.
//!
//! A `yaml` block's first line says what it is:
//! - `# suite`, `# targets`, `# recording`: must load;
//! - `# suite: invalid` (also `# targets: invalid`, `# recording: invalid`): must be rejected.
//!   When the next fenced block is a `console` block, it must show every rendered diagnostic
//!   (the file written as `broken.yaml`) and the closing `error: N problem(s) found` line;
//! - `# recording: fixtures/<target>/<suite>/<scenario>.yaml`: must load, and the trial
//!   `<suite>::<scenario>::<target>` of the doc's suite example must pass replaying it.
//!
//! Anything that is not a loadable file uses another info string (`text`, `console`).
//!
//! The keys a format accepts are read from the loaders themselves (the "expected one of" list of
//! an unknown-key error), so a key added to the code without an example here fails this test.
//! Each nested block type is probed on its own (see `accepted_keys`): a new nested type is
//! caught as a new key of its parent, and its own keys once it is added to that list.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use provcheck::expect::spec::{
    ArgumentExpect, Bounds, ConcurrentExpect, ErrorExpect, ErrorKind, Expect, JsonExpect,
    ModelExpect, ModelsExpect, RawExpect, StreamExpect, TextExpect, ToolCallsExpect, UsageExpect,
};
use provcheck::record::Recording;
use provcheck::record::format::{
    Exchange, Provenance, RecordedEvent, RecordedRequest, RecordedResponse, RecordedStream,
    RecordingFile, Source, StreamEndSpec, StreamFormat,
};
use provcheck::suite::Diagnostic;
use provcheck::suite::load::{Known, load_suite};
use provcheck::suite::model::{
    Capability, FormatSpec, MessageSpec, Op, Priority, RequestSpec, Scenario, Step, SuiteFile,
};
use provcheck::suite::tools::{ToolCallSpec, ToolResultSpec, ToolSpec};
use serde::de::DeserializeOwned;
use serde_json::Value;

const DOC: &str = "docs/SUITES.md";

fn doc_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(DOC)
}

/// A fenced block of the document.
struct Block {
    /// 1-based line of the opening fence; the block's line `n` is the document's `fence + n`.
    fence: usize,
    /// The info string's first word (`yaml`, `console`, ...).
    info: String,
    /// The lines between the fences.
    text: String,
}

fn blocks(doc: &str) -> Vec<Block> {
    let mut out = Vec::new();
    let mut open: Option<(usize, String, Vec<&str>)> = None;
    for (i, line) in doc.lines().enumerate() {
        let n = i + 1;
        match &mut open {
            None => {
                if let Some(info) = line.strip_prefix("```") {
                    let info = info.split_whitespace().next().unwrap_or("").to_string();
                    open = Some((n, info, Vec::new()));
                }
            }
            Some((fence, info, lines)) => {
                if line.trim_end() == "```" {
                    let mut text = lines.join("\n");
                    text.push('\n');
                    out.push(Block {
                        fence: *fence,
                        info: std::mem::take(info),
                        text,
                    });
                    open = None;
                } else {
                    lines.push(line);
                }
            }
        }
    }
    if let Some((fence, ..)) = open {
        panic!("{DOC}:{fence}: this fenced block is never closed");
    }
    out
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Suite,
    Targets,
    Recording,
}

/// What a `yaml` block's first line declares.
struct Kind {
    format: Format,
    invalid: bool,
    /// `fixtures/<target>/<suite>/<scenario>.yaml` for recordings that must replay.
    replay: Option<String>,
}

fn kind(first_line: &str) -> Result<Kind, String> {
    let rest = first_line
        .strip_prefix("# ")
        .ok_or("the first line must be `# suite`, `# targets` or `# recording`")?;
    let (name, arg) = match rest.split_once(':') {
        Some((n, a)) => (n.trim(), Some(a.trim())),
        None => (rest.trim(), None),
    };
    let format = match name {
        "suite" => Format::Suite,
        "targets" => Format::Targets,
        "recording" => Format::Recording,
        other => return Err(format!("unknown kind `{other}` in `{first_line}`")),
    };
    match arg {
        None => Ok(Kind {
            format,
            invalid: false,
            replay: None,
        }),
        Some("invalid") => Ok(Kind {
            format,
            invalid: true,
            replay: None,
        }),
        Some(p) if format == Format::Recording && p.starts_with("fixtures/") => Ok(Kind {
            format,
            invalid: false,
            replay: Some(p.to_string()),
        }),
        Some(other) => Err(format!("unknown marker `{other}` in `{first_line}`")),
    }
}

/// Every `yaml` block with its declared kind.
fn yaml_blocks(all: &[Block], failures: &mut Vec<String>) -> Vec<(usize, Kind)> {
    let mut out = Vec::new();
    for (i, b) in all.iter().enumerate() {
        if b.info != "yaml" {
            continue;
        }
        match kind(b.text.lines().next().unwrap_or("")) {
            Ok(k) => out.push((i, k)),
            Err(e) => failures.push(format!("{DOC}:{}: {e}", b.fence + 1)),
        }
    }
    out
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    if let Some(parent) = p.parent() {
        std::fs::create_dir_all(parent).unwrap();
    }
    std::fs::write(&p, text).unwrap();
    p
}

/// Renders diagnostics for a failure message, with the document line of each.
fn explain(block: &Block, diags: &[Diagnostic]) -> String {
    diags
        .iter()
        .map(|d| {
            format!(
                "(block line {} is {DOC}:{})\n{}",
                d.location.line,
                block.fence + d.location.line as usize,
                d.render(false)
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Loads a block of the given format.
fn load(format: Format, path: &Path, known: &Known) -> Result<(), Vec<Diagnostic>> {
    match format {
        Format::Suite => load_suite(path, known).map(drop),
        Format::Targets => provcheck::target::load(path, None).map(drop),
        Format::Recording => Recording::load(path).map(drop).map_err(|d| vec![d]),
    }
}

/// The names suites may use: the built-in targets and those of the document's targets examples.
fn known_from(all: &[Block], kinds: &[(usize, Kind)], failures: &mut Vec<String>) -> Known {
    let dir = tempfile::tempdir().unwrap();
    let mut known = Known::default();
    let mut add = |ts: &[std::sync::Arc<provcheck::target::Target>]| {
        for t in ts {
            known.aliases.extend(t.models.keys().cloned());
            known.targets.insert(t.name.clone());
        }
    };
    add(&provcheck::target::load(&dir.path().join("none.yaml"), None).unwrap());
    for (i, k) in kinds {
        if k.format != Format::Targets || k.invalid {
            continue;
        }
        let b = &all[*i];
        let p = write(dir.path(), "targets.yaml", &b.text);
        match provcheck::target::load(&p, None) {
            Ok(ts) => add(&ts),
            Err(d) => failures.push(format!(
                "{DOC}:{}: the targets example does not load:\n{}",
                b.fence + 1,
                explain(b, &d)
            )),
        }
    }
    known
}

/// Loads every example; returns the texts of the valid ones by format.
fn check_examples(
    all: &[Block],
    kinds: &[(usize, Kind)],
    known: &Known,
    failures: &mut Vec<String>,
) -> BTreeMap<&'static str, Vec<String>> {
    let mut loaded: BTreeMap<&'static str, Vec<String>> = BTreeMap::new();
    for (i, k) in kinds {
        let b = &all[*i];
        let dir = tempfile::tempdir().unwrap();
        let name = if k.invalid {
            "broken.yaml"
        } else {
            "example.yaml"
        };
        let path = write(dir.path(), name, &b.text);
        let what = match k.format {
            Format::Suite => "suite",
            Format::Targets => "targets",
            Format::Recording => "recording",
        };
        match (load(k.format, &path, known), k.invalid) {
            (Ok(()), false) => loaded.entry(what).or_default().push(b.text.clone()),
            (Err(d), false) => failures.push(format!(
                "{DOC}:{}: the {what} example does not load:\n{}",
                b.fence + 1,
                explain(b, &d)
            )),
            (Ok(()), true) => failures.push(format!(
                "{DOC}:{}: the {what} example is marked invalid but loads",
                b.fence + 1
            )),
            (Err(d), true) => {
                if let Some(console) = all.get(i + 1).filter(|c| c.info == "console") {
                    let prefix = format!("{}{}", dir.path().display(), std::path::MAIN_SEPARATOR);
                    check_console(b, console, &d, &prefix, failures);
                }
            }
        }
    }
    loaded
}

/// The `console` block after an invalid example must show what `lint` prints for it.
fn check_console(
    block: &Block,
    console: &Block,
    diags: &[Diagnostic],
    prefix: &str,
    failures: &mut Vec<String>,
) {
    for d in diags {
        let rendered = d.render(false).replace(prefix, "");
        if !console.text.contains(&rendered) {
            failures.push(format!(
                "{DOC}:{}: the console block after the invalid example at line {} does not show this diagnostic:\n{rendered}",
                console.fence + 1,
                block.fence + 1
            ));
        }
    }
    let n = diags.len();
    let summary = format!(
        "error: {n} problem{} found; nothing was run",
        if n == 1 { "" } else { "s" }
    );
    if !console.text.contains(&summary) {
        failures.push(format!(
            "{DOC}:{}: the console block should end with `{summary}`",
            console.fence + 1
        ));
    }
}

#[test]
fn every_yaml_example_loads() {
    let doc = std::fs::read_to_string(doc_path()).expect("read docs/SUITES.md");
    let all = blocks(&doc);
    let mut failures = Vec::new();
    let kinds = yaml_blocks(&all, &mut failures);
    let known = known_from(&all, &kinds, &mut failures);
    let loaded = check_examples(&all, &kinds, &known, &mut failures);
    for format in ["suite", "targets", "recording"] {
        if !loaded.contains_key(format) {
            failures.push(format!("{DOC} has no loadable `# {format}` example"));
        }
    }
    check_key_coverage(&loaded, &mut failures);
    check_value_coverage(&doc, &mut failures);
    assert!(
        failures.is_empty(),
        "{} problem(s) in the examples of {DOC}:\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}

// ---- coverage of keys -------------------------------------------------------------------------

/// The names listed after "expected" in a serde error (`expected one of `a`, `b``, `expected
/// `a` or `b``, `expected `a``).
fn expected_names(message: &str) -> Vec<String> {
    let Some(i) = message.find("expected") else {
        return Vec::new();
    };
    message[i..]
        .split('`')
        .skip(1)
        .step_by(2)
        .map(str::to_string)
        .collect()
}

/// The keys (or values) `T` accepts, read from the error for an unknown one.
fn accepted<T: DeserializeOwned>(probe: &str) -> Vec<String> {
    let err = match crate::common::yaml_from_str::<T>(probe) {
        Ok(_) => panic!("probe {probe:?} unexpectedly deserialized"),
        Err(e) => e.to_string(),
    };
    let names = expected_names(&err);
    assert!(
        err.contains("zzz_probe") && !names.is_empty(),
        "cannot read the accepted names from {err:?}"
    );
    names
}

/// The keys `targets.yaml` accepts at `probe`'s position.
fn accepted_by_targets(probe: &str) -> Vec<String> {
    let dir = tempfile::tempdir().unwrap();
    let p = write(dir.path(), "targets.yaml", probe);
    let err = match provcheck::target::load(&p, None) {
        Ok(_) => panic!("targets probe {probe:?} unexpectedly loaded"),
        Err(d) => d[0].message.clone(),
    };
    let names = expected_names(&err);
    assert!(
        err.contains("zzz_probe") && !names.is_empty(),
        "cannot read the accepted names from {err:?}"
    );
    names
}

/// Every key each part of each format accepts, according to the code.
fn accepted_keys() -> BTreeMap<&'static str, Vec<String>> {
    let key = "zzz_probe: 1";
    BTreeMap::from([
        ("suite", accepted::<SuiteFile>(key)),
        ("scenario", accepted::<Scenario>(key)),
        ("step", accepted::<Step>(key)),
        ("request", accepted::<RequestSpec>(key)),
        ("message", accepted::<MessageSpec>(key)),
        ("request.tools[]", accepted::<ToolSpec>(key)),
        ("message.tool_calls[]", accepted::<ToolCallSpec>(key)),
        ("message.tool_result", accepted::<ToolResultSpec>(key)),
        ("expect.tool_calls", accepted::<ToolCallsExpect>(key)),
        (
            "expect.tool_calls.arguments[]",
            accepted::<ArgumentExpect>(key),
        ),
        (
            "response_format.json_schema",
            accepted::<FormatSpec>("json_schema: {zzz_probe: 1}"),
        ),
        ("expect", accepted::<Expect>(key)),
        ("expect.text", accepted::<TextExpect>(key)),
        ("expect.json", accepted::<JsonExpect>(key)),
        ("expect.usage", accepted::<UsageExpect>(key)),
        ("bounds ({min, max})", accepted::<Bounds>(key)),
        ("expect.error", accepted::<ErrorExpect>(key)),
        ("expect.raw[]", accepted::<RawExpect>(key)),
        ("expect.concurrent", accepted::<ConcurrentExpect>(key)),
        ("expect.model", accepted::<ModelExpect>(key)),
        ("expect.stream", accepted::<StreamExpect>(key)),
        ("expect.models", accepted::<ModelsExpect>(key)),
        ("recording", accepted::<RecordingFile>(key)),
        ("provenance", accepted::<Provenance>(key)),
        ("exchange", accepted::<Exchange>(key)),
        ("exchange.request", accepted::<RecordedRequest>(key)),
        ("exchange.response", accepted::<RecordedResponse>(key)),
        ("exchange.response.stream", accepted::<RecordedStream>(key)),
        (
            "exchange.response.stream.events[]",
            accepted::<RecordedEvent>(key),
        ),
        ("targets file", accepted_by_targets("zzz_probe: 1\n")),
        (
            "redact",
            accepted::<provcheck::record::redact::RedactSpec>(key),
        ),
        (
            "target",
            accepted_by_targets("targets:\n  mine:\n    zzz_probe: 1\n"),
        ),
    ])
}

type Used = BTreeMap<&'static str, BTreeSet<String>>;

fn note_keys(used: &mut Used, part: &'static str, v: &Value) {
    if let Some(m) = v.as_object() {
        used.entry(part).or_default().extend(m.keys().cloned());
    }
}

fn items(v: Option<&Value>) -> impl Iterator<Item = &Value> {
    v.and_then(Value::as_array).into_iter().flatten()
}

fn values(v: Option<&Value>) -> impl Iterator<Item = &Value> {
    v.and_then(Value::as_object)
        .into_iter()
        .flat_map(|m| m.values())
}

fn walk_request(used: &mut Used, r: &Value) {
    note_keys(used, "request", r);
    for m in items(r.get("messages")) {
        note_keys(used, "message", m);
        for c in items(m.get("tool_calls")) {
            note_keys(used, "message.tool_calls[]", c);
        }
        if let Some(t) = m.get("tool_result") {
            note_keys(used, "message.tool_result", t);
        }
    }
    for t in items(r.get("tools")) {
        note_keys(used, "request.tools[]", t);
    }
    if let Some(s) = r.get("response_format").and_then(|f| f.get("json_schema")) {
        note_keys(used, "response_format.json_schema", s);
    }
}

fn walk_expect(used: &mut Used, e: &Value) {
    note_keys(used, "expect", e);
    let parts = [
        ("text", "expect.text"),
        ("json", "expect.json"),
        ("usage", "expect.usage"),
        ("error", "expect.error"),
        ("concurrent", "expect.concurrent"),
        ("model", "expect.model"),
        ("stream", "expect.stream"),
        ("models", "expect.models"),
        ("tool_calls", "expect.tool_calls"),
    ];
    for (k, part) in parts {
        if let Some(v) = e.get(k) {
            note_keys(used, part, v);
        }
    }
    let bounds = [
        e.get("elapsed_ms"),
        e.pointer("/usage/input_tokens"),
        e.pointer("/usage/output_tokens"),
        e.pointer("/stream/events"),
        e.pointer("/stream/time_to_first_token_ms"),
        e.pointer("/stream/max_gap_ms"),
        e.pointer("/tool_calls/count"),
    ];
    for b in bounds.into_iter().flatten() {
        note_keys(used, "bounds ({min, max})", b);
    }
    for r in items(e.get("raw")) {
        note_keys(used, "expect.raw[]", r);
    }
    for a in items(e.pointer("/tool_calls/arguments")) {
        note_keys(used, "expect.tool_calls.arguments[]", a);
    }
}

fn walk_suite(used: &mut Used, s: &Value) {
    note_keys(used, "suite", s);
    for sc in items(s.get("scenarios")) {
        note_keys(used, "scenario", sc);
        if let Some(r) = sc.get("request") {
            walk_request(used, r);
        }
        if let Some(e) = sc.get("expect") {
            walk_expect(used, e);
        }
        for e in values(sc.get("overrides")) {
            walk_expect(used, e);
        }
        for step in items(sc.get("steps")) {
            note_keys(used, "step", step);
            if let Some(r) = step.get("request") {
                walk_request(used, r);
            }
            if let Some(e) = step.get("expect") {
                walk_expect(used, e);
            }
            for e in values(step.get("overrides")) {
                walk_expect(used, e);
            }
        }
    }
}

fn walk_recording(used: &mut Used, r: &Value) {
    note_keys(used, "recording", r);
    if let Some(p) = r.get("provenance") {
        note_keys(used, "provenance", p);
    }
    for ex in items(r.get("exchanges")) {
        note_keys(used, "exchange", ex);
        if let Some(q) = ex.get("request") {
            note_keys(used, "exchange.request", q);
        }
        if let Some(a) = ex.get("response") {
            note_keys(used, "exchange.response", a);
            if let Some(st) = a.get("stream") {
                note_keys(used, "exchange.response.stream", st);
                for e in items(st.get("events")) {
                    note_keys(used, "exchange.response.stream.events[]", e);
                }
            }
        }
    }
}

fn walk_targets(used: &mut Used, t: &Value) {
    note_keys(used, "targets file", t);
    if let Some(r) = t.get("redact") {
        note_keys(used, "redact", r);
    }
    for entry in values(t.get("targets")) {
        note_keys(used, "target", entry);
        if let Some(r) = entry.get("redact") {
            note_keys(used, "redact", r);
        }
    }
}

/// Every key the code accepts must appear in at least one loaded example.
fn check_key_coverage(loaded: &BTreeMap<&'static str, Vec<String>>, failures: &mut Vec<String>) {
    let mut used = Used::new();
    for (format, texts) in loaded {
        for text in texts {
            let v: Value = crate::common::yaml_from_str(text).expect("a loaded example is YAML");
            match *format {
                "suite" => walk_suite(&mut used, &v),
                "recording" => walk_recording(&mut used, &v),
                _ => walk_targets(&mut used, &v),
            }
        }
    }
    for (part, keys) in accepted_keys() {
        let seen = used.get(part).cloned().unwrap_or_default();
        let missing: Vec<&str> = keys
            .iter()
            .filter(|k| !seen.contains(*k))
            .map(String::as_str)
            .collect();
        if !missing.is_empty() {
            failures.push(format!(
                "{DOC}: no loaded example uses the {part} key(s) `{}`; document each with an example",
                missing.join("`, `")
            ));
        }
    }
}

/// Every value of the closed lists (priorities, capabilities, ...) must be named in the text.
fn check_value_coverage(doc: &str, failures: &mut Vec<String>) {
    let lists = [
        ("priority", accepted::<Priority>("zzz_probe")),
        ("capability", accepted::<Capability>("zzz_probe")),
        ("op", accepted::<Op>("zzz_probe")),
        (
            "dialect",
            accepted::<provcheck::dialect::DialectKind>("zzz_probe"),
        ),
        (
            "finish_reason",
            accepted::<provcheck::neutral::FinishReason>("zzz_probe"),
        ),
        ("error.kind", accepted::<ErrorKind>("zzz_probe")),
        ("provenance.source", accepted::<Source>("zzz_probe")),
        ("stream.format", accepted::<StreamFormat>("zzz_probe")),
        ("stream.end", accepted::<StreamEndSpec>("zzz_probe")),
        (
            "token_param",
            accepted::<provcheck::dialect::TokenParam>("zzz_probe"),
        ),
    ];
    for (what, names) in lists {
        for name in names {
            if !doc.contains(&format!("`{name}`")) {
                failures.push(format!(
                    "{DOC} never names the {what} value `{name}` (write it in backticks where it is explained)"
                ));
            }
        }
    }
}

// ---- recordings that must replay --------------------------------------------------------------

const BUILTIN_TARGETS: [&str; 3] = ["openai", "anthropic", "ollama"];

#[test]
fn marked_recordings_replay_against_their_suite_example() {
    let doc = std::fs::read_to_string(doc_path()).expect("read docs/SUITES.md");
    let all = blocks(&doc);
    let mut failures = Vec::new();
    let kinds = yaml_blocks(&all, &mut failures);
    let parse = |b: &Block| crate::common::yaml_from_str::<Value>(&b.text).unwrap_or(Value::Null);
    let mut replayed = 0;
    for (i, k) in &kinds {
        let Some(rel) = &k.replay else { continue };
        let b = &all[*i];
        let at = format!("{DOC}:{}", b.fence + 1);
        let parts: Vec<&str> = rel.split('/').collect();
        let [_, target, suite, file] = parts[..] else {
            failures.push(format!(
                "{at}: `{rel}` is not fixtures/<target>/<suite>/<scenario>.yaml"
            ));
            continue;
        };
        let Some(scenario) = file.strip_suffix(".yaml") else {
            failures.push(format!("{at}: `{rel}` must end in .yaml"));
            continue;
        };
        // The suite example that defines this scenario.
        let suites: Vec<&Block> = kinds
            .iter()
            .filter(|(_, k)| k.format == Format::Suite && !k.invalid)
            .map(|(j, _)| &all[*j])
            .filter(|s| {
                let v = parse(s);
                v["suite"] == suite && items(v.get("scenarios")).any(|sc| sc["id"] == scenario)
            })
            .collect();
        let [suite_block] = suites[..] else {
            failures.push(format!(
                "{at}: {} suite examples define {suite}::{scenario}; exactly one must",
                suites.len()
            ));
            continue;
        };
        // A target of the document's own targets example, when it is not built in.
        let targets_block = kinds
            .iter()
            .filter(|(_, k)| k.format == Format::Targets && !k.invalid)
            .map(|(j, _)| &all[*j])
            .find(|t| {
                !BUILTIN_TARGETS.contains(&target) && parse(t)["targets"].get(target).is_some()
            });
        let dir = tempfile::tempdir().unwrap();
        write(
            dir.path(),
            &format!("suites/{suite}.yaml"),
            &suite_block.text,
        );
        write(dir.path(), rel, &b.text);
        if let Some(t) = targets_block {
            write(dir.path(), "targets.yaml", &t.text);
        }
        let trial = format!("{suite}::{scenario}::{target}");
        let out = crate::common::command(dir.path())
            .args(["--suite", &format!("suites/{suite}.yaml")])
            .args(["--target", target, "--no-reports", "--exact", &trial])
            .output()
            .expect("run provcheck");
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        if !out.status.success() || !stdout.contains("1 passed") {
            failures.push(format!(
                "{at}: replaying this recording, {trial} (suite example at {DOC}:{}) does not pass:\n{stdout}\n{stderr}",
                suite_block.fence + 1
            ));
        }
        replayed += 1;
    }
    if replayed == 0 {
        failures.push(format!(
            "{DOC} has no `# recording: fixtures/...` example that replays its suite example"
        ));
    }
    assert!(
        failures.is_empty(),
        "{} problem(s) replaying the examples of {DOC}:\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}

//! Every shipped suite, live, against the in-tree conformant reference provider
//! (`provcheck::reference`) in all four dialects: the trials that fail are exactly those listed
//! in `tools/reference-live/known-failures.txt` (a ratchet that may only shrink), contract
//! failures and behaviour-only misses apart, and a broken variant of the provider makes the
//! scenarios that judge its broken rule fail.

use std::collections::BTreeSet;

use provcheck::reference::{Broken, Config, ReferenceProvider};

use crate::common::{provcheck, root, text};

/// A targets.yaml with one target per dialect on `server`.
fn targets(server: &ReferenceProvider, dir: &std::path::Path) -> String {
    use provcheck::dialect::DialectKind::{Anthropic, Ollama, Openai, OpenaiResponses};
    // As the built-ins: every current Claude model takes images, so Anthropic has no text-only
    // model.
    let claude = "{ small: ref-small, second: ref-second, tools: ref-tools, absent: ref-absent, \
                  vision: ref-vision }";
    let models = "{ small: ref-small, second: ref-second, tools: ref-tools, absent: ref-absent, \
                  vision: ref-vision, text_only: ref-small }";
    let yaml = format!(
        "targets:\n\
         \x20 ref-openai:\n    dialect: openai\n    base_url: {}\n    models: {models}\n    \
         capabilities: [streaming, json_mode, json_schema, tools, parallel_tools, vision]\n\
         \x20 ref-anthropic:\n    dialect: anthropic\n    base_url: {}\n    models: {claude}\n    \
         capabilities: [streaming, json_schema, tools, parallel_tools, vision]\n\
         \x20 ref-ollama:\n    dialect: ollama\n    base_url: {}\n    models: {models}\n    \
         capabilities: [streaming, json_mode, json_schema, tools, parallel_tools, model_pull, model_management, vision]\n\
         \x20 ref-openai-responses:\n    dialect: openai-responses\n    base_url: {}\n    models: {models}\n    \
         capabilities: [streaming, json_mode, json_schema, tools, parallel_tools, vision]\n",
        server.base_url(Openai),
        server.base_url(Anthropic),
        server.base_url(Ollama),
        server.base_url(OpenaiResponses)
    );
    let path = dir.join("targets.yaml");
    std::fs::write(&path, yaml).unwrap();
    path.to_string_lossy().into_owned()
}

/// Runs the shipped suites live against a provider set up by `cfg`; the failed trials.
fn failed_trials(cfg: Config, filter: Option<&str>) -> BTreeSet<String> {
    run_live(cfg, filter, &[]).0
}

/// Runs the shipped suites live with `extra` arguments: the failed trials, and the trials that
/// passed with behaviour warnings (under `--behaviour warn`).
fn run_live(
    cfg: Config,
    filter: Option<&str>,
    extra: &[&str],
) -> (BTreeSet<String>, BTreeSet<String>) {
    let server = ReferenceProvider::start(cfg).expect("reference provider");
    let dir = tempfile::tempdir().unwrap();
    let targets = targets(&server, dir.path());
    let mut args = vec![
        "--mode",
        "live",
        "--targets",
        &targets,
        "--no-reports",
        "--target",
        "ref-openai",
        "--target",
        "ref-anthropic",
        "--target",
        "ref-ollama",
        "--target",
        "ref-openai-responses",
        // One trial at a time: keep_alive_zero_unloads races trials that load the same model.
        "--live-concurrency",
        "1",
    ];
    args.extend(extra);
    args.extend(filter);
    let out = provcheck(&args);
    let (stdout, stderr) = text(&out);
    assert!(
        stdout.contains("test result:"),
        "no run:\n{stdout}\n{stderr}"
    );
    let failed = stdout
        .lines()
        .filter_map(|l| l.strip_prefix("test ")?.strip_suffix(" ... FAILED"))
        .map(|name| name.trim_end().to_string())
        .collect();
    let warned = stdout
        .lines()
        .filter_map(|l| l.strip_prefix("  WARN  ")?.split_once(": "))
        .map(|(name, _)| name.to_string())
        .collect();
    (failed, warned)
}

/// The known failures of one kind: the entries under its `[contract]` or `[behaviour]` header.
fn known(kind: &str) -> BTreeSet<String> {
    let path = root().join("tools/reference-live/known-failures.txt");
    let mut section = String::new();
    let mut out = BTreeSet::new();
    for l in std::fs::read_to_string(&path).unwrap().lines() {
        if l.is_empty() || l.starts_with('#') {
            continue;
        }
        if let Some(h) = l.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            section = h.to_string();
        } else if section == kind {
            out.insert(l.to_string());
        }
    }
    out
}

/// Under `--behaviour warn`, the trials that fail broke the contract, and those that pass with
/// warnings missed only behaviour expectations: each set must be exactly its known list.
#[test]
fn the_conformant_provider_fails_only_the_known_trials() {
    let (contract, behaviour) = run_live(Config::default(), None, &["--behaviour", "warn"]);
    for (kind, got) in [("contract", contract), ("behaviour", behaviour)] {
        let known = known(kind);
        let new: Vec<&String> = got.difference(&known).collect();
        let fixed: Vec<&String> = known.difference(&got).collect();
        assert!(
            new.is_empty() && fixed.is_empty(),
            "live against the reference provider, these trials now miss {kind} expectations: \
             {new:?}; these no longer do (remove them from [{kind}] in \
             tools/reference-live/known-failures.txt): {fixed:?}"
        );
    }
}

#[test]
fn each_broken_variant_fails_the_scenario_that_judges_it() {
    let cases = [
        (Broken::FinishOnCut, "limits::max_tokens_enforced"),
        (Broken::UsageOverLimit, "limits::max_tokens_enforced"),
        (Broken::StreamNoTerminal, "streaming::stream_max_tokens"),
        (Broken::StreamOutOfOrder, "streaming::stream_max_tokens"),
        (Broken::ToolArgsInvalid, "tools::single_tool_call"),
        (
            Broken::JsonModeProse,
            "structured-output::json_schema_object",
        ),
        (Broken::MissingFields, "model-switching::switch_models"),
        (Broken::WrongModel, "model-switching::switch_models"),
    ];
    for (knob, scenario) in cases {
        let cfg = Config {
            broken: [knob].into(),
            ..Config::default()
        };
        let failed = failed_trials(cfg, Some(scenario));
        for target in ["ref-openai", "ref-anthropic", "ref-ollama"] {
            let trial = format!("{scenario}::{target}");
            assert!(
                failed.contains(&trial),
                "{knob:?}: {trial} passed; failed: {failed:?}"
            );
        }
    }
}

//! The schemas against the loaders: the committed copies are the generated ones, every shipped
//! file validates and names its schema on its first line, and for the hand-written forms the
//! schema accepts exactly what the reader accepts.

use std::path::{Path, PathBuf};

use serde_json::Value;

use super::{SchemaKind, generate, to_text};
use crate::source::parse_yaml;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the crate sits in the repository")
        .to_path_buf()
}

fn validator(kind: SchemaKind) -> jsonschema::Validator {
    jsonschema::validator_for(&generate(kind)).expect("the generated schema compiles")
}

/// The YAML text read as the loaders read it (plain scalars by the YAML 1.2 core schema).
fn yaml(text: &str) -> Value {
    parse_yaml(&"t.yaml".into(), text).unwrap_or_else(|d| panic!("{d:?}"))
}

fn errors(v: &jsonschema::Validator, doc: &Value) -> Vec<String> {
    v.iter_errors(doc)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect()
}

#[test]
fn committed_schemas_are_the_generated_ones() {
    let bless = std::env::var_os("PROVCHECK_BLESS").is_some();
    let mut stale = Vec::new();
    for kind in SchemaKind::ALL {
        let path = root().join("schemas").join(kind.file_name());
        let want = to_text(kind);
        if bless {
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, &want).unwrap();
            continue;
        }
        if std::fs::read_to_string(&path).ok().as_deref() != Some(want.as_str()) {
            stale.push(path.display().to_string());
        }
    }
    assert!(
        stale.is_empty(),
        "the committed schemas differ from the types the loaders read: {}.\n\
         If the change to the suite, targets or recording types is intended, regenerate them \
         with `PROVCHECK_BLESS=1 cargo test --lib schema` and commit the files.",
        stale.join(", ")
    );
}

/// Every shipped file of a kind: suites, targets files (not the LiteLLM configs beside them),
/// recordings.
fn shipped(kind: SchemaKind) -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                walk(&p, out);
            } else if p.extension().is_some_and(|x| x == "yaml" || x == "yml") {
                out.push(p);
            }
        }
    }
    let mut out = Vec::new();
    match kind {
        SchemaKind::Suite => walk(&root().join("suites"), &mut out),
        SchemaKind::Recording => walk(&root().join("fixtures"), &mut out),
        SchemaKind::Targets => {
            out.push(root().join("targets.yaml"));
            let mut tools = Vec::new();
            walk(&root().join("tools"), &mut tools);
            out.extend(tools.into_iter().filter(|p| p.ends_with("targets.yaml")));
        }
    }
    out.sort();
    out
}

/// The modeline a file at `path` starts with: the schema's path relative to the file's
/// directory.
fn modeline_for(path: &Path, kind: SchemaKind) -> String {
    let rel = path
        .strip_prefix(root())
        .expect("a shipped file is in the repository");
    let up = "../".repeat(rel.components().count() - 1);
    format!(
        "# yaml-language-server: $schema={up}schemas/{}",
        kind.file_name()
    )
}

#[test]
fn every_shipped_file_validates_against_its_schema() {
    let mut problems = Vec::new();
    let mut counted = 0;
    for kind in SchemaKind::ALL {
        let v = validator(kind);
        let files = shipped(kind);
        assert!(!files.is_empty(), "no shipped {kind:?} file found");
        for path in files {
            counted += 1;
            let text = std::fs::read_to_string(&path).unwrap();
            for e in errors(&v, &yaml(&text)) {
                problems.push(format!("{}: {e}", path.display()));
            }
        }
    }
    assert!(counted > 200, "only {counted} shipped files found");
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn every_shipped_file_names_its_schema_on_its_first_line() {
    let mut problems = Vec::new();
    for kind in SchemaKind::ALL {
        for path in shipped(kind) {
            let text = std::fs::read_to_string(&path).unwrap();
            let want = modeline_for(&path, kind);
            let first = text.lines().next().unwrap_or("");
            if first != want {
                problems.push(format!(
                    "{}: starts with {first:?}, not {want:?}",
                    path.display()
                ));
            }
            let target = first.rsplit('=').next().unwrap_or("");
            if !path.parent().unwrap().join(target).is_file() {
                problems.push(format!("{}: {target} does not exist", path.display()));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

const SUITE: &str = "suite: s\ncategory: c\nscenarios:\n  - id: a\n    title: t\n    request:\n      messages: [{user: hi}]\n    expect: {status: 200}\n";

#[test]
fn the_schema_and_the_loader_both_refuse_an_unknown_key_and_a_wrong_type() {
    let v = validator(SchemaKind::Suite);
    assert!(
        errors(&v, &yaml(SUITE)).is_empty(),
        "{:?}",
        errors(&v, &yaml(SUITE))
    );
    let dir = tempfile::tempdir().unwrap();
    let known = crate::suite::load::Known {
        aliases: ["small".to_string()].into(),
        targets: ["openai".to_string()].into(),
    };
    let good = dir.path().join("good.yaml");
    std::fs::write(&good, SUITE).unwrap();
    crate::suite::load::load_suite(&good, &known).expect("the sample suite loads");
    let bad = [
        // A misspelt expectation key.
        (
            "unknown key",
            SUITE.replace("{status: 200}", "{statsu: 200}"),
            "statsu",
        ),
        // A count that is not a number.
        (
            "wrong type",
            SUITE.replace("    title: t\n", "    title: t\n    concurrency: many\n"),
            "concurrency",
        ),
        // A priority that is not one of the four.
        (
            "unknown variant",
            SUITE.replace("    title: t\n", "    title: t\n    priority: urgent\n"),
            "urgent",
        ),
        // Checks the loader makes after reading, which the schema states too.
        (
            "no repetition",
            SUITE.replace("    title: t\n", "    title: t\n    repeat: 0\n"),
            "repeat",
        ),
        (
            "a patch that is no object",
            SUITE.replace("    request:\n", "    request:\n      patch: [1]\n"),
            "patch",
        ),
        (
            "patch and raw_body",
            SUITE.replace(
                "    request:\n",
                "    request:\n      patch: {a: 1}\n      raw_body: x\n",
            ),
            "raw_body",
        ),
        (
            "a bad scenario id",
            SUITE.replace("id: a", "id: A b"),
            "scenario id",
        ),
    ];
    for (what, text, word) in bad {
        let found = errors(&v, &yaml(&text));
        assert!(!found.is_empty(), "{what}: the schema accepts it");
        let path = dir.path().join("bad.yaml");
        std::fs::write(&path, &text).unwrap();
        let diags = crate::suite::load::load_suite(&path, &known).expect_err(what);
        assert!(
            diags.iter().any(|d| d.message.contains(word)),
            "{what}: {diags:?}"
        );
    }
}

#[test]
fn a_targets_file_with_a_typo_or_a_bad_capability_fails_the_schema_and_the_loader() {
    let v = validator(SchemaKind::Targets);
    let good = "targets:\n  local:\n    dialect: openai\n    base_url: http://127.0.0.1:8080/v1\n    capabilities: [streaming, tools]\n    models: {small: m}\n    limits: {max_body_bytes: 1024}\n";
    assert!(
        errors(&v, &yaml(good)).is_empty(),
        "{:?}",
        errors(&v, &yaml(good))
    );
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("targets.yaml");
    std::fs::write(&path, good).unwrap();
    crate::target::load(&path, None).expect("the sample loads");
    let partial_builtin = "targets:\n  openai:\n    base_url: http://127.0.0.1:8080/v1\n";
    assert!(errors(&v, &yaml(partial_builtin)).is_empty());
    for bad in [
        good.replace("base_url", "base_ulr"),
        good.replace("tools]", "telepathy]"),
        good.replace("1024", "0"),
        good.replace("local:", "Local Server:"),
        // A new target needs its dialect and base URL; only a built-in one may be partial.
        good.replace("    dialect: openai\n", ""),
    ] {
        assert!(!errors(&v, &yaml(&bad)).is_empty(), "accepted:\n{bad}");
        std::fs::write(&path, &bad).unwrap();
        assert!(crate::target::load(&path, None).is_err(), "loaded:\n{bad}");
    }
}

/// The schema of one type, compiled.
fn validator_of<T: schemars::JsonSchema>() -> jsonschema::Validator {
    let schema = schemars::generate::SchemaSettings::draft07()
        .into_generator()
        .into_root_schema_for::<T>();
    jsonschema::validator_for(&schema.to_value()).expect("compiles")
}

/// The schema of `T` accepts each sample exactly when the reader does.
fn agrees<T: serde::de::DeserializeOwned + schemars::JsonSchema>(samples: &[&str]) {
    let v = validator_of::<T>();
    for s in samples {
        let read = parse_yaml::<T>(&"t.yaml".into(), s).map(|_| ());
        let valid = v.is_valid(&yaml(s));
        assert_eq!(
            read.is_ok(),
            valid,
            "{s:?}: reader says {read:?}, schema says {valid}: {:?}",
            errors(&v, &yaml(s))
        );
    }
}

#[test]
fn message_forms_agree_with_the_reader() {
    agrees::<crate::suite::model::MessageSpec>(&[
        "{user: hi}",
        "{developer: be brief}",
        "{role: tool, content: x}",
        "{role: user}",
        "{user: hi, assistant: yo}",
        "{user: hi, role: user, content: x}",
        "{role: user, parts: [{text: a}, {image: {media_type: image/png, data: AA==}}]}",
        "{role: user, parts: []}",
        "{role: user, parts: [{text: a, image: {media_type: image/png, data: AA==}}]}",
        "{tool_calls: [{id: c1, name: f, arguments: {a: 1}}]}",
        "{tool_calls: [{id: c1, name: f}], assistant: calling}",
        "{tool_calls: []}",
        "{tool_calls: [{id: c1, name: f}], user: x}",
        "{tool_result: {call_id: c1, content: {ok: true}}}",
        "{tool_result: {call_id: c1, content: done}, user: x}",
        "{colour: red}",
        "{}",
    ]);
}

#[test]
fn request_field_forms_agree_with_the_reader() {
    use crate::expect::spec::{Bounds, NamesExpect, OneOrMany};
    use crate::neutral::FinishReason;
    use crate::suite::model::FormatSpec;
    use crate::suite::tools::ToolChoiceSpec;
    agrees::<FormatSpec>(&[
        "text",
        "json_object",
        "json",
        "{json_schema: {name: n, schema: {type: object}}}",
        "{json_schema: {name: n, schema: {type: object}, strict: true}}",
        "{json_schema: {schema: {type: object}}}",
        "{json_schema: {name: n, schema: {}}, extra: 1}",
        "{json_object: {}}",
    ]);
    agrees::<ToolChoiceSpec>(&[
        "auto",
        "none",
        "required",
        "any",
        "{name: f}",
        "{name: f, x: 1}",
        "{tool: f}",
    ]);
    agrees::<NamesExpect>(&[
        "[a, b]",
        "{any_order: [a]}",
        "{any_order: a}",
        "{order: [a]}",
    ]);
    agrees::<OneOrMany<FinishReason>>(&["stop", "[stop, length]", "finished", "[stop, 3]"]);
    agrees::<Bounds>(&[
        "3",
        "{min: 1}",
        "{max: 4}",
        "{min: 1, max: 4}",
        "-1",
        "{min: 1, most: 4}",
        "many",
    ]);
}

/// The `yaml` blocks of docs/SUITES.md that must load, with the kind their first line names
/// (`# suite`, `# targets`, `# recording[: path]`) and their line in the page.
fn doc_examples() -> Vec<(SchemaKind, usize, String)> {
    let doc = std::fs::read_to_string(root().join("docs/SUITES.md")).unwrap();
    let mut out = Vec::new();
    let mut open: Option<(usize, Vec<&str>)> = None;
    for (i, line) in doc.lines().enumerate() {
        match &mut open {
            None if line.trim_start() == "```yaml" => open = Some((i + 1, Vec::new())),
            None => {}
            Some((at, lines)) if line.trim_start() == "```" => {
                let first = lines.first().copied().unwrap_or("");
                let kind = match first.split(':').next().unwrap_or("") {
                    "# suite" => Some(SchemaKind::Suite),
                    "# targets" => Some(SchemaKind::Targets),
                    "# recording" => Some(SchemaKind::Recording),
                    _ => None,
                };
                if let Some(kind) = kind.filter(|_| !first.ends_with(": invalid")) {
                    out.push((kind, *at, lines.join("\n")));
                }
                open = None;
            }
            Some((_, lines)) => lines.push(line),
        }
    }
    out
}

/// The page's examples load through the real loaders and together use every key the formats
/// accept (docs_examples checks both), so their passing here shows the schemas accept
/// everything the loaders do, not only what the shipped files happen to use.
#[test]
fn every_example_in_the_suites_reference_validates() {
    let examples = doc_examples();
    assert!(
        examples.len() > 30,
        "only {} examples found",
        examples.len()
    );
    let mut problems = Vec::new();
    for (kind, line, text) in examples {
        for e in errors(&validator(kind), &yaml(&text)) {
            problems.push(format!("docs/SUITES.md:{line} ({kind:?}): {e}"));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn a_recording_with_a_typo_or_a_bad_stream_fails_the_schema_and_the_loader() {
    let v = validator(SchemaKind::Recording);
    let good = "provenance: {source: authored, date: 2026-01-01}\nexchanges:\n  - request: {path: /v1/x}\n    response: {status: 200, stream: {format: sse, events: [{at_ms: 0, data: x}]}}\n";
    assert!(
        errors(&v, &yaml(good)).is_empty(),
        "{:?}",
        errors(&v, &yaml(good))
    );
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("r.yaml");
    std::fs::write(&path, good).unwrap();
    crate::record::Recording::load(&path).expect("the sample loads");
    for bad in [
        good.replace("response:", "respons:"),
        good.replace("format: sse", "format: websocket"),
        good.replace("source: authored", "source: guessed"),
        good.replace("at_ms: 0", "at_ms: soon"),
    ] {
        assert!(!errors(&v, &yaml(&bad)).is_empty(), "accepted:\n{bad}");
        std::fs::write(&path, &bad).unwrap();
        assert!(
            crate::record::Recording::load(&path).is_err(),
            "loaded:\n{bad}"
        );
    }
}

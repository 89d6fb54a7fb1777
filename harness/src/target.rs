//! Targets: the provider endpoints a run can use. Four are built in; `targets.yaml` adds new
//! ones (an OpenAI-compatible server is `dialect: openai` with its own base URL) or overrides
//! fields of the built-ins.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::Arc;

use serde::Deserialize;

use crate::client::PolicySpec;
use crate::dialect::{DialectKind, TokenParam, WireOptions};
use crate::record::redact::RedactSpec;
use crate::source::{Diagnostic, SpanIndex, parse_yaml_indexed, read_source};
use crate::vocab::Capability;
use crate::vocab::valid_name;

/// A provider endpoint.
#[derive(Debug, Clone, PartialEq)]
pub struct Target {
    /// Unique name (`openai`, `anthropic`, `ollama`, or the user's).
    pub name: String,
    /// The wire protocol it speaks.
    pub dialect: DialectKind,
    /// Base URL as the official SDK takes it (OpenAI's ends in `/v1`).
    pub base_url: String,
    /// The environment variable holding its key, if it needs one.
    pub key_env: Option<String>,
    /// Model aliases used by suites, mapped to concrete model names.
    pub models: BTreeMap<String, String>,
    /// Declared capabilities.
    pub capabilities: BTreeSet<Capability>,
    /// Encoding choices.
    pub wire: WireOptions,
    /// The client's resilience settings against this target, over the official SDKs'
    /// defaults. They are the subject's configuration, so they win over a scenario's `client:`.
    pub resilience: PolicySpec,
    /// What record mode redacts beyond the defaults: the file's top-level `redact:` plus the
    /// target's own.
    pub redact: RedactSpec,
    /// How much a reply may hold before the trial ends with an error naming the limit.
    pub limits: crate::client::Limits,
}

/// The built-in targets, with `OLLAMA_HOST` applied.
pub(crate) fn builtins(ollama_host: Option<&str>) -> Vec<Target> {
    use Capability::*;
    let models = |pairs: &[(&str, &str)]| {
        pairs
            .iter()
            .map(|(a, m)| (a.to_string(), m.to_string()))
            .collect()
    };
    let mut all = vec![
        Target {
            name: "openai".into(),
            dialect: DialectKind::Openai,
            base_url: "https://api.openai.com/v1".into(),
            key_env: Some("OPENAI_API_KEY".into()),
            models: models(&[
                ("small", "gpt-4o-mini"),
                ("second", "gpt-4.1-mini"),
                ("tools", "gpt-4o-mini"),
                ("vision", "gpt-4o-mini"),
                // A chat model that takes no images, for the documented refusal of one.
                ("text_only", "gpt-3.5-turbo"),
                ("absent", "provcheck-absent-model"),
            ]),
            capabilities: [
                Streaming,
                JsonMode,
                JsonSchema,
                Tools,
                ParallelTools,
                Vision,
            ]
            .into(),
            wire: WireOptions::default(),
            resilience: PolicySpec::default(),
            redact: RedactSpec::default(),
            limits: crate::client::Limits::default(),
        },
        Target {
            name: "anthropic".into(),
            dialect: DialectKind::Anthropic,
            base_url: "https://api.anthropic.com".into(),
            key_env: Some("ANTHROPIC_API_KEY".into()),
            models: models(&[
                ("small", "claude-haiku-4-5"),
                ("second", "claude-sonnet-4-5"),
                ("tools", "claude-haiku-4-5"),
                ("vision", "claude-haiku-4-5"),
                ("absent", "provcheck-absent-model"),
            ]),
            capabilities: [Streaming, JsonSchema, Tools, ParallelTools, Vision].into(),
            wire: WireOptions::default(),
            resilience: PolicySpec::default(),
            redact: RedactSpec::default(),
            limits: crate::client::Limits::default(),
        },
        Target {
            name: "ollama".into(),
            dialect: DialectKind::Ollama,
            base_url: ollama_base_url(ollama_host),
            key_env: None,
            models: models(&[
                ("small", "llama3.2"),
                ("second", "qwen2.5:0.5b"),
                ("tools", "llama3.2"),
                ("vision", "llava"),
                ("text_only", "llama3.2"),
                // A model no registry has, for the documented "not found" answers.
                ("absent", "provcheck-absent-model"),
            ]),
            capabilities: [
                Streaming,
                JsonMode,
                JsonSchema,
                Tools,
                // Several `message.tool_calls` in one reply (docs.ollama.com, "Parallel tool
                // calling"); there is no switch to turn it off.
                ParallelTools,
                ModelPull,
                ModelManagement,
                Vision,
            ]
            .into(),
            wire: WireOptions::default(),
            resilience: PolicySpec::default(),
            redact: RedactSpec::default(),
            limits: crate::client::Limits::default(),
        },
    ];
    // The Responses API on the same account: the chat models, capabilities and key of `openai`,
    // without `text_only` (the Responses API documents no chat model that refuses images;
    // gpt-3.5-turbo is a chat-completions one).
    let openai = all[0].clone();
    all.push(Target {
        name: "openai-responses".into(),
        dialect: DialectKind::OpenaiResponses,
        models: openai
            .models
            .iter()
            .filter(|(alias, _)| alias.as_str() != "text_only")
            .map(|(a, m)| (a.clone(), m.clone()))
            .collect(),
        ..openai
    });
    all
}

/// Turns `OLLAMA_HOST` (which Ollama accepts as `host`, `host:port` or a URL) into a base URL.
pub(crate) fn ollama_base_url(host: Option<&str>) -> String {
    let host = host
        .map(str::trim)
        .filter(|h| !h.is_empty())
        .unwrap_or("127.0.0.1:11434");
    let (scheme, rest) = match host.split_once("://") {
        Some((s, r)) => (s, r),
        None => ("http", host),
    };
    let rest = rest.trim_end_matches('/');
    let has_port = rest
        .rsplit_once(':')
        .is_some_and(|(_, p)| p.chars().all(|c| c.is_ascii_digit()));
    let default_port = if scheme == "https" { 443 } else { 11434 };
    if has_port || rest.contains('/') {
        format!("{scheme}://{rest}")
    } else {
        format!("{scheme}://{rest}:{default_port}")
    }
}

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
/// `targets.yaml`: targets added to the built-in ones or overriding their fields, redaction
/// for every target, and the clients under test.
pub(crate) struct TargetsFile {
    /// Targets by name (`[a-z0-9_-]+`): a new one needs `dialect` and `base_url`; a built-in
    /// one (`openai`, `anthropic`, `ollama`, `openai-responses`) takes any field to override.
    #[serde(default)]
    #[schemars(schema_with = "targets_schema")]
    targets: BTreeMap<String, TargetEntry>,
    /// Redaction for every target.
    #[serde(default)]
    redact: Option<RedactSpec>,
    /// Clients under test (read by [`load_clients`]).
    #[serde(default)]
    #[schemars(extend("propertyNames" = {"pattern": "^[a-z0-9_-]+$"}))]
    clients: BTreeMap<String, ClientEntry>,
}

/// `targets:` as [`load`] reads it: names `[a-z0-9_-]+`; a built-in target takes any field to
/// override, a new one needs `dialect` and `base_url`.
fn targets_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
    let entry = generator.subschema_for::<TargetEntry>();
    let builtin: serde_json::Map<String, serde_json::Value> = builtins(None)
        .into_iter()
        .map(|t| (t.name, entry.clone().to_value()))
        .collect();
    schemars::json_schema!({
        "type": "object",
        "propertyNames": {"pattern": "^[a-z0-9_-]+$"},
        "properties": builtin,
        "additionalProperties": {"allOf": [entry, {"required": ["dialect", "base_url"]}]},
    })
}

/// A client under test: a command provcheck runs once per trial, with the provider's usual
/// variables pointing at the trial's mock (docs/CLIENTS.md has the protocol).
#[derive(Debug, Clone, PartialEq)]
pub struct ClientSpec {
    /// Its name in reports (`openai-sdk`, `my-app`).
    pub name: String,
    /// The command line, run by `/bin/sh -c`.
    pub command: String,
    /// The dialects it speaks; trials of targets speaking another are not planned. Empty: all.
    pub dialects: Vec<DialectKind>,
    /// Where it runs (default: where provcheck runs).
    pub workdir: Option<std::path::PathBuf>,
    /// Variables set for it on top of the allowlist provcheck passes through. Never keys: the
    /// client talks only to the mock, which takes any.
    pub env: BTreeMap<String, String>,
}

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct ClientEntry {
    /// The command line, run by `/bin/sh -c` once per trial.
    command: String,
    /// The dialects it speaks (default: all).
    #[serde(default)]
    dialects: Vec<DialectKind>,
    /// Where it runs, relative to the targets file (default: where provcheck runs).
    workdir: Option<std::path::PathBuf>,
    /// Variables set for it; never keys, the client talks only to the mock.
    #[serde(default)]
    env: BTreeMap<String, String>,
}

/// The clients under test `targets.yaml` declares under `clients:` (none when the file does
/// not exist). A relative `workdir` is taken from the file's directory.
pub fn load_clients(path: &Path) -> Result<Vec<ClientSpec>, Vec<Diagnostic>> {
    if !path.exists() {
        return Ok(Vec::new());
    }
    let file: Arc<str> = path.display().to_string().into();
    let source = read_source(path, &file, "targets file").map_err(|d| vec![d])?;
    let (parsed, index): (TargetsFile, SpanIndex) =
        parse_yaml_indexed(&file, &source).map_err(|d| vec![d])?;
    let base = path.parent().unwrap_or(Path::new("."));
    let mut out = Vec::new();
    let mut diags = Vec::new();
    for (name, e) in parsed.clients {
        let at = index.locate(&format!("clients.{name}"));
        if !valid_name(&name) {
            let msg = format!("client name `{name}` must match [a-z0-9_-]+");
            diags.push(Diagnostic::new(msg, at, &source));
        } else if e.command.trim().is_empty() {
            let msg = format!("client `{name}` has an empty `command`");
            diags.push(Diagnostic::new(msg, at, &source));
        } else {
            out.push(ClientSpec {
                name,
                command: e.command,
                dialects: e.dialects,
                workdir: e.workdir.map(|w| base.join(w)),
                env: e.env,
            });
        }
    }
    if diags.is_empty() {
        Ok(out)
    } else {
        Err(diags)
    }
}

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct TargetEntry {
    dialect: Option<DialectKind>,
    base_url: Option<String>,
    key_env: Option<String>,
    #[serde(default)]
    models: BTreeMap<String, String>,
    capabilities: Option<BTreeSet<Capability>>,
    token_param: Option<TokenParam>,
    anthropic_version: Option<String>,
    default_max_tokens: Option<u32>,
    resilience: Option<PolicySpec>,
    redact: Option<RedactSpec>,
    limits: Option<crate::client::LimitsSpec>,
}

/// The targets a run can use: the built-ins, then `targets.yaml` (if it exists) on top.
pub fn load(path: &Path, ollama_host: Option<&str>) -> Result<Vec<Arc<Target>>, Vec<Diagnostic>> {
    let mut targets = builtins(ollama_host);
    if path.exists() {
        let file: Arc<str> = path.display().to_string().into();
        let source = read_source(path, &file, "targets file").map_err(|d| vec![d])?;
        let (parsed, index): (TargetsFile, SpanIndex) =
            parse_yaml_indexed(&file, &source).map_err(|d| vec![d])?;
        let mut diags = Vec::new();
        let mut specs = vec![("redact".to_string(), parsed.redact.clone())];
        specs.extend(
            parsed
                .targets
                .iter()
                .map(|(n, e)| (format!("targets.{n}.redact"), e.redact.clone())),
        );
        for (at, spec) in specs {
            if let Some(problem) = spec.as_ref().and_then(RedactSpec::problem) {
                diags.push(Diagnostic::new(problem, index.locate(&at), &source));
            }
        }
        for (name, entry) in parsed.targets {
            let at = index.locate(&format!("targets.{name}"));
            if !valid_name(&name) {
                diags.push(Diagnostic::new(
                    format!("target name `{name}` must match [a-z0-9_-]+"),
                    at,
                    &source,
                ));
                continue;
            }
            match targets.iter_mut().find(|t| t.name == name) {
                Some(existing) => apply(existing, entry),
                None => {
                    let (Some(dialect), Some(base_url)) = (entry.dialect, entry.base_url.clone())
                    else {
                        diags.push(
                            Diagnostic::new(format!("new target `{name}` needs `dialect` and `base_url`"), at, &source)
                                .with_help("only the built-in targets (openai, anthropic, ollama) can be partly overridden"),
                        );
                        continue;
                    };
                    let mut t = Target {
                        name: name.clone(),
                        dialect,
                        base_url,
                        key_env: None,
                        models: BTreeMap::new(),
                        capabilities: BTreeSet::new(),
                        wire: WireOptions::default(),
                        resilience: PolicySpec::default(),
                        redact: RedactSpec::default(),
                        limits: crate::client::Limits::default(),
                    };
                    // Compatible servers mostly still expect the older field.
                    if dialect == DialectKind::Openai {
                        t.wire.token_param = TokenParam::MaxTokens;
                    }
                    apply(&mut t, entry);
                    targets.push(t);
                }
            }
        }
        if !diags.is_empty() {
            return Err(diags);
        }
        if let Some(global) = &parsed.redact {
            for t in &mut targets {
                t.redact.extend(global);
            }
        }
    }
    Ok(targets.into_iter().map(Arc::new).collect())
}

fn apply(t: &mut Target, e: TargetEntry) {
    if let Some(d) = e.dialect {
        t.dialect = d;
    }
    if let Some(u) = e.base_url {
        t.base_url = u.trim_end_matches('/').to_string();
    }
    if e.key_env.is_some() {
        t.key_env = e.key_env;
    }
    t.models.extend(e.models);
    if let Some(c) = e.capabilities {
        t.capabilities = c;
    }
    if let Some(p) = e.token_param {
        t.wire.token_param = p;
    }
    if let Some(v) = e.anthropic_version {
        t.wire.anthropic_version = v;
    }
    if let Some(n) = e.default_max_tokens {
        t.wire.default_max_tokens = n;
    }
    if let Some(r) = e.resilience {
        t.resilience = r;
    }
    if let Some(r) = e.redact {
        t.redact.extend(&r);
    }
    if let Some(l) = e.limits {
        t.limits.apply(&l);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ollama_host_forms() {
        assert_eq!(ollama_base_url(None), "http://127.0.0.1:11434");
        assert_eq!(ollama_base_url(Some("0.0.0.0")), "http://0.0.0.0:11434");
        assert_eq!(ollama_base_url(Some("gpu-box:9999")), "http://gpu-box:9999");
        assert_eq!(
            ollama_base_url(Some("https://ollama.example/")),
            "https://ollama.example:443"
        );
        assert_eq!(
            ollama_base_url(Some("http://h:1/prefix")),
            "http://h:1/prefix"
        );
    }

    #[test]
    fn targets_file_adds_and_overrides() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("targets.yaml");
        std::fs::write(
            &p,
            "targets:\n  vllm:\n    dialect: openai\n    base_url: http://127.0.0.1:8000/v1/\n    models: {small: qwen}\n    capabilities: [streaming]\n  openai:\n    models: {small: gpt-5-mini}\n",
        )
        .unwrap();
        let ts = load(&p, None).unwrap();
        let vllm = ts.iter().find(|t| t.name == "vllm").unwrap();
        assert_eq!(vllm.base_url, "http://127.0.0.1:8000/v1");
        assert_eq!(vllm.wire.token_param, TokenParam::MaxTokens);
        let openai = ts.iter().find(|t| t.name == "openai").unwrap();
        assert_eq!(openai.models["small"], "gpt-5-mini");
        assert_eq!(openai.models["second"], "gpt-4.1-mini");
    }

    #[test]
    fn new_target_without_base_url_is_located() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("targets.yaml");
        std::fs::write(&p, "targets:\n  mine:\n    dialect: openai\n").unwrap();
        let err = load(&p, None).unwrap_err();
        assert_eq!(err[0].location.line, 2);
        assert!(err[0].message.contains("needs `dialect` and `base_url`"));
    }

    #[test]
    fn redact_applies_globally_and_per_target_and_bad_pointers_are_located() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("targets.yaml");
        std::fs::write(
            &p,
            "redact:\n  headers: [x-trace]\n  env: [SESSION_TOKEN]\ntargets:\n  gw:\n    dialect: openai\n    base_url: http://h/v1\n    redact: {json: [/user]}\n",
        )
        .unwrap();
        let ts = load(&p, None).unwrap();
        let gw = ts.iter().find(|t| t.name == "gw").unwrap();
        assert_eq!(gw.redact.json, ["/user"]);
        assert_eq!(gw.redact.headers, ["x-trace"]);
        let openai = ts.iter().find(|t| t.name == "openai").unwrap();
        assert_eq!(openai.redact.env, ["SESSION_TOKEN"]);
        assert!(openai.redact.json.is_empty());
        std::fs::write(
            &p,
            "targets:\n  gw:\n    dialect: openai\n    base_url: http://h/v1\n    redact: {json: [user]}\n",
        )
        .unwrap();
        let err = load(&p, None).unwrap_err();
        err[0].assert_says("`user` is not a JSON pointer");
        assert_eq!(err[0].location.line, 5);
    }

    #[test]
    fn clients_are_read_beside_the_targets_and_located_when_wrong() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("targets.yaml");
        std::fs::write(
            &p,
            "clients:\n  my-app:\n    command: python app.py\n    dialects: [openai]\n    workdir: app\n    env: {APP_MODE: test}\n",
        )
        .unwrap();
        assert_eq!(load(&p, None).unwrap().len(), builtins(None).len());
        let c = &load_clients(&p).unwrap()[0];
        assert_eq!(c.name, "my-app");
        assert_eq!(c.dialects, [DialectKind::Openai]);
        assert_eq!(c.workdir.as_deref(), Some(dir.path().join("app").as_path()));
        assert_eq!(c.env["APP_MODE"], "test");
        std::fs::write(&p, "clients:\n  mine:\n    command: x\n    cmd: y\n").unwrap();
        let err = load_clients(&p).unwrap_err();
        err[0].assert_says("unknown field `cmd`");
        std::fs::write(&p, "clients:\n  Mine:\n    command: x\n").unwrap();
        let err = load_clients(&p).unwrap_err();
        assert_eq!(err[0].location.line, 2, "{}", err[0].message);
    }

    #[test]
    fn unknown_key_in_targets_file() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("targets.yaml");
        std::fs::write(&p, "targets:\n  mine:\n    dialekt: openai\n").unwrap();
        let err = load(&p, None).unwrap_err();
        err[0].assert_says("unknown field `dialekt`");
        assert_eq!((err[0].location.line, err[0].location.col), (3, 5));
    }
}

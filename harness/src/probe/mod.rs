//! `provcheck probe URL`: onboarding a server in one command. A few cheap requests find the
//! dialect it speaks and the base URL form (`detect`), the models it lists, and the
//! capabilities it really supports (`probes`, judged by the dialect's own contract checks);
//! the model aliases the shipped suites use are proposed from what was seen (`usage`), and a
//! ready targets.yaml entry with a comment per line is printed (`entry`) or merged into the
//! file (`merge`). Every request and its verdict is printed, one line each; the key is
//! only handed to the transport.

mod caps;
mod detect;
mod entry;
mod exchange;
mod merge;
mod probes;
mod usage;

use std::path::PathBuf;
use std::time::Duration;

pub use merge::MergeError;

use crate::dialect::DialectKind;
use crate::run::live::Budget;
use crate::vocab::{Capability, valid_name};

/// The arguments of `provcheck probe`.
#[derive(clap::Args, Debug)]
pub struct ProbeArgs {
    /// The server, as its users would type it (`http://127.0.0.1:8000`, with or without /v1).
    pub url: String,
    /// Check only this dialect (openai, anthropic, ollama, openai-responses) instead of
    /// trying each.
    #[arg(long, value_name = "DIALECT", value_parser = parse_dialect)]
    pub dialect: Option<DialectKind>,
    /// The environment variable holding the server's key; the entry names it, never the key.
    #[arg(long, value_name = "VAR")]
    pub key_env: Option<String>,
    /// Also merge the entry into this targets file (created if missing), keeping its comments
    /// and other entries; an entry of the same name is replaced.
    #[arg(long, value_name = "FILE")]
    pub write: Option<PathBuf>,
    /// The target's name [default: DIALECT-HOST-PORT].
    #[arg(long, value_name = "NAME")]
    pub name: Option<String>,
    /// The suites whose aliases and capabilities the entry is for.
    #[arg(long = "suite", value_name = "PATH")]
    pub suites: Vec<PathBuf>,
    /// The targets file whose aliases the suites may name (for loading them).
    #[arg(long, value_name = "FILE", default_value = "targets.yaml")]
    pub targets: PathBuf,
    /// Send at most N requests.
    #[arg(long, value_name = "N")]
    pub max_requests: Option<u64>,
    /// Send no request once replies have reported N output tokens.
    #[arg(long, value_name = "N")]
    pub max_output_tokens: Option<u64>,
    /// A capability that must be seen working: the probe exits 101 when it was not
    /// (repeatable).
    #[arg(long = "require", value_name = "CAPABILITY", value_parser = parse_capability)]
    pub require: Vec<Capability>,
    /// Each request's deadline, in milliseconds.
    #[arg(long, value_name = "MS", default_value_t = 30_000)]
    pub request_timeout_ms: u64,
}

fn parse_dialect(s: &str) -> Result<DialectKind, String> {
    DialectKind::ALL
        .into_iter()
        .find(|d| d.as_str() == s)
        .ok_or_else(|| {
            format!("`{s}` is not a dialect (openai, anthropic, ollama or openai-responses)")
        })
}

fn parse_capability(s: &str) -> Result<Capability, String> {
    serde_json::from_value(serde_json::Value::String(s.to_string())).map_err(|_| {
        format!("`{s}` is not a capability (streaming, json_mode, json_schema, tools, parallel_tools, vision, model_pull, model_management)")
    })
}

/// Why the probe could not do its work.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ProbeError {
    /// A bad argument.
    #[error("{0}")]
    Input(String),
    /// No dialect answered by its contract.
    #[error("{0}")]
    NoDialect(String),
    /// The suites or the targets file did not load (problems printed).
    #[error("problems in the suites or targets file (printed above)")]
    Inputs,
    /// The entry could not be merged into the targets file.
    #[error("cannot merge into {}: {source}", path.display())]
    Merge {
        /// The file.
        path: PathBuf,
        /// Why.
        source: MergeError,
    },
    /// The merged file would not load: nothing was written.
    #[error("the merged {} would not load (nothing written): {message}", path.display())]
    Invalid {
        /// The file.
        path: PathBuf,
        /// The first problem.
        message: String,
    },
    /// The file could not be read or written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
}

/// What a finished probe reports to the command line.
#[derive(Debug)]
pub struct Probed {
    /// The required capabilities not seen working, with why.
    pub missing_required: Vec<(Capability, String)>,
}

/// Runs the probe: prints every request with its verdict and the proposed entry, and merges
/// it into `--write`'s file.
pub fn run(args: &ProbeArgs) -> Result<Probed, ProbeError> {
    check_url(&args.url)?;
    if let Some(n) = &args.name
        && !valid_name(n)
    {
        return Err(ProbeError::Input(format!(
            "--name `{n}` must match [a-z0-9_-]+"
        )));
    }
    let key = match &args.key_env {
        Some(var) => match std::env::var(var) {
            Ok(v) if !v.trim().is_empty() => Some(v),
            _ => {
                println!("note: {var} is not set; probing without a key");
                None
            }
        },
        None => None,
    };
    let suites = load_suites(args)?;
    let budget = Budget::new(args.max_requests, args.max_output_tokens);
    let timeout = Duration::from_millis(args.request_timeout_ms);
    let rt = crate::runtime::runtime();
    let mut p = exchange::Prober::new(key, budget, timeout);
    let findings = rt.block_on(async {
        let found = detect::detect(&mut p, &args.url, args.dialect).await?;
        let mut s = caps::Session {
            p: &mut p,
            f: caps::Findings {
                found,
                caps: Default::default(),
                lacks: Default::default(),
                aliases: Default::default(),
            },
        };
        probes::all(&mut s).await;
        Some(s.f)
    });
    println!("{} request(s) sent", p.sent());
    let Some(findings) = findings else {
        let tried = args.dialect.map_or("any dialect".to_string(), |d| {
            format!("the {} dialect", d.as_str())
        });
        return Err(ProbeError::NoDialect(format!(
            "{} did not answer a model listing and a chat by {tried}'s contract (the lines above say what each request got)",
            args.url
        )));
    };
    let name = args
        .name
        .clone()
        .unwrap_or_else(|| default_name(findings.found.dialect, &findings.found.base_url));
    let usage = usage::usage(&suites, findings.found.dialect);
    let text = entry::render(&entry::EntryInput {
        name: &name,
        url: &args.url,
        key_env: args.key_env.as_deref(),
        findings: &findings,
        usage: &usage,
    });
    println!("\n# The targets.yaml entry (under `targets:`):\n{text}");
    if let Some(path) = &args.write {
        write(path, &name, &text)?;
        println!("wrote target `{name}` to {}", path.display());
    }
    let missing_required = args
        .require
        .iter()
        .filter(|c| !findings.caps.contains_key(c))
        .map(|c| {
            let why = findings
                .lacks
                .get(c)
                .cloned()
                .unwrap_or_else(|| "not probed".into());
            (*c, why)
        })
        .collect();
    Ok(Probed { missing_required })
}

/// Checked before anything is sent: a key belongs in --key-env, where no line shows it.
fn check_url(s: &str) -> Result<(), ProbeError> {
    let url = reqwest::Url::parse(s)
        .map_err(|e| ProbeError::Input(format!("`{s}` is not a URL: {e}")))?;
    if !url.username().is_empty() || url.password().is_some() {
        return Err(ProbeError::Input(
            "the URL must not carry credentials; use --key-env".into(),
        ));
    }
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err(ProbeError::Input(format!("`{s}` is not an http(s) URL")));
    }
    if url.query().is_some() {
        return Err(ProbeError::Input("the URL must not carry a query".into()));
    }
    Ok(())
}

/// `DIALECT-HOST-PORT`, made a valid target name.
fn default_name(dialect: DialectKind, base_url: &str) -> String {
    let url = reqwest::Url::parse(base_url).ok();
    let host = url
        .as_ref()
        .and_then(|u| u.host_str())
        .unwrap_or("server")
        .to_string();
    let port = url.as_ref().and_then(reqwest::Url::port_or_known_default);
    let raw = match port {
        Some(p) => format!("{}-{host}-{p}", dialect.as_str()),
        None => format!("{}-{host}", dialect.as_str()),
    };
    raw.to_lowercase()
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '-'
            }
        })
        .collect()
}

/// The suites the entry is for (none when the default `suites/` is not here).
fn load_suites(args: &ProbeArgs) -> Result<Vec<crate::suite::Suite>, ProbeError> {
    let paths = if args.suites.is_empty() {
        let default = PathBuf::from("suites");
        if !default.is_dir() {
            println!("note: no suites/ here; the entry's comments will not name scenarios");
            return Ok(Vec::new());
        }
        vec![default]
    } else {
        args.suites.clone()
    };
    let targets = crate::target::load(&args.targets, std::env::var("OLLAMA_HOST").ok().as_deref())
        .map_err(|d| diagnostics(&d))?;
    let known = crate::suite::Known {
        // Every alias the probe can propose is known, so suites naming them load.
        aliases: targets
            .iter()
            .flat_map(|t| t.models.keys().cloned())
            .collect(),
        targets: targets.iter().map(|t| t.name.clone()).collect(),
    };
    let files =
        crate::suite::load::expand_paths(&paths).map_err(|e| ProbeError::Input(e.to_string()))?;
    crate::suite::load_suites(&files, &known).map_err(|d| diagnostics(&d))
}

fn diagnostics(diags: &[crate::source::Diagnostic]) -> ProbeError {
    for d in diags {
        eprintln!("{}", d.render(false));
    }
    ProbeError::Inputs
}

/// Merges the entry into `path` (created when missing), checks that the result loads as a
/// targets file, and writes it atomically.
fn write(path: &std::path::Path, name: &str, entry: &str) -> Result<(), ProbeError> {
    let io = |source| ProbeError::Io {
        path: path.to_path_buf(),
        source,
    };
    let source = match std::fs::read_to_string(path) {
        Ok(s) => s,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => return Err(io(e)),
    };
    let merged = merge::merge(&source, name, entry).map_err(|source| ProbeError::Merge {
        path: path.to_path_buf(),
        source,
    })?;
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(std::path::Path::new("."));
    let check = dir.join(format!(".provcheck-probe-{}.yaml", std::process::id()));
    crate::fsio::write_atomic(&check, merged.as_bytes()).map_err(io)?;
    let loaded = crate::target::load(&check, None);
    let _ = std::fs::remove_file(&check);
    if let Err(d) = loaded {
        let message = d.first().map(|d| d.message.clone()).unwrap_or_default();
        return Err(ProbeError::Invalid {
            path: path.to_path_buf(),
            message,
        });
    }
    crate::fsio::write_atomic(path, merged.as_bytes()).map_err(io)
}

//! The command line: `provcheck [OPTIONS] [FILTER]` runs suites (libtest's flags included);
//! `provcheck lint [PATHS]` only checks inputs.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

use crate::client::Transport;
use crate::outcome::Mode;
use crate::record::Recording;
use crate::report;
use crate::run::{self, PlanInput, RunContext};
use crate::suite::{self, Diagnostic, Known, Suite};
use crate::target::{self, Target};

/// Exit code for bad input (suites, targets, recordings, arguments).
pub const EXIT_INPUT: u8 = 2;

#[derive(Parser)]
#[command(
    name = "provcheck",
    version,
    about = "Conformance harness for LLM provider APIs",
    args_conflicts_with_subcommands = true
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    run: RunArgs,
}

#[derive(Subcommand)]
enum Command {
    /// Check suites, targets.yaml and recordings without running anything.
    Lint(LintArgs),
    /// Write an authored-recording skeleton for every trial that has no recording.
    Scaffold(ScaffoldArgs),
}

#[derive(Args)]
struct ScaffoldArgs {
    /// Only trials whose name contains this.
    filter: Option<String>,
    /// Suite files or directories (default: suites/).
    #[arg(long = "suite", value_name = "PATH")]
    suites: Vec<PathBuf>,
    /// Only this target (repeatable).
    #[arg(long = "target", value_name = "NAME")]
    only_targets: Vec<String>,
    #[command(flatten)]
    input: InputArgs,
}

#[derive(Args)]
struct InputArgs {
    /// The targets file (built-in targets are used when it does not exist).
    #[arg(long, value_name = "FILE", default_value = "targets.yaml")]
    targets: PathBuf,
    /// The recordings directory.
    #[arg(long, value_name = "DIR", default_value = "fixtures")]
    fixtures: PathBuf,
}

#[derive(Args)]
struct LintArgs {
    /// Suite files or directories (default: suites/).
    paths: Vec<PathBuf>,
    #[command(flatten)]
    input: InputArgs,
}

#[derive(Args)]
struct RunArgs {
    /// replay: recordings on a local mock (no keys, no network); live: the real APIs.
    #[arg(long, value_enum, default_value = "replay")]
    mode: Mode,
    /// A suite file or directory (repeatable; default: suites/).
    #[arg(long = "suite", value_name = "PATH")]
    suites: Vec<PathBuf>,
    /// Run only against this target (repeatable; default: every target).
    #[arg(long = "target", value_name = "NAME")]
    only_targets: Vec<String>,
    /// Run only scenarios carrying this tag (repeatable).
    #[arg(long = "tag", value_name = "TAG")]
    tags: Vec<String>,
    /// Where reports are written.
    #[arg(long, value_name = "DIR", default_value = "reports")]
    reports: PathBuf,
    /// Write no report files.
    #[arg(long)]
    no_reports: bool,
    /// Request deadline when a scenario sets none, in milliseconds.
    #[arg(long, value_name = "MS", default_value_t = 30_000)]
    request_timeout_ms: u64,
    /// Whole-trial deadline when a scenario sets none, in milliseconds.
    #[arg(long, value_name = "MS", default_value_t = 120_000)]
    trial_deadline_ms: u64,
    /// Replay speed for recorded stream timing (1 = as recorded, 0 = no waiting, 2 = twice as
    /// fast). Scripted delays and timeouts are never scaled.
    #[arg(long, value_name = "FACTOR", default_value_t = 1.0, value_parser = parse_speed)]
    speed: f64,
    #[command(flatten)]
    input: InputArgs,
    #[command(flatten)]
    libtest: libtest_mimic::Arguments,
}

fn parse_speed(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(v) if v.is_finite() && v >= 0.0 => Ok(v),
        _ => Err(format!("`{s}` is not a speed factor (a number >= 0)")),
    }
}

fn color_stderr() -> bool {
    std::env::var_os("NO_COLOR").is_none() && std::io::stderr().is_terminal()
}

fn print_diagnostics(diags: &[Diagnostic]) {
    let color = color_stderr();
    let mut err = std::io::stderr().lock();
    for d in diags {
        let _ = writeln!(err, "{}", d.render(color));
    }
    let _ = writeln!(
        err,
        "error: {} problem{} found; nothing was run",
        diags.len(),
        if diags.len() == 1 { "" } else { "s" }
    );
}

fn fail(msg: impl std::fmt::Display) -> ExitCode {
    eprintln!("error: {msg}");
    ExitCode::from(EXIT_INPUT)
}

/// Parses the command line and runs.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Some(Command::Lint(args)) => lint(args),
        Some(Command::Scaffold(args)) => scaffold(args),
        None => run_suites(cli.run),
    }
}

struct Inputs {
    targets: Vec<Arc<Target>>,
    suites: Vec<Suite>,
}

fn load_inputs(
    targets_file: &Path,
    paths: &[PathBuf],
    only: &[String],
) -> Result<Inputs, ExitCode> {
    let ollama_host = std::env::var("OLLAMA_HOST").ok();
    let all = target::load(targets_file, ollama_host.as_deref()).map_err(|d| {
        print_diagnostics(&d);
        ExitCode::from(EXIT_INPUT)
    })?;
    let known = Known {
        aliases: all.iter().flat_map(|t| t.models.keys().cloned()).collect(),
        targets: all.iter().map(|t| t.name.clone()).collect(),
    };
    for name in only {
        if !known.targets.contains(name) {
            let names: Vec<&str> = known.targets.iter().map(String::as_str).collect();
            return Err(fail(format!(
                "unknown target `{name}` (known: {})",
                names.join(", ")
            )));
        }
    }
    let targets = all
        .into_iter()
        .filter(|t| only.is_empty() || only.contains(&t.name))
        .collect();
    let default = [PathBuf::from("suites")];
    let paths = if paths.is_empty() {
        &default[..]
    } else {
        paths
    };
    let files = suite::load::expand_paths(paths).map_err(fail)?;
    if files.is_empty() {
        return Err(fail(format!(
            "no suite files (*.yaml) under {}",
            paths
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        )));
    }
    let suites = suite::load_suites(&files, &known).map_err(|d| {
        print_diagnostics(&d);
        ExitCode::from(EXIT_INPUT)
    })?;
    Ok(Inputs { targets, suites })
}

fn lint(args: LintArgs) -> ExitCode {
    let inputs = match load_inputs(&args.input.targets, &args.paths, &[]) {
        Ok(i) => i,
        Err(code) => return code,
    };
    let mut recordings = Vec::new();
    collect_yaml(&args.input.fixtures, &mut recordings);
    recordings.sort();
    let diags: Vec<Diagnostic> = recordings
        .iter()
        .filter_map(|p| Recording::load(p).err())
        .collect();
    if !diags.is_empty() {
        print_diagnostics(&diags);
        return ExitCode::from(EXIT_INPUT);
    }
    let scenarios: usize = inputs.suites.iter().map(|s| s.scenarios.len()).sum();
    println!(
        "ok: {} suites, {scenarios} scenarios, {} targets, {} recordings",
        inputs.suites.len(),
        inputs.targets.len(),
        recordings.len()
    );
    ExitCode::SUCCESS
}

fn scaffold(args: ScaffoldArgs) -> ExitCode {
    let inputs = match load_inputs(&args.input.targets, &args.suites, &args.only_targets) {
        Ok(i) => i,
        Err(code) => return code,
    };
    let env = |_: &str| None;
    let trials = run::plan(&PlanInput {
        suites: &inputs.suites,
        targets: &inputs.targets,
        mode: Mode::Replay,
        fixtures: &args.input.fixtures,
        tags: &[],
        env: &env,
    });
    let date = chrono::Utc::now().format("%Y-%m-%d").to_string();
    let mut written = 0;
    for t in trials
        .iter()
        .filter(|t| args.filter.as_deref().is_none_or(|f| t.name.contains(f)))
    {
        let Some(path) = &t.recording else { continue };
        // Only trials skipped for lack of a recording get one; capability skips stay skips.
        if path.exists()
            || !t
                .skip
                .as_deref()
                .is_some_and(|s| s.starts_with("no recording"))
        {
            continue;
        }
        if let Err(e) = crate::record::write::write(path, &run::scaffold::skeleton(t, &date), false)
        {
            return fail(e);
        }
        println!("wrote {}", path.display());
        written += 1;
    }
    println!(
        "{written} recording skeleton{} written",
        if written == 1 { "" } else { "s" }
    );
    ExitCode::SUCCESS
}

fn collect_yaml(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            collect_yaml(&p, out);
        } else if matches!(p.extension().and_then(|x| x.to_str()), Some("yaml" | "yml")) {
            out.push(p);
        }
    }
}

fn run_suites(args: RunArgs) -> ExitCode {
    let inputs = match load_inputs(&args.input.targets, &args.suites, &args.only_targets) {
        Ok(i) => i,
        Err(code) => return code,
    };
    let env = |k: &str| std::env::var(k).ok();
    let trials = run::plan(&PlanInput {
        suites: &inputs.suites,
        targets: &inputs.targets,
        mode: args.mode,
        fixtures: &args.input.fixtures,
        tags: &args.tags,
        env: &env,
    });
    if trials.is_empty() {
        return fail("the suites and targets selected give no trial (check --tag and --target)");
    }
    let transport = {
        let _guard = run::runtime().enter();
        Transport::new()
    };
    let ctx = Arc::new(RunContext {
        mode: args.mode,
        transport,
        request_timeout: Duration::from_millis(args.request_timeout_ms),
        trial_deadline: Duration::from_millis(args.trial_deadline_ms),
        env: Arc::new(|k: &str| std::env::var(k).ok()),
        speed: args.speed,
    });
    let result = match run::run(&args.libtest, trials, ctx) {
        Ok(r) => r,
        Err(e) => return fail(e),
    };
    if args.libtest.list {
        return ExitCode::SUCCESS;
    }
    let mut written = Vec::new();
    if !args.no_reports {
        let junit = match report::junit::render(&result.outcomes) {
            Ok(x) => x,
            Err(e) => return fail(format!("cannot render JUnit: {e}")),
        };
        let path = args.reports.join("junit.xml");
        if let Err(e) = report::write_atomic(&path, junit.as_bytes()) {
            return fail(format!("cannot write {}: {e}", path.display()));
        }
        written.push(path.display().to_string());
    }
    let color = match args.libtest.color {
        Some(libtest_mimic::ColorSetting::Always) => true,
        Some(libtest_mimic::ColorSetting::Never) => false,
        _ => std::env::var_os("NO_COLOR").is_none() && std::io::stdout().is_terminal(),
    };
    if !args.libtest.quiet || result.conclusion.has_failed() {
        print!(
            "{}",
            report::console::summary(&result.outcomes, &written, color)
        );
    }
    if result.conclusion.has_failed() {
        ExitCode::from(101)
    } else {
        ExitCode::SUCCESS
    }
}

//! The command line: `provcheck [OPTIONS] [FILTER]` runs suites (libtest's flags included);
//! `provcheck lint [PATHS]` only checks inputs; `audit`, `diff` and `merge` work on run
//! records (`reports/run.json`) without running anything.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

use crate::client::Transport;
use crate::outcome::SkipKind;
use crate::outcome::{Mode, Outcome, Status};
use crate::record::{RecordPolicy, Recording};
use crate::report::run_record::{RunRecord, Selection, SuiteInfo, TargetInfo, Totals};
use crate::report::{self, run_record};
use crate::run::plan::Partition;
use crate::run::{self, PlanInput, RunContext};
use crate::suite::{self, Diagnostic, Known, Suite};
use crate::target::{self, Target};

/// Exit code for bad input (suites, targets, recordings, run records, arguments).
pub const EXIT_INPUT: u8 = 2;
/// Exit code of a run with a failed or errored trial (libtest's), or a required target skipped.
pub const EXIT_FAILED: u8 = 101;
/// Exit code of `diff` when shape drift was found.
pub const EXIT_DRIFT: u8 = 1;

#[derive(Parser)]
#[command(
    name = "provcheck",
    version,
    about = "Conformance harness for LLM provider APIs",
    // libtest-mimic's flattened arguments bring their own template, which drops the name and
    // the description (and its doc comment would replace `about`); ours restores them.
    help_template = "provcheck {version}: conformance harness for LLM provider APIs\n\n{usage-heading} {usage}\n\n{all-args}{after-help}",
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
    /// Render the coverage audit (COVERAGE_AUDIT.md) from a run record.
    Audit(AuditArgs),
    /// Compare two run records for provider drift; exit 1 when the reply shapes drifted.
    Diff(DiffArgs),
    /// Join run records (CI shards) and write run.json, junit.xml and COVERAGE_AUDIT.md.
    Merge(MergeArgs),
    /// Print the JSON Schema of a suite, targets.yaml or a recording (for editors; the copies
    /// in schemas/ are the same).
    Schema(SchemaArgs),
    /// Find a server's dialect, models and capabilities, and write its targets.yaml entry.
    Probe(crate::probe::ProbeArgs),
}

#[derive(Args)]
struct SchemaArgs {
    /// Which file's schema.
    #[arg(value_enum)]
    kind: crate::schema::SchemaKind,
}

#[derive(Args)]
struct AuditArgs {
    /// The run record (reports/run.json).
    record: PathBuf,
    /// An earlier run record: the audit then says what changed since.
    #[arg(long, value_name = "OLD.json")]
    previous: Option<PathBuf>,
    /// Where to write (default: COVERAGE_AUDIT.md beside the record; `-` for stdout).
    #[arg(long, value_name = "PATH")]
    output: Option<PathBuf>,
}

#[derive(Args)]
struct DiffArgs {
    /// The baseline run record (e.g. a replay of the committed recordings).
    old: PathBuf,
    /// The run record to check (e.g. a live run).
    new: PathBuf,
    /// Write the Markdown here instead of stdout.
    #[arg(long, value_name = "PATH")]
    output: Option<PathBuf>,
}

#[derive(Args)]
struct MergeArgs {
    /// The directory to write run.json, junit.xml and COVERAGE_AUDIT.md into.
    #[arg(long, value_name = "DIR")]
    output: PathBuf,
    /// The run records to join.
    #[arg(required = true, value_name = "RUN.json")]
    records: Vec<PathBuf>,
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
    /// replay: recordings on a local mock (no keys, no network); live: the real APIs; record:
    /// live, and each trial's exchanges written to --fixtures (see --record).
    /// [default: replay; with --rerun-failed, the record's mode]
    #[arg(long, value_enum)]
    mode: Option<Mode>,
    /// With --mode record: `missing` records only trials with no recording and replays the
    /// others; `all` sends every trial and rewrites its recording. [default: missing]
    #[arg(long, value_enum, value_name = "WHICH")]
    record: Option<RecordPolicy>,
    /// Live and record modes: send at most N requests to real APIs in this run (retries
    /// included); trials that would exceed it are skipped with the reason.
    #[arg(long, value_name = "N")]
    max_requests: Option<u64>,
    /// Live and record modes: start no trial once replies have reported N output tokens.
    #[arg(long, value_name = "N")]
    max_output_tokens: Option<u64>,
    /// Live and record modes: trials in flight at once per target, to stay under its rate
    /// limits.
    #[arg(long, value_name = "N", default_value_t = run::live::DEFAULT_CONCURRENCY,
          value_parser = parse_concurrency)]
    live_concurrency: usize,
    /// A replayed recording with an exchange the trial never asked for is an error.
    #[arg(long)]
    strict: bool,
    /// What behaviour findings alone (text, which tool, argument values: what the model chose
    /// to say) do to a trial: `fail` it, or `warn` (it passes with the findings shown, so the
    /// run gates on the contract alone).
    #[arg(long, value_enum, default_value = "fail", value_name = "fail|warn")]
    behaviour: crate::outcome::BehaviourMode,
    /// A suite file or directory (repeatable; default: suites/).
    #[arg(long = "suite", value_name = "PATH")]
    suites: Vec<PathBuf>,
    /// Run only against this target (repeatable; default: every target).
    #[arg(long = "target", value_name = "NAME")]
    only_targets: Vec<String>,
    /// Run only scenarios carrying this tag (repeatable).
    #[arg(long = "tag", value_name = "TAG")]
    tags: Vec<String>,
    /// A target that must be exercised: a skip there for want of a key or a recording fails
    /// the run (repeatable).
    #[arg(long = "require", value_name = "NAME")]
    require: Vec<String>,
    /// Run only shard K of N: the planned trials, sorted by name, dealt round-robin.
    #[arg(long, value_name = "K/N")]
    partition: Option<Partition>,
    /// Rerun only the trials that failed or errored in this run record.
    #[arg(long, value_name = "RUN.json")]
    rerun_failed: Option<PathBuf>,
    /// Where reports are written.
    #[arg(long, value_name = "DIR", default_value = "reports")]
    reports: PathBuf,
    /// Write no report files (nor GitHub's step summary, appended to when
    /// GITHUB_STEP_SUMMARY is set).
    #[arg(long)]
    no_reports: bool,
    /// Request deadline when a scenario sets none, in milliseconds.
    #[arg(long, value_name = "MS", default_value_t = 30_000)]
    request_timeout_ms: u64,
    /// Whole-trial deadline when a scenario sets none, in milliseconds.
    #[arg(long, value_name = "MS", default_value_t = 120_000)]
    trial_deadline_ms: u64,
    /// End the run after this long (e.g. 30m, 1h30m, 90s): trials not finished by then are
    /// errors with the reason, and the reports are still written.
    #[arg(long, value_name = "DURATION", value_parser = run::stop::parse_duration)]
    run_deadline: Option<Duration>,
    /// Replay speed for recorded stream timing (1 = as recorded, 0 = no waiting, 2 = twice as
    /// fast). Scripted delays and timeouts are never scaled.
    #[arg(long, value_name = "FACTOR", default_value_t = 1.0, value_parser = parse_speed)]
    speed: f64,
    /// Gateway mode: send scenario requests to the gateway at this base URL (as an SDK of its
    /// dialect takes it: `http://127.0.0.1:4000/v1` for OpenAI) and judge it; its upstream
    /// must be the mock at --mock-addr. Replay mode; trials run one at a time.
    #[arg(long, value_name = "URL", requires = "mock_addr")]
    gateway: Option<String>,
    /// Gateway mode: the address the mock listens on, the gateway's configured upstream.
    #[arg(long, value_name = "ADDR", requires = "gateway")]
    mock_addr: Option<std::net::SocketAddr>,
    /// Gateway mode: the dialect the gateway speaks to its callers.
    #[arg(long, value_name = "DIALECT", default_value = "openai", requires = "gateway",
          value_parser = parse_dialect)]
    gateway_dialect: crate::dialect::DialectKind,
    /// Gateway mode: the environment variable holding the key the gateway expects.
    #[arg(long, value_name = "VAR", requires = "gateway")]
    gateway_key_env: Option<String>,
    /// Client mode: run this command (with `/bin/sh -c`) once per trial as the client under
    /// test, aimed at the trial's mock, and judge what it reports (docs/CLIENTS.md).
    #[arg(long, value_name = "CMD", conflicts_with_all = ["gateway", "client"])]
    client_cmd: Option<String>,
    /// Client mode: the client under test named NAME in targets.yaml's `clients:`.
    #[arg(long, value_name = "NAME", conflicts_with = "gateway")]
    client: Option<String>,
    /// Client mode with --client-cmd: a dialect the client speaks (repeatable; default: all).
    #[arg(long = "client-dialect", value_name = "DIALECT", requires = "client_cmd",
          value_parser = parse_dialect)]
    client_dialects: Vec<crate::dialect::DialectKind>,
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

fn parse_dialect(s: &str) -> Result<crate::dialect::DialectKind, String> {
    crate::dialect::DialectKind::ALL
        .into_iter()
        .find(|d| d.as_str() == s)
        .ok_or_else(|| format!("`{s}` is not a dialect (openai, anthropic or ollama)"))
}

/// Checked here rather than by clap, whose error would echo the URL and any password in it.
fn check_gateway_url(s: &str) -> Result<(), String> {
    let url = reqwest::Url::parse(s).map_err(|e| format!("--gateway: not a URL: {e}"))?;
    // A key belongs in --gateway-key-env, where it stays out of the reports.
    if !url.username().is_empty() || url.password().is_some() {
        return Err("--gateway: the URL must not carry credentials; use --gateway-key-env".into());
    }
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err(format!("--gateway: `{s}` is not an http(s) URL"));
    }
    Ok(())
}

fn parse_concurrency(s: &str) -> Result<usize, String> {
    match s.parse::<usize>() {
        Ok(n) if n >= 1 => Ok(n),
        _ => Err(format!("`{s}` is not a concurrency (a whole number >= 1)")),
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

/// Parses the command line and runs it: `Ok` with the exit code of a command that did its
/// work (which may say that trials failed or that records drifted), `Err` when it could not.
pub fn run() -> Result<ExitCode, CliError> {
    let cli = parse_forgiving(std::env::args_os().collect());
    match cli.command {
        Some(Command::Lint(args)) => lint(args),
        Some(Command::Scaffold(args)) => scaffold(args),
        Some(Command::Audit(args)) => audit(args),
        Some(Command::Diff(args)) => diff(args),
        Some(Command::Merge(args)) => merge(args),
        Some(Command::Schema(args)) => {
            print!("{}", crate::schema::to_text(args.kind));
            Ok(ExitCode::SUCCESS)
        }
        Some(Command::Probe(args)) => probe(&args),
        None => run_suites(cli.run),
    }
}

/// Parses `args`, forgiving a subcommand written after options (`provcheck --targets F
/// lint`): clap takes the first positional of the run command as libtest's filter, so the
/// subcommand is moved to the front and the line parsed again. When the moved line still does
/// not parse, clap's error is followed by the spelling that would have.
fn parse_forgiving(args: Vec<std::ffi::OsString>) -> Cli {
    let Some(at) = misplaced_subcommand(&args) else {
        return Cli::try_parse_from(&args).unwrap_or_else(|e| {
            let _ = e.print();
            // clap reads a second filter word as a subcommand it does not know.
            if e.kind() == clap::error::ErrorKind::ArgumentConflict
                && e.to_string().contains("the subcommand '")
            {
                eprintln!(
                    "note: a run takes one name filter (a substring of `suite::scenario::target`); \
                     narrow it with --exact, --skip, --suite, --target or --tag"
                );
            }
            std::process::exit(e.exit_code())
        });
    };
    let mut moved = args;
    let sub = moved.remove(at);
    moved.insert(1, sub);
    match Cli::try_parse_from(&moved) {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            let line: Vec<String> = moved
                .iter()
                .skip(1)
                .map(|a| a.to_string_lossy().into_owned())
                .collect();
            eprintln!(
                "note: a subcommand comes first; this was read as `provcheck {}`",
                line.join(" ")
            );
            std::process::exit(e.exit_code());
        }
    }
}

/// Where a subcommand name stands as the first positional argument, when that is not right
/// after the program name. Values of options (`--tag lint`) are not positionals, and nothing
/// after `--` is looked at.
fn misplaced_subcommand(args: &[std::ffi::OsString]) -> Option<usize> {
    use clap::CommandFactory;
    let cmd = Cli::command();
    let subcommands: Vec<&str> = cmd.get_subcommands().map(|c| c.get_name()).collect();
    let takes_value = |name: &str| {
        cmd.get_arguments().any(|a| {
            let named = if let Some(long) = name.strip_prefix("--") {
                a.get_long() == Some(long)
            } else {
                let mut chars = name.chars().skip(1);
                let short = chars.next();
                chars.next().is_none() && short.is_some() && a.get_short() == short
            };
            named && a.get_action().takes_values()
        })
    };
    let mut i = 1;
    while i < args.len() {
        let arg = args[i].to_str()?;
        if arg == "--" {
            return None;
        }
        if arg.starts_with('-') && arg.len() > 1 {
            // `--opt value` skips the value too; `--opt=value` is one argument.
            if !arg.contains('=') && takes_value(arg) {
                i += 1;
            }
            i += 1;
            continue;
        }
        return (i > 1 && subcommands.contains(&arg)).then_some(i);
    }
    None
}

struct Inputs {
    targets: Vec<Arc<Target>>,
    suites: Vec<Suite>,
    /// The key variables of every target known (selected or not) and the configured secret
    /// variables: no recording may contain their values.
    key_vars: Vec<String>,
    secret_vars: Vec<String>,
}

/// Reads the targets and the suites. `locate` false (listing trials) loads scenarios without
/// their source locations, which nothing listed needs and which cost a second parse.
fn load_inputs(
    targets_file: &Path,
    paths: &[PathBuf],
    only: &[String],
    locate: bool,
) -> Result<Inputs, CliError> {
    let ollama_host = std::env::var("OLLAMA_HOST").ok();
    let all = target::load(targets_file, ollama_host.as_deref()).map_err(reported)?;
    let known = Known {
        aliases: all.iter().flat_map(|t| t.models.keys().cloned()).collect(),
        targets: all.iter().map(|t| t.name.clone()).collect(),
    };
    let key_vars = all.iter().filter_map(|t| t.key_env.clone()).collect();
    let secret_vars = all.iter().flat_map(|t| t.redact.env.clone()).collect();
    for name in only {
        if !known.targets.contains(name) {
            let names: Vec<&str> = known.targets.iter().map(String::as_str).collect();
            return Err(CliError::input(format!(
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
    let files = suite::load::expand_paths(paths)?;
    if files.is_empty() {
        return Err(CliError::input(format!(
            "no suite files (*.yaml) under {}",
            paths
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        )));
    }
    let suites = if locate {
        suite::load_suites(&files, &known)
    } else {
        suite::load::load_suites_unlocated(&files, &known)
    };
    let suites = suites.map_err(reported)?;
    Ok(Inputs {
        targets,
        suites,
        key_vars,
        secret_vars,
    })
}

/// Prints diagnostics where they were found, for a [`CliError::Reported`].
fn reported(diags: Vec<Diagnostic>) -> CliError {
    print_diagnostics(&diags);
    CliError::Reported
}

fn lint(args: LintArgs) -> Result<ExitCode, CliError> {
    let inputs = load_inputs(&args.input.targets, &args.paths, &[], true)?;
    let mut recordings = Vec::new();
    collect_yaml(&args.input.fixtures, &mut recordings);
    recordings.sort();
    // Live truth: a broken reply a scenario expects must come from its own fault script.
    let diags: Vec<Diagnostic> = inputs
        .suites
        .iter()
        .flat_map(suite::live_truth::unexplained_breakage)
        .chain(
            inputs
                .suites
                .iter()
                .flat_map(suite::applicability::unexplained_exclusions),
        )
        .chain(recordings.iter().filter_map(|p| Recording::load(p).err()))
        .collect();
    if !diags.is_empty() {
        return Err(reported(diags));
    }
    let scenarios: usize = inputs.suites.iter().map(|s| s.scenarios.len()).sum();
    println!(
        "ok: {} suites, {scenarios} scenarios, {} targets, {} recordings",
        inputs.suites.len(),
        inputs.targets.len(),
        recordings.len()
    );
    Ok(ExitCode::SUCCESS)
}

fn scaffold(args: ScaffoldArgs) -> Result<ExitCode, CliError> {
    let inputs = load_inputs(&args.input.targets, &args.suites, &args.only_targets, true)?;
    let env = |_: &str| None;
    let trials = run::plan(&PlanInput {
        suites: &inputs.suites,
        targets: &inputs.targets,
        mode: Mode::Replay,
        record: RecordPolicy::Missing,
        fixtures: &args.input.fixtures,
        tags: &[],
        env: &env,
        gateway: None,
    });
    let date = chrono::Utc::now().format("%Y-%m-%d").to_string();
    let mut written = 0;
    for t in trials
        .iter()
        .filter(|t| args.filter.as_deref().is_none_or(|f| t.name.contains(f)))
    {
        let Some(path) = &t.recording else { continue };
        // Only trials skipped for lack of a recording get one; capability skips stay skips.
        let not_recorded = t
            .skip
            .as_ref()
            .is_some_and(|s| s.kind == SkipKind::NotRecorded);
        if path.exists() || !not_recorded {
            continue;
        }
        crate::record::write::write(path, &run::scaffold::skeleton(t, &date), false)?;
        println!("wrote {}", path.display());
        written += 1;
    }
    println!(
        "{written} recording skeleton{} written",
        if written == 1 { "" } else { "s" }
    );
    Ok(ExitCode::SUCCESS)
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

/// The trials that failed or errored in a record.
fn failed_in(record: &RunRecord) -> std::collections::BTreeSet<String> {
    record
        .outcomes
        .iter()
        .filter(|o| matches!(o.status, Status::Fail | Status::Error))
        .map(|o| o.trial.clone())
        .collect()
}

/// Trials spend their time waiting on sockets and scripted delays, not on the CPU, so the
/// default is more threads than cores; `--test-threads` and RUST_TEST_THREADS still decide.
const DEFAULT_TEST_THREADS: usize = 8;

/// Why a command could not do its work: bad input of any kind (arguments, suites, targets,
/// recordings, run records) or a file it could not write. The binary turns every kind into
/// [`EXIT_INPUT`]; failed trials and drift are not errors but exit codes of a command that
/// did its work.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CliError {
    /// One line saying what is wrong.
    #[error("{0}")]
    Input(String),
    /// Problems already printed with their locations (suites, targets.yaml, recordings).
    #[error("problems in the inputs (printed above)")]
    Reported,
    /// A suite path that cannot be listed.
    #[error(transparent)]
    SuitePath(#[from] suite::load::PathError),
    /// A run record that cannot be read.
    #[error(transparent)]
    RunRecord(#[from] run_record::LoadError),
    /// Records that cannot be merged.
    #[error(transparent)]
    Merge(#[from] report::merge::MergeError),
    /// Reports that could not be written.
    #[error(transparent)]
    Reports(#[from] report::WriteError),
    /// A recording (skeleton) that could not be written.
    #[error(transparent)]
    Recording(#[from] crate::record::write::WriteError),
    /// A probe that could not do its work.
    #[error(transparent)]
    Probe(#[from] crate::probe::ProbeError),
    /// A file that could not be written.
    #[error("cannot write {}: {source}", path.display())]
    Write {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
}

impl CliError {
    fn input(msg: impl std::fmt::Display) -> CliError {
        CliError::Input(msg.to_string())
    }
}

/// A run's arguments, checked and resolved: the mode, what to record, the trials to rerun.
struct RunConfig {
    args: RunArgs,
    mode: Mode,
    record_policy: RecordPolicy,
    /// `--rerun-failed`: the record, and the trials that failed or errored in it.
    rerun: Option<(PathBuf, std::collections::BTreeSet<String>)>,
    /// `--gateway-key-env`: the key read from it.
    gateway_key: Option<String>,
    /// Client mode: the client under test.
    client: Option<target::ClientSpec>,
}

fn run_suites(args: RunArgs) -> Result<ExitCode, CliError> {
    match configure(args)? {
        Some(config) => execute(config),
        None => Ok(ExitCode::SUCCESS),
    }
}

/// Libtest's thread count: one in gateway mode (the mock at --mock-addr serves one trial at a
/// time: the gateway's upstream requests carry nothing that says which trial they belong
/// to); otherwise --test-threads, RUST_TEST_THREADS, or the default.
fn settle_threads(args: &mut RunArgs) {
    if args.gateway.is_some() {
        if args.libtest.test_threads.is_some_and(|n| n > 1) {
            eprintln!("note: gateway mode runs one trial at a time; --test-threads ignored");
        }
        args.libtest.test_threads = Some(1);
    }
    if args.libtest.test_threads.is_none() {
        let from_env = std::env::var("RUST_TEST_THREADS")
            .ok()
            .and_then(|v| v.parse::<usize>().ok())
            .filter(|n| *n > 0);
        let cores = std::thread::available_parallelism()
            .map(usize::from)
            .unwrap_or(1);
        args.libtest.test_threads = Some(from_env.unwrap_or(cores.max(DEFAULT_TEST_THREADS)));
    }
}

/// Checks the arguments against each other and resolves them into a [`RunConfig`]; `None`
/// when there is nothing to do (a rerun of a record with no failure).
fn configure(mut args: RunArgs) -> Result<Option<RunConfig>, CliError> {
    settle_threads(&mut args);
    let rerun = match &args.rerun_failed {
        None => None,
        Some(path) => {
            let r = RunRecord::load(path).map_err(CliError::input)?;
            Some((path.clone(), failed_in(&r), r.mode))
        }
    };
    if let Some((path, names, _)) = &rerun
        && names.is_empty()
    {
        println!(
            "no trial failed or errored in {}; nothing to rerun",
            path.display()
        );
        return Ok(None);
    }
    let mode = args
        .mode
        .or(rerun.as_ref().map(|(_, _, m)| *m))
        .unwrap_or(Mode::Replay);
    if let Some(r) = args.record
        && mode != Mode::Record
    {
        return Err(CliError::input(format!(
            "--record {} needs --mode record (this run's mode is {})",
            match r {
                RecordPolicy::Missing => "missing",
                RecordPolicy::All => "all",
            },
            mode.as_str()
        )));
    }
    if let Some(url) = &args.gateway {
        check_gateway_url(url).map_err(CliError::Input)?;
    }
    if args.gateway.is_some() && mode != Mode::Replay {
        return Err(CliError::input(format!(
            "--gateway judges a gateway whose upstream is the local mock: it runs in replay mode, not {}",
            mode.as_str()
        )));
    }
    let gateway_key = match &args.gateway_key_env {
        Some(var) => match std::env::var(var) {
            Ok(v) if !v.trim().is_empty() => Some(v),
            _ => {
                return Err(CliError::input(format!(
                    "--gateway-key-env {var}: {var} is not set"
                )));
            }
        },
        None => None,
    };
    let client = client_under_test(&args, mode)?;
    Ok(Some(RunConfig {
        record_policy: args.record.unwrap_or_default(),
        mode,
        rerun: rerun.map(|(p, names, _)| (p, names)),
        gateway_key,
        client,
        args,
    }))
}

/// The client under test: `--client-cmd`, or `--client NAME` from targets.yaml's `clients:`.
/// Client mode judges a client against the local mock, so it runs in replay mode.
fn client_under_test(args: &RunArgs, mode: Mode) -> Result<Option<target::ClientSpec>, CliError> {
    let spec = match (&args.client_cmd, &args.client) {
        (Some(cmd), _) => target::ClientSpec {
            name: run::client_cmd::name_of_command(cmd),
            command: cmd.clone(),
            dialects: args.client_dialects.clone(),
            workdir: None,
            env: Default::default(),
        },
        (None, Some(name)) => {
            let clients = target::load_clients(&args.input.targets).map_err(|d| {
                print_diagnostics(&d);
                CliError::Reported
            })?;
            let names: Vec<&str> = clients.iter().map(|c| c.name.as_str()).collect();
            let known = names.join(", ");
            match clients.iter().find(|c| &c.name == name) {
                Some(c) => c.clone(),
                None => {
                    return Err(CliError::input(format!(
                        "--client {name}: {} declares no such client (known: {})",
                        args.input.targets.display(),
                        if known.is_empty() { "none" } else { &known }
                    )));
                }
            }
        }
        (None, None) => return Ok(None),
    };
    if mode != Mode::Replay {
        return Err(CliError::input(format!(
            "client mode judges a client against the local mock: it runs in replay mode, not {}",
            mode.as_str()
        )));
    }
    Ok(Some(spec))
}

/// Loads the inputs, plans, selects the trials and runs them, then concludes.
fn execute(cfg: RunConfig) -> Result<ExitCode, CliError> {
    let args = &cfg.args;
    let inputs = load_inputs(
        &args.input.targets,
        &args.suites,
        &args.only_targets,
        !args.libtest.list,
    )?;
    check_required(&args.require, &inputs.targets)?;
    let trials = select_trials(&cfg, &inputs)?;
    let planned = trials.len();
    let ctx = Arc::new(context(&cfg, &inputs)?);
    // What the record says about the suites is taken now and the suites let go: each
    // scenario is then freed once its trials have run, rather than kept beside every outcome
    // until the reports are written (a large run's peak memory).
    let suite_infos: Vec<SuiteInfo> = if args.libtest.list {
        Vec::new()
    } else {
        inputs.suites.iter().map(SuiteInfo::from_suite).collect()
    };
    let inputs = Inputs {
        suites: Vec::new(),
        ..inputs
    };
    let started_at = run_record::now();
    let text = report::text::libtest_text;
    if !args.libtest.list {
        run::stop::arm(&ctx.stop, args.run_deadline);
    }
    let stop = ctx.stop.clone();
    let result =
        run::run(&args.libtest, trials, ctx, args.partition, text).map_err(CliError::input)?;
    if args.libtest.list {
        return Ok(ExitCode::SUCCESS);
    }
    if let Some(p) = args.partition
        && result.outcomes.is_empty()
    {
        // An empty shard is normal when there are more shards than trials; its empty record
        // still merges, so CI jobs need no special case.
        eprintln!(
            "note: partition {p} holds no selected trial (the plan has {planned}); nothing ran"
        );
    }
    let excused = unreachable_unrequired(&result.outcomes, &args.require);
    let failed = result.conclusion.num_failed > excused;
    let mut record = run_record_of(&cfg, &inputs, suite_infos, started_at, result.outcomes);
    let stopped = stop.reason();
    record.interrupted = stopped.is_some_and(|r| r.exit_code().is_some());
    let code = conclude(&cfg, &record, failed)?;
    if let Some(r) = stopped {
        eprintln!("error: the run stopped early: {}", r.message());
        if let Some(c) = r.exit_code() {
            return Ok(ExitCode::from(c));
        }
    }
    Ok(code)
}

/// Every `--require`d target must be one this run can use.
fn check_required(require: &[String], targets: &[Arc<Target>]) -> Result<(), CliError> {
    for name in require {
        if !targets.iter().any(|t| &t.name == name) {
            return Err(CliError::input(format!(
                "--require {name}: `{name}` is not a target of this run (known and selected: {})",
                targets
                    .iter()
                    .map(|t| t.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )));
        }
    }
    Ok(())
}

/// The plan, narrowed to the trials to rerun when `--rerun-failed` is given.
fn select_trials(cfg: &RunConfig, inputs: &Inputs) -> Result<Vec<run::PlannedTrial>, CliError> {
    let args = &cfg.args;
    let env = |k: &str| std::env::var(k).ok();
    let mut trials = run::plan(&PlanInput {
        suites: &inputs.suites,
        targets: &inputs.targets,
        mode: cfg.mode,
        record: cfg.record_policy,
        fixtures: &args.input.fixtures,
        tags: &args.tags,
        env: &env,
        gateway: args.gateway.as_ref().map(|_| args.gateway_dialect),
    });
    if let Some(client) = &cfg.client {
        trials = run::client_cmd::narrow_plan(trials, client);
    }
    if let Some((path, names)) = &cfg.rerun {
        let planned: std::collections::BTreeSet<&str> =
            trials.iter().map(|t| t.name.as_str()).collect();
        let gone: Vec<&str> = names
            .iter()
            .map(String::as_str)
            .filter(|n| !planned.contains(n))
            .collect();
        if !gone.is_empty() {
            eprintln!(
                "warning: {} trial(s) that failed in {} are not in this plan (suites, --target or --tag changed): {}",
                gone.len(),
                path.display(),
                gone.join(", ")
            );
        }
        trials.retain(|t| names.contains(&t.name));
        if trials.is_empty() {
            return Err(CliError::input(format!(
                "none of the {} trial(s) that failed in {} is in this plan",
                names.len(),
                path.display()
            )));
        }
        eprintln!(
            "note: rerunning the {} trial(s) that failed or errored in {}",
            trials.len(),
            path.display()
        );
    }
    if trials.is_empty() {
        return Err(CliError::input(
            "the suites and targets selected give no trial (check --tag and --target)",
        ));
    }
    Ok(trials)
}

/// What every trial of the run shares: the HTTP client, deadlines, live-mode limits and the
/// gateway under test.
fn context(cfg: &RunConfig, inputs: &Inputs) -> Result<RunContext, CliError> {
    let args = &cfg.args;
    let transport = {
        let _guard = run::runtime().enter();
        Transport::new()
    };
    let gateway = match (&args.gateway, args.mock_addr) {
        (Some(url), Some(addr)) if !args.libtest.list => {
            let mock = crate::mock::FixedMock::bind(addr).map_err(|e| {
                CliError::input(format!("--mock-addr {addr}: cannot listen there: {e}"))
            })?;
            Some(run::gateway::Gateway {
                url: url.clone(),
                dialect: args.gateway_dialect,
                key: cfg.gateway_key.clone(),
                mock,
            })
        }
        _ => None,
    };
    let env = |k: &str| std::env::var(k).ok();
    Ok(RunContext {
        mode: cfg.mode,
        transport,
        request_timeout: Duration::from_millis(args.request_timeout_ms),
        trial_deadline: Duration::from_millis(args.trial_deadline_ms),
        env: Arc::new(|k: &str| std::env::var(k).ok()),
        speed: args.speed,
        live: run::live::Live::new(
            run::live::Budget::new(args.max_requests, args.max_output_tokens),
            args.live_concurrency,
            crate::record::redact::Secrets::from_env(
                inputs.key_vars.iter().map(String::as_str),
                inputs.secret_vars.iter().map(String::as_str),
                &env,
            ),
            cfg.record_policy == RecordPolicy::All,
            chrono::Utc::now().format("%Y-%m-%d").to_string(),
        ),
        strict: args.strict,
        gateway,
        behaviour: args.behaviour,
        client: cfg
            .client
            .clone()
            .map(run::client_cmd::ClientUnderTest::new),
        stop: Arc::default(),
    })
}

/// The run as a record, for the reports and for `diff`, `merge` and `--rerun-failed`.
fn run_record_of(
    cfg: &RunConfig,
    inputs: &Inputs,
    suite_infos: Vec<SuiteInfo>,
    started_at: String,
    outcomes: Vec<Outcome>,
) -> RunRecord {
    let args = &cfg.args;
    RunRecord {
        format: run_record::FORMAT.into(),
        format_version: run_record::FORMAT_VERSION,
        provcheck_version: env!("CARGO_PKG_VERSION").into(),
        started_at,
        finished_at: run_record::now(),
        mode: cfg.mode,
        selection: Selection {
            filter: args.libtest.filter.clone(),
            skip: args.libtest.skip.clone(),
            tags: args.tags.clone(),
            partition: args.partition.map(|p| p.to_string()),
            rerun_failed_from: args.rerun_failed.as_ref().map(|p| p.display().to_string()),
            merged_from: Vec::new(),
        },
        targets: inputs
            .targets
            .iter()
            .map(|t| TargetInfo::from_target(t, args.require.contains(&t.name)))
            .collect(),
        suites: suite_infos,
        totals: Totals::of(&outcomes),
        spent: run_record::spent_by_target(&outcomes),
        budget: (args.max_requests.is_some() || args.max_output_tokens.is_some()).then_some(
            run_record::BudgetInfo {
                max_requests: args.max_requests,
                max_output_tokens: args.max_output_tokens,
            },
        ),
        interrupted: false,
        gateway: args.gateway.as_ref().map(|url| run_record::GatewayInfo {
            url: url.clone(),
            dialect: args.gateway_dialect,
            mock_addr: args.mock_addr.map(|a| a.to_string()).unwrap_or_default(),
        }),
        behaviour: args.behaviour,
        outcomes,
    }
}

/// Writes the reports, prints the summary and says how the run ended: failed when a trial
/// failed or errored (`failed`) or a required target was not exercised.
fn conclude(cfg: &RunConfig, record: &RunRecord, failed: bool) -> Result<ExitCode, CliError> {
    let args = &cfg.args;
    let mut written = Vec::new();
    if !args.no_reports {
        match report::write_all(&args.reports, record) {
            Ok(paths) => written.extend(paths.iter().map(|p| p.display().to_string())),
            Err(e) => return Err(CliError::input(e)),
        }
        if let Some(p) = report::step_summary::append_if_requested(record)? {
            written.push(format!("{} (appended)", p.display()));
        }
    }
    let color = match args.libtest.color {
        Some(libtest_mimic::ColorSetting::Always) => true,
        Some(libtest_mimic::ColorSetting::Never) => false,
        _ => std::env::var_os("NO_COLOR").is_none() && std::io::stdout().is_terminal(),
    };
    let unavailable = required_skips(&record.outcomes, &args.require);
    if !args.libtest.quiet || failed || !unavailable.is_empty() {
        print!(
            "{}",
            report::console::summary(&record.outcomes, &written, color)
        );
    }
    for (target, (n, reason)) in &unavailable {
        eprintln!("error: required target {target} was not exercised: {n} trial(s) {reason}");
    }
    if failed || !unavailable.is_empty() {
        Ok(ExitCode::from(EXIT_FAILED))
    } else {
        Ok(ExitCode::SUCCESS)
    }
}

/// How many trials errored only because the preflight found their target unusable, on targets
/// the run does not `--require`. They stay errors in every report, but like a target skipped
/// for want of a key they do not fail the run: `--require` is how a run says a target must
/// answer. A note says so once per target.
fn unreachable_unrequired(outcomes: &[Outcome], required: &[String]) -> u64 {
    let mut per_target = std::collections::BTreeMap::<&str, u64>::new();
    for o in outcomes {
        let preflight = o
            .error
            .as_ref()
            .is_some_and(|e| e.kind == crate::outcome::ErrorKind::Preflight);
        if preflight && !required.contains(&o.target) {
            *per_target.entry(o.target.as_str()).or_default() += 1;
        }
    }
    for (target, n) in &per_target {
        eprintln!(
            "note: target `{target}` was not usable: {n} trial(s) not sent (errors in the reports); \
             the run does not fail on it unless run with --require {target}"
        );
    }
    per_target.values().sum()
}

/// Per required target: how many trials were skipped for want of a key or recording, or not
/// sent because its preflight failed, and the first reason.
fn required_skips(
    outcomes: &[Outcome],
    required: &[String],
) -> std::collections::BTreeMap<String, (usize, String)> {
    let mut out = std::collections::BTreeMap::new();
    for o in outcomes {
        let skipped =
            o.status == Status::Skip && o.skip_kind().is_some_and(SkipKind::target_unavailable);
        let unusable = o
            .error
            .as_ref()
            .is_some_and(|e| e.kind == crate::outcome::ErrorKind::Preflight);
        if (skipped || unusable) && required.contains(&o.target) {
            let e = out.entry(o.target.clone()).or_insert_with(|| {
                let verb = if skipped { "skipped" } else { "errored" };
                (
                    0,
                    format!("{verb} ({})", report::text::headline_or_empty(o)),
                )
            });
            e.0 += 1;
        }
    }
    out
}

fn audit(args: AuditArgs) -> Result<ExitCode, CliError> {
    let record = RunRecord::load(&args.record)?;
    let previous = match &args.previous {
        Some(p) => Some(RunRecord::load(p)?),
        None => None,
    };
    let md = report::audit::render(&record, previous.as_ref());
    let path = args.output.unwrap_or_else(|| {
        args.record
            .parent()
            .unwrap_or(Path::new("."))
            .join(report::AUDIT_MD)
    });
    emit(&path, &md)
}

/// Writes `text` to `path` atomically and says so, or prints it when `path` is `-`.
fn emit(path: &Path, text: &str) -> Result<ExitCode, CliError> {
    if path == Path::new("-") {
        print!("{text}");
        return Ok(ExitCode::SUCCESS);
    }
    report::write_atomic(path, text.as_bytes()).map_err(|source| CliError::Write {
        path: path.to_path_buf(),
        source,
    })?;
    println!("wrote {}", path.display());
    Ok(ExitCode::SUCCESS)
}

fn diff(args: DiffArgs) -> Result<ExitCode, CliError> {
    let old = RunRecord::load(&args.old)?;
    let new = RunRecord::load(&args.new)?;
    let drift = report::diff::diff(&old, &new);
    let md = report::diff::render(
        &drift,
        &args.old.display().to_string(),
        &args.new.display().to_string(),
        &old,
        &new,
    );
    emit(args.output.as_deref().unwrap_or(Path::new("-")), &md)?;
    if drift.has_shape_drift() {
        eprintln!(
            "shape drift: {} change(s) between {} and {}",
            drift.shape.len(),
            args.old.display(),
            args.new.display()
        );
        Ok(ExitCode::from(EXIT_DRIFT))
    } else {
        Ok(ExitCode::SUCCESS)
    }
}

fn merge(args: MergeArgs) -> Result<ExitCode, CliError> {
    let mut records = Vec::with_capacity(args.records.len());
    for p in &args.records {
        records.push((p.display().to_string(), RunRecord::load(p)?));
    }
    let merged = report::merge::merge(&records)?;
    let mut paths = report::write_all(&args.output, &merged)?;
    paths.extend(report::step_summary::append_if_requested(&merged)?);
    let t = &merged.totals;
    println!(
        "merged {} records: {} trials, {} passed, {} failed, {} errored, {} skipped",
        records.len(),
        t.trials,
        t.pass,
        t.fail,
        t.error,
        t.skip
    );
    for p in paths {
        println!("wrote {}", p.display());
    }
    Ok(ExitCode::SUCCESS)
}

/// `provcheck probe`: exits 101 when a `--require`d capability was not seen working.
fn probe(args: &crate::probe::ProbeArgs) -> Result<ExitCode, CliError> {
    let probed = crate::probe::run(args)?;
    for (cap, why) in &probed.missing_required {
        eprintln!("error: required capability {cap} was not seen working: {why}");
    }
    Ok(if probed.missing_required.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(EXIT_FAILED)
    })
}

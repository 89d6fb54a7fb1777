//! Reads suite files into the typed model and checks what serde cannot: unique ids, known
//! model aliases, override keys that name a dialect or target. Every problem becomes a
//! [`Diagnostic`] with its location; all of them are collected before the run gives up, so
//! one pass shows every mistake.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::model::{CLIENT_OVERRIDE, GATEWAY_OVERRIDE, Scenario, SuiteFile};
use crate::dialect::DialectKind;
use crate::expect::Expect;
use crate::source::Diagnostic;
use crate::source::location::{Location, SpanIndex};
use crate::source::yaml::{parse_yaml, parse_yaml_indexed, read_source};
use crate::vocab::valid_name;

/// A suite ready to plan.
#[derive(Debug, Clone)]
pub struct Suite {
    /// The suite's name.
    pub name: String,
    /// Its default category.
    pub category: String,
    /// Its description.
    pub description: Option<String>,
    /// The file it came from.
    pub file: Arc<str>,
    /// Its scenarios, shared with the trials that run them.
    pub scenarios: Vec<Arc<Scenario>>,
}

/// Names that suites may refer to, taken from the targets.
#[derive(Debug, Clone, Default)]
pub struct Known {
    /// Model aliases declared by at least one target.
    pub aliases: BTreeSet<String>,
    /// Target names.
    pub targets: BTreeSet<String>,
}

/// A suite path that cannot be listed.
#[derive(Debug, thiserror::Error)]
pub enum PathError {
    /// Nothing is there.
    #[error("{}: no such file or directory", .0.display())]
    Missing(PathBuf),
    /// A directory that could not be read.
    #[error("{}: {source}", path.display())]
    Unreadable {
        /// The directory.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
}

/// Expands directories into their `*.yaml`/`*.yml` files, sorted so runs are reproducible.
pub(crate) fn expand_paths(paths: &[PathBuf]) -> Result<Vec<PathBuf>, PathError> {
    let mut files = Vec::new();
    for p in paths {
        if p.is_dir() {
            let mut found: Vec<PathBuf> = std::fs::read_dir(p)
                .map_err(|source| PathError::Unreadable {
                    path: p.clone(),
                    source,
                })?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|f| {
                    f.is_file()
                        && matches!(f.extension().and_then(|x| x.to_str()), Some("yaml" | "yml"))
                })
                .collect();
            found.sort();
            files.extend(found);
        } else if p.is_file() {
            files.push(p.clone());
        } else {
            return Err(PathError::Missing(p.clone()));
        }
    }
    Ok(files)
}

/// Loads every suite file; returns all diagnostics if any file has a problem.
pub(crate) fn load_suites(files: &[PathBuf], known: &Known) -> Result<Vec<Suite>, Vec<Diagnostic>> {
    load_all(files, known, true)
}

/// [`load_suites`] for listing trials: the scenarios carry no source locations (diagnostics
/// still do), which spares indexing every file's spans, a second parse of it.
pub(crate) fn load_suites_unlocated(
    files: &[PathBuf],
    known: &Known,
) -> Result<Vec<Suite>, Vec<Diagnostic>> {
    load_all(files, known, false)
}

fn load_all(files: &[PathBuf], known: &Known, locate: bool) -> Result<Vec<Suite>, Vec<Diagnostic>> {
    let mut suites = Vec::new();
    let mut diags = Vec::new();
    let mut names: HashMap<String, Location> = HashMap::new();
    for (path, loaded) in files.iter().zip(load_each(files, known, locate)) {
        match loaded {
            Ok(suite) => {
                let loc = Location {
                    file: suite.file.clone(),
                    line: 1,
                    col: 1,
                };
                if let Some(first) = names.get(&suite.name) {
                    let source = std::fs::read_to_string(path).unwrap_or_default();
                    diags.push(
                        Diagnostic::new(
                            format!("duplicate suite name `{}`", suite.name),
                            loc,
                            &source,
                        )
                        .with_help(format!("first defined in {}", first.file)),
                    );
                } else {
                    names.insert(suite.name.clone(), loc);
                    suites.push(suite);
                }
            }
            Err(mut d) => diags.append(&mut d),
        }
    }
    if diags.is_empty() {
        Ok(suites)
    } else {
        Err(diags)
    }
}

/// [`load_suite`] on every file, on up to one thread per core (files are independent and
/// parsing is most of the time of a large run's start), results in the order of `files`.
fn load_each(
    files: &[PathBuf],
    known: &Known,
    locate: bool,
) -> Vec<Result<Suite, Vec<Diagnostic>>> {
    let workers = std::thread::available_parallelism()
        .map_or(1, usize::from)
        .min(files.len());
    if workers <= 1 {
        return files
            .iter()
            .map(|p| load_suite_with(p, known, locate))
            .collect();
    }
    let next = std::sync::atomic::AtomicUsize::new(0);
    let mut slots: Vec<Option<Result<Suite, Vec<Diagnostic>>>> =
        (0..files.len()).map(|_| None).collect();
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..workers)
            .map(|_| {
                scope.spawn(|| {
                    let mut done = Vec::new();
                    loop {
                        let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        let Some(path) = files.get(i) else { break };
                        done.push((i, load_suite_with(path, known, locate)));
                    }
                    done
                })
            })
            .collect();
        for h in handles {
            let done = h.join().unwrap_or_else(|p| std::panic::resume_unwind(p));
            for (i, r) in done {
                slots[i] = Some(r);
            }
        }
    });
    slots
        .into_iter()
        .map(|s| s.expect("every suite file is loaded once"))
        .collect()
}

/// Loads and checks one suite file.
pub fn load_suite(path: &Path, known: &Known) -> Result<Suite, Vec<Diagnostic>> {
    load_suite_with(path, known, true)
}

/// Loads and checks one suite file; with `locate` false its scenarios get no locations and
/// its spans are indexed only if a diagnostic needs one.
fn load_suite_with(path: &Path, known: &Known, locate: bool) -> Result<Suite, Vec<Diagnostic>> {
    let file: Arc<str> = path.display().to_string().into();
    let source = read_source(path, &file, "suite").map_err(|d| vec![d])?;
    // One pass reads the typed suite and indexes the nodes that later checks and failing
    // expectations point at. A listing never asks for a location, so it does not index the
    // file unless a diagnostic needs one.
    let (parsed, index): (SuiteFile, SpanIndex) = if locate {
        parse_yaml_indexed(&file, &source).map_err(|d| vec![d])?
    } else {
        let parsed = parse_yaml(&file, &source).map_err(|d| vec![d])?;
        (parsed, SpanIndex::deferred(file.clone(), &source))
    };
    let mut diags = Vec::new();
    let at = |p: &str| index.locate(p);
    if !valid_name(&parsed.suite) {
        diags.push(Diagnostic::new(
            format!("suite name `{}` must match [a-z0-9_-]+", parsed.suite),
            at("suite"),
            &source,
        ));
    }
    if parsed.scenarios.is_empty() {
        diags.push(Diagnostic::new(
            "the suite has no scenarios",
            at("scenarios"),
            &source,
        ));
    }
    let mut seen: HashMap<String, usize> = HashMap::new();
    let mut scenarios = Vec::with_capacity(parsed.scenarios.len());
    for (i, mut sc) in parsed.scenarios.into_iter().enumerate() {
        let base = format!("scenarios[{i}]");
        if !valid_name(&sc.id) {
            diags.push(Diagnostic::new(
                format!(
                    "scenario id `{}` must match [a-z0-9_-]+ (it names the recording file)",
                    sc.id
                ),
                at(&format!("{base}.id")),
                &source,
            ));
        }
        if let Some(first) = seen.insert(sc.id.clone(), i) {
            let first_loc = at(&format!("scenarios[{first}].id"));
            diags.push(
                Diagnostic::new(
                    format!("duplicate scenario id `{}`", sc.id),
                    index.locate_value(&format!("{base}.id")),
                    &source,
                )
                .with_help(format!("first used at {first_loc}")),
            );
        }
        check_shape(&sc, &base, &index, &source, known, &mut diags);
        check_resource(
            &mut sc,
            &parsed.resources,
            &base,
            &index,
            &source,
            &mut diags,
        );
        super::tools::check(&sc, &base, &index, &source, &mut diags);
        if locate {
            sc.location = at(&base);
            if sc.dialects.is_some() {
                sc.dialects_location = Some(at(&format!("{base}.dialects")));
            }
            sc.expect_locations = expect_locations(&sc, &base, &index);
        }
        super::tools::attach(&mut sc);
        scenarios.push(Arc::new(sc));
    }
    if !diags.is_empty() {
        return Err(diags);
    }
    Ok(Suite {
        name: parsed.suite,
        category: parsed.category,
        description: parsed.description,
        file,
        scenarios,
    })
}

/// A scenario's `resource` must be declared, with a limit of at least one, in the suite's
/// `resources`; its limit is noted on the scenario for the run.
fn check_resource(
    sc: &mut Scenario,
    resources: &std::collections::BTreeMap<String, u32>,
    base: &str,
    index: &SpanIndex,
    source: &str,
    diags: &mut Vec<Diagnostic>,
) {
    let Some(name) = &sc.resource else { return };
    match resources.get(name) {
        Some(0) => diags.push(Diagnostic::new(
            format!("resource `{name}` has a limit of 0: no trial could ever hold it"),
            index.locate_value(&format!("resources.{name}")),
            source,
        )),
        Some(limit) => sc.resource_limit = Some(*limit),
        None => {
            let declared: Vec<&str> = resources.keys().map(String::as_str).collect();
            diags.push(
                Diagnostic::new(
                    format!("resource `{name}` is not declared in the suite's `resources`"),
                    index.locate_value(&format!("{base}.resource")),
                    source,
                )
                .with_help(if declared.is_empty() {
                    format!("declare it at the top of the suite: `resources: {{ {name}: 1 }}`")
                } else {
                    format!("declared: {}", declared.join(", "))
                }),
            )
        }
    }
}

/// What serde cannot check of a scenario's shape, one concern per function.
fn check_shape(
    sc: &Scenario,
    base: &str,
    index: &SpanIndex,
    source: &str,
    known: &Known,
    diags: &mut Vec<Diagnostic>,
) {
    check_form(sc, base, index, source, diags);
    check_mock_steps(sc, base, index, source, diags);
    check_requests(sc, base, index, source, known, diags);
    check_overrides(sc, base, index, source, known, diags);
    super::applicability::check(sc, base, index, source, diags);
    check_expects(sc, base, index, source, known, diags);
}

/// `request` or `steps`, not both and not neither.
fn check_form(
    sc: &Scenario,
    base: &str,
    index: &SpanIndex,
    source: &str,
    diags: &mut Vec<Diagnostic>,
) {
    let at = |p: &str| index.locate(p);
    match (&sc.request, sc.steps.is_empty()) {
        (Some(_), false) => diags.push(Diagnostic::new(
            "a scenario has either `request` (with `expect`) or `steps`, not both",
            at(&format!("{base}.steps")),
            source,
        )),
        (None, true) => diags.push(
            Diagnostic::new("scenario has no `request` and no `steps`", at(base), source)
                .with_help("add `request:` with `expect:`, or `steps:` for several requests"),
        ),
        _ => {}
    }
    if sc.request.is_none() && (sc.expect.is_some() || !sc.overrides.is_empty()) {
        diags.push(Diagnostic::new(
            "`expect` and `overrides` at scenario level go with `request`; with `steps`, put them in each step",
            at(&format!("{base}.expect")),
            source,
        ));
    }
}

/// Each mock step does one thing, and the reply shaping it asks for is complete.
fn check_mock_steps(
    sc: &Scenario,
    base: &str,
    index: &SpanIndex,
    source: &str,
    diags: &mut Vec<Diagnostic>,
) {
    let at = |p: &str| index.locate(p);
    for (i, m) in sc.mock.iter().enumerate() {
        let actions = [m.status.is_some(), m.drop, m.recorded]
            .iter()
            .filter(|b| **b)
            .count();
        if actions != 1 {
            diags.push(Diagnostic::new(
                "a mock step does exactly one of `status`, `drop` or `recorded`",
                at(&format!("{base}.mock[{i}]")),
                source,
            ));
        }
        if m.times == 0 {
            diags.push(Diagnostic::new(
                "`times` must be at least 1",
                index.locate_value(&format!("{base}.mock[{i}].times")),
                source,
            ));
        }
        if m.reshapes() && !m.recorded {
            diags.push(Diagnostic::new(
                "`cut_after`, `event_gap_ms`, `error_after`, `pause_after`, `pause_ms` and \
                 `tool_arguments` shape a recorded reply; add `recorded: true`",
                at(&format!("{base}.mock[{i}]")),
                source,
            ));
        }
        if m.pause_after.is_some() != m.pause_ms.is_some() {
            diags.push(Diagnostic::new(
                "`pause_after` and `pause_ms` go together: after how many events, how long",
                at(&format!("{base}.mock[{i}]")),
                source,
            ));
        }
        if m.tool_arguments.as_ref().is_some_and(|v| !v.is_object()) {
            diags.push(Diagnostic::new(
                "`tool_arguments` is an object: the arguments every tool call carries",
                index.locate_value(&format!("{base}.mock[{i}].tool_arguments")),
                source,
            ));
        }
    }
}

/// The scenario's concurrency is at least one; every request names a known model alias
/// and, for chat, has messages.
fn check_requests(
    sc: &Scenario,
    base: &str,
    index: &SpanIndex,
    source: &str,
    known: &Known,
    diags: &mut Vec<Diagnostic>,
) {
    let at = |p: &str| index.locate(p);
    if sc.concurrency == 0 {
        diags.push(Diagnostic::new(
            "`concurrency` must be at least 1",
            at(&format!("{base}.concurrency")),
            source,
        ));
    }
    check_repeat(sc, base, index, source, diags);
    let mut requests: Vec<(String, &crate::suite::model::RequestSpec)> = Vec::new();
    if let Some(r) = &sc.request {
        requests.push((format!("{base}.request"), r));
    }
    for (i, step) in sc.steps.iter().enumerate() {
        requests.push((format!("{base}.steps[{i}].request"), &step.request));
    }
    for (path, req) in requests {
        if !known.aliases.contains(&req.model) {
            let list: Vec<&str> = known.aliases.iter().map(String::as_str).collect();
            diags.push(
                Diagnostic::new(
                    format!("unknown model alias `{}`", req.model),
                    index.locate_value(&format!("{path}.model")),
                    source,
                )
                .with_help(format!("targets declare: {}", list.join(", "))),
            );
        }
        let chat_like = matches!(
            req.op,
            crate::suite::model::Op::Chat | crate::suite::model::Op::Generate
        );
        if chat_like && req.messages.is_empty() {
            diags.push(Diagnostic::new(
                "`messages` is empty",
                at(&format!("{path}.messages")),
                source,
            ));
        }
        check_body_overrides(req, &path, index, source, diags);
    }
}

/// Override keys name a dialect, a target or the gateway.
fn check_overrides(
    sc: &Scenario,
    base: &str,
    index: &SpanIndex,
    source: &str,
    known: &Known,
    diags: &mut Vec<Diagnostic>,
) {
    let at = |p: &str| index.locate(p);
    let mut override_sets: Vec<(String, &BTreeMap<String, Expect>)> =
        vec![(format!("{base}.overrides"), &sc.overrides)];
    for (i, step) in sc.steps.iter().enumerate() {
        override_sets.push((format!("{base}.steps[{i}].overrides"), &step.overrides));
    }
    for (path, set) in override_sets {
        for key in set.keys() {
            let is_dialect = DialectKind::ALL.iter().any(|d| d.as_str() == key);
            let is_mode = key == GATEWAY_OVERRIDE || key == CLIENT_OVERRIDE;
            if !is_dialect && !is_mode && !known.targets.contains(key) {
                diags.push(
                    Diagnostic::new(
                        format!("override `{key}` names no dialect or target"),
                        at(&format!("{path}.{key}")),
                        source,
                    )
                    .with_help(
                        "use a dialect (openai, anthropic, ollama), a target name, `gateway` or `client`",
                    ),
                );
            }
        }
    }
}

/// Expectations that refer to other steps, aliases or JSON pointers refer to real ones.
fn check_expects(
    sc: &Scenario,
    base: &str,
    index: &SpanIndex,
    source: &str,
    known: &Known,
    diags: &mut Vec<Diagnostic>,
) {
    let at = |p: &str| index.locate(p);
    for (path, expects) in all_expects(sc, base) {
        // `steps[N].…` → N; the scenario-level expect is step 0 of one.
        let step_index = path
            .strip_prefix(&format!("{base}.steps["))
            .and_then(|r| r.split(']').next())
            .and_then(|n| n.parse::<usize>().ok())
            .unwrap_or(0);
        if let Some(k) = expects.stream.as_ref().and_then(|s| s.same_text_as_step)
            && k >= step_index
        {
            diags.push(Diagnostic::new(
                format!(
                    "`same_text_as_step: {k}` must name an earlier step (this is step {step_index})"
                ),
                index.locate_value(&format!("{path}.stream.same_text_as_step")),
                source,
            ));
        }
        if let Some(m) = &expects.models {
            let lists = [("includes", &m.includes), ("excludes", &m.excludes)];
            for (key, aliases) in lists {
                for (j, alias) in aliases.iter().enumerate() {
                    if !known.aliases.contains(alias) {
                        diags.push(Diagnostic::new(
                            format!("unknown model alias `{alias}`"),
                            index.locate_value(&format!("{path}.models.{key}[{j}]")),
                            source,
                        ));
                    }
                }
            }
        }
        for (j, raw) in expects.raw.iter().enumerate() {
            if !raw.pointer.is_empty() && !raw.pointer.starts_with('/') {
                diags.push(Diagnostic::new(
                    format!("JSON pointer `{}` must start with `/`", raw.pointer),
                    index.locate_value(&format!("{path}.raw[{j}].pointer")),
                    source,
                ));
            }
            if raw.equals.is_none() && raw.exists.is_none() {
                diags.push(Diagnostic::new(
                    "a `raw` check needs `equals` or `exists`",
                    at(&format!("{path}.raw[{j}]")),
                    source,
                ));
            }
        }
    }
}

/// `patch` and `raw_body` replace what the encoder wrote, so they must say something the
/// encoded body can take: a patch is an object of fields (RFC 7396 would let any other value
/// replace the whole body, which is `raw_body`'s job), the two don't mix, and a GET has no
/// body to change.
fn check_body_overrides(
    req: &crate::suite::model::RequestSpec,
    path: &str,
    index: &SpanIndex,
    source: &str,
    diags: &mut Vec<Diagnostic>,
) {
    use crate::suite::model::Op;
    let mut fail = |msg: &str, key: &str| {
        diags.push(Diagnostic::new(
            msg,
            index.locate_value(&format!("{path}.{key}")),
            source,
        ));
    };
    if let Some(p) = &req.patch
        && !p.is_object()
    {
        fail(
            "`patch` is a JSON merge patch: an object of fields to set (`null` removes one); to send another body use `raw_body`",
            "patch",
        );
    }
    if req.patch.is_some() && req.raw_body.is_some() {
        fail(
            "`patch` and `raw_body` don't mix: `raw_body` replaces the whole body",
            "raw_body",
        );
    }
    if matches!(req.op, Op::Ps | Op::Tags) {
        for key in ["patch", "raw_body"] {
            let given = match key {
                "patch" => req.patch.is_some(),
                _ => req.raw_body.is_some(),
            };
            if given {
                fail(&format!("`{key}`: a `GET` request has no body"), key);
            }
        }
    }
}

/// Every expectation block of a scenario with its YAML path.
/// `repeat` and `pass_rate`: a count of at least 1, a rate in (0, 1] that only means
/// something with repetitions, and no fault script (its state would carry over from one
/// repetition to the next).
fn check_repeat(
    sc: &Scenario,
    base: &str,
    index: &SpanIndex,
    source: &str,
    diags: &mut Vec<Diagnostic>,
) {
    let value = |k: &str| index.locate_value(&format!("{base}.{k}"));
    if sc.repeat == Some(0) {
        diags.push(Diagnostic::new(
            "`repeat` must be at least 1",
            value("repeat"),
            source,
        ));
    }
    if let Some(r) = sc.pass_rate {
        if !(r > 0.0 && r <= 1.0) {
            diags.push(Diagnostic::new(
                format!("`pass_rate` is a fraction of the repetitions, 0 < rate <= 1; got {r}"),
                value("pass_rate"),
                source,
            ));
        } else if sc.repeat.is_none_or(|n| n < 2) {
            diags.push(
                Diagnostic::new(
                    "`pass_rate` applies to repetitions; this scenario sends its request once",
                    value("pass_rate"),
                    source,
                )
                .with_help("add `repeat: N` (N >= 2)"),
            );
        }
    }
    if sc.repeat.is_some_and(|n| n > 1) && !sc.mock.is_empty() {
        diags.push(Diagnostic::new(
            "`repeat` does not go with a fault script: the script's state would carry over between repetitions",
            value("repeat"),
            source,
        ));
    }
}

fn all_expects<'a>(sc: &'a Scenario, base: &str) -> Vec<(String, &'a Expect)> {
    let mut out = Vec::new();
    if let Some(e) = &sc.expect {
        out.push((format!("{base}.expect"), e));
    }
    for (k, e) in &sc.overrides {
        out.push((format!("{base}.overrides.{k}"), e));
    }
    for (i, step) in sc.steps.iter().enumerate() {
        out.push((format!("{base}.steps[{i}].expect"), &step.expect));
        for (k, e) in &step.overrides {
            out.push((format!("{base}.steps[{i}].overrides.{k}"), e));
        }
    }
    out
}

/// Locations of each expectation key, keyed by the path below the scenario
/// (`expect.status`, `steps[1].overrides.anthropic.error`), so a failure can point at its line.
fn expect_locations(sc: &Scenario, base: &str, index: &SpanIndex) -> BTreeMap<String, Location> {
    let mut out = BTreeMap::new();
    for (path, e) in all_expects(sc, base) {
        let rel = path[base.len() + 1..].to_string();
        out.insert(rel.clone(), index.locate(&path));
        for key in e.keys() {
            out.insert(
                format!("{rel}.{key}"),
                index.locate(&format!("{path}.{key}")),
            );
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn known() -> Known {
        Known {
            aliases: ["small".to_string(), "second".to_string()].into(),
            targets: ["openai".to_string()].into(),
        }
    }

    fn load_str(src: &str) -> Result<Suite, Vec<Diagnostic>> {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("s.yaml");
        std::fs::write(&p, src).unwrap();
        load_suite(&p, &known())
    }

    const OK: &str = "suite: s\ncategory: c\nscenarios:\n  - id: a\n    title: A\n    request:\n      messages:\n        - user: hi\n    expect:\n      status: 200\n      finish_reason: stop\n";

    #[test]
    fn loads_and_locates() {
        let s = load_str(OK).unwrap();
        let sc = &s.scenarios[0];
        assert_eq!((sc.location.line, sc.location.col), (4, 5));
        let loc = &sc.expect_locations["expect.finish_reason"];
        assert_eq!((loc.line, loc.col), (11, 7));
        assert_eq!(sc.request.as_ref().unwrap().model, "small");
    }

    #[test]
    fn unknown_expectation_field_is_located() {
        let err = load_str(&OK.replace("finish_reason: stop", "finish_reasn: stop")).unwrap_err();
        err[0].assert_says("unknown field `finish_reasn`");
        assert_eq!((err[0].location.line, err[0].location.col), (11, 7));
    }

    #[test]
    fn wrong_type_is_located() {
        let err = load_str(&OK.replace("status: 200", "status: ok")).unwrap_err();
        err[0].assert_says("invalid type");
        assert_eq!(err[0].location.line, 10);
    }

    #[test]
    fn syntax_error_is_located() {
        let err = load_str("suite: s\ncategory: [c\nscenarios: []\n").unwrap_err();
        assert!(err[0].location.line >= 2, "{:?}", err[0]);
    }

    #[test]
    fn unlocated_loading_still_locates_problems() {
        let dir = tempfile::tempdir().unwrap();
        let ok = dir.path().join("ok.yaml");
        std::fs::write(&ok, OK).unwrap();
        let suites = load_suites_unlocated(std::slice::from_ref(&ok), &known()).unwrap();
        assert_eq!(suites[0].scenarios[0].id, "a");
        assert!(suites[0].scenarios[0].expect_locations.is_empty());
        let bad = dir.path().join("bad.yaml");
        let src = format!(
            "{OK}  - id: a\n    title: again\n    request:\n      model: huge\n      messages: [{{user: x}}]\n"
        );
        std::fs::write(&bad, src).unwrap();
        let located = |d: Vec<Diagnostic>| -> Vec<(String, u32, u32)> {
            d.into_iter()
                .map(|d| (d.message, d.location.line, d.location.col))
                .collect()
        };
        let files = std::slice::from_ref(&bad);
        assert_eq!(
            located(load_suites_unlocated(files, &known()).unwrap_err()),
            located(load_suites(files, &known()).unwrap_err())
        );
    }

    #[test]
    fn duplicate_id_alias_and_capability() {
        let src = format!(
            "{OK}  - id: a\n    title: again\n    requires: [telepathy]\n    request:\n      messages: [{{user: x}}]\n"
        );
        let err = load_str(&src).unwrap_err();
        err[0].assert_says("unknown variant `telepathy`");
        let src = format!(
            "{OK}  - id: a\n    title: again\n    request:\n      model: huge\n      messages: [{{user: x}}]\n"
        );
        let err = load_str(&src).unwrap_err();
        let msgs: Vec<_> = err
            .iter()
            .map(|d| (d.message.clone(), d.location.line))
            .collect();
        assert!(
            msgs.contains(&("duplicate scenario id `a`".into(), 12)),
            "{msgs:?}"
        );
        assert!(
            msgs.contains(&("unknown model alias `huge`".into(), 15)),
            "{msgs:?}"
        );
        assert_eq!(err[0].location.col, 9, "points at the id's value");
    }

    #[test]
    fn bad_override_key_and_message_shape() {
        let src = OK.replace(
            "    expect:",
            "    overrides:\n      gemini: {status: 400}\n    expect:",
        );
        let err = load_str(&src).unwrap_err();
        assert!(err[0].message.contains("override `gemini`"));
        let src = OK.replace("- user: hi", "- {user: hi, assistant: yo}");
        let err = load_str(&src).unwrap_err();
        err[0].assert_says("a message is either");
    }

    #[test]
    fn bad_regex_and_schema_fail_at_load() {
        let err = load_str(&OK.replace("finish_reason: stop", "text: {matches: '(unclosed'}"))
            .unwrap_err();
        err[0].assert_says("invalid regex");
        let err =
            load_str(&OK.replace("finish_reason: stop", "json: {schema: {type: 12}}")).unwrap_err();
        err[0].assert_says("invalid JSON Schema");
    }

    #[test]
    fn patch_and_raw_body_are_checked_at_their_line() {
        let with =
            |extra: &str| OK.replace("      messages:", &format!("{extra}\n      messages:"));
        let s = load_str(&with("      patch: {max_tokens: null, temperature: '5'}")).unwrap();
        let r = s.scenarios[0].request.as_ref().unwrap();
        assert_eq!(
            r.patch,
            Some(serde_json::json!({"max_tokens": null, "temperature": "5"}))
        );
        let err = load_str(&with("      patch: [1, 2]")).unwrap_err();
        err[0].assert_says("merge patch");
        assert_eq!((err[0].location.line, err[0].location.col), (7, 14));
        let err = load_str(&with("      patch: {a: 1}\n      raw_body: 'x'")).unwrap_err();
        err[0].assert_says("don't mix");
        assert_eq!((err[0].location.line, err[0].location.col), (8, 17));
        let err = load_str(&with("      raw_body: [1]")).unwrap_err();
        err[0].assert_says("invalid type");
        assert_eq!(err[0].location.line, 7);
        let err = load_str(&with("      op: tags\n      raw_body: '{'")).unwrap_err();
        err[0].assert_says("no body");
    }

    #[test]
    fn content_parts_load_and_bad_parts_are_located() {
        let s = load_str(&OK.replace(
            "- user: hi",
            "- role: user\n          parts: [{text: hi}, {image: {media_type: image/png, data: AAAA}}]",
        ))
        .unwrap();
        let m = &s.scenarios[0].request.as_ref().unwrap().messages[0];
        assert_eq!(m.parts.len(), 2);
        let err =
            load_str(&OK.replace("- user: hi", "- role: user\n          parts: [{video: x}]"))
                .unwrap_err();
        err[0].assert_says("unknown field `video`");
        assert_eq!(err[0].location.line, 9);
    }

    #[test]
    fn cross_step_references_and_empty_suites_are_checked() {
        let src = "suite: s\ncategory: c\nscenarios:\n  - id: a\n    title: A\n    steps:\n      - request: {messages: [{user: x}]}\n        expect: {stream: {same_text_as_step: 0}, models: {includes: [nope]}}\n";
        let err = load_str(src).unwrap_err();
        let msgs: Vec<&str> = err.iter().map(|d| d.message.as_str()).collect();
        assert_eq!(
            msgs,
            vec![
                "`same_text_as_step: 0` must name an earlier step (this is step 0)",
                "unknown model alias `nope`"
            ]
        );
        let err = load_str("suite: s\ncategory: c\nscenarios: []\n").unwrap_err();
        assert_eq!(err[0].message, "the suite has no scenarios");
    }
}

//! `provcheck diff OLD NEW`: provider drift between two run records, typically the replay of
//! the committed recordings against a live run. Exchanges are paired by (trial, step, copy).
//! Shape drift (a field added, removed or retyped, an unseen raw finish reason, another error
//! type, another HTTP status, other tracked headers, a new contract violation) is what breaks
//! clients and is kept apart from content variance (text length, token counts, a model's
//! version suffix), which is what every live reply does.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write;

use serde_json::Value;

use crate::outcome::{ExchangeRecord, Outcome, Status};
use crate::report::markdown::{cell, code, escape, plural, table};
use crate::report::run_record::RunRecord;

/// Rows shown per section before it is cut.
const MAX_ROWS: usize = 200;

/// One difference.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Finding {
    /// `suite::scenario::target`.
    pub trial: String,
    /// (step, copy) of the exchange, `None` for the trial as a whole.
    pub exchange: Option<(usize, usize)>,
    /// What differs, as Markdown.
    pub what: String,
}

/// The drift between two records.
#[derive(Debug, Clone, Default)]
pub(crate) struct Drift {
    /// Trials that ran in both and were compared.
    pub compared_trials: usize,
    /// Exchanges paired and compared.
    pub compared_exchanges: usize,
    /// Shape drift: what a client could trip on.
    pub shape: Vec<Finding>,
    /// Content variance: expected to differ between any two replies.
    pub content: Vec<Finding>,
    /// Trials whose status differs (informational; the audit's business).
    pub status: Vec<Finding>,
    /// What could not be compared, and why.
    pub not_compared: Vec<Finding>,
}

impl Drift {
    /// True when any shape drift was found.
    pub(crate) fn has_shape_drift(&self) -> bool {
        !self.shape.is_empty()
    }
}

/// The shape as a map from field path (`choices[].message.content`) to type name. An empty
/// array is `[]` and says nothing about its elements; a non-empty one is `array`.
pub(crate) fn flatten(shape: &Value) -> BTreeMap<String, String> {
    fn walk(v: &Value, path: &str, out: &mut BTreeMap<String, String>) {
        let here = if path.is_empty() { "(body)" } else { path };
        match v {
            Value::Object(m) => {
                out.insert(here.to_string(), "object".into());
                for (k, child) in m {
                    let p = if path.is_empty() {
                        k.clone()
                    } else {
                        format!("{path}.{k}")
                    };
                    walk(child, &p, out);
                }
            }
            Value::Array(items) => match items.first() {
                Some(first) => {
                    out.insert(here.to_string(), "array".into());
                    walk(first, &format!("{path}[]"), out);
                }
                None => {
                    out.insert(here.to_string(), "[]".into());
                }
            },
            Value::String(t) => {
                out.insert(here.to_string(), t.clone());
            }
            other => {
                out.insert(here.to_string(), other.to_string());
            }
        }
    }
    let mut out = BTreeMap::new();
    if !shape.is_null() {
        walk(shape, "", &mut out);
    }
    out
}

/// The paths enclosing `path`, outermost first (`a.b[].c` -> `(body)`, `a`, `a.b`, `a.b[]`).
fn ancestors(path: &str) -> Vec<String> {
    let mut out = vec!["(body)".to_string()];
    for (i, c) in path.char_indices() {
        if (c == '.' || c == '[') && i > 0 {
            let p = &path[..i];
            if out.last().map(String::as_str) != Some(p) {
                out.push(p.to_string());
            }
        }
    }
    out.retain(|p| p != path);
    out
}

/// Shape differences between two flattened shapes: (shape drift, content variance).
/// A field is compared only where every enclosing field has the same container type on both
/// sides, so a removed object is one finding, not one per field inside it.
pub(crate) fn shape_diff(
    old: &BTreeMap<String, String>,
    new: &BTreeMap<String, String>,
) -> (Vec<String>, Vec<String>) {
    let (mut drift, mut content) = (Vec::new(), Vec::new());
    let comparable = |path: &str| {
        ancestors(path)
            .iter()
            .all(|a| match (old.get(a), new.get(a)) {
                (Some(x), Some(y)) => x == y && (x == "object" || x == "array"),
                _ => false,
            })
    };
    let paths: BTreeSet<&String> = old.keys().chain(new.keys()).collect();
    for p in paths {
        if p != "(body)" && !comparable(p) {
            continue;
        }
        match (old.get(p), new.get(p)) {
            (Some(a), Some(b)) if a == b => {}
            (Some(a), Some(b)) if a == "null" || b == "null" => content.push(format!(
                "{} is {b} where it was {a} (nullable field)",
                code(p)
            )),
            (Some(a), Some(b)) if (a == "[]") != (b == "[]") && (a == "array" || b == "array") => {
                content.push(format!(
                    "{} {}",
                    code(p),
                    if b == "[]" {
                        "is empty where it had items"
                    } else {
                        "has items where it was empty"
                    }
                ))
            }
            (Some(a), Some(b)) => drift.push(format!("{} changed type: {a} → {b}", code(p))),
            (Some(a), None) => drift.push(format!("field removed: {} ({a})", code(p))),
            (None, Some(b)) => drift.push(format!("field added: {} ({b})", code(p))),
            (None, None) => {}
        }
    }
    (drift, content)
}

/// A model name without its version or tag: `gpt-4o-mini-2024-07-18` -> `gpt-4o-mini`,
/// `claude-haiku-4-5-20251001` -> `claude-haiku-4-5`, `llama3.2:latest` -> `llama3.2`.
pub(crate) fn model_base(model: &str) -> &str {
    let m = model.split_once(':').map_or(model, |(b, _)| b);
    static SUFFIX: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
    let re = SUFFIX.get_or_init(|| {
        regex::Regex::new(r"(-\d{4}-\d{2}-\d{2}|-\d{8}|-\d{4}|-latest)$").expect("valid regex")
    });
    match re.find(m) {
        Some(found) => &m[..found.start()],
        None => m,
    }
}

fn opt<T: std::fmt::Display>(v: &Option<T>) -> String {
    v.as_ref()
        .map(|x| x.to_string())
        .unwrap_or_else(|| "none".into())
}

struct Pair<'a> {
    trial: &'a str,
    key: (usize, usize),
    old: &'a ExchangeRecord,
    new: &'a ExchangeRecord,
    /// Every raw finish reason the old record saw on this target.
    known_finish: &'a BTreeSet<String>,
}

fn compare_exchange(p: &Pair<'_>, drift: &mut Drift) {
    let (o, n) = (p.old, p.new);
    let mut shape = Vec::new();
    let mut content = Vec::new();
    match (&o.transport_error, &n.transport_error, o.status, n.status) {
        (None, None, a, b) if a != b => {
            shape.push(format!("HTTP status {} → {}", opt(&a), opt(&b)));
        }
        (Some(_), Some(_), _, _) | (None, None, _, _) => {}
        (Some(e), None, _, b) => shape.push(format!(
            "answered with HTTP {} where it failed before ({})",
            opt(&b),
            cell(e, 120)
        )),
        (None, Some(e), a, _) => shape.push(format!(
            "no response ({}) where it answered HTTP {} before",
            cell(e, 120),
            opt(&a)
        )),
    }
    // Bodies of different statuses are different documents: comparing them field by field
    // would bury the one finding that matters under dozens of consequences.
    if shape.is_empty() && o.transport_error.is_none() {
        compare_bodies(p, &mut shape, &mut content);
    }
    if o.model != n.model {
        content.push(format!(
            "requested model {} → {}",
            code(&o.model),
            code(&n.model)
        ));
    }
    if o.reply_model != n.reply_model {
        let (a, b) = (opt(&o.reply_model), opt(&n.reply_model));
        let same_family = model_base(&a) == model_base(&b);
        let line = format!("reply model {} → {}", code(&a), code(&b));
        if same_family || o.model != n.model {
            content.push(line);
        } else {
            shape.push(format!("{line} (another model, not another version)"));
        }
    }
    if o.text_chars != n.text_chars {
        content.push(format!(
            "text length {} → {} chars",
            o.text_chars, n.text_chars
        ));
    }
    for (name, a, b) in [
        ("input tokens", o.input_tokens, n.input_tokens),
        ("output tokens", o.output_tokens, n.output_tokens),
    ] {
        if a != b {
            content.push(format!("{name} {} → {}", opt(&a), opt(&b)));
        }
    }
    for what in shape {
        drift.shape.push(Finding {
            trial: p.trial.to_string(),
            exchange: Some(p.key),
            what,
        });
    }
    if !content.is_empty() {
        drift.content.push(Finding {
            trial: p.trial.to_string(),
            exchange: Some(p.key),
            what: content.join("; "),
        });
    }
}

/// Compares the bodies of two exchanges that got the same status: error type, shape, finish
/// reason, tracked headers, stream events and contract violations.
fn compare_bodies(p: &Pair<'_>, shape: &mut Vec<String>, content: &mut Vec<String>) {
    let (o, n) = (p.old, p.new);
    if o.error_type != n.error_type {
        shape.push(format!(
            "error type {} → {}",
            code(&opt(&o.error_type)),
            code(&opt(&n.error_type))
        ));
    }
    let (s, c) = shape_diff(&flatten(&o.shape), &flatten(&n.shape));
    shape.extend(s);
    content.extend(c);
    if o.raw_finish_reason != n.raw_finish_reason {
        match &n.raw_finish_reason {
            Some(r) if !p.known_finish.contains(r) => shape.push(format!(
                "new raw finish reason {} (old run saw: {})",
                code(r),
                if p.known_finish.is_empty() {
                    "none".to_string()
                } else {
                    p.known_finish
                        .iter()
                        .map(|x| code(x))
                        .collect::<Vec<_>>()
                        .join(", ")
                }
            )),
            _ => content.push(format!(
                "finish reason {} → {}",
                code(&opt(&o.raw_finish_reason)),
                code(&opt(&n.raw_finish_reason))
            )),
        }
    }
    if o.headers != n.headers {
        let a: BTreeSet<&String> = o.headers.iter().collect();
        let b: BTreeSet<&String> = n.headers.iter().collect();
        let list = |s: Vec<&&String>| s.iter().map(|h| code(h)).collect::<Vec<_>>().join(", ");
        let added = list(b.difference(&a).collect());
        let removed = list(a.difference(&b).collect());
        let mut parts = Vec::new();
        if !added.is_empty() {
            parts.push(format!("added {added}"));
        }
        if !removed.is_empty() {
            parts.push(format!("removed {removed}"));
        }
        shape.push(format!("tracked headers {}", parts.join("; ")));
    }
    if let Some(change) = stream_change(o, n) {
        shape.push(change);
    }
    for v in n.violations.iter().filter(|v| !o.violations.contains(v)) {
        shape.push(format!("new contract violation: {}", cell(v, 160)));
    }
    for v in o.violations.iter().filter(|v| !n.violations.contains(v)) {
        content.push(format!("contract violation gone: {}", cell(v, 160)));
    }
}

/// A change in the event types of a streamed reply: a new SSE event type is exactly what a
/// hand-written stream parser trips on.
fn stream_change(o: &ExchangeRecord, n: &ExchangeRecord) -> Option<String> {
    let list = |s: &[&String]| s.iter().map(|t| code(t)).collect::<Vec<_>>().join(", ");
    match (&o.stream_event_types, &n.stream_event_types) {
        (a, b) if a == b => None,
        (Some(a), Some(b)) => {
            let added: Vec<&String> = b.iter().filter(|t| !a.contains(t)).collect();
            let removed: Vec<&String> = a.iter().filter(|t| !b.contains(t)).collect();
            let mut parts = Vec::new();
            if !added.is_empty() {
                parts.push(format!("added {}", list(&added)));
            }
            if !removed.is_empty() {
                parts.push(format!("removed {}", list(&removed)));
            }
            if parts.is_empty() {
                let all = |v: &Vec<String>| list(&v.iter().collect::<Vec<_>>());
                parts.push(format!(
                    "first seen in another order: {} → {}",
                    all(a),
                    all(b)
                ));
            }
            Some(format!("stream event types {}", parts.join("; ")))
        }
        (None, Some(_)) => Some("streamed where the old reply was not".into()),
        (Some(_), None) => Some("not streamed where the old reply was".into()),
        (None, None) => None,
    }
}

fn skip_reason(o: &Outcome) -> String {
    super::text::headline_or_empty(o)
}

/// Compares two records.
pub(crate) fn diff(old: &RunRecord, new: &RunRecord) -> Drift {
    let mut d = Drift::default();
    let before: BTreeMap<&str, &Outcome> =
        old.outcomes.iter().map(|o| (o.trial.as_str(), o)).collect();
    let after: BTreeMap<&str, &Outcome> =
        new.outcomes.iter().map(|o| (o.trial.as_str(), o)).collect();
    let known_finish = finish_reasons_by_target(old);
    let empty = BTreeSet::new();
    let whole = |trial: &str, what: String| Finding {
        trial: trial.to_string(),
        exchange: None,
        what,
    };
    for name in before.keys() {
        if !after.contains_key(name) {
            d.not_compared
                .push(whole(name, "only in the old record".into()));
        }
    }
    for (name, n) in &after {
        let Some(o) = before.get(name) else {
            d.not_compared
                .push(whole(name, "only in the new record".into()));
            continue;
        };
        if o.status != n.status {
            d.status.push(whole(
                name,
                format!(
                    "{} → {}{}",
                    o.status,
                    n.status,
                    super::text::headline(n)
                        .map(|m| format!(": {}", cell(&m, 160)))
                        .unwrap_or_default()
                ),
            ));
        }
        if o.status == Status::Skip || n.status == Status::Skip {
            let (side, s) = match (o.status == Status::Skip, n.status == Status::Skip) {
                (true, true) => ("both records", n),
                (_, true) => ("the new record", n),
                _ => ("the old record", o),
            };
            d.not_compared.push(whole(
                name,
                format!("skipped in {side}: {}", cell(&skip_reason(s), 160)),
            ));
            continue;
        }
        d.compared_trials += 1;
        let old_ex: BTreeMap<(usize, usize), &ExchangeRecord> =
            o.exchanges.iter().map(|e| ((e.step, e.copy), e)).collect();
        let new_ex: BTreeMap<(usize, usize), &ExchangeRecord> =
            n.exchanges.iter().map(|e| ((e.step, e.copy), e)).collect();
        for (key, ne) in &new_ex {
            match old_ex.get(key) {
                Some(oe) => {
                    d.compared_exchanges += 1;
                    compare_exchange(
                        &Pair {
                            trial: name,
                            key: *key,
                            old: oe,
                            new: ne,
                            known_finish: known_finish.get(n.target.as_str()).unwrap_or(&empty),
                        },
                        &mut d,
                    );
                }
                None => d.not_compared.push(Finding {
                    trial: name.to_string(),
                    exchange: Some(*key),
                    what: "exchange only in the new record".into(),
                }),
            }
        }
        for key in old_ex.keys().filter(|k| !new_ex.contains_key(k)) {
            d.not_compared.push(Finding {
                trial: name.to_string(),
                exchange: Some(*key),
                what: "exchange only in the old record".into(),
            });
        }
    }
    for list in [
        &mut d.shape,
        &mut d.content,
        &mut d.status,
        &mut d.not_compared,
    ] {
        list.sort();
    }
    d
}

/// Per target, every raw finish reason the old record saw, to tell a new reason from a known one.
fn finish_reasons_by_target(old: &RunRecord) -> BTreeMap<&str, BTreeSet<String>> {
    let mut known: BTreeMap<&str, BTreeSet<String>> = BTreeMap::new();
    for o in &old.outcomes {
        let set = known.entry(o.target.as_str()).or_default();
        set.extend(
            o.exchanges
                .iter()
                .filter_map(|e| e.raw_finish_reason.clone()),
        );
    }
    known
}

fn run_line(r: &RunRecord) -> String {
    format!("{} · {}", r.mode.as_str(), escape(&r.started_at))
}

fn section(out: &mut String, title: &str, intro: &str, findings: &[Finding]) {
    if findings.is_empty() {
        return;
    }
    let _ = writeln!(out, "## {title} ({})\n\n{intro}\n", findings.len());
    let rows: Vec<Vec<String>> = findings
        .iter()
        .take(MAX_ROWS)
        .map(|f| {
            vec![
                code(&f.trial),
                f.exchange
                    .map(|(s, c)| format!("step {s} · copy {c}"))
                    .unwrap_or_else(|| "—".into()),
                f.what.clone(),
            ]
        })
        .collect();
    out.push_str(&table(&["trial", "exchange", "difference"], &[], &rows));
    if findings.len() > MAX_ROWS {
        let _ = writeln!(out, "\n…and {} more.", findings.len() - MAX_ROWS);
    }
    out.push('\n');
}

/// Renders the drift as Markdown a nightly job can post.
pub(crate) fn render(
    d: &Drift,
    old_path: &str,
    new_path: &str,
    old: &RunRecord,
    new: &RunRecord,
) -> String {
    let mut out = String::from("# Provider drift\n\n");
    out.push_str(&table(
        &["", "old", "new"],
        &[],
        &[
            vec!["record".into(), code(old_path), code(new_path)],
            vec!["run".into(), run_line(old), run_line(new)],
        ],
    ));
    out.push('\n');
    let trials: BTreeSet<&str> = d.shape.iter().map(|f| f.trial.as_str()).collect();
    if d.has_shape_drift() {
        let _ = writeln!(
            out,
            "**Shape drift: {} in {}** ({} compared, {} exchanges).\n",
            plural(d.shape.len(), "change", "changes"),
            plural(trials.len(), "trial", "trials"),
            plural(d.compared_trials, "trial", "trials"),
            d.compared_exchanges
        );
    } else {
        let _ = writeln!(
            out,
            "**No shape drift** in {} and {} exchanges compared.\n",
            plural(d.compared_trials, "trial", "trials"),
            d.compared_exchanges
        );
    }
    section(
        &mut out,
        "Shape drift",
        "Fields added, removed or retyped in the reply body, unseen raw finish reasons, changed error types or HTTP statuses, changed tracked headers (request ids, rate limits, retry hints), new contract violations. Update the recordings (or the dialect) after checking each.",
        &d.shape,
    );
    section(
        &mut out,
        "Content variance",
        "Expected between any two replies: text length, token counts, a model's version suffix, a nullable field's value, a finish reason the old run also saw. Not drift.",
        &d.content,
    );
    section(
        &mut out,
        "Outcome changes",
        "Trials whose status differs; the coverage audit (`provcheck audit NEW --previous OLD`) has the details.",
        &d.status,
    );
    section(
        &mut out,
        "Not compared",
        "Nothing here is checked for drift: a trial that did not run on both sides has no exchanges to pair.",
        &d.not_compared,
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::test_support::{outcome, record};
    use crate::suite::Priority;
    use serde_json::json;

    fn flat(v: Value) -> BTreeMap<String, String> {
        flatten(&crate::outcome::shape(&v))
    }

    #[test]
    fn a_retyped_field_is_drift_and_other_text_is_not() {
        let old = flat(
            json!({"id": "a", "choices": [{"message": {"content": "hi"}}], "usage": {"n": 1}}),
        );
        let same = flat(
            json!({"id": "bbbb", "choices": [{"message": {"content": "a longer text"}}], "usage": {"n": 9}}),
        );
        assert_eq!(shape_diff(&old, &same), (vec![], vec![]));
        let retyped =
            flat(json!({"id": "a", "choices": [{"message": {"content": 3}}], "usage": {"n": 1}}));
        let (drift, _) = shape_diff(&old, &retyped);
        assert_eq!(
            drift,
            ["`choices[].message.content` changed type: string → number"]
        );
        // A removed object is one finding, not one per field inside it.
        let removed = flat(json!({"id": "a", "choices": [{"message": {"content": "hi"}}]}));
        assert_eq!(
            shape_diff(&old, &removed).0,
            ["field removed: `usage` (object)"]
        );
        let added = flat(
            json!({"id": "a", "x": true, "choices": [{"message": {"content": "hi"}}], "usage": {"n": 1}}),
        );
        assert_eq!(shape_diff(&old, &added).0, ["field added: `x` (boolean)"]);
        // Null and empty arrays are values, not types.
        let nullable = flat(json!({"id": null, "choices": [], "usage": {"n": 1}}));
        let (drift, content) = shape_diff(&old, &nullable);
        assert!(drift.is_empty(), "{drift:?}");
        assert_eq!(content.len(), 2, "{content:?}");
    }

    #[test]
    fn model_versions_are_content_other_models_are_not() {
        assert_eq!(model_base("gpt-4o-mini-2024-07-18"), "gpt-4o-mini");
        assert_eq!(model_base("claude-haiku-4-5-20251001"), "claude-haiku-4-5");
        assert_eq!(model_base("claude-haiku-4-5"), "claude-haiku-4-5");
        assert_eq!(model_base("llama3.2:latest"), "llama3.2");
        assert_eq!(model_base("gpt-4-0613"), "gpt-4");
    }

    fn with_exchange(e: ExchangeRecord) -> RunRecord {
        let mut o = outcome("s::a::openai", Priority::High, Status::Pass, None);
        o.exchanges = vec![e];
        record(vec![o])
    }

    fn ex() -> ExchangeRecord {
        ExchangeRecord {
            status: Some(200),
            model: "gpt-4o-mini".into(),
            reply_model: Some("gpt-4o-mini-2024-07-18".into()),
            raw_finish_reason: Some("stop".into()),
            text_chars: 10,
            output_tokens: Some(3),
            shape: json!({"id": "string"}).into(),
            headers: vec!["x-request-id".into()],
            ..ExchangeRecord::default()
        }
    }

    #[test]
    fn exchanges_pair_and_split_into_shape_and_content() {
        let old = with_exchange(ex());
        let mut e = ex();
        e.text_chars = 99;
        e.output_tokens = Some(30);
        e.reply_model = Some("gpt-4o-mini-2025-01-01".into());
        let d = diff(&old, &with_exchange(e));
        assert!(!d.has_shape_drift(), "{:?}", d.shape);
        assert_eq!(d.content.len(), 1);
        assert!(d.content[0].what.contains("text length 10 → 99 chars"));
        assert!(d.content[0].what.contains("output tokens 3 → 30"));

        let mut e = ex();
        e.raw_finish_reason = Some("end_turn".into());
        e.headers.push("x-ratelimit-remaining-requests".into());
        e.reply_model = Some("gpt-4o".into());
        let d = diff(&old, &with_exchange(e));
        let all: Vec<&str> = d.shape.iter().map(|f| f.what.as_str()).collect();
        assert_eq!(all.len(), 3, "{all:?}");
        assert!(
            all.iter()
                .any(|w| w.starts_with("new raw finish reason `end_turn`"))
        );
        assert!(
            all.iter()
                .any(|w| w.contains("added `x-ratelimit-remaining-requests`"))
        );
        assert!(all.iter().any(|w| w.contains("another model")));

        let mut streamed = ex();
        streamed.stream_event_types = Some(vec!["message_start".into(), "message_stop".into()]);
        let mut e = streamed.clone();
        e.stream_event_types = Some(vec![
            "message_start".into(),
            "thinking_delta".into(),
            "message_stop".into(),
        ]);
        let d = diff(&with_exchange(streamed), &with_exchange(e));
        assert_eq!(d.shape.len(), 1, "{:?}", d.shape);
        assert_eq!(d.shape[0].what, "stream event types added `thinking_delta`");

        let mut e = ex();
        e.status = Some(529);
        e.shape = json!({"type": "string", "error": {"type": "string"}}).into();
        let d = diff(&old, &with_exchange(e));
        assert_eq!(
            d.shape.len(),
            1,
            "a status change hides the body diff: {:?}",
            d.shape
        );
        assert_eq!(d.shape[0].what, "HTTP status 200 → 529");
    }

    #[test]
    fn skipped_trials_are_listed_not_compared() {
        let old = with_exchange(ex());
        let mut new = old.clone();
        new.outcomes[0].status = Status::Skip;
        new.outcomes[0].skip = Some(crate::report::legacy::skip_from_reason(
            "no key: OPENAI_API_KEY is not set",
        ));
        let d = diff(&old, &new);
        assert_eq!(d.compared_trials, 0);
        assert!(d.not_compared[0].what.contains("no key: OPENAI_API_KEY"));
        let md = render(&d, "a.json", "b.json", &old, &new);
        assert!(md.contains("**No shape drift** in 0 trials"), "{md}");
        assert!(md.contains("## Not compared (1)"), "{md}");
    }

    #[test]
    fn a_version_1_record_diffs_against_its_version_2_rewrite_without_drift() {
        let old = RunRecord::parse(include_str!("testdata/run-v1.json")).unwrap();
        let new = RunRecord::parse(&old.to_json()).unwrap();
        let d = diff(&old, &new);
        assert!(!d.has_shape_drift());
        assert!(d.status.is_empty());
    }
}

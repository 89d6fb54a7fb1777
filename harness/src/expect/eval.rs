//! Judging one step's observation against its expectations. Each breach becomes a
//! [`Finding`] naming the expectation key, so the report can point at its line.

use std::collections::HashSet;

use serde_json::Value;

use super::finding::{Finding, finding};
use super::spec::{ErrorKind, Expect, OneOrMany};
use crate::client::TransportError;
use crate::neutral::{FinishReason, Reply};
use crate::observation::StepObservation;

/// Evaluates `expect` against every copy in `step`, then the cross-copy checks. `earlier`
/// holds the steps before this one, for checks that compare across steps.
pub(crate) fn evaluate(
    expect: &Expect,
    step: &StepObservation,
    earlier: &[StepObservation],
) -> Vec<Finding> {
    let mut out = Vec::new();
    let n = step.copies.len();
    for (i, obs) in step.copies.iter().enumerate() {
        let copy = Some((i, n));
        let before = out.len();
        match &obs.result {
            Err(e) => check_transport_error(expect, e, copy, &mut out),
            Ok(reply) => {
                check_reply(expect, reply, copy, &mut out);
                check_model(expect, reply, &step.model, copy, &mut out);
                check_stream(expect, reply, earlier, copy, &mut out);
                check_models(expect, reply, step, copy, &mut out);
                super::tools::check(expect, reply, copy, &mut out);
                super::params::check(expect, reply, copy, &mut out);
            }
        }
        // When the reply is not the error expected (a 200 where a timeout was due), that is
        // the finding; how long the wrong reply took says nothing more.
        let missed_error = out[before..].iter().any(|f| f.key == "error");
        if let Some(b) = expect.elapsed_ms {
            let ms = obs.elapsed.as_millis() as u64;
            if !b.contains(ms) && !missed_error {
                out.push(finding(
                    "elapsed_ms",
                    copy,
                    format!("took {ms} ms, expected {b}"),
                ));
            }
        }
    }
    super::faults::check(expect, step, &mut out);
    if let Some(c) = &expect.concurrent
        && c.distinct_ids
    {
        let mut seen = HashSet::new();
        for (i, obs) in step.copies.iter().enumerate() {
            match obs.result.as_ref().ok().and_then(|r| r.id.as_deref()) {
                None => out.push(finding(
                    "concurrent",
                    Some((i, n)),
                    "reply has no id to compare".into(),
                )),
                Some(id) if !seen.insert(id) => out.push(finding(
                    "concurrent",
                    Some((i, n)),
                    format!("id {id:?} was already returned to another concurrent request"),
                )),
                Some(_) => {}
            }
        }
    }
    out
}

fn check_transport_error(
    expect: &Expect,
    e: &TransportError,
    copy: Option<(usize, usize)>,
    out: &mut Vec<Finding>,
) {
    let got = match e {
        TransportError::Timeout(_) => ErrorKind::Timeout,
        TransportError::Connection(_) | TransportError::Limit(_) => ErrorKind::Connection,
        TransportError::CircuitOpen => ErrorKind::CircuitOpen,
    };
    match expect.error.as_ref().and_then(|x| x.kind) {
        Some(k) if k == got => {}
        Some(k) => out.push(transport(
            "error",
            copy,
            format!("expected a {} error, got: {e}", k.as_str()),
        )),
        None => out.push(transport("error", copy, format!("request failed: {e}"))),
    }
}

/// A finding about a request that got no reply.
fn transport(key: &'static str, copy: Option<(usize, usize)>, message: String) -> Finding {
    Finding {
        kind: crate::outcome::FindingKind::Transport,
        ..finding(key, copy, message)
    }
}

/// Judges one reply against every expectation key, one function per key. An `error`
/// expectation the reply plainly misses (a normal reply, the wrong kind) ends the judging:
/// the other keys describe an error reply that isn't there.
fn check_reply(
    expect: &Expect,
    reply: &Reply,
    copy: Option<(usize, usize)>,
    out: &mut Vec<Finding>,
) {
    if check_error(expect, reply, copy, out) {
        return;
    }
    check_status(expect, reply, copy, out);
    check_finish_reason(expect, reply, copy, out);
    check_text(expect, reply, copy, out);
    check_json(expect, reply, copy, out);
    check_requested_schema(expect, reply, copy, out);
    check_usage(expect, reply, copy, out);
    check_raw(expect, reply, copy, out);
}

/// `error`: the kind, status, type, code and message of an expected error. True when the
/// reply is no error of the expected kind at all, so nothing else is worth judging.
fn check_error(
    expect: &Expect,
    reply: &Reply,
    copy: Option<(usize, usize)>,
    out: &mut Vec<Finding>,
) -> bool {
    let Some(err) = &expect.error else {
        return false;
    };
    let ok = (200..300).contains(&reply.status);
    let in_stream = err.kind == Some(ErrorKind::Stream);
    if let Some(k) = err.kind
        && k != ErrorKind::Http
        && !in_stream
    {
        out.push(finding(
            "error",
            copy,
            format!("expected a {} error, got HTTP {}", k.as_str(), reply.status),
        ));
        return true;
    }
    if in_stream && !(ok && reply.error.is_some()) {
        let got = if ok {
            format!("HTTP {} and no error event", reply.status)
        } else {
            format!("HTTP {}", reply.status)
        };
        out.push(finding(
            "error",
            copy,
            format!("expected an error event inside a 2xx stream, got {got}"),
        ));
        return true;
    }
    if ok && !in_stream {
        // Name what the refusal is about, so a server that accepts an invalid request is told
        // which field it let through.
        let about = err
            .param
            .as_deref()
            .or(err.message_contains.as_deref())
            .map(|f| format!(": the request is invalid at {f:?} and was accepted"))
            .unwrap_or_default();
        out.push(finding(
            "error",
            copy,
            format!(
                "expected an error, got HTTP {} with a normal reply{about}",
                reply.status
            ),
        ));
        return true;
    }
    if let Some(s) = err.status
        && s != reply.status
    {
        out.push(finding(
            "error",
            copy,
            format!("expected error status {s}, got {}", reply.status),
        ));
    }
    let pe = reply.error.clone().unwrap_or_default();
    if let Some(t) = &err.kind_name
        && pe.kind.as_deref() != Some(t.as_str())
    {
        out.push(finding(
            "error",
            copy,
            format!("expected error type {t:?}, got {:?}", pe.kind),
        ));
    }
    if let Some(c) = &err.code
        && pe.code.as_deref() != Some(c.as_str())
    {
        out.push(finding(
            "error",
            copy,
            format!("expected error code {c:?}, got {:?}", pe.code),
        ));
    }
    if let Some(p) = &err.param
        && pe.param.as_deref() != Some(p.as_str())
    {
        out.push(finding(
            "error",
            copy,
            format!("expected error param {p:?}, got {:?}", pe.param),
        ));
    }
    if let Some(m) = &err.message_contains
        && !pe.message.contains(m.as_str())
    {
        out.push(finding(
            "error",
            copy,
            format!("error message {:?} does not contain {m:?}", pe.message),
        ));
    }
    false
}

/// `status`: the HTTP status, or any 2xx when neither `status` nor `error` is given.
fn check_status(
    expect: &Expect,
    reply: &Reply,
    copy: Option<(usize, usize)>,
    out: &mut Vec<Finding>,
) {
    let ok = (200..300).contains(&reply.status);
    match expect.status {
        Some(s) if s != reply.status => {
            out.push(finding(
                "status",
                copy,
                format!(
                    "expected HTTP {s}, got {}{}",
                    reply.status,
                    error_suffix(reply)
                ),
            ));
        }
        None if expect.error.is_none() && !ok => {
            out.push(finding(
                "status",
                copy,
                format!(
                    "expected a 2xx reply, got {}{}",
                    reply.status,
                    error_suffix(reply)
                ),
            ));
        }
        _ => {}
    }
}

/// `finish_reason`: one of the accepted normalized reasons.
fn check_finish_reason(
    expect: &Expect,
    reply: &Reply,
    copy: Option<(usize, usize)>,
    out: &mut Vec<Finding>,
) {
    if let Some(fr) = &expect.finish_reason {
        match reply.finish_reason {
            Some(got) if fr.accepts(&got) => {}
            got => out.push(finding(
                finish_check(fr, got, reached_limit(expect, reply)),
                copy,
                format!(
                    "expected {}, got {} (raw {:?})",
                    describe(fr),
                    got.map(|g| g.as_str()).unwrap_or("none"),
                    reply.raw_finish_reason.as_deref().unwrap_or("")
                ),
            )),
        }
    }
}

/// Whether the reply's reported output reached the request's `max_tokens`; `None` when
/// either is unknown.
pub(super) fn reached_limit(expect: &Expect, reply: &Reply) -> Option<bool> {
    let used = reply.usage.and_then(|u| u.output_tokens)?;
    Some(used >= u64::from(expect.max_tokens?))
}

/// The check a finish-reason mismatch belongs to. Stopping early, running to the token limit,
/// calling a tool or not and refusing are the model's choices between replies that all keep
/// the contract, as long as the reason reported fits the output: `stop` for a reply that
/// reached `max_tokens`, or `length` for one that did not, is the wire's (as is a reason the
/// dialect does not map, or none). Unknown usage leaves such a mismatch on the wire.
fn finish_check(
    want: &OneOrMany<FinishReason>,
    got: Option<FinishReason>,
    reached_limit: Option<bool>,
) -> &'static str {
    use FinishReason::{Length, Refusal, Stop, ToolCalls};
    let chosen = |r: FinishReason| matches!(r, Stop | Length | ToolCalls | Refusal);
    let wanted = match want {
        OneOrMany::One(r) => chosen(*r),
        OneOrMany::Many(rs) => rs.iter().copied().all(chosen),
    };
    let fits_output = match got {
        Some(Length) => reached_limit == Some(true),
        Some(Stop) if want.accepts(&Length) => reached_limit == Some(false),
        Some(Stop) => reached_limit != Some(true),
        _ => true,
    };
    match got {
        Some(g) if chosen(g) && wanted && fits_output => "finish_reason.model_choice",
        _ => "finish_reason",
    }
}

/// `text`: emptiness, contains, not_contains, matches and length of the assembled text.
fn check_text(
    expect: &Expect,
    reply: &Reply,
    copy: Option<(usize, usize)>,
    out: &mut Vec<Finding>,
) {
    if let Some(t) = &expect.text {
        let text = &reply.text;
        if let Some(want) = t.non_empty
            && want == text.is_empty()
        {
            let msg = if want {
                "text is empty".to_string()
            } else {
                format!("expected empty text, got {}", quote(text))
            };
            out.push(finding("text", copy, msg));
        }
        if let Some(s) = &t.contains
            && !text.contains(s.as_str())
        {
            out.push(finding(
                "text",
                copy,
                format!("text {} does not contain {s:?}", quote(text)),
            ));
        }
        if let Some(s) = &t.not_contains
            && text.contains(s.as_str())
        {
            out.push(finding(
                "text",
                copy,
                format!("text {} contains {s:?}", quote(text)),
            ));
        }
        if let Some(p) = &t.matches
            && !p.0.is_match(text)
        {
            out.push(finding(
                "text",
                copy,
                format!("text {} does not match /{}/", quote(text), p.0.as_str()),
            ));
        }
        if let Some(max) = t.max_chars {
            let n = text.chars().count();
            if n > max {
                out.push(finding(
                    "text",
                    copy,
                    format!("text has {n} characters, more than {max}"),
                ));
            }
        }
    }
}

/// `json`: the text parses as JSON (or must not) and meets the schema.
fn check_json(
    expect: &Expect,
    reply: &Reply,
    copy: Option<(usize, usize)>,
    out: &mut Vec<Finding>,
) {
    if let Some(j) = &expect.json {
        let parsed = serde_json::from_str::<Value>(reply.text.trim());
        match (&parsed, j.valid) {
            (Err(e), Some(true) | None) => out.push(finding(
                if reply.finish_reason == Some(FinishReason::Length) {
                    "json.truncated"
                } else {
                    "json.valid"
                },
                copy,
                format!("text is not valid JSON ({e}): {}", quote(&reply.text)),
            )),
            (Ok(_), Some(false)) => out.push(finding(
                "json.valid",
                copy,
                "text is valid JSON, expected it not to be".into(),
            )),
            _ => {}
        }
        if let (Ok(v), Some(schema)) = (&parsed, &j.schema) {
            let errors: Vec<String> = schema
                .validator
                .iter_errors(v)
                .take(3)
                .map(|e| {
                    let at = e.instance_path().to_string();
                    format!("{} (at {})", e, if at.is_empty() { "/" } else { &at })
                })
                .collect();
            if !errors.is_empty() {
                out.push(finding(
                    "json.schema",
                    copy,
                    format!("JSON does not match the schema: {}", errors.join("; ")),
                ));
            }
        }
    }
}

/// The strict `json_schema` response format the request asked for: a complete 2xx reply's
/// text satisfies it. Text cut at `max_tokens` is judged by `json` alone, and text that does
/// not parse is reported here only when no `json` expectation already says so.
fn check_requested_schema(
    expect: &Expect,
    reply: &Reply,
    copy: Option<(usize, usize)>,
    out: &mut Vec<Finding>,
) {
    let Some(schema) = &expect.requested_schema else {
        return;
    };
    if expect.error.is_some()
        || !(200..300).contains(&reply.status)
        || reply.finish_reason == Some(FinishReason::Length)
        || !reply.tool_calls.is_empty()
    {
        return;
    }
    let v = match serde_json::from_str::<Value>(reply.text.trim()) {
        Ok(v) => v,
        Err(e) if expect.json.is_none() => {
            out.push(finding(
                "json.requested_schema",
                copy,
                format!(
                    "the request asked for a strict json_schema, and the text is not JSON ({e}): {}",
                    quote(&reply.text)
                ),
            ));
            return;
        }
        Err(_) => return,
    };
    let errors: Vec<String> = schema
        .validator
        .iter_errors(&v)
        .take(3)
        .map(|e| {
            let at = e.instance_path().to_string();
            format!("{} (at {})", e, if at.is_empty() { "/" } else { &at })
        })
        .collect();
    if !errors.is_empty() {
        out.push(finding(
            "json.requested_schema",
            copy,
            format!(
                "JSON does not match the strict json_schema the request asked for: {}",
                errors.join("; ")
            ),
        ));
    }
}

/// `usage`: token counts reported and within bounds.
fn check_usage(
    expect: &Expect,
    reply: &Reply,
    copy: Option<(usize, usize)>,
    out: &mut Vec<Finding>,
) {
    if let Some(u) = &expect.usage {
        match reply.usage {
            None if u.present || u.input_tokens.is_some() || u.output_tokens.is_some() => {
                out.push(finding("usage", copy, "usage was not reported".into()));
            }
            None => {}
            Some(usage) => {
                let checks = [
                    ("input_tokens", usage.input_tokens, u.input_tokens),
                    ("output_tokens", usage.output_tokens, u.output_tokens),
                ];
                for (name, got, want) in checks {
                    match (got, want) {
                        (None, Some(_)) => out.push(finding(
                            "usage",
                            copy,
                            format!("usage.{name} was not reported"),
                        )),
                        (None, None) if u.present => out.push(finding(
                            "usage",
                            copy,
                            format!("usage.{name} was not reported"),
                        )),
                        (Some(v), Some(b)) if !b.contains(v) => out.push(finding(
                            "usage",
                            copy,
                            format!("usage.{name} is {v}, expected {b}"),
                        )),
                        _ => {}
                    }
                }
            }
        }
    }
}

/// `raw`: JSON-pointer checks on the reply body as the provider sent it.
fn check_raw(expect: &Expect, reply: &Reply, copy: Option<(usize, usize)>, out: &mut Vec<Finding>) {
    for r in &expect.raw {
        let got = reply.raw.pointer(&r.pointer);
        if let Some(want) = r.exists
            && want != got.is_some()
        {
            let msg = if want {
                format!("{} does not exist in the reply", r.pointer)
            } else {
                format!("{} exists in the reply", r.pointer)
            };
            out.push(finding("raw", copy, msg));
        }
        if let Some(want) = &r.equals
            && got != Some(want)
        {
            out.push(finding(
                "raw",
                copy,
                format!(
                    "{} is {}, expected {want}",
                    r.pointer,
                    got.map(Value::to_string).unwrap_or("absent".into())
                ),
            ));
        }
    }
}

fn check_stream(
    expect: &Expect,
    reply: &Reply,
    earlier: &[StepObservation],
    copy: Option<(usize, usize)>,
    out: &mut Vec<Finding>,
) {
    let Some(se) = &expect.stream else { return };
    let Some(info) = &reply.stream else {
        out.push(finding(
            "stream",
            copy,
            "expected a streamed reply, got a plain body".into(),
        ));
        return;
    };
    if se.expects_breach() && reply.violations.is_empty() {
        out.push(finding(
            "stream",
            copy,
            "expected the stream to break its contract, but it is well formed".into(),
        ));
    }
    if let Some(want) = &se.violation
        && !reply.violations.is_empty()
        && !reply.violations.iter().any(|v| v.contains(want.as_str()))
    {
        out.push(finding(
            "stream",
            copy,
            format!(
                "no contract breach mentions {want:?}; found: {}",
                reply.violations.join("; ")
            ),
        ));
    }
    if let Some(b) = se.events
        && !b.contains(info.events as u64)
    {
        out.push(finding(
            "stream",
            copy,
            format!("{} events, expected {b}", info.events),
        ));
    }
    if let Some(b) = se.time_to_first_token_ms {
        match info.time_to_first_token {
            Some(t) if b.contains(t.as_millis() as u64) => {}
            Some(t) => out.push(finding(
                "stream",
                copy,
                format!("time to first token {} ms, expected {b}", t.as_millis()),
            )),
            None => out.push(finding("stream", copy, "no event carried content".into())),
        }
    }
    if let Some(b) = se.max_gap_ms
        && !b.contains(info.max_gap.as_millis() as u64)
    {
        out.push(finding(
            "stream",
            copy,
            format!(
                "longest gap between events {} ms, expected {b}",
                info.max_gap.as_millis()
            ),
        ));
    }
    if let Some(k) = se.same_text_as_step {
        let other = earlier
            .get(k)
            .and_then(|s| s.copies.first())
            .and_then(|c| c.result.as_ref().ok());
        match other {
            None => out.push(finding(
                "stream",
                copy,
                format!("step {k} has no reply to compare with"),
            )),
            Some(o) if o.text != reply.text => out.push(finding(
                "stream.same_text_as_step",
                copy,
                format!(
                    "assembled text {} differs from step {k}'s {}",
                    quote(&reply.text),
                    quote(&o.text)
                ),
            )),
            Some(_) => {}
        }
    }
}

/// A suffix that only pins a version of the same model: a dated or numbered release
/// (`-2024-07-18`, `-20251001`), an Ollama tag (`:latest`, `:0.5b`) or a version (`@001`).
/// `-mini` is another model, not a version.
fn is_version_suffix(rest: &str) -> bool {
    let mut chars = rest.chars();
    match chars.next() {
        Some('-') => chars.next().is_some_and(|c| c.is_ascii_digit()),
        Some(':' | '@') => chars.next().is_some(),
        _ => false,
    }
}

fn check_models(
    expect: &Expect,
    reply: &Reply,
    step: &StepObservation,
    copy: Option<(usize, usize)>,
    out: &mut Vec<Finding>,
) {
    let Some(m) = &expect.models else { return };
    let listed: Vec<&str> = reply
        .raw
        .get("models")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|x| x.get("name").or(x.get("model")).and_then(Value::as_str))
                .collect()
        })
        .unwrap_or_default();
    let present = |model: &str| {
        listed
            .iter()
            .any(|l| *l == model || l.strip_suffix(":latest") == Some(model))
    };
    for (alias, want) in m
        .includes
        .iter()
        .map(|a| (a, true))
        .chain(m.excludes.iter().map(|a| (a, false)))
    {
        let model = step.aliases.get(alias).map(String::as_str).unwrap_or(alias);
        if present(model) != want {
            out.push(finding(
                "models",
                copy,
                format!(
                    "{model} ({alias}) is {}listed; listed: [{}]",
                    if want { "not " } else { "" },
                    listed.join(", ")
                ),
            ));
        }
    }
}

fn check_model(
    expect: &Expect,
    reply: &Reply,
    requested: &str,
    copy: Option<(usize, usize)>,
    out: &mut Vec<Finding>,
) {
    let Some(m) = &expect.model else { return };
    let got = reply.model.as_deref();
    if m.matches_request {
        let ok = got.is_some_and(|g| {
            g == requested || g.strip_prefix(requested).is_some_and(is_version_suffix)
        });
        if !ok {
            out.push(finding(
                "model",
                copy,
                format!("reply names model {got:?}, but {requested:?} was requested"),
            ));
        }
    }
    if let Some(want) = &m.equals
        && got != Some(want.as_str())
    {
        out.push(finding(
            "model",
            copy,
            format!("reply names model {got:?}, expected {want:?}"),
        ));
    }
}

fn describe(fr: &super::spec::OneOrMany<crate::neutral::FinishReason>) -> String {
    match fr {
        super::spec::OneOrMany::One(x) => x.as_str().to_string(),
        super::spec::OneOrMany::Many(xs) => {
            format!(
                "one of [{}]",
                xs.iter().map(|x| x.as_str()).collect::<Vec<_>>().join(", ")
            )
        }
    }
}

fn error_suffix(reply: &Reply) -> String {
    match &reply.error {
        Some(e) => format!(" ({}: {})", e.kind.as_deref().unwrap_or("error"), e.message),
        None => String::new(),
    }
}

fn quote(s: &str) -> String {
    if s.chars().count() > 80 {
        format!("{:?}…", s.chars().take(80).collect::<String>())
    } else {
        format!("{s:?}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::neutral::{FinishReason, ProviderError, Usage};
    use crate::observation::Observed;
    use std::time::Duration;

    /// Most checks look at one step; the cross-step ones are tested with the real signature.
    fn evaluate(e: &Expect, s: &StepObservation) -> Vec<Finding> {
        super::evaluate(e, s, &[])
    }

    fn expect(yaml: &str) -> Expect {
        crate::source::parse_yaml(&"test.yaml".into(), yaml).unwrap()
    }

    fn step(replies: Vec<Result<Reply, TransportError>>) -> StepObservation {
        StepObservation {
            mock_hits: Vec::new(),
            mock_ran: true,
            client_events: Vec::new(),
            model: "m".into(),
            aliases: [
                ("small".to_string(), "m".to_string()),
                ("second".to_string(), "qwen".to_string()),
            ]
            .into(),
            copies: replies
                .into_iter()
                .map(|result| Observed {
                    result,
                    elapsed: Duration::from_millis(20),
                    shape: None,
                })
                .collect(),
        }
    }

    fn reply(text: &str, fr: FinishReason, out_tokens: u64) -> Reply {
        Reply {
            status: 200,
            id: Some("id1".into()),
            text: text.into(),
            finish_reason: Some(fr),
            raw_finish_reason: Some(fr.as_str().into()),
            usage: Some(Usage {
                input_tokens: Some(5),
                output_tokens: Some(out_tokens),
            }),
            raw: serde_json::json!({"choices": [{"message": {"role": "assistant"}}]}),
            ..Reply::default()
        }
    }

    #[test]
    fn passing_reply_has_no_findings() {
        let e = expect(
            "{status: 200, finish_reason: length, text: {non_empty: true, contains: Par, matches: '^P', max_chars: 10}, usage: {output_tokens: {max: 16}}, raw: [{pointer: /choices/0/message/role, equals: assistant}]}",
        );
        assert_eq!(
            evaluate(
                &e,
                &step(vec![Ok(reply("Paris", FinishReason::Length, 16))])
            ),
            vec![]
        );
    }

    #[test]
    fn each_breach_is_named() {
        let e = expect(
            "{finish_reason: length, text: {contains: Rome}, usage: {output_tokens: {max: 16}}, raw: [{pointer: /id, exists: true}]}",
        );
        let f = evaluate(&e, &step(vec![Ok(reply("Paris", FinishReason::Stop, 40))]));
        let keys: Vec<_> = f.iter().map(|f| f.key).collect();
        assert_eq!(keys, vec!["finish_reason", "text", "usage", "raw"]);
        assert_eq!(f[0].message, "expected length, got stop (raw \"stop\")");
        assert_eq!(f[2].message, "usage.output_tokens is 40, expected <= 16");
    }

    #[test]
    fn a_finish_reason_that_misfits_the_output_is_contract_a_model_choice_behaviour() {
        use crate::outcome::Class;
        let class = |want: &str, limit: Option<u32>, fr: FinishReason, used: u64| {
            let mut e = expect(&format!("{{finish_reason: {want}}}"));
            e.max_tokens = limit;
            let f = evaluate(&e, &step(vec![Ok(reply("x", fr, used))]));
            assert_eq!(f.len(), 1, "{f:?}");
            f[0].class.unwrap()
        };
        // `stop` for a reply cut at max_tokens: the wire lies about the output.
        assert_eq!(
            class("length", Some(16), FinishReason::Stop, 16),
            Class::Contract
        );
        // `stop` well under the limit: the model chose to say little.
        assert_eq!(
            class("length", Some(16), FinishReason::Stop, 3),
            Class::Behaviour
        );
        // Without the limit, a `stop` where `length` was expected stays on the wire.
        assert_eq!(
            class("length", None, FinishReason::Stop, 3),
            Class::Contract
        );
        // `length` at the limit where `stop` was expected: the model ran long.
        assert_eq!(
            class("stop", Some(60), FinishReason::Length, 60),
            Class::Behaviour
        );
        // `length` far below the limit: not what the output shows.
        assert_eq!(
            class("stop", Some(60), FinishReason::Length, 5),
            Class::Contract
        );
        // No tool call where one was expected: the model's choice.
        assert_eq!(
            class("tool_calls", Some(60), FinishReason::Stop, 5),
            Class::Behaviour
        );
        // `stop` at the limit is a breach whatever was expected.
        assert_eq!(
            class("tool_calls", Some(60), FinishReason::Stop, 60),
            Class::Contract
        );
        assert_eq!(
            class("stop", Some(60), FinishReason::ContentFilter, 5),
            Class::Contract
        );
    }

    #[test]
    fn a_strict_requested_schema_is_contract() {
        use crate::outcome::Class;
        let mut e = expect("{status: 200}");
        let schema: Expect = expect("{json: {schema: {type: object, required: [city]}}}");
        e.requested_schema = schema.json.unwrap().schema;
        let f = evaluate(&e, &step(vec![Ok(reply("{}", FinishReason::Stop, 3))]));
        assert_eq!(f.len(), 1, "{f:?}");
        assert_eq!(f[0].class, Some(Class::Contract));
        assert!(f[0].message.contains("strict json_schema"), "{f:?}");
        let f = evaluate(&e, &step(vec![Ok(reply("prose", FinishReason::Stop, 3))]));
        assert!(f[0].message.contains("is not JSON"), "{f:?}");
        // Cut at the limit: not the promise's to keep.
        let f = evaluate(&e, &step(vec![Ok(reply("{\"ci", FinishReason::Length, 9))]));
        assert!(f.is_empty(), "{f:?}");
        let f = evaluate(
            &e,
            &step(vec![Ok(reply(
                "{\"city\": \"Paris\"}",
                FinishReason::Stop,
                5,
            ))]),
        );
        assert!(f.is_empty(), "{f:?}");
    }

    #[test]
    fn json_cut_at_the_limit_is_behaviour_and_schema_values_are_behaviour() {
        use crate::outcome::Class;
        let e = expect("{json: {valid: true, schema: {type: object, required: [city]}}}");
        let f = evaluate(&e, &step(vec![Ok(reply("{\"ci", FinishReason::Length, 9))]));
        assert_eq!(f[0].class, Some(Class::Behaviour), "{f:?}");
        let f = evaluate(&e, &step(vec![Ok(reply("{\"ci", FinishReason::Stop, 3))]));
        assert_eq!(f[0].class, Some(Class::Contract), "{f:?}");
        let f = evaluate(&e, &step(vec![Ok(reply("{}", FinishReason::Stop, 3))]));
        assert_eq!(f[0].class, Some(Class::Behaviour), "{f:?}");
    }

    #[test]
    fn json_validity_and_schema() {
        let e = expect("{json: {valid: true, schema: {type: object, required: [city]}}}");
        let f = evaluate(
            &e,
            &step(vec![Ok(reply("{\"city\": 1", FinishReason::Stop, 1))]),
        );
        assert!(f[0].message.starts_with("text is not valid JSON"), "{f:?}");
        let f = evaluate(
            &e,
            &step(vec![Ok(reply(
                "{\"town\": \"Paris\"}",
                FinishReason::Stop,
                1,
            ))]),
        );
        assert!(
            f[0].message.contains("\"city\" is a required property"),
            "{f:?}"
        );
    }

    #[test]
    fn error_expectation() {
        let e =
            expect("{error: {status: 400, type: invalid_request_error, message_contains: role}}");
        let mut r = reply("", FinishReason::Stop, 0);
        r.status = 400;
        r.error = Some(ProviderError {
            kind: Some("invalid_request_error".into()),
            message: "bad role".into(),
            ..Default::default()
        });
        assert_eq!(evaluate(&e, &step(vec![Ok(r.clone())])), vec![]);
        let f = evaluate(&e, &step(vec![Ok(reply("fine", FinishReason::Stop, 1))]));
        assert!(f[0].message.contains("expected an error, got HTTP 200"));
        // Without an error expectation, a non-2xx reply fails on status.
        let f = evaluate(&expect("{text: {non_empty: false}}"), &step(vec![Ok(r)]));
        assert_eq!(f[0].key, "status");
    }

    #[test]
    fn timeout_expectation() {
        let e = expect("{error: {kind: timeout}, elapsed_ms: {max: 1000}}");
        let s = step(vec![Err(TransportError::Timeout(Duration::from_millis(
            300,
        )))]);
        assert_eq!(evaluate(&e, &s), vec![]);
        let mut late = step(vec![Ok(reply("late", FinishReason::Stop, 1))]);
        late.copies[0].elapsed = Duration::from_millis(3000);
        let f = evaluate(&e, &late);
        // The one finding says what came instead of the timeout, not how long it took.
        assert_eq!(f.len(), 1, "{f:?}");
        assert!(
            f[0].message
                .contains("expected a timeout error, got HTTP 200")
        );
        let f = evaluate(&expect("{status: 200}"), &s);
        assert_eq!(f[0].message, "request failed: timed out after 300 ms");
    }

    #[test]
    fn models_listing_by_alias() {
        let e = expect("{models: {includes: [small], excludes: [second]}}");
        let mut r = reply("", FinishReason::Stop, 1);
        r.raw = serde_json::json!({"models": [{"name": "m:latest"}]});
        assert_eq!(evaluate(&e, &step(vec![Ok(r.clone())])), vec![]);
        r.raw = serde_json::json!({"models": [{"name": "qwen"}]});
        let f = evaluate(&e, &step(vec![Ok(r)]));
        assert_eq!(f.len(), 2);
        assert_eq!(f[0].message, "m (small) is not listed; listed: [qwen]");
        assert_eq!(f[1].message, "qwen (second) is listed; listed: [qwen]");
    }

    #[test]
    fn model_must_match_request() {
        let e = expect("{model: {matches_request: true}}");
        let mut r = reply("x", FinishReason::Stop, 1);
        r.model = Some("m-2024-07-18".into());
        assert_eq!(evaluate(&e, &step(vec![Ok(r.clone())])), vec![]);
        r.model = Some("m-mini".into());
        let f = evaluate(&e, &step(vec![Ok(r)]));
        assert_eq!(
            f[0].message,
            "reply names model Some(\"m-mini\"), but \"m\" was requested"
        );
        assert!(is_version_suffix(":latest") && is_version_suffix("-20251001"));
        assert!(!is_version_suffix("-mini") && !is_version_suffix(""));
    }

    #[test]
    fn distinct_ids_across_copies() {
        let e = expect("{concurrent: {distinct_ids: true}}");
        let f = evaluate(
            &e,
            &step(vec![
                Ok(reply("a", FinishReason::Stop, 1)),
                Ok(reply("b", FinishReason::Stop, 1)),
            ]),
        );
        assert_eq!(f.len(), 1);
        assert!(
            f[0].message
                .starts_with("copy 2/2: id \"id1\" was already returned")
        );
    }
}

#[cfg(test)]
mod stream_tests {
    use super::*;
    use crate::neutral::{FinishReason, ProviderError, StreamInfo};
    use crate::observation::Observed;
    use std::time::Duration;

    fn streamed(text: &str, violations: Vec<String>) -> StepObservation {
        let reply = Reply {
            status: 200,
            text: text.into(),
            finish_reason: Some(FinishReason::Stop),
            violations,
            stream: Some(StreamInfo {
                events: 5,
                event_types: vec!["chunk".into()],
                time_to_first_token: Some(Duration::from_millis(40)),
                max_gap: Duration::from_millis(300),
                terminated: true,
            }),
            ..Reply::default()
        };
        StepObservation {
            mock_hits: Vec::new(),
            mock_ran: true,
            client_events: Vec::new(),
            model: "m".into(),
            aliases: [
                ("small".to_string(), "m".to_string()),
                ("second".to_string(), "qwen".to_string()),
            ]
            .into(),
            copies: vec![Observed {
                result: Ok(reply),
                elapsed: Duration::from_millis(400),
                shape: None,
            }],
        }
    }

    fn expect(yaml: &str) -> Expect {
        crate::source::parse_yaml(&"test.yaml".into(), yaml).unwrap()
    }

    #[test]
    fn bounds_on_events_ttft_and_gap() {
        let ok = expect(
            "{stream: {events: {min: 2, max: 10}, time_to_first_token_ms: {max: 100}, max_gap_ms: {min: 250, max: 400}}}",
        );
        assert_eq!(evaluate(&ok, &streamed("hi", vec![]), &[]), vec![]);
        let bad = expect("{stream: {events: {max: 3}, max_gap_ms: {max: 100}}}");
        let f = evaluate(&bad, &streamed("hi", vec![]), &[]);
        assert_eq!(f.len(), 2);
        assert_eq!(
            f[1].message,
            "longest gap between events 300 ms, expected <= 100"
        );
    }

    #[test]
    fn expected_breach_must_be_found() {
        let e = expect("{stream: {violation: terminal marker}}");
        assert_eq!(
            evaluate(
                &e,
                &streamed("hi", vec!["missing terminal marker".into()]),
                &[]
            ),
            vec![]
        );
        let f = evaluate(&e, &streamed("hi", vec![]), &[]);
        assert!(f[0].message.contains("well formed"), "{f:?}");
        let f = evaluate(&e, &streamed("hi", vec!["chunk id changed".into()]), &[]);
        assert!(
            f[0].message.contains("no contract breach mentions"),
            "{f:?}"
        );
    }

    #[test]
    fn text_consistent_with_earlier_step() {
        let e = expect("{stream: {same_text_as_step: 0}}");
        let plain = streamed("Hello", vec![]);
        assert_eq!(
            evaluate(&e, &streamed("Hello", vec![]), std::slice::from_ref(&plain)),
            vec![]
        );
        let f = evaluate(&e, &streamed("Help", vec![]), &[plain]);
        assert!(f[0].message.contains("differs from step 0"), "{f:?}");
    }

    #[test]
    fn mid_stream_error_expectation() {
        let e = expect("{error: {kind: stream, type: overloaded_error}}");
        let mut s = streamed("Hel", vec!["mid-stream error".into()]);
        if let Ok(r) = &mut s.copies[0].result {
            r.error = Some(ProviderError {
                kind: Some("overloaded_error".into()),
                message: "Overloaded".into(),
                ..Default::default()
            });
        }
        assert_eq!(evaluate(&e, &s, &[]), vec![]);
        let f = evaluate(&e, &streamed("Hello", vec![]), &[]);
        assert_eq!(
            f[0].message,
            "expected an error event inside a 2xx stream, got HTTP 200 and no error event"
        );
    }
}

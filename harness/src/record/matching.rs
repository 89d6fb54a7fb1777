//! Finding the recorded exchange for a request, and, when none matches, saying which recorded
//! exchange came closest and how it differs.

use std::fmt::Write;

use serde_json::Value;

use super::format::{REDACTED, Recording, canonical, same_value};

/// A request as the mock saw it.
#[derive(Debug, Clone)]
pub(crate) struct Incoming<'a> {
    /// HTTP method.
    pub method: &'a str,
    /// Path.
    pub path: &'a str,
    /// Headers, names lowercase.
    pub headers: Vec<(String, String)>,
    /// Body parsed as JSON, if it was JSON.
    pub body: Option<Value>,
}

/// Why no recorded exchange matched.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Miss {
    /// A ready-to-print explanation naming the closest exchange and its differences.
    pub explanation: String,
}

/// Picks the exchange to serve: the first unused one that matches, or, when every matching
/// one was served already, the last matching one again (a recording of one reply can answer
/// a retried request).
pub(crate) fn find(rec: &Recording, req: &Incoming<'_>, used: &[bool]) -> Result<usize, Miss> {
    if rec.exchanges.is_empty() {
        return Err(Miss {
            explanation: format!(
                "no recorded exchange for {} {}: {} has none",
                req.method, req.path, rec.file
            ),
        });
    }
    let mut last_match = None;
    let mut best: Option<(usize, Vec<String>)> = None;
    for (i, p) in rec.exchanges.iter().enumerate() {
        let diffs = differences(p, req, best.as_ref().map(|(_, d)| d.len()));
        if diffs.is_empty() {
            if !used[i] {
                return Ok(i);
            }
            last_match = Some(i);
        } else if best.as_ref().is_none_or(|(_, d)| diffs.len() < d.len()) {
            best = Some((i, diffs));
        }
    }
    if let Some(i) = last_match {
        return Ok(i);
    }
    let (i, diffs) = best.unwrap_or((0, vec!["the recording has no exchanges".into()]));
    let mut explanation = format!(
        "no recorded exchange matches {} {}; closest is exchange {} at {}:",
        req.method, req.path, i, rec.exchanges[i].location
    );
    for d in diffs.iter().take(8) {
        let _ = write!(explanation, "\n  - {d}");
    }
    if diffs.len() > 8 {
        let _ = write!(
            explanation,
            "\n  - ... and {} more differences",
            diffs.len() - 8
        );
    }
    Err(Miss { explanation })
}

/// Gateway mode: a gateway re-encodes each request before forwarding it (its own model name,
/// defaults, headers), so an exact match would fail on the gateway's choices rather than on
/// anything under test. An exact match still wins; otherwise the request is served the
/// recorded exchange with the same method, the same path (or one ending with the other, for a
/// gateway configured with a different base path) and the same stream flag that differs from
/// it least, preferring exchanges not yet served.
pub(crate) fn find_closest(
    rec: &Recording,
    req: &Incoming<'_>,
    used: &[bool],
) -> Result<usize, Miss> {
    let exact = find(rec, req, used);
    let Err(miss) = exact else { return exact };
    let streamed = |b: Option<&Value>| b.and_then(|b| b.get("stream")) == Some(&Value::Bool(true));
    let mut best: Option<(bool, usize, usize)> = None;
    for (i, p) in rec.exchanges.iter().enumerate() {
        let q = &p.exchange.request;
        let same_path = q.path.ends_with(req.path) || req.path.ends_with(q.path.as_str());
        if !q.method.eq_ignore_ascii_case(req.method)
            || !same_path
            || streamed(q.body.as_ref()) != streamed(req.body.as_ref())
        {
            continue;
        }
        let rank = (used[i], differences(p, req, None).len(), i);
        if best.is_none_or(|b| rank < b) {
            best = Some(rank);
        }
    }
    match best {
        Some((_, _, i)) => Ok(i),
        None => Err(Miss {
            explanation: format!(
                "gateway mode: no recorded exchange has the method, path and stream flag of the gateway's request; {}",
                miss.explanation
            ),
        }),
    }
}

/// `--strict`: names the recorded exchanges a trial never asked for. A recording with an
/// exchange nobody requests is out of date (the suite changed) or was edited by hand wrongly;
/// either way a green replay of it proves less than it claims.
pub(crate) fn unused_explanation(rec: &Recording, unused: &[usize]) -> Option<String> {
    let first = *unused.first()?;
    let mut s = format!(
        "--strict: {} of {} recorded exchange{} never served, first exchange {} at {}",
        unused.len(),
        rec.exchanges.len(),
        if rec.exchanges.len() == 1 {
            " was"
        } else {
            "s were"
        },
        first,
        rec.exchanges[first].location
    );
    for &i in unused.iter().take(8) {
        let q = &rec.exchanges[i].exchange.request;
        let _ = write!(
            s,
            "\n  - exchange {i} ({} {}) at {}",
            q.method, q.path, rec.exchanges[i].location
        );
    }
    if unused.len() > 8 {
        let _ = write!(s, "\n  - ... and {} more", unused.len() - 8);
    }
    Some(s)
}

fn differences(
    p: &super::format::Prepared,
    req: &Incoming<'_>,
    stop_after: Option<usize>,
) -> Vec<String> {
    let rec = &p.exchange.request;
    let mut out = Vec::new();
    if !rec.method.eq_ignore_ascii_case(req.method) {
        out.push(format!(
            "method: recorded {}, sent {}",
            rec.method, req.method
        ));
    }
    if rec.path != req.path {
        out.push(format!("path: recorded {}, sent {}", rec.path, req.path));
    }
    for (name, want) in &rec.headers {
        let got = req
            .headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str());
        match got {
            None => out.push(format!("header {name}: recorded, not sent")),
            Some(_) if want == REDACTED => {}
            Some(g) if g != want => {
                out.push(format!("header {name}: recorded {want:?}, sent {g:?}"))
            }
            Some(_) => {}
        }
    }
    match (&p.canonical_body, &req.body) {
        (None, _) => {}
        (Some(_), None) => out.push("body: recorded JSON, sent none or non-JSON".into()),
        (Some(want), Some(got)) => {
            // The fast path: one string comparison. The structural walk only runs on a miss.
            if *want != canonical(got, &rec.ignore) && stop_after.is_none_or(|n| out.len() < n) {
                let recorded = rec.body.as_ref().cloned().unwrap_or(Value::Null);
                json_diff(&recorded, got, "", &rec.ignore, &mut out);
            }
        }
    }
    out
}

fn short(v: &Value) -> String {
    let s = v.to_string();
    if s.chars().count() > 60 {
        format!("{}…", s.chars().take(60).collect::<String>())
    } else {
        s
    }
}

/// Lists the JSON-pointer paths where `a` (recorded) and `b` (sent) differ.
pub(crate) fn json_diff(
    a: &Value,
    b: &Value,
    path: &str,
    ignore: &[String],
    out: &mut Vec<String>,
) {
    if ignore.iter().any(|p| p == path) {
        return;
    }
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            for (k, va) in x {
                let p = format!("{path}/{}", k.replace('~', "~0").replace('/', "~1"));
                match y.get(k) {
                    Some(vb) => json_diff(va, vb, &p, ignore, out),
                    None if !ignore.contains(&p) => {
                        out.push(format!("body {p}: recorded {}, not sent", short(va)))
                    }
                    None => {}
                }
            }
            for (k, vb) in y {
                let p = format!("{path}/{}", k.replace('~', "~0").replace('/', "~1"));
                if !x.contains_key(k) && !ignore.contains(&p) {
                    out.push(format!("body {p}: sent {}, not recorded", short(vb)));
                }
            }
        }
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => {
            for (i, (va, vb)) in x.iter().zip(y).enumerate() {
                json_diff(va, vb, &format!("{path}/{i}"), ignore, out);
            }
        }
        _ if !same_value(a, b) => {
            let p = if path.is_empty() { "/" } else { path };
            out.push(format!(
                "body {p}: recorded {}, sent {}",
                short(a),
                short(b)
            ));
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn diff_names_pointers() {
        let mut out = Vec::new();
        json_diff(
            &json!({"model": "a", "messages": [{"content": "x"}], "max_tokens": 5}),
            &json!({"model": "a", "messages": [{"content": "y"}], "max_completion_tokens": 5}),
            "",
            &[],
            &mut out,
        );
        assert_eq!(
            out,
            vec![
                "body /max_tokens: recorded 5, not sent".to_string(),
                "body /messages/0/content: recorded \"x\", sent \"y\"".to_string(),
                "body /max_completion_tokens: sent 5, not recorded".to_string(),
            ]
        );
    }

    const TWO: &str = r#"provenance: { source: authored, date: 2026-11-25 }
exchanges:
- request:
    method: POST
    path: /v1/chat/completions
    body: { model: gpt-4o-mini, messages: [{ role: user, content: Say hi. }] }
  response: { status: 200, body: { n: 0 } }
- request:
    method: POST
    path: /v1/chat/completions
    body: { model: gpt-4o-mini, stream: true, messages: [{ role: user, content: Say hi. }] }
  response: { status: 200, body: { n: 1 } }
"#;

    fn load(text: &str) -> (tempfile::TempDir, Recording) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r.yaml");
        std::fs::write(&path, text).unwrap();
        let rec = Recording::load(&path).unwrap();
        (dir, rec)
    }

    fn post<'a>(path: &'a str, body: Value) -> Incoming<'a> {
        Incoming {
            method: "POST",
            path,
            headers: Vec::new(),
            body: Some(body),
        }
    }

    #[test]
    fn a_gateway_reencoded_request_gets_the_closest_exchange_with_its_stream_flag() {
        let (_dir, rec) = load(TWO);
        // The gateway renamed the model and added fields of its own.
        let plain = post(
            "/v1/chat/completions",
            json!({"model": "upstream-model", "user": "gw", "messages": [{"role": "user", "content": "Say hi."}]}),
        );
        assert!(find(&rec, &plain, &[false, false]).is_err());
        assert_eq!(find_closest(&rec, &plain, &[false, false]), Ok(0));
        let streamed = post(
            "/chat/completions",
            json!({"model": "upstream-model", "stream": true, "messages": [{"role": "user", "content": "Say hi."}]}),
        );
        assert_eq!(find_closest(&rec, &streamed, &[false, false]), Ok(1));
        // Served already: a retry of the same request gets it again rather than a miss.
        assert_eq!(find_closest(&rec, &plain, &[true, true]), Ok(0));
    }

    #[test]
    fn a_gateway_request_to_another_endpoint_is_a_miss() {
        let (_dir, rec) = load(TWO);
        let other = post("/v1/embeddings", json!({"model": "m", "input": "x"}));
        let miss = find_closest(&rec, &other, &[false, false]).unwrap_err();
        assert!(
            miss.explanation
                .starts_with("gateway mode: no recorded exchange"),
            "{}",
            miss.explanation
        );
        let get = Incoming {
            method: "GET",
            path: "/v1/chat/completions",
            headers: Vec::new(),
            body: None,
        };
        assert!(find_closest(&rec, &get, &[false, false]).is_err());
    }
}

//! Keeping secrets out of recordings, safe by default.
//!
//! Two layers, because either alone can miss something:
//! 1. **Redaction** shapes what is stored: auth and cookie headers never survive (a request
//!    header the replay must still see is kept as `<redacted>`, which matching treats as
//!    "present"), response headers are kept only when they are worth keeping, and the JSON
//!    fields a user names (by JSON pointer) are replaced by `<redacted>`.
//! 2. **The scanner** (`Secrets`) looks for the literal values of every key variable in the
//!    serialized recording just before it is written. A provider that echoes the key, a
//!    gateway that puts it in a header, a base URL that embeds it: whatever redaction missed
//!    stops the write, and the message names the variable, never the value.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::Value;

use super::format::REDACTED;

/// Headers that are never stored as sent: the auth headers of every dialect and gateway
/// convention, cookies, and OpenAI's account identifiers.
pub(crate) const ALWAYS_REDACTED: [&str; 7] = [
    "authorization",
    "x-api-key",
    "api-key",
    "cookie",
    "set-cookie",
    "openai-organization",
    "openai-project",
];

/// Configured, additional redaction: a `redact:` section at the top of `targets.yaml` (every
/// target) or inside one target (that target only; both apply).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RedactSpec {
    /// Header names (any case) to redact, in requests and responses.
    #[serde(default)]
    pub headers: Vec<String>,
    /// JSON pointers into request and response bodies (and streamed JSON events) whose
    /// values are replaced by `<redacted>`. A segment `*` matches any key or index.
    #[serde(default)]
    pub json: Vec<String>,
    /// Environment variables holding other secrets (session tokens, org ids): a recording
    /// containing the value of any of them (8 characters or more) is not written.
    #[serde(default)]
    pub env: Vec<String>,
}

impl RedactSpec {
    /// Adds `other`'s entries (the top-level section onto a target's).
    pub(crate) fn extend(&mut self, other: &RedactSpec) {
        for (mine, theirs) in [
            (&mut self.headers, &other.headers),
            (&mut self.json, &other.json),
            (&mut self.env, &other.env),
        ] {
            for x in theirs {
                if !mine.contains(x) {
                    mine.push(x.clone());
                }
            }
        }
    }

    /// The first problem with the configuration, if any.
    pub(crate) fn problem(&self) -> Option<String> {
        if let Some(p) = self.json.iter().find(|p| !p.starts_with('/')) {
            return Some(format!(
                "redact.json: `{p}` is not a JSON pointer (it must start with `/`, e.g. `/user`)"
            ));
        }
        if let Some(h) = self.headers.iter().find(|h| h.trim().is_empty()) {
            return Some(format!("redact.headers: `{h}` is not a header name"));
        }
        if let Some(v) = self.env.iter().find(|v| v.trim().is_empty()) {
            return Some(format!("redact.env: `{v}` is not a variable name"));
        }
        None
    }

    fn names_header(&self, name: &str) -> bool {
        ALWAYS_REDACTED.iter().any(|h| h.eq_ignore_ascii_case(name))
            || self.headers.iter().any(|h| h.eq_ignore_ascii_case(name))
    }
}

/// Response headers worth keeping in a recording: what clients and the drift report read
/// (content type, request ids, rate limits, retry hints). Anything else (cookies, tracing,
/// CDN and proxy headers) is noise at best and a credential at worst.
pub(crate) fn keep_response_header(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    n == "content-type"
        || n.contains("request-id")
        || n.contains("ratelimit")
        || n.starts_with("retry-after")
        || n == "x-should-retry"
        || n == "openai-processing-ms"
        || n == "openai-version"
}

/// The request headers to store: every header provcheck set, with the auth header and any
/// redacted header kept as `<redacted>` so replay still requires its presence.
pub(crate) fn request_headers(
    headers: &[(String, String)],
    auth_header: Option<&str>,
    spec: &RedactSpec,
) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for (k, v) in headers {
        let k = k.to_ascii_lowercase();
        let v = if spec.names_header(&k) {
            REDACTED.to_string()
        } else {
            v.clone()
        };
        out.insert(k, v);
    }
    if let Some(a) = auth_header {
        out.insert(a.to_ascii_lowercase(), REDACTED.to_string());
    }
    out
}

/// The response headers to store: the ones worth keeping, minus redacted ones (dropped: a
/// response header's presence never matters for matching).
pub(crate) fn response_headers(
    headers: &[(String, String)],
    spec: &RedactSpec,
) -> BTreeMap<String, String> {
    let mut out: BTreeMap<String, String> = BTreeMap::new();
    for (k, v) in headers {
        let k = k.to_ascii_lowercase();
        if keep_response_header(&k) && !spec.names_header(&k) {
            // Repeated headers are joined, as HTTP allows for list-valued fields.
            out.entry(k)
                .and_modify(|e| {
                    e.push_str(", ");
                    e.push_str(v);
                })
                .or_insert_with(|| v.clone());
        }
    }
    out
}

/// Replaces the value at each pointer by `<redacted>` (a `*` segment matches any key or
/// index) and returns the concrete pointers replaced, sorted: a request body's become
/// `ignore` entries, so replay matching skips the values it can no longer compare.
pub(crate) fn redact_json(v: &mut Value, pointers: &[String]) -> Vec<String> {
    let mut hit = Vec::new();
    for p in pointers {
        let segments: Vec<String> = p
            .split('/')
            .skip(1)
            .map(|s| s.replace("~1", "/").replace("~0", "~"))
            .collect();
        if segments.is_empty() {
            continue;
        }
        walk(v, &segments, String::new(), &mut hit);
    }
    hit.sort();
    hit.dedup();
    hit
}

fn escape(seg: &str) -> String {
    seg.replace('~', "~0").replace('/', "~1")
}

fn walk(v: &mut Value, segments: &[String], at: String, hit: &mut Vec<String>) {
    let (first, rest) = (&segments[0], &segments[1..]);
    let mut visit = |child: &mut Value, key: String| {
        let here = format!("{at}/{}", escape(&key));
        if rest.is_empty() {
            *child = Value::String(REDACTED.into());
            hit.push(here);
        } else {
            walk(child, rest, here, hit);
        }
    };
    match v {
        Value::Object(m) if first == "*" => {
            for (k, child) in m.iter_mut() {
                visit(child, k.clone());
            }
        }
        Value::Object(m) => {
            if let Some(child) = m.get_mut(first) {
                visit(child, first.clone());
            }
        }
        Value::Array(a) if first == "*" => {
            for (i, child) in a.iter_mut().enumerate() {
                visit(child, i.to_string());
            }
        }
        Value::Array(a) => {
            if let Some(child) = first.parse::<usize>().ok().and_then(|i| a.get_mut(i)) {
                visit(child, first.clone());
            }
        }
        _ => {}
    }
}

/// A streamed event's data with the pointers redacted, when it is JSON and something was
/// redacted; `None` leaves the data byte for byte as it arrived.
pub(crate) fn redact_event_data(data: &str, pointers: &[String]) -> Option<String> {
    if pointers.is_empty() {
        return None;
    }
    let mut v: Value = serde_json::from_str(data).ok()?;
    if redact_json(&mut v, pointers).is_empty() {
        return None;
    }
    serde_json::to_string(&v).ok()
}

/// Values of secret-bearing environment variables shorter than this are not scanned for
/// (other than keys): a short value like `1` or `prod` would match everywhere.
pub(crate) const MIN_SECRET_LEN: usize = 8;

/// The secrets of this run: the value of every target's key variable, and of the configured
/// secret variables (when at least [`MIN_SECRET_LEN`] characters long), each by its variable.
#[derive(Clone, Default)]
pub(crate) struct Secrets {
    entries: Vec<(String, String)>,
}

impl std::fmt::Debug for Secrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Names only: a Debug print must not be the leak.
        let names: Vec<&str> = self.entries.iter().map(|(n, _)| n.as_str()).collect();
        f.debug_struct("Secrets").field("vars", &names).finish()
    }
}

impl Secrets {
    /// Reads `key_vars` (any non-empty value) and `secret_vars` (values of 8+ characters)
    /// through `env`.
    pub(crate) fn from_env<'a>(
        key_vars: impl IntoIterator<Item = &'a str>,
        secret_vars: impl IntoIterator<Item = &'a str>,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Secrets {
        let mut s = Secrets::default();
        let mut add = |var: &str, min: usize| {
            if s.entries.iter().any(|(n, _)| n == var) {
                return;
            }
            if let Some(v) = env(var) {
                let v = v.trim().to_string();
                if !v.is_empty() && v.chars().count() >= min {
                    s.entries.push((var.to_string(), v));
                }
            }
        };
        for v in key_vars {
            add(v, 1);
        }
        for v in secret_vars {
            add(v, MIN_SECRET_LEN);
        }
        // Longest first, so scrubbing a value that contains another removes the whole of it.
        s.entries.sort_by_key(|e| std::cmp::Reverse(e.1.len()));
        s
    }

    /// True when there is nothing to look for.
    pub(crate) fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The variable whose value appears in `text`, literally or JSON-escaped.
    pub(crate) fn find(&self, text: &str) -> Option<&str> {
        self.entries
            .iter()
            .find(|(_, v)| {
                text.contains(v.as_str()) || json_escaped(v).is_some_and(|e| text.contains(&e))
            })
            .map(|(n, _)| n.as_str())
    }

    /// The variable whose value appears in any string (or object key) inside `v`.
    pub(crate) fn find_in_value(&self, v: &Value) -> Option<&str> {
        match v {
            Value::String(s) => self.find(s),
            Value::Array(a) => a.iter().find_map(|x| self.find_in_value(x)),
            Value::Object(m) => m
                .iter()
                .find_map(|(k, x)| self.find(k).or_else(|| self.find_in_value(x))),
            _ => None,
        }
    }

    /// `text` with every secret value replaced by `<redacted:VAR>`.
    pub(crate) fn scrub(&self, text: &str) -> String {
        let mut out = text.to_string();
        for (name, value) in &self.entries {
            if out.contains(value.as_str()) {
                out = out.replace(value.as_str(), &format!("<redacted:{name}>"));
            }
        }
        out
    }
}

/// A value as it reads inside a JSON string, when that differs from the value itself.
fn json_escaped(v: &str) -> Option<String> {
    let quoted = serde_json::to_string(v).ok()?;
    let inner = &quoted[1..quoted.len() - 1];
    (inner != v).then(|| inner.to_string())
}

/// Removes user info and query from a URL: a base URL is configuration, but someone may have
/// put a token in it.
pub(crate) fn redact_url(url: &str) -> String {
    let no_query = url.split(['?', '#']).next().unwrap_or(url);
    match no_query.split_once("://") {
        Some((scheme, rest)) => {
            let (authority, path) = match rest.find('/') {
                Some(i) => rest.split_at(i),
                None => (rest, ""),
            };
            let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
            format!("{scheme}://{host}{path}")
        }
        None => no_query.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn h(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn auth_and_configured_request_headers_are_kept_as_presence_only() {
        let spec = RedactSpec {
            headers: vec!["X-Tenant".into()],
            ..RedactSpec::default()
        };
        let out = request_headers(
            &h(&[
                ("content-type", "application/json"),
                ("x-tenant", "acme"),
                ("OpenAI-Organization", "org-1"),
            ]),
            Some("authorization"),
            &spec,
        );
        assert_eq!(out["authorization"], REDACTED);
        assert_eq!(out["x-tenant"], REDACTED);
        assert_eq!(out["openai-organization"], REDACTED);
        assert_eq!(out["content-type"], "application/json");
    }

    #[test]
    fn response_headers_keep_only_what_is_worth_keeping() {
        let spec = RedactSpec {
            headers: vec!["x-request-id".into()],
            ..RedactSpec::default()
        };
        let out = response_headers(
            &h(&[
                ("Content-Type", "application/json"),
                ("set-cookie", "session=abc"),
                ("x-request-id", "req_1"),
                ("request-id", "req_2"),
                ("x-ratelimit-remaining-requests", "99"),
                ("anthropic-ratelimit-tokens-limit", "1000"),
                ("retry-after", "3"),
                ("retry-after-ms", "3000"),
                ("x-should-retry", "false"),
                ("cf-ray", "abc"),
                ("openai-organization", "org-1"),
                ("server", "cloudflare"),
            ]),
            &spec,
        );
        let names: Vec<&str> = out.keys().map(String::as_str).collect();
        assert_eq!(
            names,
            [
                "anthropic-ratelimit-tokens-limit",
                "content-type",
                "request-id",
                "retry-after",
                "retry-after-ms",
                "x-ratelimit-remaining-requests",
                "x-should-retry"
            ]
        );
    }

    #[test]
    fn json_pointers_with_wildcards_redact_and_report_concrete_paths() {
        let mut v = json!({
            "user": "u-1",
            "metadata": {"user_id": "abc", "keep": 1},
            "messages": [{"content": "a", "role": "user"}, {"content": "b", "role": "assistant"}],
            "a/b": {"~x": 2}
        });
        let hit = redact_json(
            &mut v,
            &[
                "/user".into(),
                "/metadata/user_id".into(),
                "/messages/*/content".into(),
                "/a~1b/~0x".into(),
                "/absent/deeper".into(),
            ],
        );
        assert_eq!(
            hit,
            [
                "/a~1b/~0x",
                "/messages/0/content",
                "/messages/1/content",
                "/metadata/user_id",
                "/user"
            ]
        );
        assert_eq!(v["user"], REDACTED);
        assert_eq!(v["metadata"]["keep"], 1);
        assert_eq!(v["messages"][1]["role"], "assistant");
        assert_eq!(v["messages"][1]["content"], REDACTED);
        assert_eq!(v["a/b"]["~x"], REDACTED);
    }

    #[test]
    fn stream_events_are_redacted_only_when_json_and_touched() {
        let ptrs = vec!["/id".to_string()];
        assert_eq!(
            redact_event_data(r#"{"id":"x","n":1}"#, &ptrs).as_deref(),
            Some(r#"{"id":"<redacted>","n":1}"#)
        );
        assert_eq!(redact_event_data("[DONE]", &ptrs), None);
        assert_eq!(redact_event_data(r#"{"n":1}"#, &ptrs), None);
        assert_eq!(redact_event_data(r#"{"id":"x"}"#, &[]), None);
    }

    #[test]
    fn config_problems_are_named() {
        let bad = RedactSpec {
            json: vec!["user".into()],
            ..RedactSpec::default()
        };
        assert!(
            bad.problem()
                .unwrap()
                .contains("`user` is not a JSON pointer")
        );
        let mut a = RedactSpec {
            headers: vec!["x-a".into()],
            ..RedactSpec::default()
        };
        a.extend(&RedactSpec {
            headers: vec!["x-a".into(), "x-b".into()],
            json: vec!["/u".into()],
            env: vec!["S".into()],
        });
        assert_eq!(a.headers, ["x-a", "x-b"]);
        assert_eq!(a.json, ["/u"]);
        assert!(a.problem().is_none());
    }

    fn env(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |k| {
            pairs
                .iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| v.to_string())
        }
    }

    #[test]
    fn scanner_finds_keys_and_long_secrets_by_name() {
        let e = env(&[
            ("KEY_A", "sk-test-123"),
            ("EMPTY", "  "),
            ("SHORT", "prod"),
            ("LONG", "session-0123456789"),
            ("QUOTED", "ab\"cd/ef\\gh"),
        ]);
        let s = Secrets::from_env(["KEY_A", "EMPTY", "UNSET"], ["SHORT", "LONG", "QUOTED"], &e);
        assert_eq!(
            format!("{s:?}"),
            r#"Secrets { vars: ["LONG", "KEY_A", "QUOTED"] }"#
        );
        assert_eq!(s.find("Bearer sk-test-123"), Some("KEY_A"));
        assert_eq!(s.find("x session-0123456789 y"), Some("LONG"));
        assert_eq!(s.find("production"), None);
        // Inside a JSON string the quote and backslash are escaped; still found.
        assert_eq!(s.find(r#"{"t":"ab\"cd/ef\\gh"}"#), Some("QUOTED"));
        assert_eq!(
            s.find_in_value(&json!({"a": [1, {"b": "..sk-test-123.."}]})),
            Some("KEY_A")
        );
        assert_eq!(s.find_in_value(&json!({"sk-test-123": 1})), Some("KEY_A"));
        assert_eq!(s.find_in_value(&json!({"a": "clean"})), None);
        assert_eq!(
            s.scrub("key sk-test-123 and session-0123456789"),
            "key <redacted:KEY_A> and <redacted:LONG>"
        );
        assert!(Secrets::from_env([], [], &e).is_empty());
    }
}

//! What a handler answers, before it becomes an HTTP response, and helpers every dialect's
//! reader shares.

use serde_json::Value;

/// One answer to one request.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Out {
    /// A JSON body.
    Json(u16, Value),
    /// A stream: its content type and the chunks written one by one.
    Stream(&'static str, Vec<String>),
    /// A plain-text body (Go's default 404 page, say).
    Text(u16, String),
}

/// The text of a message's `content`: a string, or the text of its parts or blocks (tool
/// results' nested content included).
pub(super) fn text_of(content: &Value) -> String {
    match content {
        Value::String(s) => s.clone(),
        Value::Array(parts) => {
            let texts: Vec<String> = parts
                .iter()
                .map(|p| match (p.get("text"), p.get("content")) {
                    (Some(Value::String(t)), _) => t.clone(),
                    (_, Some(c)) => text_of(c),
                    _ => String::new(),
                })
                .filter(|t| !t.is_empty())
                .collect();
            texts.join(" ")
        }
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// Whether a content array holds an image part of type `kind`.
pub(super) fn has_image(content: &Value, kind: &str) -> bool {
    content.as_array().is_some_and(|parts| {
        parts
            .iter()
            .any(|p| p.get("type").and_then(Value::as_str) == Some(kind))
    })
}

/// The strings of a `stop` field: one string or an array of them.
pub(super) fn strings(v: Option<&Value>) -> Vec<String> {
    match v {
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Array(a)) => a
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_string)
            .collect(),
        _ => Vec::new(),
    }
}

/// Seconds since the epoch.
pub(super) fn now_secs() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// An SSE event: an optional `event:` line, then `data:`.
pub(super) fn sse(event: Option<&str>, data: &str) -> String {
    match event {
        Some(name) => format!("event: {name}\ndata: {data}\n\n"),
        None => format!("data: {data}\n\n"),
    }
}

/// A field as u32, when it is a non-negative integer.
pub(super) fn u32_of(v: Option<&Value>) -> Option<u32> {
    v.and_then(Value::as_u64)
        .map(|n| n.min(u32::MAX as u64) as u32)
}

/// The request body as JSON; a server that accepts invalid requests reads a body that is not
/// JSON as an empty object.
pub(super) fn parse_or_accept(body: &[u8], accept: bool) -> Result<Value, serde_json::Error> {
    match serde_json::from_slice(body) {
        Err(_) if accept => Ok(Value::Object(serde_json::Map::new())),
        other => other,
    }
}

//! Decoding a `Response` object (a whole reply, or the `response` of a stream's terminal
//! event) and the error body, checking the contract on the way.

use serde_json::Value;

use crate::dialect::json::{Check, join};
use crate::dialect::wire::header;
use crate::neutral::{FinishReason, ProviderError, Reply, ToolCall, Usage};

/// `Response.status` values the spec documents.
const STATUSES: [&str; 6] = [
    "completed",
    "failed",
    "in_progress",
    "cancelled",
    "queued",
    "incomplete",
];

/// `incomplete_details.reason` values the spec documents.
const INCOMPLETE_REASONS: [&str; 2] = ["max_output_tokens", "content_filter"];

/// One output item as decoded, for the stream's agreement checks.
#[derive(Debug, Default, Clone, PartialEq)]
pub(crate) struct Item {
    /// `type`.
    pub(crate) kind: String,
    /// `id`, where the item has one.
    pub(crate) id: Option<String>,
    /// A message's content parts: their type and text (or refusal).
    pub(crate) parts: Vec<(String, String)>,
    /// A function call's `arguments`.
    pub(crate) arguments: Option<String>,
}

/// What a `Response` object says, decoded.
#[derive(Debug, Default)]
pub(crate) struct Decoded {
    pub(crate) id: Option<String>,
    pub(crate) model: Option<String>,
    pub(crate) status: Option<String>,
    pub(crate) incomplete_reason: Option<String>,
    pub(crate) text: String,
    pub(crate) refused: bool,
    pub(crate) tool_calls: Vec<ToolCall>,
    pub(crate) usage: Option<Usage>,
    pub(crate) error: Option<ProviderError>,
    pub(crate) items: Vec<Item>,
}

impl Decoded {
    /// The neutral finish reason and the raw value it came from: `status`, or for an
    /// incomplete reply its `incomplete_details.reason`. A failed reply has none: its error
    /// says what happened.
    pub(crate) fn finish(&self) -> Option<(FinishReason, String)> {
        let status = self.status.as_deref()?;
        let finish = match status {
            "completed" if self.refused => FinishReason::Refusal,
            "completed" if !self.tool_calls.is_empty() => FinishReason::ToolCalls,
            "completed" => FinishReason::Stop,
            "incomplete" => {
                let reason = self.incomplete_reason.as_deref().unwrap_or("incomplete");
                let f = match reason {
                    "max_output_tokens" => FinishReason::Length,
                    "content_filter" => FinishReason::ContentFilter,
                    _ => FinishReason::Other,
                };
                return Some((f, reason.to_string()));
            }
            "failed" => return None,
            _ => FinishReason::Other,
        };
        Some((finish, status.to_string()))
    }

    /// Fills `reply` with what this response says.
    pub(crate) fn apply(self, reply: &mut Reply) {
        if let Some((f, raw)) = self.finish() {
            reply.finish_reason = Some(f);
            reply.raw_finish_reason = Some(raw);
        }
        reply.id = self.id;
        reply.model = self.model;
        reply.text = self.text;
        reply.tool_calls = self.tool_calls;
        reply.usage = self.usage;
        if self.error.is_some() {
            reply.error = self.error;
        }
    }
}

/// Decodes a reply body (already parsed into `reply.raw`) and checks the contract.
pub(crate) fn decode(reply: &mut Reply, headers: &[(String, String)]) {
    reply.request_id = header(headers, "x-request-id").map(str::to_string);
    let raw = std::mem::take(&mut reply.raw);
    let mut check = Check {
        violations: &mut reply.violations,
    };
    if !(200..300).contains(&reply.status) {
        reply.error = Some(crate::dialect::openai::decode_error(&raw, &mut check));
        reply.raw = raw;
        return;
    }
    if !raw.is_object() {
        check.fail("body must be a JSON object (Response)".into());
        reply.raw = raw;
        return;
    }
    let decoded = response(&raw, "", &mut check);
    if let Some(s) = decoded.status.as_deref()
        && !matches!(s, "completed" | "incomplete" | "failed")
    {
        check.fail(format!(
            "`status` is {s:?}: a synchronous reply must be \"completed\", \"incomplete\" or \"failed\""
        ));
    }
    decoded.apply(reply);
    reply.raw = raw;
}

/// Decodes and checks a `Response` object found at `path` (`""` for a whole body).
pub(crate) fn response(raw: &Value, path: &str, check: &mut Check<'_>) -> Decoded {
    let mut d = Decoded {
        id: check.string(raw, path, "id").map(str::to_string),
        ..Decoded::default()
    };
    check.constant(raw, path, "object", "response");
    match raw.get("created_at") {
        Some(v) if v.is_number() => {}
        Some(v) => check.fail(format!(
            "`{}` must be a number, got {v}",
            join(path, "created_at")
        )),
        None => check.fail(format!(
            "`{}` is missing (required number)",
            join(path, "created_at")
        )),
    }
    d.model = check.string(raw, path, "model").map(str::to_string);
    d.status = check.string(raw, path, "status").map(str::to_string);
    if let Some(s) = d.status.as_deref()
        && !STATUSES.contains(&s)
    {
        check.fail(format!(
            "`{}` has undocumented value {s:?}",
            join(path, "status")
        ));
    }
    status_details(raw, path, &mut d, check);
    if let Some(items) = check.array(raw, path, "output") {
        for (i, item) in items.iter().enumerate() {
            output_item(
                item,
                &format!("{}[{i}]", join(path, "output")),
                &mut d,
                check,
            );
        }
    }
    if let Some(u) = raw.get("usage").filter(|u| !u.is_null()) {
        let upath = join(path, "usage");
        d.usage = Some(Usage {
            input_tokens: check.uint(u, &upath, "input_tokens"),
            output_tokens: check.uint(u, &upath, "output_tokens"),
        });
        check.uint(u, &upath, "total_tokens");
    }
    d
}

/// `incomplete_details` and `error` against `status`: an incomplete reply says why, a
/// completed one carries neither, a failed one carries its error.
fn status_details(raw: &Value, path: &str, d: &mut Decoded, check: &mut Check<'_>) {
    let details = raw.get("incomplete_details").filter(|v| !v.is_null());
    let dpath = join(path, "incomplete_details");
    match (d.status.as_deref(), details) {
        (Some("incomplete"), None) => check.fail(format!(
            "`{}` is \"incomplete\" but `{dpath}` is missing or null (it must give the reason)",
            join(path, "status")
        )),
        (Some("incomplete"), Some(det)) => {
            let reason = check.string(det, &dpath, "reason");
            if let Some(r) = reason
                && !INCOMPLETE_REASONS.contains(&r)
            {
                check.fail(format!("`{dpath}.reason` has undocumented value {r:?}"));
            }
            d.incomplete_reason = reason.map(str::to_string);
        }
        (Some("completed"), Some(det)) => check.fail(format!(
            "`{}` is \"completed\" but `{dpath}` is {det} (it must be null)",
            join(path, "status")
        )),
        _ => {}
    }
    let error = raw.get("error").filter(|v| !v.is_null());
    let epath = join(path, "error");
    match (d.status.as_deref(), error) {
        (Some("failed"), None) => check.fail(format!(
            "`{}` is \"failed\" but `{epath}` is missing or null",
            join(path, "status")
        )),
        (Some("failed"), Some(e)) => {
            d.error = Some(ProviderError {
                kind: None,
                code: check.string(e, &epath, "code").map(str::to_string),
                param: None,
                message: check
                    .string(e, &epath, "message")
                    .unwrap_or_default()
                    .to_string(),
            });
        }
        (Some(s), Some(e)) if s != "failed" => check.fail(format!(
            "`{}` is {s:?} but `{epath}` is {e} (it must be null)",
            join(path, "status")
        )),
        _ => {}
    }
}

/// One output item: a message's content parts are read into the text, a function call into
/// the tool calls; other documented items (reasoning, built-in tool calls) are kept by type.
pub(crate) fn output_item(item: &Value, path: &str, d: &mut Decoded, check: &mut Check<'_>) {
    let Some(kind) = check.string(item, path, "type") else {
        return;
    };
    let mut out = Item {
        kind: kind.to_string(),
        id: item.get("id").and_then(Value::as_str).map(str::to_string),
        ..Item::default()
    };
    match kind {
        "message" => {
            check.string(item, path, "id");
            check.constant(item, path, "role", "assistant");
            check.string(item, path, "status");
            let parts = check
                .array(item, path, "content")
                .cloned()
                .unwrap_or_default();
            for (k, part) in parts.iter().enumerate() {
                let ppath = format!("{path}.content[{k}]");
                if let Some(p) = content_part(part, &ppath, check) {
                    if p.0 == "refusal" {
                        d.refused = true;
                    } else {
                        d.text.push_str(&p.1);
                    }
                    out.parts.push(p);
                }
            }
        }
        "function_call" => {
            let call = super::tools::decode_call(item, path, check);
            out.arguments = Some(call.arguments_raw.clone());
            d.tool_calls.push(call);
        }
        _ => {}
    }
    d.items.push(out);
}

/// One content part of an output message: `output_text` (with `text` and `annotations`) or
/// `refusal` (with `refusal`); the part's type and its text.
pub(crate) fn content_part(
    part: &Value,
    path: &str,
    check: &mut Check<'_>,
) -> Option<(String, String)> {
    let kind = check.string(part, path, "type")?;
    match kind {
        "output_text" => {
            let text = check.string(part, path, "text").unwrap_or_default();
            check.array(part, path, "annotations");
            Some((kind.to_string(), text.to_string()))
        }
        "refusal" => {
            let text = check.string(part, path, "refusal").unwrap_or_default();
            Some((kind.to_string(), text.to_string()))
        }
        other => {
            check.fail(format!(
                "`{path}.type` has undocumented value {other:?} (expected \"output_text\" or \"refusal\")"
            ));
            None
        }
    }
}

/// The checks that need the request: `usage.output_tokens` within `max_output_tokens`, and
/// a reply that used the whole limit reported as cut (`incomplete` with reason
/// `max_output_tokens`), not `completed`.
pub(crate) fn limits(request: &Value, reply: &Reply) -> Vec<String> {
    let mut out = Vec::new();
    if !(200..300).contains(&reply.status) || reply.error.is_some() {
        return out;
    }
    let (Some(max), Some(used)) = (
        request.get("max_output_tokens").and_then(Value::as_u64),
        reply.usage.and_then(|u| u.output_tokens),
    ) else {
        return out;
    };
    let field = if reply.stream.is_some() {
        "the terminal event's `response.usage.output_tokens`"
    } else {
        "`usage.output_tokens`"
    };
    if used > max {
        out.push(format!(
            "{field} is {used}, over the request's `max_output_tokens` ({max})"
        ));
    }
    if used >= max && reply.raw_finish_reason.as_deref() == Some("completed") {
        out.push(format!(
            "status is \"completed\" but {field} ({used}) reached `max_output_tokens` ({max}): a reply cut at the limit must be \"incomplete\" with `incomplete_details.reason` \"max_output_tokens\""
        ));
    }
    out
}

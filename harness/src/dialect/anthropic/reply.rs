//! Decoding anthropic's reply and error bodies, checking the contract on the way.

use serde_json::Value;

use crate::dialect::json::{Check, opt_str};
use crate::dialect::wire::header;
use crate::neutral::{FinishReason, ProviderError, Reply, Usage};

/// Maps Anthropic's `stop_reason` to the neutral one.
pub(super) fn finish_reason(raw: &str) -> FinishReason {
    match raw {
        "end_turn" | "stop_sequence" => FinishReason::Stop,
        "max_tokens" | "model_context_window_exceeded" => FinishReason::Length,
        "tool_use" => FinishReason::ToolCalls,
        "refusal" => FinishReason::Refusal,
        _ => FinishReason::Other,
    }
}

const STOP_REASONS: [&str; 7] = [
    "end_turn",
    "max_tokens",
    "stop_sequence",
    "tool_use",
    "pause_turn",
    "refusal",
    "model_context_window_exceeded",
];

/// Decodes a reply body (already parsed into `reply.raw`) and checks the `Message` contract.
pub(crate) fn decode(reply: &mut Reply, headers: &[(String, String)]) {
    reply.request_id = header(headers, "request-id").map(str::to_string);
    let raw = std::mem::take(&mut reply.raw);
    let mut check = Check {
        violations: &mut reply.violations,
    };
    if !(200..300).contains(&reply.status) {
        reply.error = Some(decode_error(&raw, &mut check));
        reply.raw = raw;
        return;
    }
    if !raw.is_object() {
        check.fail("body must be a JSON object (Message)".into());
        reply.raw = raw;
        return;
    }
    reply.id = check.string(&raw, "", "id").map(str::to_string);
    check.constant(&raw, "", "type", "message");
    check.constant(&raw, "", "role", "assistant");
    reply.model = check.string(&raw, "", "model").map(str::to_string);
    if let Some(blocks) = check.array(&raw, "", "content") {
        let mut text = String::new();
        for (i, block) in blocks.iter().enumerate() {
            let path = format!("content[{i}]");
            match check.string(block, &path, "type") {
                Some("text") => text.push_str(check.string(block, &path, "text").unwrap_or("")),
                Some("tool_use") => {
                    let call = super::tools::decode(block, &path, &mut check);
                    reply.tool_calls.push(call);
                }
                _ => {}
            }
        }
        reply.text = text;
    }
    // A complete (non-streamed) Message always says why it stopped; null only appears in a
    // stream's message_start.
    match raw.get("stop_reason") {
        None => check.fail("`stop_reason` is missing (required string)".into()),
        Some(Value::Null) => {
            check.fail("`stop_reason` is null: a complete message must say why it stopped".into())
        }
        Some(Value::String(s)) => {
            if !STOP_REASONS.contains(&s.as_str()) {
                check.fail(format!("`stop_reason` has undocumented value {s:?}"));
            }
            reply.finish_reason = Some(finish_reason(s));
            reply.raw_finish_reason = Some(s.clone());
        }
        Some(_) => check.fail("`stop_reason` must be a string".into()),
    }
    reply.stop_sequence = check
        .string_or_null(&raw, "", "stop_sequence")
        .map(str::to_string);
    stop_sequence_agrees(
        reply.raw_finish_reason.as_deref(),
        &reply.stop_sequence,
        "",
        &mut check,
    );
    if let Some(usage) = check.object(&raw, "", "usage") {
        let input = check.uint(usage, "usage", "input_tokens");
        let output = check.uint(usage, "usage", "output_tokens");
        reply.usage = Some(Usage {
            input_tokens: input,
            output_tokens: output,
        });
    }
    reply.raw = raw;
}

/// `stop_sequence` names the sequence that matched exactly when `stop_reason` is
/// `stop_sequence` (null otherwise), as the Message contract says.
pub(crate) fn stop_sequence_agrees(
    stop_reason: Option<&str>,
    seq: &Option<String>,
    path: &str,
    check: &mut Check<'_>,
) {
    let field = crate::dialect::json::join(path, "stop_sequence");
    match (stop_reason, seq) {
        (Some("stop_sequence"), None) => check.fail(format!(
            "`{field}` is null, but `stop_reason` is \"stop_sequence\": it must name the sequence that matched"
        )),
        (Some(r), Some(s)) if r != "stop_sequence" => check.fail(format!(
            "`{field}` is {s:?}, but `stop_reason` is {r:?}: it is set only when a stop sequence matched"
        )),
        _ => {}
    }
}

/// Decodes `{"type": "error", "error": {type, message}}`.
fn decode_error(raw: &Value, check: &mut Check<'_>) -> ProviderError {
    check.constant(raw, "", "type", "error");
    let Some(err) = check.object(raw, "", "error") else {
        return ProviderError {
            message: raw.to_string(),
            ..ProviderError::default()
        };
    };
    ProviderError {
        kind: check.string(err, "error", "type").map(str::to_string),
        message: check
            .string(err, "error", "message")
            .unwrap_or_default()
            .to_string(),
        code: None,
        param: opt_str(err, "param"),
    }
}

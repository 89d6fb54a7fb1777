//! Decoding ollama's reply and error bodies, checking the contract on the way.

use serde_json::Value;

use crate::dialect::json::Check;
use crate::neutral::{FinishReason, ProviderError, Reply, Usage};

/// Maps Ollama's `done_reason`; `stop` with tool calls is a tool call.
pub(super) fn finish_reason(raw: &str, has_tool_calls: bool) -> FinishReason {
    match raw {
        "stop" if has_tool_calls => FinishReason::ToolCalls,
        "stop" => FinishReason::Stop,
        "length" => FinishReason::Length,
        _ => FinishReason::Other,
    }
}

/// Decodes a `/api/chat` reply and checks the contract of a final (`done: true`) object.
pub(crate) fn decode(reply: &mut Reply, _headers: &[(String, String)]) {
    let raw = std::mem::take(&mut reply.raw);
    let mut check = Check {
        violations: &mut reply.violations,
    };
    if !(200..300).contains(&reply.status) {
        reply.error = Some(match check.string(&raw, "", "error") {
            Some(msg) => ProviderError {
                message: msg.to_string(),
                ..ProviderError::default()
            },
            None => ProviderError {
                message: raw.to_string(),
                ..ProviderError::default()
            },
        });
        reply.raw = raw;
        return;
    }
    if !raw.is_object() {
        check.fail("body must be a JSON object".into());
        reply.raw = raw;
        return;
    }
    // A 200 can still carry an error (e.g. a model that failed to load).
    if let Some(e) = raw.get("error").and_then(Value::as_str) {
        check.fail(format!("a 200 reply carries an error: {e:?}"));
        reply.error = Some(ProviderError {
            message: e.to_string(),
            ..ProviderError::default()
        });
    }
    reply.model = check.string(&raw, "", "model").map(str::to_string);
    check.string(&raw, "", "created_at");
    let mut has_tools = false;
    if let Some(msg) = check.object(&raw, "", "message") {
        check.constant(msg, "message", "role", "assistant");
        reply.text = check
            .string(msg, "message", "content")
            .unwrap_or("")
            .to_string();
        has_tools = msg
            .get("tool_calls")
            .and_then(Value::as_array)
            .is_some_and(|a| !a.is_empty());
        reply.tool_calls = super::tools::decode(msg, &mut check);
    }
    match check.boolean(&raw, "", "done") {
        Some(true) => {
            if let Some(dr) = check.string(&raw, "", "done_reason") {
                reply.finish_reason = Some(finish_reason(dr, has_tools));
                reply.raw_finish_reason = Some(dr.to_string());
            }
            let input = check.opt_uint(&raw, "", "prompt_eval_count");
            // A load or unload (no messages) generates nothing and reports no counts.
            let generated = !matches!(reply.raw_finish_reason.as_deref(), Some("load" | "unload"));
            let output = if generated {
                check.uint(&raw, "", "eval_count")
            } else {
                check.opt_uint(&raw, "", "eval_count")
            };
            for f in ["total_duration", "load_duration", "eval_duration"] {
                check.opt_uint(&raw, "", f);
            }
            reply.usage = Some(Usage {
                input_tokens: input,
                output_tokens: output,
            });
        }
        Some(false) => check.fail(
            "`done` is false: a stream:false reply must be the final object (done: true)".into(),
        ),
        None => {}
    }
    reply.raw = raw;
}

//! Decoding openai's reply and error bodies, checking the contract on the way.

use serde_json::Value;

use crate::dialect::json::{Check, opt_str};
use crate::dialect::wire::header;
use crate::neutral::{FinishReason, ProviderError, Reply, Usage};

/// Maps OpenAI's `finish_reason` to the neutral one.
pub(super) fn finish_reason(raw: &str) -> FinishReason {
    match raw {
        "stop" => FinishReason::Stop,
        "length" => FinishReason::Length,
        "tool_calls" | "function_call" => FinishReason::ToolCalls,
        "content_filter" => FinishReason::ContentFilter,
        _ => FinishReason::Other,
    }
}

const FINISH_REASONS: [&str; 5] = [
    "stop",
    "length",
    "tool_calls",
    "content_filter",
    "function_call",
];

/// Decodes a reply body (already parsed into `reply.raw`) and checks the contract.
pub(crate) fn decode(reply: &mut Reply, headers: &[(String, String)]) {
    reply.request_id = header(headers, "x-request-id").map(str::to_string);
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
        check.fail("body must be a JSON object (CreateChatCompletionResponse)".into());
        reply.raw = raw;
        return;
    }
    reply.id = check.string(&raw, "", "id").map(str::to_string);
    check.constant(&raw, "", "object", "chat.completion");
    check.uint(&raw, "", "created");
    reply.model = check.string(&raw, "", "model").map(str::to_string);
    if let Some(choices) = check.array(&raw, "", "choices") {
        if choices.is_empty() {
            check.fail("`choices` is empty: a chat completion has at least one choice".into());
        }
        reply.choices = Some(choices.len());
        let mut indexes = std::collections::BTreeMap::new();
        for (i, choice) in choices.iter().enumerate() {
            let path = format!("choices[{i}]");
            if let Some(index) = check.uint(choice, &path, "index")
                && let Some(first) = indexes.insert(index, i)
            {
                check.fail(format!(
                    "`{path}.index` is {index}, as is `choices[{first}].index`: each choice has its own index"
                ));
            }
            let fr = check.string(choice, &path, "finish_reason");
            if let Some(fr) = fr
                && !FINISH_REASONS.contains(&fr)
            {
                check.fail(format!(
                    "`{path}.finish_reason` has undocumented value {fr:?}"
                ));
            }
            let msg = check.object(choice, &path, "message");
            let logprobs = super::logprobs::decode(choice, &path, &mut check);
            if i != 0 {
                continue;
            }
            reply.logprobs = logprobs;
            if let Some(msg) = msg {
                let mpath = format!("{path}.message");
                check.constant(msg, &mpath, "role", "assistant");
                reply.text = check
                    .string_or_null(msg, &mpath, "content")
                    .unwrap_or("")
                    .to_string();
                reply.tool_calls = super::tools::decode(msg, &mpath, &mut check);
                let refused = msg.get("refusal").and_then(Value::as_str).is_some();
                let has_calls = !reply.tool_calls.is_empty();
                reply.finish_reason = fr.map(|r| {
                    if refused {
                        FinishReason::Refusal
                    } else {
                        finish_with_calls(r, has_calls)
                    }
                });
            }
            reply.raw_finish_reason = fr.map(str::to_string);
        }
    }
    if let Some(usage) = raw.get("usage").filter(|u| !u.is_null()) {
        let input = check.uint(usage, "usage", "prompt_tokens");
        let output = check.uint(usage, "usage", "completion_tokens");
        check.uint(usage, "usage", "total_tokens");
        reply.usage = Some(Usage {
            input_tokens: input,
            output_tokens: output,
        });
    }
    reply.raw = raw;
}

/// OpenAI's `finish_reason` in neutral form. A reply that called tools but says `stop` (what
/// OpenAI answers to a forced tool choice) stopped to call them, as Ollama's `stop` does.
pub(crate) fn finish_with_calls(raw: &str, has_calls: bool) -> FinishReason {
    match finish_reason(raw) {
        FinishReason::Stop if has_calls => FinishReason::ToolCalls,
        other => other,
    }
}

/// Decodes `{"error": {message, type, param, code}}`. `param` and `code` are required (null
/// when there is none), which is also what tells this shape from Anthropic's
/// `{"type": "error", "error": {type, message}}`.
pub(crate) fn decode_error(raw: &Value, check: &mut Check<'_>) -> ProviderError {
    let Some(err) = check.object(raw, "", "error") else {
        return ProviderError {
            message: raw.to_string(),
            ..ProviderError::default()
        };
    };
    if raw.get("type").and_then(Value::as_str) == Some("error") {
        check.fail(
            "top-level `type: \"error\"` is Anthropic's error shape; OpenAI's is `{error: {message, type, param, code}}`"
                .into(),
        );
    }
    for field in ["param", "code"] {
        if err.get(field).is_none() {
            check.fail(format!(
                "`error.{field}` is missing (required; null when there is none)"
            ));
        }
    }
    ProviderError {
        message: check
            .string(err, "error", "message")
            .unwrap_or_default()
            .to_string(),
        kind: check
            .string_or_null(err, "error", "type")
            .map(str::to_string),
        code: opt_str(err, "code").or_else(|| {
            err.get("code")
                .and_then(Value::as_i64)
                .map(|n| n.to_string())
        }),
        param: opt_str(err, "param"),
    }
}

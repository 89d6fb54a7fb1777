//! `provcheck scaffold`: writes an authored-recording skeleton for each planned trial that has
//! none. Requests are encoded exactly as the trial will send them; each response is a
//! dialect-shaped success for the author to edit into the documented answer.

use serde_json::{Value, json};

use super::plan::PlannedTrial;
use super::trial::{base_path, neutral};
use crate::dialect::DialectKind;
use crate::record::format::{
    Exchange, Provenance, REDACTED, RecordedRequest, RecordedResponse, RecordingFile, Source,
};

/// The skeleton recording for one trial.
pub(crate) fn skeleton(t: &PlannedTrial, date: &str) -> RecordingFile {
    let sc = &t.scenario;
    let target = &t.target;
    let specs: Vec<_> = match &sc.request {
        Some(r) => vec![r],
        None => sc.steps.iter().map(|s| &s.request).collect(),
    };
    let prefix = base_path(&target.base_url);
    let mut exchanges = Vec::new();
    let mut n = 0;
    for spec in specs {
        let model = target.models.get(&spec.model).cloned().unwrap_or_default();
        let Ok(wire) = target
            .dialect
            .encode_request(&neutral(spec, &model), &target.wire)
        else {
            continue;
        };
        for _ in 0..sc.concurrency {
            n += 1;
            let mut headers: std::collections::BTreeMap<String, String> = wire
                .headers
                .iter()
                .map(|(k, v)| (k.to_string(), v.clone()))
                .collect();
            if target.key_env.is_some() {
                let (name, _) = target.dialect.auth_header("");
                headers.insert(name.to_string(), REDACTED.to_string());
            }
            let request = RecordedRequest {
                method: wire.method.to_string(),
                path: format!("{prefix}{}", wire.path),
                headers,
                body: (!wire.body.is_null()).then(|| wire.body.clone()),
                ignore: Vec::new(),
            };
            exchanges.push(Exchange {
                request,
                response: template(target.dialect, &model, &sc.id, n),
            });
        }
    }
    RecordingFile {
        provenance: Provenance {
            source: Source::Authored,
            date: date.to_string(),
            model: t.models.first().cloned(),
            reference: Some("../shared/reference/provider-wire.md".into()),
            note: Some(
                "scaffolded by provcheck; edit each response into the documented answer".into(),
            ),
        },
        exchanges,
    }
}

fn template(dialect: DialectKind, model: &str, id: &str, n: usize) -> RecordedResponse {
    let (headers, body): (Vec<(&str, String)>, Value) = match dialect {
        DialectKind::Openai => (
            vec![
                ("content-type", "application/json".into()),
                ("x-request-id", format!("req_{id}_{n}")),
            ],
            json!({
                "id": format!("chatcmpl-{id}-{n}"), "object": "chat.completion", "created": 1764028800u64,
                "model": model, "system_fingerprint": "fp_authored",
                "choices": [{"index": 0, "message": {"role": "assistant", "content": "TODO", "refusal": null, "annotations": []},
                             "logprobs": null, "finish_reason": "stop"}],
                "usage": {"prompt_tokens": 10, "completion_tokens": 1, "total_tokens": 11,
                          "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
                          "completion_tokens_details": {"reasoning_tokens": 0, "audio_tokens": 0,
                                                        "accepted_prediction_tokens": 0, "rejected_prediction_tokens": 0}},
                "service_tier": "default"
            }),
        ),
        DialectKind::Anthropic => (
            vec![
                ("content-type", "application/json".into()),
                ("request-id", format!("req_{id}_{n}")),
            ],
            json!({
                "id": format!("msg_{id}_{n}"), "type": "message", "role": "assistant", "model": model,
                "content": [{"type": "text", "text": "TODO", "citations": null}],
                "stop_reason": "end_turn", "stop_sequence": null, "stop_details": null, "container": null,
                "usage": {"input_tokens": 10, "output_tokens": 1, "cache_creation_input_tokens": 0,
                          "cache_read_input_tokens": 0,
                          "cache_creation": {"ephemeral_5m_input_tokens": 0, "ephemeral_1h_input_tokens": 0},
                          "inference_geo": null, "output_tokens_details": null, "server_tool_use": null,
                          "service_tier": "standard"}
            }),
        ),
        DialectKind::OpenaiResponses => (
            vec![
                ("content-type", "application/json".into()),
                ("x-request-id", format!("req_{id}_{n}")),
            ],
            json!({
                "id": format!("resp_{id}_{n}"), "object": "response", "created_at": 1764028800u64,
                "status": "completed", "completed_at": 1764028801u64, "error": null, "incomplete_details": null,
                "instructions": null, "model": model, "metadata": {}, "parallel_tool_calls": true,
                "temperature": 1.0, "top_p": 1.0, "tool_choice": "auto", "tools": [],
                "output": [{"type": "message", "id": format!("msg_{id}_{n}"), "status": "completed", "role": "assistant",
                            "content": [{"type": "output_text", "text": "TODO", "annotations": [], "logprobs": []}]}],
                "usage": {"input_tokens": 10, "input_tokens_details": {"cached_tokens": 0, "cache_write_tokens": 0},
                          "output_tokens": 1, "output_tokens_details": {"reasoning_tokens": 0}, "total_tokens": 11}
            }),
        ),
        DialectKind::Ollama => (
            vec![("content-type", "application/json; charset=utf-8".into())],
            json!({
                "model": model, "created_at": "2026-11-25T12:00:00.000000Z",
                "message": {"role": "assistant", "content": "TODO"},
                "done": true, "done_reason": "stop", "total_duration": 250000000u64, "load_duration": 20000000u64,
                "prompt_eval_count": 10, "prompt_eval_duration": 50000000u64, "eval_count": 1, "eval_duration": 150000000u64
            }),
        ),
    };
    RecordedResponse {
        status: 200,
        headers: headers
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect(),
        body: Some(body),
        body_text: None,
        delay_ms: None,
        stream: None,
    }
}

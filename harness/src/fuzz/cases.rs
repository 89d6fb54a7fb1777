//! The valid streams the stream fuzzing starts from, one per dialect: text over several
//! events with non-ASCII and a newline, two tool calls whose arguments stream in pieces, a
//! finish reason and usage, as each provider documents its wire format.

use serde_json::{Value, json};

/// OpenAI chat completions: a keep-alive comment, chunks, a usage chunk, `[DONE]`.
pub(super) fn openai() -> String {
    let chunk = |delta: Value, finish: Value| {
        json!({"id":"chatcmpl-F","object":"chat.completion.chunk","created":1727346182,"model":"gpt-4o",
            "system_fingerprint":"fp_1","choices":[{"index":0,"delta":delta,"logprobs":null,"finish_reason":finish}]})
    };
    let events = [
        chunk(
            json!({"role":"assistant","content":"","refusal":null}),
            Value::Null,
        ),
        chunk(json!({"content":"Héllo, "}), Value::Null),
        chunk(json!({"content":"wörld 🌍\nline two"}), Value::Null),
        chunk(
            json!({"tool_calls":[{"index":0,"id":"call_A","type":"function","function":{"name":"get_weather","arguments":""}}]}),
            Value::Null,
        ),
        chunk(
            json!({"tool_calls":[{"index":0,"function":{"arguments":"{\"city\": \"Zü"}}]}),
            Value::Null,
        ),
        chunk(
            json!({"tool_calls":[{"index":0,"function":{"arguments":"rich\"}"}}]}),
            Value::Null,
        ),
        chunk(
            json!({"tool_calls":[{"index":1,"id":"call_B","type":"function","function":{"name":"now","arguments":"{}"}}]}),
            Value::Null,
        ),
        chunk(json!({}), json!("tool_calls")),
        json!({"id":"chatcmpl-F","object":"chat.completion.chunk","created":1727346182,"model":"gpt-4o",
            "choices":[],"usage":{"prompt_tokens":44,"completion_tokens":16,"total_tokens":60}}),
    ];
    let mut body = String::from(": keep-alive\n\n");
    for e in &events {
        body.push_str(&format!("data: {e}\n\n"));
    }
    body.push_str("data: [DONE]\n\n");
    body
}

/// Anthropic messages: named events with CRLF line ends, as some proxies send them.
pub(super) fn anthropic() -> String {
    let events = [
        json!({"type":"message_start","message":{"id":"msg_F","type":"message","role":"assistant","content":[],
            "model":"claude-x","stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":25,"output_tokens":1}}}),
        json!({"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}),
        json!({"type": "ping"}),
        json!({"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Grüße 🌍"}}),
        json!({"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":", wie geht's?\n"}}),
        json!({"type":"content_block_stop","index":0}),
        json!({"type":"content_block_start","index":1,"content_block":{"type":"tool_use","id":"toolu_F","name":"get_weather","input":{}}}),
        json!({"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":""}}),
        json!({"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"{\"city\": \"Mün"}}),
        json!({"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"chen\", \"days\": 3}"}}),
        json!({"type":"content_block_stop","index":1}),
        json!({"type":"message_delta","delta":{"stop_reason":"tool_use","stop_sequence":null},"usage":{"output_tokens":42}}),
        json!({"type":"message_stop"}),
    ];
    let mut body = String::new();
    for e in &events {
        let name = e["type"].as_str().unwrap_or_default();
        body.push_str(&format!("event: {name}\r\ndata: {e}\r\n\r\n"));
    }
    body
}

/// Ollama chat: NDJSON lines, the last with `done: true` and the counters.
pub(super) fn ollama() -> String {
    let chunk = |message: Value, done: bool| json!({"model":"llama3.2","created_at":"2024-08-04T08:52:19Z","message":message,"done":done});
    let mut last = chunk(json!({"role":"assistant","content":""}), true);
    for (k, v) in [
        ("done_reason", json!("stop")),
        ("total_duration", json!(4883583458u64)),
        ("load_duration", json!(1334875)),
        ("prompt_eval_count", json!(26)),
        ("prompt_eval_duration", json!(342546000)),
        ("eval_count", json!(282)),
        ("eval_duration", json!(4535599000u64)),
    ] {
        last[k] = v;
    }
    let lines = [
        chunk(json!({"role":"assistant","content":"Ça"}), false),
        chunk(json!({"role":"assistant","content":" va, 🌍"}), false),
        chunk(
            json!({"role":"assistant","content":"","tool_calls":[{"function":{"name":"get_weather","arguments":{"city":"Lyon"}}}]}),
            false,
        ),
        last,
    ];
    lines.iter().map(|l| format!("{l}\n")).collect()
}

/// OpenAI Responses: typed events with increasing `sequence_number`s, a message item and a
/// function call item, `response.completed` with usage.
pub(super) fn openai_responses() -> String {
    let resp = |status: &str, output: Value, usage: Value| {
        json!({"id":"resp_F","object":"response","created_at":1741476542,"status":status,"error":null,
            "incomplete_details":null,"model":"gpt-4o-mini","output":output,"usage":usage})
    };
    let msg = |text: &str, status: &str| {
        let content = if status == "in_progress" {
            json!([])
        } else {
            json!([{"type":"output_text","text":text,"annotations":[]}])
        };
        json!({"type":"message","id":"msg_F","status":status,"role":"assistant","content":content})
    };
    let call = |args: &str, status: &str| json!({"type":"function_call","id":"fc_F","call_id":"call_F","name":"get_weather","arguments":args,"status":status});
    let text = "Bonjour, ça va 🌍\nline two";
    let args = "{\"city\": \"Zürich\"}";
    let part = |t: &str| json!({"type":"output_text","text":t,"annotations":[]});
    let at_msg = json!({"item_id":"msg_F","output_index":0,"content_index":0});
    let at_call = json!({"item_id":"fc_F","output_index":1});
    let with = |base: &Value, extra: Value| {
        let mut v = base.clone();
        if let (Some(o), Some(e)) = (v.as_object_mut(), extra.as_object()) {
            o.extend(e.clone());
        }
        v
    };
    let done = json!([msg(text, "completed"), call(args, "completed")]);
    let events = [
        (
            "response.created",
            json!({"response": resp("in_progress", json!([]), Value::Null)}),
        ),
        (
            "response.in_progress",
            json!({"response": resp("in_progress", json!([]), Value::Null)}),
        ),
        (
            "response.output_item.added",
            json!({"output_index":0,"item":msg("", "in_progress")}),
        ),
        (
            "response.content_part.added",
            with(&at_msg, json!({"part": part("")})),
        ),
        (
            "response.output_text.delta",
            with(&at_msg, json!({"delta":"Bonjour, ça ","logprobs":[]})),
        ),
        (
            "response.output_text.delta",
            with(&at_msg, json!({"delta":"va 🌍\nline two","logprobs":[]})),
        ),
        (
            "response.output_text.done",
            with(&at_msg, json!({"text":text,"logprobs":[]})),
        ),
        (
            "response.content_part.done",
            with(&at_msg, json!({"part": part(text)})),
        ),
        (
            "response.output_item.done",
            json!({"output_index":0,"item":msg(text, "completed")}),
        ),
        (
            "response.output_item.added",
            json!({"output_index":1,"item":call("", "in_progress")}),
        ),
        (
            "response.function_call_arguments.delta",
            with(&at_call, json!({"delta":"{\"city\": \"Zü"})),
        ),
        (
            "response.function_call_arguments.delta",
            with(&at_call, json!({"delta":"rich\"}"})),
        ),
        (
            "response.function_call_arguments.done",
            with(&at_call, json!({"name":"get_weather","arguments":args})),
        ),
        (
            "response.output_item.done",
            json!({"output_index":1,"item":call(args, "completed")}),
        ),
        (
            "response.completed",
            json!({"response": resp("completed", done, json!({"input_tokens":31,"output_tokens":12,"total_tokens":43}))}),
        ),
    ];
    let mut body = String::new();
    for (n, (ty, data)) in events.into_iter().enumerate() {
        let mut data = data;
        data["type"] = json!(ty);
        data["sequence_number"] = json!(n);
        body.push_str(&format!("event: {ty}\ndata: {data}\n\n"));
    }
    body
}

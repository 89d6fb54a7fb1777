//! The probes, one function per capability or alias, each one request of the kind the
//! suites send (a few try a second model). Order matters only for aliases: `tools` is
//! found before `parallel_tools` is tried with it.

use serde_json::{Value, json};

use super::caps::{Judged, Session, clean_and};
use super::detect::tiny_chat;
use crate::dialect::DialectKind;
use crate::neutral::{
    ChatRequest, ContentPart, Message, Reply, Request, ResponseFormat, Role, Tool, ToolChoice,
};
use crate::vocab::Capability;

/// A model name no server should know, for the suites' `absent` alias.
pub(super) const ABSENT: &str = "provcheck-absent-model";

/// A 1x1 PNG, as the suites send.
const PIXEL: &str =
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR4nGP4z8AAAAMBAQDJ/pLvAAAAAElFTkSuQmCC";

/// Names that usually mean a model takes images, tried first for `vision`.
const VISION_HINTS: &[&str] = &[
    "vision",
    "llava",
    "-vl",
    "vl:",
    "pixtral",
    "moondream",
    "minicpm-v",
    "gemma3",
    "gpt-4o",
    "gpt-4.1",
    "claude",
    "llama4",
];

/// Runs every probe the dialect has.
pub(super) async fn all(s: &mut Session<'_>) {
    let small = s.small();
    s.pick("small", &small, "answered a chat");
    second(s).await;
    absent(s).await;
    streaming(s).await;
    if s.dialect() == DialectKind::Anthropic {
        s.not_probed(
            Capability::JsonMode,
            "the anthropic dialect has no schema-less JSON mode",
        );
    } else {
        json_mode(s).await;
    }
    json_schema(s).await;
    if let Some(model) = tools(s).await {
        parallel_tools(s, &model).await;
    } else {
        s.not_probed(Capability::ParallelTools, "no tool call was seen");
    }
    vision(s).await;
    if s.dialect() == DialectKind::Ollama {
        model_management(s).await;
        model_pull(s).await;
    } else {
        for cap in [Capability::ModelManagement, Capability::ModelPull] {
            s.not_probed(
                cap,
                "only the ollama dialect has model-management endpoints",
            );
        }
    }
}

/// `second`: another listed model that answers a chat.
async fn second(s: &mut Session<'_>) {
    let small = s.small();
    let others: Vec<String> =
        s.f.found
            .models
            .iter()
            .filter(|m| **m != small)
            .take(2)
            .cloned()
            .collect();
    for model in others {
        let req = tiny_chat(&model, "Say hi.", 8);
        if let Judged::Yes(_) = s
            .chat("alias second", &req, |r| {
                clean_and(r, |_| Ok("answers".into()))
            })
            .await
        {
            s.pick("second", &model, "a second model that answered a chat");
            return;
        }
    }
}

/// `absent`: a name the server does not list, answered with 404.
async fn absent(s: &mut Session<'_>) {
    if s.f.found.models.iter().any(|m| m == ABSENT) {
        return;
    }
    let req = tiny_chat(ABSENT, "Say hello.", 8);
    let j = s
        .chat("alias absent", &req, |r| match r.status {
            404 => Ok("an unknown model gets 404".into()),
            st => Err(format!("an unknown model got {st}, not 404")),
        })
        .await;
    if let Judged::Yes(why) = j {
        s.pick("absent", ABSENT, why);
    }
}

/// `streaming`: a streamed reply that keeps the stream grammar and ends with its marker.
async fn streaming(s: &mut Session<'_>) {
    let mut req = tiny_chat(&s.small(), "Say hi.", 8);
    req.stream = true;
    let j = s
        .chat("streaming", &req, |r| {
            clean_and(r, |r| match &r.stream {
                // One event is a whole reply read as a stream (Ollama's non-streamed body is
                // one NDJSON line with `done: true`): a stream has a delta and an end at least.
                Some(st) if st.terminated && st.events >= 2 => Ok(format!(
                    "{} events, well formed, terminal marker seen",
                    st.events
                )),
                Some(st) if st.events < 2 => Err("the reply came whole, not streamed".into()),
                Some(_) => Err("the stream had no terminal marker".into()),
                None => Err("the reply was not streamed".into()),
            })
        })
        .await;
    s.settle(Capability::Streaming, &j);
}

/// The text of a reply as one JSON object, or why not.
fn json_object(r: &Reply) -> Result<Value, String> {
    match serde_json::from_str::<Value>(r.text.trim()) {
        Ok(v @ Value::Object(_)) => Ok(v),
        Ok(_) => Err("the reply is JSON but not an object".into()),
        Err(_) => Err("the reply is not JSON".into()),
    }
}

/// `json_mode`: `response_format: json_object` gives one JSON object.
async fn json_mode(s: &mut Session<'_>) {
    let mut req = tiny_chat(
        &s.small(),
        "Reply only with JSON: {\"city\": ...} for the capital of France.",
        60,
    );
    req.response_format = Some(ResponseFormat::JsonObject);
    let j = s
        .chat("json_mode", &req, |r| {
            clean_and(r, |r| {
                json_object(r).map(|_| "the reply is a JSON object".into())
            })
        })
        .await;
    s.settle(Capability::JsonMode, &j);
}

/// `json_schema`: output constrained by a schema is an instance of it.
async fn json_schema(s: &mut Session<'_>) {
    let schema = json!({
        "type": "object",
        "properties": {"city": {"type": "string"}},
        "required": ["city"],
        "additionalProperties": false
    });
    let mut req = tiny_chat(&s.small(), "Give the capital of France as JSON.", 60);
    req.response_format = Some(ResponseFormat::JsonSchema {
        name: "capital".into(),
        schema: schema.clone(),
        strict: true,
    });
    let j = s
        .chat("json_schema", &req, |r| {
            clean_and(r, |r| {
                let v = json_object(r)?;
                if jsonschema::is_valid(&schema, &v) {
                    Ok("the reply is valid against the schema".into())
                } else {
                    Err("the reply breaks the schema".into())
                }
            })
        })
        .await;
    s.settle(Capability::JsonSchema, &j);
}

fn weather_tool() -> Tool {
    Tool {
        name: "get_weather".into(),
        description: Some("Current weather for one city.".into()),
        parameters: json!({
            "type": "object",
            "properties": {
                "city": {"type": "string"},
                "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]}
            },
            "required": ["city", "unit"],
            "additionalProperties": false
        }),
        strict: None,
    }
}

/// The reply's tool calls, when there are at least `min`, all to `get_weather` with
/// arguments valid against its schema.
fn weather_calls(r: &Reply, min: usize) -> Result<String, String> {
    let schema = weather_tool().parameters;
    if r.tool_calls.len() < min {
        return Err(format!("{} tool call(s), {min} wanted", r.tool_calls.len()));
    }
    for c in &r.tool_calls {
        let valid = c
            .arguments
            .as_ref()
            .is_some_and(|a| jsonschema::is_valid(&schema, a));
        if c.name != "get_weather" || !valid {
            return Err(format!("a call to `{}` with invalid arguments", c.name));
        }
    }
    Ok(format!(
        "{} call(s) to get_weather with valid arguments",
        r.tool_calls.len()
    ))
}

/// `tools`: a question a tool answers gets a tool call. Models named for tools first.
async fn tools(s: &mut Session<'_>) -> Option<String> {
    let small = s.small();
    let mut candidates: Vec<String> =
        s.f.found
            .models
            .iter()
            .filter(|m| m.contains("tool"))
            .take(1)
            .cloned()
            .collect();
    if !candidates.contains(&small) {
        candidates.push(small);
    }
    for model in candidates {
        let mut req = tiny_chat(
            &model,
            "What is the weather in Paris right now? Use celsius.",
            200,
        );
        req.tools = vec![weather_tool()];
        req.tool_choice = Some(ToolChoice::Auto);
        let j = s
            .chat("tools", &req, |r| clean_and(r, |r| weather_calls(r, 1)))
            .await;
        if s.settle(Capability::Tools, &j) {
            s.pick("tools", &model, "a tool call came back as a tool call");
            return Some(model);
        }
    }
    None
}

/// `parallel_tools`: two independent questions get two calls in one reply.
async fn parallel_tools(s: &mut Session<'_>, model: &str) {
    let mut req = tiny_chat(
        model,
        "What is the weather in Paris and in Tokyo right now? Use celsius.",
        300,
    );
    req.tools = vec![weather_tool()];
    req.parallel_tool_calls = Some(true);
    let j = s
        .chat("parallel_tools", &req, |r| {
            clean_and(r, |r| weather_calls(r, 2))
        })
        .await;
    s.settle(Capability::ParallelTools, &j);
}

fn image_chat(model: &str) -> ChatRequest {
    let mut m = Message::new(Role::User, "");
    m.parts = vec![
        ContentPart::Text("What colour is this image? Answer in one word.".into()),
        ContentPart::Image {
            media_type: "image/png".into(),
            data: PIXEL.into(),
        },
    ];
    ChatRequest {
        model: model.to_string(),
        messages: vec![m],
        max_tokens: Some(10),
        ..ChatRequest::default()
    }
}

/// How many models an image is sent to, at most.
const IMAGE_TRIES: usize = 3;

/// `vision`: a model that accepts an image and answers (models named for images first,
/// then `small`); and `text_only`, a model that refuses one with a 400, proposed for the
/// dialects whose refusal the suites judge (OpenAI's and Ollama's wording).
async fn vision(s: &mut Session<'_>) {
    let small = s.small();
    let mut order: Vec<String> =
        s.f.found
            .models
            .iter()
            .filter(|m| VISION_HINTS.iter().any(|h| m.to_lowercase().contains(h)))
            .cloned()
            .collect();
    order.retain(|m| *m != small);
    order.insert(order.len().min(1), small.clone());
    let mut refusers = Vec::new();
    for model in order.into_iter().take(IMAGE_TRIES) {
        let mut refused = false;
        let j = s
            .chat("vision", &image_chat(&model), |r| {
                refused = refuses_image(r);
                clean_and(r, |r| {
                    if r.text.trim().is_empty() {
                        Err("an empty answer".into())
                    } else {
                        Ok("an image was accepted and answered".into())
                    }
                })
            })
            .await;
        if refused {
            refusers.push(model.clone());
        }
        if s.settle(Capability::Vision, &j) {
            s.pick("vision", &model, "accepted an image");
            break;
        }
    }
    if !matches!(s.dialect(), DialectKind::Openai | DialectKind::Ollama) {
        return;
    }
    if let Some(model) = refusers.first() {
        let model = model.clone();
        s.pick("text_only", &model, "refused an image with 400");
        return;
    }
    let vision_model = s.f.aliases.get("vision").map(|p| p.model.clone());
    if vision_model.as_deref() == Some(small.as_str()) {
        return;
    }
    let j = s
        .chat("alias text_only", &image_chat(&small), |r| {
            if refuses_image(r) {
                Ok("refuses an image with 400".into())
            } else {
                Err("did not refuse the image".into())
            }
        })
        .await;
    if let Judged::Yes(why) = j {
        s.pick("text_only", &small, why);
    }
}

/// A refusal of an image: 400 with an error body.
fn refuses_image(r: &Reply) -> bool {
    r.status == 400 && r.error.is_some()
}

/// `model_management`: `/api/ps` and `/api/show` answer by the contract (`/api/tags` did).
async fn model_management(s: &mut Session<'_>) {
    let small = s.small();
    let d = s.dialect();
    let mut seen = Vec::new();
    for (req, what) in [
        (Request::ListRunning, String::new()),
        (
            Request::Show {
                model: small.clone(),
            },
            format!("model {small}"),
        ),
    ] {
        let Ok(wire) = d.encode_request(&req, &super::detect::wire_options(d)) else {
            return;
        };
        let j = s
            .send("model_management", &wire, false, &what, |r| {
                clean_and(r, |_| Ok("answered by the contract".into()))
            })
            .await;
        if !s.settle(Capability::ModelManagement, &j) {
            return;
        }
        seen.push(wire.path);
    }
    s.settle(
        Capability::ModelManagement,
        &Judged::Yes(format!("/api/tags, {} answered", seen.join(", "))),
    );
}

/// `model_pull`: pulling an installed model streams progress that ends in `success`.
async fn model_pull(s: &mut Session<'_>) {
    let small = s.small();
    let d = s.dialect();
    let Ok(wire) = d.encode_request(
        &Request::Pull {
            model: small.clone(),
        },
        &super::detect::wire_options(d),
    ) else {
        return;
    };
    let j = s
        .send(
            "model_pull",
            &wire,
            true,
            &format!("model {small} stream"),
            |r| {
                clean_and(r, |r| {
                    if r.text.trim_end().ends_with("success") {
                        Ok("progress ended in success".into())
                    } else {
                        Err("the progress did not end in success".into())
                    }
                })
            },
        )
        .await;
    s.settle(Capability::ModelPull, &j);
}

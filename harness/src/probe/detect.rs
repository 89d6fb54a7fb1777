//! Which dialect the server speaks, at which base URL, and which models it lists: for each
//! candidate dialect and base-URL form, the model listing, then one tiny chat that must keep
//! the dialect's contract. The first dialect whose chat works is the server's.

use serde_json::Value;

use super::exchange::{Miss, Prober, clean, summary};
use crate::dialect::{DialectKind, WireOp, WireOptions, WireRequest};
use crate::neutral::{ChatRequest, Message, Role};

/// The dialects tried, in order, when `--dialect` is not given: Ollama's native API first
/// (an Ollama also serves OpenAI's, but its own has more to check), then chat completions,
/// Anthropic messages and the Responses API.
pub(super) const ORDER: [DialectKind; 4] = [
    DialectKind::Ollama,
    DialectKind::Openai,
    DialectKind::Anthropic,
    DialectKind::OpenaiResponses,
];

/// What detection established.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Found {
    /// The dialect whose chat kept its contract.
    pub dialect: DialectKind,
    /// The base URL as a target of that dialect takes it.
    pub base_url: String,
    /// The models the server lists, in the order the probe prefers them (smallest first
    /// where the listing says sizes).
    pub models: Vec<String>,
    /// The model whose chat worked.
    pub chat_model: String,
}

/// The encoding options the proposed target will use, so the probe sends what the suites
/// will: a new OpenAI-compatible target takes the older `max_tokens` field.
pub(super) fn wire_options(dialect: DialectKind) -> WireOptions {
    let mut o = WireOptions::default();
    if dialect == DialectKind::Openai {
        o.token_param = crate::dialect::TokenParam::MaxTokens;
    }
    o
}

/// The base URLs to try for `dialect` given what the user typed: an OpenAI base ends in
/// `/v1` (its paths are `/chat/completions`, `/models`), an Anthropic or Ollama base does
/// not (their paths carry `/v1/messages`, `/api/...`).
pub(super) fn forms(url: &str, dialect: DialectKind) -> Vec<String> {
    let root = url.trim_end_matches('/').to_string();
    let without = root.strip_suffix("/v1").map(str::to_string);
    match (dialect, without) {
        (DialectKind::Openai | DialectKind::OpenaiResponses, Some(_)) => vec![root],
        (DialectKind::Openai | DialectKind::OpenaiResponses, None) => {
            vec![format!("{root}/v1"), root]
        }
        (DialectKind::Anthropic | DialectKind::Ollama, Some(w)) => vec![w, root],
        (DialectKind::Anthropic | DialectKind::Ollama, None) => vec![root],
    }
}

/// The request that lists models in `dialect`.
fn listing(dialect: DialectKind) -> WireRequest {
    let (path, headers) = match dialect {
        DialectKind::Ollama => ("/api/tags", Vec::new()),
        DialectKind::Openai | DialectKind::OpenaiResponses => ("/models", Vec::new()),
        DialectKind::Anthropic => (
            "/v1/models",
            vec![(
                "anthropic-version",
                WireOptions::default().anthropic_version,
            )],
        ),
    };
    WireRequest {
        method: "GET",
        path,
        headers,
        body: Value::Null,
        op: WireOp::ListLocal,
        raw_body: None,
    }
}

/// The model names in a listing body, smallest first when sizes are given (Ollama's tags).
pub(super) fn listed_models(dialect: DialectKind, body: &Value) -> Option<Vec<String>> {
    let mut named: Vec<(u64, String)> = match dialect {
        DialectKind::Ollama => body["models"]
            .as_array()?
            .iter()
            .filter_map(|m| {
                let name = m["name"].as_str().or(m["model"].as_str())?;
                Some((m["size"].as_u64().unwrap_or(u64::MAX), name.to_string()))
            })
            .collect(),
        _ => body["data"]
            .as_array()?
            .iter()
            .filter_map(|m| Some((0, m["id"].as_str()?.to_string())))
            .collect(),
    };
    // Stable: equal sizes keep the server's order.
    named.sort_by_key(|(size, _)| *size);
    Some(named.into_iter().map(|(_, n)| n).collect())
}

/// A one-line chat of at most a few tokens.
pub(super) fn tiny_chat(model: &str, prompt: &str, max_tokens: u32) -> ChatRequest {
    ChatRequest {
        model: model.to_string(),
        messages: vec![Message::new(Role::User, prompt)],
        max_tokens: Some(max_tokens),
        ..ChatRequest::default()
    }
}

/// How many listed models a dialect's chat is tried with before giving up on it (the first
/// may be an embedding model).
const CHAT_TRIES: usize = 3;

/// Detects the dialect (only `given`, when set), its base URL and the listed models.
pub(super) async fn detect(p: &mut Prober, url: &str, given: Option<DialectKind>) -> Option<Found> {
    let dialects = given.map_or(ORDER.to_vec(), |d| vec![d]);
    for dialect in dialects {
        for base in forms(url, dialect) {
            if let Some(found) = try_form(p, dialect, &base).await {
                return Some(found);
            }
        }
    }
    None
}

/// One dialect at one base URL: its listing, then a chat with the listed models.
async fn try_form(p: &mut Prober, dialect: DialectKind, base: &str) -> Option<Found> {
    let wire = listing(dialect);
    let check = format!("{} models", dialect.as_str());
    let request = format!("GET {base}{}", wire.path);
    let raw = match p.send(dialect, base, &wire, false).await {
        Ok(raw) => raw,
        Err(m) => {
            p.say(&check, &request, &m.to_string(), "no");
            return None;
        }
    };
    let body: Value = serde_json::from_slice(&raw.body).unwrap_or(Value::Null);
    let models = match listed_models(dialect, &body) {
        Some(m) if (200..300).contains(&raw.status) => m,
        _ => {
            let why = match raw.status {
                401 | 403 => "no (refused: a key is needed, --key-env VAR)",
                s if (200..300).contains(&s) => "no (not this dialect's listing)",
                _ => "no",
            };
            p.say(&check, &request, &raw.status.to_string(), why);
            return None;
        }
    };
    let shown: Vec<&str> = models.iter().take(8).map(String::as_str).collect();
    let more = if models.len() > 8 { ", ..." } else { "" };
    p.say(
        &check,
        &request,
        &format!(
            "{}, {} model(s): {}{more}",
            raw.status,
            models.len(),
            shown.join(", ")
        ),
        "listed",
    );
    let opts = wire_options(dialect);
    for model in models.clone().iter().take(CHAT_TRIES) {
        let wire = dialect.encode(&tiny_chat(model, "Say hi.", 8), &opts);
        let check = format!("{} chat", dialect.as_str());
        let request = format!("POST {base}{} model {model}", wire.path);
        match p.exchange(dialect, base, &wire, false).await {
            Ok(reply) if clean(&reply) => {
                p.say(
                    &check,
                    &request,
                    &summary(&reply),
                    "yes, the contract is kept",
                );
                return Some(Found {
                    dialect,
                    base_url: base.to_string(),
                    models,
                    chat_model: model.clone(),
                });
            }
            Ok(reply) => p.say(&check, &request, &summary(&reply), "no"),
            Err(m @ Miss::Budget(_)) => {
                p.say(&check, &request, &m.to_string(), "not tried");
                return None;
            }
            Err(m) => p.say(&check, &request, &m.to_string(), "no"),
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn sample_tags() -> Value {
        json!({"models": [
            {"name": "big:70b", "size": 40_000_000_000u64},
            {"name": "tiny:0.5b", "size": 400_000_000u64},
        ]})
    }

    #[test]
    fn base_url_forms_follow_each_dialects_paths() {
        use DialectKind::*;
        assert_eq!(forms("http://h:1", Openai), ["http://h:1/v1", "http://h:1"]);
        assert_eq!(forms("http://h:1/v1/", Openai), ["http://h:1/v1"]);
        assert_eq!(
            forms("http://h:1/v1", Anthropic),
            ["http://h:1", "http://h:1/v1"]
        );
        assert_eq!(forms("http://h:1", Ollama), ["http://h:1"]);
        assert_eq!(forms("http://h:1/v1", OpenaiResponses), ["http://h:1/v1"]);
    }

    #[test]
    fn listings_are_read_per_dialect_smallest_first() {
        assert_eq!(
            listed_models(DialectKind::Ollama, &sample_tags()).unwrap(),
            ["tiny:0.5b", "big:70b"]
        );
        let openai = json!({"object": "list", "data": [{"id": "b"}, {"id": "a"}]});
        assert_eq!(
            listed_models(DialectKind::Openai, &openai).unwrap(),
            ["b", "a"]
        );
        assert_eq!(listed_models(DialectKind::Ollama, &openai), None);
        assert_eq!(
            listed_models(DialectKind::Openai, &json!({"models": []})),
            None
        );
    }
}

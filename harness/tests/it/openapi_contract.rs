//! Contract tests against the providers' official OpenAPI specs (vendored in `tests/spec/`).
//!
//! 1. Every body the `openai` dialect encodes validates against `CreateChatCompletionRequest`,
//!    and every body the `anthropic` dialect encodes validates against `CreateMessageParams`.
//! 2. Authored recordings are not self-fulfilling: each authored response body under
//!    `fixtures/openai/` and `fixtures/anthropic/` validates against the schema the spec gives
//!    for that response (`CreateChatCompletionResponse` / `Message` for 2xx, `ErrorResponse`
//!    otherwise). The fixture tree is walked at run time, so new recordings are covered as
//!    they land.
//!
//! Each spec is parsed once per test binary and each validator is compiled once.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use jsonschema::error::ValidationErrorKind;
use jsonschema::{Draft, ValidationError, Validator};
use provcheck::dialect::{DialectKind, TokenParam, WireOptions};
use provcheck::neutral::{
    ChatRequest, Message, ResponseFormat, Role, Tool, ToolCall, ToolChoice, ToolResult,
};
use provcheck::record::format::{RecordingFile, Source};
use serde::de::{self, Deserialize, Deserializer, Visitor};
use serde_json::{Value, json};

// ---------------------------------------------------------------------------------------------
// Specs and validators
// ---------------------------------------------------------------------------------------------

fn spec_path(file: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/spec")
        .join(file)
}

/// The OpenAI spec (2.3.0, YAML), with `nullable` lowered (see [`lower_nullable`]).
fn openai_spec() -> &'static Value {
    static SPEC: OnceLock<Value> = OnceLock::new();
    SPEC.get_or_init(|| {
        let path = spec_path("openai-openapi.yaml");
        let text =
            std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let JsonFromYaml(mut spec) = crate::common::yaml_from_str(&text)
            .unwrap_or_else(|e| panic!("{}: not YAML: {e}", path.display()));
        lower_nullable(&mut spec);
        spec
    })
}

/// The Anthropic spec (JSON syntax), with `nullable` lowered (see [`lower_nullable`]).
fn anthropic_spec() -> &'static Value {
    static SPEC: OnceLock<Value> = OnceLock::new();
    SPEC.get_or_init(|| {
        let path = spec_path("anthropic-openapi.json");
        let text =
            std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let mut spec: Value = serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("{}: not JSON: {e}", path.display()));
        lower_nullable(&mut spec);
        spec
    })
}

/// A JSON value read from YAML.
///
/// Not `serde_json::Value` directly: the OpenAI spec bounds `seed` by +-9223372036854776000
/// (i64's range after a round trip through an f64, written out in full), which fits no 64-bit
/// integer; the YAML reader hands it over as an i128 (or u128), which
/// `serde_json::Value` refuses. Here an integer beyond 64 bits becomes the f64 it is.
/// Mapping keys that are not strings (none in the spec today) are written as their YAML text.
struct JsonFromYaml(Value);

impl<'de> Deserialize<'de> for JsonFromYaml {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(JsonFromYamlVisitor)
    }
}

struct JsonFromYamlVisitor;

impl<'de> Visitor<'de> for JsonFromYamlVisitor {
    type Value = JsonFromYaml;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("any YAML value")
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<JsonFromYaml, E> {
        Ok(JsonFromYaml(Value::Bool(v)))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<JsonFromYaml, E> {
        Ok(JsonFromYaml(v.into()))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<JsonFromYaml, E> {
        Ok(JsonFromYaml(v.into()))
    }
    fn visit_i128<E: de::Error>(self, v: i128) -> Result<JsonFromYaml, E> {
        self.visit_f64(v as f64)
    }
    fn visit_u128<E: de::Error>(self, v: u128) -> Result<JsonFromYaml, E> {
        self.visit_f64(v as f64)
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<JsonFromYaml, E> {
        serde_json::Number::from_f64(v)
            .map(|n| JsonFromYaml(Value::Number(n)))
            .ok_or_else(|| E::custom(format!("{v} has no JSON form")))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<JsonFromYaml, E> {
        Ok(JsonFromYaml(Value::String(v.to_string())))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<JsonFromYaml, E> {
        Ok(JsonFromYaml(Value::String(v)))
    }
    fn visit_unit<E: de::Error>(self) -> Result<JsonFromYaml, E> {
        Ok(JsonFromYaml(Value::Null))
    }
    fn visit_none<E: de::Error>(self) -> Result<JsonFromYaml, E> {
        Ok(JsonFromYaml(Value::Null))
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<JsonFromYaml, D::Error> {
        JsonFromYaml::deserialize(d)
    }
    fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<JsonFromYaml, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0));
        while let Some(JsonFromYaml(v)) = seq.next_element()? {
            items.push(v);
        }
        Ok(JsonFromYaml(Value::Array(items)))
    }
    fn visit_map<A: de::MapAccess<'de>>(self, mut map: A) -> Result<JsonFromYaml, A::Error> {
        let mut out = serde_json::Map::new();
        while let Some((JsonFromYaml(k), JsonFromYaml(v))) = map.next_entry()? {
            let key = match k {
                Value::String(s) => s,
                other => other.to_string(),
            };
            out.insert(key, v);
        }
        Ok(JsonFromYaml(Value::Object(out)))
    }
}

/// Rewrites OpenAPI 3.0's `nullable: true` into its JSON Schema meaning.
///
/// Both specs declare OpenAPI 3.1 (whose schemas are JSON Schema 2020-12) but still carry the
/// 3.0 keyword `nullable: true` in places (OpenAI e.g. on `max_completion_tokens`, `max_tokens`,
/// `n`, `seed`, `stream`; Anthropic in 151 places). JSON Schema ignores unknown keywords, so
/// `{type: integer, nullable: true}` would reject the `null` the spec explicitly allows. Each
/// such schema becomes `{anyOf: [<schema without nullable>, {type: "null"}]}`, which is exactly
/// the 3.0 meaning; it only ever admits `null` in addition, never anything else.
/// `nullable: false` is the 3.0 default and is simply dropped.
///
/// The other OpenAPI-only keywords need no handling: `discriminator`, `example`, `x-*` are
/// unknown to 2020-12 and ignored (the `oneOf` beside a `discriminator` still decides), and
/// `format` is an annotation in 2020-12 unless format assertion is switched on, which we don't
/// (the specs use non-standard formats such as `unixtime`, `int32`, `binary`).
fn lower_nullable(v: &mut Value) {
    match v {
        Value::Object(map) => {
            for child in map.values_mut() {
                lower_nullable(child);
            }
            match map.get("nullable") {
                Some(Value::Bool(true)) => {
                    map.remove("nullable");
                    let inner = std::mem::take(map);
                    map.insert(
                        "anyOf".into(),
                        json!([Value::Object(inner), {"type": "null"}]),
                    );
                }
                Some(Value::Bool(false)) => {
                    map.remove("nullable");
                }
                _ => {}
            }
        }
        Value::Array(items) => items.iter_mut().for_each(lower_nullable),
        _ => {}
    }
}

/// Compiles `#/components/schemas/<name>` of `spec` as a draft 2020-12 validator. The schema is
/// a `$ref` beside a copy of the spec's `components`, so every internal
/// `#/components/schemas/...` reference resolves against this root; nothing is fetched.
fn compile(spec: &Value, name: &str) -> Validator {
    let schemas = &spec["components"]["schemas"];
    assert!(
        schemas.get(name).is_some(),
        "the spec has no components.schemas.{name}"
    );
    let root = json!({
        "$ref": format!("#/components/schemas/{name}"),
        "components": spec["components"].clone(),
    });
    jsonschema::options()
        .with_draft(Draft::Draft202012)
        .build(&root)
        .unwrap_or_else(|e| panic!("components.schemas.{name} does not compile: {e}"))
}

/// One compiled schema, built on first use.
struct Schema {
    spec: fn() -> &'static Value,
    spec_name: &'static str,
    name: &'static str,
    cell: OnceLock<Validator>,
}

impl Schema {
    const fn new(
        spec: fn() -> &'static Value,
        spec_name: &'static str,
        name: &'static str,
    ) -> Schema {
        Schema {
            spec,
            spec_name,
            name,
            cell: OnceLock::new(),
        }
    }

    fn validator(&self) -> &Validator {
        self.cell.get_or_init(|| compile((self.spec)(), self.name))
    }

    /// The schema's errors for `instance`, rendered one per line (empty when valid).
    fn errors(&self, instance: &Value) -> Vec<String> {
        self.validator()
            .iter_errors(instance)
            .map(|e| render(&e, 0))
            .collect()
    }

    fn label(&self) -> String {
        format!("{} {}", self.spec_name, self.name)
    }
}

static OPENAI_REQUEST: Schema = Schema::new(openai_spec, "OpenAI", "CreateChatCompletionRequest");
static OPENAI_RESPONSE: Schema = Schema::new(openai_spec, "OpenAI", "CreateChatCompletionResponse");
static OPENAI_ERROR: Schema = Schema::new(openai_spec, "OpenAI", "ErrorResponse");
static RESPONSES_REQUEST: Schema = Schema::new(openai_spec, "OpenAI", "CreateResponse");
static RESPONSES_RESPONSE: Schema = Schema::new(openai_spec, "OpenAI", "Response");
/// Every event of a Responses stream (an `anyOf` over the typed events).
static RESPONSES_EVENT: Schema = Schema::new(openai_spec, "OpenAI", "ResponseStreamEvent");
static ANTHROPIC_REQUEST: Schema = Schema::new(anthropic_spec, "Anthropic", "CreateMessageParams");
static ANTHROPIC_RESPONSE: Schema = Schema::new(anthropic_spec, "Anthropic", "Message");
/// What `/v1/messages` declares for its `4XX` responses (the spec lists no 5XX; Anthropic's
/// 500 `api_error` and 529 `overloaded_error` use the same envelope, and `ErrorResponse.error`
/// is a `oneOf` over all nine error types, `APIError` and `OverloadedError` included).
static ANTHROPIC_ERROR: Schema = Schema::new(anthropic_spec, "Anthropic", "ErrorResponse");

/// One error as `<instance path>: <message>`. For `anyOf`/`oneOf` the message alone says only
/// "not valid under any of the schemas", so the failing branches' own errors follow, indented.
fn render(e: &ValidationError<'_>, depth: usize) -> String {
    let indent = "    ".repeat(depth);
    let path = e.instance_path().as_str();
    let path = if path.is_empty() { "(root)" } else { path };
    // The ambiguity check (`spec_ambiguity`) reads this message, which a long instance (an
    // image's base64) would push past the truncation.
    let message = match e.kind() {
        ValidationErrorKind::OneOfMultipleValid { .. } => {
            "valid under more than one of the schemas listed in 'oneOf'".to_string()
        }
        _ => truncate(&e.to_string(), 200),
    };
    let mut out = format!("{indent}{path}: {message}");
    let branches = match e.kind() {
        ValidationErrorKind::AnyOf { context } | ValidationErrorKind::OneOfNotValid { context } => {
            context
        }
        _ => return out,
    };
    if depth >= 3 {
        return out;
    }
    for (i, branch) in branches.iter().enumerate() {
        let _ = write!(out, "\n{indent}  branch {i}:");
        for be in branch {
            let _ = write!(out, "\n{}", render(be, depth + 1));
        }
    }
    out
}

fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        format!("{}…", s.chars().take(max).collect::<String>())
    }
}

// ---------------------------------------------------------------------------------------------
// (1) Encoded request bodies
// ---------------------------------------------------------------------------------------------

fn msg(role: Role, content: &str) -> Message {
    Message::new(role, content)
}

fn nested_schema() -> Value {
    json!({
        "type": "object",
        "properties": {
            "city": {"type": "string"},
            "population": {"type": "integer", "minimum": 0},
            "districts": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {"name": {"type": "string"}, "area_km2": {"type": ["number", "null"]}},
                    "required": ["name", "area_km2"],
                    "additionalProperties": false
                }
            },
            "kind": {"enum": ["capital", "city", "town"]},
            "location": {"$ref": "#/$defs/point"}
        },
        "required": ["city", "population", "districts", "kind", "location"],
        "additionalProperties": false,
        "$defs": {
            "point": {
                "type": "object",
                "properties": {"lat": {"type": "number"}, "lon": {"type": "number"}},
                "required": ["lat", "lon"],
                "additionalProperties": false
            }
        }
    })
}

/// A broad set of well-formed neutral requests: every role the neutral model has (bar the
/// deliberately malformed `Role::Other`), system messages anywhere, multi-turn conversations,
/// token limits and temperatures set and unset, and every response format.
fn corpus(model: &str) -> Vec<(&'static str, ChatRequest)> {
    use Role::{Assistant, Developer, System, User};
    let base = |messages: Vec<Message>| ChatRequest {
        model: model.to_string(),
        messages,
        ..ChatRequest::default()
    };
    let user = || vec![msg(User, "What is the capital of France?")];
    let with_format = |f: ResponseFormat| ChatRequest {
        max_tokens: Some(200),
        temperature: Some(0.0),
        response_format: Some(f),
        ..base(vec![
            msg(System, "Reply only with JSON."),
            msg(User, "Describe Paris."),
        ])
    };
    vec![
        ("user only, nothing optional", base(user())),
        (
            "system + user",
            ChatRequest {
                max_tokens: Some(16),
                temperature: Some(0.0),
                ..base(vec![msg(System, "Be brief."), msg(User, "Hi")])
            },
        ),
        (
            "developer + user",
            base(vec![
                msg(Developer, "Answer in French."),
                msg(User, "Hello"),
            ]),
        ),
        (
            "several system messages in different positions",
            base(vec![
                msg(System, "First instruction."),
                msg(User, "Hi"),
                msg(System, "Second instruction, mid-conversation."),
                msg(Assistant, "Hello!"),
                msg(Developer, "Third instruction, as developer."),
                msg(User, "Bye"),
                msg(System, "Trailing instruction."),
            ]),
        ),
        (
            "multi-turn user/assistant",
            ChatRequest {
                max_tokens: Some(64),
                ..base(vec![
                    msg(User, "My name is Ada."),
                    msg(Assistant, "Nice to meet you, Ada."),
                    msg(User, "What is my name?"),
                ])
            },
        ),
        (
            "final assistant turn (prefill)",
            base(vec![msg(User, "Count to three."), msg(Assistant, "One,")]),
        ),
        (
            "max_tokens = 1",
            ChatRequest {
                max_tokens: Some(1),
                ..base(user())
            },
        ),
        (
            "max_tokens = 128000",
            ChatRequest {
                max_tokens: Some(128_000),
                ..base(user())
            },
        ),
        (
            "temperature = 0",
            ChatRequest {
                temperature: Some(0.0),
                ..base(user())
            },
        ),
        (
            "temperature = 0.7",
            ChatRequest {
                temperature: Some(0.7),
                ..base(user())
            },
        ),
        (
            "temperature = 1",
            ChatRequest {
                temperature: Some(1.0),
                ..base(user())
            },
        ),
        ("empty user content", base(vec![msg(User, "")])),
        (
            "unicode and long content",
            base(vec![
                msg(System, "Réponds en 日本語 🙂"),
                msg(User, &"lorem ipsum \"quoted\"\n\t".repeat(500)),
            ]),
        ),
        ("response_format text", with_format(ResponseFormat::Text)),
        (
            "response_format json_object",
            with_format(ResponseFormat::JsonObject),
        ),
        (
            "response_format json_schema strict",
            with_format(ResponseFormat::JsonSchema {
                name: "city_info".into(),
                schema: nested_schema(),
                strict: true,
            }),
        ),
        (
            "response_format json_schema not strict",
            with_format(ResponseFormat::JsonSchema {
                name: "city-info_2".into(),
                schema: json!({"type": "object", "properties": {"city": {"type": "string"}}}),
                strict: false,
            }),
        ),
    ]
    .into_iter()
    .chain(parameter_corpus(model))
    .chain(tool_corpus(model))
    .collect()
}

/// The sampling parameters and content parts (suites/parameters.yaml): stop sequences, top_p,
/// n, a seed, log probabilities, text parts and an image part.
fn parameter_corpus(model: &str) -> Vec<(&'static str, ChatRequest)> {
    use provcheck::neutral::ContentPart;
    let base = || ChatRequest {
        model: model.to_string(),
        messages: vec![msg(Role::User, "Count to ten.")],
        max_tokens: Some(30),
        ..ChatRequest::default()
    };
    let mut parts = base();
    parts.messages[0].parts = vec![
        ContentPart::Text("What colour is this?".into()),
        ContentPart::Text("One word.".into()),
        ContentPart::Image {
            media_type: "image/png".into(),
            data: "iVBORw0KGgo=".into(),
        },
    ];
    vec![
        (
            "stop sequences and top_p",
            ChatRequest {
                stop: vec!["five".into(), "END".into()],
                top_p: Some(0.9),
                ..base()
            },
        ),
        (
            "n, seed and logprobs",
            ChatRequest {
                n: Some(3),
                seed: Some(42),
                logprobs: Some(true),
                top_logprobs: Some(2),
                ..base()
            },
        ),
        ("text and image parts", parts),
    ]
}

/// Tools offered in every shape the neutral model has, every tool choice, the parallel flag
/// both ways, and tool-result conversations: one call and its result, an assistant turn that
/// says something before calling, parallel calls answered by consecutive results (one of
/// them an error), then the user speaking again.
fn tool_corpus(model: &str) -> Vec<(&'static str, ChatRequest)> {
    use Role::{Assistant, System, User};
    let weather = Tool {
        name: "get_weather".into(),
        description: Some("Current weather for a city.".into()),
        parameters: json!({
            "type": "object",
            "properties": {"city": {"type": "string"}, "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]}},
            "required": ["city", "unit"],
            "additionalProperties": false
        }),
        strict: Some(true),
    };
    let time = Tool {
        name: "get-time_2".into(),
        description: None,
        parameters: Value::Null,
        strict: None,
    };
    let call = |id: &str, city: &str| {
        let args = json!({"city": city, "unit": "celsius"});
        ToolCall {
            id: Some(id.into()),
            name: "get_weather".into(),
            arguments_raw: args.to_string(),
            arguments: Some(args),
        }
    };
    let result = |id: &str, content: &str, is_error: bool| Message {
        tool_result: Some(ToolResult {
            call_id: id.into(),
            name: "get_weather".into(),
            is_error,
        }),
        ..msg(Role::Tool, content)
    };
    let with =
        |messages: Vec<Message>, choice: Option<ToolChoice>, parallel: Option<bool>| ChatRequest {
            model: model.to_string(),
            messages,
            max_tokens: Some(200),
            tools: vec![weather.clone(), time.clone()],
            tool_choice: choice,
            parallel_tool_calls: parallel,
            ..ChatRequest::default()
        };
    let ask = || vec![msg(User, "Weather in Paris and Tokyo?")];
    vec![
        ("tools, default choice", with(ask(), None, None)),
        (
            "tool_choice auto",
            with(ask(), Some(ToolChoice::Auto), None),
        ),
        (
            "tool_choice none",
            with(ask(), Some(ToolChoice::None), None),
        ),
        (
            "tool_choice required",
            with(ask(), Some(ToolChoice::Required), Some(false)),
        ),
        (
            "tool_choice named",
            with(
                ask(),
                Some(ToolChoice::Named("get-time_2".into())),
                Some(true),
            ),
        ),
        ("parallel calls off", with(ask(), None, Some(false))),
        (
            "parallel calls on, choice none",
            with(ask(), Some(ToolChoice::None), Some(true)),
        ),
        (
            "tool result round trip",
            with(
                vec![
                    msg(System, "Use the tools."),
                    msg(User, "Weather in Paris?"),
                    Message {
                        tool_calls: vec![call("call_1", "Paris")],
                        ..msg(Assistant, "")
                    },
                    result("call_1", "{\"temperature\":18}", false),
                ],
                None,
                None,
            ),
        ),
        (
            "parallel calls, results, an error, then the user again",
            with(
                vec![
                    msg(User, "Weather in Paris and Tokyo?"),
                    Message {
                        tool_calls: vec![call("call_1", "Paris"), call("toolu_2", "Tokyo")],
                        ..msg(Assistant, "Let me check both.")
                    },
                    result("call_1", "18 C, light rain", false),
                    result("toolu_2", "upstream timeout", true),
                    msg(User, "And tomorrow?"),
                ],
                Some(ToolChoice::Auto),
                Some(true),
            ),
        ),
    ]
}

/// CreateResponse's `input` items are a `oneOf` of EasyInputMessage and InputMessage, and a user
/// message whose content is a list of parts matches both (neither closes its properties), so
/// the spec rejects every such body, however it is written. The shape itself is checked by
/// the dialect's unit tests.
fn spec_ambiguity(dialect: DialectKind, label: &str) -> bool {
    dialect == DialectKind::OpenaiResponses && label == "text and image parts"
}

/// `body` with each input message's list of text parts joined into one string.
fn joined_parts(body: &Value) -> Value {
    let mut body = body.clone();
    if let Some(items) = body.get_mut("input").and_then(Value::as_array_mut) {
        for item in items {
            let Some(parts) = item.get("content").and_then(Value::as_array) else {
                continue;
            };
            let text: Vec<&str> = parts
                .iter()
                .filter_map(|p| p.get("text").and_then(Value::as_str))
                .collect();
            item["content"] = Value::String(text.join(" "));
        }
    }
    body
}

fn check_requests(
    dialect: DialectKind,
    schema: &Schema,
    model: &str,
    options: &[(&str, WireOptions)],
) -> usize {
    let mut failures = Vec::new();
    let mut checked = 0;
    for (opt_label, opts) in options {
        for (label, req) in corpus(model) {
            let body = dialect.encode(&req, opts).body;
            checked += 1;
            if spec_ambiguity(dialect, label) {
                continue;
            }
            let errors = schema.errors(&body);
            if !errors.is_empty() {
                failures.push(format!(
                    "request {label:?} ({opt_label}) encodes a body that {} rejects:\n  {}\n  body: {}",
                    schema.label(),
                    errors.join("\n  "),
                    truncate(&body.to_string(), 600)
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {checked} encoded bodies are invalid:\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
    checked
}

#[test]
fn openai_bodies_validate_against_create_chat_completion_request() {
    let options = [
        (
            "max_completion_tokens",
            WireOptions {
                token_param: TokenParam::MaxCompletionTokens,
                ..WireOptions::default()
            },
        ),
        (
            "max_tokens",
            WireOptions {
                token_param: TokenParam::MaxTokens,
                ..WireOptions::default()
            },
        ),
    ];
    let n = check_requests(
        DialectKind::Openai,
        &OPENAI_REQUEST,
        "gpt-4o-mini",
        &options,
    );
    // A model id outside the spec's enum is fine too: `ModelIdsShared` is `anyOf: [string, enum]`.
    check_requests(
        DialectKind::Openai,
        &OPENAI_REQUEST,
        "qwen2.5:7b-instruct",
        &options[..1],
    );
    // Only OpenAI's range goes up to 2 (Anthropic's ends at 1).
    let hot = ChatRequest {
        temperature: Some(2.0),
        ..corpus("gpt-4o-mini").remove(0).1
    };
    let body = DialectKind::Openai.encode(&hot, &options[0].1).body;
    assert_eq!(
        OPENAI_REQUEST.errors(&body),
        Vec::<String>::new(),
        "temperature 2.0"
    );
    assert!(n >= 30);
}

#[test]
fn responses_bodies_validate_against_create_response() {
    let n = check_requests(
        DialectKind::OpenaiResponses,
        &RESPONSES_REQUEST,
        "gpt-4o-mini",
        &[("default", WireOptions::default())],
    );
    assert!(n >= 25);
    // The validator is not vacuous: a chat-completions field and a nested tool shape are
    // caught where they are.
    let (_, req) = tool_corpus("gpt-4o-mini")
        .into_iter()
        .find(|(l, _)| *l == "tool result round trip")
        .unwrap();
    let valid = DialectKind::OpenaiResponses
        .encode(&req, &WireOptions::default())
        .body;
    assert_rejected(
        &RESPONSES_REQUEST,
        &valid,
        |b| b["max_output_tokens"] = json!(8),
        "/max_output_tokens",
        "8",
    );
    assert_rejected(
        &RESPONSES_REQUEST,
        &valid,
        |b| b["tools"][0]["type"] = json!("fn"),
        "/tools/0",
        "",
    );
    assert_rejected(
        &RESPONSES_REQUEST,
        &valid,
        |b| b["input"][0]["role"] = json!("narrator"),
        "/input",
        "",
    );
}

#[test]
fn anthropic_bodies_validate_against_create_message_params() {
    let options = [
        ("default_max_tokens 1024", WireOptions::default()),
        (
            "default_max_tokens 64000",
            WireOptions {
                default_max_tokens: 64_000,
                ..WireOptions::default()
            },
        ),
    ];
    let n = check_requests(
        DialectKind::Anthropic,
        &ANTHROPIC_REQUEST,
        "claude-haiku-4-5",
        &options,
    );
    assert!(n >= 30);
}

/// The specs' verdict on an empty user message. Neither spec constrains a string `content`
/// (no `minLength`), so both accept it; the Anthropic API itself rejects it at run time with
/// 400 "all messages must have non-empty content…" (provider-wire.md B2), which the spec does
/// not express. If a spec update adds `minLength`, this test says so.
#[test]
fn empty_user_content_is_accepted_by_both_specs() {
    let req = ChatRequest {
        messages: vec![msg(Role::User, "")],
        ..ChatRequest::default()
    };
    let openai = DialectKind::Openai.encode(
        &ChatRequest {
            model: "gpt-4o-mini".into(),
            ..req.clone()
        },
        &WireOptions::default(),
    );
    let anthropic = DialectKind::Anthropic.encode(
        &ChatRequest {
            model: "claude-haiku-4-5".into(),
            ..req
        },
        &WireOptions::default(),
    );
    assert_eq!(openai.body["messages"][0]["content"], "");
    assert_eq!(anthropic.body["messages"][0]["content"], "");
    assert_eq!(OPENAI_REQUEST.errors(&openai.body), Vec::<String>::new());
    assert_eq!(
        ANTHROPIC_REQUEST.errors(&anthropic.body),
        Vec::<String>::new()
    );
}

/// Asserts `mutate(valid body)` is rejected, with an error at `path` mentioning `needle`.
fn assert_rejected(
    schema: &Schema,
    valid: &Value,
    mutate: impl FnOnce(&mut Value),
    path: &str,
    needle: &str,
) {
    assert_eq!(
        schema.errors(valid),
        Vec::<String>::new(),
        "the unmutated body must be valid"
    );
    let mut body = valid.clone();
    mutate(&mut body);
    let errors = schema.errors(&body);
    assert!(
        errors
            .iter()
            .any(|e| e.starts_with(&format!("{path}: ")) && e.contains(needle)),
        "{} should reject {body} with an error at {path} mentioning {needle:?}; got {errors:#?}",
        schema.label()
    );
}

#[test]
fn openai_request_validator_is_not_vacuous() {
    let req = corpus("gpt-4o-mini").remove(1).1;
    let valid = DialectKind::Openai
        .encode(&req, &WireOptions::default())
        .body;
    assert_rejected(
        &OPENAI_REQUEST,
        &valid,
        |b| {
            b.as_object_mut().unwrap().remove("messages");
        },
        "(root)",
        "\"messages\" is a required property",
    );
    assert_rejected(
        &OPENAI_REQUEST,
        &valid,
        |b| b["max_completion_tokens"] = json!("16"),
        "/max_completion_tokens",
        "\"16\"",
    );
    assert_rejected(
        &OPENAI_REQUEST,
        &valid,
        |b| b["messages"] = json!([]),
        "/messages",
        "[]",
    );
    assert_rejected(
        &OPENAI_REQUEST,
        &valid,
        |b| b["temperature"] = json!(2.5),
        "/temperature",
        "2.5",
    );
    // Reaches through `$ref`s into the per-role message schemas (a `oneOf`).
    assert_rejected(
        &OPENAI_REQUEST,
        &valid,
        |b| b["messages"][1]["role"] = json!("narrator"),
        "/messages/1",
        "oneOf",
    );
}

#[test]
fn anthropic_request_validator_is_not_vacuous() {
    let req = ChatRequest {
        model: "claude-haiku-4-5".into(),
        ..corpus("x").remove(1).1
    };
    let valid = DialectKind::Anthropic
        .encode(&req, &WireOptions::default())
        .body;
    assert_rejected(
        &ANTHROPIC_REQUEST,
        &valid,
        |b| {
            b.as_object_mut().unwrap().remove("max_tokens");
        },
        "(root)",
        "\"max_tokens\" is a required property",
    );
    assert_rejected(
        &ANTHROPIC_REQUEST,
        &valid,
        |b| b["max_tokens"] = json!("16"),
        "/max_tokens",
        "\"16\"",
    );
    // `CreateMessageParams` is closed (additionalProperties: false): an OpenAI-only field leaking
    // into an Anthropic body is caught.
    assert_rejected(
        &ANTHROPIC_REQUEST,
        &valid,
        |b| b["response_format"] = json!({"type": "json_object"}),
        "(root)",
        "response_format",
    );
    assert_rejected(
        &ANTHROPIC_REQUEST,
        &valid,
        |b| b["temperature"] = json!(1.5),
        "/temperature",
        "1.5",
    );
    assert_rejected(
        &ANTHROPIC_REQUEST,
        &valid,
        |b| b["messages"][0]["role"] = json!("narrator"),
        "/messages/0/role",
        "narrator",
    );
}

/// The validators reach into the tool fields: a wrong tool type, an unknown tool choice, a
/// tool message without its call id, a stray key in a tool choice and a malformed
/// `tool_result` are each rejected where they are.
#[test]
fn tool_fields_are_validated() {
    let find = |dialect: DialectKind, model: &str, label: &str| {
        let (_, req) = tool_corpus(model)
            .into_iter()
            .find(|(l, _)| *l == label)
            .unwrap();
        dialect.encode(&req, &WireOptions::default()).body
    };
    let openai = find(DialectKind::Openai, "gpt-4o-mini", "tool result round trip");
    assert_eq!(openai["messages"][3]["role"], "tool");
    assert_rejected(
        &OPENAI_REQUEST,
        &openai,
        |b| b["tools"][0]["type"] = json!("fn"),
        "/tools/0",
        "\"fn\" is not one of \"function\"",
    );
    assert_rejected(
        &OPENAI_REQUEST,
        &openai,
        |b| b["tool_choice"] = json!("sometimes"),
        "/tool_choice",
        "sometimes",
    );
    assert_rejected(
        &OPENAI_REQUEST,
        &openai,
        |b| {
            b["messages"][3]
                .as_object_mut()
                .unwrap()
                .remove("tool_call_id");
        },
        "/messages/3",
        "\"tool_call_id\" is a required property",
    );
    let anthropic = find(
        DialectKind::Anthropic,
        "claude-haiku-4-5",
        "parallel calls, results, an error, then the user again",
    );
    assert_eq!(anthropic["messages"][2]["content"][1]["is_error"], true);
    assert_rejected(
        &ANTHROPIC_REQUEST,
        &anthropic,
        |b| b["tool_choice"]["name"] = json!("get_weather"),
        "/tool_choice",
        "name",
    );
    assert_rejected(
        &ANTHROPIC_REQUEST,
        &anthropic,
        |b| b["messages"][2]["content"][0]["is_error"] = json!("no"),
        "/messages/2/content",
        "\"no\" is not of type \"boolean\"",
    );
}

// ---------------------------------------------------------------------------------------------
// (2) Authored fixture responses
// ---------------------------------------------------------------------------------------------

/// What a walk of a fixture tree found.
#[derive(Debug, Default)]
struct FixtureReport {
    /// `<file> exchanges[i] (status) vs <schema>` for each body validated.
    checked: Vec<String>,
    /// Bodies not validated, with the reason.
    skipped: Vec<String>,
    /// Each failure names the file, the exchange, the schema and every error.
    failures: Vec<String>,
}

impl FixtureReport {
    fn count(&self, schema: &Schema) -> usize {
        let suffix = format!("vs {}", schema.label());
        self.checked.iter().filter(|c| c.ends_with(&suffix)).count()
    }
}

fn yaml_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            yaml_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "yaml" || e == "yml") {
            out.push(path);
        }
    }
}

/// Validates every authored response body under `root` (`<target>/<suite>/<scenario>.yaml`)
/// whose target is `openai` or `anthropic`. Other targets (ollama) have no official spec here.
fn check_fixtures(root: &Path) -> FixtureReport {
    let mut report = FixtureReport::default();
    let mut files = Vec::new();
    yaml_files(root, &mut files);
    files.sort();
    for file in files {
        let shown = file
            .strip_prefix(root)
            .map(|p| format!("fixtures/{}", p.display()))
            .unwrap_or_else(|_| file.display().to_string());
        let target = file
            .strip_prefix(root)
            .ok()
            .and_then(|p| p.components().next())
            .and_then(|c| c.as_os_str().to_str())
            .unwrap_or("");
        // (schemas for 2xx / other statuses, the request path the schemas describe)
        let (ok_schema, err_schema, endpoint) = match target {
            "openai" => (&OPENAI_RESPONSE, &OPENAI_ERROR, "/chat/completions"),
            "openai-responses" => (&RESPONSES_RESPONSE, &OPENAI_ERROR, "/responses"),
            "anthropic" => (&ANTHROPIC_RESPONSE, &ANTHROPIC_ERROR, "/v1/messages"),
            _ => {
                report
                    .skipped
                    .push(format!("{shown}: target {target:?} has no vendored spec"));
                continue;
            }
        };
        let text = match std::fs::read_to_string(&file) {
            Ok(t) => t,
            Err(e) => {
                report.failures.push(format!("{shown}: cannot read: {e}"));
                continue;
            }
        };
        let recording: RecordingFile = match crate::common::yaml_from_str(&text) {
            Ok(r) => r,
            Err(e) => {
                report
                    .failures
                    .push(format!("{shown}: not a recording: {e}"));
                continue;
            }
        };
        if recording.provenance.source == Source::Live {
            report.skipped.push(format!(
                "{shown}: live recording (the provider's own words, not ours)"
            ));
            continue;
        }
        for (i, ex) in recording.exchanges.iter().enumerate() {
            let status = ex.response.status;
            let at = format!("{shown} exchanges[{i}] ({status})");
            if target == "openai-responses" {
                check_responses_exchange(ex, &at, &mut report);
            }
            let Some(body) = &ex.response.body else {
                report
                    .skipped
                    .push(format!("{at}: no JSON body (stream or empty)"));
                continue;
            };
            let path = ex.request.path.split('?').next().unwrap_or_default();
            if !path.ends_with(endpoint) {
                report.skipped.push(format!(
                    "{at}: path {:?} is not {endpoint}",
                    ex.request.path
                ));
                continue;
            }
            let schema = if (200..300).contains(&status) {
                ok_schema
            } else {
                err_schema
            };
            let errors = schema.errors(body);
            if errors.is_empty() {
                report.checked.push(format!("{at} vs {}", schema.label()));
            } else {
                report.failures.push(format!(
                    "{at}: response body does not validate against {}:\n  {}",
                    schema.label(),
                    errors.join("\n  ")
                ));
            }
        }
    }
    report
}

/// The Responses recordings carry more than a body to check: the request as sent (unless the
/// API rejected it, which a malformed-input scenario does on purpose) against
/// `CreateResponse`, and each event of a streamed reply against `ResponseStreamEvent`.
fn check_responses_exchange(
    ex: &provcheck::record::format::Exchange,
    at: &str,
    report: &mut FixtureReport,
) {
    if let Some(body) = &ex.request.body
        && !(400..500).contains(&ex.response.status)
    {
        let mut errors = RESPONSES_REQUEST.errors(body);
        if errors
            .iter()
            .any(|e| e.contains("valid under more than one"))
        {
            // The spec's oneOf for a message with a list of parts (see `spec_ambiguity`): check
            // the rest of the body with the parts joined into the string form only one branch
            // takes.
            errors = RESPONSES_REQUEST.errors(&joined_parts(body));
        }
        verdict(
            report,
            format!("{at} request"),
            &RESPONSES_REQUEST.label(),
            None,
            errors,
        );
    }
    for (n, e) in ex
        .response
        .stream
        .iter()
        .flat_map(|s| &s.events)
        .enumerate()
    {
        // Data that is not JSON is checked as the string it is (and rejected).
        let v = serde_json::from_str::<Value>(&e.data).unwrap_or(Value::String(e.data.clone()));
        let what = format!("{at} stream.events[{n}]");
        // Against its own branch of the `anyOf` when the type names one, so the errors say
        // what is wrong with it rather than with every other event type.
        let (branch, errors) = match v
            .get("type")
            .and_then(Value::as_str)
            .and_then(stream_event_schema)
        {
            Some((name, validator)) => (
                Some(name),
                validator.iter_errors(&v).map(|e| render(&e, 0)).collect(),
            ),
            None => (None, RESPONSES_EVENT.errors(&v)),
        };
        verdict(report, what, &RESPONSES_EVENT.label(), branch, errors);
    }
}

/// Files one check's outcome: checked when `errors` is empty, a failure listing them otherwise.
fn verdict(
    report: &mut FixtureReport,
    what: String,
    label: &str,
    branch: Option<&str>,
    errors: Vec<String>,
) {
    if errors.is_empty() {
        report.checked.push(format!("{what} vs {label}"));
    } else {
        let branch = branch
            .map(|b| format!(" (its branch {b})"))
            .unwrap_or_default();
        report.failures.push(format!(
            "{what} does not validate against {label}{branch}:\n  {}",
            errors.join("\n  ")
        ));
    }
}

/// The schema `ResponseStreamEvent` gives for events of type `ty` (one branch of its
/// `anyOf`), compiled once per type.
fn stream_event_schema(ty: &str) -> Option<(&'static str, &'static Validator)> {
    type Cache =
        std::sync::Mutex<std::collections::HashMap<String, (&'static str, &'static Validator)>>;
    static CACHE: OnceLock<Cache> = OnceLock::new();
    let cache = CACHE.get_or_init(Default::default);
    if let Some(hit) = cache.lock().unwrap().get(ty) {
        return Some(*hit);
    }
    let spec = openai_spec();
    let schemas = &spec["components"]["schemas"];
    let name = schemas["ResponseStreamEvent"]["anyOf"]
        .as_array()?
        .iter()
        .filter_map(|r| r["$ref"].as_str()?.rsplit('/').next())
        .find(|name| schemas[*name]["properties"]["type"]["enum"][0] == ty)?;
    let name: &'static str = Box::leak(name.to_string().into_boxed_str());
    let validator: &'static Validator = Box::leak(Box::new(compile(spec, name)));
    cache
        .lock()
        .unwrap()
        .insert(ty.to_string(), (name, validator));
    Some((name, validator))
}

#[test]
fn authored_fixture_responses_validate_against_the_specs() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures");
    assert!(root.is_dir(), "no fixture tree at {}", root.display());
    let report = check_fixtures(&root);
    println!("checked {} response bodies:", report.checked.len());
    report
        .checked
        .iter()
        .for_each(|c| println!("  ok      {c}"));
    report
        .skipped
        .iter()
        .for_each(|s| println!("  skipped {s}"));
    assert!(
        report.failures.is_empty(),
        "{} authored fixture response(s) contradict the spec:\n\n{}\n",
        report.failures.len(),
        report.failures.join("\n\n")
    );
    // Guard against a walk that silently checks nothing (fixtures moved, a path rename).
    assert!(
        report.count(&OPENAI_RESPONSE) > 0,
        "no authored OpenAI 2xx body was checked under {}",
        root.display()
    );
    assert!(
        report.count(&ANTHROPIC_RESPONSE) > 0,
        "no authored Anthropic 2xx body was checked under {}",
        root.display()
    );
    for schema in [&RESPONSES_RESPONSE, &RESPONSES_REQUEST, &RESPONSES_EVENT] {
        assert!(
            report.count(schema) > 0,
            "no authored openai-responses {} was checked under {}",
            schema.label(),
            root.display()
        );
    }
}

/// The checker itself: a broken authored fixture is reported with its file and each error's
/// instance path; live recordings and other targets are skipped, not checked.
#[test]
fn fixture_check_names_file_and_errors() {
    let dir = tempfile::tempdir().unwrap();
    let write = |rel: &str, source: &str, body: &str, status: u16, path: &str| {
        let p = dir.path().join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        let yaml = format!(
            "provenance: {{source: {source}, date: 2026-01-01}}\nexchanges:\n  - request: {{path: {path}, body: {{model: m}}}}\n    response:\n      status: {status}\n      body: {body}\n"
        );
        std::fs::write(p, yaml).unwrap();
    };
    let bad_openai = r#"{id: c1, object: chat.completion, created: 1, model: m, choices: [{index: 0, finish_reason: stop, message: {role: assistant, content: hi}}]}"#;
    write(
        "openai/s/bad.yaml",
        "authored",
        bad_openai,
        200,
        "/v1/chat/completions",
    );
    write(
        "openai/s/live.yaml",
        "live",
        bad_openai,
        200,
        "/v1/chat/completions",
    );
    write(
        "openai/s/bad_error.yaml",
        "authored",
        "{error: {message: nope}}",
        400,
        "/v1/chat/completions",
    );
    write(
        "anthropic/s/bad_error.yaml",
        "authored",
        "{type: error, error: {type: teapot_error, message: x}, request_id: null}",
        418,
        "/v1/messages",
    );
    write("ollama/s/any.yaml", "authored", "{}", 200, "/api/chat");

    let report = check_fixtures(dir.path());
    assert!(report.checked.is_empty(), "{report:#?}");
    assert_eq!(report.failures.len(), 3, "{report:#?}");
    let all = report.failures.join("\n");
    let bad = report
        .failures
        .iter()
        .find(|f| f.starts_with("fixtures/openai/s/bad.yaml exchanges[0] (200)"))
        .expect(&all);
    assert!(bad.contains("OpenAI CreateChatCompletionResponse"), "{bad}");
    assert!(
        bad.contains("/choices/0: \"logprobs\" is a required property"),
        "{bad}"
    );
    assert!(
        bad.contains("/choices/0/message: \"refusal\" is a required property"),
        "{bad}"
    );
    let err = report
        .failures
        .iter()
        .find(|f| f.starts_with("fixtures/openai/s/bad_error.yaml"))
        .expect(&all);
    assert!(
        err.contains("OpenAI ErrorResponse")
            && err.contains("/error: \"type\" is a required property"),
        "{err}"
    );
    let err = report
        .failures
        .iter()
        .find(|f| f.starts_with("fixtures/anthropic/s/bad_error.yaml"))
        .expect(&all);
    assert!(
        err.contains("Anthropic ErrorResponse") && err.contains("/error/type"),
        "{err}"
    );
    assert!(
        report
            .skipped
            .iter()
            .any(|s| s.starts_with("fixtures/openai/s/live.yaml: live")),
        "{report:#?}"
    );
    assert!(
        report
            .skipped
            .iter()
            .any(|s| s.starts_with("fixtures/ollama/s/any.yaml")),
        "{report:#?}"
    );
}

/// The Responses checks reach the request and each stream event: a request below the
/// `max_output_tokens` minimum and an event without its `sequence_number` are each named.
#[test]
fn responses_fixture_check_names_request_and_event() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("openai-responses/s/bad.yaml");
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    let event = r#"{\"type\":\"response.output_text.delta\",\"item_id\":\"m\",\"output_index\":0,\"content_index\":0,\"delta\":\"x\",\"logprobs\":[]}"#;
    let yaml = format!(
        "provenance: {{source: authored, date: 2026-01-01}}\nexchanges:\n  - request: {{path: /v1/responses, body: {{model: m, input: hi, max_output_tokens: 8}}}}\n    response:\n      status: 200\n      stream:\n        format: sse\n        events:\n          - {{at_ms: 1, data: \"{event}\"}}\n"
    );
    std::fs::write(&p, yaml).unwrap();
    let report = check_fixtures(dir.path());
    let all = report.failures.join("\n");
    assert_eq!(report.failures.len(), 2, "{report:#?}");
    assert!(
        all.contains("exchanges[0] (200) request does not validate against OpenAI CreateResponse")
            && all.contains("/max_output_tokens"),
        "{all}"
    );
    assert!(
        all.contains("stream.events[0] does not validate against OpenAI ResponseStreamEvent (its branch ResponseTextDeltaEvent)")
            && all.contains("\"sequence_number\" is a required property"),
        "{all}"
    );
}

// ---------------------------------------------------------------------------------------------
// The reference provider's replies
// ---------------------------------------------------------------------------------------------

/// The in-tree reference provider (`provcheck::reference`) answers every request of the
/// corpus with a body the official spec accepts: the response schema for a 2xx, the error
/// schema otherwise. Streamed requests are sent unstreamed (the specs describe no stream body).
#[test]
fn reference_provider_replies_validate_against_the_specs() {
    use provcheck::reference::{Config, ReferenceProvider};
    let server = ReferenceProvider::start(Config::default()).expect("reference provider");
    let client = reqwest::Client::new();
    let rt = provcheck::runtime::runtime();
    let mut failures = Vec::new();
    let mut checked = 0;
    let cases = [
        (DialectKind::Openai, &OPENAI_RESPONSE, &OPENAI_ERROR),
        (
            DialectKind::Anthropic,
            &ANTHROPIC_RESPONSE,
            &ANTHROPIC_ERROR,
        ),
        (
            DialectKind::OpenaiResponses,
            &RESPONSES_RESPONSE,
            &OPENAI_ERROR,
        ),
    ];
    for (dialect, ok_schema, err_schema) in cases {
        let requests = corpus("ref-tools")
            .into_iter()
            .chain(tool_corpus("ref-tools"));
        for (label, mut req) in requests.chain([("unknown model", unknown_model())]) {
            req.stream = false;
            let w = dialect.encode(&req, &WireOptions::default());
            let mut http = client.post(format!("{}{}", server.base_url(dialect), w.path));
            for (k, v) in &w.headers {
                http = http.header(*k, v);
            }
            let (status, body) = rt.block_on(async {
                let resp = http.body(w.body.to_string()).send().await.expect("reply");
                let status = resp.status().as_u16();
                (status, resp.json::<Value>().await.expect("a JSON body"))
            });
            let schema = if status == 200 { ok_schema } else { err_schema };
            let errors = schema.errors(&body);
            checked += 1;
            if !errors.is_empty() {
                failures.push(format!(
                    "{label:?} ({status}) vs {}:\n  {}\n  body: {}",
                    schema.label(),
                    errors.join("\n  "),
                    truncate(&body.to_string(), 600)
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {checked} replies are invalid:\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
    assert!(checked >= 90, "{checked}");
}

fn unknown_model() -> ChatRequest {
    ChatRequest {
        model: "no-such-model".into(),
        messages: vec![msg(Role::User, "Hi")],
        max_tokens: Some(8),
        ..ChatRequest::default()
    }
}

/// The request bodies of the request-side recordings, against the request schemas: every
/// parameters request is valid, and every validation request is invalid, except those whose
/// fault no schema can see (each with the reason). A refusal scenario whose request the spec
/// allows would judge a server for refusing something valid.
#[test]
fn request_side_recordings_requests_are_valid_or_refused_by_the_specs() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures");
    // Invalid in ways the schemas don't express: (target, scenario, why).
    let schema_valid: &[(&str, &str, &str)] = &[
        ("*", "unknown_model", "any model name is a valid string"),
        (
            "openai",
            "tool_result_without_call",
            "the schema does not pair results with calls",
        ),
        (
            "anthropic",
            "tool_result_without_call_anthropic",
            "the schema does not pair results with calls",
        ),
        // Both APIs refuse a token limit below 1; the specs set no bound, or 0 as Anthropic's.
        ("*", "max_tokens_zero", "no minimum of 1 in the specs"),
        (
            "openai",
            "max_tokens_negative",
            "no minimum in OpenAI's spec",
        ),
        // Anthropic's spec has no minItems on messages nor a role enum on InputMessage; the
        // API refuses both ("at least one message is required", "Unexpected role \"system\"").
        ("anthropic", "empty_messages", "no minItems on messages"),
        (
            "anthropic",
            "system_role_in_messages",
            "no role enum on InputMessage",
        ),
    ];
    let mut failures = Vec::new();
    let mut checked = 0;
    for (target, schema) in [
        ("openai", &OPENAI_REQUEST),
        ("anthropic", &ANTHROPIC_REQUEST),
    ] {
        for suite in ["parameters", "validation"] {
            let mut files = Vec::new();
            yaml_files(&root.join(target).join(suite), &mut files);
            files.sort();
            for file in files {
                let id = file
                    .file_stem()
                    .and_then(|s| s.to_str())
                    .unwrap_or_default()
                    .to_string();
                let recording: RecordingFile =
                    crate::common::yaml_from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
                for ex in &recording.exchanges {
                    // A raw body that is not JSON is recorded without one.
                    let Some(body) = &ex.request.body else {
                        continue;
                    };
                    checked += 1;
                    let errors = schema.errors(body);
                    let want_valid = suite == "parameters"
                        || schema_valid
                            .iter()
                            .any(|(t, s, _)| (*t == "*" || *t == target) && *s == id);
                    if want_valid != errors.is_empty() {
                        failures.push(format!(
                            "{target}/{suite}/{id}: the request is {} {}, expected {}: {}",
                            if errors.is_empty() {
                                "valid against"
                            } else {
                                "invalid against"
                            },
                            schema.label(),
                            if want_valid { "valid" } else { "invalid" },
                            errors.join("; ")
                        ));
                    }
                }
            }
        }
    }
    assert!(checked >= 25, "only {checked} request bodies checked");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The OpenAI spec's errors for `v` as `components.schemas.<name>` (empty when valid), for
/// the tests of what the translating gateway (`translator/`) writes. A Responses stream event
/// (`ResponseStreamEvent`) is checked against the branch its `type` names; a `CreateResponse`
/// whose message parts make the spec's `oneOf` ambiguous is checked with them joined, as the
/// fixture check does.
pub(crate) fn openai_spec_errors(name: &str, v: &Value) -> Vec<String> {
    type Cache = std::sync::Mutex<std::collections::HashMap<String, &'static Validator>>;
    static CACHE: OnceLock<Cache> = OnceLock::new();
    if name == "ResponseStreamEvent"
        && let Some((_, validator)) = v["type"].as_str().and_then(stream_event_schema)
    {
        return validator.iter_errors(v).map(|e| render(&e, 0)).collect();
    }
    let validator = *CACHE
        .get_or_init(Default::default)
        .lock()
        .unwrap()
        .entry(name.to_string())
        .or_insert_with(|| Box::leak(Box::new(compile(openai_spec(), name))));
    let errors: Vec<String> = validator.iter_errors(v).map(|e| render(&e, 0)).collect();
    if name == "CreateResponse"
        && errors
            .iter()
            .any(|e| e.contains("valid under more than one"))
    {
        let joined = joined_parts(v);
        return validator
            .iter_errors(&joined)
            .map(|e| render(&e, 0))
            .collect();
    }
    errors
}

//! Request validation, field by field, the way each real API does it. The top-level rules are
//! one table per dialect ([`OPENAI`], [`ANTHROPIC`], [`OLLAMA_CHAT`], [`OLLAMA_GENERATE`]): a
//! new rule is one more row. Each dialect words its refusal as the real API does
//! ([`refusal`]).

use serde_json::Value;

use super::errors::ApiError;
use crate::dialect::DialectKind;

/// The JSON type a field must have.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Want {
    /// A string.
    Str,
    /// An integer.
    Int,
    /// Any number.
    Num,
    /// A boolean.
    Bool,
    /// An array.
    Arr,
    /// An object.
    Obj,
    /// A string or an array.
    StrOrArr,
    /// A string or an object.
    StrOrObj,
    /// A string or a number.
    StrOrNum,
}

impl Want {
    fn accepts(self, v: &Value) -> bool {
        match self {
            Want::Str => v.is_string(),
            Want::Int => v.is_i64() || v.is_u64(),
            Want::Num => v.is_number(),
            Want::Bool => v.is_boolean(),
            Want::Arr => v.is_array(),
            Want::Obj => v.is_object(),
            Want::StrOrArr => v.is_string() || v.is_array(),
            Want::StrOrObj => v.is_string() || v.is_object(),
            Want::StrOrNum => v.is_string() || v.is_number(),
        }
    }

    fn noun(self) -> &'static str {
        match self {
            Want::Str => "a string",
            Want::Int => "an integer",
            Want::Num => "a number",
            Want::Bool => "a boolean",
            Want::Arr => "an array",
            Want::Obj => "an object",
            Want::StrOrArr => "a string or an array",
            Want::StrOrObj => "a string or an object",
            Want::StrOrNum => "a string or a number",
        }
    }
}

/// One top-level field's rule.
#[derive(Debug, Clone, Copy)]
pub(super) struct Field {
    /// The field's name.
    pub name: &'static str,
    /// Its type.
    pub want: Want,
    /// Whether it must be present.
    pub required: bool,
    /// Inclusive bounds for a number.
    pub range: Option<(f64, f64)>,
    /// For an array: must not be empty.
    pub non_empty: bool,
}

const fn req(name: &'static str, want: Want) -> Field {
    Field {
        name,
        want,
        required: true,
        range: None,
        non_empty: false,
    }
}

const fn opt(name: &'static str, want: Want) -> Field {
    Field {
        required: false,
        ..req(name, want)
    }
}

impl Field {
    const fn range(mut self, lo: f64, hi: f64) -> Field {
        self.range = Some((lo, hi));
        self
    }

    const fn non_empty(mut self) -> Field {
        self.non_empty = true;
        self
    }
}

/// OpenAI `CreateChatCompletionRequest`.
pub(super) const OPENAI: &[Field] = &[
    req("model", Want::Str),
    req("messages", Want::Arr).non_empty(),
    opt("max_tokens", Want::Int).range(1.0, 1e9),
    opt("max_completion_tokens", Want::Int).range(1.0, 1e9),
    opt("temperature", Want::Num).range(0.0, 2.0),
    opt("top_p", Want::Num).range(0.0, 1.0),
    opt("n", Want::Int).range(1.0, 128.0),
    opt("presence_penalty", Want::Num).range(-2.0, 2.0),
    opt("frequency_penalty", Want::Num).range(-2.0, 2.0),
    opt("top_logprobs", Want::Int).range(0.0, 20.0),
    opt("logprobs", Want::Bool),
    opt("seed", Want::Int),
    opt("stream", Want::Bool),
    opt("stream_options", Want::Obj),
    opt("stop", Want::StrOrArr),
    opt("tools", Want::Arr),
    opt("parallel_tool_calls", Want::Bool),
    opt("response_format", Want::Obj),
];

/// OpenAI `CreateResponse` (`max_output_tokens` has `minimum: 16`).
pub(crate) const RESPONSES: &[Field] = &[
    req("model", Want::Str),
    opt("input", Want::StrOrArr),
    opt("instructions", Want::Str),
    opt("max_output_tokens", Want::Int).range(16.0, 1e9),
    opt("temperature", Want::Num).range(0.0, 2.0),
    opt("top_p", Want::Num).range(0.0, 1.0),
    opt("stream", Want::Bool),
    opt("tools", Want::Arr),
    opt("parallel_tool_calls", Want::Bool),
    opt("text", Want::Obj),
    opt("tool_choice", Want::StrOrObj),
];

/// Anthropic `MessageCreateParams`.
pub(super) const ANTHROPIC: &[Field] = &[
    req("model", Want::Str),
    req("messages", Want::Arr).non_empty(),
    req("max_tokens", Want::Int).range(1.0, 1e9),
    opt("temperature", Want::Num).range(0.0, 1.0),
    opt("top_p", Want::Num).range(0.0, 1.0),
    opt("top_k", Want::Int).range(0.0, 1e9),
    opt("stream", Want::Bool),
    opt("stop_sequences", Want::Arr),
    opt("system", Want::StrOrArr),
    opt("tools", Want::Arr),
    opt("tool_choice", Want::Obj),
    opt("metadata", Want::Obj),
];

/// Ollama `ChatRequest`: Go's JSON decoding checks types, the handler only the model.
pub(super) const OLLAMA_CHAT: &[Field] = &[
    req("model", Want::Str),
    opt("messages", Want::Arr),
    opt("stream", Want::Bool),
    opt("format", Want::StrOrObj),
    opt("options", Want::Obj),
    opt("keep_alive", Want::StrOrNum),
    opt("tools", Want::Arr),
];

/// Ollama `GenerateRequest`.
pub(super) const OLLAMA_GENERATE: &[Field] = &[
    req("model", Want::Str),
    opt("prompt", Want::Str),
    opt("system", Want::Str),
    opt("stream", Want::Bool),
    opt("format", Want::StrOrObj),
    opt("options", Want::Obj),
    opt("keep_alive", Want::StrOrNum),
    opt("images", Want::Arr),
];

/// Why `body`, sent to `path`, is not a request `dialect`'s API accepts, in the words that API
/// refuses it with (its top-level fields, as the reference provider checks them); `None` when
/// it is one. Gateway mode asks it of every request a gateway sends its upstream.
pub(crate) fn request_breach(dialect: DialectKind, path: &str, body: &Value) -> Option<String> {
    let table = match dialect {
        DialectKind::Openai => OPENAI,
        DialectKind::OpenaiResponses => RESPONSES,
        DialectKind::Anthropic => ANTHROPIC,
        DialectKind::Ollama if path.ends_with("/generate") => OLLAMA_GENERATE,
        DialectKind::Ollama => OLLAMA_CHAT,
    };
    if !body.is_object() {
        return Some(format!(
            "the body is {}, not a JSON object",
            json_type(body)
        ));
    }
    let (field, breach) = check(body, table)?;
    Some(refusal(dialect, field, &breach).message)
}

/// What is wrong with one field.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Breach {
    /// A required field is absent (or null).
    Missing,
    /// The field has the wrong JSON type.
    Type(Want, &'static str),
    /// A number outside its bounds.
    Range(f64, f64, f64),
    /// An empty array that must have items.
    Empty,
}

/// Checks `body` against `table`; the first breach found, with its field.
pub(super) fn check(body: &Value, table: &[Field]) -> Option<(&'static str, Breach)> {
    for f in table {
        let v = match body.get(f.name) {
            None | Some(Value::Null) if f.required => return Some((f.name, Breach::Missing)),
            None | Some(Value::Null) => continue,
            Some(v) => v,
        };
        if !f.want.accepts(v) {
            return Some((f.name, Breach::Type(f.want, json_type(v))));
        }
        if let (Some((lo, hi)), Some(n)) = (f.range, v.as_f64())
            && (n < lo || n > hi)
        {
            return Some((f.name, Breach::Range(lo, hi, n)));
        }
        if f.non_empty && v.as_array().is_some_and(Vec::is_empty) {
            return Some((f.name, Breach::Empty));
        }
    }
    None
}

/// The JSON type's name, as the APIs' messages say it.
pub(super) fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_f64() => "number",
        Value::Number(_) => "integer",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// The refusal `dialect` answers a breach of `field` with.
pub(super) fn refusal(dialect: DialectKind, field: &str, breach: &Breach) -> ApiError {
    match dialect {
        DialectKind::Openai | DialectKind::OpenaiResponses => openai_refusal(field, breach),
        DialectKind::Anthropic => ApiError::invalid(match breach {
            Breach::Missing => format!("{field}: Field required"),
            Breach::Type(want, _) => format!("{field}: Input should be {}", want.noun()),
            Breach::Range(lo, _, n) if n < lo => {
                format!("{field}: Input should be greater than or equal to {lo}")
            }
            Breach::Range(_, hi, _) => {
                format!("{field}: Input should be less than or equal to {hi}")
            }
            Breach::Empty => format!("{field}: at least one message is required"),
        }),
        DialectKind::Ollama => ApiError::invalid(match breach {
            Breach::Missing => format!("{field} is required"),
            Breach::Type(want, got) => format!(
                "json: cannot unmarshal {got} into Go struct field .{field} of type {}",
                want.noun()
            ),
            Breach::Range(..) | Breach::Empty => format!("invalid value for {field}"),
        }),
    }
}

fn openai_refusal(field: &str, breach: &Breach) -> ApiError {
    let (message, code) = match breach {
        Breach::Missing => (
            format!("Missing required parameter: '{field}'."),
            "missing_required_parameter",
        ),
        Breach::Type(want, got) => (
            format!(
                "Invalid type for '{field}': expected {}, but got {got} instead.",
                want.noun()
            ),
            "invalid_type",
        ),
        Breach::Range(lo, _, n) if n < lo => (
            format!(
                "Invalid '{field}': value below minimum. Expected a value >= {lo}, but got {n} instead."
            ),
            "below_min_value",
        ),
        Breach::Range(_, hi, n) => (
            format!(
                "Invalid '{field}': value above maximum. Expected a value <= {hi}, but got {n} instead."
            ),
            "above_max_value",
        ),
        Breach::Empty => (
            format!(
                "Invalid '{field}': empty array. Expected an array with minimum length 1, but got an empty array instead."
            ),
            "empty_array",
        ),
    };
    ApiError::invalid(message).param(field).code(code)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn each_table_catches_missing_types_ranges_and_empties() {
        let ok = json!({"model":"m","messages":[{"role":"user","content":"hi"}],"max_tokens":5});
        for table in [OPENAI, ANTHROPIC, OLLAMA_CHAT] {
            assert_eq!(check(&ok, table), None);
        }
        assert_eq!(
            check(&json!({"model":"m","messages":[]}), OPENAI),
            Some(("messages", Breach::Empty))
        );
        assert_eq!(
            check(&json!({"model":"m","messages":[{}]}), ANTHROPIC),
            Some(("max_tokens", Breach::Missing))
        );
        let hot = json!({"model":"m","messages":[{}],"max_tokens":5,"temperature":1.5});
        assert_eq!(check(&hot, OPENAI), None);
        assert_eq!(
            check(&hot, ANTHROPIC),
            Some(("temperature", Breach::Range(0.0, 1.0, 1.5)))
        );
        let typed = json!({"model":"m","messages":"hi"});
        assert!(matches!(
            check(&typed, OLLAMA_CHAT),
            Some(("messages", Breach::Type(Want::Arr, "string")))
        ));
    }

    #[test]
    fn refusals_follow_each_dialects_wording() {
        let e = refusal(DialectKind::Openai, "n", &Breach::Range(1.0, 128.0, 0.0));
        assert_eq!((e.status, e.param.as_deref()), (400, Some("n")));
        let e = refusal(DialectKind::Anthropic, "max_tokens", &Breach::Missing);
        assert_eq!(e.message, "max_tokens: Field required");
        let e = refusal(DialectKind::Ollama, "model", &Breach::Missing);
        assert_eq!(e.message, "model is required");
    }
}

//! The tool-calling part of the suite model: the tools a request offers, its tool choice, the
//! assistant turns' tool calls and the tool results, as written in a suite. The checks and the
//! conversion into the neutral request are in `tools.rs`.

use std::fmt;

use serde::{Deserialize, Deserializer};
use serde_json::Value;

use crate::expect::spec::Schema;

/// A tool offered to the model: `{name, description, parameters, strict}`.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ToolSpec {
    /// `[a-zA-Z0-9_-]{1,64}`: what every dialect accepts.
    #[schemars(regex(pattern = r"^[a-zA-Z0-9_-]{1,64}$"))]
    pub name: String,
    /// What the tool does, for the model.
    #[serde(default)]
    pub description: Option<String>,
    /// JSON Schema of the arguments (`type: object`); none accepts any arguments object.
    #[serde(default)]
    pub parameters: Option<Schema>,
    /// Ask for strict schema adherence (OpenAI `strict`, Anthropic `strict`; Ollama has none).
    #[serde(default)]
    pub strict: Option<bool>,
}

/// `tool_choice`: `auto`, `none`, `required`, or `{name: tool}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ToolChoiceSpec {
    /// The model decides.
    Auto,
    /// No tool may be called.
    None,
    /// Some tool must be called.
    Required,
    /// This tool must be called.
    Named(String),
}

impl<'de> Deserialize<'de> for ToolChoiceSpec {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = ToolChoiceSpec;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("`auto`, `none`, `required` or `{name: tool}`")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<ToolChoiceSpec, E> {
                match v {
                    "auto" => Ok(ToolChoiceSpec::Auto),
                    "none" => Ok(ToolChoiceSpec::None),
                    "required" => Ok(ToolChoiceSpec::Required),
                    other => Err(E::unknown_variant(other, &["auto", "none", "required"])),
                }
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<ToolChoiceSpec, A::Error> {
                let key: String = map
                    .next_key()?
                    .ok_or_else(|| serde::de::Error::custom("empty tool_choice"))?;
                if key != "name" {
                    return Err(serde::de::Error::unknown_field(&key, &["name"]));
                }
                let name: String = map.next_value()?;
                if let Some(extra) = map.next_key::<String>()? {
                    return Err(serde::de::Error::unknown_field(&extra, &[]));
                }
                Ok(ToolChoiceSpec::Named(name))
            }
        }
        d.deserialize_any(V)
    }
}

/// One call of an assistant turn in the history: `{id, name, arguments}`.
#[derive(Debug, Clone, PartialEq, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ToolCallSpec {
    /// The call id a later `tool_result` answers (sent as OpenAI's `id`, Anthropic's
    /// `tool_use.id`, Ollama's `id`).
    pub id: String,
    /// The tool called; one of the request's `tools`.
    pub name: String,
    /// The arguments, a mapping (OpenAI gets it as a JSON string).
    #[serde(default = "empty_object")]
    pub arguments: Value,
}

fn empty_object() -> Value {
    Value::Object(Default::default())
}

/// A tool result turn: `{call_id, content, is_error}`.
#[derive(Debug, Clone, PartialEq, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ToolResultSpec {
    /// The id of the earlier call it answers.
    pub call_id: String,
    /// What the tool returned: text, or any YAML value, sent as its JSON text.
    pub content: Value,
    /// The tool failed (Anthropic `is_error`; the others have no such flag and get only the
    /// content).
    #[serde(default)]
    pub is_error: bool,
}

impl ToolResultSpec {
    /// The content as sent: text as is, anything else as compact JSON.
    pub fn text(&self) -> String {
        match &self.content {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        }
    }
}

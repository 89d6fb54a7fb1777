//! Instances of a JSON Schema: the smallest value that validates, with strings taken from the
//! prompt where it offers a fitting one (an enum value it mentions, a quoted text, a name).

use std::sync::OnceLock;

use regex::Regex;
use serde_json::{Map, Value, json};

/// What the prompt offers for string values.
#[derive(Debug, Default, Clone)]
pub(super) struct Hints {
    /// Words of the prompt, lower-cased, for picking enum values.
    pub words: Vec<String>,
    /// Capitalised words that don't start a sentence (names, places).
    pub names: Vec<String>,
    /// Text in double quotes.
    pub quoted: Option<String>,
}

impl Hints {
    /// Hints read from `prompt`.
    pub(super) fn from_prompt(prompt: &str) -> Hints {
        static QUOTED: OnceLock<Regex> = OnceLock::new();
        let quoted = QUOTED.get_or_init(|| Regex::new(r#""([^"]+)""#).expect("quoted regex"));
        let mut names = Vec::new();
        let mut sentence_start = true;
        for w in prompt.split_whitespace() {
            let bare = w.trim_matches(|c: char| !c.is_alphanumeric());
            if !sentence_start
                && bare.chars().next().is_some_and(char::is_uppercase)
                && bare.chars().all(char::is_alphabetic)
                && !names.iter().any(|n| n == bare)
            {
                names.push(bare.to_string());
            }
            sentence_start = w.ends_with(['.', '?', '!', ':']);
        }
        Hints {
            words: prompt
                .split(|c: char| !c.is_alphanumeric())
                .filter(|w| !w.is_empty())
                .map(str::to_lowercase)
                .collect(),
            names,
            quoted: quoted.captures(prompt).map(|c| c[1].to_string()),
        }
    }

    /// These hints with `name` as the only name (one call of a parallel set).
    pub(super) fn with_name(&self, name: &str) -> Hints {
        Hints {
            names: vec![name.to_string()],
            ..self.clone()
        }
    }
}

/// A value valid against `schema`, filled from `hints`. `depth` stops runaway recursion.
pub(super) fn instance(schema: &Value, hints: &Hints) -> Value {
    build(schema, "", hints, 0)
}

fn build(schema: &Value, key: &str, hints: &Hints, depth: usize) -> Value {
    if depth > 16 {
        return Value::Null;
    }
    if let Some(c) = schema.get("const") {
        return c.clone();
    }
    if let Some(values) = schema.get("enum").and_then(Value::as_array) {
        let mentioned = values.iter().find(|v| {
            v.as_str()
                .is_some_and(|s| hints.words.iter().any(|w| *w == s.to_lowercase()))
        });
        return mentioned.or(values.first()).cloned().unwrap_or(Value::Null);
    }
    for combo in ["anyOf", "oneOf", "allOf"] {
        if let Some(first) = schema
            .get(combo)
            .and_then(Value::as_array)
            .and_then(|a| a.first())
        {
            return build(first, key, hints, depth + 1);
        }
    }
    match type_of(schema) {
        "object" => object(schema, hints, depth),
        "array" => {
            let n = schema.get("minItems").and_then(Value::as_u64).unwrap_or(0);
            let item = schema.get("items").cloned().unwrap_or(json!({}));
            Value::Array(
                (0..n)
                    .map(|_| build(&item, key, hints, depth + 1))
                    .collect(),
            )
        }
        "integer" => json!(number(schema).round() as i64),
        "number" => json!(number(schema)),
        "boolean" => json!(true),
        "null" => Value::Null,
        _ => json!(string(schema, key, hints)),
    }
}

fn type_of(schema: &Value) -> &str {
    match schema.get("type") {
        Some(Value::String(t)) => t,
        Some(Value::Array(ts)) => ts
            .iter()
            .filter_map(Value::as_str)
            .find(|t| *t != "null")
            .unwrap_or("null"),
        _ if schema.get("properties").is_some() => "object",
        _ => "string",
    }
}

fn object(schema: &Value, hints: &Hints, depth: usize) -> Value {
    let mut out = Map::new();
    let props = schema.get("properties").and_then(Value::as_object);
    let required: Vec<&str> = schema
        .get("required")
        .and_then(Value::as_array)
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    if let Some(props) = props {
        for (name, sub) in props {
            if required.contains(&name.as_str()) {
                out.insert(name.clone(), build(sub, name, hints, depth + 1));
            }
        }
    }
    Value::Object(out)
}

fn number(schema: &Value) -> f64 {
    let min = schema.get("minimum").and_then(Value::as_f64);
    let max = schema.get("maximum").and_then(Value::as_f64);
    match (min, max) {
        (Some(lo), _) => lo,
        (None, Some(hi)) if hi < 0.0 => hi,
        _ => 0.0,
    }
}

fn string(schema: &Value, key: &str, hints: &Hints) -> String {
    let textual = ["text", "message", "content", "body"].contains(&key);
    let picked = match (&hints.quoted, hints.names.first()) {
        (Some(q), _) if textual => q.clone(),
        (_, Some(name)) if !textual => name.clone(),
        (Some(q), None) => q.clone(),
        _ => "example".to_string(),
    };
    let min = schema.get("minLength").and_then(Value::as_u64).unwrap_or(0) as usize;
    let max = schema
        .get("maxLength")
        .and_then(Value::as_u64)
        .map(|m| m as usize);
    let mut s = picked;
    while s.chars().count() < min {
        s.push('x');
    }
    if let Some(max) = max {
        s = s.chars().take(max).collect();
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn valid(schema: &Value, v: &Value) -> bool {
        jsonschema::validator_for(schema).unwrap().is_valid(v)
    }

    #[test]
    fn instances_validate_and_use_the_prompt() {
        let schema = json!({"type":"object","properties":{"city":{"type":"string"},
            "unit":{"type":"string","enum":["celsius","fahrenheit"]}},
            "required":["city","unit"],"additionalProperties":false});
        let h = Hints::from_prompt("What is the weather in Paris right now? Use fahrenheit.");
        let v = instance(&schema, &h);
        assert!(valid(&schema, &v), "{v}");
        assert_eq!(v, json!({"city":"Paris","unit":"fahrenheit"}));
        let nested = json!({"type":"object","properties":{"xs":{"type":"array","minItems":2,
            "items":{"type":"object","properties":{"n":{"type":"integer","minimum":1000}},
            "required":["n"]}},"s":{"type":"string","minLength":12}},"required":["xs","s"]});
        let v = instance(&nested, &Hints::default());
        assert!(valid(&nested, &v), "{v}");
    }

    #[test]
    fn quoted_text_goes_to_textual_fields() {
        let h = Hints::from_prompt(r#"Send Ana this exact message: "Grüße ☔""#);
        let schema = json!({"type":"object","properties":{"recipient":{"type":"string"},
            "text":{"type":"string"}},"required":["recipient","text"]});
        assert_eq!(
            instance(&schema, &h),
            json!({"recipient":"Ana","text":"Grüße ☔"})
        );
    }
}

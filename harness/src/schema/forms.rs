//! Schemas for the suite types whose YAML form the derive cannot see: they are read by
//! hand-written `Deserialize` impls or through `try_from` a raw shape, so each schema here
//! spells out the forms that reader accepts (and only those), alternative by alternative.

use std::borrow::Cow;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};

use crate::expect::spec::{Bounds, NamesExpect, OneOrMany, Pattern, Schema as JsonSchemaSource};
use crate::suite::model::{FormatSpec, ImageSpec, MessageSpec, PartSpec};
use crate::suite::tools::{ToolCallSpec, ToolChoiceSpec, ToolResultSpec};

/// A closed object: exactly `required`, plus the optional `props` not listed there.
fn closed(props: serde_json::Value, required: &[&str]) -> Schema {
    json_schema!({
        "type": "object",
        "properties": props,
        "required": required,
        "additionalProperties": false,
    })
}

impl JsonSchema for MessageSpec {
    fn schema_name() -> Cow<'static, str> {
        "Message".into()
    }

    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        let text = json_schema!({"type": "string"});
        let parts = generator.subschema_for::<Vec<PartSpec>>();
        let calls = generator.subschema_for::<Vec<ToolCallSpec>>();
        let result = generator.subschema_for::<ToolResultSpec>();
        let mut forms: Vec<Schema> = ["user", "assistant", "system", "developer"]
            .into_iter()
            .map(|role| closed(serde_json::json!({ role: text }), &[role]))
            .collect();
        forms.push(closed(
            serde_json::json!({"role": text, "content": text}),
            &["role", "content"],
        ));
        forms.push(closed(
            serde_json::json!({"role": text, "parts": {"allOf": [parts], "minItems": 1}}),
            &["role", "parts"],
        ));
        forms.push(closed(
            serde_json::json!({"tool_calls": {"allOf": [calls], "minItems": 1}, "assistant": text}),
            &["tool_calls"],
        ));
        forms.push(closed(
            serde_json::json!({"tool_result": result}),
            &["tool_result"],
        ));
        json_schema!({
            "description": "A message: `{user|assistant|system|developer: text}`, `{role, content}`, `{role, parts: [...]}`, an assistant turn that called tools (`{tool_calls: [...]}`, with an optional `assistant: text`), or a tool result (`{tool_result: {call_id, content}}`).",
            "oneOf": forms,
        })
    }
}

impl JsonSchema for PartSpec {
    fn schema_name() -> Cow<'static, str> {
        "Part".into()
    }

    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        let image = generator.subschema_for::<ImageSpec>();
        json_schema!({
            "description": "One part of a message's content: `{text: ...}` or `{image: {media_type, data}}`.",
            "oneOf": [
                closed(serde_json::json!({"text": {"type": "string"}}), &["text"]),
                closed(serde_json::json!({"image": image}), &["image"]),
            ],
        })
    }
}

impl JsonSchema for FormatSpec {
    fn schema_name() -> Cow<'static, str> {
        "ResponseFormat".into()
    }

    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        let schema = generator.subschema_for::<JsonSchemaSource>();
        let spec = closed(
            serde_json::json!({
                "name": {"type": "string"},
                "schema": schema,
                "strict": {"type": "boolean", "default": false},
            }),
            &["name", "schema"],
        );
        json_schema!({
            "description": "The output format: `text`, `json_object`, or `{json_schema: {name, schema, strict}}`.",
            "oneOf": [
                {"type": "string", "enum": ["text", "json_object"]},
                closed(serde_json::json!({"json_schema": spec}), &["json_schema"]),
            ],
        })
    }
}

impl JsonSchema for ToolChoiceSpec {
    fn schema_name() -> Cow<'static, str> {
        "ToolChoice".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "Whether and which tool must be called: `auto`, `none`, `required` or `{name: tool}`.",
            "oneOf": [
                {"type": "string", "enum": ["auto", "none", "required"]},
                closed(serde_json::json!({"name": {"type": "string"}}), &["name"]),
            ],
        })
    }
}

impl JsonSchema for NamesExpect {
    fn schema_name() -> Cow<'static, str> {
        "ToolNames".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        let names = serde_json::json!({"type": "array", "items": {"type": "string"}});
        json_schema!({
            "description": "The called tools' names: a list (in this order, one per call) or `{any_order: [...]}` (the set of names called).",
            "oneOf": [names, closed(serde_json::json!({"any_order": names}), &["any_order"])],
        })
    }
}

impl<T: JsonSchema> JsonSchema for OneOrMany<T> {
    fn schema_name() -> Cow<'static, str> {
        format!("OneOrMany_{}", T::schema_name()).into()
    }

    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        let one = generator.subschema_for::<T>();
        json_schema!({
            "description": "One value, or a list of accepted values.",
            "anyOf": [one, {"type": "array", "items": one}],
        })
    }
}

impl JsonSchema for Bounds {
    fn schema_name() -> Cow<'static, str> {
        "Bounds".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        let bound = serde_json::json!({"type": "integer", "minimum": 0});
        json_schema!({
            "description": "Inclusive bounds: a number (exactly that) or `{min, max}` (either may be left out).",
            "oneOf": [bound, closed(serde_json::json!({"min": bound, "max": bound}), &[])],
        })
    }
}

impl JsonSchema for Pattern {
    fn inline_schema() -> bool {
        true
    }

    fn schema_name() -> Cow<'static, str> {
        "Pattern".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        // Not `format: regex`, which means ECMA-262: the loader compiles Rust's regex syntax
        // (`\A`, `\z`, `(?s:...)`), which validators and editors would flag.
        json_schema!({
            "description": "A regular expression in the syntax of Rust's regex crate, searched (not anchored).",
            "type": "string",
        })
    }
}

impl JsonSchema for JsonSchemaSource {
    fn inline_schema() -> bool {
        true
    }

    fn schema_name() -> Cow<'static, str> {
        "JsonSchema".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        // Compiled by the loader, which reports a schema it cannot compile at its line.
        json_schema!({
            "description": "A JSON Schema (an object, or `true`/`false`).",
            "type": ["object", "boolean"],
        })
    }
}

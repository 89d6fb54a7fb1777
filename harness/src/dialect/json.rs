//! Small helpers for contract checks: each reads a field, and records a violation naming the
//! field's path when it is missing or of the wrong type.

use serde_json::Value;

use crate::neutral::Reply;

/// Collects violations under a path prefix.
pub(crate) struct Check<'a> {
    pub(crate) violations: &'a mut Vec<String>,
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

impl Check<'_> {
    pub(crate) fn fail(&mut self, msg: String) {
        self.violations.push(msg);
    }

    fn get<'v>(
        &mut self,
        obj: &'v Value,
        path: &str,
        field: &str,
        want: &str,
    ) -> Option<&'v Value> {
        match obj.get(field) {
            None => {
                self.fail(format!(
                    "`{}` is missing (required {want})",
                    join(path, field)
                ));
                None
            }
            Some(v) => Some(v),
        }
    }

    /// A required string.
    pub(crate) fn string<'v>(
        &mut self,
        obj: &'v Value,
        path: &str,
        field: &str,
    ) -> Option<&'v str> {
        let v = self.get(obj, path, field, "string")?;
        match v.as_str() {
            Some(s) => Some(s),
            None => {
                self.fail(format!(
                    "`{}` must be a string, got {}",
                    join(path, field),
                    type_name(v)
                ));
                None
            }
        }
    }

    /// A required string or null.
    pub(crate) fn string_or_null<'v>(
        &mut self,
        obj: &'v Value,
        path: &str,
        field: &str,
    ) -> Option<&'v str> {
        let v = self.get(obj, path, field, "string or null")?;
        match v {
            Value::String(s) => Some(s),
            Value::Null => None,
            other => {
                self.fail(format!(
                    "`{}` must be a string or null, got {}",
                    join(path, field),
                    type_name(other)
                ));
                None
            }
        }
    }

    /// A required non-negative integer.
    pub(crate) fn uint(&mut self, obj: &Value, path: &str, field: &str) -> Option<u64> {
        let v = self.get(obj, path, field, "integer")?;
        match v.as_u64() {
            Some(n) => Some(n),
            None => {
                self.fail(format!(
                    "`{}` must be a non-negative integer, got {}",
                    join(path, field),
                    type_name(v)
                ));
                None
            }
        }
    }

    /// An optional non-negative integer: absent is fine, the wrong type is not.
    pub(crate) fn opt_uint(&mut self, obj: &Value, path: &str, field: &str) -> Option<u64> {
        match obj.get(field) {
            None | Some(Value::Null) => None,
            Some(_) => self.uint(obj, path, field),
        }
    }

    /// A required array.
    pub(crate) fn array<'v>(
        &mut self,
        obj: &'v Value,
        path: &str,
        field: &str,
    ) -> Option<&'v Vec<Value>> {
        let v = self.get(obj, path, field, "array")?;
        match v.as_array() {
            Some(a) => Some(a),
            None => {
                self.fail(format!(
                    "`{}` must be an array, got {}",
                    join(path, field),
                    type_name(v)
                ));
                None
            }
        }
    }

    /// A required object.
    pub(crate) fn object<'v>(
        &mut self,
        obj: &'v Value,
        path: &str,
        field: &str,
    ) -> Option<&'v Value> {
        let v = self.get(obj, path, field, "object")?;
        if v.is_object() {
            Some(v)
        } else {
            self.fail(format!(
                "`{}` must be an object, got {}",
                join(path, field),
                type_name(v)
            ));
            None
        }
    }

    /// A required boolean.
    pub(crate) fn boolean(&mut self, obj: &Value, path: &str, field: &str) -> Option<bool> {
        let v = self.get(obj, path, field, "boolean")?;
        match v.as_bool() {
            Some(b) => Some(b),
            None => {
                self.fail(format!(
                    "`{}` must be a boolean, got {}",
                    join(path, field),
                    type_name(v)
                ));
                None
            }
        }
    }

    /// A required string constant.
    pub(crate) fn constant(&mut self, obj: &Value, path: &str, field: &str, want: &str) {
        if let Some(s) = self.string(obj, path, field)
            && s != want
        {
            self.fail(format!(
                "`{}` must be {want:?}, got {s:?}",
                join(path, field)
            ));
        }
    }
}

pub(crate) fn join(path: &str, field: &str) -> String {
    if path.is_empty() {
        field.to_string()
    } else {
        format!("{path}.{field}")
    }
}

/// An optional string field.
pub(crate) fn opt_str(v: &Value, field: &str) -> Option<String> {
    v.get(field).and_then(Value::as_str).map(str::to_string)
}

/// A reply with `status` and `headers` and the body parsed into `raw`, ready for a dialect's
/// decoder; when the body is not JSON, the reply as it stands (with that breach) is the error.
pub(crate) fn parse_reply(
    status: u16,
    headers: &[(String, String)],
    body: &[u8],
) -> Result<Reply, Box<Reply>> {
    let mut reply = Reply {
        status,
        headers: headers.to_vec(),
        ..Reply::default()
    };
    reply.raw = match serde_json::from_slice::<Value>(body) {
        Ok(v) => v,
        Err(e) => {
            let preview: String = String::from_utf8_lossy(body).chars().take(120).collect();
            reply
                .violations
                .push(format!("body is not JSON ({e}): {preview:?}"));
            return Err(Box::new(reply));
        }
    };
    Ok(reply)
}

//! Request-body validation that answers the way FastAPI + pydantic v2 do: every error found,
//! in field order, as `{"type", "loc", "msg", "input"[, "ctx"]}` items of a 422 `detail`.
//!
//! Booleans follow pydantic's lax mode (`"yes"`, `1` are accepted), strings do not coerce.

pub use crate::plan::email_problem;
use serde_json::{Map, Value, json};

/// The pattern pydantic is given for `numberToCall`, quoted verbatim in its error message.
pub const E164_PATTERN: &str = r"^\+[1-9]\d{6,14}$";

/// What the call endpoint needs from a valid body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallFields {
    pub number: String,
    pub create_if_not_exists: bool,
}

/// Validates a `POST .../action/call` body. On success, returns the parsed body (kept by
/// the sandbox) with the fields it acts on.
pub fn validate_call(raw: &[u8]) -> Result<(Value, CallFields), Vec<Value>> {
    let body = parse_object(raw)?;
    let Value::Object(fields) = &body else {
        return Err(vec![not_an_object(&body)]);
    };
    let mut errors = Vec::new();
    let number = match fields.get("numberToCall") {
        None => {
            errors.push(missing("numberToCall", &body));
            None
        }
        Some(Value::String(number)) if is_e164(number) => Some(number.clone()),
        Some(Value::String(number)) => {
            errors.push(item(
                "string_pattern_mismatch",
                &["numberToCall"],
                format!("String should match pattern '{E164_PATTERN}'"),
                &Value::String(number.clone()),
                Some(json!({ "pattern": E164_PATTERN })),
            ));
            None
        }
        Some(other) => {
            errors.push(string_type(&["numberToCall"], other));
            None
        }
    };
    for name in ["firstName", "lastName"] {
        if let Some(value) = present(fields, name)
            && !value.is_string()
        {
            errors.push(string_type(&[name], value));
        }
    }
    if let Some(value) = present(fields, "email") {
        match value.as_str().map(email_problem) {
            None => errors.push(string_type(&["email"], value)),
            Some(Some(reason)) => errors.push(item(
                "value_error",
                &["email"],
                format!("value is not a valid email address: {reason}"),
                value,
                Some(json!({ "reason": reason })),
            )),
            Some(None) => {}
        }
    }
    if let Some(value) = present(fields, "contactUuid") {
        check_uuid("contactUuid", value, &mut errors);
    }
    let mut create_if_not_exists = true;
    for name in ["createIfNotExists", "updateExisting"] {
        if let Some(value) = present(fields, name) {
            match lax_bool(value) {
                Ok(flag) if name == "createIfNotExists" => create_if_not_exists = flag,
                Ok(_) => {}
                Err(error) => errors.push(bool_error(name, value, error)),
            }
        }
    }
    if let Some(value) = present(fields, "aiSettingsTemplateId") {
        check_uuid("aiSettingsTemplateId", value, &mut errors);
    }
    if let Some(value) = present(fields, "promptTags") {
        match value {
            Value::Object(tags) => {
                for (key, tag) in tags {
                    if !tag.is_string() {
                        errors.push(string_type(&["promptTags", key], tag));
                    }
                }
            }
            other => errors.push(dict_type("promptTags", other)),
        }
    }
    if let Some(value) = present(fields, "metadata")
        && !value.is_object()
    {
        errors.push(dict_type("metadata", value));
    }
    match number {
        Some(number) if errors.is_empty() => Ok((
            body,
            CallFields {
                number,
                create_if_not_exists,
            },
        )),
        _ => Err(errors),
    }
}

/// Validates a `POST /auth/v1/api-key/auth` body; returns `(clientId, clientSecret)`.
pub fn validate_auth(raw: &[u8]) -> Result<(String, String), Vec<Value>> {
    let body = parse_object(raw)?;
    let Value::Object(fields) = &body else {
        return Err(vec![not_an_object(&body)]);
    };
    let mut errors = Vec::new();
    let mut take = |name: &str| match fields.get(name) {
        Some(Value::String(text)) => Some(text.clone()),
        Some(other) => {
            errors.push(string_type(&[name], other));
            None
        }
        None => {
            errors.push(missing(name, &body));
            None
        }
    };
    let (id, secret) = (take("clientId"), take("clientSecret"));
    match (id, secret) {
        (Some(id), Some(secret)) => Ok((id, secret)),
        _ => Err(errors),
    }
}

/// The 422 body FastAPI sends for these errors.
pub fn detail(errors: Vec<Value>) -> Value {
    json!({ "detail": errors })
}

/// `^\+[1-9]\d{6,14}$` without a regex engine.
pub fn is_e164(number: &str) -> bool {
    let Some(digits) = number.strip_prefix('+') else {
        return false;
    };
    (7..=15).contains(&digits.len())
        && digits.bytes().all(|b| b.is_ascii_digit())
        && !digits.starts_with('0')
}

fn parse_object(raw: &[u8]) -> Result<Value, Vec<Value>> {
    if raw.iter().all(u8::is_ascii_whitespace) {
        return Err(vec![json!({
            "type": "missing", "loc": ["body"], "msg": "Field required", "input": null,
        })]);
    }
    serde_json::from_slice(raw).map_err(|error| {
        vec![json!({
            "type": "json_invalid",
            "loc": ["body", byte_offset(raw, error.line(), error.column())],
            "msg": "JSON decode error",
            "input": {},
            "ctx": { "error": error.to_string() },
        })]
    })
}

/// serde_json reports 1-based line/column; FastAPI reports the byte position.
fn byte_offset(raw: &[u8], line: usize, column: usize) -> usize {
    let line_start: usize = raw
        .split_inclusive(|&b| b == b'\n')
        .take(line.saturating_sub(1))
        .map(<[u8]>::len)
        .sum();
    (line_start + column.saturating_sub(1)).min(raw.len())
}

/// A field that is present and not `null` (pydantic's `Optional[...] = None`).
fn present<'a>(fields: &'a Map<String, Value>, name: &str) -> Option<&'a Value> {
    fields.get(name).filter(|value| !value.is_null())
}

fn lax_bool(value: &Value) -> Result<bool, &'static str> {
    match value {
        Value::Bool(flag) => Ok(*flag),
        Value::Number(n) if n.as_f64() == Some(0.0) => Ok(false),
        Value::Number(n) if n.as_f64() == Some(1.0) => Ok(true),
        Value::Number(_) => Err("bool_parsing"),
        Value::String(text) => match text.to_ascii_lowercase().as_str() {
            "0" | "off" | "f" | "false" | "n" | "no" => Ok(false),
            "1" | "on" | "t" | "true" | "y" | "yes" => Ok(true),
            _ => Err("bool_parsing"),
        },
        _ => Err("bool_type"),
    }
}

fn bool_error(name: &str, value: &Value, kind: &'static str) -> Value {
    let msg = if kind == "bool_parsing" {
        "Input should be a valid boolean, unable to interpret input"
    } else {
        "Input should be a valid boolean"
    };
    item(kind, &[name], msg.to_owned(), value, None)
}

fn check_uuid(name: &str, value: &Value, errors: &mut Vec<Value>) {
    match value {
        Value::String(text) => {
            if let Err(error) = uuid::Uuid::parse_str(text) {
                // pydantic-core parses with this same crate and quotes its error verbatim.
                errors.push(item(
                    "uuid_parsing",
                    &[name],
                    format!("Input should be a valid UUID, {error}"),
                    value,
                    Some(json!({ "error": error.to_string() })),
                ));
            }
        }
        other => errors.push(item(
            "uuid_type",
            &[name],
            "UUID input should be a string, bytes or UUID object".to_owned(),
            other,
            None,
        )),
    }
}

fn missing(name: &str, body: &Value) -> Value {
    item("missing", &[name], "Field required".to_owned(), body, None)
}

fn not_an_object(body: &Value) -> Value {
    json!({
        "type": "model_attributes_type",
        "loc": ["body"],
        "msg": "Input should be a valid dictionary or object to extract fields from",
        "input": body,
    })
}

fn string_type(path: &[&str], value: &Value) -> Value {
    item(
        "string_type",
        path,
        "Input should be a valid string".to_owned(),
        value,
        None,
    )
}

fn dict_type(name: &str, value: &Value) -> Value {
    item(
        "dict_type",
        &[name],
        "Input should be a valid dictionary".to_owned(),
        value,
        None,
    )
}

fn item(kind: &str, path: &[&str], msg: String, input: &Value, ctx: Option<Value>) -> Value {
    let loc: Vec<&str> = std::iter::once("body")
        .chain(path.iter().copied())
        .collect();
    let mut error = json!({ "type": kind, "loc": loc, "msg": msg, "input": input });
    if let (Some(ctx), Value::Object(map)) = (ctx, &mut error) {
        map.insert("ctx".to_owned(), ctx);
    }
    error
}

#[cfg(test)]
#[path = "validate_tests.rs"]
mod tests;

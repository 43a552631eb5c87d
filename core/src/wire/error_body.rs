//! A total parser for provider error bodies (Q35): every shape in the reference, and anything else.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The longest raw body excerpt kept in an error, in bytes.
pub const SNIPPET_LIMIT: usize = 2048;

/// What a provider said about a failure.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ErrorBody {
    /// The human-readable message (an object `message`, as Mistral's 422 has, is kept as its JSON text).
    pub message: String,
    /// `type` (`invalid_request_error`, `insufficient_quota`, `tokens`, `server_error`...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// `code`, a string or a number turned into text (`rate_limit_exceeded`, `"3280"`, `402`...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    /// `param`, when the provider names the offending field.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub param: Option<String>,
    /// Other fields of the error object (`metadata`, `failed_generation`, `status`, `details`...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub details: Option<Value>,
}

impl ErrorBody {
    /// Parses any body. Tries, in order (Q35): `error.message` (string or object), a top-level `message`
    /// (vLLM < 0.10.1), `error` as a string (Ollama, xAI), the array form (Gemini), and finally the raw body,
    /// truncated to [`SNIPPET_LIMIT`] bytes (an HTML 502 from a CDN...). Never fails.
    pub fn parse(body: &[u8]) -> ErrorBody {
        match serde_json::from_slice::<Value>(body) {
            Ok(value) => Self::from_value(&value).unwrap_or_else(|| ErrorBody::raw(body)),
            Err(_) => ErrorBody::raw(body),
        }
    }

    /// Reads an already-decoded JSON value (e.g. the `error` of an in-band stream event); `None` when it has
    /// no recognisable message.
    pub fn from_value(value: &Value) -> Option<ErrorBody> {
        match value {
            Value::Array(items) => items.iter().find_map(Self::from_value),
            Value::Object(map) => {
                if let Some(error) = map.get("error") {
                    match error {
                        Value::Object(inner) => {
                            let mut body = ErrorBody {
                                message: inner.get("message").map(text_of).map(bounded).unwrap_or_default(),
                                kind: inner.get("type").and_then(scalar),
                                code: inner.get("code").and_then(scalar),
                                param: inner.get("param").and_then(scalar),
                                details: details(inner, &["message", "type", "code", "param"]),
                            };
                            if body.message.is_empty() {
                                // `{"success":false,"error":{"code":"INTERNAL_SERVER_ERROR","status":500}}`
                                body.message = map
                                    .get("message")
                                    .map(text_of)
                                    .filter(|m| !m.is_empty())
                                    .or_else(|| body.code.clone())
                                    .map_or_else(|| bounded(error.to_string()), bounded);
                            }
                            return Some(body);
                        }
                        Value::String(message) => {
                            // Ollama `{"error":"..."}`, xAI `{"code":"...","error":"..."}`.
                            return Some(ErrorBody {
                                message: bounded(message.clone()),
                                kind: map.get("type").and_then(scalar),
                                code: map.get("code").and_then(scalar),
                                param: map.get("param").and_then(scalar),
                                details: details(map, &["error", "type", "code", "param"]),
                            });
                        }
                        _ => {}
                    }
                }
                // vLLM before v0.10.1: the error object is the body.
                let message = map.get("message").map(text_of).map(bounded)?;
                Some(ErrorBody {
                    message,
                    kind: map.get("type").and_then(scalar),
                    code: map.get("code").and_then(scalar),
                    param: map.get("param").and_then(scalar),
                    details: details(map, &["message", "type", "code", "param", "object"]),
                })
            }
            _ => None,
        }
    }

    fn raw(body: &[u8]) -> ErrorBody {
        ErrorBody { message: snippet(body), ..ErrorBody::default() }
    }
}

fn text_of(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

fn scalar(value: &Value) -> Option<String> {
    match value {
        Value::String(s) if !s.is_empty() => Some(bounded(s.clone())),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn details(map: &serde_json::Map<String, Value>, known: &[&str]) -> Option<Value> {
    let rest: serde_json::Map<String, Value> =
        map.iter().filter(|(k, _)| !known.contains(&k.as_str())).map(|(k, v)| (k.clone(), v.clone())).collect();
    (!rest.is_empty()).then_some(Value::Object(rest))
}

/// `text` cut at [`SNIPPET_LIMIT`] bytes on a character boundary, with `…` when something was cut: what a
/// provider says goes into error messages, and a 32 MiB message must not.
pub(crate) fn bounded(mut text: String) -> String {
    if text.len() > SNIPPET_LIMIT {
        let cut = floor_char_boundary(&text, SNIPPET_LIMIT);
        text.truncate(cut);
        text.push('…');
    }
    text
}

/// The largest character boundary of `text` at or below `at`.
pub(crate) fn floor_char_boundary(text: &str, at: usize) -> usize {
    if at >= text.len() {
        return text.len();
    }
    (0..=at).rev().find(|&i| text.is_char_boundary(i)).unwrap_or(0)
}

/// The body as text, cut at [`SNIPPET_LIMIT`] bytes on a character boundary, invalid UTF-8 replaced.
pub fn snippet(body: &[u8]) -> String {
    let cut = &body[..body.len().min(SNIPPET_LIMIT)];
    let mut text = String::from_utf8_lossy(cut).into_owned();
    if body.len() > SNIPPET_LIMIT {
        // A multi-byte character cut in half shows up as U+FFFD at the end: drop it.
        if text.ends_with('\u{FFFD}') {
            text.pop();
        }
        text.push('…');
    }
    text
}

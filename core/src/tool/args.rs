//! Decoding the model's arguments text into a tool's argument type, with errors the model can act on.

use serde::de::DeserializeOwned;
use serde_json::Value;
use serde_path_to_error::Segment;

use super::ToolError;

/// Decodes the model's raw arguments text into `T`.
///
/// - `""`, whitespace, `null` and `[]` mean "no arguments" and decode like `{}` (Q13).
/// - A `null` member of an object counts as absent: strict mode makes every optional property nullable, and
///   a parameter with `#[serde(default)]` then gets its default rather than an error.
/// - Arguments double-encoded as a JSON string holding an object are unwrapped once.
/// - On failure the [`ToolError::InvalidArguments`] message names the argument and what was expected, e.g.
///   ``missing argument `city` `` or ``` `unit`: unknown variant `kelvin`, expected `celsius` or `fahrenheit` ```,
///   so the model can correct its call (Q14).
///
/// ```
/// #[derive(Debug, serde::Deserialize)]
/// struct Args {
///     city: String,
///     days: Option<u8>,
/// }
///
/// let args: Args = toolsmith_core::tool::decode_arguments(r#"{"city":"Paris"}"#).unwrap();
/// assert_eq!(args.city, "Paris");
///
/// let error = toolsmith_core::tool::decode_arguments::<Args>(r#"{"city":"Paris","days":"3"}"#).unwrap_err();
/// assert_eq!(error.to_string(), r#"invalid arguments: `days`: invalid type: string "3", expected u8"#);
/// ```
pub fn decode_arguments<T: DeserializeOwned>(arguments: &str) -> Result<T, ToolError> {
    // The usual case, an object with no `null` anywhere, decodes straight from the text: the same value the
    // path below gives (it only differs on no-argument forms, nulls, double encoding and non-objects, which
    // this guard sends there), without building a `Value`. A failure is decoded again below for its message.
    let trimmed = arguments.trim_ascii_start();
    if trimmed.starts_with('{')
        && !arguments.contains("null")
        && let Ok(decoded) = serde_json::from_str(arguments)
    {
        return Ok(decoded);
    }
    let mut value = parse_arguments(arguments)?;
    drop_nulls(&mut value);
    serde_path_to_error::deserialize(value).map_err(|error| {
        let path = format_path(error.path());
        let message = error.inner().to_string();
        ToolError::InvalidArguments(describe(path.as_deref(), &message))
    })
}

/// The model's arguments text as a JSON object, untouched but for the no-argument forms (`""`, `null`, `[]`
/// give an empty object) and one level of string double-encoding (Q13): for tools that forward the arguments
/// to another program (an MCP server) instead of decoding them.
///
/// ```
/// let object = toolsmith_core::tool::arguments_object(r#"{"a":1,"b":null}"#).unwrap();
/// assert_eq!(serde_json::Value::Object(object), serde_json::json!({"a": 1, "b": null}));
/// assert!(toolsmith_core::tool::arguments_object("").unwrap().is_empty());
/// assert!(toolsmith_core::tool::arguments_object("[1]").is_err());
/// ```
pub fn arguments_object(arguments: &str) -> Result<serde_json::Map<String, Value>, ToolError> {
    match parse_arguments(arguments)? {
        Value::Object(object) => Ok(object),
        _ => Err(not_an_object("another value")),
    }
}

/// The arguments as a JSON object, normalising the no-argument forms.
fn parse_arguments(arguments: &str) -> Result<Value, ToolError> {
    let trimmed = arguments.trim();
    if trimmed.is_empty() {
        return Ok(Value::Object(Default::default()));
    }
    let value: Value = serde_json::from_str(trimmed)
        .map_err(|error| ToolError::InvalidArguments(format!("the arguments are not valid JSON ({error})")))?;
    match value {
        Value::Null => Ok(Value::Object(Default::default())),
        Value::Array(items) if items.is_empty() => Ok(Value::Object(Default::default())),
        Value::Object(_) => Ok(value),
        Value::String(inner) => match serde_json::from_str::<Value>(&inner) {
            Ok(object @ Value::Object(_)) => Ok(object),
            _ => Err(not_an_object("a string")),
        },
        Value::Array(_) => Err(not_an_object("an array")),
        Value::Bool(_) => Err(not_an_object("a boolean")),
        Value::Number(_) => Err(not_an_object("a number")),
    }
}

fn drop_nulls(value: &mut Value) {
    match value {
        Value::Object(members) => {
            members.retain(|_, member| !member.is_null());
            members.values_mut().for_each(drop_nulls);
        }
        Value::Array(items) => items.iter_mut().for_each(drop_nulls),
        _ => {}
    }
}

fn not_an_object(got: &str) -> ToolError {
    ToolError::InvalidArguments(format!("the arguments must be a JSON object with one key per argument, got {got}"))
}

/// `a.b[2].c`, or `None` for the arguments object itself.
fn format_path(path: &serde_path_to_error::Path) -> Option<String> {
    let mut out = String::new();
    for segment in path {
        match segment {
            Segment::Seq { index } => out.push_str(&format!("[{index}]")),
            Segment::Map { key } | Segment::Enum { variant: key } => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(key);
            }
            Segment::Unknown => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push('?');
            }
        }
    }
    (!out.is_empty()).then_some(out)
}

fn describe(path: Option<&str>, message: &str) -> String {
    match (path, message.strip_prefix("missing field ")) {
        (None, Some(field)) => format!("missing argument {field}"),
        (Some(path), Some(field)) => format!("`{path}`: missing field {field}"),
        (Some(path), None) => format!("`{path}`: {message}"),
        (None, None) => message.to_owned(),
    }
}

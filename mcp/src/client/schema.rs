//! Input schemas checked at connect time: an MCP server may send schemas that strict providers reject, and one
//! rejected tool fails every request of the run. What can be repaired without changing the meaning is repaired;
//! a tool whose schema cannot be sent is left out. Both are reported ([`SchemaReport`]), not discovered at the
//! first model request.

use serde_json::{Map, Value};

/// What was done to one server tool's input schema at connect time.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct SchemaReport {
    /// The tool's name on the server.
    pub tool: String,
    /// The changes made, e.g. ``added `type: object` ``; empty when the tool was left out.
    pub repairs: Vec<String>,
    /// Why the tool is not offered to the model, when its schema could not be repaired.
    pub excluded: Option<String>,
}

/// Keywords that providers refuse at the top of a function's parameters (OpenAI: "must be type object and not
/// have enum, anyOf, oneOf, allOf or not at the top level").
const TOP_LEVEL_FORBIDDEN: &[&str] = &["anyOf", "oneOf", "allOf", "enum", "not"];

/// The schema to send for a tool, with the repairs made, or why the tool cannot be offered.
pub(crate) fn repair(schema: &Map<String, Value>) -> Result<(Value, Vec<String>), String> {
    let mut schema = schema.clone();
    let mut repairs = Vec::new();
    match schema.get("type") {
        None => {
            schema.insert("type".into(), "object".into());
            repairs.push("added `type: object`".to_owned());
        }
        Some(Value::String(kind)) if kind == "object" => {}
        Some(Value::Array(kinds)) if kinds.iter().any(|kind| kind == "object") => {
            // `["object", "null"]`: the arguments are always an object.
            schema.insert("type".into(), "object".into());
            repairs.push("replaced a `type` list with `type: object`".to_owned());
        }
        Some(other) => return Err(format!("the arguments schema is not an object schema (`type`: {other})")),
    }
    if let Some(keyword) = TOP_LEVEL_FORBIDDEN.iter().find(|keyword| schema.contains_key(**keyword)) {
        return Err(format!("the arguments schema has `{keyword}` at the top level, which providers reject"));
    }
    match schema.get("properties") {
        None => {
            schema.insert("properties".into(), Value::Object(Map::new()));
            repairs.push("added empty `properties`".to_owned());
        }
        Some(Value::Object(_)) => {}
        Some(_) => return Err("the arguments schema's `properties` is not an object".to_owned()),
    }
    if let Some(required) = schema.get("required") {
        let valid = required.as_array().is_some_and(|names| names.iter().all(Value::is_string));
        if !valid {
            schema.remove("required");
            repairs.push("removed a `required` that was not a list of names".to_owned());
        }
    }
    if schema.remove("$schema").is_some() {
        // Gemini's endpoint rejects `$schema`; it tells the model nothing.
        repairs.push("removed `$schema`".to_owned());
    }
    Ok((Value::Object(schema), repairs))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn run(schema: Value) -> Result<(Value, Vec<String>), String> {
        repair(schema.as_object().expect("an object"))
    }

    #[test]
    fn a_clean_schema_is_untouched() {
        let schema = json!({"type": "object", "properties": {"a": {"type": "number"}}, "required": ["a"]});
        assert_eq!(run(schema.clone()), Ok((schema, vec![])));
    }

    #[test]
    fn missing_pieces_are_added_and_reported() {
        let (schema, repairs) = run(json!({"$schema": "http://json-schema.org/draft-07/schema#"})).unwrap();
        assert_eq!(schema, json!({"type": "object", "properties": {}}));
        assert_eq!(repairs.len(), 3, "{repairs:?}");
        let (schema, _) = run(json!({"type": ["object", "null"], "properties": {}, "required": "a"})).unwrap();
        assert_eq!(schema, json!({"type": "object", "properties": {}}));
    }

    #[test]
    fn unrepairable_schemas_are_refused_with_a_reason() {
        assert!(run(json!({"type": "string"})).unwrap_err().contains("not an object schema"));
        assert!(run(json!({"type": "object", "anyOf": []})).unwrap_err().contains("`anyOf`"));
        assert!(run(json!({"type": "object", "properties": []})).unwrap_err().contains("`properties`"));
    }
}

//! `schema_for` and strict mode on types used by the agent for structured output as well as tools (Q30).

use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Value, json};
use toolsmith::schema_for;

#[derive(Deserialize, JsonSchema)]
#[allow(dead_code)]
struct Report {
    /// Short title.
    title: String,
    #[serde(default)]
    tags: Vec<String>,
    score: Option<f64>,
    #[schemars(length(min = 1, max = 10))]
    summary: String,
    kind: Kind,
}

#[derive(Deserialize, JsonSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
#[allow(dead_code)]
enum Kind {
    Bug { severity: u8 },
    Feature,
}

/// Every object in a strict schema has `additionalProperties: false` and lists all its properties as
/// required; `oneOf` and keywords strict mode rejects are gone.
fn assert_strict_valid(schema: &Value) {
    match schema {
        Value::Object(object) => {
            for key in ["oneOf", "allOf", "default", "minLength", "maxLength", "title", "$schema", "format"] {
                assert!(!object.contains_key(key), "`{key}` left in {schema}");
            }
            if let Some(Value::Object(properties)) = object.get("properties") {
                assert_eq!(object.get("additionalProperties"), Some(&Value::Bool(false)), "{schema}");
                let required: Vec<&str> =
                    object["required"].as_array().unwrap().iter().map(|name| name.as_str().unwrap()).collect();
                let names: Vec<&str> = properties.keys().map(String::as_str).collect();
                assert_eq!(required, names, "{schema}");
            }
            for (key, value) in object {
                match (key.as_str(), value) {
                    // Maps of names to schemas: a property may be called `title` or `format`.
                    ("properties" | "$defs", Value::Object(schemas)) => schemas.values().for_each(assert_strict_valid),
                    ("enum" | "const" | "required", _) => {}
                    _ => assert_strict_valid(value),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(assert_strict_valid),
        _ => {}
    }
}

#[test]
fn strict_schema_is_strict_valid() {
    let schema = schema_for::<Report>(true);
    assert_strict_valid(&schema);
    insta::assert_json_snapshot!(schema);
}

#[test]
fn lean_schema_of_the_same_type() {
    let schema = schema_for::<Report>(false);
    assert_eq!(schema["required"], json!(["title", "summary", "kind"]));
    assert!(schema.get("$schema").is_none());
    insta::assert_json_snapshot!(schema);
}

#[test]
fn optional_fields_are_nullable_in_strict_mode() {
    let schema = schema_for::<Report>(true);
    assert_eq!(schema["properties"]["score"]["type"], json!(["number", "null"]));
    assert_eq!(schema["properties"]["tags"]["type"], json!(["array", "null"]));
}

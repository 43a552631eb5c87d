use std::fmt;
use std::sync::Arc;

use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;
use serde_json::value::RawValue;

/// A tool's definition in the Chat Completions form
/// `{"type":"function","function":{"name","description","parameters"[,"strict"]}}`.
///
/// Serialized once when built: every request reuses the same bytes, and clones share them.
#[derive(Clone)]
pub struct ToolDefinition(Arc<Inner>);

struct Inner {
    name: String,
    description: String,
    parameters: Value,
    strict: bool,
    json: Box<RawValue>,
}

#[derive(Serialize)]
struct Wire<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    function: WireFunction<'a>,
}

#[derive(Serialize)]
struct WireFunction<'a> {
    name: &'a str,
    #[serde(skip_serializing_if = "str::is_empty")]
    description: &'a str,
    parameters: &'a Value,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    strict: bool,
}

impl ToolDefinition {
    /// A non-strict definition. `parameters` is the JSON Schema of the arguments object.
    pub fn new(name: impl Into<String>, description: impl Into<String>, parameters: Value) -> Self {
        Self::build(name.into(), description.into(), parameters, false)
    }

    /// A definition with `"strict": true`; `parameters` must already be a strict-mode schema.
    pub fn new_strict(name: impl Into<String>, description: impl Into<String>, parameters: Value) -> Self {
        Self::build(name.into(), description.into(), parameters, true)
    }

    fn build(name: String, description: String, parameters: Value, strict: bool) -> Self {
        let wire = Wire {
            kind: "function",
            function: WireFunction { name: &name, description: &description, parameters: &parameters, strict },
        };
        let json = serde_json::value::to_raw_value(&wire).expect("a JSON value always serializes");
        ToolDefinition(Arc::new(Inner { name, description, parameters, strict, json }))
    }

    /// The tool's name, as the model calls it.
    pub fn name(&self) -> &str {
        &self.0.name
    }

    /// The tool's description.
    pub fn description(&self) -> &str {
        &self.0.description
    }

    /// The JSON Schema of the arguments.
    pub fn parameters(&self) -> &Value {
        &self.0.parameters
    }

    /// Whether the definition asks for strict mode.
    pub fn is_strict(&self) -> bool {
        self.0.strict
    }

    /// The serialized wire form.
    pub fn json(&self) -> &RawValue {
        &self.0.json
    }
}

impl fmt::Debug for ToolDefinition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0.json.get())
    }
}

impl PartialEq for ToolDefinition {
    fn eq(&self, other: &Self) -> bool {
        self.0.json.get() == other.0.json.get()
    }
}

impl Serialize for ToolDefinition {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.0.json.serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for ToolDefinition {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        struct Function {
            name: String,
            #[serde(default)]
            description: Option<String>,
            #[serde(default)]
            parameters: Option<Value>,
            #[serde(default)]
            strict: Option<bool>,
        }
        #[derive(Deserialize)]
        struct Outer {
            function: Function,
        }
        let outer = Outer::deserialize(deserializer)?;
        let function = outer.function;
        if function.name.is_empty() {
            return Err(D::Error::custom("a tool definition needs a non-empty function.name"));
        }
        let parameters = function.parameters.unwrap_or_else(|| serde_json::json!({"type": "object", "properties": {}}));
        Ok(Self::build(
            function.name,
            function.description.unwrap_or_default(),
            parameters,
            function.strict.unwrap_or(false),
        ))
    }
}

//! The request body of `POST /chat/completions`.
//!
//! `ChatRequest` serializes exactly what is set (Q29). The client does not send it through this plain
//! `Serialize`: it writes it through the provider profile (see `client::Profile`), which sanitises
//! messages while serializing, without copying the history.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};

use super::ToolDefinition;
use super::message::Message;

/// A Chat Completions request.
///
/// ```
/// use toolsmith_core::wire::{ChatRequest, Message};
///
/// let mut request = ChatRequest::new("openai/gpt-4o", vec![Message::user("Hello!")]);
/// request.temperature = Some(0.2);
/// let json = serde_json::to_value(&request).unwrap();
/// assert_eq!(json, serde_json::json!({
///     "model": "openai/gpt-4o",
///     "messages": [{"role": "user", "content": "Hello!"}],
///     "temperature": 0.2f32,
/// }));
/// ```
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ChatRequest {
    /// The model id, passed through opaquely (`openai/gpt-4o`, `gpt-4o-mini`, `llama3.1`...).
    pub model: String,
    /// The conversation.
    pub messages: Vec<Message>,
    /// Tools the model may call. Empty means none are sent.
    #[serde(default, skip_serializing_if = "Vec::is_empty", deserialize_with = "null_default")]
    pub tools: Vec<ToolDefinition>,
    /// Whether and which tool the model must call.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_choice: Option<ToolChoice>,
    /// Whether the model may call several tools in one turn.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parallel_tool_calls: Option<bool>,
    /// Sampling temperature, 0–2 (MintCloud's default is 0.7, OpenAI's 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub temperature: Option<f32>,
    /// Nucleus sampling.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub top_p: Option<f32>,
    /// Token limit under the older name (the one MintCloud documents). The profile decides which name is sent
    /// (Q27); never both.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_tokens: Option<u32>,
    /// Token limit under the newer name (required by OpenAI o-series and gpt-5, Q27).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_completion_tokens: Option<u32>,
    /// Stop sequences.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stop: Option<Stop>,
    /// Seed for best-effort determinism.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed: Option<i64>,
    /// Number of choices; toolsmith reads only the first.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub n: Option<u32>,
    /// Frequency penalty, -2–2.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub frequency_penalty: Option<f32>,
    /// Presence penalty, -2–2.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub presence_penalty: Option<f32>,
    /// Token id → bias.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub logit_bias: Option<Map<String, Value>>,
    /// Whether to return log probabilities.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub logprobs: Option<bool>,
    /// How many top log probabilities per token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub top_logprobs: Option<u32>,
    /// Whether the provider stores the completion (OpenAI); strict providers reject it (Q29).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub store: Option<bool>,
    /// Free-form metadata (OpenAI).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Map<String, Value>>,
    /// Whether to stream. The client overrides it: `chat` sends `false`, `chat_stream` sends `true`.
    #[serde(default, skip_serializing_if = "std::ops::Not::not", deserialize_with = "null_default")]
    pub stream: bool,
    /// Stream options; only ever sent together with `stream: true`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stream_options: Option<StreamOptions>,
    /// Output format: text, JSON mode or a JSON Schema.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response_format: Option<ResponseFormat>,
    /// An end-user id for abuse monitoring.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    /// How hard a reasoning model thinks. Sent the way the profile says (`reasoning_effort`, or OpenRouter's
    /// `reasoning: {"effort": ...}`, or not at all where it is ignored, Q42); omitted when `None`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reasoning_effort: Option<ReasoningEffort>,
    /// Provider-specific fields, written at the top level of the body (e.g. `reasoning_effort`, `top_k`).
    /// A key that a typed field also sets is ignored: the typed field wins.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl ChatRequest {
    /// A request for `model` with `messages` and nothing else set.
    pub fn new(model: impl Into<String>, messages: Vec<Message>) -> Self {
        ChatRequest { model: model.into(), messages, ..ChatRequest::default() }
    }
}

/// A reasoning model's effort level. Providers add levels over time: an unknown one is kept as text.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum ReasoningEffort {
    /// No reasoning (gpt-5.1 and later).
    None,
    /// As little as possible (gpt-5).
    Minimal,
    /// Low.
    Low,
    /// Medium (OpenAI's default).
    Medium,
    /// High.
    High,
    /// Any other level, sent as written (`"xhigh"`...).
    #[serde(untagged)]
    Other(String),
}

impl ReasoningEffort {
    /// The level as the wire writes it.
    pub fn as_str(&self) -> &str {
        match self {
            ReasoningEffort::None => "none",
            ReasoningEffort::Minimal => "minimal",
            ReasoningEffort::Low => "low",
            ReasoningEffort::Medium => "medium",
            ReasoningEffort::High => "high",
            ReasoningEffort::Other(level) => level,
        }
    }
}

fn null_default<'de, D: Deserializer<'de>, T: Deserialize<'de> + Default>(deserializer: D) -> Result<T, D::Error> {
    Ok(Option::<T>::deserialize(deserializer)?.unwrap_or_default())
}

/// `stop`: one sequence or several.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Stop {
    /// A single stop sequence.
    One(String),
    /// Up to four stop sequences.
    Many(Vec<String>),
}

/// `stream_options`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StreamOptions {
    /// Ask for a final chunk with `usage` (and `choices: []`, Q23).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub include_usage: Option<bool>,
    /// OpenAI's random padding field on every chunk.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub include_obfuscation: Option<bool>,
}

/// `tool_choice`: `"none"`, `"auto"`, `"required"` or `{"type":"function","function":{"name":...}}`.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum ToolChoice {
    /// The model must not call tools.
    None,
    /// The model decides.
    Auto,
    /// The model must call at least one tool (not supported everywhere, Q31).
    Required,
    /// The model must call this tool.
    Function(String),
    /// Any other form (`allowed_tools`, `custom`...), passed through verbatim.
    Other(Value),
}

impl ToolChoice {
    /// Forces a call of the tool `name`.
    pub fn function(name: impl Into<String>) -> Self {
        ToolChoice::Function(name.into())
    }
}

impl Serialize for ToolChoice {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            ToolChoice::None => serializer.serialize_str("none"),
            ToolChoice::Auto => serializer.serialize_str("auto"),
            ToolChoice::Required => serializer.serialize_str("required"),
            ToolChoice::Function(name) => {
                #[derive(Serialize)]
                struct Named<'a> {
                    #[serde(rename = "type")]
                    kind: &'static str,
                    function: NameOnly<'a>,
                }
                #[derive(Serialize)]
                struct NameOnly<'a> {
                    name: &'a str,
                }
                Named { kind: "function", function: NameOnly { name } }.serialize(serializer)
            }
            ToolChoice::Other(value) => value.serialize(serializer),
        }
    }
}

impl<'de> Deserialize<'de> for ToolChoice {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = Value::deserialize(deserializer)?;
        Ok(match &value {
            Value::String(s) if s == "none" => ToolChoice::None,
            Value::String(s) if s == "auto" => ToolChoice::Auto,
            Value::String(s) if s == "required" => ToolChoice::Required,
            Value::Object(map) if map.get("type").and_then(Value::as_str) == Some("function") => {
                match map.get("function").and_then(|f| f.get("name")).and_then(Value::as_str) {
                    Some(name) => ToolChoice::Function(name.to_owned()),
                    None => ToolChoice::Other(value),
                }
            }
            _ => ToolChoice::Other(value),
        })
    }
}

/// `response_format`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
#[non_exhaustive]
pub enum ResponseFormat {
    /// Plain text (the default).
    Text,
    /// JSON mode: some JSON object; the prompt must ask for JSON.
    JsonObject,
    /// Output that follows a JSON Schema (not enforced by every provider, Q42).
    JsonSchema {
        /// The schema and its name.
        json_schema: JsonSchemaFormat,
    },
}

impl ResponseFormat {
    /// A `json_schema` format with a name and a schema; `description` and `strict` unset.
    pub fn json_schema(name: impl Into<String>, schema: Value) -> Self {
        ResponseFormat::JsonSchema {
            json_schema: JsonSchemaFormat { name: name.into(), description: None, schema, strict: None },
        }
    }
}

/// The `json_schema` object of [`ResponseFormat::JsonSchema`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct JsonSchemaFormat {
    /// `^[a-zA-Z0-9_-]{1,64}$`, like tool names.
    pub name: String,
    /// What the output is for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The JSON Schema.
    #[serde(default)]
    pub schema: Value,
    /// Strict mode; sent only when set (Q30).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub strict: Option<bool>,
}

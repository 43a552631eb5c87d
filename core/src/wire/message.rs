//! Conversation messages, as sent in `messages` and returned in `choices[].message`.
//!
//! One type serves the request, the response and a saved session: decoding is lenient (unknown fields,
//! `null` where a value was expected, arguments as an object) and encoding writes only what is set.

use serde::{Deserialize, Deserializer, Serialize};

/// One message of a conversation, tagged by `role` on the wire.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "role", rename_all = "lowercase")]
#[non_exhaustive]
pub enum Message {
    /// Instructions from the application (`role: "system"`).
    System(TextMessage),
    /// Instructions for newer OpenAI models (`role: "developer"`); many other providers reject it.
    Developer(TextMessage),
    /// What the person said (`role: "user"`).
    User(TextMessage),
    /// A model turn: text, refusal, reasoning and tool calls.
    Assistant(AssistantMessage),
    /// The result of one tool call (`role: "tool"`).
    Tool(ToolMessage),
}

impl Message {
    /// A `system` message with plain text.
    pub fn system(text: impl Into<String>) -> Self {
        Message::System(TextMessage::new(text))
    }

    /// A `developer` message with plain text.
    pub fn developer(text: impl Into<String>) -> Self {
        Message::Developer(TextMessage::new(text))
    }

    /// A `user` message with plain text.
    pub fn user(text: impl Into<String>) -> Self {
        Message::User(TextMessage::new(text))
    }

    /// An `assistant` message with plain text and no tool calls.
    pub fn assistant(text: impl Into<String>) -> Self {
        Message::Assistant(AssistantMessage {
            content: Some(Content::Text(text.into())),
            ..AssistantMessage::default()
        })
    }

    /// A `tool` message answering the call `tool_call_id`.
    pub fn tool(tool_call_id: impl Into<String>, text: impl Into<String>) -> Self {
        Message::Tool(ToolMessage { tool_call_id: tool_call_id.into(), content: Content::Text(text.into()) })
    }

    /// The wire name of this message's role.
    pub fn role(&self) -> &'static str {
        match self {
            Message::System(_) => "system",
            Message::Developer(_) => "developer",
            Message::User(_) => "user",
            Message::Assistant(_) => "assistant",
            Message::Tool(_) => "tool",
        }
    }
}

/// A system, developer or user message.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TextMessage {
    /// A string or an array of parts (text, images).
    pub content: Content,
    /// An optional participant name. Sent only when set: several providers reject it (Q29).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

impl TextMessage {
    /// A message with plain text and no name.
    pub fn new(text: impl Into<String>) -> Self {
        TextMessage { content: Content::Text(text.into()), name: None }
    }
}

/// An assistant turn.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(from = "AssistantWire")]
pub struct AssistantMessage {
    /// The text, or `None` (`null` on the wire) for a turn with only tool calls.
    #[serde(default)]
    pub content: Option<Content>,
    /// A refusal, kept apart from `content` (L14).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refusal: Option<String>,
    /// An optional participant name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Reasoning text, read from `reasoning_content` (DeepSeek, old vLLM) or `reasoning` (OpenRouter, Ollama,
    /// new vLLM) (Q15). Whether it is replayed to the provider is the client profile's choice.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reasoning_content: Option<String>,
    /// The tool calls of this turn, in the model's order. `null` and `[]` both mean none (Q26).
    #[serde(default, skip_serializing_if = "Vec::is_empty", deserialize_with = "null_as_default")]
    pub tool_calls: Vec<ToolCall>,
}

/// The decoding form of [`AssistantMessage`]: both reasoning names are read separately, because vLLM sent both
/// at once for a while and a serde `alias` fails on that with "duplicate field" (Q15).
#[derive(Deserialize)]
struct AssistantWire {
    #[serde(default)]
    content: Option<Content>,
    #[serde(default, deserialize_with = "null_or_string")]
    refusal: Option<String>,
    #[serde(default, deserialize_with = "null_or_string")]
    name: Option<String>,
    #[serde(default, deserialize_with = "null_or_string")]
    reasoning_content: Option<String>,
    #[serde(default, deserialize_with = "null_or_string")]
    reasoning: Option<String>,
    #[serde(default, deserialize_with = "null_as_default")]
    tool_calls: Vec<ToolCall>,
}

impl From<AssistantWire> for AssistantMessage {
    fn from(wire: AssistantWire) -> Self {
        AssistantMessage {
            content: wire.content,
            refusal: wire.refusal,
            name: wire.name,
            reasoning_content: wire.reasoning_content.or(wire.reasoning),
            tool_calls: wire.tool_calls,
        }
    }
}

impl AssistantMessage {
    /// The text content, with parts joined; `""` when there is none.
    pub fn text(&self) -> String {
        self.content.as_ref().map(Content::text).unwrap_or_default()
    }
}

/// The answer to one tool call.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ToolMessage {
    /// The id of the call this message answers.
    pub tool_call_id: String,
    /// The tool's result (or error) text.
    pub content: Content,
}

/// Message content: a plain string, or an array of typed parts.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Content {
    /// Plain text.
    Text(String),
    /// Text and image parts.
    Parts(Vec<ContentPart>),
}

impl Content {
    /// All text of this content, parts joined without a separator.
    pub fn text(&self) -> String {
        match self {
            Content::Text(text) => text.clone(),
            Content::Parts(parts) => parts
                .iter()
                .filter_map(|part| match part {
                    ContentPart::Text { text } => Some(text.as_str()),
                    _ => None,
                })
                .collect(),
        }
    }

    /// Whether this content holds no text and no other part.
    pub fn is_empty(&self) -> bool {
        match self {
            Content::Text(text) => text.is_empty(),
            Content::Parts(parts) => parts.is_empty(),
        }
    }
}

impl From<String> for Content {
    fn from(text: String) -> Self {
        Content::Text(text)
    }
}

impl From<&str> for Content {
    fn from(text: &str) -> Self {
        Content::Text(text.to_owned())
    }
}

/// One part of an array content.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
#[non_exhaustive]
pub enum ContentPart {
    /// `{"type":"text","text":...}`
    Text {
        /// The text.
        text: String,
    },
    /// `{"type":"image_url","image_url":{"url":...,"detail":...}}`
    ImageUrl {
        /// The image's address or `data:` URI.
        image_url: ImageUrl,
    },
    /// `{"type":"refusal","refusal":...}` (assistant content only).
    Refusal {
        /// The refusal text.
        refusal: String,
    },
}

/// An image given by URL or data URI.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ImageUrl {
    /// `https://...` or `data:image/png;base64,...`.
    pub url: String,
    /// `auto`, `low` or `high`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

/// A tool call made by the model.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ToolCall {
    /// The call's id; `""` when the provider sent none or `null` (Q20): the agent fills it in.
    #[serde(default, deserialize_with = "null_as_default")]
    pub id: String,
    /// Always `"function"`; `null`, missing or empty is read as `"function"` (Q7).
    #[serde(rename = "type", default = "function_type", deserialize_with = "type_or_function")]
    pub kind: String,
    /// The function name and its arguments.
    pub function: FunctionCall,
}

impl ToolCall {
    /// A call with the given id, name and JSON arguments text.
    pub fn new(id: impl Into<String>, name: impl Into<String>, arguments: impl Into<String>) -> Self {
        ToolCall {
            id: id.into(),
            kind: function_type(),
            function: FunctionCall { name: name.into(), arguments: arguments.into() },
        }
    }
}

/// The function part of a tool call.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct FunctionCall {
    /// The tool's name as the model wrote it.
    #[serde(default, deserialize_with = "null_as_default")]
    pub name: String,
    /// The arguments as JSON text. An object or array sent instead of a string is kept as its JSON text (Q12);
    /// `null` becomes `""`.
    #[serde(default, deserialize_with = "arguments_text")]
    pub arguments: String,
}

fn function_type() -> String {
    "function".to_owned()
}

/// Reads `null` as the type's default.
pub(crate) fn null_as_default<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    Ok(Option::<T>::deserialize(deserializer)?.unwrap_or_default())
}

fn null_or_string<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<String>, D::Error> {
    Option::<String>::deserialize(deserializer)
}

fn type_or_function<'de, D: Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
    let kind = Option::<String>::deserialize(deserializer)?.unwrap_or_default();
    Ok(if kind.is_empty() { function_type() } else { kind })
}

/// Reads tool-call arguments given as a string, as `null`, or as any other JSON value (kept as its text).
pub(crate) fn arguments_text<'de, D: Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
    Ok(match serde_json::Value::deserialize(deserializer)? {
        serde_json::Value::Null => String::new(),
        serde_json::Value::String(text) => text,
        other => other.to_string(),
    })
}

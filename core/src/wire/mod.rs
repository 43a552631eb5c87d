//! The Chat Completions wire format: requests, responses, stream chunks, usage and error bodies.
//!
//! Decoding is lenient (unknown fields, open enums, `null` where a value was expected); encoding writes
//! only the fields that are set.

mod chunk;
mod completion;
pub(crate) mod error_body;
pub(crate) mod fast;
mod finish_reason;
mod message;
mod request;
mod response;
mod tool_definition;
mod usage;

pub use chunk::{ArgumentsDelta, ChatChunk, ChunkChoice, Delta, FunctionDelta, GroqExtension, ToolCallDelta};
pub use completion::Completion;
pub use error_body::{ErrorBody, SNIPPET_LIMIT, snippet};
pub use finish_reason::FinishReason;
pub use message::{
    AssistantMessage, Content, ContentPart, FunctionCall, ImageUrl, Message, TextMessage, ToolCall, ToolMessage,
};
pub use request::{ChatRequest, JsonSchemaFormat, ReasoningEffort, ResponseFormat, Stop, StreamOptions, ToolChoice};
pub use response::{ChatResponse, Choice};
pub use tool_definition::ToolDefinition;
pub use usage::{CompletionTokensDetails, PromptTokensDetails, Usage};

use serde::{Deserialize, Deserializer};
use serde_json::Value;

/// A string field that may be `null`, missing or (from a broken proxy) another type: anything but a string is `""`.
pub(crate) fn lenient_string<'de, D: Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
    Ok(match Value::deserialize(deserializer)? {
        Value::String(s) => s,
        _ => String::new(),
    })
}

/// An index that may be `null`, negative or missing: `0` then.
pub(crate) fn lenient_index<'de, D: Deserializer<'de>>(deserializer: D) -> Result<u32, D::Error> {
    Ok(Value::deserialize(deserializer)?.as_u64().and_then(|n| u32::try_from(n).ok()).unwrap_or(0))
}

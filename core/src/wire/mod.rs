//! The Chat Completions wire format: requests, responses, stream chunks, usage and error bodies.
//!
//! Decoding is lenient (unknown fields, open enums, `null` where a value was expected); encoding writes
//! only the fields that are set.

mod message;

pub use message::{
    AssistantMessage, Content, ContentPart, FunctionCall, ImageUrl, Message, TextMessage, ToolCall, ToolMessage,
};

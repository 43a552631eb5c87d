//! One streamed chunk (`object: "chat.completion.chunk"`) and its delta.

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};

use super::finish_reason::{FinishReason, lenient_finish_reason};
use super::message::null_as_default;
use super::usage::{Usage, lenient_usage};
use super::{lenient_index, lenient_string};

/// One `data:` payload of a stream.
///
/// Every field is optional on decode: Azure sends a first chunk with empty `id`, `model` and `choices`
/// (Q25), the usage chunk has `choices: []` (Q23), Groq puts usage under `x_groq` (Q24), and an in-band
/// error arrives as `error` with or without choices (§1.4).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ChatChunk {
    /// The completion id, shared by every chunk; `""` when missing.
    #[serde(default, deserialize_with = "lenient_string")]
    pub id: String,
    /// `"chat.completion.chunk"`.
    #[serde(default = "chunk_object", deserialize_with = "lenient_string")]
    pub object: String,
    /// Unix seconds.
    #[serde(default, deserialize_with = "null_as_default")]
    pub created: u64,
    /// The model; `""` when missing.
    #[serde(default, deserialize_with = "lenient_string")]
    pub model: String,
    /// The deltas of this chunk; often empty.
    #[serde(default, deserialize_with = "null_as_default")]
    pub choices: Vec<ChunkChoice>,
    /// Usage, usually only on the last chunk.
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "lenient_usage")]
    pub usage: Option<Usage>,
    /// Groq's extension object, which carries usage in the finish chunk (Q24). Boxed: rare, and a chunk is
    /// moved several times on its way to the caller.
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "lenient_object")]
    pub x_groq: Option<Box<GroqExtension>>,
    /// An in-band error (§1.4 forms 1 and 2), kept raw; the stream turns it into a `ClientError::Stream`.
    #[serde(default, skip_serializing_if = "is_null_or_none", deserialize_with = "lenient_error")]
    pub error: Option<Value>,
    /// Backend configuration fingerprint.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub system_fingerprint: Option<String>,
    /// The service tier that answered (OpenAI: `default`, `flex`, `priority`...); `None` when missing or not a
    /// string.
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "lenient_opt_string")]
    pub service_tier: Option<String>,
    /// Unknown fields (`obfuscation`, `provider`, `prompt_filter_results`...), kept verbatim.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl ChatChunk {
    /// Decodes one `data:` payload: the usual shape directly, anything else through the lenient decoder. The
    /// same result as `serde_json::from_slice`, several times faster on what servers normally send.
    pub fn from_slice(bytes: &[u8]) -> Result<ChatChunk, serde_json::Error> {
        match super::fast::chunk(bytes) {
            Some(chunk) => Ok(chunk),
            None => serde_json::from_slice(bytes),
        }
    }
}

fn chunk_object() -> String {
    "chat.completion.chunk".to_owned()
}

fn is_null_or_none(value: &Option<Value>) -> bool {
    value.as_ref().is_none_or(Value::is_null)
}

/// openai-python treats only a truthy `error` as an error: `null`, `false`, `""`, `{}` are not.
fn lenient_error<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<Value>, D::Error> {
    let value = Value::deserialize(deserializer)?;
    let truthy = match &value {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::String(s) => !s.is_empty(),
        Value::Object(map) => !map.is_empty(),
        Value::Array(items) => !items.is_empty(),
        Value::Number(_) => true,
    };
    Ok(truthy.then_some(value))
}

fn lenient_object<'de, D: Deserializer<'de>, T: serde::de::DeserializeOwned>(
    deserializer: D,
) -> Result<Option<T>, D::Error> {
    let value = Value::deserialize(deserializer)?;
    Ok(if value.is_object() { serde_json::from_value(value).ok() } else { None })
}

/// Groq's `x_groq` object.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct GroqExtension {
    /// Usage reported at the end of the stream.
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "lenient_usage")]
    pub usage: Option<Usage>,
    /// Other fields (`id`, ...).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// One choice's delta in a chunk.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ChunkChoice {
    /// The choice's position; `0` when missing or `null` (Q8).
    #[serde(default, deserialize_with = "lenient_index")]
    pub index: u32,
    /// What this chunk adds.
    #[serde(default, deserialize_with = "null_as_default")]
    pub delta: Delta,
    /// Set on the last chunk of the choice; `None` while streaming, or never (Q3).
    #[serde(default, deserialize_with = "lenient_finish_reason")]
    pub finish_reason: Option<FinishReason>,
    /// Log probabilities, when requested (`null` reads as `None`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub logprobs: Option<Value>,
    /// Unknown fields (`native_finish_reason`...), kept verbatim.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// The increment of one chunk.
///
/// Reasoning text is read from `reasoning_content` (DeepSeek, older vLLM) or `reasoning` (OpenRouter,
/// Ollama, newer vLLM); when both are present, `reasoning_content` wins (Q15).
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Delta {
    /// `"assistant"`, usually on the first chunk only (some providers repeat it, Q26).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    /// A text fragment.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content: Option<String>,
    /// A refusal fragment.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refusal: Option<String>,
    /// A reasoning fragment.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reasoning_content: Option<String>,
    /// Tool-call fragments; `null` and `[]` both mean none (Q26).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tool_calls: Vec<ToolCallDelta>,
}

impl<'de> Deserialize<'de> for Delta {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        struct Raw {
            #[serde(default, deserialize_with = "lenient_opt_string")]
            role: Option<String>,
            #[serde(default, deserialize_with = "lenient_content")]
            content: Option<String>,
            #[serde(default, deserialize_with = "lenient_opt_string")]
            refusal: Option<String>,
            #[serde(default, deserialize_with = "lenient_opt_string")]
            reasoning_content: Option<String>,
            #[serde(default, deserialize_with = "lenient_opt_string")]
            reasoning: Option<String>,
            #[serde(default, deserialize_with = "lenient_tool_calls")]
            tool_calls: Vec<ToolCallDelta>,
        }
        let raw = Raw::deserialize(deserializer)?;
        Ok(Delta {
            role: raw.role,
            content: raw.content,
            refusal: raw.refusal,
            reasoning_content: raw.reasoning_content.or(raw.reasoning),
            tool_calls: raw.tool_calls,
        })
    }
}

pub(crate) fn lenient_opt_string<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<String>, D::Error> {
    Ok(match Value::deserialize(deserializer)? {
        Value::String(s) => Some(s),
        _ => None,
    })
}

/// Content as a string, or as an array of text parts (joined), as some gateways stream it.
fn lenient_content<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<String>, D::Error> {
    Ok(match Value::deserialize(deserializer)? {
        Value::String(s) => Some(s),
        Value::Array(parts) => {
            Some(parts.iter().filter_map(|p| p.get("text").and_then(Value::as_str)).collect::<String>())
        }
        _ => None,
    })
}

/// A `tool_calls` array whose malformed entries are dropped instead of failing the chunk.
fn lenient_tool_calls<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<ToolCallDelta>, D::Error> {
    Ok(match Value::deserialize(deserializer)? {
        Value::Array(items) => items.into_iter().filter_map(|item| serde_json::from_value(item).ok()).collect(),
        Value::Object(_) => Vec::new(),
        _ => Vec::new(),
    })
}

/// A fragment of one tool call. Everything but the first fragment usually carries only `index` and
/// `function.arguments`; `null` means "no change" (Q7).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ToolCallDelta {
    /// The call's slot; `None` when missing, `null`, negative (SGLang's `-1`, Q20) or not a number (Q8).
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "lenient_opt_index")]
    pub index: Option<u32>,
    /// The call id, on the first fragment.
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "lenient_opt_string")]
    pub id: Option<String>,
    /// `"function"`, or `null` on continuations.
    #[serde(
        rename = "type",
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient_opt_string"
    )]
    pub kind: Option<String>,
    /// Name and argument fragments.
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "lenient_function")]
    pub function: Option<FunctionDelta>,
}

fn lenient_function<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<FunctionDelta>, D::Error> {
    let value = Value::deserialize(deserializer)?;
    Ok(if value.is_object() { serde_json::from_value(value).ok() } else { None })
}

/// The function part of a [`ToolCallDelta`].
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct FunctionDelta {
    /// The name (or a piece of it, Q11).
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "lenient_opt_string")]
    pub name: Option<String>,
    /// An arguments fragment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arguments: Option<ArgumentsDelta>,
}

/// An arguments fragment: normally a string piece, sometimes a whole JSON value (llama.cpp, TGI, Q12).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ArgumentsDelta {
    /// A piece of the JSON text, to append.
    Text(String),
    /// A complete arguments value, which replaces what came before.
    Value(Value),
}

fn lenient_opt_index<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<u32>, D::Error> {
    Ok(Value::deserialize(deserializer)?.as_u64().and_then(|n| u32::try_from(n).ok()))
}

//! The usual shapes of a response and a stream chunk, decoded directly.
//!
//! The public types decode leniently (a `null` where a string belongs, numbers as strings, unknown fields kept
//! in `extra`, malformed tool-call fragments dropped...), which goes through `serde_json::Value`, serde's
//! buffering for `flatten` and untagged enums: about a third of a client's instructions per run in
//! `examples/loadbench`. What OpenAI-compatible servers send almost always has one exact shape, so that shape
//! is read first by strict mirror types with no buffering; anything else (a `null` id, a number as a string,
//! an unknown field, an error object) fails here and is decoded by the lenient path exactly as before. Where
//! this path succeeds it gives the same value as the lenient one (`core/tests/wire_fast.rs` checks both on
//! generated shapes).

use std::marker::PhantomData;

use serde::de::{MapAccess, Visitor, value::MapAccessDeserializer};
use serde::{Deserialize, Deserializer};
use serde_json::{Map, Value};

use super::{
    ArgumentsDelta, AssistantMessage, ChatChunk, ChatResponse, Choice, ChunkChoice, CompletionTokensDetails, Content,
    Delta, FinishReason, FunctionCall, FunctionDelta, PromptTokensDetails, ToolCall, ToolCallDelta, Usage,
};

/// A whole response in its usual shape, or `None` (decode it leniently then).
pub(crate) fn response(bytes: &[u8]) -> Option<ChatResponse> {
    let fast: Obj<FastResponse> = serde_json::from_slice(bytes).ok()?;
    Some(fast.0.into())
}

/// One chunk in its usual shape, or `None` (decode it leniently then).
pub(crate) fn chunk(bytes: &[u8]) -> Option<ChatChunk> {
    let fast: Obj<FastChunk> = serde_json::from_slice(bytes).ok()?;
    Some(fast.0.into())
}

/// An object, and only an object: derived structs also accept an array of their fields in order, which
/// the lenient decoder reads differently.
struct Obj<T>(T);

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Obj<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Only<T>(PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for Only<T> {
            type Value = T;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("an object")
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<T, A::Error> {
                T::deserialize(MapAccessDeserializer::new(map))
            }
        }
        deserializer.deserialize_map(Only(PhantomData)).map(Obj)
    }
}

/// A field that is kept verbatim in `extra` when present, `null` included.
fn present<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<Value>, D::Error> {
    Value::deserialize(deserializer).map(Some)
}

fn keep(extra: &mut Map<String, Value>, key: &str, value: Option<Value>) {
    if let Some(value) = value {
        extra.insert(key.to_owned(), value);
    }
}

/// `""` and absent both mean "no finish reason" (Q3).
fn finish_reason(text: Option<String>) -> Option<FinishReason> {
    text.filter(|t| !t.is_empty()).map(|t| FinishReason::parse(&t))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FastResponse {
    #[serde(default)]
    id: String,
    #[serde(default = "completion_object")]
    object: String,
    #[serde(default)]
    created: u64,
    #[serde(default)]
    model: String,
    choices: Vec<Obj<FastChoice>>,
    #[serde(default)]
    usage: Option<Obj<FastUsage>>,
    #[serde(default)]
    system_fingerprint: Option<String>,
    #[serde(default)]
    service_tier: Option<String>,
}

fn completion_object() -> String {
    "chat.completion".to_owned()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FastChoice {
    #[serde(default)]
    index: u32,
    message: Obj<FastMessage>,
    #[serde(default)]
    finish_reason: Option<String>,
    #[serde(default)]
    logprobs: Option<Value>,
}

/// Unknown fields of a message are ignored by the lenient path too (`annotations`, `audio`...).
#[derive(Deserialize)]
struct FastMessage {
    #[serde(default)]
    content: Option<String>,
    #[serde(default)]
    refusal: Option<String>,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    reasoning_content: Option<String>,
    #[serde(default)]
    reasoning: Option<String>,
    #[serde(default)]
    tool_calls: Option<Vec<Obj<FastToolCall>>>,
}

#[derive(Deserialize)]
struct FastToolCall {
    #[serde(default)]
    id: Option<String>,
    #[serde(rename = "type", default)]
    kind: Option<String>,
    function: Obj<FastFunction>,
}

#[derive(Deserialize)]
struct FastFunction {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    arguments: Option<String>,
}

impl From<FastResponse> for ChatResponse {
    fn from(fast: FastResponse) -> Self {
        ChatResponse {
            id: fast.id,
            object: fast.object,
            created: fast.created,
            model: fast.model,
            choices: fast.choices.into_iter().map(|c| c.0.into()).collect(),
            usage: fast.usage.map(|u| u.0.into()),
            system_fingerprint: fast.system_fingerprint,
            service_tier: fast.service_tier,
            extra: Map::new(),
        }
    }
}

impl From<FastChoice> for Choice {
    fn from(fast: FastChoice) -> Self {
        let m = fast.message.0;
        let tool_calls = m
            .tool_calls
            .unwrap_or_default()
            .into_iter()
            .map(|Obj(call)| ToolCall {
                id: call.id.unwrap_or_default(),
                kind: call.kind.filter(|k| !k.is_empty()).unwrap_or_else(|| "function".to_owned()),
                function: FunctionCall {
                    name: call.function.0.name.unwrap_or_default(),
                    arguments: call.function.0.arguments.unwrap_or_default(),
                },
            })
            .collect();
        Choice {
            index: fast.index,
            message: AssistantMessage {
                content: m.content.map(Content::Text),
                refusal: m.refusal,
                name: m.name,
                reasoning_content: m.reasoning_content.or(m.reasoning),
                tool_calls,
            },
            finish_reason: finish_reason(fast.finish_reason),
            logprobs: fast.logprobs,
            extra: Map::new(),
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FastChunk {
    #[serde(default)]
    id: String,
    #[serde(default = "chunk_object")]
    object: String,
    #[serde(default)]
    created: u64,
    #[serde(default)]
    model: String,
    #[serde(default)]
    choices: Vec<Obj<FastChunkChoice>>,
    #[serde(default)]
    usage: Option<Obj<FastUsage>>,
    #[serde(default)]
    system_fingerprint: Option<String>,
    #[serde(default)]
    service_tier: Option<String>,
    #[serde(default, deserialize_with = "present")]
    obfuscation: Option<Value>,
}

fn chunk_object() -> String {
    "chat.completion.chunk".to_owned()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FastChunkChoice {
    #[serde(default)]
    index: u32,
    #[serde(default)]
    delta: Option<Obj<FastDelta>>,
    #[serde(default)]
    finish_reason: Option<String>,
    #[serde(default)]
    logprobs: Option<Value>,
}

/// Unknown fields of a delta are ignored by the lenient path too.
#[derive(Deserialize)]
struct FastDelta {
    #[serde(default)]
    role: Option<String>,
    #[serde(default)]
    content: Option<String>,
    #[serde(default)]
    refusal: Option<String>,
    #[serde(default)]
    reasoning_content: Option<String>,
    #[serde(default)]
    reasoning: Option<String>,
    #[serde(default)]
    tool_calls: Option<Vec<Obj<FastCallDelta>>>,
}

#[derive(Deserialize)]
struct FastCallDelta {
    #[serde(default)]
    index: Option<u32>,
    #[serde(default)]
    id: Option<String>,
    #[serde(rename = "type", default)]
    kind: Option<String>,
    #[serde(default)]
    function: Option<Obj<FastFunctionDelta>>,
}

#[derive(Deserialize)]
struct FastFunctionDelta {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    arguments: Option<String>,
}

impl From<FastChunk> for ChatChunk {
    fn from(fast: FastChunk) -> Self {
        let mut extra = Map::new();
        keep(&mut extra, "obfuscation", fast.obfuscation);
        ChatChunk {
            id: fast.id,
            object: fast.object,
            created: fast.created,
            model: fast.model,
            choices: fast.choices.into_iter().map(|c| c.0.into()).collect(),
            usage: fast.usage.map(|u| u.0.into()),
            x_groq: None,
            error: None,
            system_fingerprint: fast.system_fingerprint,
            service_tier: fast.service_tier,
            extra,
        }
    }
}

impl From<FastChunkChoice> for ChunkChoice {
    fn from(fast: FastChunkChoice) -> Self {
        let delta = fast.delta.map(|Obj(d)| Delta {
            role: d.role,
            content: d.content,
            refusal: d.refusal,
            reasoning_content: d.reasoning_content.or(d.reasoning),
            tool_calls: d
                .tool_calls
                .unwrap_or_default()
                .into_iter()
                .map(|Obj(call)| ToolCallDelta {
                    index: call.index,
                    id: call.id,
                    kind: call.kind,
                    function: call
                        .function
                        .map(|Obj(f)| FunctionDelta { name: f.name, arguments: f.arguments.map(ArgumentsDelta::Text) }),
                })
                .collect(),
        });
        ChunkChoice {
            index: fast.index,
            delta: delta.unwrap_or_default(),
            finish_reason: finish_reason(fast.finish_reason),
            logprobs: fast.logprobs,
            extra: Map::new(),
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FastUsage {
    #[serde(default)]
    prompt_tokens: u64,
    #[serde(default)]
    completion_tokens: u64,
    #[serde(default)]
    total_tokens: u64,
    #[serde(default)]
    prompt_tokens_details: Option<Obj<FastPromptDetails>>,
    #[serde(default)]
    completion_tokens_details: Option<Obj<FastCompletionDetails>>,
}

/// Unknown detail fields are ignored by the lenient path too.
#[derive(Deserialize)]
struct FastPromptDetails {
    #[serde(default)]
    cached_tokens: Option<u64>,
    #[serde(default)]
    audio_tokens: Option<u64>,
    #[serde(default)]
    text_tokens: Option<u64>,
    #[serde(default)]
    image_tokens: Option<u64>,
    #[serde(default)]
    cache_write_tokens: Option<u64>,
}

#[derive(Deserialize)]
struct FastCompletionDetails {
    #[serde(default)]
    reasoning_tokens: Option<u64>,
    #[serde(default)]
    audio_tokens: Option<u64>,
    #[serde(default)]
    accepted_prediction_tokens: Option<u64>,
    #[serde(default)]
    rejected_prediction_tokens: Option<u64>,
    #[serde(default)]
    text_tokens: Option<u64>,
}

impl From<FastUsage> for Usage {
    fn from(fast: FastUsage) -> Self {
        Usage {
            prompt_tokens: fast.prompt_tokens,
            completion_tokens: fast.completion_tokens,
            total_tokens: fast.total_tokens,
            prompt_tokens_details: fast.prompt_tokens_details.map(|Obj(d)| PromptTokensDetails {
                cached_tokens: d.cached_tokens,
                audio_tokens: d.audio_tokens,
                text_tokens: d.text_tokens,
                image_tokens: d.image_tokens,
                cache_write_tokens: d.cache_write_tokens,
            }),
            completion_tokens_details: fast.completion_tokens_details.map(|Obj(d)| CompletionTokensDetails {
                reasoning_tokens: d.reasoning_tokens,
                audio_tokens: d.audio_tokens,
                accepted_prediction_tokens: d.accepted_prediction_tokens,
                rejected_prediction_tokens: d.rejected_prediction_tokens,
                text_tokens: d.text_tokens,
            }),
            extra: Map::new(),
        }
    }
}

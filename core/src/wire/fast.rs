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

use std::borrow::Cow;

use serde::de::{IgnoredAny, Visitor};
use serde::{Deserialize, Deserializer};
use serde_json::{Map, Value};

use super::{
    ArgumentsDelta, AssistantMessage, ChatChunk, ChatResponse, Choice, ChunkChoice, CompletionTokensDetails, Content,
    Delta, FinishReason, FunctionCall, FunctionDelta, PromptTokensDetails, ToolCall, ToolCallDelta, Usage,
};

/// A whole response in its usual shape, or `None` (decode it leniently then).
pub(crate) fn response(bytes: &[u8]) -> Option<ChatResponse> {
    let fast: Obj<FastResponse> = serde_json::from_str(whole_text(bytes)?).ok()?;
    Some(fast.0.into())
}

/// One chunk in its usual shape, or `None` (decode it leniently then).
pub(crate) fn chunk(bytes: &[u8]) -> Option<ChatChunk> {
    chunk_ref(bytes).map(Into::into)
}

fn chunk_ref(bytes: &[u8]) -> Option<FastChunk<'_>> {
    let fast: Obj<FastChunk<'_>> = serde_json::from_str(whole_text(bytes)?).ok()?;
    Some(fast.0)
}

/// The payload as text, checked once: reading JSON from a `&str` skips serde_json's check of every string
/// and key, which is most of the checking (invalid UTF-8 goes to the lenient decoder, which replaces it).
fn whole_text(bytes: &[u8]) -> Option<&str> {
    std::str::from_utf8(bytes).ok()
}

/// An object, and only an object: derived structs also accept an array of their fields in order, which
/// the lenient decoder reads differently.
pub(crate) struct Obj<T>(pub(crate) T);

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Obj<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        T::deserialize(StructAsMap(deserializer)).map(Obj)
    }
}

/// A deserializer that reads a struct as a map only: the derived visitor is handed straight to
/// `deserialize_map`, which takes `{` and nothing else.
struct StructAsMap<D>(D);

impl<'de, D: Deserializer<'de>> Deserializer<'de> for StructAsMap<D> {
    type Error = D::Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, D::Error> {
        self.0.deserialize_any(visitor)
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, D::Error> {
        self.0.deserialize_map(visitor)
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf option unit
        unit_struct newtype_struct seq tuple tuple_struct map enum identifier ignored_any
    }
}

fn keep(extra: &mut Map<String, Value>, key: &str, value: Option<Value>) {
    if let Some(value) = value {
        extra.insert(key.to_owned(), value);
    }
}

/// A string, skipped unread (no copy): as strict as `String` about the type, so the fast path accepts no
/// more than the full decoder does.
#[derive(Default)]
pub(crate) struct AnyStr;

impl<'de> Deserialize<'de> for AnyStr {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Skip;
        impl Visitor<'_> for Skip {
            type Value = AnyStr;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a string")
            }
            fn visit_str<E: serde::de::Error>(self, _: &str) -> Result<AnyStr, E> {
                Ok(AnyStr)
            }
        }
        deserializer.deserialize_str(Skip)
    }
}

/// An optional string borrowed from the payload when it has no escapes. serde borrows a `Cow` field only when
/// its type is exactly `Cow`: inside an `Option` it copies every string, which cost an allocation per streamed
/// delta.
fn borrowed<'de: 'a, 'a, D: Deserializer<'de>>(deserializer: D) -> Result<Option<Cow<'a, str>>, D::Error> {
    struct Text;
    impl<'de> Visitor<'de> for Text {
        type Value = Option<Cow<'de, str>>;
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("a string or null")
        }
        fn visit_none<E: serde::de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_unit<E: serde::de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
            deserializer.deserialize_str(self)
        }
        fn visit_borrowed_str<E: serde::de::Error>(self, text: &'de str) -> Result<Self::Value, E> {
            Ok(Some(Cow::Borrowed(text)))
        }
        fn visit_str<E: serde::de::Error>(self, text: &str) -> Result<Self::Value, E> {
            Ok(Some(Cow::Owned(text.to_owned())))
        }
        fn visit_string<E: serde::de::Error>(self, text: String) -> Result<Self::Value, E> {
            Ok(Some(Cow::Owned(text)))
        }
    }
    deserializer.deserialize_option(Text)
}

/// `""` and absent both mean "no finish reason" (Q3).
pub(crate) fn finish_reason(text: Option<&str>) -> Option<FinishReason> {
    text.filter(|t| !t.is_empty()).map(FinishReason::parse)
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

/// A whole response in its usual shape, read only for the turn it holds: `object`, `created`,
/// `system_fingerprint`, `service_tier`, a choice's `index` and `logprobs` are skipped unread, and nothing
/// is built but what a [`Completion`](super::Completion) keeps. Still strict: anything unusual fails here
/// and the response is decoded in full.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct TurnResponse {
    #[serde(default)]
    pub(crate) id: String,
    #[serde(default)]
    pub(crate) model: String,
    choices: Vec<Obj<TurnResponseChoice>>,
    #[serde(default)]
    usage: Option<Obj<FastUsage>>,
    #[serde(default)]
    #[allow(dead_code, reason = "named so the strict shape accepts it; skipped unread")]
    object: AnyStr,
    #[serde(default)]
    #[allow(dead_code, reason = "named so the strict shape accepts it; skipped unread")]
    created: u64,
    #[serde(default)]
    #[allow(dead_code, reason = "named so the strict shape accepts it; skipped unread")]
    system_fingerprint: Option<AnyStr>,
    #[serde(default)]
    #[allow(dead_code, reason = "named so the strict shape accepts it; skipped unread")]
    service_tier: Option<AnyStr>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TurnResponseChoice {
    #[serde(default)]
    #[allow(dead_code, reason = "named so the strict shape accepts it; skipped unread")]
    index: u32,
    message: Obj<FastMessage>,
    #[serde(default)]
    finish_reason: Option<String>,
    #[serde(default)]
    #[allow(dead_code, reason = "named so the strict shape accepts it; skipped unread")]
    logprobs: IgnoredAny,
}

/// The parts of a [`TurnResponse`]'s first choice: the message, its finish reason and the usage.
pub(crate) struct ResponseTurn {
    pub(crate) id: String,
    pub(crate) model: String,
    pub(crate) message: AssistantMessage,
    pub(crate) finish_reason: Option<FinishReason>,
    pub(crate) usage: Option<Usage>,
}

/// A whole response's first choice in its usual shape, or `None` (decode the response in full then; a
/// response without choices always goes that way, to tell an error body from an empty answer).
pub(crate) fn response_turn(bytes: &[u8]) -> Option<ResponseTurn> {
    let Obj(fast): Obj<TurnResponse> = serde_json::from_str(whole_text(bytes)?).ok()?;
    let choice = fast.choices.into_iter().next()?.0;
    let Choice { message, finish_reason, .. } =
        FastChoice { index: 0, message: choice.message, finish_reason: choice.finish_reason, logprobs: None }.into();
    Some(ResponseTurn { id: fast.id, model: fast.model, message, finish_reason, usage: fast.usage.map(|u| u.0.into()) })
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
            finish_reason: finish_reason(fast.finish_reason.as_deref()),
            logprobs: fast.logprobs,
            extra: Map::new(),
        }
    }
}

/// One chunk in its usual shape, borrowing its strings from `bytes` where they have no escapes.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FastChunk<'a> {
    #[serde(default, borrow)]
    id: Cow<'a, str>,
    #[serde(default = "chunk_object_cow", borrow)]
    object: Cow<'a, str>,
    #[serde(default)]
    created: u64,
    #[serde(default, borrow)]
    model: Cow<'a, str>,
    #[serde(default, borrow)]
    choices: Vec<Obj<FastChunkChoice<'a>>>,
    #[serde(default)]
    usage: Option<Obj<FastUsage>>,
    #[serde(default, borrow, deserialize_with = "borrowed")]
    system_fingerprint: Option<Cow<'a, str>>,
    #[serde(default, borrow, deserialize_with = "borrowed")]
    service_tier: Option<Cow<'a, str>>,
    #[serde(default, deserialize_with = "present")]
    obfuscation: Option<Value>,
}

/// One chunk in its usual shape, reading only what a turn is made of: the fields a [`ChatChunk`] keeps for
/// its callers (`object`, `created`, `system_fingerprint`, `service_tier`, `obfuscation`, `logprobs`,
/// `role`) are skipped unread, which is most of a chunk's bytes. Still strict: an unknown field (an in-band
/// `error`, Groq's `x_groq`...) or an unexpected type fails here and the lenient decoder takes the chunk.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct TurnChunk<'a> {
    #[serde(default, borrow)]
    pub(crate) id: Cow<'a, str>,
    #[serde(default, borrow)]
    pub(crate) model: Cow<'a, str>,
    #[serde(default, borrow)]
    pub(crate) choices: Vec<Obj<TurnChoice<'a>>>,
    /// Boxed: one chunk of a turn has it, and every chunk is moved on its way out of the decoder.
    #[serde(default)]
    usage: Option<Box<Obj<FastUsage>>>,
    #[serde(default)]
    #[allow(dead_code, reason = "named so the strict shape accepts it; skipped unread")]
    object: AnyStr,
    #[serde(default)]
    #[allow(dead_code, reason = "named so the strict shape accepts it; skipped unread")]
    created: u64,
    #[serde(default)]
    #[allow(dead_code, reason = "named so the strict shape accepts it; skipped unread")]
    system_fingerprint: Option<AnyStr>,
    #[serde(default)]
    #[allow(dead_code, reason = "named so the strict shape accepts it; skipped unread")]
    service_tier: Option<AnyStr>,
    #[serde(default)]
    #[allow(dead_code, reason = "named so the strict shape accepts it; skipped unread")]
    obfuscation: IgnoredAny,
}

impl TurnChunk<'_> {
    /// The chunk's usage, when it has one, taken out.
    pub(crate) fn take_usage(&mut self) -> Option<Usage> {
        self.usage.take().map(|usage| usage.0.into())
    }
}

/// A choice of a [`TurnChunk`].
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct TurnChoice<'a> {
    #[serde(default)]
    pub(crate) index: u32,
    #[serde(default, borrow)]
    pub(crate) delta: Option<Obj<FastDelta<'a>>>,
    #[serde(default, borrow, deserialize_with = "borrowed")]
    pub(crate) finish_reason: Option<Cow<'a, str>>,
    #[serde(default)]
    #[allow(dead_code, reason = "named so the strict shape accepts it; skipped unread")]
    logprobs: IgnoredAny,
}

/// One chunk in its usual shape, as a turn reads it, or `None` (decode it leniently then).
pub(crate) fn turn_chunk(bytes: &[u8]) -> Option<TurnChunk<'_>> {
    let fast: Obj<TurnChunk<'_>> = serde_json::from_str(whole_text(bytes)?).ok()?;
    Some(fast.0)
}

/// A field that is kept verbatim in `extra` when present, `null` included.
fn present<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<Value>, D::Error> {
    Value::deserialize(deserializer).map(Some)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FastChunkChoice<'a> {
    #[serde(default)]
    index: u32,
    #[serde(default, borrow)]
    delta: Option<Obj<FastDelta<'a>>>,
    #[serde(default, borrow, deserialize_with = "borrowed")]
    finish_reason: Option<Cow<'a, str>>,
    #[serde(default)]
    logprobs: Option<Value>,
}

/// Unknown fields of a delta are ignored by the lenient path too.
#[derive(Deserialize)]
pub(crate) struct FastDelta<'a> {
    #[serde(default, borrow, deserialize_with = "borrowed")]
    role: Option<Cow<'a, str>>,
    #[serde(default, borrow, deserialize_with = "borrowed")]
    pub(crate) content: Option<Cow<'a, str>>,
    #[serde(default, borrow, deserialize_with = "borrowed")]
    pub(crate) refusal: Option<Cow<'a, str>>,
    #[serde(default, borrow, deserialize_with = "borrowed")]
    reasoning_content: Option<Cow<'a, str>>,
    #[serde(default, borrow, deserialize_with = "borrowed")]
    reasoning: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    pub(crate) tool_calls: Option<Vec<Obj<FastCallDelta<'a>>>>,
}

impl FastDelta<'_> {
    /// Q15: `reasoning_content` wins over `reasoning`.
    pub(crate) fn reasoning(&self) -> Option<&str> {
        self.reasoning_content.as_deref().or(self.reasoning.as_deref())
    }
}

#[derive(Deserialize)]
pub(crate) struct FastCallDelta<'a> {
    #[serde(default)]
    pub(crate) index: Option<u32>,
    #[serde(default, borrow, deserialize_with = "borrowed")]
    pub(crate) id: Option<Cow<'a, str>>,
    #[serde(rename = "type", default, borrow, deserialize_with = "borrowed")]
    kind: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    pub(crate) function: Option<Obj<FastFunctionDelta<'a>>>,
}

#[derive(Deserialize)]
pub(crate) struct FastFunctionDelta<'a> {
    #[serde(default, borrow, deserialize_with = "borrowed")]
    pub(crate) name: Option<Cow<'a, str>>,
    #[serde(default, borrow, deserialize_with = "borrowed")]
    pub(crate) arguments: Option<Cow<'a, str>>,
}

fn owned(text: Option<Cow<'_, str>>) -> Option<String> {
    text.map(Cow::into_owned)
}

impl From<FastChunk<'_>> for ChatChunk {
    fn from(fast: FastChunk<'_>) -> Self {
        let mut extra = Map::new();
        keep(&mut extra, "obfuscation", fast.obfuscation);
        ChatChunk {
            id: fast.id.into_owned(),
            object: fast.object.into_owned(),
            created: fast.created,
            model: fast.model.into_owned(),
            choices: fast.choices.into_iter().map(|c| c.0.into()).collect(),
            usage: fast.usage.map(|u| u.0.into()),
            x_groq: None,
            error: None,
            system_fingerprint: owned(fast.system_fingerprint),
            service_tier: owned(fast.service_tier),
            extra,
        }
    }
}

fn chunk_object_cow() -> Cow<'static, str> {
    Cow::Borrowed("chat.completion.chunk")
}

impl From<FastChunkChoice<'_>> for ChunkChoice {
    fn from(fast: FastChunkChoice<'_>) -> Self {
        let delta = fast.delta.map(|Obj(d)| Delta {
            role: owned(d.role),
            content: owned(d.content),
            refusal: owned(d.refusal),
            reasoning_content: owned(d.reasoning_content.or(d.reasoning)),
            tool_calls: d
                .tool_calls
                .unwrap_or_default()
                .into_iter()
                .map(|Obj(call)| ToolCallDelta {
                    index: call.index,
                    id: owned(call.id),
                    kind: owned(call.kind),
                    function: call.function.map(|Obj(f)| FunctionDelta {
                        name: owned(f.name),
                        arguments: f.arguments.map(|a| ArgumentsDelta::Text(a.into_owned())),
                    }),
                })
                .collect(),
        });
        ChunkChoice {
            index: fast.index,
            delta: delta.unwrap_or_default(),
            finish_reason: finish_reason(fast.finish_reason.as_deref()),
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

#[cfg(test)]
mod tests {
    use std::borrow::Cow;

    use super::turn_chunk;

    #[test]
    fn a_delta_is_borrowed_from_the_payload_unless_it_has_escapes() {
        let plain = br#"{"choices":[{"index":0,"delta":{"content":"Hi","tool_calls":[{"index":0,"id":"c1","function":{"name":"add","arguments":"{}"}}]},"finish_reason":"stop"}]}"#;
        let chunk = turn_chunk(plain).expect("the usual shape");
        let delta = chunk.choices[0].0.delta.as_ref().expect("a delta");
        assert!(matches!(delta.0.content, Some(Cow::Borrowed("Hi"))));
        let call = &delta.0.tool_calls.as_ref().expect("calls")[0].0;
        assert!(matches!(call.id, Some(Cow::Borrowed("c1"))));
        let function = call.function.as_ref().expect("a function");
        assert!(matches!(function.0.name, Some(Cow::Borrowed("add"))));
        assert!(matches!(function.0.arguments, Some(Cow::Borrowed("{}"))));
        assert!(matches!(chunk.choices[0].0.finish_reason, Some(Cow::Borrowed("stop"))));

        let escaped = br#"{"choices":[{"index":0,"delta":{"content":"a\"b\n","refusal":null}}]}"#;
        let chunk = turn_chunk(escaped).expect("the usual shape");
        let delta = &chunk.choices[0].0.delta.as_ref().expect("a delta").0;
        assert!(matches!(&delta.content, Some(Cow::Owned(text)) if text == "a\"b\n"));
        assert!(delta.refusal.is_none());
        // Not a string: the strict shape refuses it, as `String` would.
        assert!(turn_chunk(br#"{"choices":[{"index":0,"delta":{"content":5}}]}"#).is_none());
    }
}

//! Writes a borrowed [`ChatRequest`] through a [`Profile`]: sanitising happens while serializing, so the
//! history is never copied (the agent resends the same growing history every turn).

use serde::ser::{Error as _, SerializeMap, SerializeSeq};
use serde::{Serialize, Serializer};
use serde_json::Value;

use super::profile::{MaxTokensField, Profile, ReasoningEffortField, ToolCallContent};
use crate::wire::{
    AssistantMessage, ChatRequest, Content, ContentPart, Message, StreamOptions, TextMessage, ToolCall, ToolChoice,
    ToolMessage,
};

/// The body actually sent.
pub(crate) struct WireRequest<'a> {
    pub request: &'a ChatRequest,
    pub profile: &'a Profile,
    pub stream: bool,
}

impl WireRequest<'_> {
    /// The body, written into a buffer of `capacity` bytes (a guess from the last body: a growing buffer
    /// reallocates and copies itself several times per request).
    pub(crate) fn to_vec(&self, capacity: usize) -> Result<Vec<u8>, serde_json::Error> {
        let mut out = Vec::with_capacity(capacity);
        serde_json::to_writer(&mut out, self)?;
        Ok(out)
    }
}

impl Serialize for WireRequest<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let r = self.request;
        let p = self.profile;
        // The typed fields written, so `extra` cannot repeat one: only kept when there is an `extra`.
        let track = !r.extra.is_empty();
        let mut written: Vec<&'static str> = Vec::new();
        let mut map = serializer.serialize_map(None)?;
        macro_rules! field {
            ($key:literal, $value:expr) => {{
                map.serialize_entry($key, $value)?;
                if track {
                    written.push($key);
                }
            }};
        }
        field!("model", &r.model);
        field!("messages", &Messages { messages: &r.messages, profile: p });
        let has_tools = !r.tools.is_empty();
        if has_tools {
            field!("tools", &r.tools);
        }
        // OpenAI rejects `tool_choice` and `parallel_tool_calls` without `tools`.
        if let Some(choice) = r.tool_choice.as_ref().filter(|_| has_tools) {
            match choice {
                ToolChoice::Required if !p.supports_tool_choice_required => {
                    // Q31: fall back to the named tool when there is only one, else to `auto`.
                    if let [only] = r.tools.as_slice() {
                        field!("tool_choice", &ToolChoice::Function(only.name().to_owned()));
                    } else {
                        tracing::warn!(profile = %p.name, "tool_choice \"required\" unsupported; sending \"auto\" (Q31)");
                        field!("tool_choice", &ToolChoice::Auto);
                    }
                }
                choice => field!("tool_choice", choice),
            }
        }
        if let Some(parallel) = r.parallel_tool_calls.filter(|_| has_tools) {
            field!("parallel_tool_calls", &parallel);
        }
        if let Some(t) = r.temperature {
            field!("temperature", &p.max_temperature.map_or(t, |max| t.min(max)));
        }
        if let Some(v) = &r.top_p {
            field!("top_p", v);
        }
        // Q27: one field only, the profile's.
        match p.max_tokens_field {
            MaxTokensField::MaxTokens => {
                if let Some(v) = r.max_tokens.or(r.max_completion_tokens) {
                    field!("max_tokens", &v);
                }
            }
            MaxTokensField::MaxCompletionTokens => {
                if let Some(v) = r.max_completion_tokens.or(r.max_tokens) {
                    field!("max_completion_tokens", &v);
                }
            }
        }
        if let Some(v) = &r.stop {
            field!("stop", v);
        }
        if let Some(v) = &r.seed {
            field!("seed", v);
        }
        if let Some(v) = &r.n {
            field!("n", v);
        }
        if let Some(v) = &r.frequency_penalty {
            field!("frequency_penalty", v);
        }
        if let Some(v) = &r.presence_penalty {
            field!("presence_penalty", v);
        }
        if let Some(v) = &r.logit_bias {
            field!("logit_bias", v);
        }
        if let Some(v) = &r.logprobs {
            field!("logprobs", v);
        }
        if let Some(v) = &r.top_logprobs {
            field!("top_logprobs", v);
        }
        if let Some(v) = &r.store {
            field!("store", v);
        }
        if let Some(v) = &r.metadata {
            field!("metadata", v);
        }
        field!("stream", &self.stream);
        // Q28: only with `stream: true`, only where accepted; usage is asked for whenever possible.
        if self.stream && p.supports_stream_options {
            let options = StreamOptions {
                include_usage: Some(r.stream_options.as_ref().and_then(|o| o.include_usage).unwrap_or(true)),
                include_obfuscation: r.stream_options.as_ref().and_then(|o| o.include_obfuscation),
            };
            field!("stream_options", &options);
        }
        if let Some(v) = &r.response_format {
            field!("response_format", v);
        }
        if let Some(v) = &r.user {
            field!("user", v);
        }
        if let Some(effort) = &r.reasoning_effort {
            match p.reasoning_effort {
                ReasoningEffortField::TopLevel => field!("reasoning_effort", effort),
                ReasoningEffortField::Nested => field!("reasoning", &serde_json::json!({ "effort": effort.as_str() })),
                ReasoningEffortField::Omitted => {}
            }
        }
        // Dropped fields stay dropped even if `extra` repeats them.
        const NEVER_FROM_EXTRA: &[&str] =
            &["max_tokens", "max_completion_tokens", "stream", "stream_options", "tool_choice", "parallel_tool_calls"];
        // A typed effort decides the reasoning fields: `extra` does not add the other spelling.
        let typed_effort = r.reasoning_effort.is_some();
        for (key, value) in &r.extra {
            let effort_key = typed_effort && matches!(key.as_str(), "reasoning_effort" | "reasoning");
            let dropped = written.contains(&key.as_str()) || NEVER_FROM_EXTRA.contains(&key.as_str()) || effort_key;
            if !dropped {
                map.serialize_entry(key, value)?;
            }
        }
        map.end()
    }
}

struct Messages<'a> {
    messages: &'a [Message],
    profile: &'a Profile,
}

impl Serialize for Messages<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut seq = serializer.serialize_seq(Some(self.messages.len()))?;
        for (position, message) in self.messages.iter().enumerate() {
            seq.serialize_element(&OneMessage { message, profile: self.profile, position })?;
        }
        seq.end()
    }
}

struct OneMessage<'a> {
    message: &'a Message,
    profile: &'a Profile,
    position: usize,
}

impl Serialize for OneMessage<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let p = self.profile;
        let mut map = serializer.serialize_map(None)?;
        match self.message {
            Message::System(m) => text_message(&mut map, "system", m, p, self.position)?,
            Message::Developer(m) => {
                let role = if p.supports_developer_role { "developer" } else { "system" };
                text_message(&mut map, role, m, p, self.position)?
            }
            Message::User(m) => text_message(&mut map, "user", m, p, self.position)?,
            Message::Assistant(m) => assistant_message(&mut map, m, p, self.position)?,
            Message::Tool(ToolMessage { tool_call_id, content }) => {
                map.serialize_entry("role", "tool")?;
                map.serialize_entry("tool_call_id", &p.tool_call_ids.apply(tool_call_id))?;
                map.serialize_entry("content", &SanitizedContent { content, profile: p, position: self.position })?;
            }
        }
        map.end()
    }
}

fn text_message<M: SerializeMap>(
    map: &mut M,
    role: &str,
    m: &TextMessage,
    p: &Profile,
    position: usize,
) -> Result<(), M::Error> {
    map.serialize_entry("role", role)?;
    map.serialize_entry("content", &SanitizedContent { content: &m.content, profile: p, position })?;
    if let Some(name) = &m.name {
        map.serialize_entry("name", name)?;
    }
    Ok(())
}

fn assistant_message<M: SerializeMap>(
    map: &mut M,
    m: &AssistantMessage,
    p: &Profile,
    position: usize,
) -> Result<(), M::Error> {
    map.serialize_entry("role", "assistant")?;
    let has_text = m.content.as_ref().is_some_and(|c| !c.is_empty());
    match &m.content {
        Some(content) if has_text => {
            map.serialize_entry("content", &SanitizedContent { content, profile: p, position })?
        }
        // Q17: a tool-call-only turn writes `null` or `""` per profile; a turn with neither text nor calls
        // always writes `""` (Mistral rejects an assistant message with neither).
        _ if !m.tool_calls.is_empty() && p.tool_call_content == ToolCallContent::Null => {
            map.serialize_entry("content", &Option::<&str>::None)?
        }
        _ => map.serialize_entry("content", "")?,
    }
    if p.replay_refusal
        && let Some(refusal) = m.refusal.as_ref().filter(|r| !r.is_empty())
    {
        map.serialize_entry("refusal", refusal)?;
    }
    if let Some(name) = &m.name {
        map.serialize_entry("name", name)?;
    }
    if p.replay_reasoning
        && let Some(reasoning) = &m.reasoning_content
    {
        map.serialize_entry("reasoning_content", reasoning)?;
    }
    if !m.tool_calls.is_empty() {
        map.serialize_entry("tool_calls", &ToolCalls(&m.tool_calls, p))?;
    }
    Ok(())
}

struct ToolCalls<'a>(&'a [ToolCall], &'a Profile);

impl Serialize for ToolCalls<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Call<'a> {
            id: std::borrow::Cow<'a, str>,
            #[serde(rename = "type")]
            kind: &'static str,
            function: Function<'a>,
        }
        #[derive(Serialize)]
        struct Function<'a> {
            name: &'a str,
            arguments: std::borrow::Cow<'a, str>,
        }
        let mut seq = serializer.serialize_seq(Some(self.0.len()))?;
        for call in self.0 {
            seq.serialize_element(&Call {
                id: self.1.tool_call_ids.apply(&call.id),
                kind: "function",
                function: Function { name: &call.function.name, arguments: replay_arguments(&call.function.arguments) },
            })?;
        }
        seq.end()
    }
}

/// L15, Q12, Q13, Q22: arguments are always replayed as a JSON string: the exact bytes when they are a JSON
/// object, `"{}"` when empty (or `null`/`[]`), and `{"INVALID_JSON": raw}` when they do not parse.
pub fn replay_arguments(arguments: &str) -> std::borrow::Cow<'_, str> {
    use std::borrow::Cow;
    let trimmed = arguments.trim();
    if trimmed.is_empty() || trimmed == "null" || trimmed == "[]" {
        return Cow::Borrowed("{}");
    }
    // Every turn replays every earlier call: check validity without building a `Value`.
    if trimmed.starts_with('{') && serde_json::from_str::<serde::de::IgnoredAny>(trimmed).is_ok() {
        // The trimmed text: `str::trim` also strips whitespace JSON does not allow (form feed, NBSP, ...), so
        // the untrimmed text may not be JSON at all (found by fuzz/fuzz_targets/arguments.rs).
        return Cow::Borrowed(trimmed);
    }
    match serde_json::from_str::<Value>(trimmed) {
        Ok(other) => Cow::Owned(serde_json::json!({ "INVALID_JSON": other.to_string() }).to_string()),
        Err(_) => Cow::Owned(serde_json::json!({ "INVALID_JSON": arguments }).to_string()),
    }
}

struct SanitizedContent<'a> {
    content: &'a Content,
    profile: &'a Profile,
    position: usize,
}

impl Serialize for SanitizedContent<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self.content {
            Content::Text(text) => serializer.serialize_str(text),
            Content::Parts(parts) => {
                let has_image = parts.iter().any(|part| matches!(part, ContentPart::ImageUrl { .. }));
                if has_image && !self.profile.supports_images {
                    return Err(S::Error::custom(format!(
                        "messages[{}] has an image part, but the profile \"{}\" does not accept images (Q32)",
                        self.position, self.profile.name
                    )));
                }
                let text_only = parts.iter().all(|part| matches!(part, ContentPart::Text { .. }));
                if self.profile.flatten_text_parts && text_only {
                    serializer.serialize_str(&self.content.text())
                } else {
                    parts.serialize(serializer)
                }
            }
        }
    }
}

//! What a provider accepts: the knobs the client uses to sanitise requests (§2 C and E of the reference).

/// How an assistant turn that has only tool calls writes its `content` (Q17).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ToolCallContent {
    /// `"content": null`, as the spec and OpenAI do. Ollama and LM Studio reject it.
    Null,
    /// `"content": ""`, as Ollama sends. Bedrock-backed gateways reject it.
    Empty,
}

/// Which field carries the token limit (Q27). Only one is ever sent.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MaxTokensField {
    /// `max_tokens`: generic compatible endpoints, MintCloud.
    MaxTokens,
    /// `max_completion_tokens`: OpenAI (o-series and gpt-5 reject `max_tokens`).
    MaxCompletionTokens,
}

/// How a request's `reasoning_effort` is sent.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ReasoningEffortField {
    /// `"reasoning_effort": "low"` at the top level (OpenAI, and the compatible servers that copy it).
    TopLevel,
    /// `"reasoning": {"effort": "low"}` (OpenRouter's unified reasoning parameter).
    Nested,
    /// Not sent: the provider ignores it (Anthropic's compatible endpoint, Q42) or rejects unknown fields.
    Omitted,
}

/// How tool-call ids are written when a conversation is replayed (Q18).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ToolCallIds {
    /// Exactly as the model (or the agent) made them.
    AsIs,
    /// Exactly nine ASCII letters and digits, as Mistral requires. An id already in that form is kept; any
    /// other is mapped by a fixed hash, the same way in `tool_calls[].id` and `tool_call_id`, so a history
    /// with foreign ids (`call_…`, `toolu_…`) still pairs every call with its result.
    NineAlphanumeric,
}

impl ToolCallIds {
    /// The id to send for `id`.
    pub fn apply<'a>(self, id: &'a str) -> std::borrow::Cow<'a, str> {
        use std::borrow::Cow;
        match self {
            ToolCallIds::AsIs => Cow::Borrowed(id),
            ToolCallIds::NineAlphanumeric if id.len() == 9 && id.bytes().all(|b| b.is_ascii_alphanumeric()) => {
                Cow::Borrowed(id)
            }
            ToolCallIds::NineAlphanumeric => {
                const DIGITS: &[u8; 62] = b"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
                // FNV-1a: stable across Rust versions and processes, unlike `DefaultHasher`, so a saved
                // session replays the same ids tomorrow.
                let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
                for byte in id.bytes() {
                    hash = (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3);
                }
                let mapped = (0..9)
                    .map(|_| {
                        let digit = DIGITS[(hash % 62) as usize];
                        hash /= 62;
                        char::from(digit)
                    })
                    .collect();
                Cow::Owned(mapped)
            }
        }
    }
}

/// A provider's capabilities and quirks.
///
/// Start from a preset and adjust fields:
/// ```
/// use toolsmith_core::client::{Profile, ToolCallContent};
///
/// let mut profile = Profile::generic();
/// profile.tool_call_content = ToolCallContent::Empty;
/// assert!(profile.supports_json_schema);
/// ```
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct Profile {
    /// A short name for logs (`"generic"`, `"openai"`...).
    pub name: String,
    /// `null` or `""` as the content of a tool-call-only assistant turn (Q17).
    pub tool_call_content: ToolCallContent,
    /// Send `reasoning_content` back on assistant turns: DeepSeek's thinking mode with tools requires it
    /// (Q15); everyone else gets it stripped.
    pub replay_reasoning: bool,
    /// Send `refusal` back on assistant turns (OpenAI accepts it; strict providers reject unknown fields, Q29).
    pub replay_refusal: bool,
    /// Which field carries the token limit (Q27).
    pub max_tokens_field: MaxTokensField,
    /// Whether `stream_options` is accepted (Groq and Mistral reject it, Q28). When true, streams ask for
    /// `include_usage`.
    pub supports_stream_options: bool,
    /// Whether `response_format: json_schema` is enforced (Anthropic compat ignores it, Q42). The agent uses
    /// this to choose between native structured output and a tool-based fallback (L12).
    pub supports_json_schema: bool,
    /// Whether `tool_choice: "required"` is accepted (Q31). When false it is sent as the named tool if there is
    /// exactly one, else as `auto`.
    pub supports_tool_choice_required: bool,
    /// Send text-only part arrays as a plain string (DeepSeek rejects arrays, Q32).
    pub flatten_text_parts: bool,
    /// Whether image parts are accepted; when false, sending one fails fast with a clear error (Q32).
    pub supports_images: bool,
    /// Whether the `developer` role is accepted; when false it is sent as `system` (§1.1.1).
    pub supports_developer_role: bool,
    /// Clamp `temperature` to this maximum (Anthropic compat clamps to 1 anyway, Q42).
    pub max_temperature: Option<f32>,
    /// How tool-call ids are replayed (Q18: Mistral accepts only nine alphanumerics).
    pub tool_call_ids: ToolCallIds,
    /// How `reasoning_effort` is sent.
    pub reasoning_effort: ReasoningEffortField,
}

impl Default for Profile {
    fn default() -> Self {
        Profile::generic()
    }
}

impl Profile {
    /// Any OpenAI-compatible endpoint (MintCloud, OpenRouter, vLLM...): spec defaults, `max_tokens`, no
    /// `developer` role, reasoning not replayed.
    pub fn generic() -> Self {
        Profile {
            name: "generic".to_owned(),
            tool_call_content: ToolCallContent::Null,
            replay_reasoning: false,
            replay_refusal: false,
            max_tokens_field: MaxTokensField::MaxTokens,
            supports_stream_options: true,
            supports_json_schema: true,
            supports_tool_choice_required: true,
            flatten_text_parts: false,
            supports_images: true,
            supports_developer_role: false,
            max_temperature: None,
            tool_call_ids: ToolCallIds::AsIs,
            reasoning_effort: ReasoningEffortField::TopLevel,
        }
    }

    /// `api.openai.com`: `max_completion_tokens`, `developer` role, refusals replayed.
    pub fn openai() -> Self {
        Profile {
            name: "openai".to_owned(),
            max_tokens_field: MaxTokensField::MaxCompletionTokens,
            replay_refusal: true,
            supports_developer_role: true,
            ..Profile::generic()
        }
    }

    /// Ollama's OpenAI endpoint: `""` content with tool calls (it rejects `null`, Q17, Q43).
    pub fn ollama() -> Self {
        Profile {
            name: "ollama".to_owned(),
            tool_call_content: ToolCallContent::Empty,
            supports_tool_choice_required: false,
            ..Profile::generic()
        }
    }

    /// DeepSeek: reasoning replayed (Q15), text parts flattened and no images (Q32), no `json_schema`.
    pub fn deepseek() -> Self {
        Profile {
            name: "deepseek".to_owned(),
            replay_reasoning: true,
            flatten_text_parts: true,
            supports_images: false,
            supports_json_schema: false,
            ..Profile::generic()
        }
    }

    /// Anthropic's OpenAI-compatible endpoint: `response_format` ignored (Q42), temperature clamped to 1.
    pub fn anthropic_compat() -> Self {
        Profile {
            name: "anthropic_compat".to_owned(),
            supports_json_schema: false,
            supports_developer_role: true,
            max_temperature: Some(1.0),
            reasoning_effort: ReasoningEffortField::Omitted,
            ..Profile::generic()
        }
    }

    /// OpenRouter: reasoning effort as `reasoning: {"effort": ...}` (Q45).
    pub fn openrouter() -> Self {
        Profile { name: "openrouter".to_owned(), reasoning_effort: ReasoningEffortField::Nested, ..Profile::generic() }
    }

    /// llama.cpp's server: `""` content with tool calls.
    pub fn llama_cpp() -> Self {
        Profile { name: "llama_cpp".to_owned(), tool_call_content: ToolCallContent::Empty, ..Profile::generic() }
    }

    /// Groq: no `stream_options` (Q28; usage comes in `x_groq`, Q24).
    pub fn groq() -> Self {
        Profile { name: "groq".to_owned(), supports_stream_options: false, ..Profile::generic() }
    }

    /// Mistral: no `stream_options` (422, Q28), no `tool_choice: "required"` (it says `any`, Q31), tool-call
    /// ids of nine alphanumerics (Q18).
    pub fn mistral() -> Self {
        Profile {
            name: "mistral".to_owned(),
            tool_call_ids: ToolCallIds::NineAlphanumeric,
            supports_stream_options: false,
            supports_tool_choice_required: false,
            ..Profile::generic()
        }
    }

    /// The preset for a base URL's host (`api.openai.com` → [`Profile::openai`], ...), else
    /// [`Profile::generic`].
    pub fn for_base_url(base_url: &str) -> Self {
        let host = base_url.split("://").nth(1).unwrap_or(base_url).split(['/', '?']).next().unwrap_or("");
        let host = host.to_ascii_lowercase();
        if host == "api.openai.com" {
            Profile::openai()
        } else if host.ends_with("deepseek.com") {
            Profile::deepseek()
        } else if host == "api.anthropic.com" {
            Profile::anthropic_compat()
        } else if host == "openrouter.ai" {
            Profile::openrouter()
        } else if host == "api.groq.com" {
            Profile::groq()
        } else if host == "api.mistral.ai" {
            Profile::mistral()
        } else if host.ends_with(":11434") {
            Profile::ollama()
        } else {
            Profile::generic()
        }
    }
}

//! Token usage, summed across turns by the agent (L17).

use std::ops::{Add, AddAssign};

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};

/// Token counts of one response (or, summed, of a whole run).
///
/// Every count is lenient on decode: `null`, missing, or a float all read as a number (LocalAI sends zeros,
/// Q24). Provider additions such as OpenRouter's `cost` or DeepSeek's `prompt_cache_hit_tokens` stay in
/// [`Usage::extra`].
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Usage {
    /// Tokens in the prompt.
    #[serde(default, deserialize_with = "lenient_u64")]
    pub prompt_tokens: u64,
    /// Tokens generated (including reasoning tokens).
    #[serde(default, deserialize_with = "lenient_u64")]
    pub completion_tokens: u64,
    /// Their sum, as the provider reports it.
    #[serde(default, deserialize_with = "lenient_u64")]
    pub total_tokens: u64,
    /// Cached and other prompt-side details.
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "lenient_details")]
    pub prompt_tokens_details: Option<PromptTokensDetails>,
    /// Reasoning and other completion-side details.
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "lenient_details")]
    pub completion_tokens_details: Option<CompletionTokensDetails>,
    /// Fields this crate does not model, kept verbatim (not summed).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `usage.prompt_tokens_details`; every field optional.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PromptTokensDetails {
    /// Prompt tokens served from the provider's cache.
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "lenient_opt_u64")]
    pub cached_tokens: Option<u64>,
    /// Audio input tokens.
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "lenient_opt_u64")]
    pub audio_tokens: Option<u64>,
    /// Text input tokens.
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "lenient_opt_u64")]
    pub text_tokens: Option<u64>,
    /// Image input tokens.
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "lenient_opt_u64")]
    pub image_tokens: Option<u64>,
    /// Tokens written to the cache.
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "lenient_opt_u64")]
    pub cache_write_tokens: Option<u64>,
}

/// `usage.completion_tokens_details`; every field optional.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CompletionTokensDetails {
    /// Tokens spent on hidden reasoning.
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "lenient_opt_u64")]
    pub reasoning_tokens: Option<u64>,
    /// Audio output tokens.
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "lenient_opt_u64")]
    pub audio_tokens: Option<u64>,
    /// Predicted-output tokens that were used.
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "lenient_opt_u64")]
    pub accepted_prediction_tokens: Option<u64>,
    /// Predicted-output tokens that were discarded.
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "lenient_opt_u64")]
    pub rejected_prediction_tokens: Option<u64>,
    /// Text output tokens.
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "lenient_opt_u64")]
    pub text_tokens: Option<u64>,
}

fn add_opt(a: Option<u64>, b: Option<u64>) -> Option<u64> {
    match (a, b) {
        (None, None) => None,
        (a, b) => Some(a.unwrap_or(0).saturating_add(b.unwrap_or(0))),
    }
}

fn add_details<T: AddAssign + Default>(a: &mut Option<T>, b: Option<T>) {
    if let Some(b) = b {
        *a.get_or_insert_with(T::default) += b;
    }
}

impl AddAssign for PromptTokensDetails {
    fn add_assign(&mut self, rhs: Self) {
        self.cached_tokens = add_opt(self.cached_tokens, rhs.cached_tokens);
        self.audio_tokens = add_opt(self.audio_tokens, rhs.audio_tokens);
        self.text_tokens = add_opt(self.text_tokens, rhs.text_tokens);
        self.image_tokens = add_opt(self.image_tokens, rhs.image_tokens);
        self.cache_write_tokens = add_opt(self.cache_write_tokens, rhs.cache_write_tokens);
    }
}

impl AddAssign for CompletionTokensDetails {
    fn add_assign(&mut self, rhs: Self) {
        self.reasoning_tokens = add_opt(self.reasoning_tokens, rhs.reasoning_tokens);
        self.audio_tokens = add_opt(self.audio_tokens, rhs.audio_tokens);
        self.accepted_prediction_tokens = add_opt(self.accepted_prediction_tokens, rhs.accepted_prediction_tokens);
        self.rejected_prediction_tokens = add_opt(self.rejected_prediction_tokens, rhs.rejected_prediction_tokens);
        self.text_tokens = add_opt(self.text_tokens, rhs.text_tokens);
    }
}

impl AddAssign for Usage {
    /// Sums the counts and details (L17); `extra` keeps the left side's fields and adds the right side's new ones.
    fn add_assign(&mut self, rhs: Self) {
        self.prompt_tokens = self.prompt_tokens.saturating_add(rhs.prompt_tokens);
        self.completion_tokens = self.completion_tokens.saturating_add(rhs.completion_tokens);
        self.total_tokens = self.total_tokens.saturating_add(rhs.total_tokens);
        add_details(&mut self.prompt_tokens_details, rhs.prompt_tokens_details);
        add_details(&mut self.completion_tokens_details, rhs.completion_tokens_details);
        for (key, value) in rhs.extra {
            self.extra.entry(key).or_insert(value);
        }
    }
}

impl AddAssign<&Usage> for Usage {
    fn add_assign(&mut self, rhs: &Usage) {
        *self += rhs.clone();
    }
}

impl Add for Usage {
    type Output = Usage;

    fn add(mut self, rhs: Usage) -> Usage {
        self += rhs;
        self
    }
}

impl Usage {
    /// Tokens served from the prompt cache, `0` when not reported.
    pub fn cached_tokens(&self) -> u64 {
        self.prompt_tokens_details.as_ref().and_then(|d| d.cached_tokens).unwrap_or(0)
    }

    /// Reasoning tokens, `0` when not reported.
    pub fn reasoning_tokens(&self) -> u64 {
        self.completion_tokens_details.as_ref().and_then(|d| d.reasoning_tokens).unwrap_or(0)
    }
}

fn number(value: &Value) -> Option<u64> {
    match value {
        Value::Number(n) => n.as_u64().or_else(|| n.as_f64().filter(|f| f.is_finite() && *f >= 0.0).map(|f| f as u64)),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn lenient_u64<'de, D: Deserializer<'de>>(deserializer: D) -> Result<u64, D::Error> {
    Ok(number(&Value::deserialize(deserializer)?).unwrap_or(0))
}

fn lenient_opt_u64<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<u64>, D::Error> {
    Ok(number(&Value::deserialize(deserializer)?))
}

/// Details that are not an object (`null`, a string...) read as absent instead of failing the whole usage.
fn lenient_details<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: serde::de::DeserializeOwned,
{
    let value = Value::deserialize(deserializer)?;
    Ok(if value.is_object() { serde_json::from_value(value).ok() } else { None })
}

/// Reads a `usage` field leniently: anything that is not an object means "no usage".
pub(crate) fn lenient_usage<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<Usage>, D::Error> {
    let value = Value::deserialize(deserializer)?;
    Ok(if value.is_object() { serde_json::from_value(value).ok() } else { None })
}

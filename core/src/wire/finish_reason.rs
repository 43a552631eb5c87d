//! Why a turn ended: an open enum, because providers invent values (Q2).

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The `finish_reason` of a choice.
///
/// Open: an unknown value is kept in [`FinishReason::Other`] instead of failing the decode (Q2:
/// `eos_token`, `eos`, `tool_call`, ...). Compare with [`FinishReason::is_stop_like`] when the exact value does
/// not matter.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum FinishReason {
    /// The model finished its answer (`stop`); the default.
    #[default]
    Stop,
    /// The token limit cut the answer off (`length`).
    Length,
    /// The model asked for tool calls (`tool_calls`).
    ToolCalls,
    /// The provider's content filter stopped the answer (`content_filter`).
    ContentFilter,
    /// The deprecated `function_call` form of a tool call.
    FunctionCall,
    /// OpenRouter's mid-stream failure marker (`error`, §1.4 form 2): a failure, not a finish.
    Error,
    /// Any other value, kept verbatim.
    Other(String),
}

impl FinishReason {
    /// The wire text of this reason.
    pub fn as_str(&self) -> &str {
        match self {
            FinishReason::Stop => "stop",
            FinishReason::Length => "length",
            FinishReason::ToolCalls => "tool_calls",
            FinishReason::ContentFilter => "content_filter",
            FinishReason::FunctionCall => "function_call",
            FinishReason::Error => "error",
            FinishReason::Other(other) => other,
        }
    }

    /// Reads a wire value; never fails.
    pub fn parse(text: &str) -> Self {
        match text {
            "stop" => FinishReason::Stop,
            "length" => FinishReason::Length,
            "tool_calls" => FinishReason::ToolCalls,
            "content_filter" => FinishReason::ContentFilter,
            "function_call" => FinishReason::FunctionCall,
            "error" => FinishReason::Error,
            other => FinishReason::Other(other.to_owned()),
        }
    }

    /// Whether the turn ended normally: `stop` or an unknown value such as `eos_token` (Q2 says to treat
    /// those as stop).
    pub fn is_stop_like(&self) -> bool {
        matches!(self, FinishReason::Stop | FinishReason::Other(_))
    }
}

impl fmt::Display for FinishReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for FinishReason {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for FinishReason {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = std::borrow::Cow::<str>::deserialize(deserializer)?;
        Ok(FinishReason::parse(&text))
    }
}

/// Reads an optional finish reason where `null`, `""` (sglang/TGI, Q2) and non-strings all mean "none yet".
pub(crate) fn lenient_finish_reason<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<FinishReason>, D::Error> {
    Ok(match serde_json::Value::deserialize(deserializer)? {
        serde_json::Value::String(text) if !text.is_empty() => Some(FinishReason::parse(&text)),
        _ => None,
    })
}

//! A finished assistant turn, whichever way it arrived.

use serde::{Deserialize, Serialize};

use super::{AssistantMessage, FinishReason, Usage};

/// One finished assistant turn: the message, why it ended, and what it cost. Folded from a stream's chunks
/// by the completion step above this one (`stream::Accumulator`), or taken from a whole response
/// ([`ChatResponse::into_completion`](crate::wire::ChatResponse::into_completion)).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Completion {
    /// Text, refusal, reasoning and tool calls, ready to be appended to the history.
    pub message: AssistantMessage,
    /// Why the turn ended, normalised: a missing reason becomes `ToolCalls` when complete tool calls arrived
    /// and `Stop` otherwise (Q3). Decide whether to run tools from `message.tool_calls`, not from this (Q1).
    pub finish_reason: FinishReason,
    /// Usage, when the provider reported it (the last non-null one in a stream, Q24).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usage: Option<Usage>,
    /// The completion id (first non-empty one seen, Q25).
    #[serde(default)]
    pub id: String,
    /// The model that answered (first non-empty one seen, Q25).
    #[serde(default)]
    pub model: String,
}

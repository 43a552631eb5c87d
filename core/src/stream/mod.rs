//! Folding a streamed (or non-streamed) answer into one finished assistant turn.

mod accumulator;

pub use accumulator::Accumulator;

/// How many tool calls one turn may have by default ([`Accumulator::with_max_tool_calls`], the agent's
/// `max_tool_calls`): far more than a real turn makes, few enough that a hostile stream cannot make the
/// client hold millions of calls.
pub const DEFAULT_MAX_TOOL_CALLS: usize = 128;

/// The [`ClientError::Stream`](crate::client::ClientError::Stream) `code` of a turn with more tool calls than
/// the limit.
pub const TOO_MANY_TOOL_CALLS: &str = "too_many_tool_calls";

use serde::{Deserialize, Serialize};

use crate::wire::{AssistantMessage, FinishReason, Usage};

/// One finished assistant turn: the message, why it ended, and what it cost.
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

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::wire::{Message, Usage};

/// A finished run: the final answer and everything that led to it.
///
/// The [`Transcript`] fields (`messages`, `usage`, `turns`, `tool_calls`) are read through it directly
/// (`run.messages`): a result is a transcript with an answer.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RunResult {
    /// The final assistant text.
    pub output: String,
    /// The transcript, as sent to the model: instructions, input, every assistant turn and tool result, and
    /// the final answer. For [`Session::send`](super::Session::send), only the messages this exchange added.
    #[serde(flatten)]
    pub transcript: Transcript,
}

impl std::ops::Deref for RunResult {
    type Target = Transcript;

    fn deref(&self) -> &Transcript {
        &self.transcript
    }
}

impl std::ops::DerefMut for RunResult {
    fn deref_mut(&mut self) -> &mut Transcript {
        &mut self.transcript
    }
}

/// What a run had done when it stopped with an [`Error`](super::Error): nothing is lost (L20).
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Transcript {
    /// The messages so far; the history always ends in a state a strict provider accepts (every tool call
    /// answered).
    pub messages: Vec<Message>,
    /// Token usage summed over the turns that completed.
    pub usage: Usage,
    /// How many model requests completed.
    pub turns: usize,
    /// The tool calls handled so far.
    pub tool_calls: Vec<ToolCallRecord>,
}

/// One tool call as the run handled it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ToolCallRecord {
    /// The call's id (generated when the model sent none or a duplicate).
    pub id: String,
    /// The tool name the model asked for.
    pub name: String,
    /// The arguments that were used (after a before-tool-call hook's rewrite).
    pub arguments: String,
    /// The text sent back to the model.
    pub result: String,
    /// How the call ended.
    pub outcome: ToolOutcome,
    /// Time spent on the call, hook included.
    #[serde(with = "duration_ms")]
    pub duration: Duration,
    /// What is known locally but was not sent to the model, e.g. a panic's message (it may hold secrets).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// Tokens the call spent on model requests of its own (an [`Agent::as_tool`](super::Agent::as_tool)
    /// sub-run), also counted in the run's usage.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usage: Option<Usage>,
}

impl ToolCallRecord {
    /// The record of `call` answered with `result`, ending as `outcome`.
    pub fn new(call: &crate::wire::ToolCall, result: impl Into<String>, outcome: ToolOutcome) -> Self {
        Self::from_call(call.clone(), result.into(), outcome)
    }

    /// [`new`](Self::new) taking the call: its id, name and arguments move into the record.
    pub(crate) fn from_call(call: crate::wire::ToolCall, result: String, outcome: ToolOutcome) -> Self {
        let crate::wire::ToolCall { id, function, .. } = call;
        ToolCallRecord {
            id,
            name: function.name,
            arguments: function.arguments,
            result,
            outcome,
            duration: Duration::ZERO,
            detail: None,
            usage: None,
        }
    }

    /// Whether the model was sent an error for this call.
    pub fn is_error(&self) -> bool {
        self.outcome.is_error()
    }
}

/// How one tool call ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ToolOutcome {
    /// The tool returned a result.
    Success,
    /// The tool returned its own error.
    Failed,
    /// The arguments did not decode (L5).
    InvalidArguments,
    /// The model named a tool that does not exist (L6).
    UnknownTool,
    /// The tool panicked; the panic was caught (L4).
    Panicked,
    /// The tool ran past the agent's per-tool timeout.
    TimedOut,
    /// The before-tool-call hook denied the call.
    Denied,
    /// The before-tool-call hook panicked; the call was not run (fail closed).
    ApprovalFailed,
}

impl ToolOutcome {
    /// Whether the model was sent an error for a call that ended this way.
    pub fn is_error(self) -> bool {
        self != ToolOutcome::Success
    }

    /// Whether this outcome is a mistake the model should learn from, counted against the tool's budget of
    /// consecutive failures (L7). A denial is a person's decision, and a failed approval the application's
    /// fault, not the model's mistake.
    pub(crate) fn counts_as_failure(self) -> bool {
        !matches!(self, ToolOutcome::Success | ToolOutcome::Denied | ToolOutcome::ApprovalFailed)
    }
}

mod duration_ms {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(duration: &Duration, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_f64(duration.as_secs_f64() * 1000.0)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Duration, D::Error> {
        let millis = f64::deserialize(deserializer)?;
        Ok(Duration::try_from_secs_f64(millis / 1000.0).unwrap_or_default())
    }
}

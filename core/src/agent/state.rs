//! A run's state as plain data: everything that decides the next step, serializable at every boundary.

use std::collections::{BTreeMap, HashSet};

use serde::{Deserialize, Deserializer, Serialize};

use crate::stream::Completion;
use crate::wire::{Message, ToolCall};

use super::result::{ToolCallRecord, Transcript};

/// The [`RunState`] format this build writes, and the newest one it reads.
pub const RUN_STATE_VERSION: u32 = 1;

/// Everything a run has done and everything that decides what it does next, as plain data: no handles, no
/// clocks, no randomness. The [`Agent`](super::Agent) (client, tools, settings) is passed alongside, so a state
/// saved in one process resumes in another that builds the same agent.
///
/// Serialized, it starts with its `version`; a state written by a newer build is refused with
/// [`StateError::UnsupportedVersion`] (through [`RunState::from_json`]) or with a deserialization error saying
/// the same (through any other serde format), never misread.
///
/// See [`Agent::next_step`](super::Agent::next_step) for the loop that steps it.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RunState {
    #[serde(deserialize_with = "known_version")]
    version: u32,
    /// Messages, usage, completed turns and handled tool calls so far.
    pub(crate) transcript: Transcript,
    /// Consecutive failures per tool name (L7).
    pub(crate) failures: BTreeMap<String, usize>,
    /// The counter behind generated tool-call ids (L16): ids come from the state, so a replay makes the same.
    pub(crate) next_id: u64,
    /// Which kind of answer the run was started for; an agent with another kind may not step it.
    pub(crate) output: OutputKind,
    /// Answers rejected by the output check so far (L12).
    pub(crate) output_attempts: usize,
    /// Where the run stands.
    pub(crate) phase: Phase,
    /// Every tool-call id in `transcript.messages`, rebuilt from the messages when needed.
    #[serde(skip)]
    pub(crate) seen_ids: Option<HashSet<String>>,
}

/// The kind of final answer a run expects.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum OutputKind {
    Text,
    /// `response_format: json_schema`.
    Native,
    /// The `final_result` tool.
    Tool,
}

/// Where a run stands between two steps.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(tag = "phase", rename_all = "snake_case")]
pub(crate) enum Phase {
    /// The next step asks the model.
    Request,
    /// The model answered; the next step classifies the turn.
    Received { completion: Box<Completion> },
    /// The calls of the last assistant turn are being answered.
    Tools(ToolsPhase),
    /// The run ended and its result was handed out.
    Ended,
}

/// The calls of one assistant turn (already in the history) and the answers received so far.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct ToolsPhase {
    /// Every call of the turn, in the model's order.
    pub calls: Vec<ToolCall>,
    /// One slot per call; `None` while the call is pending.
    pub answers: Vec<Option<Answer>>,
    /// The position of the `final_result` call, when the answer comes through that tool.
    pub final_index: Option<usize>,
}

/// How one call of a turn was answered.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub(crate) enum Answer {
    /// A tool ran (or was refused); recorded in the transcript.
    Tool { record: Box<ToolCallRecord> },
    /// The `final_result` call: its tool message and the answer it carries, or why it was rejected.
    Final { text: String, answer: Result<String, String> },
}

/// A tool call the run is waiting for: run it with [`Agent::call_tool`](super::Agent::call_tool) (or
/// [`approve`](super::Agent::approve) then [`execute_tool`](super::Agent::execute_tool)), then hand the
/// record to [`Agent::record_tool_call`](super::Agent::record_tool_call).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PendingCall {
    /// The call's position in its assistant turn.
    pub index: usize,
    /// The call, with its id already made unique (L16).
    pub call: ToolCall,
}

/// Why a [`RunState`] could not be read or stepped.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum StateError {
    /// The state was written by a newer build whose format this one does not know.
    #[error(
        "the run state has version {found}, newer than this build supports ({supported}); resume it with a newer toolsmith"
    )]
    UnsupportedVersion {
        /// The state's version.
        found: u32,
        /// [`RUN_STATE_VERSION`] of this build.
        supported: u32,
    },
    /// The state is not a valid run state.
    #[error("invalid run state: {0}")]
    Invalid(String),
    /// A result was handed to a state that was not waiting for it (e.g. a completion while tool calls were
    /// pending, or a record for a call the turn does not have).
    #[error("the run state is not waiting for this: {0}")]
    Unexpected(String),
}

fn known_version<'de, D: Deserializer<'de>>(deserializer: D) -> Result<u32, D::Error> {
    let version = u32::deserialize(deserializer)?;
    RunState::check_version(version).map_err(serde::de::Error::custom)?;
    Ok(version)
}

impl RunState {
    pub(crate) fn new(messages: Vec<Message>, output: OutputKind) -> Self {
        RunState {
            version: RUN_STATE_VERSION,
            transcript: Transcript { messages, ..Transcript::default() },
            failures: BTreeMap::new(),
            next_id: 0,
            output,
            output_attempts: 0,
            phase: Phase::Request,
            seen_ids: None,
        }
    }

    /// Reads a state saved as JSON, refusing one from a newer build with [`StateError::UnsupportedVersion`].
    pub fn from_json(json: &str) -> Result<RunState, StateError> {
        #[derive(Deserialize)]
        struct Version {
            version: u32,
        }
        let Version { version } = serde_json::from_str(json).map_err(|e| StateError::Invalid(e.to_string()))?;
        Self::check_version(version)?;
        serde_json::from_str(json).map_err(|e| StateError::Invalid(e.to_string()))
    }

    /// Whether this build can read a state of `version`.
    pub fn check_version(version: u32) -> Result<(), StateError> {
        if version > RUN_STATE_VERSION {
            return Err(StateError::UnsupportedVersion { found: version, supported: RUN_STATE_VERSION });
        }
        Ok(())
    }

    /// The format version this state was written with.
    pub fn version(&self) -> u32 {
        self.version
    }

    /// The conversation so far. Between steps it may end with an assistant turn whose calls are still pending.
    pub fn messages(&self) -> &[Message] {
        &self.transcript.messages
    }

    /// Messages, usage, turns and tool calls so far.
    pub fn transcript(&self) -> &Transcript {
        &self.transcript
    }

    /// How many model requests completed.
    pub fn turns(&self) -> usize {
        self.transcript.turns
    }

    /// The calls of the current turn that have no result yet, in call order.
    pub fn pending_calls(&self) -> Vec<PendingCall> {
        match &self.phase {
            Phase::Tools(tools) => tools.pending(),
            _ => Vec::new(),
        }
    }

    /// Whether the run has ended (its result was handed out by [`Agent::next_step`](super::Agent::next_step)).
    pub fn is_ended(&self) -> bool {
        matches!(self.phase, Phase::Ended)
    }

    /// Call `index` of the turn whose calls are being answered.
    pub(crate) fn tool_call(&self, index: usize) -> Option<&ToolCall> {
        match &self.phase {
            Phase::Tools(tools) => tools.calls.get(index),
            _ => None,
        }
    }

    /// The transcript, leaving the state ended.
    pub(crate) fn take_transcript(&mut self) -> Box<Transcript> {
        self.phase = Phase::Ended;
        Box::new(std::mem::take(&mut self.transcript))
    }
}

impl ToolsPhase {
    pub(crate) fn pending(&self) -> Vec<PendingCall> {
        self.calls
            .iter()
            .zip(&self.answers)
            .enumerate()
            .filter(|(_, (_, answer))| answer.is_none())
            .map(|(index, (call, _))| PendingCall { index, call: call.clone() })
            .collect()
    }
}

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::wire::{FinishReason, Usage};

use super::result::{RunResult, ToolOutcome};

/// What a streamed run reports, in order, as it happens.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum AgentEvent {
    /// Assistant text, forwarded as soon as its chunk arrives.
    TextDelta(String),
    /// Reasoning text (`reasoning_content` / `reasoning`), forwarded as it arrives.
    ReasoningDelta(String),
    /// A fragment of a tool call as the model streams it, for UIs that show arguments being written. The
    /// fragments of one call add up to the arguments of its [`ToolCallStarted`](Self::ToolCallStarted).
    ToolCallDelta {
        /// The call's position in the turn, as the provider numbers it (`None` when it sent no index).
        index: Option<u32>,
        /// The call's id, in the fragment that carries it (the id may still be replaced, L16).
        id: Option<String>,
        /// The tool's name, in the fragment that carries it.
        name: Option<String>,
        /// The next piece of the arguments' JSON text (may be empty; a provider that sends the arguments as
        /// one JSON object sends them whole, Q12).
        arguments: String,
    },
    /// A tool call is about to run.
    ToolCallStarted {
        /// The call's id.
        id: String,
        /// The tool's name.
        name: String,
        /// The arguments as sent by the model.
        arguments: String,
    },
    /// A tool call finished; `result` is the text the model will see.
    ToolCallFinished {
        /// The call's id.
        id: String,
        /// The tool's name.
        name: String,
        /// The text sent back to the model.
        result: String,
        /// How the call ended.
        outcome: ToolOutcome,
        /// Whether `result` reports an error.
        is_error: bool,
        /// How long the call took.
        duration: Duration,
    },
    /// A model turn finished.
    TurnFinished {
        /// The turn's number, from 1.
        turn: usize,
        /// The provider's finish reason.
        finish_reason: FinishReason,
        /// The turn's usage, when the provider reported it (boxed: a `Usage` is four times the size of any
        /// other event, and every event is moved through the queue).
        usage: Option<Box<Usage>>,
    },
    /// The run finished; this is the last event.
    Done(Box<RunResult>),
}

/// The events of a streamed run, waiting for the stream to hand them out.
///
/// A plain queue, not a channel: pushing wakes nobody. Events pushed while the run is being polled are
/// picked up by the same `poll_next`, and a tool task pushes its event before it completes, which wakes the
/// run. A channel's wake-ups instead rescheduled the reading task once per event and woke idle runtime
/// workers, costing CPU time per streamed chunk.
#[derive(Clone, Default)]
pub(crate) struct EventQueue(Arc<Mutex<VecDeque<AgentEvent>>>);

impl EventQueue {
    pub(crate) fn push(&self, event: AgentEvent) {
        self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).push_back(event);
    }

    /// Moves every queued event to the back of `into`, with one lock. Empty, `into` trades buffers with the
    /// queue: no event is copied and both keep their room.
    pub(crate) fn take_all(&self, into: &mut VecDeque<AgentEvent>) {
        let mut queued = self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if into.is_empty() {
            std::mem::swap(&mut *queued, into);
        } else {
            into.append(&mut queued);
        }
    }
}

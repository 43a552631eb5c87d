use crate::client::ClientError;
use crate::stream::Completion;
use crate::wire::FinishReason;

use super::result::Transcript;
use super::state::StateError;

/// Why a run stopped without a final answer. Every variant carries the [`Transcript`] so far (L20).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The model request failed (HTTP status, timeout, connection, malformed or interrupted stream).
    #[error("model request failed: {source}")]
    Client {
        /// What the client reported.
        #[source]
        source: ClientError,
        /// The run so far.
        transcript: Box<Transcript>,
    },
    /// The model's turn was cut off (`length` or `content_filter`); none of its tool calls ran (L2, Q5).
    #[error("the model's turn was cut off (finish_reason `{}`); no tool call of that turn ran", finish_reason.as_str())]
    Truncated {
        /// `length`, `content_filter`, ...
        finish_reason: FinishReason,
        /// The cut-off turn, not added to the transcript.
        completion: Box<Completion>,
        /// The run so far.
        transcript: Box<Transcript>,
    },
    /// The model refused to answer (L14).
    #[error("the model refused: {refusal}")]
    Refusal {
        /// The refusal text.
        refusal: String,
        /// The run so far.
        transcript: Box<Transcript>,
    },
    /// The run reached `max_turns` model requests while the model still called tools (L3).
    #[error("max turns ({max_turns}) exceeded")]
    MaxTurns {
        /// The configured limit.
        max_turns: usize,
        /// The run so far.
        transcript: Box<Transcript>,
    },
    /// A tool failed more times in a row than the retry budget allows (L7).
    #[error("tool `{tool}` failed {failures} times in a row (budget {budget}); last error: {last_error}")]
    ToolRetriesExceeded {
        /// The tool's name as the model called it.
        tool: String,
        /// Consecutive failures.
        failures: usize,
        /// The configured budget.
        budget: usize,
        /// The last error text sent to the model.
        last_error: String,
        /// The run so far.
        transcript: Box<Transcript>,
    },
    /// The final answer did not decode into the requested type within the output retry budget (L12).
    #[error("the final answer did not match the output type after {attempts} attempts: {message}")]
    InvalidOutput {
        /// How many answers were tried.
        attempts: usize,
        /// The last decoding error.
        message: String,
        /// The last answer.
        raw: String,
        /// The run so far.
        transcript: Box<Transcript>,
    },
    /// A [`RunState`](super::RunState) was stepped in a way it does not allow: by an agent with another
    /// output kind, after it ended, or with a result it was not waiting for.
    #[error("{source}")]
    InvalidState {
        /// What was wrong.
        #[source]
        source: StateError,
        /// The run so far.
        transcript: Box<Transcript>,
    },
}

impl Error {
    /// The run so far: messages, usage, turns and tool calls.
    pub fn transcript(&self) -> &Transcript {
        match self {
            Error::Client { transcript, .. }
            | Error::Truncated { transcript, .. }
            | Error::Refusal { transcript, .. }
            | Error::MaxTurns { transcript, .. }
            | Error::ToolRetriesExceeded { transcript, .. }
            | Error::InvalidOutput { transcript, .. }
            | Error::InvalidState { transcript, .. } => transcript,
        }
    }

    /// Takes the transcript out of the error.
    pub fn into_transcript(self) -> Transcript {
        match self {
            Error::Client { transcript, .. }
            | Error::Truncated { transcript, .. }
            | Error::Refusal { transcript, .. }
            | Error::MaxTurns { transcript, .. }
            | Error::ToolRetriesExceeded { transcript, .. }
            | Error::InvalidOutput { transcript, .. }
            | Error::InvalidState { transcript, .. } => *transcript,
        }
    }

    /// Whether running again could succeed (a retryable transport or stream error).
    pub fn is_retryable(&self) -> bool {
        matches!(self, Error::Client { source, .. } if source.is_retryable())
    }
}

use crate::client::ClientError;
use crate::stream::Completion;
use crate::wire::FinishReason;

use std::time::Duration;

use super::limits::UsageLimit;
use super::result::Transcript;
use super::state::StateError;

/// Why a run stopped without a final answer. Every variant carries the [`Transcript`] so far (L20).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The model request failed (HTTP status, timeout, connection, malformed or interrupted stream).
    #[error("model request failed: {source}")]
    Client {
        /// What the client reported (boxed: it is large, and errors travel in `Result`s).
        #[source]
        source: Box<ClientError>,
        /// What the failed turn had streamed before it failed (a timeout, a broken connection, an in-band
        /// error...), when anything had arrived; not added to the transcript. See [`Error::partial`].
        partial: Option<Box<Completion>>,
        /// The run so far.
        transcript: Box<Transcript>,
    },
    /// The model made more tool calls in one turn than [`max_tool_calls`](super::AgentBuilder::max_tool_calls)
    /// allows; none of them ran and the turn is not in the transcript.
    #[error("the model made more than {limit} tool calls in one turn; none of them ran")]
    TooManyToolCalls {
        /// The configured limit.
        limit: usize,
        /// The turn (in a stream: up to the call past the limit).
        completion: Box<Completion>,
        /// The run so far.
        transcript: Box<Transcript>,
    },
    /// A [`UsageLimits`](super::UsageLimits) ceiling was reached: checked before each model request (and
    /// before a turn's tool calls run, for the tool-call limit).
    #[error("usage limit reached: the run would pass {limit} ({used} used or asked for)")]
    UsageLimitExceeded {
        /// The limit that was reached.
        limit: UsageLimit,
        /// How much was used (or would have been, for requests and tool calls).
        used: u64,
        /// The run so far.
        transcript: Box<Transcript>,
    },
    /// The run took longer than [`run_timeout`](super::AgentBuilder::run_timeout) (model requests, their
    /// retries and tool calls together). Calls cut short are answered in the transcript as timed out.
    #[error("the run did not finish within {:.1} s", timeout.as_secs_f64())]
    RunTimeout {
        /// The configured limit.
        timeout: Duration,
        /// What the turn cut short had streamed, if anything.
        partial: Option<Box<Completion>>,
        /// The run so far.
        transcript: Box<Transcript>,
    },
    /// The [`history_processor`](super::AgentBuilder::history_processor) returned a history a provider would
    /// reject (a tool call without its result, a result without its call, nothing at all); nothing was sent.
    #[error("the history processor's output cannot be sent: {message}")]
    InvalidHistory {
        /// What is wrong with it.
        message: String,
        /// The run so far (the history before processing).
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
            | Error::InvalidState { transcript, .. }
            | Error::TooManyToolCalls { transcript, .. }
            | Error::UsageLimitExceeded { transcript, .. }
            | Error::RunTimeout { transcript, .. }
            | Error::InvalidHistory { transcript, .. } => transcript,
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
            | Error::InvalidState { transcript, .. }
            | Error::TooManyToolCalls { transcript, .. }
            | Error::UsageLimitExceeded { transcript, .. }
            | Error::RunTimeout { transcript, .. }
            | Error::InvalidHistory { transcript, .. } => *transcript,
        }
    }

    /// The model turn that failed or was refused, as far as it arrived: what a stream had delivered before a
    /// timeout, a broken connection, an in-band error or a decoding error; a cut-off turn; a turn with too many
    /// tool calls. Never part of the transcript, whose history stays valid.
    pub fn partial(&self) -> Option<&Completion> {
        match self {
            Error::Client { partial: Some(partial), .. } | Error::RunTimeout { partial: Some(partial), .. } => {
                Some(partial)
            }
            Error::Client { source, .. } => source.partial(),
            Error::Truncated { completion, .. } | Error::TooManyToolCalls { completion, .. } => Some(completion),
            _ => None,
        }
    }

    /// Whether running again could succeed (a retryable transport or stream error).
    pub fn is_retryable(&self) -> bool {
        matches!(self, Error::Client { source, .. } if source.is_retryable())
    }
}

//! What a durable run hands back: the answer, or why there is none, with the conversation so far either way.

use serde::{Deserialize, Serialize};
use toolsmith_core::agent::{Error, RunResult, Transcript};

/// The output of a durable run or session exchange, as JSON (`status` tells which):
///
/// ```json
/// {"status": "completed", "output": "...", "messages": [...], "usage": {...}, "turns": 2, "tool_calls": [...]}
/// {"status": "failed", "error": "max turns (10) exceeded", "messages": [...], "usage": {...}, ...}
/// ```
///
/// A failed run is a result too (the handler succeeds, and Restate does not retry it): the error says why, and
/// the transcript keeps everything the run did (L20).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum RunOutcome {
    /// The model gave its final answer.
    Completed {
        /// The answer and the transcript.
        #[serde(flatten)]
        result: RunResult,
    },
    /// The run stopped without an answer.
    Failed {
        /// Why, as the agent's [`Error`] says it.
        error: String,
        /// What the run had done.
        #[serde(flatten)]
        transcript: Transcript,
    },
}

impl RunOutcome {
    /// The final answer, when the run completed.
    pub fn output(&self) -> Option<&str> {
        match self {
            RunOutcome::Completed { result } => Some(&result.output),
            RunOutcome::Failed { .. } => None,
        }
    }

    /// The transcript, whichever way the run ended.
    pub fn transcript(&self) -> &Transcript {
        match self {
            RunOutcome::Completed { result } => &result.transcript,
            RunOutcome::Failed { transcript, .. } => transcript,
        }
    }
}

impl From<Result<RunResult, Error>> for RunOutcome {
    fn from(result: Result<RunResult, Error>) -> Self {
        match result {
            Ok(result) => RunOutcome::Completed { result },
            Err(error) => {
                let message = error.to_string();
                RunOutcome::Failed { error: message, transcript: error.into_transcript() }
            }
        }
    }
}

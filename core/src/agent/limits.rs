//! Usage limits of a run, checked before every model request (and the tool-call limit before calls run), as
//! pydantic-ai's `UsageLimits` does.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::result::Transcript;

/// Ceilings on what one run may consume; each `None` (the default) is unlimited. A run that reaches one ends
/// with [`Error::UsageLimitExceeded`](super::Error::UsageLimitExceeded), carrying the transcript.
///
/// ```
/// use toolsmith_core::agent::UsageLimits;
///
/// let limits = UsageLimits::new().requests(5).total_tokens(20_000).tool_calls(12);
/// assert_eq!(limits.requests, Some(5));
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct UsageLimits {
    /// Model requests per run (a request is refused when it would be one too many).
    pub requests: Option<u64>,
    /// Tool calls per run (a turn whose calls would pass it runs none of them).
    pub tool_calls: Option<u64>,
    /// Prompt tokens summed over the run (checked before each request: the run stops once past it).
    pub input_tokens: Option<u64>,
    /// Completion tokens summed over the run (checked before each request).
    pub output_tokens: Option<u64>,
    /// Total tokens summed over the run (checked before each request).
    pub total_tokens: Option<u64>,
}

/// Which limit of [`UsageLimits`] a run reached, with its value.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum UsageLimit {
    /// [`UsageLimits::requests`].
    Requests(u64),
    /// [`UsageLimits::tool_calls`].
    ToolCalls(u64),
    /// [`UsageLimits::input_tokens`].
    InputTokens(u64),
    /// [`UsageLimits::output_tokens`].
    OutputTokens(u64),
    /// [`UsageLimits::total_tokens`].
    TotalTokens(u64),
}

impl fmt::Display for UsageLimit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            UsageLimit::Requests(limit) => write!(f, "{limit} requests"),
            UsageLimit::ToolCalls(limit) => write!(f, "{limit} tool calls"),
            UsageLimit::InputTokens(limit) => write!(f, "{limit} input tokens"),
            UsageLimit::OutputTokens(limit) => write!(f, "{limit} output tokens"),
            UsageLimit::TotalTokens(limit) => write!(f, "{limit} total tokens"),
        }
    }
}

impl UsageLimits {
    /// No limits.
    pub fn new() -> Self {
        Self::default()
    }

    /// At most `limit` model requests.
    pub fn requests(mut self, limit: u64) -> Self {
        self.requests = Some(limit);
        self
    }

    /// At most `limit` tool calls.
    pub fn tool_calls(mut self, limit: u64) -> Self {
        self.tool_calls = Some(limit);
        self
    }

    /// At most `limit` prompt tokens.
    pub fn input_tokens(mut self, limit: u64) -> Self {
        self.input_tokens = Some(limit);
        self
    }

    /// At most `limit` completion tokens.
    pub fn output_tokens(mut self, limit: u64) -> Self {
        self.output_tokens = Some(limit);
        self
    }

    /// At most `limit` tokens in all.
    pub fn total_tokens(mut self, limit: u64) -> Self {
        self.total_tokens = Some(limit);
        self
    }

    /// The limit the next model request would break, and how much was used.
    pub(crate) fn before_request(&self, transcript: &Transcript) -> Option<(UsageLimit, u64)> {
        let usage = &transcript.usage;
        let requests = transcript.turns as u64;
        let total =
            if usage.total_tokens > 0 { usage.total_tokens } else { usage.prompt_tokens + usage.completion_tokens };
        let checks = [
            (self.requests, requests + 1, UsageLimit::Requests as fn(u64) -> UsageLimit),
            (self.input_tokens, usage.prompt_tokens, UsageLimit::InputTokens),
            (self.output_tokens, usage.completion_tokens, UsageLimit::OutputTokens),
            (self.total_tokens, total, UsageLimit::TotalTokens),
        ];
        checks
            .into_iter()
            .find_map(|(limit, used, kind)| limit.filter(|limit| used > *limit).map(|limit| (kind(limit), used)))
    }

    /// The limit running `calls` more tool calls would break, and how many that would make.
    pub(crate) fn before_tool_calls(&self, transcript: &Transcript, calls: usize) -> Option<(UsageLimit, u64)> {
        let after = (transcript.tool_calls.len() + calls) as u64;
        self.tool_calls.filter(|limit| after > *limit).map(|limit| (UsageLimit::ToolCalls(limit), after))
    }
}

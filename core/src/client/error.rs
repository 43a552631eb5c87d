//! The one error type of the client.

use std::fmt;
use std::time::Duration;

use crate::wire::Completion;
use crate::wire::SNIPPET_LIMIT;
use crate::wire::error_body::floor_char_boundary;

/// Which deadline ran out.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TimeoutPhase {
    /// Opening the TCP/TLS connection.
    Connect,
    /// No byte arrived for the idle timeout (comments and keep-alives count as bytes, L19).
    Idle,
    /// The whole request, including reading the body or the stream, took longer than the total timeout.
    Total,
}

impl fmt::Display for TimeoutPhase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TimeoutPhase::Connect => "connect",
            TimeoutPhase::Idle => "idle",
            TimeoutPhase::Total => "total",
        })
    }
}

/// Text from outside (a provider's message, a transport's description) as `Display` shows it: at most
/// [`SNIPPET_LIMIT`] bytes, so an error printed or logged stays a few KiB whatever the server sent.
struct Bounded<'a>(&'a str);

impl fmt::Display for Bounded<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.len() <= SNIPPET_LIMIT {
            return f.write_str(self.0);
        }
        f.write_str(&self.0[..floor_char_boundary(self.0, SNIPPET_LIMIT)])?;
        f.write_str("…")
    }
}

/// Everything that can go wrong talking to a Chat Completions endpoint.
///
/// Kept small (the rarely read `Status` fields are `Box<str>`) so that errors wrapping it stay under clippy's
/// `result_large_err` limit.
#[derive(Clone, Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ClientError {
    /// The provider answered with an error status; its message, type, code and param are parsed from every
    /// known error body shape (Q35).
    #[error("HTTP {status}: {}", Bounded(message))]
    Status {
        /// The HTTP status (or `200` for an error body inside a successful non-stream response).
        status: u16,
        /// The provider's message, or a truncated raw body when it is not JSON.
        message: String,
        /// The error `type` (`invalid_request_error`, `insufficient_quota`...).
        kind: Option<Box<str>>,
        /// The error `code` (`rate_limit_exceeded`, `tool_use_failed` (Q16), `"3280"`...).
        code: Option<Box<str>>,
        /// The parameter the provider blamed.
        param: Option<Box<str>>,
        /// The start of the raw body (at most [`crate::wire::SNIPPET_LIMIT`] bytes).
        body_snippet: Box<str>,
        /// The delay the server asked for (`retry-after-ms` / `retry-after`).
        retry_after: Option<Duration>,
    },
    /// A deadline ran out.
    #[error("{phase} timeout")]
    Timeout {
        /// Which one.
        phase: TimeoutPhase,
    },
    /// The connection could not be made or broke before any content was handed out.
    #[error("connection failed: {}", Bounded(message))]
    Connect {
        /// What the transport said.
        message: String,
    },
    /// The body was not what the protocol says (not JSON, not a completion...).
    #[error("could not decode the response: {}", Bounded(message))]
    Decode {
        /// What was wrong.
        message: String,
        /// The start of the offending text.
        snippet: String,
    },
    /// The stream failed after it started: an in-band error event, `finish_reason: "error"`, or a connection
    /// that ended before the turn was complete (§1.4, Q34, Q36). `partial` holds what arrived.
    #[error("stream failed: {}", Bounded(message))]
    Stream {
        /// What happened.
        message: String,
        /// The provider's error code, when it sent one.
        code: Option<String>,
        /// The part of the turn received before the failure.
        partial: Box<Completion>,
        /// Whether re-running the whole turn may succeed. The client never does this itself once content has
        /// been handed out (L18).
        retryable: bool,
    },
    /// The response body exceeded the configured size limit.
    #[error("the response exceeded the size limit of {limit} bytes")]
    TooLarge {
        /// The limit, in bytes.
        limit: u64,
    },
    /// The client or the request is misconfigured (missing API key, invalid URL or header, an image sent to
    /// a text-only profile...).
    #[error("configuration error: {}", Bounded(message))]
    Config {
        /// What is wrong, and what to set.
        message: String,
    },
}

impl ClientError {
    /// Whether trying again could succeed (L18, Q37): 408, 409, 429 (except `insufficient_quota` and
    /// "Request too large"), 5xx, connection errors and timeouts, and streams marked retryable.
    pub fn is_retryable(&self) -> bool {
        match self {
            ClientError::Status { status, message, kind, code, .. } => {
                status_is_retryable(*status, message, kind.as_deref(), code.as_deref())
            }
            ClientError::Timeout { .. } | ClientError::Connect { .. } => true,
            ClientError::Stream { retryable, .. } => *retryable,
            ClientError::Decode { .. } | ClientError::TooLarge { .. } | ClientError::Config { .. } => false,
        }
    }

    /// The HTTP status, for [`ClientError::Status`].
    pub fn status(&self) -> Option<u16> {
        match self {
            ClientError::Status { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// The partial turn carried by a [`ClientError::Stream`].
    pub fn partial(&self) -> Option<&Completion> {
        match self {
            ClientError::Stream { partial, .. } => Some(partial),
            _ => None,
        }
    }

    pub(crate) fn config(message: impl Into<String>) -> Self {
        ClientError::Config { message: message.into() }
    }
}

/// Q37: a 429 that can never succeed is permanent.
pub(crate) fn status_is_retryable(status: u16, message: &str, kind: Option<&str>, code: Option<&str>) -> bool {
    if code == Some("insufficient_quota") || kind == Some("insufficient_quota") || message.contains("Request too large")
    {
        return false;
    }
    match status {
        408 | 409 | 429 => true,
        500..=599 => true,
        // An error body inside a 200: trust a numeric code (OpenRouter uses HTTP statuses as codes).
        200 => code.and_then(|c| c.parse::<u16>().ok()).is_some_and(|c| matches!(c, 408 | 409 | 429 | 500..=599)),
        _ => false,
    }
}

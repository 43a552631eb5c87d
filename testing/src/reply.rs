//! [`Reply`]: one scripted response of the [`TestServer`](super::TestServer).

use std::time::Duration;

use bytes::Bytes;
use serde_json::Value;

use toolsmith_core::wire::{AssistantMessage, Content, ToolCall};

/// One response of the test server, served as JSON or as an SSE stream depending on the request's `stream`.
///
/// ```
/// use std::time::Duration;
/// use toolsmith_testing::Reply;
/// use toolsmith_core::wire::ToolCall;
///
/// let calls = Reply::tool_calls(vec![ToolCall::new("call_1", "get_weather", r#"{"city":"Paris"}"#)]);
/// let answer = Reply::text("It is sunny in Paris.").usage(120, 8).chunk_delay(Duration::from_millis(5));
/// let cut_off = Reply::text("The answer is").finish_reason("length");
/// let overloaded = Reply::status(529, r#"{"error":{"message":"Overloaded","type":"overloaded_error"}}"#)
///     .header("retry-after", "1");
/// # let _ = (calls, answer, cut_off, overloaded);
/// ```
#[derive(Clone, Debug)]
pub struct Reply {
    pub(crate) kind: ReplyKind,
    pub(crate) finish_reason: Option<String>,
    pub(crate) usage: Option<(u64, u64)>,
    pub(crate) delay: Duration,
    pub(crate) chunk_delay: Duration,
    pub(crate) headers: Vec<(String, String)>,
}

#[derive(Clone, Debug)]
pub(crate) enum ReplyKind {
    /// A normal assistant turn.
    Message(AssistantMessage),
    /// A non-200 (or any) status with a verbatim body.
    Status { code: u16, body: StatusBody },
    /// SSE bytes written verbatim, one write per element.
    RawSse(Vec<Bytes>),
    /// Some text, then an in-band `{"error":...}` event and the end of the stream.
    StreamError { partial_text: String, error: Value },
}

/// The body of a [`Reply::status`]: a JSON value, or text written verbatim.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum StatusBody {
    /// Serialized as `application/json`.
    Json(Value),
    /// Written verbatim; sent as `application/json` when it parses as JSON, else as `text/plain`.
    Text(String),
}

impl From<Value> for StatusBody {
    fn from(value: Value) -> Self {
        StatusBody::Json(value)
    }
}

impl From<String> for StatusBody {
    fn from(text: String) -> Self {
        StatusBody::Text(text)
    }
}

impl From<&str> for StatusBody {
    fn from(text: &str) -> Self {
        StatusBody::Text(text.to_owned())
    }
}

impl Reply {
    fn new(kind: ReplyKind) -> Self {
        Reply {
            kind,
            finish_reason: None,
            usage: None,
            delay: Duration::ZERO,
            chunk_delay: Duration::ZERO,
            headers: Vec::new(),
        }
    }

    /// An assistant turn with this text and no tool calls (`finish_reason: "stop"`).
    pub fn text(text: impl Into<String>) -> Self {
        Reply::message(AssistantMessage { content: Some(Content::Text(text.into())), ..AssistantMessage::default() })
    }

    /// An assistant turn with these tool calls, `content: null` and `finish_reason: "tool_calls"`.
    pub fn tool_calls(calls: Vec<ToolCall>) -> Self {
        Reply::message(AssistantMessage { tool_calls: calls, ..AssistantMessage::default() })
    }

    /// Any assistant turn: text, refusal, reasoning (`reasoning_content`) and tool calls as given.
    ///
    /// `finish_reason` defaults to `"tool_calls"` when the message has tool calls, else `"stop"`.
    pub fn message(message: AssistantMessage) -> Self {
        Reply::new(ReplyKind::Message(message))
    }

    /// A response with this HTTP status and body, the same for streaming and non-streaming requests.
    ///
    /// The body is a [`serde_json::Value`] or text (written verbatim). Add headers with [`Reply::header`].
    pub fn status(code: u16, body: impl Into<StatusBody>) -> Self {
        Reply::new(ReplyKind::Status { code, body: body.into() })
    }

    /// Status 200, `text/event-stream`, and these bytes written verbatim, one write per element, whether or
    /// not the request asked for a stream. Nothing is added: include the `data: ` prefixes, blank lines and
    /// `[DONE]` yourself. For malformed streams, comments, CRLF framing, truncation, ...
    pub fn raw_sse(events: Vec<Bytes>) -> Self {
        Reply::new(ReplyKind::RawSse(events))
    }

    /// A stream that sends `partial_text` (as ordinary text deltas), then the in-band error event
    /// `data: {"error":...}` and ends without `[DONE]` (§1.4 form 1 in docs/protocol.md).
    ///
    /// `error` is the object under `"error"` (e.g. `{"message":"...","type":"server_error"}`); a value that
    /// already has a top-level `"error"` key is sent as is. A non-streaming request gets status 500 with the
    /// same error body.
    pub fn stream_error(partial_text: impl Into<String>, error: Value) -> Self {
        let error = match error {
            Value::Object(ref map) if map.contains_key("error") => error,
            other => serde_json::json!({ "error": other }),
        };
        Reply::new(ReplyKind::StreamError { partial_text: partial_text.into(), error })
    }

    /// Overrides `finish_reason` with any raw string (`"length"`, `"content_filter"`, `"error"`, ...).
    pub fn finish_reason(mut self, reason: impl Into<String>) -> Self {
        self.finish_reason = Some(reason.into());
        self
    }

    /// Reports these token counts instead of the server's estimate (request and reply bytes / 4).
    pub fn usage(mut self, prompt_tokens: u64, completion_tokens: u64) -> Self {
        self.usage = Some((prompt_tokens, completion_tokens));
        self
    }

    /// Holds the response this long before its first byte (status line included): for timeouts,
    /// cancellation and load tests. Dropping the server ends the wait early with a 503.
    pub fn delay(mut self, delay: Duration) -> Self {
        self.delay = delay;
        self
    }

    /// Waits this long between two stream events (SSE replies only).
    pub fn chunk_delay(mut self, delay: Duration) -> Self {
        self.chunk_delay = delay;
        self
    }

    /// Adds a response header (e.g. `retry-after`, `x-request-id`).
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }
}

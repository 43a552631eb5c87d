//! The chunks of a streamed answer, as they arrive.

use std::fmt;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use eventsource_stream::EventStreamError;
use futures::Stream;

use super::body::Body;
use super::error::ClientError;
use super::sse::{self, Events};
use crate::stream::{Accumulator, Completion};
use crate::wire::{
    ArgumentsDelta, ChatChunk, ChatResponse, ChunkChoice, Delta, ErrorBody, FunctionDelta, ToolCallDelta, snippet,
};

type ByteStream = Pin<Box<dyn Stream<Item = Result<Bytes, ClientError>> + Send>>;

/// A stream of [`ChatChunk`]s. Each chunk is yielded as soon as its SSE event is complete; nothing is
/// buffered.
///
/// Ends after `data: [DONE]`, or at the end of the body when a `finish_reason` (or complete tool calls) has
/// arrived (some servers never send `[DONE]`, Q34). Fails with [`ClientError::Stream`], carrying the partial
/// turn, on an in-band error (`{"error":...}` data, `event: error`, `finish_reason: "error"`) or when the
/// body ends before the turn does (§1.4). Comments, keep-alives, empty data and chunks with neither choices
/// nor usage (Azure's filter preamble, Q25) are skipped. After an error, the stream ends.
pub struct ChatStream {
    events: Events<ByteStream>,
    acc: Accumulator,
    done: bool,
}

impl fmt::Debug for ChatStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ChatStream").field("done", &self.done).finish_non_exhaustive()
    }
}

impl ChatStream {
    pub(crate) fn new(body: Body, max_event_bytes: usize) -> Self {
        Self::from_bytes(body, max_event_bytes)
    }

    /// Decodes an SSE byte stream from any source (a recorded fixture, another transport). One event may be at
    /// most `max_event_bytes` long; a longer one fails with [`ClientError::TooLarge`].
    ///
    /// ```
    /// # futures::executor::block_on(async {
    /// use futures::StreamExt;
    /// use toolsmith_core::client::{ChatStream, ClientError};
    ///
    /// let bytes = b"data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hi\"},\"finish_reason\":\"stop\"}]}\n\ndata: [DONE]\n\n";
    /// let body = futures::stream::iter([Ok::<_, ClientError>(bytes::Bytes::from_static(bytes))]);
    /// let completion = ChatStream::from_bytes(body, 1 << 20).completion().await.unwrap();
    /// assert_eq!(completion.message.text(), "Hi");
    /// # });
    /// ```
    pub fn from_bytes<S>(bytes: S, max_event_bytes: usize) -> Self
    where
        S: Stream<Item = Result<Bytes, ClientError>> + Send + 'static,
    {
        let bytes: ByteStream = Box::pin(bytes);
        ChatStream { events: sse::events(bytes, max_event_bytes), acc: Accumulator::new(), done: false }
    }

    /// A stream of one chunk holding a whole non-stream response.
    pub(crate) fn from_response(response: ChatResponse, max_event_bytes: usize) -> Self {
        let choices = response
            .choices
            .into_iter()
            .map(|choice| ChunkChoice {
                index: choice.index,
                delta: Delta {
                    role: Some("assistant".to_owned()),
                    content: choice.message.content.map(|c| c.text()),
                    refusal: choice.message.refusal,
                    reasoning_content: choice.message.reasoning_content,
                    tool_calls: choice
                        .message
                        .tool_calls
                        .into_iter()
                        .enumerate()
                        .map(|(i, call)| ToolCallDelta {
                            index: u32::try_from(i).ok(),
                            id: Some(call.id),
                            kind: Some(call.kind),
                            function: Some(FunctionDelta {
                                name: Some(call.function.name),
                                arguments: Some(ArgumentsDelta::Text(call.function.arguments)),
                            }),
                        })
                        .collect(),
                },
                finish_reason: choice.finish_reason,
                extra: choice.extra,
            })
            .collect();
        let chunk = ChatChunk {
            id: response.id,
            object: "chat.completion.chunk".to_owned(),
            created: response.created,
            model: response.model,
            choices,
            usage: response.usage,
            system_fingerprint: response.system_fingerprint,
            ..ChatChunk::default()
        };
        let text = match serde_json::to_string(&chunk) {
            Ok(json) => format!("data: {json}\n\ndata: [DONE]\n\n"),
            Err(_) => String::new(),
        };
        Self::from_bytes(futures::stream::iter([Ok(Bytes::from(text))]), max_event_bytes)
    }

    /// At most `limit` tool calls in the turn (default [`DEFAULT_MAX_TOOL_CALLS`](crate::stream::DEFAULT_MAX_TOOL_CALLS)):
    /// a fragment opening one more ends the stream with a [`ClientError::Stream`] whose code is
    /// [`TOO_MANY_TOOL_CALLS`](crate::stream::TOO_MANY_TOOL_CALLS), carrying the calls within the limit.
    pub fn max_tool_calls(mut self, limit: usize) -> Self {
        self.acc.set_max_tool_calls(limit);
        self
    }

    /// What has arrived so far, as a turn.
    pub fn partial(&self) -> Completion {
        self.acc.partial()
    }

    /// Reads the rest of the stream and returns the whole turn.
    pub async fn completion(mut self) -> Result<Completion, ClientError> {
        use futures::StreamExt;
        while let Some(chunk) = self.next().await {
            chunk?;
        }
        self.acc.finish()
    }

    fn fail(&mut self, error: ClientError) -> Poll<Option<Result<ChatChunk, ClientError>>> {
        self.done = true;
        Poll::Ready(Some(Err(error)))
    }

    fn stream_error(&self, message: String, code: Option<String>, retryable: bool) -> ClientError {
        ClientError::Stream { message, code, partial: Box::new(self.acc.partial()), retryable }
    }

    /// The body ended without `[DONE]`.
    fn at_eof(&mut self) -> Poll<Option<Result<ChatChunk, ClientError>>> {
        self.done = true;
        if self.acc.has_finish_reason() || self.acc.has_complete_tool_calls() {
            // Q34: a finish reason (or Q3: complete tool calls) makes the turn whole without `[DONE]`.
            return Poll::Ready(None);
        }
        let error = self.stream_error(
            "the stream ended before the turn was complete (no finish_reason and no [DONE])".to_owned(),
            None,
            true,
        );
        Poll::Ready(Some(Err(error)))
    }
}

impl Stream for ChatStream {
    type Item = Result<ChatChunk, ClientError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        loop {
            if self.done {
                return Poll::Ready(None);
            }
            let event = match Pin::new(&mut self.events).poll_next(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(None) => return self.at_eof(),
                Poll::Ready(Some(Err(error))) => {
                    let error = match error {
                        EventStreamError::Transport(ClientError::Connect { message }) => {
                            self.stream_error(format!("the connection broke: {message}"), None, true)
                        }
                        EventStreamError::Transport(other) => other,
                        EventStreamError::Utf8(e) => {
                            self.stream_error(format!("invalid UTF-8 in the stream: {e}"), None, false)
                        }
                        EventStreamError::Parser(e) => {
                            self.stream_error(format!("invalid event stream: {e:?}"), None, false)
                        }
                    };
                    return self.fail(error);
                }
                Poll::Ready(Some(Ok(event))) => event,
            };
            let data = event.data.trim();
            if event.event == "error" {
                // §1.4 form 3.
                let body = serde_json::from_str(data)
                    .ok()
                    .and_then(|v| ErrorBody::from_value(&v))
                    .unwrap_or_else(|| ErrorBody { message: snippet(data.as_bytes()), ..ErrorBody::default() });
                let retryable = in_band_retryable(body.code.as_deref());
                let error = self.stream_error(body.message, body.code, retryable);
                return self.fail(error);
            }
            if data.starts_with("[DONE]") {
                self.done = true;
                return Poll::Ready(None);
            }
            if data.is_empty() {
                continue;
            }
            if data.starts_with(':') {
                // Q39: a proxy re-emitting a comment as data.
                tracing::warn!(data, "skipping a data line that is a comment");
                continue;
            }
            let chunk: ChatChunk = match serde_json::from_str(data) {
                Ok(chunk) => chunk,
                Err(e) => {
                    let error = ClientError::Decode {
                        message: format!("a stream event is not a chunk: {e}"),
                        snippet: snippet(data.as_bytes()),
                    };
                    return self.fail(error);
                }
            };
            if let Err(error) = self.acc.push(&chunk) {
                return self.fail(error);
            }
            if chunk.choices.is_empty() && chunk.usage.is_none() && chunk.x_groq.is_none() {
                continue;
            }
            return Poll::Ready(Some(Ok(chunk)));
        }
    }
}

/// An in-band error is worth re-running unless its code says otherwise (Q36).
pub(crate) fn in_band_retryable(code: Option<&str>) -> bool {
    match code {
        Some("insufficient_quota") => false,
        Some(code) => match code.parse::<u16>() {
            Ok(status) => matches!(status, 408 | 409 | 429 | 500..=599),
            Err(_) => true,
        },
        None => true,
    }
}

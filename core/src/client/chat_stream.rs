//! The chunks of a streamed answer, as they arrive.

use std::fmt;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use futures::Stream;

use super::body::Body;
use super::error::ClientError;
use super::sse::{Decoder, Event};
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
    body: ByteStream,
    decoder: Decoder,
    acc: Accumulator,
    /// A whole answer to hand out as the only chunk (a server that answered JSON to a stream request).
    ready: Option<ChatChunk>,
    /// A comment re-emitted as data was logged already (once per stream is enough).
    logged_comment_data: bool,
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
        ChatStream {
            body: Box::pin(bytes),
            decoder: Decoder::new(max_event_bytes),
            acc: Accumulator::new(),
            ready: None,
            logged_comment_data: false,
            done: false,
        }
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
        let mut stream = Self::from_bytes(futures::stream::empty(), max_event_bytes);
        stream.ready = Some(chunk);
        stream
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

/// What one event means for the stream.
enum Step {
    Chunk(ChatChunk),
    Skip,
    Done,
    /// An in-band error event: its message and code.
    InBand(ErrorBody),
    Fail(ClientError),
}

/// Reads one event; the usual chunk decodes straight from the event's bytes. `logged_comment_data` is the
/// stream's "a comment re-emitted as data was logged" flag.
fn step_of(logged_comment_data: &mut bool, event: &Event<'_>) -> Step {
    if event.event == "error" {
        // §1.4 form 3.
        let text = event.text();
        let data = text.trim();
        let body = serde_json::from_str(data)
            .ok()
            .and_then(|v| ErrorBody::from_value(&v))
            .unwrap_or_else(|| ErrorBody { message: snippet(data.as_bytes()), ..ErrorBody::default() });
        return Step::InBand(body);
    }
    let data = event.data.trim_ascii();
    if data.starts_with(b"[DONE]") {
        return Step::Done;
    }
    if data.is_empty() {
        return Step::Skip;
    }
    if data[0] == b':' {
        // Q39: a proxy re-emitting a comment as data. Logged once per stream, as a snippet.
        if !std::mem::replace(logged_comment_data, true) {
            tracing::warn!(data = %snippet(&data[..data.len().min(120)]), "skipping data lines that are comments");
        }
        return Step::Skip;
    }
    match serde_json::from_slice::<ChatChunk>(data) {
        Ok(chunk) => Step::Chunk(chunk),
        // Invalid UTF-8 is read as U+FFFD (the event-stream rule) rather than failing the chunk.
        Err(_) if std::str::from_utf8(data).is_err() => match serde_json::from_str(&String::from_utf8_lossy(data)) {
            Ok(chunk) => Step::Chunk(chunk),
            Err(e) => Step::Fail(not_a_chunk(&e, data)),
        },
        Err(e) => Step::Fail(not_a_chunk(&e, data)),
    }
}

fn not_a_chunk(error: &serde_json::Error, data: &[u8]) -> ClientError {
    ClientError::Decode { message: format!("a stream event is not a chunk: {error}"), snippet: snippet(data) }
}

impl Stream for ChatStream {
    type Item = Result<ChatChunk, ClientError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        if let Some(chunk) = this.ready.take() {
            // A whole answer: the only chunk, then the end.
            this.done = true;
            if let Err(error) = this.acc.push(&chunk) {
                return Poll::Ready(Some(Err(error)));
            }
            return Poll::Ready(Some(Ok(chunk)));
        }
        loop {
            if this.done {
                return Poll::Ready(None);
            }
            let step = match this.decoder.next_event() {
                Err(error) => return this.fail(error),
                // The event borrows the decoder: it is decoded before anything else is touched.
                Ok(Some(event)) => step_of(&mut this.logged_comment_data, &event),
                Ok(None) => match this.body.as_mut().poll_next(cx) {
                    Poll::Pending => return Poll::Pending,
                    Poll::Ready(Some(Ok(bytes))) => {
                        this.decoder.push(bytes);
                        continue;
                    }
                    Poll::Ready(Some(Err(ClientError::Connect { message }))) => {
                        let error = this.stream_error(format!("the connection broke: {message}"), None, true);
                        return this.fail(error);
                    }
                    Poll::Ready(Some(Err(error))) => return this.fail(error),
                    Poll::Ready(None) => {
                        if let Err(error) = this.decoder.finish() {
                            return this.fail(error);
                        }
                        return this.at_eof();
                    }
                },
            };
            match step {
                Step::Skip => {}
                Step::Done => {
                    this.done = true;
                    return Poll::Ready(None);
                }
                Step::Fail(error) => return this.fail(error),
                Step::InBand(body) => {
                    let retryable = in_band_retryable(body.code.as_deref());
                    let error = this.stream_error(body.message, body.code, retryable);
                    return this.fail(error);
                }
                Step::Chunk(chunk) => {
                    if let Err(error) = this.acc.push(&chunk) {
                        return this.fail(error);
                    }
                    if chunk.choices.is_empty() && chunk.usage.is_none() && chunk.x_groq.is_none() {
                        continue;
                    }
                    return Poll::Ready(Some(Ok(chunk)));
                }
            }
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

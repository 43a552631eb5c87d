//! The chunks of a streamed answer, as they arrive, folded into the turn as they pass.

use std::fmt;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use futures::Stream;

use super::{Accumulator, Completion, DeltaPart};
use crate::client::{ClientError, Data, Opened, SseBody, in_band_retryable};
use crate::wire::fast::turn_chunk;
use crate::wire::{
    ArgumentsDelta, ChatChunk, ChatRequest, ChatResponse, ChunkChoice, Delta, FunctionDelta, ToolCallDelta, snippet,
};

/// A streamed answer: its [`ChatChunk`]s as a [`Stream`], each yielded as soon as its SSE event is complete,
/// and the turn they add up to ([`ChatStream::completion`], [`ChatStream::partial`]).
///
/// Ends after `data: [DONE]`, or at the end of the body when a `finish_reason` (or complete tool calls) has
/// arrived (some servers never send `[DONE]`, Q34). Fails with [`ClientError::Stream`], carrying the partial
/// turn, on an in-band error (`{"error":...}` data, `event: error`, `finish_reason: "error"`) or when the
/// body ends before the turn does (§1.4). Comments, keep-alives, empty data and chunks with neither choices
/// nor usage (Azure's filter preamble, Q25) are skipped. After an error, the stream ends.
pub struct ChatStream(Box<Parts>);

/// A stream's state, boxed: a stream is moved through a few layers of futures on its way to its reader, and
/// a pointer is what they copy.
struct Parts {
    body: SseBody,
    acc: Accumulator,
    /// A whole answer to hand out as the only chunk (a server that answered JSON to a stream request).
    ready: Option<Box<ChatChunk>>,
    done: bool,
}

impl fmt::Debug for ChatStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ChatStream").field("done", &self.0.done).finish_non_exhaustive()
    }
}

impl crate::client::Client {
    /// Sends `request` with `stream: true` (and `stream_options.include_usage` where the profile allows) and
    /// returns the chunks as they arrive.
    ///
    /// Retries per the [`RetryPolicy`](crate::client::RetryPolicy) until the response status is known; never
    /// after that (L18). A server that answers a stream request with a whole JSON body is read as one chunk.
    pub async fn chat_stream(&self, request: &ChatRequest) -> Result<ChatStream, ClientError> {
        Ok(match self.open_stream(request).await? {
            Opened::Events { body, max_event_bytes } => ChatStream::from_body(SseBody::http(body, max_event_bytes)),
            Opened::Whole { response, max_event_bytes } => ChatStream::from_response(*response, max_event_bytes),
        })
    }
}

/// Where one poll of the stream got to.
enum Polled {
    /// A chunk was read (and accumulated); the owned chunk when one was asked for and it is worth handing out.
    Chunk(Option<Box<ChatChunk>>),
    /// The turn is over.
    End,
}

impl ChatStream {
    /// Decodes an SSE byte stream from any source (a recorded fixture, another transport). One event may be at
    /// most `max_event_bytes` long; a longer one fails with [`ClientError::TooLarge`].
    ///
    /// ```
    /// # futures::executor::block_on(async {
    /// use futures::StreamExt;
    /// use toolsmith_core::client::ClientError;
    /// use toolsmith_core::stream::ChatStream;
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
        Self::from_body(SseBody::new(bytes, max_event_bytes))
    }

    fn from_body(body: SseBody) -> Self {
        ChatStream(Box::new(Parts { body, acc: Accumulator::new(), ready: None, done: false }))
    }

    /// A stream of one chunk holding a whole non-stream response.
    fn from_response(response: ChatResponse, max_event_bytes: usize) -> Self {
        let mut stream = Self::from_bytes(futures::stream::empty(), max_event_bytes);
        stream.0.ready = Some(Box::new(response_chunk(response)));
        stream
    }

    /// At most `limit` tool calls in the turn (default [`DEFAULT_MAX_TOOL_CALLS`](crate::stream::DEFAULT_MAX_TOOL_CALLS)):
    /// a fragment opening one more ends the stream with a [`ClientError::Stream`] whose code is
    /// [`TOO_MANY_TOOL_CALLS`](crate::stream::TOO_MANY_TOOL_CALLS), carrying the calls within the limit.
    pub fn max_tool_calls(mut self, limit: usize) -> Self {
        self.0.acc.set_max_tool_calls(limit);
        self
    }

    /// [`max_tool_calls`](Self::max_tool_calls) in place.
    pub(crate) fn limit_tool_calls(&mut self, limit: usize) {
        self.0.acc.set_max_tool_calls(limit);
    }

    /// The turn, once [`poll_parts`](Self::poll_parts) has reported its end (the rest of the body is not read).
    pub(crate) fn take_completion(&mut self) -> Result<Box<Completion>, ClientError> {
        std::mem::take(&mut self.0.acc).finish().map(Box::new)
    }

    /// What has arrived so far, as a turn.
    pub fn partial(&self) -> Completion {
        self.0.acc.partial()
    }

    /// Reads the rest of the stream and returns the whole turn.
    pub async fn completion(mut self) -> Result<Completion, ClientError> {
        while futures::future::poll_fn(|cx| self.poll_parts(cx, &mut |_| {})).await?.is_some() {}
        self.0.acc.finish()
    }

    /// Reads the next chunk and hands each piece of its choice 0 to `on_part`, without building a
    /// [`ChatChunk`]: the agent's path, which forwards text as it arrives. `Ok(Some(()))` per chunk, `Ok(None)`
    /// at the end of the turn; after an error, `Ok(None)`.
    pub fn poll_parts(
        &mut self,
        cx: &mut Context<'_>,
        on_part: &mut dyn FnMut(DeltaPart<'_>),
    ) -> Poll<Result<Option<()>, ClientError>> {
        match self.poll_chunk(cx, false, on_part) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(Ok(Polled::Chunk(_))) => Poll::Ready(Ok(Some(()))),
            Poll::Ready(Ok(Polled::End)) => Poll::Ready(Ok(None)),
            Poll::Ready(Err(error)) => Poll::Ready(Err(error)),
        }
    }

    /// One event: decoded, accumulated, and (`owned`) handed out as a [`ChatChunk`].
    fn poll_chunk(
        &mut self,
        cx: &mut Context<'_>,
        owned: bool,
        on_part: &mut dyn FnMut(DeltaPart<'_>),
    ) -> Poll<Result<Polled, ClientError>> {
        if self.0.done {
            return Poll::Ready(Ok(Polled::End));
        }
        if let Some(chunk) = self.0.ready.take() {
            // A whole answer: the only chunk, then the end.
            self.0.done = true;
            self.0.acc.push_chunk(&chunk, on_part)?;
            return Poll::Ready(Ok(Polled::Chunk(owned.then_some(chunk))));
        }
        let result = match self.0.body.poll_data(cx) {
            Poll::Pending => return Poll::Pending,
            Poll::Ready(result) => result,
        };
        let outcome = match result {
            Ok(Data::Chunk(data)) if owned => decode_owned(data).and_then(|chunk| {
                self.0.acc.push_chunk(&chunk, on_part)?;
                // Azure's filter preamble and other chunks with nothing in them are not worth handing out.
                let empty = chunk.choices.is_empty() && chunk.usage.is_none() && chunk.x_groq.is_none();
                Ok(Polled::Chunk((!empty).then(|| Box::new(chunk))))
            }),
            Ok(Data::Chunk(data)) => match turn_chunk(data) {
                Some(chunk) => self.0.acc.push_fast(chunk, on_part).map(|()| Polled::Chunk(None)),
                None => decode_owned(data)
                    .and_then(|chunk| self.0.acc.push_chunk(&chunk, on_part))
                    .map(|()| Polled::Chunk(None)),
            },
            Ok(Data::Done) => Ok(Polled::End),
            Ok(Data::InBand(body)) => {
                let retryable = in_band_retryable(body.code.as_deref());
                Err(stream_error(&self.0.acc, body.message, body.code, retryable))
            }
            Ok(Data::Eof) if self.0.acc.has_finish_reason() || self.0.acc.has_complete_tool_calls() => {
                // Q34: a finish reason (or Q3: complete tool calls) makes the turn whole without `[DONE]`.
                Ok(Polled::End)
            }
            Ok(Data::Eof) => Err(stream_error(
                &self.0.acc,
                "the stream ended before the turn was complete (no finish_reason and no [DONE])".to_owned(),
                None,
                true,
            )),
            Err(ClientError::Connect { message }) => {
                Err(stream_error(&self.0.acc, format!("the connection broke: {message}"), None, true))
            }
            Err(error) => Err(error),
        };
        if !matches!(outcome, Ok(Polled::Chunk(_))) {
            self.0.done = true;
        }
        Poll::Ready(outcome)
    }
}

fn stream_error(acc: &Accumulator, message: String, code: Option<String>, retryable: bool) -> ClientError {
    ClientError::Stream { message, code, partial: Box::new(acc.partial()), retryable }
}

/// A payload as an owned chunk: the usual shape directly, anything else leniently. Invalid UTF-8 is read as
/// U+FFFD (the event-stream rule) rather than failing the chunk.
fn decode_owned(data: &[u8]) -> Result<ChatChunk, ClientError> {
    match ChatChunk::from_slice(data) {
        Ok(chunk) => Ok(chunk),
        Err(_) if std::str::from_utf8(data).is_err() => {
            serde_json::from_str(&String::from_utf8_lossy(data)).map_err(|e| not_a_chunk(&e, data))
        }
        Err(e) => Err(not_a_chunk(&e, data)),
    }
}

fn not_a_chunk(error: &serde_json::Error, data: &[u8]) -> ClientError {
    ClientError::Decode { message: format!("a stream event is not a chunk: {error}"), snippet: snippet(data) }
}

impl Stream for ChatStream {
    type Item = Result<ChatChunk, ClientError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        loop {
            return match self.poll_chunk(cx, true, &mut |_| {}) {
                Poll::Pending => Poll::Pending,
                Poll::Ready(Ok(Polled::Chunk(Some(chunk)))) => Poll::Ready(Some(Ok(*chunk))),
                Poll::Ready(Ok(Polled::Chunk(None))) => continue,
                Poll::Ready(Ok(Polled::End)) => Poll::Ready(None),
                Poll::Ready(Err(error)) => Poll::Ready(Some(Err(error))),
            };
        }
    }
}

/// A whole response as the one chunk of a stream.
fn response_chunk(response: ChatResponse) -> ChatChunk {
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
            logprobs: choice.logprobs,
            extra: choice.extra,
        })
        .collect();
    ChatChunk {
        id: response.id,
        object: "chat.completion.chunk".to_owned(),
        created: response.created,
        model: response.model,
        choices,
        usage: response.usage,
        system_fingerprint: response.system_fingerprint,
        service_tier: response.service_tier,
        ..ChatChunk::default()
    }
}

//! A streamed response body as the data of its events: SSE decoding plus the in-band signals of §1.4 that
//! are visible before any JSON is read (`[DONE]`, `event: error`, comments re-emitted as data).

use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use futures::Stream;

use super::body::Body;
use super::error::ClientError;
use super::sse::{Decoder, Event};
use crate::wire::{ErrorBody, snippet};

type ByteStream = Pin<Box<dyn Stream<Item = Result<Bytes, ClientError>> + Send>>;

/// Where the bytes come from: the HTTP response itself (the usual case, read without a box or a virtual
/// call), or any byte stream (a fixture, another transport).
#[allow(
    clippy::large_enum_variant,
    reason = "the stream's state is boxed once as a whole; boxing the body again would add an allocation per turn"
)]
enum Source {
    Http(Body),
    Other(ByteStream),
}

impl Source {
    fn poll_next(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<Bytes, ClientError>>> {
        match self {
            Source::Http(body) => Pin::new(body).poll_next(cx),
            Source::Other(stream) => stream.as_mut().poll_next(cx),
        }
    }
}

/// What the next event of a streamed body is.
#[derive(Debug)]
pub(crate) enum Data<'a> {
    /// A `data:` payload to decode as a chunk, borrowed from the decoder until the next poll.
    Chunk(&'a [u8]),
    /// `data: [DONE]`: the turn is over.
    Done,
    /// An in-band error event (§1.4 form 3): its message and code.
    InBand(ErrorBody),
    /// The body ended without `[DONE]` (whether that is an error depends on what the turn holds, Q34).
    Eof,
}

/// The events of a streamed body, one data payload at a time, under the per-event size limit.
pub(crate) struct SseBody {
    body: Source,
    decoder: Decoder,
    /// A comment re-emitted as data was logged already (once per stream is enough).
    logged_comment_data: bool,
}

impl SseBody {
    pub(crate) fn new<S>(bytes: S, max_event_bytes: usize) -> Self
    where
        S: Stream<Item = Result<Bytes, ClientError>> + Send + 'static,
    {
        Self::with_source(Source::Other(Box::pin(bytes)), max_event_bytes)
    }

    /// The events of an HTTP response's body.
    pub(crate) fn http(body: Body, max_event_bytes: usize) -> Self {
        Self::with_source(Source::Http(body), max_event_bytes)
    }

    fn with_source(body: Source, max_event_bytes: usize) -> Self {
        SseBody { body, decoder: Decoder::new(max_event_bytes), logged_comment_data: false }
    }

    /// The next payload. Comments, keep-alives and empty data are skipped. A broken connection is reported as
    /// `Connect`; the caller decides what it means for the turn.
    pub(crate) fn poll_data(&mut self, cx: &mut Context<'_>) -> Poll<Result<Data<'_>, ClientError>> {
        loop {
            // Decided on a first look, then the event is looked up again: the borrow checker cannot see that
            // a skipped event's borrow ends before the decoder is advanced.
            match self.decoder.next_event()? {
                Some(event) => match kind(&mut self.logged_comment_data, &event) {
                    Kind::Skip => continue,
                    Kind::Done => return Poll::Ready(Ok(Data::Done)),
                    Kind::InBand => return Poll::Ready(Ok(Data::InBand(in_band_error(&event)))),
                    Kind::Chunk => break,
                },
                None => match self.body.poll_next(cx) {
                    Poll::Pending => return Poll::Pending,
                    Poll::Ready(Some(Ok(bytes))) => self.decoder.push(bytes),
                    Poll::Ready(Some(Err(error))) => return Poll::Ready(Err(error)),
                    Poll::Ready(None) => {
                        self.decoder.finish()?;
                        return Poll::Ready(Ok(Data::Eof));
                    }
                },
            }
        }
        let data = self.decoder.current().map_or(&[][..], |event| event.data.trim_ascii());
        Poll::Ready(Ok(Data::Chunk(data)))
    }
}

enum Kind {
    Chunk,
    Skip,
    Done,
    InBand,
}

fn kind(logged_comment_data: &mut bool, event: &Event<'_>) -> Kind {
    if event.event == "error" {
        // §1.4 form 3.
        return Kind::InBand;
    }
    let data = event.data.trim_ascii();
    if data.starts_with(b"[DONE]") {
        return Kind::Done;
    }
    if data.is_empty() {
        return Kind::Skip;
    }
    if data[0] == b':' {
        // Q39: a proxy re-emitting a comment as data. Logged once per stream, as a snippet.
        if !std::mem::replace(logged_comment_data, true) {
            tracing::warn!(data = %snippet(&data[..data.len().min(120)]), "skipping data lines that are comments");
        }
        return Kind::Skip;
    }
    Kind::Chunk
}

fn in_band_error(event: &Event<'_>) -> ErrorBody {
    let text = event.text();
    let data = text.trim();
    serde_json::from_str(data)
        .ok()
        .and_then(|v| ErrorBody::from_value(&v))
        .unwrap_or_else(|| ErrorBody { message: snippet(data.as_bytes()), ..ErrorBody::default() })
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

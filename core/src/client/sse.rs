//! Server-sent events, decoded by the `eventsource-stream` crate behind one small adaptor.
//!
//! `eventsource-stream` 0.2.3 implements the WHATWG line rules correctly (CR, LF and CRLF, a CRLF split
//! across reads (its parser waits on a trailing CR), `data:` with or without one space, comments, multi-line
//! data, `event:`), and keeps an incomplete UTF-8 sequence at the end of a read for the next one. It has
//! four gaps that matter for a client reading untrusted bytes, which [`LineAligned`] closes:
//!
//! 1. **Invalid UTF-8 stalls and grows without bound.** Its `Utf8Stream` keeps everything from the first
//!    invalid byte in its buffer and retries on every read, so a single bad byte makes it buffer the rest of
//!    the stream and emit nothing. The adaptor decodes lossily (U+FFFD), which is what the WHATWG spec
//!    prescribes for event streams.
//! 2. **Quadratic re-parsing of long lines.** It re-parses the pending partial line from its start on every
//!    read; a 40 KB event delivered a few bytes per read costs hundreds of millions of steps. The adaptor
//!    hands it only complete lines (up to the last CR or LF of the bytes so far). This costs no latency: an
//!    event is only dispatched at a blank line anyway.
//! 3. **No size bound.** A line or an event without an end grows forever. The adaptor fails with
//!    [`ClientError::TooLarge`] once one event exceeds the limit.
//! 4. **A CR at the end of a read waits for the next read**, because an LF may follow. At the end of the body
//!    it is never resolved, so the last event of a CR-only stream was lost (found by the property test), and
//!    mid-stream it delays an event until more bytes come. The adaptor writes every line end (CR, LF, CRLF,
//!    a CRLF split across reads) as a single LF, so the decoder never has to wait.

use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::{Bytes, BytesMut};
use eventsource_stream::EventStream;
use futures::Stream;

use super::error::ClientError;

/// Bytes in, complete lines of valid UTF-8 out.
pub(crate) struct LineAligned<S> {
    inner: S,
    pending: BytesMut,
    /// Bytes of the event being read so far (reset by a blank line).
    event_len: usize,
    /// Length of the line being read so far, in bytes.
    line_len: usize,
    /// The previous byte was a CR, so an LF right after it is part of the same line end.
    after_cr: bool,
    max_event_bytes: usize,
    /// An event went over the limit after some complete lines of the same read: those are handed on first,
    /// then this, so what is decoded does not depend on where reads are cut (fuzz/fuzz_targets/sse_stream.rs).
    too_large: Option<ClientError>,
    done: bool,
}

impl<S> LineAligned<S> {
    pub(crate) fn new(inner: S, max_event_bytes: usize) -> Self {
        LineAligned {
            inner,
            pending: BytesMut::new(),
            event_len: 0,
            line_len: 0,
            after_cr: false,
            max_event_bytes,
            too_large: None,
            done: false,
        }
    }

    /// Appends `chunk` to `pending` with every line end (CR, LF, CRLF, even split across reads) written as one
    /// LF, tracking line and event lengths. Returns the length of `pending` up to its last complete line. Stops
    /// at the first event longer than the limit (wherever the reads cut it) and records `TooLarge`.
    ///
    /// Copies the text between line ends as whole runs found with `memchr`: a byte-at-a-time loop here cost
    /// about 1 instruction in 10 of a whole streamed two-turn run, client and server together (callgrind,
    /// examples/loadbench.rs).
    fn push(&mut self, chunk: &[u8]) -> Option<usize> {
        let mut last_end = None;
        self.pending.reserve(chunk.len());
        let mut rest = chunk;
        loop {
            if self.after_cr {
                // An LF right after a CR (perhaps from the previous read) is part of the same line end.
                match rest.split_first() {
                    Some((b'\n', tail)) => {
                        self.after_cr = false;
                        rest = tail;
                        continue;
                    }
                    Some(_) => self.after_cr = false,
                    None => return last_end,
                }
            }
            let at = memchr::memchr2(b'\n', b'\r', rest).unwrap_or(rest.len());
            let (text, tail) = rest.split_at(at);
            self.line_len += text.len();
            self.event_len += text.len();
            if self.event_len > self.max_event_bytes {
                self.too_large = Some(ClientError::TooLarge { limit: self.max_event_bytes as u64 });
                return last_end;
            }
            self.pending.extend_from_slice(text);
            let Some((&line_end, tail)) = tail.split_first() else { return last_end };
            if self.line_len == 0 {
                self.event_len = 0;
            }
            self.line_len = 0;
            self.after_cr = line_end == b'\r';
            self.pending.extend_from_slice(b"\n");
            last_end = Some(self.pending.len());
            rest = tail;
        }
    }
}

/// The bytes as a `String`, invalid UTF-8 replaced by U+FFFD. Valid text (the normal case) is checked once by
/// the fast `str::from_utf8` instead of the lossy decoder's chunk iterator.
fn to_text(bytes: &[u8]) -> String {
    match std::str::from_utf8(bytes) {
        Ok(text) => text.to_owned(),
        Err(_) => String::from_utf8_lossy(bytes).into_owned(),
    }
}

impl<S> Stream for LineAligned<S>
where
    S: Stream<Item = Result<Bytes, ClientError>> + Unpin,
{
    type Item = Result<String, ClientError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        loop {
            if let Some(error) = self.too_large.take() {
                self.done = true;
                return Poll::Ready(Some(Err(error)));
            }
            if self.done {
                return Poll::Ready(None);
            }
            match Pin::new(&mut self.inner).poll_next(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(None) => {
                    self.done = true;
                    // An unterminated last line cannot complete an event (WHATWG discards it); hand it on anyway
                    // so the decoder sees every byte, then end.
                    if self.pending.is_empty() {
                        return Poll::Ready(None);
                    }
                    let rest = self.pending.split();
                    return Poll::Ready(Some(Ok(to_text(&rest))));
                }
                Poll::Ready(Some(Err(error))) => {
                    self.done = true;
                    return Poll::Ready(Some(Err(error)));
                }
                Poll::Ready(Some(Ok(chunk))) => {
                    if let Some(end) = self.push(&chunk) {
                        let lines = self.pending.split_to(end);
                        return Poll::Ready(Some(Ok(to_text(&lines))));
                    }
                }
            }
        }
    }
}

/// The SSE event stream over a body.
pub(crate) type Events<S> = EventStream<LineAligned<S>>;

/// Decodes `body` into events; one event may be at most `max_event_bytes` long.
pub(crate) fn events<S>(body: S, max_event_bytes: usize) -> Events<S>
where
    S: Stream<Item = Result<Bytes, ClientError>> + Unpin,
{
    EventStream::new(LineAligned::new(body, max_event_bytes))
}

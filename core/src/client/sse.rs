//! Server-sent events: a small decoder of our own, because it is the hot path of every streamed turn.
//!
//! The event-stream rules of the WHATWG HTML standard (§9.2.6), for untrusted bytes (Q41):
//!
//! - Lines end in CR, LF or CRLF, a CRLF split across two reads included; a CR at the end of a read ends its
//!   line at once (a following LF is then skipped), so no event waits for the next read.
//! - `data:` with or without one space; several `data` lines are joined with LF; `event:` names the event;
//!   `id`, `retry` and unknown fields are ignored; a line starting with `:` is a comment (keep-alives,
//!   OpenRouter's `: OPENROUTER PROCESSING`). A blank line dispatches the event when it has data; an
//!   unterminated event at the end of the body is dropped. A UTF-8 byte-order mark before the first line is
//!   skipped.
//! - Bytes are decoded as UTF-8 only when an event is used (the caller reads [`Event::data`] as bytes, and
//!   [`Event::text`] replaces invalid sequences with U+FFFD), so a character split across reads is simply
//!   whole by then.
//! - Every byte is looked at a bounded number of times (line ends are found with `memchr`; a partial line is
//!   only ever appended to), so the cost is linear whatever the cuts; one event longer than the limit fails
//!   with [`ClientError::TooLarge`] wherever the reads cut it, before it is buffered further.
//! - The usual event (one `data` line inside one read) is handed out as a slice of the read: no copy; when
//!   it starts where the last one ended and ends in LF LF, it is found with one search.
//!
//! What an event stream decodes to does not depend on where the reads were cut (property tests in
//! `core/tests/sse_decoder.rs`, fuzz target `fuzz/fuzz_targets/sse_decoder.rs`).

use std::borrow::Cow;
use std::ops::Range;

use bytes::Bytes;

use super::error::ClientError;
use crate::wire::snippet;

/// How much of a comment is logged.
const COMMENT_SNIPPET: usize = 120;

/// One dispatched event, borrowed from the decoder until the next call.
#[derive(Debug, PartialEq, Eq)]
pub struct Event<'a> {
    /// The `event:` field (`""` when none was sent, which means `message`).
    pub event: &'a str,
    /// The `data` lines, joined with LF, as raw bytes.
    pub data: &'a [u8],
}

impl Event<'_> {
    /// The data as text, invalid UTF-8 replaced by U+FFFD (the standard's decoding).
    pub fn text(&self) -> Cow<'_, str> {
        String::from_utf8_lossy(self.data)
    }
}

/// An incremental SSE decoder: [`Decoder::push`] each read, then call [`Decoder::next_event`] until it
/// returns `None`; at the end of the body call [`Decoder::finish`].
///
/// ```
/// use toolsmith_core::client::sse::Decoder;
///
/// let mut decoder = Decoder::new(1 << 20);
/// decoder.push(bytes::Bytes::from_static(b": keep-alive\r\ndata:{\"a\":1}\r"));
/// assert!(decoder.next_event().unwrap().is_none()); // the event has not ended yet
/// decoder.push(bytes::Bytes::from_static(b"\n\r\ndata: [DONE]\n\n"));
/// assert_eq!(decoder.next_event().unwrap().unwrap().data, b"{\"a\":1}");
/// assert_eq!(decoder.next_event().unwrap().unwrap().data, b"[DONE]");
/// assert!(decoder.next_event().unwrap().is_none());
/// assert_eq!(decoder.comments(), 1);
/// ```
#[derive(Debug)]
pub struct Decoder {
    /// The read being decoded and how far.
    read: Bytes,
    pos: usize,
    /// The start of a line the previous reads did not finish.
    partial: Vec<u8>,
    /// The previous read ended in CR: an LF first in this one belongs to it.
    after_cr: bool,
    /// No line seen yet (a byte-order mark may start the first one).
    first_line: bool,
    event: EventState,
    max_event_bytes: usize,
    comments: u64,
    /// The event handed out last is cleared on the next call.
    dispatched: bool,
    failed: bool,
}

/// The event being read.
#[derive(Debug, Default)]
struct EventState {
    /// Data lines joined with LF, once there are several or one that came from `partial`.
    data: Vec<u8>,
    /// The single data line so far, still inside `read` (not copied).
    in_read: Option<Range<usize>>,
    data_lines: usize,
    name: String,
    /// Bytes of the event so far (lines without their ends).
    len: usize,
}

impl EventState {
    fn clear(&mut self) {
        self.data.clear();
        self.in_read = None;
        self.data_lines = 0;
        self.name.clear();
        self.len = 0;
    }

    /// Moves a data line still borrowed from `read` into `data` (before `read` is replaced or another line is
    /// added).
    fn own(&mut self, read: &[u8]) {
        if let Some(range) = self.in_read.take() {
            self.data.extend_from_slice(&read[range]);
        }
    }

    fn add_data(&mut self, read: &[u8], value: Value) {
        if self.data_lines == 0
            && let Value::InRead(range) = &value
        {
            self.in_read = Some(range.clone());
            self.data_lines = 1;
            return;
        }
        self.own(read);
        if self.data_lines > 0 {
            self.data.push(b'\n');
        }
        match value {
            Value::InRead(range) => self.data.extend_from_slice(&read[range]),
            Value::Owned(bytes) => self.data.extend_from_slice(bytes),
        }
        self.data_lines += 1;
    }
}

/// A field value: a range of the current read, or bytes of a line that spanned reads.
enum Value<'a> {
    InRead(Range<usize>),
    Owned(&'a [u8]),
}

/// What one line did.
enum Line {
    Nothing,
    Dispatch,
}

impl Decoder {
    /// A decoder that accepts events of at most `max_event_bytes` (counting the bytes of their lines).
    pub fn new(max_event_bytes: usize) -> Self {
        Decoder {
            read: Bytes::new(),
            pos: 0,
            partial: Vec::new(),
            after_cr: false,
            first_line: true,
            event: EventState::default(),
            max_event_bytes,
            comments: 0,
            dispatched: false,
            failed: false,
        }
    }

    /// Hands the decoder the next read. Call [`Decoder::next_event`] until it returns `None` first: the
    /// rest of the previous read is kept as a partial line.
    pub fn push(&mut self, read: Bytes) {
        self.settle();
        self.keep_rest();
        self.read = read;
        self.pos = 0;
    }

    /// Comment lines seen so far.
    pub fn comments(&self) -> u64 {
        self.comments
    }

    /// The next complete event of what was pushed, `None` when more bytes are needed. Fails (once; `None`
    /// after that) when an event exceeds the limit.
    pub fn next_event(&mut self) -> Result<Option<Event<'_>>, ClientError> {
        self.settle();
        if self.failed {
            return Ok(None);
        }
        loop {
            if self.after_cr && self.pos < self.read.len() {
                self.after_cr = false;
                if self.read[self.pos] == b'\n' {
                    self.pos += 1;
                }
            }
            if self.usual_event() {
                return Ok(Some(self.dispatch()));
            }
            let rest = &self.read[self.pos..];
            let Some(at) = memchr::memchr2(b'\n', b'\r', rest) else {
                // An unfinished line: it must still fit the event.
                let len = self.partial.len() + rest.len();
                if self.event.len.saturating_add(len) > self.max_event_bytes {
                    return Err(self.too_large());
                }
                return Ok(None);
            };
            let start = self.pos;
            let end = start + at;
            self.after_cr = rest[at] == b'\r';
            self.pos = end + 1;
            let outcome = if self.partial.is_empty() {
                self.line_in_read(start..end)
            } else {
                self.partial.extend_from_slice(&self.read[start..end]);
                let line = std::mem::take(&mut self.partial);
                let outcome = self.line_owned(&line);
                self.partial = line;
                self.partial.clear();
                outcome
            };
            match outcome {
                Ok(Line::Nothing) => {}
                Ok(Line::Dispatch) => return Ok(Some(self.dispatch())),
                Err(error) => return Err(error),
            }
        }
    }

    /// The usual event, whole at the start of the unread part of the read with nothing before it: one
    /// `data:` line ended by LF LF. It is what the line-by-line rules make of it, found with one search.
    /// Returns whether it took one (then it is the event to dispatch).
    fn usual_event(&mut self) -> bool {
        if !self.partial.is_empty() || self.first_line || self.event.len != 0 || self.event.data_lines != 0 {
            return false;
        }
        let rest = &self.read[self.pos..];
        let Some(line) = rest.strip_prefix(b"data:") else { return false };
        let Some(at) = memchr::memchr2(b'\n', b'\r', line) else { return false };
        if line[at] != b'\n' || line.get(at + 1) != Some(&b'\n') || 5 + at > self.max_event_bytes {
            return false;
        }
        let skip = usize::from(line.first() == Some(&b' '));
        let start = self.pos + 5;
        self.event.in_read = Some(start + skip.min(at)..start + at);
        self.event.data_lines = 1;
        self.event.len = 5 + at;
        self.pos = start + at + 2;
        true
    }

    /// The event the last [`Decoder::next_event`] handed out, again (until the next call).
    pub fn current(&self) -> Option<Event<'_>> {
        self.dispatched.then(|| self.event_view())
    }

    /// The end of the body: an unterminated event is dropped (the standard's rule), so this only reports
    /// an unfinished line that was already over the limit. Returns `None` when the body ended cleanly.
    pub fn finish(&mut self) -> Result<(), ClientError> {
        self.settle();
        if self.failed {
            return Ok(());
        }
        self.keep_rest();
        let len = self.event.len.saturating_add(self.partial.len());
        if len > self.max_event_bytes {
            return Err(self.too_large());
        }
        Ok(())
    }

    /// Clears the event handed out by the previous call.
    fn settle(&mut self) {
        if self.dispatched {
            self.dispatched = false;
            self.event.clear();
        }
    }

    /// Keeps the unread rest of the current read as a partial line, and any data line still in it.
    fn keep_rest(&mut self) {
        self.event.own(&self.read);
        let rest = &self.read[self.pos.min(self.read.len())..];
        self.partial.extend_from_slice(rest);
        self.pos = self.read.len();
    }

    fn too_large(&mut self) -> ClientError {
        self.failed = true;
        ClientError::TooLarge { limit: self.max_event_bytes as u64 }
    }

    fn dispatch(&mut self) -> Event<'_> {
        self.dispatched = true;
        self.event_view()
    }

    fn event_view(&self) -> Event<'_> {
        let data = match &self.event.in_read {
            Some(range) => &self.read[range.clone()],
            None => &self.event.data[..],
        };
        Event { event: &self.event.name, data }
    }

    fn line_in_read(&mut self, range: Range<usize>) -> Result<Line, ClientError> {
        let read = self.read.clone();
        let (start, line) = self.strip_bom(range.start, &read[range]);
        self.count(line.len())?;
        Ok(match split_field(line) {
            Field::Blank => self.blank(),
            Field::Comment => {
                self.comment(line);
                Line::Nothing
            }
            Field::Data(value) => {
                let value = start + value.start..start + value.end;
                self.event.add_data(&read, Value::InRead(value));
                Line::Nothing
            }
            Field::Event(value) => {
                self.event.name = String::from_utf8_lossy(&line[value]).into_owned();
                Line::Nothing
            }
            Field::Other => Line::Nothing,
        })
    }

    fn line_owned(&mut self, line: &[u8]) -> Result<Line, ClientError> {
        let (_, line) = self.strip_bom(0, line);
        self.count(line.len())?;
        Ok(match split_field(line) {
            Field::Blank => self.blank(),
            Field::Comment => {
                self.comment(line);
                Line::Nothing
            }
            Field::Data(value) => {
                let read = self.read.clone();
                self.event.add_data(&read, Value::Owned(&line[value]));
                Line::Nothing
            }
            Field::Event(value) => {
                self.event.name = String::from_utf8_lossy(&line[value]).into_owned();
                Line::Nothing
            }
            Field::Other => Line::Nothing,
        })
    }

    fn strip_bom<'l>(&mut self, start: usize, line: &'l [u8]) -> (usize, &'l [u8]) {
        if std::mem::take(&mut self.first_line)
            && let Some(rest) = line.strip_prefix(b"\xEF\xBB\xBF")
        {
            return (start + 3, rest);
        }
        (start, line)
    }

    fn count(&mut self, len: usize) -> Result<(), ClientError> {
        self.event.len = self.event.len.saturating_add(len);
        if self.event.len > self.max_event_bytes {
            return Err(self.too_large());
        }
        Ok(())
    }

    fn blank(&mut self) -> Line {
        if self.event.data_lines > 0 {
            Line::Dispatch
        } else {
            // No data: nothing to dispatch, and the event name does not carry over.
            self.event.clear();
            Line::Nothing
        }
    }

    /// Comments are keep-alives: the first one of a stream is logged (as a snippet, at debug level), the rest
    /// only counted.
    fn comment(&mut self, line: &[u8]) {
        self.comments += 1;
        if self.comments == 1 {
            let text = snippet(&line[..line.len().min(COMMENT_SNIPPET)]);
            tracing::debug!(comment = %text, "the stream carries comment lines (keep-alives); logged once per stream");
        }
    }
}

/// A line's meaning; ranges are into the line.
enum Field {
    Blank,
    Comment,
    Data(Range<usize>),
    Event(Range<usize>),
    Other,
}

fn split_field(line: &[u8]) -> Field {
    if line.is_empty() {
        return Field::Blank;
    }
    if line[0] == b':' {
        return Field::Comment;
    }
    let (name, value) = match memchr::memchr(b':', line) {
        Some(colon) => {
            // One space after the colon is part of the syntax, not of the value.
            let start = if line.get(colon + 1) == Some(&b' ') { colon + 2 } else { colon + 1 };
            (&line[..colon], start..line.len())
        }
        None => (line, line.len()..line.len()),
    };
    match name {
        b"data" => Field::Data(value),
        b"event" => Field::Event(value),
        _ => Field::Other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(reads: &[&[u8]], limit: usize) -> (Vec<(String, Vec<u8>)>, Option<ClientError>) {
        let mut decoder = Decoder::new(limit);
        let mut out = Vec::new();
        for read in reads {
            decoder.push(Bytes::copy_from_slice(read));
            loop {
                match decoder.next_event() {
                    Ok(Some(event)) => out.push((event.event.to_owned(), event.data.to_vec())),
                    Ok(None) => break,
                    Err(error) => return (out, Some(error)),
                }
            }
        }
        (out, decoder.finish().err())
    }

    fn data(reads: &[&[u8]]) -> Vec<String> {
        all(reads, 1 << 20).0.into_iter().map(|(_, d)| String::from_utf8(d).unwrap()).collect()
    }

    #[test]
    fn line_ends_and_fields() {
        assert_eq!(data(&[b"data: a\n\ndata:b\r\rdata: c\r\n\r\n"]), ["a", "b", "c"]);
        assert_eq!(data(&[b"data: a\r", b"\n", b"\r", b"\ndata: b\n", b"\n"]), ["a", "b"]);
        assert_eq!(data(&[b"data: one\ndata:  two\ndata\n\n"]), ["one\n two\n"]);
        assert_eq!(data(&[b"id: 1\nretry: 5\nfoo: bar\n: hi\n\n"]), Vec::<String>::new());
        assert_eq!(data(&[b"\xEF\xBB\xBFdata: x\n\n"]), ["x"]);
        assert_eq!(data(&[b"da", b"ta", b": x", b"\n", b"\n"]), ["x"]);
    }

    #[test]
    fn event_names_reset_after_dispatch() {
        let (events, _) = all(&[b"event: error\ndata: {}\n\ndata: 2\n\nevent: x\n\ndata: 3\n\n"], 1 << 20);
        let names: Vec<&str> = events.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["error", "", ""]);
    }

    #[test]
    fn an_unterminated_event_is_dropped() {
        assert_eq!(data(&[b"data: a\n\ndata: b\n"]), ["a"]);
    }

    #[test]
    fn utf8_split_across_reads_is_whole() {
        let text = "data: é€😀\n\n".as_bytes();
        for cut in 0..text.len() {
            assert_eq!(data(&[&text[..cut], &text[cut..]]), ["é€😀"], "cut at {cut}");
        }
    }

    #[test]
    fn the_event_limit_holds_wherever_reads_cut() {
        let body = b"data: 12345\n\ndata: 1234567890\n\n";
        let (whole, error) = all(&[body], 12);
        assert_eq!(whole.len(), 1);
        assert!(matches!(error, Some(ClientError::TooLarge { limit: 12 })));
        let reads: Vec<&[u8]> = body.chunks(3).collect();
        let (pieces, error) = all(&reads, 12);
        assert_eq!(pieces, whole);
        assert!(matches!(error, Some(ClientError::TooLarge { .. })));
        // An endless line without a line end fails as soon as it is too long.
        let (_, error) = all(&[b"data: ", &[b'x'; 64]], 10);
        assert!(matches!(error, Some(ClientError::TooLarge { .. })));
    }

    #[test]
    fn comments_are_counted() {
        let mut decoder = Decoder::new(100);
        decoder.push(Bytes::from_static(b": a\n: b\n:c\n\n"));
        assert!(decoder.next_event().unwrap().is_none());
        assert_eq!(decoder.comments(), 3);
    }
}

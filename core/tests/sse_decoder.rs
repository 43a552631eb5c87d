//! Property tests of the SSE decoder (`toolsmith_core::client::sse::Decoder`): on arbitrary bytes it never
//! panics, what it decodes does not depend on how the bytes were cut into reads, it agrees with a plain
//! reference implementation of the WHATWG rules written for clarity, and the event limit holds (Q41).

use bytes::Bytes;
use proptest::prelude::*;
use toolsmith_core::client::ClientError;
use toolsmith_core::client::sse::Decoder;

#[derive(Debug, PartialEq)]
enum Outcome {
    Events(Vec<(String, Vec<u8>)>),
    TooLarge(Vec<(String, Vec<u8>)>),
}

fn cut(bytes: &[u8], cuts: &[usize]) -> Vec<Bytes> {
    let mut cuts: Vec<usize> = cuts.iter().map(|c| c % (bytes.len() + 1)).collect();
    cuts.sort_unstable();
    let mut out = Vec::new();
    let mut start = 0;
    for at in cuts.into_iter().chain(std::iter::once(bytes.len())) {
        out.push(Bytes::copy_from_slice(&bytes[start..at]));
        start = at;
    }
    out
}

fn decode(reads: Vec<Bytes>, limit: usize) -> Outcome {
    let mut decoder = Decoder::new(limit);
    let mut events = Vec::new();
    for read in reads {
        decoder.push(read);
        loop {
            match decoder.next_event() {
                Ok(Some(event)) => events.push((event.event.to_owned(), event.data.to_vec())),
                Ok(None) => break,
                Err(ClientError::TooLarge { .. }) => return Outcome::TooLarge(events),
                Err(other) => panic!("unexpected {other:?}"),
            }
        }
    }
    match decoder.finish() {
        Ok(()) => Outcome::Events(events),
        Err(ClientError::TooLarge { .. }) => Outcome::TooLarge(events),
        Err(other) => panic!("unexpected {other:?}"),
    }
}

/// The standard's algorithm, one byte at a time over the whole body.
fn reference(body: &[u8], limit: usize) -> Outcome {
    let body = body.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(body);
    let mut lines: Vec<&[u8]> = Vec::new();
    let mut start = 0;
    let mut i = 0;
    while i < body.len() {
        match body[i] {
            b'\n' => {
                lines.push(&body[start..i]);
                start = i + 1;
            }
            b'\r' => {
                lines.push(&body[start..i]);
                if body.get(i + 1) == Some(&b'\n') {
                    i += 1;
                }
                start = i + 1;
            }
            _ => {}
        }
        i += 1;
    }
    let unfinished = &body[start..];
    let (mut events, mut data, mut name, mut len) = (Vec::new(), None::<Vec<u8>>, String::new(), 0usize);
    for line in lines {
        len += line.len();
        if len > limit {
            return Outcome::TooLarge(events);
        }
        if line.is_empty() {
            if let Some(data) = data.take() {
                events.push((std::mem::take(&mut name), data));
            }
            name.clear();
            len = 0;
            continue;
        }
        if line[0] == b':' {
            continue;
        }
        let (field, value) = match line.iter().position(|&b| b == b':') {
            Some(colon) => {
                let value = &line[colon + 1..];
                (&line[..colon], value.strip_prefix(b" ").unwrap_or(value))
            }
            None => (line, &b""[..]),
        };
        match field {
            b"data" => match &mut data {
                Some(data) => {
                    data.push(b'\n');
                    data.extend_from_slice(value);
                }
                None => data = Some(value.to_vec()),
            },
            b"event" => name = String::from_utf8_lossy(value).into_owned(),
            _ => {}
        }
    }
    if len + unfinished.len() > limit {
        return Outcome::TooLarge(events);
    }
    Outcome::Events(events)
}

fn sse_line() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        Just(b"data: ".to_vec()),
        Just(b"data:".to_vec()),
        Just(b"data".to_vec()),
        Just(b": keep-alive".to_vec()),
        Just(b":".to_vec()),
        Just(b"event: error".to_vec()),
        Just(b"event:x".to_vec()),
        Just(b"id: 7".to_vec()),
        Just(b"retry: 10".to_vec()),
        Just(Vec::new()),
        Just(b"data: {\"choices\":[]}".to_vec()),
        Just("data: é€😀".as_bytes().to_vec()),
        Just(b"\xEF\xBB\xBFdata: bom".to_vec()),
        "[ -~]{0,24}".prop_map(|s| format!("data: {s}").into_bytes()),
        "[ -~]{0,24}".prop_map(String::into_bytes),
        prop::collection::vec(any::<u8>(), 0..12),
    ]
}

fn line_end() -> impl Strategy<Value = &'static [u8]> {
    prop_oneof![Just(&b"\n"[..]), Just(&b"\r\n"[..]), Just(&b"\r"[..])]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_decode_the_same_whatever_the_cuts(
        bytes in prop::collection::vec(any::<u8>(), 0..2048),
        cuts in prop::collection::vec(any::<usize>(), 0..24),
        limit in prop_oneof![Just(64usize), Just(512), Just(1 << 20)],
    ) {
        let whole = decode(vec![Bytes::from(bytes.clone())], limit);
        prop_assert_eq!(&decode(cut(&bytes, &cuts), limit), &whole);
        prop_assert_eq!(&reference(&bytes, limit), &whole);
    }

    #[test]
    fn sse_shaped_input_matches_the_reference(
        lines in prop::collection::vec((sse_line(), line_end()), 0..40),
        tail in prop::collection::vec(any::<u8>(), 0..8),
        cuts in prop::collection::vec(any::<usize>(), 0..40),
        limit in prop_oneof![Just(40usize), Just(200), Just(1 << 20)],
    ) {
        let mut body: Vec<u8> = lines.iter().flat_map(|(line, end)| line.iter().chain(end.iter()).copied()).collect();
        body.extend_from_slice(&tail);
        let expected = reference(&body, limit);
        prop_assert_eq!(&decode(vec![Bytes::from(body.clone())], limit), &expected);
        prop_assert_eq!(&decode(cut(&body, &cuts), limit), &expected);
        // One byte per read: every CRLF and every character split.
        let single: Vec<Bytes> = body.iter().map(|b| Bytes::copy_from_slice(&[*b])).collect();
        prop_assert_eq!(&decode(single, limit), &expected);
    }

    #[test]
    fn an_event_fits_exactly_up_to_the_limit(size in 1usize..3000, extra in 1usize..50) {
        let event = format!("data: {}\n\n", "x".repeat(size));
        let line_len = size + 6;
        match decode(vec![Bytes::from(event.clone())], line_len) {
            Outcome::Events(events) => prop_assert_eq!(events.len(), 1),
            other => prop_assert!(false, "{:?}", other),
        }
        prop_assert!(matches!(decode(vec![Bytes::from(event)], line_len - 1), Outcome::TooLarge(_)));
        // An endless event fails once past the limit however it arrives, and nothing after the failure is read.
        // 16 counted bytes a line (line ends are not counted).
        let endless = "data: yyyyyyyyyy\n".repeat((line_len + extra) / 16 + 2);
        let reads: Vec<Bytes> = endless.as_bytes().chunks(7).map(Bytes::copy_from_slice).collect();
        prop_assert!(matches!(decode(reads, line_len), Outcome::TooLarge(_)));
    }
}

#[test]
fn a_flood_of_tiny_reads_stays_linear_and_bounded() {
    // 1 MB of one line delivered a byte at a time, against a 64 KiB limit: fails at the limit, without
    // having buffered the rest (the decoder stops at the first read past it).
    let mut decoder = Decoder::new(64 * 1024);
    let mut failed_at = None;
    for i in 0..1_000_000usize {
        decoder.push(Bytes::from_static(b"x"));
        match decoder.next_event() {
            Ok(_) => {}
            Err(ClientError::TooLarge { .. }) => {
                failed_at = Some(i);
                break;
            }
            Err(other) => panic!("{other:?}"),
        }
    }
    assert_eq!(failed_at, Some(64 * 1024));
}

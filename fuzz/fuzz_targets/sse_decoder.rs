//! The SSE decoder alone (`toolsmith_core::client::sse::Decoder`) on arbitrary bytes cut into arbitrary reads.
//!
//! Input: one byte choosing the event limit, two bytes seeding how the rest is cut into reads, then the body.
//! Checks: no panic; the events (and where a too-large event stops them) do not depend on the cuts: a
//! whole-body read, the fuzzed reads and one byte per read all agree; no event is longer than the limit.

#![no_main]

use bytes::Bytes;
use libfuzzer_sys::fuzz_target;
use toolsmith_core::client::ClientError;
use toolsmith_core::client::sse::Decoder;

#[derive(Debug, PartialEq)]
struct Outcome {
    events: Vec<(String, Vec<u8>)>,
    too_large: bool,
}

fn decode(reads: impl IntoIterator<Item = Bytes>, limit: usize) -> Outcome {
    let mut decoder = Decoder::new(limit);
    let mut events = Vec::new();
    for read in reads {
        decoder.push(read);
        loop {
            match decoder.next_event() {
                Ok(Some(event)) => {
                    assert!(event.data.len() <= limit, "an event longer than the limit got through");
                    let _ = event.text();
                    events.push((event.event.to_owned(), event.data.to_vec()));
                }
                Ok(None) => break,
                Err(ClientError::TooLarge { .. }) => return Outcome { events, too_large: true },
                Err(other) => panic!("unexpected error {other:?}"),
            }
        }
    }
    let too_large = matches!(decoder.finish(), Err(ClientError::TooLarge { .. }));
    Outcome { events, too_large }
}

/// Cuts `body` into reads of 1..=16 bytes, from a tiny xorshift seeded by `seed`.
fn cut(body: &[u8], seed: u16) -> Vec<Bytes> {
    let mut state = u32::from(seed) | 1;
    let mut reads = Vec::new();
    let mut rest = body;
    while !rest.is_empty() {
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        let size = (state % 16 + 1) as usize;
        let (head, tail) = rest.split_at(size.min(rest.len()));
        reads.push(Bytes::copy_from_slice(head));
        rest = tail;
    }
    reads
}

fuzz_target!(|data: &[u8]| {
    let (limit, seed, body) = match data {
        [l, a, b, body @ ..] => (usize::from(*l) * 4 + 1, u16::from_le_bytes([*a, *b]), body),
        _ => return,
    };
    let whole = decode([Bytes::copy_from_slice(body)], limit);
    assert_eq!(decode(cut(body, seed), limit), whole, "the outcome depends on the cuts");
    let single = body.iter().map(|b| Bytes::copy_from_slice(&[*b]));
    assert_eq!(decode(single, limit), whole, "one byte per read differs");
});

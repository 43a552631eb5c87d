//! The SSE decoder + chunk accumulator (`ChatStream::from_bytes`) on arbitrary bytes cut into arbitrary reads.
//!
//! Input: two bytes seeding how the rest is cut into reads, then the body. Checks: no panic, the stream ends,
//! and the outcome does not depend on how the bytes were cut (a whole-body read and the fuzzed reads give
//! the same chunks and the same completion or failure).

#![no_main]

use bytes::Bytes;
use futures::StreamExt;
use futures::executor::block_on;
use libfuzzer_sys::fuzz_target;
use toolsmith_core::client::{ChatStream, ClientError};
use toolsmith_core::wire::ChatChunk;

/// Small, so oversized events are reachable.
const MAX_EVENT_BYTES: usize = 512;

#[derive(Debug, PartialEq)]
enum Outcome {
    Done(String),
    Failed(&'static str),
}

fn kind(error: &ClientError) -> &'static str {
    match error {
        ClientError::Stream { .. } => "stream",
        ClientError::Decode { .. } => "decode",
        ClientError::TooLarge { .. } => "too_large",
        _ => "other",
    }
}

fn decode(reads: Vec<Bytes>) -> (Vec<ChatChunk>, Outcome) {
    block_on(async move {
        let body = futures::stream::iter(reads.into_iter().map(Ok::<_, ClientError>));
        let mut stream = ChatStream::from_bytes(body, MAX_EVENT_BYTES);
        let mut chunks = Vec::new();
        while let Some(item) = stream.next().await {
            match item {
                Ok(chunk) => chunks.push(chunk),
                Err(error) => {
                    // The partial turn must be readable after any failure.
                    let _ = stream.partial();
                    return (chunks, Outcome::Failed(kind(&error)));
                }
            }
        }
        let _ = stream.partial();
        let outcome = match stream.completion().await {
            Ok(completion) => Outcome::Done(format!("{completion:?}")),
            Err(error) => Outcome::Failed(kind(&error)),
        };
        (chunks, outcome)
    })
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
    let (seed, body) = match data {
        [a, b, body @ ..] => (u16::from_le_bytes([*a, *b]), body),
        _ => return,
    };
    let whole = decode(vec![Bytes::copy_from_slice(body)]);
    let pieces = decode(cut(body, seed));
    assert_eq!(whole, pieces, "the outcome depends on how the body was cut into reads");
});

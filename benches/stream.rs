//! SSE decoding + chunk accumulation: bytes in, one finished turn out, through the public
//! `ChatStream::from_bytes` (the same path `Client::chat_stream` takes after the status line).
//!
//! Three workloads, each reported in MB/s (`sse_bytes`) and chunks/s (`sse_chunks`):
//! - `text`: a long answer, one word per chunk, one event per read (how servers flush);
//! - `tool_calls_8b`: four parallel tool calls whose arguments arrive in 8-byte fragments, one event per read;
//! - `tool_calls_1b_reads`: the same bytes delivered one byte per read.
//!
//! Run: `cargo bench --bench stream`.

use std::hint::black_box;

use bytes::Bytes;
use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use futures::executor::block_on;
use serde_json::json;
use toolsmith::client::ClientError;
use toolsmith::stream::ChatStream;

/// A recorded stream: its events (one SSE event each) and how many chunks they carry.
struct Workload {
    name: &'static str,
    events: Vec<Bytes>,
    chunks: u64,
}

impl Workload {
    fn bytes(&self) -> u64 {
        self.events.iter().map(|event| event.len() as u64).sum()
    }

    /// The same bytes, cut into reads of `size` bytes.
    fn reads(&self, size: usize) -> Vec<Bytes> {
        let all: Vec<u8> = self.events.iter().flat_map(|event| event.iter().copied()).collect();
        all.chunks(size).map(Bytes::copy_from_slice).collect()
    }
}

/// An OpenAI-shaped chunk event.
fn event(delta: serde_json::Value, finish_reason: Option<&str>) -> Bytes {
    let chunk = json!({
        "id": "chatcmpl-B9MHDbslfkBeAs8l4bebGdFOJ6PeG",
        "object": "chat.completion.chunk",
        "created": 1_741_570_283,
        "model": "gpt-4o-mini-2024-07-18",
        "service_tier": "default",
        "system_fingerprint": "fp_06737a9306",
        "choices": [{"index": 0, "delta": delta, "logprobs": null, "finish_reason": finish_reason}],
    });
    Bytes::from(format!("data: {chunk}\n\n"))
}

fn tail(events: &mut Vec<Bytes>) {
    let usage = json!({
        "id": "chatcmpl-B9MHDbslfkBeAs8l4bebGdFOJ6PeG", "object": "chat.completion.chunk", "created": 1_741_570_283,
        "model": "gpt-4o-mini-2024-07-18", "choices": [],
        "usage": {"prompt_tokens": 812, "completion_tokens": 2048, "total_tokens": 2860,
                  "prompt_tokens_details": {"cached_tokens": 0}, "completion_tokens_details": {"reasoning_tokens": 0}},
    });
    events.push(Bytes::from(format!("data: {usage}\n\n")));
    events.push(Bytes::from_static(b"data: [DONE]\n\n"));
}

/// 2,000 words of text, one word per chunk.
fn long_text() -> Workload {
    const WORDS: [&str; 8] = ["The ", "weather ", "in ", "Paris ", "is ", "mild, ", "around ", "18 degrees. "];
    let mut events = vec![event(json!({"role": "assistant", "content": "", "refusal": null}), None)];
    for i in 0..2000 {
        events.push(event(json!({"content": WORDS[i % WORDS.len()]}), None));
    }
    events.push(event(json!({}), Some("stop")));
    tail(&mut events);
    let chunks = events.len() as u64 - 1;
    Workload { name: "text", events, chunks }
}

/// Four parallel calls with ~300-byte arguments, streamed in 8-byte fragments.
fn parallel_tool_calls() -> Workload {
    let mut events = vec![event(json!({"role": "assistant", "content": null}), None)];
    for call in 0..4 {
        let arguments = json!({
            "city": format!("City number {call}"),
            "unit": "celsius",
            "days": 7,
            "include": ["temperature", "humidity", "wind", "precipitation", "uv_index"],
            "location": {"lat": 48.8566 + f64::from(call), "lon": 2.3522, "label": "somewhere with a longer label"},
            "notes": "Please include hourly detail for the first day and daily summaries after that.",
        })
        .to_string();
        events.push(event(
            json!({"tool_calls": [{"index": call, "id": format!("call_{call:024}"), "type": "function",
                                   "function": {"name": "get_forecast", "arguments": ""}}]}),
            None,
        ));
        for piece in arguments.as_bytes().chunks(8) {
            let piece = String::from_utf8_lossy(piece);
            events.push(event(json!({"tool_calls": [{"index": call, "function": {"arguments": piece}}]}), None));
        }
    }
    events.push(event(json!({}), Some("tool_calls")));
    tail(&mut events);
    let chunks = events.len() as u64 - 1;
    Workload { name: "tool_calls_8b", events, chunks }
}

fn decode(reads: Vec<Bytes>) -> usize {
    let body = futures::stream::iter(reads.into_iter().map(Ok::<_, ClientError>));
    let completion = block_on(ChatStream::from_bytes(body, 1 << 20).completion());
    match completion {
        Ok(completion) => completion.message.text().len() + completion.message.tool_calls.len(),
        Err(error) => panic!("the recorded stream must decode: {error}"),
    }
}

fn cases() -> Vec<(&'static str, Vec<Bytes>, u64, u64)> {
    let text = long_text();
    let calls = parallel_tool_calls();
    vec![
        (text.name, text.events.clone(), text.bytes(), text.chunks),
        (calls.name, calls.events.clone(), calls.bytes(), calls.chunks),
        ("tool_calls_1b_reads", calls.reads(1), calls.bytes(), calls.chunks),
    ]
}

fn sse(c: &mut Criterion) {
    let cases = cases();
    for (group_name, per_bytes) in [("sse_bytes", true), ("sse_chunks", false)] {
        let mut group = c.benchmark_group(group_name);
        for (name, reads, bytes, chunks) in &cases {
            group.throughput(if per_bytes { Throughput::Bytes(*bytes) } else { Throughput::Elements(*chunks) });
            group.bench_function(*name, |b| {
                b.iter_batched(|| reads.clone(), |reads| black_box(decode(reads)), BatchSize::SmallInput)
            });
        }
        group.finish();
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default().measurement_time(std::time::Duration::from_secs(4)).sample_size(30);
    targets = sse
}
criterion_main!(benches);

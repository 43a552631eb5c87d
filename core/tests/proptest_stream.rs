//! Property tests: the SSE decoder and the accumulator never panic on arbitrary input, keep memory bounded,
//! and framing (line endings, read boundaries) never changes the result (Q40, Q41).

use bytes::Bytes;
use futures::StreamExt;
use proptest::prelude::*;
use serde_json::{Value, json};
use toolsmith_core::client::ClientError;
use toolsmith_core::stream::ChatStream;
use toolsmith_core::stream::{Accumulator, TOO_MANY_TOOL_CALLS};
use toolsmith_core::wire::ChatChunk;

/// Cuts `bytes` at the given fractions.
fn pieces(bytes: &[u8], cuts: &[usize]) -> Vec<Result<Bytes, ClientError>> {
    let mut cuts: Vec<usize> = cuts.iter().map(|c| c % (bytes.len() + 1)).collect();
    cuts.sort_unstable();
    let mut out = Vec::new();
    let mut start = 0;
    for cut in cuts.into_iter().chain(std::iter::once(bytes.len())) {
        out.push(Ok(Bytes::copy_from_slice(&bytes[start..cut])));
        start = cut;
    }
    out
}

fn run(parts: Vec<Result<Bytes, ClientError>>, limit: usize) -> (Vec<Result<ChatChunk, ClientError>>, usize) {
    futures::executor::block_on(async move {
        let stream = ChatStream::from_bytes(futures::stream::iter(parts), limit);
        let items: Vec<_> = stream.collect().await;
        let n = items.len();
        (items, n)
    })
}

fn fragment() -> impl Strategy<Value = Value> {
    (
        prop::option::of(prop_oneof![Just(json!(null)), (0u32..4).prop_map(|i| json!(i)), Just(json!(-1))]),
        prop::option::of(prop_oneof![Just(json!(null)), Just(json!("")), "call_[ab]".prop_map(Value::from)]),
        prop::option::of(prop_oneof![Just(json!(null)), "[a-z_]{0,6}".prop_map(Value::from)]),
        prop::option::of(prop_oneof![
            Just(json!(null)),
            "[{}\":a-z0-9 ]{0,8}".prop_map(Value::from),
            Just(json!({"k": 1})),
            Just(json!([]))
        ]),
    )
        .prop_map(|(index, id, name, arguments)| {
            let mut call = serde_json::Map::new();
            if let Some(index) = index {
                call.insert("index".into(), index);
            }
            if let Some(id) = id {
                call.insert("id".into(), id);
            }
            let mut function = serde_json::Map::new();
            if let Some(name) = name {
                function.insert("name".into(), name);
            }
            if let Some(arguments) = arguments {
                function.insert("arguments".into(), arguments);
            }
            call.insert("function".into(), Value::Object(function));
            Value::Object(call)
        })
}

fn chunk() -> impl Strategy<Value = Value> {
    (
        prop::option::of("[a-zé🦀\n\" ]{0,6}"),
        prop::option::of("[a-z]{0,4}"),
        prop::collection::vec(fragment(), 0..3),
        prop::option::of(prop_oneof![
            Just("stop".to_owned()),
            Just("tool_calls".to_owned()),
            Just("length".to_owned()),
            Just("eos".to_owned()),
            Just(String::new())
        ]),
        any::<bool>(),
        prop::option::of(0u32..3),
    )
        .prop_map(|(content, reasoning, calls, finish, usage, index)| {
            let mut choice = json!({"delta": {"content": content, "reasoning": reasoning, "tool_calls": calls},
                                    "finish_reason": finish});
            if let Some(index) = index {
                choice["index"] = json!(index);
            }
            let mut chunk = json!({"id": "c", "choices": [choice]});
            if usage {
                chunk["usage"] = json!({"prompt_tokens": 1, "completion_tokens": 2, "total_tokens": 3});
            }
            chunk
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..2048), cuts in prop::collection::vec(any::<usize>(), 0..16)) {
        let (items, n) = run(pieces(&bytes, &cuts), 1 << 20);
        // After an error the stream ends.
        if let Some(pos) = items.iter().position(Result::is_err) {
            prop_assert_eq!(pos + 1, n);
        }
    }

    #[test]
    fn sse_shaped_noise_never_panics(
        lines in prop::collection::vec(prop_oneof![
            Just("data: ".to_owned()), Just("data:".to_owned()), Just(": comment".to_owned()), Just("event: error".to_owned()),
            Just("data: [DONE]".to_owned()), Just("data: {\"error\":{}}".to_owned()), Just(String::new()),
            "[ -~]{0,20}".prop_map(|s| format!("data: {s}")),
            chunk().prop_map(|c| format!("data: {c}")),
        ], 0..20),
        ending in prop_oneof![Just("\n"), Just("\r\n"), Just("\r")],
        cuts in prop::collection::vec(any::<usize>(), 0..16),
    ) {
        let text: String = lines.iter().map(|l| format!("{l}{ending}")).collect();
        let _ = run(pieces(text.as_bytes(), &cuts), 1 << 20);
    }

    #[test]
    fn arbitrary_chunks_never_panic_and_stay_bounded(chunks in prop::collection::vec(chunk(), 0..24)) {
        let mut acc = Accumulator::new();
        let mut input = 0;
        for value in &chunks {
            input += value.to_string().len();
            let chunk: ChatChunk = serde_json::from_value(value.clone()).unwrap();
            if acc.push(&chunk).is_err() { break; }
        }
        let partial = acc.partial();
        // The turn never holds more text than arrived.
        let held = partial.message.text().len()
            + partial.message.reasoning_content.as_deref().map_or(0, str::len)
            + partial.message.tool_calls.iter().map(|c| c.function.name.len() + c.function.arguments.len() + c.id.len()).sum::<usize>();
        prop_assert!(held <= input);
        let _ = acc.finish();
    }

    #[test]
    fn framing_never_changes_the_result(
        chunks in prop::collection::vec(chunk(), 1..12),
        ending in prop_oneof![Just("\n"), Just("\r\n"), Just("\r")],
        space in any::<bool>(),
        cuts in prop::collection::vec(any::<usize>(), 0..32),
    ) {
        let mut direct = Accumulator::new();
        for value in &chunks {
            direct.push(&serde_json::from_value(value.clone()).unwrap()).unwrap();
        }
        let prefix = if space { "data: " } else { "data:" };
        let mut text = String::from(": hello");
        text.push_str(ending);
        text.push_str(ending);
        for value in &chunks {
            text.push_str(&format!("{prefix}{value}{ending}{ending}"));
        }
        text.push_str(&format!("{prefix}[DONE]{ending}{ending}"));
        let streamed = futures::executor::block_on(async {
            ChatStream::from_bytes(futures::stream::iter(pieces(text.as_bytes(), &cuts)), 1 << 20).completion().await
        });
        match (streamed, direct.finish()) {
            (Ok(a), Ok(b)) => prop_assert_eq!(a, b),
            (a, b) => prop_assert!(false, "{:?} vs {:?}", a, b),
        }
    }

    #[test]
    fn memory_is_bounded_by_the_event_limit(len in 5_000usize..40_000, newlines in any::<bool>(), cuts in prop::collection::vec(any::<usize>(), 0..8)) {
        // One event that never ends: either one endless line or endless data lines without a blank line.
        let line = if newlines { "data: xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\n".repeat(len / 36 + 1) } else { format!("data: {}", "x".repeat(len)) };
        let (items, _) = run(pieces(line.as_bytes(), &cuts), 4096);
        prop_assert!(matches!(items.last(), Some(Err(ClientError::TooLarge { limit: 4096 }))), "{:?}", items.last());
    }

    #[test]
    fn many_fragments_stop_at_the_tool_call_cap_with_a_typed_error(
        calls in 0usize..400,
        cap in 1usize..200,
        per_chunk in 1usize..64,
        split in any::<bool>(),
        cuts in prop::collection::vec(any::<usize>(), 0..8),
    ) {
        // Each call as one fragment, or as a name fragment then an arguments fragment on the same index.
        let mut fragments = Vec::new();
        for index in 0..calls {
            if split {
                fragments.push(json!({"index": index, "id": format!("c{index}"), "function": {"name": "f"}}));
                fragments.push(json!({"index": index, "function": {"arguments": "{}"}}));
            } else {
                fragments.push(json!({"index": index, "id": format!("c{index}"), "function": {"name": "f", "arguments": "{}"}}));
            }
        }
        let mut text = String::new();
        for group in fragments.chunks(per_chunk) {
            text.push_str(&format!("data: {}\n\n", json!({"choices": [{"index": 0, "delta": {"tool_calls": group}}]})));
        }
        text.push_str(&format!("data: {}\n\ndata: [DONE]\n\n", json!({"choices": [{"index": 0, "delta": {}, "finish_reason": "tool_calls"}]})));
        let completion = futures::executor::block_on(async {
            ChatStream::from_bytes(futures::stream::iter(pieces(text.as_bytes(), &cuts)), 1 << 24)
                .max_tool_calls(cap)
                .completion()
                .await
        });
        if calls <= cap {
            prop_assert_eq!(completion.unwrap().message.tool_calls.len(), calls);
        } else {
            match completion {
                Err(ClientError::Stream { code: Some(code), partial, retryable: false, .. }) => {
                    prop_assert_eq!(code.as_str(), TOO_MANY_TOOL_CALLS);
                    prop_assert_eq!(partial.message.tool_calls.len(), cap);
                }
                other => prop_assert!(false, "{} calls past a cap of {}: {:?}", calls, cap, other),
            }
        }
    }
}

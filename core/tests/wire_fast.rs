//! `ChatChunk::from_slice` and `ChatResponse::from_slice` read the usual shape through strict mirror types
//! and everything else through the lenient decoder: on every input they must give exactly what the lenient
//! decoder (`serde_json::from_slice`) gives. Generated shapes mix the usual one with the quirks the lenient
//! path exists for (nulls, numbers as strings, arrays as content, unknown fields, error objects...).

use proptest::prelude::*;
use proptest::test_runner::TestCaseError;
use serde_json::{Map, Value, json};
use toolsmith_core::client::ClientError;
use toolsmith_core::stream::{Accumulator, ChatStream, decode_completion};
use toolsmith_core::wire::{ChatChunk, ChatResponse};

/// A value of the right type most of the time, otherwise one of the quirks.
fn field(usual: Value) -> impl Strategy<Value = Option<Value>> {
    prop_oneof![
        6 => Just(Some(usual)),
        1 => Just(None),
        1 => Just(Some(Value::Null)),
        1 => prop_oneof![
            Just(json!("")),
            Just(json!("12")),
            Just(json!(-1)),
            Just(json!(1.5)),
            Just(json!(4294967296u64)),
            Just(json!(true)),
            Just(json!([{"type": "text", "text": "part"}])),
            Just(json!({"nested": 1})),
            Just(json!([])),
        ]
        .prop_map(Some),
    ]
}

fn object(fields: Vec<(&'static str, Option<Value>)>) -> Value {
    let map: Map<String, Value> = fields.into_iter().filter_map(|(k, v)| v.map(|v| (k.to_owned(), v))).collect();
    Value::Object(map)
}

fn usage() -> impl Strategy<Value = Option<Value>> {
    let usual = (
        field(json!(82)),
        field(json!(18)),
        field(json!(100)),
        field(json!({"cached_tokens": 0, "audio_tokens": 0})),
        field(json!({"reasoning_tokens": 5})),
    )
        .prop_map(|(p, c, t, pd, cd)| {
            object(vec![
                ("prompt_tokens", p),
                ("completion_tokens", c),
                ("total_tokens", t),
                ("prompt_tokens_details", pd),
                ("completion_tokens_details", cd),
            ])
        });
    prop_oneof![
        5 => usual.prop_map(Some),
        1 => Just(None),
        1 => Just(Some(Value::Null)),
        // OpenRouter's cost: an unknown usage field, kept in `extra`.
        1 => Just(Some(json!({"prompt_tokens": 1, "completion_tokens": 2, "total_tokens": 3, "cost": 0.01}))),
    ]
}

fn call_delta() -> impl Strategy<Value = Value> {
    (field(json!(0)), field(json!("call_1")), field(json!("function")), field(json!("add")), field(json!("{\"a\":")))
        .prop_map(|(index, id, kind, name, arguments)| {
            let function = object(vec![("name", name), ("arguments", arguments)]);
            object(vec![("index", index), ("id", id), ("type", kind), ("function", Some(function))])
        })
}

fn chunk() -> impl Strategy<Value = Value> {
    let delta = (
        field(json!("assistant")),
        // Text with escapes too: the decoder borrows a string only when it has none.
        prop_oneof![field(json!("Hi")), field(json!("a \"quoted\"\nline é"))],
        field(json!("no")),
        field(json!("thinking")),
        prop::collection::vec(call_delta(), 0..3).prop_map(|c| Some(Value::Array(c))),
    )
        .prop_map(|(role, content, refusal, reasoning, calls)| {
            object(vec![
                ("role", role),
                ("content", content),
                ("refusal", refusal),
                ("reasoning_content", reasoning),
                ("tool_calls", calls),
            ])
        });
    let choice = (field(json!(0)), delta, field(json!("stop")), field(json!(null)), any::<bool>()).prop_map(
        |(index, delta, finish, logprobs, extra)| {
            let mut choice = object(vec![
                ("index", index),
                ("delta", Some(delta)),
                ("finish_reason", finish),
                ("logprobs", logprobs),
            ]);
            if extra {
                choice["native_finish_reason"] = json!("STOP");
            }
            choice
        },
    );
    (
        field(json!("chatcmpl-1")),
        field(json!("chat.completion.chunk")),
        field(json!(1733000000)),
        field(json!("gpt-4o-mini")),
        prop::collection::vec(choice, 0..2),
        usage(),
        field(json!("fp_1")),
        field(json!("default")),
        prop_oneof![4 => Just(None), 1 => Just(Some(json!({"message": "boom"}))), 1 => Just(Some(json!({"usage": {"prompt_tokens": 1}})))],
    )
        .prop_map(|(id, object_name, created, model, choices, usage, fingerprint, tier, odd)| {
            let mut chunk = object(vec![
                ("id", id),
                ("object", object_name),
                ("created", created),
                ("model", model),
                ("choices", Some(Value::Array(choices))),
                ("usage", usage),
                ("system_fingerprint", fingerprint),
                ("service_tier", tier),
            ]);
            if let Some(odd) = odd {
                let key = if odd.get("message").is_some() { "error" } else { "x_groq" };
                chunk[key] = odd;
            }
            chunk
        })
}

fn response() -> impl Strategy<Value = Value> {
    let message = (field(json!("Hello")), field(json!(null)), prop::collection::vec(call_delta(), 0..3), any::<bool>())
        .prop_map(|(content, refusal, calls, annotations)| {
            let mut message =
                object(vec![("role", Some(json!("assistant"))), ("content", content), ("refusal", refusal)]);
            if !calls.is_empty() {
                message["tool_calls"] = Value::Array(calls);
            }
            if annotations {
                message["annotations"] = json!([]);
            }
            message
        });
    let choice = (field(json!(0)), message, field(json!("tool_calls")), field(json!(null))).prop_map(
        |(index, message, finish, logprobs)| {
            object(vec![
                ("index", index),
                ("message", Some(message)),
                ("finish_reason", finish),
                ("logprobs", logprobs),
            ])
        },
    );
    (
        field(json!("chatcmpl-1")),
        field(json!("chat.completion")),
        field(json!(1)),
        prop::collection::vec(choice, 0..2),
        usage(),
        field(json!("default")),
    )
        .prop_map(|(id, object_name, created, choices, usage, tier)| {
            object(vec![
                ("id", id),
                ("object", object_name),
                ("created", created),
                ("model", Some(json!("gpt-4o-mini"))),
                ("choices", Some(Value::Array(choices))),
                ("usage", usage),
                ("service_tier", tier),
            ])
        })
}

/// Runs `check` on `cases` generated values, in a thread with a large stack: the generated shapes are deep
/// enough to overflow the default test thread's stack in debug builds.
fn check<S>(strategy: S, cases: u32, check: fn(S::Value) -> Result<(), TestCaseError>)
where
    S: Strategy + Send + 'static,
    S::Value: std::fmt::Debug,
{
    std::thread::Builder::new()
        .stack_size(256 << 20)
        .spawn(move || {
            let mut runner =
                proptest::test_runner::TestRunner::new(ProptestConfig { cases, ..ProptestConfig::default() });
            if let Err(failure) = runner.run(&strategy, check) {
                panic!("{failure}");
            }
        })
        .expect("a test thread")
        .join()
        .expect("the property holds");
}

#[test]
fn chunks_decode_as_the_lenient_decoder_does() {
    check(chunk(), 2000, |value| {
        let bytes = serde_json::to_vec(&value).unwrap();
        let lenient = serde_json::from_slice::<ChatChunk>(&bytes).map_err(|e| e.to_string());
        let fast = ChatChunk::from_slice(&bytes).map_err(|e| e.to_string());
        prop_assert_eq!(fast, lenient, "{}", value);
        Ok(())
    });
}

#[test]
fn responses_decode_as_the_lenient_decoder_does() {
    check(response(), 2000, |value| {
        let bytes = serde_json::to_vec(&value).unwrap();
        let lenient = serde_json::from_slice::<ChatResponse>(&bytes).map_err(|e| e.to_string());
        let fast = ChatResponse::from_slice(&bytes).map_err(|e| e.to_string());
        prop_assert_eq!(fast, lenient, "{}", value);
        Ok(())
    });
}

/// `stream::decode_completion` reads the usual response straight into its turn: the same turn as the
/// lenient decoder followed by `into_completion`.
#[test]
fn response_turns_decode_as_the_lenient_decoder_then_into_completion() {
    check(response(), 2000, |value| {
        let bytes = serde_json::to_vec(&value).unwrap();
        let lenient = serde_json::from_slice::<ChatResponse>(&bytes).ok().and_then(|r| r.into_completion().ok());
        prop_assert_eq!(decode_completion(&bytes).ok(), lenient, "{}", value);
        Ok(())
    });
}

/// A streamed turn read the agent's way (`ChatStream::completion`: each event decoded in its usual shape,
/// borrowed, anything else leniently) folds into the same turn as the lenient chunks pushed into an
/// `Accumulator` one by one, errors included.
#[test]
fn streamed_turns_fold_as_the_lenient_chunks_do() {
    check(prop::collection::vec(chunk(), 1..5), 1000, |chunks| {
        let mut sse = Vec::new();
        for chunk in &chunks {
            sse.extend_from_slice(b"data: ");
            sse.extend_from_slice(&serde_json::to_vec(chunk).unwrap());
            sse.extend_from_slice(b"\n\n");
        }
        sse.extend_from_slice(b"data: [DONE]\n\n");
        let body = futures::stream::iter([Ok::<_, ClientError>(bytes::Bytes::from(sse))]);
        let streamed = futures::executor::block_on(ChatStream::from_bytes(body, 1 << 20).completion());
        let mut acc = Accumulator::new();
        let mut lenient = Ok(());
        for chunk in &chunks {
            lenient = serde_json::from_slice::<ChatChunk>(&serde_json::to_vec(chunk).unwrap())
                .map_err(|e| e.to_string())
                .and_then(|chunk| acc.push(&chunk).map_err(|e| e.to_string()));
            if lenient.is_err() {
                break;
            }
        }
        let lenient = lenient.and_then(|()| acc.finish().map_err(|e| e.to_string()));
        prop_assert_eq!(streamed.is_ok(), lenient.is_ok(), "{:?} vs {:?}", streamed, lenient);
        if let (Ok(streamed), Ok(lenient)) = (streamed, lenient) {
            prop_assert_eq!(streamed, lenient);
        }
        Ok(())
    });
}

#[test]
fn arbitrary_bytes_decode_as_the_lenient_decoder_does() {
    check(prop::collection::vec(any::<u8>(), 0..256), 1000, |bytes| {
        prop_assert_eq!(ChatChunk::from_slice(&bytes).ok(), serde_json::from_slice::<ChatChunk>(&bytes).ok());
        prop_assert_eq!(ChatResponse::from_slice(&bytes).ok(), serde_json::from_slice::<ChatResponse>(&bytes).ok());
        Ok(())
    });
}

#[test]
fn the_usual_shapes_take_the_direct_path_and_match() {
    // What OpenAI sends (the loadbench server's bytes): equal through both paths.
    let chunk = r#"{"id":"chatcmpl-b","object":"chat.completion.chunk","created":1,"model":"m","service_tier":"default","system_fingerprint":"fp","choices":[{"index":0,"delta":{"role":"assistant","content":null,"tool_calls":[{"index":0,"id":"call_1","type":"function","function":{"name":"add","arguments":""}}],"refusal":null},"logprobs":null,"finish_reason":null}],"usage":null,"obfuscation":"x"}"#;
    assert_eq!(ChatChunk::from_slice(chunk.as_bytes()).unwrap(), serde_json::from_str::<ChatChunk>(chunk).unwrap());
    let usage = r#"{"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[],"usage":{"prompt_tokens":82,"completion_tokens":18,"total_tokens":100,"prompt_tokens_details":{"cached_tokens":0,"audio_tokens":0},"completion_tokens_details":{"reasoning_tokens":7,"audio_tokens":0,"accepted_prediction_tokens":0,"rejected_prediction_tokens":0}}}"#;
    let fast = ChatChunk::from_slice(usage.as_bytes()).unwrap();
    assert_eq!(fast, serde_json::from_str::<ChatChunk>(usage).unwrap());
    assert_eq!(fast.usage.unwrap().reasoning_tokens(), 7);
    let response = r#"{"id":"c","object":"chat.completion","created":1,"model":"m","choices":[{"index":0,"message":{"role":"assistant","content":null,"tool_calls":[{"id":"call_1","type":"function","function":{"name":"add","arguments":"{\"a\":40,\"b\":2}"}}],"refusal":null,"annotations":[]},"logprobs":null,"finish_reason":"tool_calls"}],"usage":{"prompt_tokens":1,"completion_tokens":2,"total_tokens":3},"service_tier":"default"}"#;
    assert_eq!(
        ChatResponse::from_slice(response.as_bytes()).unwrap(),
        serde_json::from_str::<ChatResponse>(response).unwrap()
    );
}

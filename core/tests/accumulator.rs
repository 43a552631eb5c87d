//! The accumulation algorithm of §1.3 against the tool-call quirks Q5–Q13, Q15, Q20, Q23–Q25 and Q3.

use serde_json::{Value, json};
use toolsmith_core::client::ClientError;
use toolsmith_core::stream::{Accumulator, Completion};
use toolsmith_core::wire::{ChatChunk, FinishReason};

fn fold(chunks: &[Value]) -> Result<Completion, ClientError> {
    let mut acc = Accumulator::new();
    for chunk in chunks {
        let chunk: ChatChunk = serde_json::from_value(chunk.clone()).unwrap();
        acc.push(&chunk)?;
    }
    acc.finish()
}

fn calls(deltas: &[Value]) -> Vec<Value> {
    deltas.iter().map(|d| json!({"choices":[{"index":0,"delta":{"tool_calls":[d]}}]})).collect()
}

fn names_and_args(done: &Completion) -> Vec<(String, String, String)> {
    done.message
        .tool_calls
        .iter()
        .map(|c| (c.id.clone(), c.function.name.clone(), c.function.arguments.clone()))
        .collect()
}

#[test]
fn recorded_openai_parallel_calls() {
    let mut chunks = vec![
        json!({"id":"chatcmpl-ABfw","model":"gpt-4o","choices":[{"index":0,"delta":{"role":"assistant","content":null}}]}),
    ];
    chunks.extend(calls(&[
        json!({"index":0,"id":"call_JMW","type":"function","function":{"name":"GetWeatherArgs","arguments":""}}),
        json!({"index":0,"function":{"arguments":"{\"ci"}}),
        json!({"index":0,"function":{"arguments":"ty\": \"Edinb"}}),
        json!({"index":0,"function":{"arguments":"urgh\"}"}}),
        json!({"index":1,"id":"call_DNY","type":"function","function":{"name":"get_stock_price","arguments":""}}),
        json!({"index":1,"function":{"arguments":"{\"ti"}}),
        json!({"index":1,"function":{"arguments":"cker\":\"AAPL\"}"}}),
    ]));
    chunks.push(json!({"choices":[{"index":0,"delta":{},"finish_reason":"tool_calls"}]}));
    chunks.push(json!({"choices":[],"usage":{"prompt_tokens":149,"completion_tokens":60,"total_tokens":209}}));
    let done = fold(&chunks).unwrap();
    assert_eq!(
        names_and_args(&done),
        [
            ("call_JMW".into(), "GetWeatherArgs".into(), "{\"city\": \"Edinburgh\"}".into()),
            ("call_DNY".into(), "get_stock_price".into(), "{\"ticker\":\"AAPL\"}".into())
        ]
    );
    assert_eq!(done.message.content, None, "no text means no content");
    assert_eq!(done.finish_reason, FinishReason::ToolCalls);
    assert_eq!(done.usage.unwrap().total_tokens, 209);
    assert_eq!(done.id, "chatcmpl-ABfw");
}

#[test]
fn q1_stop_with_tool_calls_keeps_the_calls() {
    let mut chunks = calls(&[
        json!({"index":0,"id":"call_1","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Paris\"}"}}),
    ]);
    chunks.push(json!({"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}));
    let done = fold(&chunks).unwrap();
    assert_eq!(done.finish_reason, FinishReason::Stop, "kept as sent: the agent keys on tool calls");
    assert_eq!(done.message.tool_calls.len(), 1);
}

#[test]
fn q3_no_finish_reason() {
    let done = fold(&calls(&[json!({"index":0,"id":"c","function":{"name":"f","arguments":"{}"}})])).unwrap();
    assert_eq!(done.finish_reason, FinishReason::ToolCalls);
    let done = fold(&[json!({"choices":[{"delta":{"content":" 3"}}]})]).unwrap();
    assert_eq!(done.finish_reason, FinishReason::Stop);
}

#[test]
fn q5_length_mid_call_is_reported_as_length() {
    let mut chunks =
        calls(&[json!({"index":0,"id":"c","function":{"name":"search","arguments":"{\"query\":\"rust ser"}})]);
    chunks.push(json!({"choices":[{"index":0,"delta":{},"finish_reason":"length"}]}));
    let done = fold(&chunks).unwrap();
    assert_eq!(done.finish_reason, FinishReason::Length);
    assert_eq!(done.message.tool_calls[0].function.arguments, "{\"query\":\"rust ser");
}

#[test]
fn q6_whole_call_and_finish_in_one_chunk() {
    let done = fold(&[json!({"choices":[{"index":0,"delta":{"role":"assistant","content":"","tool_calls":[{"index":0,"id":"call_9","type":"function","function":{"name":"add","arguments":"{\"a\":1,\"b\":2}"}}]},"finish_reason":"tool_calls"}]})]).unwrap();
    assert_eq!(names_and_args(&done), [("call_9".into(), "add".into(), "{\"a\":1,\"b\":2}".into())]);
}

#[test]
fn q7_null_fields_in_continuations_change_nothing() {
    let done = fold(&calls(&[
        json!({"index":0,"id":"c1","type":"function","function":{"name":"f","arguments":"{\"a\":\""}}),
        json!({"index":0,"id":null,"type":null,"function":{"name":null,"arguments":"x\"}"}}),
    ]))
    .unwrap();
    assert_eq!(names_and_args(&done), [("c1".into(), "f".into(), "{\"a\":\"x\"}".into())]);
    assert_eq!(done.message.tool_calls[0].kind, "function");
}

#[test]
fn q8_missing_index_is_inferred() {
    // By id, new id or name opens, bare fragments continue the last call.
    let done = fold(&calls(&[
        json!({"id":"call_a","type":"function","function":{"name":"read","arguments":"{\"path\":"}}),
        json!({"function":{"arguments":"\"/a\"}"}}),
        json!({"id":"call_b","function":{"name":"read","arguments":"{\"path\":\"/b\"}"}}),
        json!({"id":"call_a","function":{"arguments":""}}),
    ]))
    .unwrap();
    assert_eq!(
        names_and_args(&done),
        [
            ("call_a".into(), "read".into(), "{\"path\":\"/a\"}".into()),
            ("call_b".into(), "read".into(), "{\"path\":\"/b\"}".into())
        ]
    );
    // Gemini: `"index": null, "id": ""`.
    let done = fold(&calls(&[json!({"index":null,"id":"","function":{"name":"g","arguments":"{}"}})])).unwrap();
    assert_eq!(names_and_args(&done), [("".into(), "g".into(), "{}".into())]);
}

#[test]
fn q9_reused_index_with_new_id_opens_a_new_call() {
    let done = fold(&calls(&[
        json!({"index":0,"id":"call_a","function":{"name":"read_file","arguments":"{\"path\":\"a\"}"}}),
        json!({"index":0,"id":"call_b","function":{"name":"read_file","arguments":"{\"path\":\"b\"}"}}),
    ]))
    .unwrap();
    assert_eq!(
        names_and_args(&done),
        [
            ("call_a".into(), "read_file".into(), "{\"path\":\"a\"}".into()),
            ("call_b".into(), "read_file".into(), "{\"path\":\"b\"}".into())
        ]
    );
}

#[test]
fn q10_interleaved_indexes() {
    let done = fold(&calls(&[
        json!({"index":0,"id":"c0","function":{"name":"s","arguments":"{\"q\":"}}),
        json!({"index":1,"id":"c1","function":{"name":"s","arguments":"{\"q\":"}}),
        json!({"index":0,"function":{"arguments":"\"x\"}"}}),
        json!({"index":1,"function":{"arguments":"\"y\"}"}}),
    ]))
    .unwrap();
    let args: Vec<_> = names_and_args(&done).into_iter().map(|(_, _, a)| a).collect();
    assert_eq!(args, ["{\"q\":\"x\"}", "{\"q\":\"y\"}"]);
}

#[test]
fn q11_repeated_name_not_doubled_split_name_joined() {
    let done = fold(&calls(&[
        json!({"index":0,"function":{"name":"terminal","arguments":"{\"cmd\""}}),
        json!({"index":0,"function":{"name":"terminal","arguments":":\"ls\"}"}}),
    ]))
    .unwrap();
    assert_eq!(names_and_args(&done), [("".into(), "terminal".into(), "{\"cmd\":\"ls\"}".into())]);
    let done = fold(&calls(&[
        json!({"index":0,"id":"c","function":{"name":"edit_ex","arguments":""}}),
        json!({"index":0,"function":{"name":"isting_file","arguments":"{}"}}),
    ]))
    .unwrap();
    assert_eq!(done.message.tool_calls[0].function.name, "edit_existing_file");
}

#[test]
fn q12_object_arguments_are_the_whole_arguments() {
    let done =
        fold(&calls(&[json!({"index":0,"id":"call_1","type":"function","function":{"name":"get_weather","arguments":{"city":"Paris"}}})]))
            .unwrap();
    assert_eq!(done.message.tool_calls[0].function.arguments, "{\"city\":\"Paris\"}");
}

#[test]
fn q13_empty_arguments_are_complete() {
    let done = fold(&calls(&[
        json!({"id":"toolu_vrtx_019","type":"function","function":{"name":"LINEAR_LIST_PROJECTS","arguments":""}}),
    ]))
    .unwrap();
    assert_eq!(done.finish_reason, FinishReason::ToolCalls);
}

#[test]
fn q15_reasoning_and_refusal_kept_apart_from_text() {
    let done = fold(&[
        json!({"choices":[{"index":0,"delta":{"role":"assistant","reasoning_content":"Now"}}]}),
        json!({"choices":[{"index":0,"delta":{"reasoning":" think"}}]}),
        json!({"choices":[{"index":0,"delta":{"content":"Answer"}}]}),
        json!({"choices":[{"index":0,"delta":{"refusal":""}}]}),
        json!({"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}),
    ])
    .unwrap();
    assert_eq!(done.message.reasoning_content.as_deref(), Some("Now think"));
    assert_eq!(done.message.text(), "Answer");
    assert_eq!(done.message.refusal, None);
    let done = fold(&[
        json!({"choices":[{"index":0,"delta":{"role":"assistant","content":null,"refusal":""}}]}),
        json!({"choices":[{"index":0,"delta":{"refusal":"I'm"}}]}),
        json!({"choices":[{"index":0,"delta":{"refusal":" sorry"}}]}),
        json!({"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}),
    ])
    .unwrap();
    assert_eq!(done.message.refusal.as_deref(), Some("I'm sorry"));
    assert_eq!(done.message.content, None);
}

#[test]
fn q20_empty_fragments_are_discarded() {
    let done = fold(&calls(&[
        json!({"index":-1,"id":null,"function":{"name":null,"arguments":null}}),
        json!({"index":0,"id":"c","function":{"name":"f","arguments":"{}"}}),
    ]))
    .unwrap();
    assert_eq!(done.message.tool_calls.len(), 1);
}

#[test]
fn q24_last_non_null_usage_and_groq_fallback() {
    let done = fold(&[
        json!({"choices":[{"index":0,"delta":{"content":"a"}}],"usage":{"prompt_tokens":1,"completion_tokens":1,"total_tokens":2}}),
        json!({"choices":[{"index":0,"delta":{},"finish_reason":"stop"}],"usage":null}),
    ])
    .unwrap();
    assert_eq!(done.usage.unwrap().total_tokens, 2, "xAI: a later chunk without usage keeps the earlier one");
    let done = fold(&[
        json!({"choices":[{"index":0,"delta":{"content":"a"}}]}),
        json!({"choices":[{"index":0,"delta":{},"finish_reason":"stop"}],"x_groq":{"id":"req_01","usage":{"queue_time":0.07,"prompt_tokens":23,"completion_tokens":19,"total_tokens":42}}}),
    ])
    .unwrap();
    assert_eq!(done.usage.unwrap().total_tokens, 42);
}

#[test]
fn q26_groq_empty_tool_calls_and_repeated_role() {
    let done = fold(&[
        json!({"choices":[{"index":0,"delta":{"role":"assistant","content":"a","tool_calls":[]}}]}),
        json!({"choices":[{"index":0,"delta":{"role":"assistant","content":"b","tool_calls":[]}}]}),
        json!({"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}),
    ])
    .unwrap();
    assert_eq!(done.message.text(), "ab");
    assert!(done.message.tool_calls.is_empty());
}

#[test]
fn other_choices_are_ignored() {
    let done = fold(&[
        json!({"choices":[{"index":1,"delta":{"content":"other"}},{"index":0,"delta":{"content":"mine"}}]}),
        json!({"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}),
    ])
    .unwrap();
    assert_eq!(done.message.text(), "mine");
}

#[test]
fn in_band_errors_carry_the_partial_turn() {
    let error = fold(&[
        json!({"choices":[{"index":0,"delta":{"content":"Hel"}}]}),
        json!({"error":{"message":"quota exceeded","code":"insufficient_quota"}}),
    ])
    .unwrap_err();
    let ClientError::Stream { partial, retryable, code, .. } = &error else { panic!("{error:?}") };
    assert_eq!(partial.message.text(), "Hel");
    assert_eq!(code.as_deref(), Some("insufficient_quota"));
    assert!(!retryable);
    let error = fold(&[json!({"error":{"message":"x","code":429}})]).unwrap_err();
    assert!(error.is_retryable());
    let error = fold(&[json!({"error":{"message":"x","code":400}})]).unwrap_err();
    assert!(!error.is_retryable());
    // A falsy `error` is not an error (openai-python checks truthiness).
    fold(&[json!({"error":null,"choices":[{"index":0,"delta":{"content":"a"},"finish_reason":"stop"}]})]).unwrap();
}

#[test]
fn partial_shows_what_arrived() {
    let mut acc = Accumulator::new();
    let chunk: ChatChunk =
        serde_json::from_value(json!({"choices":[{"index":0,"delta":{"content":"so far"}}]})).unwrap();
    acc.push(&chunk).unwrap();
    assert_eq!(acc.partial().message.text(), "so far");
    assert!(!acc.has_finish_reason());
}

//! Every sample of the reference decodes, and re-encodes to the same meaning (nulls and empty arrays are
//! "absent"; `reasoning` is spelled `reasoning_content` on output).

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use toolsmith_core::wire::{ChatChunk, ChatRequest, ChatResponse, FinishReason, Usage};

fn normalize(value: &Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.iter()
                .filter(|(k, v)| {
                    let empty_array = k.as_str() != "choices" && v.as_array().is_some_and(Vec::is_empty);
                    !v.is_null() && !empty_array
                })
                .map(|(k, v)| (if k == "reasoning" { "reasoning_content".to_owned() } else { k.clone() }, normalize(v)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(normalize).collect()),
        other => other.clone(),
    }
}

fn roundtrip<T: DeserializeOwned + Serialize + PartialEq + std::fmt::Debug>(text: &str) -> T {
    let decoded: T = serde_json::from_str(text).unwrap_or_else(|e| panic!("{e}: {text}"));
    // Through text: `to_value` would widen f32 fields (0.2 → 0.20000000298023224).
    let mut encoded: Value = serde_json::from_str(&serde_json::to_string(&decoded).unwrap()).unwrap();
    let original: Value = serde_json::from_str(text).unwrap();
    // Envelope fields an abridged sample leaves out come back as their defaults: same meaning.
    if let (Some(out), Some(orig)) = (encoded.as_object_mut(), original.as_object()) {
        out.retain(|k, _| orig.contains_key(k) || !matches!(k.as_str(), "id" | "model" | "created" | "object"));
    }
    assert_eq!(normalize(&encoded), normalize(&original), "re-encoding changed the meaning of {text}");
    let again: T = serde_json::from_value(encoded).unwrap();
    assert_eq!(again, decoded);
    decoded
}

#[test]
fn section_1_1_request() {
    let text = r#"{
  "model": "openai/gpt-4o",
  "messages": [
    {"role": "system", "content": "You are terse."},
    {"role": "user", "content": [
        {"type": "text", "text": "What is in this picture and what is the weather in Paris?"},
        {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBOR...", "detail": "auto"}}
    ], "name": "alice"},
    {"role": "assistant", "content": null, "tool_calls": [
        {"id": "call_abc", "type": "function",
         "function": {"name": "get_weather", "arguments": "{\"city\":\"Paris\"}"}}
    ]},
    {"role": "tool", "tool_call_id": "call_abc", "content": "{\"temp_c\":18}"}
  ],
  "temperature": 0.2,
  "max_completion_tokens": 512,
  "stream": true,
  "stream_options": {"include_usage": true},
  "tools": [{
    "type": "function",
    "function": {
      "name": "get_weather",
      "description": "Current weather for a city",
      "parameters": {"type": "object",
                     "properties": {"city": {"type": "string"}},
                     "required": ["city"], "additionalProperties": false},
      "strict": true
    }
  }],
  "tool_choice": "auto",
  "parallel_tool_calls": true,
  "response_format": {"type": "text"}
}"#;
    let request: ChatRequest = roundtrip(text);
    assert!(request.stream);
    assert_eq!(request.tools[0].name(), "get_weather");
    assert!(request.tools[0].is_strict());
}

#[test]
fn request_variants() {
    roundtrip::<ChatRequest>(
        r#"{"model":"m","messages":[{"role":"developer","content":"x"}],"tool_choice":{"type":"function","function":{"name":"f"}},"stop":"END","seed":1,"user":"u","response_format":{"type":"json_schema","json_schema":{"name":"out","description":"d","schema":{"type":"object"},"strict":true}},"top_k":40}"#,
    );
    roundtrip::<ChatRequest>(
        r#"{"model":"m","messages":[{"role":"user","content":"x"}],"tool_choice":"required","response_format":{"type":"json_object"},"max_tokens":5,"top_p":0.5,"n":1}"#,
    );
    let custom: ChatRequest = roundtrip(
        r#"{"model":"m","messages":[{"role":"user","content":"x"}],"tool_choice":{"type":"allowed_tools","allowed_tools":{"mode":"auto","tools":[]}}}"#,
    );
    assert!(matches!(custom.tool_choice, Some(toolsmith_core::wire::ToolChoice::Other(_))));
}

#[test]
fn section_1_2_response() {
    let text = r#"{
  "id": "chatcmpl-B9MHDbslfkBeAs8l4bebGdFOJ6PeG",
  "object": "chat.completion",
  "created": 1741570283,
  "model": "gpt-4o-2024-08-06",
  "choices": [{
    "index": 0,
    "message": {
      "role": "assistant",
      "content": null,
      "refusal": null,
      "annotations": [],
      "tool_calls": [
        {"id": "call_JMW1whyEaYG438VE1OIflxA2", "type": "function",
         "function": {"name": "get_weather", "arguments": "{\"city\":\"Edinburgh\",\"units\":\"c\"}"}},
        {"id": "call_DNYTawLBoN8fj3KN6qU9N1Ou", "type": "function",
         "function": {"name": "get_stock_price", "arguments": "{\"ticker\":\"AAPL\"}"}}
      ]
    },
    "logprobs": null,
    "finish_reason": "tool_calls"
  }],
  "usage": {
    "prompt_tokens": 149, "completion_tokens": 60, "total_tokens": 209,
    "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
    "completion_tokens_details": {"reasoning_tokens": 0, "audio_tokens": 0,
                                  "accepted_prediction_tokens": 0, "rejected_prediction_tokens": 0}
  },
  "service_tier": "default",
  "system_fingerprint": "fp_fc9f1d7035"
}"#;
    let response: ChatResponse = roundtrip(text);
    let done = response.into_completion().unwrap();
    assert_eq!(done.finish_reason, FinishReason::ToolCalls);
    assert_eq!(done.message.tool_calls.len(), 2);
    assert_eq!(done.usage.unwrap().cached_tokens(), 0);
}

#[test]
fn refusal_and_mintcloud_responses() {
    let refusal: ChatResponse = roundtrip(
        r#"{"id":"x","object":"chat.completion","created":1,"model":"m","choices":[{"index":0,"message":{"role":"assistant","content":null,"refusal":"I'm sorry, I can't help with that."},"finish_reason":"stop"}]}"#,
    );
    assert_eq!(refusal.choices[0].message.refusal.as_deref(), Some("I'm sorry, I can't help with that."));
    let mint: ChatResponse = roundtrip(
        r#"{"id":"chatcmpl-xxxxxxxxxxxx","object":"chat.completion","created":1677652288,"model":"openai/gpt-4o","choices":[{"index":0,"message":{"role":"assistant","content":"Hello! How can I help you today?"},"finish_reason":"stop"}],"usage":{"prompt_tokens":10,"completion_tokens":12,"total_tokens":22}}"#,
    );
    assert_eq!(mint.usage.unwrap().total_tokens, 22);
}

#[test]
fn section_1_3_recorded_chunks_and_mintcloud_chunks() {
    for text in [
        r#"{"id":"chatcmpl-ABfw","object":"chat.completion.chunk","created":1727346178,"model":"gpt-4o-2024-08-06","system_fingerprint":"fp_5050236cbd","choices":[{"index":0,"delta":{"role":"assistant","content":null},"logprobs":null,"finish_reason":null}]}"#,
        r#"{"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"call_JMW1whyEaYG438VE1OIflxA2","type":"function","function":{"name":"GetWeatherArgs","arguments":""}}]},"finish_reason":null}]}"#,
        r#"{"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{\"ci"}}]},"finish_reason":null}]}"#,
        r#"{"choices":[{"index":0,"delta":{},"logprobs":null,"finish_reason":"tool_calls"}]}"#,
        r#"{"choices":[],"usage":{"prompt_tokens":149,"completion_tokens":60,"total_tokens":209,"completion_tokens_details":{"reasoning_tokens":0}}}"#,
        r#"{"choices":[{"index":0,"delta":{"role":"assistant","content":null,"refusal":""}}]}"#,
        r#"{"choices":[{"index":0,"delta":{"refusal":"I'm"}}]}"#,
        r#"{"choices":[{"index":0,"delta":{"content":"{\""}}]}"#,
        r#"{"choices":[{"index":0,"delta":{},"finish_reason":"length"}]}"#,
        r#"{"id":"chatcmpl-xxx","object":"chat.completion.chunk","created":1234567890,"model":"openai/gpt-4o","choices":[{"index":0,"delta":{"content":"Hello"},"finish_reason":null}]}"#,
        r#"{"id":"chatcmpl-xxx","object":"chat.completion.chunk","created":1234567890,"model":"openai/gpt-4o","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}"#,
    ] {
        roundtrip::<ChatChunk>(text);
    }
}

#[test]
fn quirk_chunks() {
    // Q1, Q6, Q11, Q15, Q24, Q25, Q26, Q39, §1.4 form 2.
    for text in [
        r#"{"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"call_1","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Paris\"}"}}]},"finish_reason":null}]}"#,
        r#"{"choices":[{"index":0,"delta":{"role":"assistant","content":"","tool_calls":[{"index":0,"id":"call_9","type":"function","function":{"name":"add","arguments":"{\"a\":1,\"b\":2}"}}]},"finish_reason":"tool_calls"}]}"#,
        r#"{"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"name":"terminal","arguments":"{\"cmd\""}}]}}]}"#,
        r#"{"choices":[{"index":0,"delta":{"role":"assistant","reasoning_content":"Now"}}]}"#,
        r#"{"choices":[{"index":0,"delta":{"reasoning":"The user wants…"}}]}"#,
        r#"{"choices":[{"index":0,"delta":{},"finish_reason":"stop"}],"x_groq":{"id":"req_01","usage":{"queue_time":0.07,"prompt_tokens":23,"completion_tokens":19,"total_tokens":42}}}"#,
        r#"{"id":"","choices":[],"created":0,"model":"","object":"","prompt_filter_results":[{"prompt_index":0,"content_filter_results":{"hate":{"filtered":false,"severity":"safe"}}}]}"#,
        r#"{"id":"gen-1739458867-kUKF","provider":"OpenAI","model":"openai/gpt-4o-mini","object":"chat.completion.chunk","created":1739458867,"choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null,"native_finish_reason":null,"logprobs":null}],"system_fingerprint":"fp_72ed7ab54c"}"#,
        r#"{"id":"cmpl-abc123","object":"chat.completion.chunk","created":1234567890,"model":"gpt-3.5-turbo","provider":"openai","error":{"code":"server_error","message":"Provider disconnected unexpectedly"},"choices":[{"index":0,"delta":{"content":""},"finish_reason":"error"}]}"#,
        r#"{"choices":[{"index":0,"delta":{"content":"x","tool_calls":[]},"finish_reason":null}],"obfuscation":"abc"}"#,
    ] {
        roundtrip::<ChatChunk>(text);
    }
}

#[test]
fn q2_open_finish_reasons() {
    for (raw, expected) in [
        ("tool_call", FinishReason::Other("tool_call".into())),
        ("eos_token", FinishReason::Other("eos_token".into())),
        ("eos", FinishReason::Other("eos".into())),
        ("MAX_TOKENS", FinishReason::Other("MAX_TOKENS".into())),
        ("content_filter", FinishReason::ContentFilter),
        ("function_call", FinishReason::FunctionCall),
        ("error", FinishReason::Error),
    ] {
        let text = format!(r#"{{"choices":[{{"index":0,"delta":{{}},"finish_reason":"{raw}"}}]}}"#);
        let chunk: ChatChunk = roundtrip(&text);
        assert_eq!(chunk.choices[0].finish_reason, Some(expected.clone()));
        assert_eq!(expected.as_str(), raw);
    }
    // Q2: "" from sglang/TGI means none.
    let chunk: ChatChunk = serde_json::from_str(r#"{"choices":[{"index":0,"delta":{},"finish_reason":""}]}"#).unwrap();
    assert_eq!(chunk.choices[0].finish_reason, None);
    assert!(FinishReason::Other("eos".into()).is_stop_like());
}

#[test]
fn lenient_shapes_that_change_form() {
    // Q7: nulls in a continuation fragment.
    let chunk: ChatChunk = serde_json::from_str(
        r#"{"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":null,"type":null,"function":{"name":null,"arguments":"\"}"}}]}}]}"#,
    )
    .unwrap();
    let call = &chunk.choices[0].delta.tool_calls[0];
    assert_eq!((call.id.as_ref(), call.kind.as_ref()), (None, None));
    // Q8: missing index at every level, Gemini extras.
    let chunk: ChatChunk = serde_json::from_str(
        r#"{"choices":[{"delta":{"role":"assistant","tool_calls":[{"id":"call_297140","type":"function","function":{"name":"read","arguments":"{\"path\":\"/a\"}"},"extra_content":{"google":{"thought_signature":"x"}}}]},"index":0}],"model":"gemini-3.8-flash","object":"chat.completion.chunk"}"#,
    )
    .unwrap();
    assert_eq!(chunk.choices[0].delta.tool_calls[0].index, None);
    // Q20: index -1, null id and name.
    let chunk: ChatChunk = serde_json::from_str(
        r#"{"choices":[{"index":0,"delta":{"tool_calls":[{"index":-1,"id":null,"function":{"name":null,"arguments":"{}"}}]}}]}"#,
    )
    .unwrap();
    assert_eq!(chunk.choices[0].delta.tool_calls[0].index, None);
    // Q12: arguments as an object in a message become their JSON text.
    let response: ChatResponse = serde_json::from_str(
        r#"{"choices":[{"message":{"role":"assistant","tool_calls":[{"id":"call_1","type":"function","function":{"name":"get_weather","arguments":{"city":"Paris"}}}]}}]}"#,
    )
    .unwrap();
    assert_eq!(response.choices[0].message.tool_calls[0].function.arguments, r#"{"city":"Paris"}"#);
    // Q4: truncated arguments with `tool_calls`, and Q3 null finish reason from Ollama.
    let response: ChatResponse = serde_json::from_str(
        r#"{"choices":[{"index":0,"message":{"role":"assistant","content":""},"finish_reason":null}],"usage":{"prompt_tokens":1,"completion_tokens":null}}"#,
    )
    .unwrap();
    assert_eq!(response.into_completion().unwrap().finish_reason, FinishReason::Stop);
    // Q15: both names at once (vLLM transition) do not fail; reasoning_content wins.
    let response: ChatResponse = serde_json::from_str(
        r#"{"choices":[{"index":0,"message":{"role":"assistant","content":"a","reasoning_content":"r1","reasoning":"r2"},"finish_reason":"stop"}]}"#,
    )
    .unwrap();
    assert_eq!(response.choices[0].message.reasoning_content.as_deref(), Some("r1"));
    let chunk: ChatChunk =
        serde_json::from_str(r#"{"choices":[{"index":0,"delta":{"reasoning_content":"a","reasoning":"b"}}]}"#).unwrap();
    assert_eq!(chunk.choices[0].delta.reasoning_content.as_deref(), Some("a"));
}

#[test]
fn l17_usage_sums_across_turns() {
    let a: Usage = serde_json::from_value(json!({"prompt_tokens":10,"completion_tokens":5,"total_tokens":15,
        "prompt_tokens_details":{"cached_tokens":4},"completion_tokens_details":{"reasoning_tokens":2},"cost":0.01}))
    .unwrap();
    let b: Usage = serde_json::from_value(json!({"prompt_tokens":20,"completion_tokens":1,"total_tokens":21,
        "prompt_tokens_details":{"cached_tokens":6}}))
    .unwrap();
    let mut total = Usage::default();
    total += a.clone();
    total += &b;
    assert_eq!((total.prompt_tokens, total.completion_tokens, total.total_tokens), (30, 6, 36));
    assert_eq!(total.cached_tokens(), 10);
    assert_eq!(total.reasoning_tokens(), 2);
    assert_eq!(a + b, total);
    // LocalAI-style zeros and floats and nulls decode.
    let odd: Usage =
        serde_json::from_value(json!({"prompt_tokens":null,"completion_tokens":3.0,"total_tokens":"3"})).unwrap();
    assert_eq!((odd.prompt_tokens, odd.completion_tokens, odd.total_tokens), (0, 3, 3));
}

#[test]
fn reasoning_effort_round_trips_and_is_omitted_when_none() {
    use toolsmith_core::wire::ReasoningEffort;
    for (level, effort) in [
        ("none", ReasoningEffort::None),
        ("minimal", ReasoningEffort::Minimal),
        ("low", ReasoningEffort::Low),
        ("medium", ReasoningEffort::Medium),
        ("high", ReasoningEffort::High),
        ("xhigh", ReasoningEffort::Other("xhigh".to_owned())),
    ] {
        let text = format!(r#"{{"model":"o4-mini","messages":[],"reasoning_effort":"{level}"}}"#);
        let request: ChatRequest = roundtrip(&text);
        assert_eq!(request.reasoning_effort, Some(effort.clone()), "{level}");
        assert_eq!(effort.as_str(), level);
        assert!(request.extra.is_empty(), "the typed field takes it, not `extra`");
    }
    let plain = serde_json::to_value(ChatRequest::new("m", vec![])).unwrap();
    assert!(plain.get("reasoning_effort").is_none(), "{plain}");
}

#[test]
fn reasoning_tokens_round_trip_and_sum() {
    let text = r#"{"prompt_tokens":10,"completion_tokens":50,"total_tokens":60,"completion_tokens_details":{"reasoning_tokens":32}}"#;
    let usage: Usage = roundtrip(text);
    assert_eq!(usage.reasoning_tokens(), 32);
    let sum = usage.clone() + usage;
    assert_eq!(sum.reasoning_tokens(), 64);
    assert_eq!(sum.completion_tokens, 100);
    // In a streamed usage chunk and a whole response alike.
    let chunk: ChatChunk = serde_json::from_str(&format!(r#"{{"choices":[],"usage":{text}}}"#)).unwrap();
    assert_eq!(chunk.usage.unwrap().reasoning_tokens(), 32);
    let response: ChatResponse = serde_json::from_str(&format!(
        r#"{{"choices":[{{"index":0,"message":{{"role":"assistant","content":"a"}},"finish_reason":"stop"}}],"usage":{text}}}"#
    ))
    .unwrap();
    assert_eq!(response.usage.unwrap().reasoning_tokens(), 32);
    // Absent details: zero, and nothing written back.
    let usage: Usage = roundtrip(r#"{"prompt_tokens":1,"completion_tokens":2,"total_tokens":3}"#);
    assert_eq!(usage.reasoning_tokens(), 0);
}

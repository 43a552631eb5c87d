//! The scripted TestServer over real HTTP: response shapes (§1.2, §1.3), recording, fault injection, delays,
//! the repeating mode and shutdown.

mod support;

use std::time::{Duration, Instant};

use bytes::Bytes;
use serde_json::{Value, json};
use support::*;
use toolsmith_core::wire::{AssistantMessage, ToolCall};
use toolsmith_testing::{Reply, TestServer};

fn streaming(text: &str, include_usage: bool) -> Value {
    let mut body = user(text);
    body["stream"] = json!(true);
    if include_usage {
        body["stream_options"] = json!({"include_usage": true});
    }
    body
}

#[tokio::test]
async fn text_reply_has_the_chat_completion_shape() {
    let server = TestServer::scripted([Reply::text("Hello there!")]).await.unwrap();
    let (status, body) = chat(&server.base_url(), &user("hi")).await;
    assert_eq!(status, 200, "{body}");
    assert!(body["id"].as_str().unwrap().starts_with("chatcmpl-"));
    assert_eq!(body["object"], "chat.completion");
    assert!(body["created"].as_u64().unwrap() > 1_700_000_000);
    assert_eq!(body["model"], "test-model");
    let choice = &body["choices"][0];
    assert_eq!(choice["index"], 0);
    assert_eq!(choice["message"]["role"], "assistant");
    assert_eq!(choice["message"]["content"], "Hello there!");
    assert_eq!(choice["message"]["refusal"], Value::Null);
    assert_eq!(choice["finish_reason"], "stop");
    let usage = &body["usage"];
    assert!(usage["prompt_tokens"].as_u64().unwrap() >= 1);
    assert_eq!(
        usage["total_tokens"].as_u64().unwrap(),
        usage["prompt_tokens"].as_u64().unwrap() + usage["completion_tokens"].as_u64().unwrap()
    );
}

#[tokio::test]
async fn tool_call_reply_non_streaming() {
    let call = ToolCall::new("call_1", "get_weather", r#"{"city":"Paris"}"#);
    let server = TestServer::scripted([Reply::tool_calls(vec![call])]).await.unwrap();
    let (status, body) = chat(&server.base_url(), &user("weather?")).await;
    assert_eq!(status, 200);
    let message = &body["choices"][0]["message"];
    assert_eq!(message["content"], Value::Null);
    assert_eq!(message["tool_calls"][0]["id"], "call_1");
    assert_eq!(message["tool_calls"][0]["type"], "function");
    assert_eq!(message["tool_calls"][0]["function"]["name"], "get_weather");
    assert_eq!(message["tool_calls"][0]["function"]["arguments"], r#"{"city":"Paris"}"#);
    assert_eq!(body["choices"][0]["finish_reason"], "tool_calls");
}

#[tokio::test]
async fn text_stream_with_usage_chunk_and_done() {
    let text = "The quick brown fox jumps over the lazy dog.";
    let server = TestServer::scripted([Reply::text(text)]).await.unwrap();
    let raw = post(&server.base_url(), &streaming("hi", true)).await;
    assert_eq!(raw.status, 200);
    assert_eq!(raw.headers["content-type"], "text/event-stream");
    let events = events(&raw.body);
    assert_eq!(events.last().map(String::as_str), Some("[DONE]"));
    let chunks = chunks(&raw.body);
    let id = chunks[0]["id"].as_str().unwrap();
    assert!(id.starts_with("chatcmpl-"));
    for chunk in &chunks {
        assert_eq!(chunk["id"], id, "one id per stream");
        assert_eq!(chunk["object"], "chat.completion.chunk");
        assert_eq!(chunk["created"], chunks[0]["created"]);
    }
    assert_eq!(chunks[0]["choices"][0]["delta"]["role"], "assistant");
    assert_eq!(streamed_text(&chunks), text);
    let content_chunks = chunks.iter().filter(|c| c["choices"][0]["delta"]["content"].is_string()).count();
    assert!(content_chunks >= 9, "word-sized deltas, got {content_chunks}");
    let finish = &chunks[chunks.len() - 2];
    assert_eq!(finish["choices"][0]["delta"], json!({}));
    assert_eq!(finish["choices"][0]["finish_reason"], "stop");
    assert_eq!(finish["usage"], Value::Null, "every chunk but the last carries usage: null");
    let last = &chunks[chunks.len() - 1];
    assert_eq!(last["choices"], json!([]));
    assert!(last["usage"]["completion_tokens"].as_u64().unwrap() >= 1);
    assert!(raw.reads > 3, "events are written separately, got {} reads", raw.reads);
}

#[tokio::test]
async fn stream_without_include_usage_has_no_usage_chunk() {
    let server = TestServer::scripted([Reply::text("Hi")]).await.unwrap();
    let raw = post(&server.base_url(), &streaming("hi", false)).await;
    let chunks = chunks(&raw.body);
    assert!(chunks.iter().all(|c| c.get("usage").is_none()));
    assert_eq!(chunks.last().unwrap()["choices"][0]["finish_reason"], "stop");
}

#[tokio::test]
async fn tool_calls_stream_in_openai_fragments() {
    let calls = vec![
        ToolCall::new("call_a", "get_weather", r#"{"city":"Zürich","units":"celsius"}"#),
        ToolCall::new("call_b", "get_time", r#"{"zone":"Europe/Rome"}"#),
    ];
    let server = TestServer::scripted([Reply::tool_calls(calls)]).await.unwrap();
    let raw = post(&server.base_url(), &streaming("hi", true)).await;
    let chunks = chunks(&raw.body);
    assert_eq!(chunks[0]["choices"][0]["delta"], json!({"role": "assistant", "content": null}));
    let head = &chunks[1]["choices"][0]["delta"]["tool_calls"][0];
    assert_eq!(
        head,
        &json!({"index": 0, "id": "call_a", "type": "function", "function": {"name": "get_weather", "arguments": ""}})
    );
    let continuation = &chunks[2]["choices"][0]["delta"]["tool_calls"][0];
    assert!(continuation.get("id").is_none() && continuation["function"].get("name").is_none());
    assert!(continuation["function"]["arguments"].as_str().unwrap().len() <= 8, "a few bytes per fragment");
    assert_eq!(
        streamed_calls(&chunks),
        [
            ("call_a".into(), "get_weather".into(), r#"{"city":"Zürich","units":"celsius"}"#.into()),
            ("call_b".into(), "get_time".into(), r#"{"zone":"Europe/Rome"}"#.into())
        ]
    );
    let finish = &chunks[chunks.len() - 2]["choices"][0];
    assert_eq!(finish["finish_reason"], "tool_calls");
    assert_eq!(finish["delta"], json!({}));
}

#[tokio::test]
async fn requests_are_recorded_with_headers() {
    let server = TestServer::scripted([Reply::text("a"), Reply::text("b")]).await.unwrap();
    chat(&server.base_url(), &user("first")).await;
    chat(&server.base_url(), &user("second")).await;
    assert_eq!(server.request_count(), 2);
    let requests = server.requests();
    assert_eq!(requests.len(), 2);
    assert_eq!(requests[1].messages()[0]["content"], "second");
    assert_eq!(requests[0].header("Authorization"), Some("Bearer sk-test"));
    assert_eq!(requests[0].body["model"], "test-model");
}

#[tokio::test]
async fn empty_queue_answers_500_with_a_clear_message() {
    let server = TestServer::scripted([]).await.unwrap();
    let (status, body) = chat(&server.base_url(), &user("hi")).await;
    assert_eq!(status, 500);
    assert!(body["error"]["message"].as_str().unwrap().contains("no scripted reply left"), "{body}");
    server.push(Reply::text("now there is one"));
    let (status, body) = chat(&server.base_url(), &user("hi")).await;
    assert_eq!(status, 200);
    assert_eq!(body["choices"][0]["message"]["content"], "now there is one");
}

#[tokio::test]
async fn status_replies_with_headers_for_stream_and_not() {
    let rate_limited = || {
        Reply::status(
            429,
            json!({"error": {"message": "Rate limit reached", "type": "tokens", "param": null, "code": "rate_limit_exceeded"}}),
        )
        .header("retry-after", "2")
        .header("x-request-id", "req_1")
    };
    let server =
        TestServer::scripted([rate_limited(), rate_limited(), Reply::status(502, "Bad gateway")]).await.unwrap();
    let raw = post(&server.base_url(), &user("hi")).await;
    assert_eq!(raw.status, 429);
    assert_eq!(raw.headers["retry-after"], "2");
    assert_eq!(raw.headers["x-request-id"], "req_1");
    assert_eq!(raw.headers["content-type"], "application/json");
    let body: Value = serde_json::from_str(&raw.body).unwrap();
    assert_eq!(body["error"]["code"], "rate_limit_exceeded");
    let raw = post(&server.base_url(), &streaming("hi", false)).await;
    assert_eq!(raw.status, 429);
    let raw = post(&server.base_url(), &user("hi")).await;
    assert_eq!((raw.status, raw.body.as_str()), (502, "Bad gateway"));
    assert!(raw.headers["content-type"].to_str().unwrap().starts_with("text/plain"));
}

#[tokio::test]
async fn raw_sse_is_written_verbatim_one_write_per_element() {
    let events = vec![
        Bytes::from_static(b": OPENROUTER PROCESSING\r\n\r\n"),
        Bytes::from_static(b"data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hi\"}}]}\r\n"),
        Bytes::from_static(b"\r\n"),
        Bytes::from_static(b"data: [DONE]\n\n"),
    ];
    let expected: Vec<u8> = events.iter().flat_map(|b| b.to_vec()).collect();
    let server = TestServer::scripted([Reply::raw_sse(events).chunk_delay(Duration::from_millis(20))]).await.unwrap();
    let raw = post(&server.base_url(), &streaming("hi", false)).await;
    assert_eq!(raw.status, 200);
    assert_eq!(raw.body.as_bytes(), expected.as_slice());
    assert_eq!(raw.reads, 4, "one read per element with a chunk delay");
}

#[tokio::test]
async fn stream_error_sends_text_then_an_error_event() {
    let error = json!({"message": "The server had an error while processing your request.", "type": "server_error"});
    let server = TestServer::scripted([
        Reply::stream_error("Partial answer", error.clone()),
        Reply::stream_error("Partial answer", json!({"error": error.clone()})),
    ])
    .await
    .unwrap();
    let raw = post(&server.base_url(), &streaming("hi", true)).await;
    assert_eq!(raw.status, 200);
    let events = events(&raw.body);
    assert_ne!(events.last().map(String::as_str), Some("[DONE]"));
    let chunks = chunks(&raw.body);
    assert_eq!(streamed_text(&chunks), "Partial answer");
    assert_eq!(chunks.last().unwrap(), &json!({"error": error}));
    let (status, body) = chat(&server.base_url(), &user("hi")).await;
    assert_eq!(status, 500);
    assert_eq!(body["error"]["type"], "server_error");
}

#[tokio::test]
async fn finish_reason_and_usage_overrides() {
    let reply = || Reply::text("{\"").finish_reason("length").usage(100, 7);
    let server = TestServer::scripted([reply(), reply()]).await.unwrap();
    let (_, body) = chat(&server.base_url(), &user("hi")).await;
    assert_eq!(body["choices"][0]["finish_reason"], "length");
    assert_eq!(body["usage"]["prompt_tokens"], 100);
    assert_eq!(body["usage"]["completion_tokens"], 7);
    assert_eq!(body["usage"]["total_tokens"], 107);
    let raw = post(&server.base_url(), &streaming("hi", true)).await;
    let chunks = chunks(&raw.body);
    assert_eq!(chunks[chunks.len() - 2]["choices"][0]["finish_reason"], "length");
    assert_eq!(chunks[chunks.len() - 1]["usage"]["total_tokens"], 107);
}

#[tokio::test]
async fn message_reply_streams_reasoning_and_refusal() {
    let message = AssistantMessage {
        reasoning_content: Some("Let me think.".into()),
        refusal: Some("I can't help with that.".into()),
        ..AssistantMessage::default()
    };
    let server = TestServer::scripted([Reply::message(message.clone()), Reply::message(message)]).await.unwrap();
    let raw = post(&server.base_url(), &streaming("hi", false)).await;
    let chunks = chunks(&raw.body);
    let field =
        |name: &str| -> String { chunks.iter().filter_map(|c| c["choices"][0]["delta"][name].as_str()).collect() };
    assert_eq!(field("reasoning_content"), "Let me think.");
    assert_eq!(field("refusal"), "I can't help with that.");
    let (_, body) = chat(&server.base_url(), &user("hi")).await;
    assert_eq!(body["choices"][0]["message"]["refusal"], "I can't help with that.");
    assert_eq!(body["choices"][0]["message"]["reasoning_content"], "Let me think.");
}

#[tokio::test]
async fn delay_holds_the_response() {
    let server = TestServer::scripted([Reply::text("late").delay(Duration::from_millis(300))]).await.unwrap();
    let started = Instant::now();
    let (status, _) = chat(&server.base_url(), &user("hi")).await;
    assert_eq!(status, 200);
    assert!(started.elapsed() >= Duration::from_millis(300));
}

#[tokio::test]
async fn chunk_delay_paces_the_stream() {
    let server =
        TestServer::scripted([Reply::text("one two three").chunk_delay(Duration::from_millis(50))]).await.unwrap();
    let started = Instant::now();
    let raw = post(&server.base_url(), &streaming("hi", false)).await;
    // role, 3 words, finish, [DONE]: 5 gaps.
    assert!(started.elapsed() >= Duration::from_millis(250), "{:?}", started.elapsed());
    assert_eq!(raw.reads, 6);
}

#[tokio::test]
async fn dropping_the_server_ends_held_replies() {
    let server = TestServer::scripted([Reply::text("never").delay(Duration::from_secs(60))]).await.unwrap();
    let url = server.base_url();
    let request = tokio::spawn(async move {
        http().post(format!("{url}/chat/completions")).body(user("hi").to_string()).send().await
    });
    tokio::time::sleep(Duration::from_millis(200)).await;
    let started = Instant::now();
    drop(server);
    let outcome = tokio::time::timeout(Duration::from_secs(10), request).await.expect("ended promptly").unwrap();
    match outcome {
        Ok(response) => assert_eq!(response.status().as_u16(), 503),
        Err(error) => assert!(error.is_connect() || error.is_request(), "{error}"),
    }
    assert!(started.elapsed() < Duration::from_secs(10));
}

#[tokio::test]
async fn repeating_serves_replies_by_turn_to_concurrent_conversations() {
    let call = ToolCall::new("call_1", "get_weather", r#"{"city":"Paris"}"#);
    let server = TestServer::repeating(vec![
        Reply::tool_calls(vec![call]).delay(Duration::from_millis(200)),
        Reply::text("Sunny."),
    ])
    .await
    .unwrap();
    server.set_recording(false);
    let base = server.base_url();
    let runs = (0..200).map(|_| {
        let base = base.clone();
        tokio::spawn(async move {
            let (status, first) = chat(&base, &user("weather?")).await;
            assert_eq!(status, 200, "{first}");
            let assistant = first["choices"][0]["message"].clone();
            let follow_up = json!({"model": "m", "messages": [
                {"role": "user", "content": "weather?"},
                assistant,
                {"role": "tool", "tool_call_id": "call_1", "content": "18 °C"}
            ]});
            let (status, second) = chat(&base, &follow_up).await;
            assert_eq!(status, 200, "{second}");
            second["choices"][0]["message"]["content"].as_str().unwrap().to_owned()
        })
    });
    let started = Instant::now();
    for run in futures::future::join_all(runs).await {
        assert_eq!(run.unwrap(), "Sunny.");
    }
    // Held replies overlap: 200 runs of 200 ms do not take 40 s.
    assert!(started.elapsed() < Duration::from_secs(20));
    assert_eq!(server.request_count(), 400);
    assert!(server.requests().is_empty(), "recording was off");
}

#[tokio::test]
async fn other_routes() {
    let server = TestServer::scripted([Reply::text("via alias")]).await.unwrap();
    let root = server.base_url().trim_end_matches("/v1").to_owned();
    let raw = post_to(&format!("{root}/chat/completions"), &user("hi")).await;
    assert_eq!(raw.status, 200, "{}", raw.body);
    let models: Value = http().get(format!("{}/models", server.base_url())).send().await.unwrap().json_value().await;
    assert_eq!(models["object"], "list");
    assert_eq!(models["data"][0]["object"], "model");
    let health = http().get(format!("{root}/health")).send().await.unwrap();
    assert_eq!(health.status().as_u16(), 200);
    let missing = http().get(format!("{root}/v1/nothing")).send().await.unwrap();
    assert_eq!(missing.status().as_u16(), 404);
}

trait JsonValue {
    async fn json_value(self) -> Value;
}

impl JsonValue for reqwest::Response {
    async fn json_value(self) -> Value {
        serde_json::from_slice(&self.bytes().await.unwrap()).unwrap()
    }
}

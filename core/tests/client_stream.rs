//! Streaming over real HTTP on 127.0.0.1: SSE framing (Q39–Q41), in-band errors (§1.4, Q34, Q36).

mod common;

use common::*;
use futures::StreamExt;
use serde_json::json;
use toolsmith_core::client::{ClientError, TimeoutPhase};
use toolsmith_core::stream::Completion;
use toolsmith_core::wire::FinishReason;

/// A stream with multi-byte text, a tool call and usage, written in the given pieces.
fn rich_stream() -> String {
    sse_of(&[
        json!({"id":"chatcmpl-9","model":"m","choices":[{"index":0,"delta":{"role":"assistant","content":"Grüße "}}]}),
        json!({"choices":[{"index":0,"delta":{"content":"🦀 naïve"}}]}),
        json!({"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"call_1","type":"function","function":{"name":"get_weather","arguments":""}}]}}]}),
        json!({"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{\"city\":\"Zürich\"}"}}]}}]}),
        json!({"choices":[{"index":0,"delta":{},"finish_reason":"tool_calls"}]}),
        json!({"choices":[],"usage":{"prompt_tokens":5,"completion_tokens":7,"total_tokens":12}}),
    ])
}

fn check_rich(done: &Completion) {
    assert_eq!(done.message.text(), "Grüße 🦀 naïve");
    assert_eq!(done.message.tool_calls.len(), 1);
    assert_eq!(done.message.tool_calls[0].function.arguments, "{\"city\":\"Zürich\"}");
    assert_eq!(done.finish_reason, FinishReason::ToolCalls);
    assert_eq!(done.usage.as_ref().map(|u| u.total_tokens), Some(12));
    assert_eq!(done.id, "chatcmpl-9");
}

async fn complete(reply: Reply) -> Result<Completion, ClientError> {
    let server = Server::one(reply).await;
    client(&server).chat_stream(&request()).await?.completion().await
}

#[tokio::test]
async fn q41_one_byte_per_write() {
    check_rich(&complete(Reply::sse_split(rich_stream().as_bytes(), 1)).await.unwrap());
}

#[tokio::test]
async fn q41_crlf_one_byte_per_write() {
    let body = rich_stream().replace('\n', "\r\n");
    check_rich(&complete(Reply::sse_split(body.as_bytes(), 1)).await.unwrap());
}

#[tokio::test]
async fn q40_bare_cr_line_endings() {
    let body = rich_stream().replace('\n', "\r");
    check_rich(&complete(Reply::sse_split(body.as_bytes(), 7)).await.unwrap());
}

#[tokio::test]
async fn q40_data_without_space_and_mixed_endings() {
    let body = rich_stream().replace("data: ", "data:");
    // Mixed: alternate CRLF and LF per event.
    let mixed: String = body
        .split("\n\n")
        .enumerate()
        .map(|(i, e)| if i % 2 == 0 { format!("{e}\r\n\r\n") } else { format!("{e}\n\n") })
        .collect();
    check_rich(&complete(Reply::sse(&mixed)).await.unwrap());
}

#[tokio::test]
async fn q41_splits_inside_utf8_crlf_and_data_prefix() {
    let body = rich_stream().replace('\n', "\r\n");
    let bytes = body.as_bytes();
    let mut cuts = Vec::new();
    // Inside every multi-byte character.
    for (i, ch) in body.char_indices() {
        if ch.len_utf8() > 1 {
            cuts.push(i + 1);
        }
    }
    // Between every \r and \n, and inside every "data:".
    for (i, w) in bytes.windows(2).enumerate() {
        if w == b"\r\n" {
            cuts.push(i + 1);
        }
    }
    for (i, _) in body.match_indices("data:") {
        cuts.push(i + 2);
    }
    cuts.sort_unstable();
    cuts.dedup();
    check_rich(&complete(Reply::stream(split_at(bytes, &cuts))).await.unwrap());
}

#[tokio::test]
async fn q41_several_events_in_one_write() {
    check_rich(&complete(Reply::sse(&rich_stream())).await.unwrap());
}

#[tokio::test]
async fn q39_comments_keepalives_and_blank_lines_are_ignored() {
    let body = format!(
        ": OPENROUTER PROCESSING\n\n: keep-alive\n\n\n\n{}",
        rich_stream().replace("data: {\"choices\":[]", ": OPENROUTER PROCESSING\n\ndata: {\"choices\":[]")
    );
    check_rich(&complete(Reply::sse(&body)).await.unwrap());
}

#[tokio::test]
async fn q39_data_that_is_a_comment_is_skipped() {
    let body = format!("data: : OPENROUTER PROCESSING\n\n{}", rich_stream());
    check_rich(&complete(Reply::sse(&body)).await.unwrap());
}

#[tokio::test]
async fn text_is_handed_on_before_the_rest_is_written() {
    let head = format!("data: {}\n\n", text_chunk("first"));
    let tail = format!("data: {}\n\ndata: {}\n\ndata: [DONE]\n\n", text_chunk(" second"), finish_chunk("stop"));
    let server =
        Server::one(Reply::stream(vec![Piece::Bytes(head.into_bytes()), Piece::Gate, Piece::Bytes(tail.into_bytes())]))
            .await;
    let mut stream = client(&server).chat_stream(&request()).await.unwrap();
    // The server holds the rest until released: the first chunk must arrive without it.
    let first = stream.next().await.unwrap().unwrap();
    assert_eq!(first.choices[0].delta.content.as_deref(), Some("first"));
    server.release();
    let done = stream.completion().await.unwrap();
    assert_eq!(done.message.text(), "first second");
}

#[tokio::test]
async fn stream_request_forces_stream_true_with_usage() {
    let server = Server::one(Reply::sse(&sse_of(&[text_chunk("x"), finish_chunk("stop")]))).await;
    let mut req = request();
    req.stream = false;
    client(&server).chat_stream(&req).await.unwrap().completion().await.unwrap();
    let sent = server.requests()[0].json();
    assert_eq!(sent["stream"], json!(true));
    assert_eq!(sent["stream_options"], json!({"include_usage": true}));
}

#[tokio::test]
async fn q34_eof_after_finish_reason_without_done_is_complete() {
    let body = format!("data: {}\n\ndata: {}\n\n", text_chunk("ok"), finish_chunk("stop"));
    let done = complete(Reply::sse(&body)).await.unwrap();
    assert_eq!(done.message.text(), "ok");
    assert_eq!(done.finish_reason, FinishReason::Stop);
}

#[tokio::test]
async fn q34_eof_mid_answer_is_a_retryable_stream_error_with_the_partial_text() {
    let body = format!("data: {}\n\ndata: {}\n\n", text_chunk("Once upon"), text_chunk(" a time"));
    let error = complete(Reply::sse(&body)).await.unwrap_err();
    let ClientError::Stream { partial, retryable, .. } = &error else { panic!("{error:?}") };
    assert!(retryable);
    assert_eq!(partial.message.text(), "Once upon a time");
}

#[tokio::test]
async fn q34_eof_mid_tool_call_is_a_stream_error() {
    let body = "data: {\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,\"id\":\"c1\",\"function\":{\"name\":\"write\",\"arguments\":\"{\\\"path\\\":\\\"a\"}}]}}]}\n\n";
    let error = complete(Reply::sse(body)).await.unwrap_err();
    let partial = error.partial().expect("partial turn");
    assert_eq!(partial.message.tool_calls[0].function.arguments, "{\"path\":\"a");
}

#[tokio::test]
async fn q3_q34_eof_after_complete_tool_calls_is_tool_calls() {
    let body = "data: {\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,\"id\":\"c1\",\"function\":{\"name\":\"read\",\"arguments\":\"{}\"}}]}}]}\n\n";
    let done = complete(Reply::sse(body)).await.unwrap();
    assert_eq!(done.finish_reason, FinishReason::ToolCalls);
}

#[tokio::test]
async fn q3_done_without_finish_reason_is_stop() {
    let body = "data: {\"choices\":[{\"delta\":{\"content\":\" 3\"}}],\"usage\":{\"prompt_tokens\":0,\"completion_tokens\":0,\"total_tokens\":0}}\n\ndata: [DONE]\n\n";
    let done = complete(Reply::sse(body)).await.unwrap();
    assert_eq!(done.finish_reason, FinishReason::Stop);
    assert_eq!(done.message.text(), " 3");
}

#[tokio::test]
async fn in_band_error_form1_openai_error_event() {
    let body = format!(
        "data: {}\n\ndata: {{\"error\":{{\"message\":\"The server had an error while processing your request.\",\"type\":\"server_error\",\"param\":null,\"code\":null}}}}\n\n",
        text_chunk("partial")
    );
    let error = complete(Reply::sse(&body)).await.unwrap_err();
    let ClientError::Stream { message, partial, retryable, .. } = &error else { panic!("{error:?}") };
    assert!(message.contains("server had an error"));
    assert_eq!(partial.message.text(), "partial");
    assert!(retryable);
}

#[tokio::test]
async fn in_band_error_form2_openrouter_unified_is_not_a_finish() {
    let body = format!(
        "data: {}\n\ndata: {}\n\n",
        text_chunk("Hel"),
        r#"{"id":"cmpl-abc123","object":"chat.completion.chunk","created":1234567890,"model":"gpt-3.5-turbo","provider":"openai","error":{"code":"server_error","message":"Provider disconnected unexpectedly"},"choices":[{"index":0,"delta":{"content":""},"finish_reason":"error"}]}"#
    );
    let error = complete(Reply::sse(&body)).await.unwrap_err();
    let ClientError::Stream { message, code, partial, .. } = &error else { panic!("{error:?}") };
    assert_eq!(message, "Provider disconnected unexpectedly");
    assert_eq!(code.as_deref(), Some("server_error"));
    assert_eq!(partial.message.text(), "Hel");
}

#[tokio::test]
async fn in_band_error_form2_finish_reason_error_alone() {
    let body = format!("data: {}\n\ndata: {}\n\ndata: [DONE]\n\n", text_chunk("Hel"), finish_chunk("error"));
    let error = complete(Reply::sse(&body)).await.unwrap_err();
    assert_eq!(error.partial().unwrap().message.text(), "Hel");
}

#[tokio::test]
async fn in_band_error_form3_event_error() {
    let body = format!(
        "data: {}\n\nevent: error\ndata: {{\"error\":{{\"message\":\"overloaded\",\"code\":529}}}}\n\n",
        text_chunk("abc")
    );
    let error = complete(Reply::sse(&body)).await.unwrap_err();
    let ClientError::Stream { message, code, retryable, partial } = &error else { panic!("{error:?}") };
    assert_eq!(message, "overloaded");
    assert_eq!(code.as_deref(), Some("529"));
    assert!(retryable);
    assert_eq!(partial.message.text(), "abc");
}

#[tokio::test]
async fn q36_error_then_done_is_still_an_error() {
    let body = "data: {\"error\":{\"message\":\"quota exceeded\"}}\n\ndata: [DONE]\n\n";
    let error = complete(Reply::sse(body)).await.unwrap_err();
    assert!(matches!(error, ClientError::Stream { ref message, .. } if message == "quota exceeded"));
}

#[tokio::test]
async fn in_band_error_form4_connection_dropped_mid_stream() {
    let head = format!("data: {}\n\n", text_chunk("so far"));
    let server = Server::one(
        Reply::stream(vec![
            Piece::Bytes(head.into_bytes()),
            Piece::Sleep(std::time::Duration::from_millis(20)),
            Piece::Drop,
        ])
        .header("content-length", "100000"),
    )
    .await;
    let error = client(&server).chat_stream(&request()).await.unwrap().completion().await.unwrap_err();
    let ClientError::Stream { message, partial, retryable, .. } = &error else { panic!("{error:?}") };
    assert!(message.contains("connection broke"), "{message}");
    assert!(retryable);
    assert_eq!(partial.message.text(), "so far");
    // Never retried once content was handed out (L18).
    assert_eq!(server.request_count(), 1);
}

#[tokio::test]
async fn q25_azure_preamble_is_skipped_and_id_taken_from_first_non_empty() {
    let body = sse_of(&[
        json!({"id":"","choices":[],"created":0,"model":"","object":"","prompt_filter_results":[{"prompt_index":0,"content_filter_results":{}}]}),
        json!({"id":"chatcmpl-az","model":"gpt-4o","choices":[{"index":0,"delta":{"content":"hi"}}]}),
        finish_chunk("stop"),
    ]);
    let server = Server::one(Reply::sse(&body)).await;
    let chunks: Vec<_> = client(&server).chat_stream(&request()).await.unwrap().collect().await;
    assert_eq!(chunks.len(), 2, "the empty preamble is not yielded");
    let mut acc = toolsmith_core::stream::Accumulator::new();
    for chunk in &chunks {
        acc.push(chunk.as_ref().unwrap()).unwrap();
    }
    let done = acc.finish().unwrap();
    assert_eq!((done.id.as_str(), done.model.as_str()), ("chatcmpl-az", "gpt-4o"));
}

#[tokio::test]
async fn idle_timeout_between_bytes() {
    let head = format!("data: {}\n\n", text_chunk("a"));
    let server = Server::one(Reply::stream(vec![
        Piece::Bytes(head.into_bytes()),
        Piece::Sleep(std::time::Duration::from_secs(30)),
    ]))
    .await;
    let client = client_with(&server, |b| b.idle_timeout(std::time::Duration::from_millis(200)));
    let mut stream = client.chat_stream(&request()).await.unwrap();
    assert!(stream.next().await.unwrap().is_ok());
    let error = stream.next().await.unwrap().unwrap_err();
    assert!(matches!(error, ClientError::Timeout { phase: TimeoutPhase::Idle }), "{error:?}");
    assert!(stream.next().await.is_none());
}

#[tokio::test]
async fn l19_keepalive_comments_reset_idle_but_not_total() {
    let mut pieces = Vec::new();
    for _ in 0..40 {
        pieces.push(Piece::Bytes(b": keep-alive\n\n".to_vec()));
        pieces.push(Piece::Sleep(std::time::Duration::from_millis(50)));
    }
    let server = Server::one(Reply::stream(pieces)).await;
    let client = client_with(&server, |b| {
        b.idle_timeout(std::time::Duration::from_millis(400)).total_timeout(std::time::Duration::from_millis(700))
    });
    let error = client.chat_stream(&request()).await.unwrap().completion().await.unwrap_err();
    assert!(matches!(error, ClientError::Timeout { phase: TimeoutPhase::Total }), "{error:?}");
}

#[tokio::test]
async fn an_endless_body_that_never_makes_its_reader_wait_still_meets_the_total_deadline() {
    // The server writes far more than the reader takes in before the deadline, so every read finds bytes
    // ready and no timer is ever waited on: the deadline is checked on the reads themselves.
    let event = format!("data: {}\n\n", text_chunk("x"));
    let server = Server::one(Reply::stream(vec![Piece::Bytes(event.repeat(20_000).into_bytes())])).await;
    let client = client_with(&server, |b| b.total_timeout(std::time::Duration::from_millis(300)));
    let started = std::time::Instant::now();
    let mut stream = client.chat_stream(&request()).await.unwrap();
    let error = loop {
        match stream.next().await {
            Some(Ok(_)) => tokio::time::sleep(std::time::Duration::from_millis(1)).await,
            Some(Err(error)) => break error,
            None => panic!("the stream ended without meeting its deadline"),
        }
    };
    assert!(matches!(error, ClientError::Timeout { phase: TimeoutPhase::Total }), "{error:?}");
    // 20,000 events at 1 ms each would take 20 s; the check comes within 64 KiB of reads (about 650 events).
    assert!(started.elapsed() < std::time::Duration::from_secs(5), "{:?}", started.elapsed());
}

#[tokio::test]
async fn stream_size_limit() {
    let body = sse_of(&(0..200).map(|_| text_chunk(&"x".repeat(100))).collect::<Vec<_>>());
    let server = Server::one(Reply::sse(&body)).await;
    let client = client_with(&server, |b| b.max_response_bytes(4096));
    let error = client.chat_stream(&request()).await.unwrap().completion().await.unwrap_err();
    assert!(matches!(error, ClientError::TooLarge { limit: 4096 }), "{error:?}");
}

#[tokio::test]
async fn one_endless_line_hits_the_limit() {
    let mut pieces = vec![Piece::Bytes(b"data: {\"choices\":\"".to_vec())];
    for _ in 0..100 {
        pieces.push(Piece::Bytes(vec![b'a'; 1000]));
    }
    let server = Server::one(Reply::stream(pieces)).await;
    let client = client_with(&server, |b| b.max_response_bytes(50_000));
    let error = client.chat_stream(&request()).await.unwrap().completion().await.unwrap_err();
    assert!(matches!(error, ClientError::TooLarge { .. }), "{error:?}");
}

#[tokio::test]
async fn invalid_utf8_does_not_stall_the_stream() {
    let mut body = format!("data: {}\n\n", text_chunk("ok")).into_bytes();
    body.extend_from_slice(b"data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"\xff\xfe\"}}]}\n\n");
    body.extend_from_slice(format!("data: {}\n\ndata: [DONE]\n\n", finish_chunk("stop")).as_bytes());
    let done = complete(Reply::stream(split(&body, 3))).await.unwrap();
    assert_eq!(done.message.text(), "ok\u{FFFD}\u{FFFD}");
}

#[tokio::test]
async fn a_non_json_data_line_is_a_decode_error() {
    let body = format!("data: {}\n\ndata: not json\n\n", text_chunk("a"));
    let error = complete(Reply::sse(&body)).await.unwrap_err();
    let ClientError::Decode { snippet, .. } = &error else { panic!("{error:?}") };
    assert_eq!(snippet, "not json");
}

#[tokio::test]
async fn error_status_on_a_stream_request_is_a_status_error() {
    let server = Server::one(Reply::json(
        401,
        &json!({"error":{"message":"Incorrect API key provided","type":"invalid_request_error","param":null,"code":"invalid_api_key"}}),
    ))
    .await;
    let error = client(&server).chat_stream(&request()).await.unwrap_err();
    assert_eq!(error.status(), Some(401));
    assert!(!error.is_retryable());
    assert_eq!(server.request_count(), 1);
}

#[tokio::test]
async fn stream_is_retried_before_it_starts() {
    let server = Server::start(vec![
        Reply::json(503, &json!({"error":{"code":503,"message":"No provider available"}})),
        Reply::sse(&sse_of(&[text_chunk("ok"), finish_chunk("stop")])),
    ])
    .await;
    let done = client(&server).chat_stream(&request()).await.unwrap().completion().await.unwrap();
    assert_eq!(done.message.text(), "ok");
    assert_eq!(server.request_count(), 2);
}

#[tokio::test]
async fn q40_bare_cr_event_is_handed_on_without_waiting_for_more_bytes() {
    let head = format!("data: {}\r\r", text_chunk("first"));
    let tail = format!("data: {}\r\rdata: [DONE]\r\r", finish_chunk("stop"));
    let server =
        Server::one(Reply::stream(vec![Piece::Bytes(head.into_bytes()), Piece::Gate, Piece::Bytes(tail.into_bytes())]))
            .await;
    let mut stream = client(&server).chat_stream(&request()).await.unwrap();
    let first = stream.next().await.unwrap().unwrap();
    assert_eq!(first.choices[0].delta.content.as_deref(), Some("first"));
    server.release();
    assert_eq!(stream.completion().await.unwrap().finish_reason, FinishReason::Stop);
}

#[tokio::test]
async fn a_json_answer_to_a_stream_request_is_one_chunk() {
    let body = json!({"id":"x","object":"chat.completion","created":1,"model":"m","choices":[{"index":0,"message":{"role":"assistant","content":null,
        "tool_calls":[{"id":"c1","type":"function","function":{"name":"f","arguments":"{}"}}]},"finish_reason":"tool_calls"}],
        "usage":{"prompt_tokens":1,"completion_tokens":1,"total_tokens":2}});
    let done = complete(Reply::json(200, &body)).await.unwrap();
    assert_eq!(done.message.tool_calls[0].function.name, "f");
    assert_eq!(done.finish_reason, FinishReason::ToolCalls);
    assert_eq!(done.usage.unwrap().total_tokens, 2);
    let error =
        complete(Reply::json(200, &json!({"error":{"message":"model overloaded","code":503}}))).await.unwrap_err();
    assert!(
        matches!(&error, ClientError::Status { status: 200, message, .. } if message == "model overloaded"),
        "{error:?}"
    );
}

//! Issue 9.8 and 9.2 (client parts): bounded error text, comments logged once, `Duration::MAX` as "no
//! deadline", and a per-event size limit far below the response limit. Real HTTP on 127.0.0.1.

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::*;
use serde_json::json;
use toolsmith_core::client::{ClientError, DEFAULT_MAX_EVENT_BYTES, DEFAULT_MAX_RESPONSE_BYTES, RetryPolicy};
use toolsmith_core::wire::{ChatRequest, Message};

/// A few KiB: what `Display` of any error may take.
const DISPLAY_BOUND: usize = 4096;

fn request() -> ChatRequest {
    ChatRequest::new("m", vec![Message::user("hi")])
}

#[tokio::test]
async fn a_huge_status_error_message_is_bounded_in_display() {
    let message = "x".repeat(600_000);
    let server =
        Server::one(Reply::json(400, &json!({"error": {"message": message, "code": "y".repeat(100_000)}}))).await;
    let error = client_with(&server, |b| b.retry_policy(RetryPolicy::none())).chat(&request()).await.unwrap_err();
    let shown = error.to_string();
    assert!(shown.len() <= DISPLAY_BOUND, "{} bytes", shown.len());
    assert!(shown.starts_with("HTTP 400: xxx") && shown.ends_with('…'), "{}", &shown[..40]);
    assert!(format!("{error:?}").len() < 3 * DISPLAY_BOUND, "Debug is bounded too");
}

#[tokio::test]
async fn a_huge_in_band_error_message_is_bounded_in_display() {
    let message = "é".repeat(600_000);
    let body = format!("data: {}\n\n", json!({"error": {"message": message, "code": "server_error"}}));
    let server = Server::one(Reply::sse(&body)).await;
    let error = client_with(&server, |b| b.max_event_bytes(4 << 20))
        .chat_stream(&request())
        .await
        .unwrap()
        .completion()
        .await
        .unwrap_err();
    assert!(matches!(error, ClientError::Stream { .. }), "{error:?}");
    let shown = error.to_string();
    assert!(shown.len() <= DISPLAY_BOUND, "{} bytes", shown.len());
    assert!(shown.ends_with('…'));
}

#[tokio::test]
async fn a_maximal_total_timeout_means_no_deadline() {
    let server = Server::start(vec![
        Reply::json(200, &completion_body("plain")),
        Reply::sse(&sse_of(&[text_chunk("streamed"), finish_chunk("stop")])),
    ])
    .await;
    let client = client_with(&server, |b| b.total_timeout(Duration::MAX).idle_timeout(Duration::MAX));
    let response = client.chat(&request()).await.unwrap();
    assert_eq!(response.choices[0].message.content.as_ref().unwrap().text(), "plain");
    let completion = client.chat_stream(&request()).await.unwrap().completion().await.unwrap();
    assert_eq!(completion.message.text(), "streamed");
}

#[tokio::test]
async fn one_event_over_the_event_limit_fails_before_the_response_limit() {
    assert!((DEFAULT_MAX_EVENT_BYTES as u64) < DEFAULT_MAX_RESPONSE_BYTES / 4);
    let big = format!("data: {}\n\n", json!({"choices": [{"index": 0, "delta": {"content": "x".repeat(70_000)}}]}));
    let body = format!("{}{big}", sse_of(&[text_chunk("before")]).replace("data: [DONE]\n\n", ""));
    let server = Server::one(Reply::sse_split(body.as_bytes(), 4096)).await;
    let client = client_with(&server, |b| b.max_event_bytes(64 * 1024));
    let mut stream = client.chat_stream(&request()).await.unwrap();
    use futures::StreamExt;
    let first = stream.next().await.unwrap().unwrap();
    assert_eq!(first.choices[0].delta.content.as_deref(), Some("before"));
    let error = stream.next().await.unwrap().unwrap_err();
    assert!(matches!(error, ClientError::TooLarge { limit } if limit == 64 * 1024), "{error:?}");
    assert!(stream.next().await.is_none());
}

/// Collects formatted log lines.
#[derive(Clone, Default)]
struct Lines(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Lines {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn comment_lines_are_logged_once_per_stream_as_a_snippet() {
    let lines = Lines::default();
    let writer = lines.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let long_comment = format!(": OPENROUTER PROCESSING {}\n", "z".repeat(10_000));
    let mut body = long_comment.repeat(50);
    body.push_str(&": keep-alive\n\n".repeat(50));
    body.push_str("data: : a comment re-emitted as data\n\n".repeat(20).as_str());
    body.push_str(&sse_of(&[text_chunk("ok"), finish_chunk("stop")]));
    let server = Server::one(Reply::sse(&body)).await;
    let completion = client(&server).chat_stream(&request()).await.unwrap().completion().await.unwrap();
    assert_eq!(completion.message.text(), "ok");

    let logged = String::from_utf8(lines.0.lock().unwrap().clone()).unwrap();
    let comment_lines = logged.lines().filter(|l| l.contains("OPENROUTER PROCESSING")).count();
    assert_eq!(comment_lines, 1, "{logged}");
    let data_comment_lines = logged.lines().filter(|l| l.contains("re-emitted as data")).count();
    assert_eq!(data_comment_lines, 1, "{logged}");
    assert!(logged.len() < 4096, "the log is a snippet, not the comments: {} bytes", logged.len());
    assert!(!logged.lines().any(|l| l.contains("WARN") && l.contains("OPENROUTER")), "{logged}");
}

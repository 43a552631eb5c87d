//! The model server, in its own process: OpenAI Chat Completions on `POST /v1/chat/completions`, HTTP/1.1
//! keep-alive, `TCP_NODELAY`. A request whose last message is a tool result gets the final answer; any other
//! gets one call of `add`. Streamed answers come as a real provider sends them: a role chunk, tool-call
//! arguments in ~8-byte fragments or text in ~4-byte fragments, a finish chunk, a usage chunk, `[DONE]`.
//!
//! Special models: `hold-{ms}` waits that long before answering (runs in flight); `probe` pauses 20 ms before
//! the answer's first text fragment and writes as that fragment the `CLOCK_MONOTONIC` time (ns) at which it
//! is handed to the socket (latency from the socket to the client's text event).
//!
//! The first request body of each (side, turn, mode) is kept, keyed by the `x-bench-side` header, and
//! `GET /bench/bodies` returns them, so the driver can check both clients send the same bytes.

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use axum::routing::{get, post};
use serde::Deserialize;

use super::{ANSWER, BoxError, monotonic_ns};

type Bodies = Arc<Mutex<BTreeMap<String, String>>>;

#[derive(Deserialize)]
struct Request<'a> {
    #[serde(borrow)]
    model: &'a str,
    #[serde(default)]
    stream: bool,
    messages: Vec<Role<'a>>,
}

#[derive(Deserialize)]
struct Role<'a> {
    #[serde(borrow)]
    role: &'a str,
}

const ID: &str =
    r#""id":"chatcmpl-bench","created":1733000000,"model":"gpt-4o-mini-2024-07-18","system_fingerprint":"fp_bench""#;
const USAGE_CALL: &str = r#"{"prompt_tokens":82,"completion_tokens":18,"total_tokens":100,"prompt_tokens_details":{"cached_tokens":0,"audio_tokens":0},"completion_tokens_details":{"reasoning_tokens":0,"audio_tokens":0,"accepted_prediction_tokens":0,"rejected_prediction_tokens":0}}"#;
const USAGE_ANSWER: &str = r#"{"prompt_tokens":109,"completion_tokens":9,"total_tokens":118,"prompt_tokens_details":{"cached_tokens":0,"audio_tokens":0},"completion_tokens_details":{"reasoning_tokens":0,"audio_tokens":0,"accepted_prediction_tokens":0,"rejected_prediction_tokens":0}}"#;
const ARGUMENTS: &str = r#"{"a":40,"b":2}"#;

/// Serves until killed; prints `listening on ADDR` first.
pub async fn serve(port: u16) -> Result<(), BoxError> {
    super::raise_fd_limit(65_536);
    let bodies: Bodies = Arc::default();
    let app = Router::new()
        .route("/v1/chat/completions", post(completions))
        .route("/bench/bodies", get(dump))
        .with_state(bodies);
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    println!("listening on {}", listener.local_addr()?);
    use std::io::Write;
    std::io::stdout().flush()?;
    let listener = axum::serve::ListenerExt::tap_io(listener, |tcp| {
        let _ = tcp.set_nodelay(true);
    });
    axum::serve(listener, app).await?;
    Ok(())
}

async fn dump(State(bodies): State<Bodies>) -> String {
    serde_json::to_string(&*bodies.lock().expect("lock")).unwrap_or_default()
}

async fn completions(State(bodies): State<Bodies>, headers: HeaderMap, body: Bytes) -> Response {
    let Ok(request) = serde_json::from_slice::<Request<'_>>(&body) else {
        return plain(StatusCode::BAD_REQUEST, "application/json", r#"{"error":{"message":"bad request"}}"#.into());
    };
    let answer = request.messages.last().is_some_and(|m| m.role == "tool");
    if let Some(side) = headers.get("x-bench-side").and_then(|v| v.to_str().ok()) {
        let key = format!("{side}/{}/{}", if request.stream { "stream" } else { "json" }, if answer { 2 } else { 1 });
        bodies.lock().expect("lock").entry(key).or_insert_with(|| String::from_utf8_lossy(&body).into_owned());
    }
    let probe = request.model == "probe";
    if let Some(ms) = request.model.strip_prefix("hold-").and_then(|ms| ms.parse().ok()) {
        tokio::time::sleep(Duration::from_millis(ms)).await;
    }
    if !request.stream {
        return plain(StatusCode::OK, "application/json", if answer { json_answer() } else { json_call() });
    }
    let events = if answer { sse_answer(probe) } else { sse_call() };
    let stream = futures::stream::unfold(events.into_iter(), move |mut events| async move {
        let event = events.next()?;
        let bytes = match event {
            Event::Now(text) => Bytes::from(text),
            Event::Probe => {
                tokio::time::sleep(Duration::from_millis(20)).await;
                Bytes::from(chunk(&format!(r#"{{"content":"{}"}}"#, monotonic_ns()), "null"))
            }
        };
        Some((Ok::<_, Infallible>(bytes), events))
    });
    Response::builder()
        .header(header::CONTENT_TYPE, "text/event-stream")
        .header(header::CACHE_CONTROL, "no-cache")
        .body(Body::from_stream(stream))
        .expect("a valid response")
}

fn plain(status: StatusCode, content_type: &str, body: String) -> Response {
    Response::builder().status(status).header(header::CONTENT_TYPE, content_type).body(Body::from(body)).expect("valid")
}

fn json_call() -> String {
    format!(
        r#"{{{ID},"object":"chat.completion","choices":[{{"index":0,"message":{{"role":"assistant","content":null,"tool_calls":[{{"id":"call_bench1","type":"function","function":{{"name":"add","arguments":{}}}}}],"refusal":null,"annotations":[]}},"logprobs":null,"finish_reason":"tool_calls"}}],"usage":{USAGE_CALL},"service_tier":"default"}}"#,
        serde_json::to_string(ARGUMENTS).expect("a string")
    )
}

fn json_answer() -> String {
    format!(
        r#"{{{ID},"object":"chat.completion","choices":[{{"index":0,"message":{{"role":"assistant","content":"{ANSWER}","refusal":null,"annotations":[]}},"logprobs":null,"finish_reason":"stop"}}],"usage":{USAGE_ANSWER},"service_tier":"default"}}"#
    )
}

enum Event {
    Now(String),
    Probe,
}

fn chunk(delta: &str, finish: &str) -> String {
    format!(
        "data: {{{ID},\"object\":\"chat.completion.chunk\",\"service_tier\":\"default\",\"choices\":[{{\"index\":0,\"delta\":{delta},\"logprobs\":null,\"finish_reason\":{finish}}}],\"usage\":null}}\n\n"
    )
}

fn usage_chunk(usage: &str) -> String {
    format!(
        "data: {{{ID},\"object\":\"chat.completion.chunk\",\"service_tier\":\"default\",\"choices\":[],\"usage\":{usage}}}\n\n"
    )
}

fn sse_call() -> Vec<Event> {
    let mut events = vec![Event::Now(chunk(
        r#"{"role":"assistant","content":null,"tool_calls":[{"index":0,"id":"call_bench1","type":"function","function":{"name":"add","arguments":""}}],"refusal":null}"#,
        "null",
    ))];
    for piece in pieces(ARGUMENTS, 8) {
        let piece = serde_json::to_string(piece).expect("a string");
        events.push(Event::Now(chunk(
            &format!(r#"{{"tool_calls":[{{"index":0,"function":{{"arguments":{piece}}}}}]}}"#),
            "null",
        )));
    }
    events.push(Event::Now(chunk("{}", "\"tool_calls\"")));
    events.push(Event::Now(usage_chunk(USAGE_CALL)));
    events.push(Event::Now("data: [DONE]\n\n".to_owned()));
    events
}

fn sse_answer(probe: bool) -> Vec<Event> {
    let mut events = vec![Event::Now(chunk(r#"{"role":"assistant","content":"","refusal":null}"#, "null"))];
    if probe {
        events.push(Event::Probe);
    } else {
        for piece in pieces(ANSWER, 4) {
            events.push(Event::Now(chunk(
                &format!(r#"{{"content":{}}}"#, serde_json::to_string(piece).expect("a string")),
                "null",
            )));
        }
    }
    events.push(Event::Now(chunk("{}", "\"stop\"")));
    events.push(Event::Now(usage_chunk(USAGE_ANSWER)));
    events.push(Event::Now("data: [DONE]\n\n".to_owned()));
    events
}

/// `text` in pieces of `size` bytes (on character boundaries; the texts here are ASCII).
fn pieces(text: &str, size: usize) -> Vec<&str> {
    text.as_bytes().chunks(size).map(|c| std::str::from_utf8(c).expect("ASCII")).collect()
}

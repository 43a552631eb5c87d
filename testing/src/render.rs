//! Turns a [`Reply`] into the HTTP response: a `chat.completion` JSON body or a paced SSE stream of
//! `chat.completion.chunk` events, shaped like OpenAI's (docs/protocol.md §1.2, §1.3).

use std::convert::Infallible;
use std::time::Duration;

use axum::body::Body;
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::response::Response;
use bytes::Bytes;
use futures::Stream;
use serde_json::{Value, json};
use tokio::sync::watch;

use super::reply::{Reply, ReplyKind, StatusBody};
use toolsmith_core::wire::{AssistantMessage, Content, ContentPart};

/// What a response needs to know about its request.
pub(crate) struct Envelope {
    pub id: String,
    pub created: u64,
    pub model: String,
    pub stream: bool,
    pub include_usage: bool,
    /// Estimated prompt tokens (request bytes / 4).
    pub prompt_tokens: u64,
}

/// Bytes per argument fragment in a streamed tool call: small, so fragments split JSON mid-token like
/// OpenAI's do.
const ARGUMENT_FRAGMENT: usize = 6;

pub(crate) fn render(reply: Reply, envelope: &Envelope, shutdown: watch::Receiver<bool>) -> Response {
    let Reply { kind, finish_reason, usage, chunk_delay, headers, .. } = reply;
    let mut response = match kind {
        ReplyKind::Status { code, body } => status_response(code, body),
        ReplyKind::RawSse(events) => sse_response(events, chunk_delay, shutdown),
        ReplyKind::StreamError { partial_text, error } if envelope.stream => {
            let mut events = vec![event(&chunk(envelope, json!({"role": "assistant", "content": ""}), None))];
            events.extend(words(&partial_text).map(|word| event(&chunk(envelope, json!({"content": word}), None))));
            events.push(event(&error));
            sse_response(events, chunk_delay, shutdown)
        }
        ReplyKind::StreamError { error, .. } => status_response(500, StatusBody::Json(error)),
        ReplyKind::Message(message) => {
            let finish = finish_reason.unwrap_or_else(|| default_finish(&message).to_owned());
            let (prompt, completion) = usage.unwrap_or((envelope.prompt_tokens, estimate_completion(&message)));
            let usage = usage_json(prompt, completion);
            if envelope.stream {
                sse_response(message_events(&message, &finish, usage, envelope), chunk_delay, shutdown)
            } else {
                json_response(StatusCode::OK, &completion_json(&message, &finish, usage, envelope))
            }
        }
    };
    for (name, value) in headers {
        if let (Ok(name), Ok(value)) = (HeaderName::try_from(name), HeaderValue::try_from(value)) {
            response.headers_mut().append(name, value);
        }
    }
    response
}

fn default_finish(message: &AssistantMessage) -> &'static str {
    if message.tool_calls.is_empty() { "stop" } else { "tool_calls" }
}

/// Rough token count of a reply: its bytes / 4, at least 1.
fn estimate_completion(message: &AssistantMessage) -> u64 {
    let bytes = message.text().len()
        + message.refusal.as_deref().map_or(0, str::len)
        + message.reasoning_content.as_deref().map_or(0, str::len)
        + message.tool_calls.iter().map(|call| call.function.name.len() + call.function.arguments.len()).sum::<usize>();
    (bytes as u64 / 4).max(1)
}

pub(crate) fn usage_json(prompt: u64, completion: u64) -> Value {
    json!({
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
        "prompt_tokens_details": {"cached_tokens": 0},
        "completion_tokens_details": {"reasoning_tokens": 0},
    })
}

pub(crate) fn json_response(status: StatusCode, body: &Value) -> Response {
    let mut response = Response::new(Body::from(body.to_string()));
    *response.status_mut() = status;
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}

fn status_response(code: u16, body: StatusBody) -> Response {
    let status = StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let (text, json) = match body {
        StatusBody::Json(value) => (value.to_string(), true),
        StatusBody::Text(text) => {
            let json = serde_json::from_str::<Value>(&text).is_ok();
            (text, json)
        }
    };
    let mut response = Response::new(Body::from(text));
    *response.status_mut() = status;
    let content_type = if json { "application/json" } else { "text/plain; charset=utf-8" };
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}

fn sse_response(events: Vec<Bytes>, chunk_delay: Duration, shutdown: watch::Receiver<bool>) -> Response {
    let mut response = Response::new(Body::from_stream(paced(events, chunk_delay, shutdown)));
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/event-stream"));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    response
}

/// One body frame per event. Between two events the stream waits `chunk_delay`, or yields once when it is
/// zero so hyper flushes each event in its own write (clients must reassemble events split across reads).
/// Dropping the server ends the stream early.
fn paced(
    events: Vec<Bytes>,
    chunk_delay: Duration,
    shutdown: watch::Receiver<bool>,
) -> impl Stream<Item = Result<Bytes, Infallible>> + Send {
    futures::stream::unfold((events.into_iter(), true, shutdown), move |(mut events, first, mut shutdown)| async move {
        let next = events.next()?;
        if !first {
            if chunk_delay.is_zero() {
                tokio::task::yield_now().await;
            } else {
                tokio::select! {
                    () = tokio::time::sleep(chunk_delay) => {}
                    _ = shutdown.wait_for(|stop| *stop) => return None,
                }
            }
        }
        Some((Ok(next), (events, false, shutdown)))
    })
}

fn event(value: &Value) -> Bytes {
    Bytes::from(format!("data: {value}\n\n"))
}

fn chunk(envelope: &Envelope, delta: Value, finish: Option<&str>) -> Value {
    let mut chunk = json!({
        "id": envelope.id,
        "object": "chat.completion.chunk",
        "created": envelope.created,
        "model": envelope.model,
        "system_fingerprint": "fp_toolsmith",
        "choices": [{"index": 0, "delta": delta, "logprobs": null, "finish_reason": finish}],
    });
    if envelope.include_usage
        && let Some(object) = chunk.as_object_mut()
    {
        object.insert("usage".into(), Value::Null);
    }
    chunk
}

/// Splits text into word-sized deltas, each word keeping the whitespace before it.
pub(crate) fn words(text: &str) -> impl Iterator<Item = &str> {
    let mut rest = text;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let start = rest.len() - rest.trim_start().len();
        let end = rest[start..].find(char::is_whitespace).map_or(rest.len(), |i| start + i);
        let (word, tail) = rest.split_at(end);
        rest = tail;
        Some(word)
    })
}

/// Splits text into pieces of about `size` bytes at char boundaries.
fn fragments(text: &str, size: usize) -> Vec<&str> {
    let mut pieces = Vec::new();
    let mut start = 0;
    while start < text.len() {
        let mut end = (start + size).min(text.len());
        while !text.is_char_boundary(end) {
            end += 1;
        }
        pieces.push(&text[start..end]);
        start = end;
    }
    pieces
}

fn message_events(message: &AssistantMessage, finish: &str, usage: Value, envelope: &Envelope) -> Vec<Bytes> {
    let text = message.text();
    let refusal = match (&message.refusal, &message.content) {
        (Some(refusal), _) => Some(refusal.clone()),
        (None, Some(Content::Parts(parts))) => parts.iter().find_map(|part| match part {
            ContentPart::Refusal { refusal } => Some(refusal.clone()),
            _ => None,
        }),
        _ => None,
    };
    let mut first = json!({"role": "assistant", "content": if text.is_empty() { Value::Null } else { json!("") }});
    if refusal.is_some()
        && let Some(object) = first.as_object_mut()
    {
        object.insert("refusal".into(), json!(""));
    }
    let mut events = vec![event(&chunk(envelope, first, None))];
    if let Some(reasoning) = &message.reasoning_content {
        events.extend(words(reasoning).map(|word| event(&chunk(envelope, json!({"reasoning_content": word}), None))));
    }
    events.extend(words(&text).map(|word| event(&chunk(envelope, json!({"content": word}), None))));
    if let Some(refusal) = &refusal {
        events.extend(words(refusal).map(|word| event(&chunk(envelope, json!({"refusal": word}), None))));
    }
    for (index, call) in message.tool_calls.iter().enumerate() {
        let head = json!({"tool_calls": [{
            "index": index, "id": call.id, "type": call.kind,
            "function": {"name": call.function.name, "arguments": ""},
        }]});
        events.push(event(&chunk(envelope, head, None)));
        for piece in fragments(&call.function.arguments, ARGUMENT_FRAGMENT) {
            let delta = json!({"tool_calls": [{"index": index, "function": {"arguments": piece}}]});
            events.push(event(&chunk(envelope, delta, None)));
        }
    }
    events.push(event(&chunk(envelope, json!({}), Some(finish))));
    if envelope.include_usage {
        events.push(event(&json!({
            "id": envelope.id,
            "object": "chat.completion.chunk",
            "created": envelope.created,
            "model": envelope.model,
            "system_fingerprint": "fp_toolsmith",
            "choices": [],
            "usage": usage,
        })));
    }
    events.push(Bytes::from_static(b"data: [DONE]\n\n"));
    events
}

fn completion_json(message: &AssistantMessage, finish: &str, usage: Value, envelope: &Envelope) -> Value {
    let mut body = serde_json::to_value(message).unwrap_or_else(|_| json!({"content": null}));
    if let Some(object) = body.as_object_mut() {
        object.insert("role".into(), json!("assistant"));
        object.entry("refusal").or_insert(Value::Null);
        object.insert("annotations".into(), json!([]));
    }
    json!({
        "id": envelope.id,
        "object": "chat.completion",
        "created": envelope.created,
        "model": envelope.model,
        "choices": [{"index": 0, "message": body, "logprobs": null, "finish_reason": finish}],
        "usage": usage,
        "service_tier": "default",
        "system_fingerprint": "fp_toolsmith",
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_keep_their_leading_space() {
        assert_eq!(words("Hello  big world!").collect::<Vec<_>>(), ["Hello", "  big", " world!"]);
        assert_eq!(words(" x\n").collect::<Vec<_>>(), [" x", "\n"]);
        assert_eq!(words("").count(), 0);
    }

    #[test]
    fn fragments_respect_char_boundaries() {
        let text = r#"{"city":"Zürich"}"#;
        let pieces = fragments(text, 6);
        assert_eq!(pieces.concat(), text);
        assert!(pieces.len() > 2);
    }
}

//! The HTTP side: routes, request recording, validation, reply selection and shutdown.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::{get, post};
use serde_json::{Value, json};
use tokio::sync::watch;

use super::RecordedRequest;
use super::model;
use super::ordered::Json;
use super::render::{Envelope, json_response, render};
use super::reply::Reply;
use super::validate::validate;

/// Largest accepted request body: long conversations are fine, runaway ones are not.
const BODY_LIMIT: usize = 32 * 1024 * 1024;

/// How the server picks the reply to a request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Mode {
    /// Pop the queue; 500 when it is empty.
    Scripted,
    /// `replies[assistant messages in the request % len]`.
    Repeating,
    /// The queue first, then the built-in test model.
    TestModel,
}

pub(crate) struct Shared {
    pub mode: Mode,
    pub queue: Mutex<VecDeque<Reply>>,
    pub requests: Mutex<Vec<RecordedRequest>>,
    pub count: AtomicUsize,
    pub next_id: AtomicU64,
    pub strict: AtomicBool,
    pub record: AtomicBool,
    pub shutdown: watch::Receiver<bool>,
}

/// Locks a mutex, recovering the data if a panicking holder poisoned it (the data stays consistent: every
/// critical section is a single push or pop).
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

pub(crate) fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/v1/chat/completions", post(chat))
        .route("/chat/completions", post(chat))
        .route("/v1/models", get(models))
        .route("/models", get(models))
        .route("/health", get(|| async { json_response(StatusCode::OK, &json!({"status": "ok"})) }))
        .fallback(|| async {
            error_response(
                StatusCode::NOT_FOUND,
                "Unknown request URL. Try POST /v1/chat/completions.",
                "invalid_request_error",
            )
        })
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .with_state(shared)
}

fn error_response(status: StatusCode, message: &str, kind: &str) -> Response {
    json_response(status, &json!({"error": {"message": message, "type": kind, "param": null, "code": null}}))
}

async fn models() -> Response {
    json_response(
        StatusCode::OK,
        &json!({"object": "list", "data": [
            {"id": "toolsmith-test", "object": "model", "created": 0, "owned_by": "toolsmith"}
        ]}),
    )
}

async fn chat(State(shared): State<Arc<Shared>>, headers: HeaderMap, body: Bytes) -> Response {
    let number = shared.count.fetch_add(1, Ordering::Relaxed) + 1;
    let parsed = serde_json::from_slice::<Value>(&body);
    if shared.record.load(Ordering::Relaxed) {
        let recorded = RecordedRequest {
            body: match &parsed {
                Ok(value) => value.clone(),
                Err(_) => Value::String(String::from_utf8_lossy(&body).into_owned()),
            },
            headers: headers
                .iter()
                .map(|(name, value)| (name.as_str().to_owned(), String::from_utf8_lossy(value.as_bytes()).into_owned()))
                .collect(),
        };
        lock(&shared.requests).push(recorded);
    }
    let request = match parsed {
        Ok(value) => value,
        Err(error) => {
            let message = format!("We could not parse the JSON body of your request. ({error})");
            return error_response(StatusCode::BAD_REQUEST, &message, "invalid_request_error");
        }
    };
    if shared.strict.load(Ordering::Relaxed)
        && let Err(invalid) = validate(&request)
    {
        return json_response(StatusCode::BAD_REQUEST, &invalid.body());
    }
    let Some(reply) = next_reply(&shared, &request, &body) else {
        let message = format!(
            "toolsmith TestServer: no scripted reply left for request #{number}; push more with TestServer::push."
        );
        return error_response(StatusCode::INTERNAL_SERVER_ERROR, &message, "server_error");
    };
    if !reply.delay.is_zero() {
        let mut shutdown = shared.shutdown.clone();
        tokio::select! {
            () = tokio::time::sleep(reply.delay) => {}
            _ = shutdown.wait_for(|stop| *stop) => {
                return error_response(StatusCode::SERVICE_UNAVAILABLE, "The test server is shutting down.", "server_error");
            }
        }
    }
    let stream = request.get("stream").and_then(Value::as_bool).unwrap_or(false);
    let envelope = Envelope {
        id: format!("chatcmpl-toolsmith{:014}", shared.next_id.fetch_add(1, Ordering::Relaxed) + 1),
        created: SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs()),
        model: request.get("model").and_then(Value::as_str).unwrap_or_default().to_owned(),
        stream,
        include_usage: stream
            && request.get("stream_options").and_then(|o| o.get("include_usage")).and_then(Value::as_bool)
                == Some(true),
        prompt_tokens: (body.len() as u64 / 4).max(1),
    };
    render(reply, &envelope, shared.shutdown.clone())
}

fn next_reply(shared: &Shared, request: &Value, body: &[u8]) -> Option<Reply> {
    match shared.mode {
        Mode::Scripted => lock(&shared.queue).pop_front(),
        Mode::Repeating => {
            let queue = lock(&shared.queue);
            if queue.is_empty() {
                return None;
            }
            let turn = request.get("messages").and_then(Value::as_array).map_or(0, |messages| {
                messages.iter().filter(|m| m.get("role").and_then(Value::as_str) == Some("assistant")).count()
            });
            queue.get(turn % queue.len()).cloned()
        }
        Mode::TestModel => {
            if let Some(reply) = lock(&shared.queue).pop_front() {
                return Some(reply);
            }
            // Schemas are read again with their key order kept (see `ordered`).
            let ordered = serde_json::from_slice::<Json>(body).unwrap_or_else(|_| Json::from_value(request));
            Some(model::respond(request, &ordered))
        }
    }
}

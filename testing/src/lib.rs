//! An in-process OpenAI-compatible server for tests and demos: scripted replies or a built-in test model.
//!
//! [`TestServer`] is a real HTTP server on `127.0.0.1` (axum on a random port, spawned on the current tokio
//! runtime), so your agent's client, streaming and retries run exactly as against a provider. It serves
//! `POST /v1/chat/completions` (and `/chat/completions`), `GET /v1/models` and `GET /health`, both as JSON
//! and as SSE (`stream: true`, with `stream_options.include_usage` honoured), in OpenAI's shapes.
//!
//! Three ways to pick replies:
//! - [`TestServer::scripted`]: a queue of [`Reply`] values, one per request, with fault injection (statuses,
//!   raw SSE bytes, in-band stream errors, delays);
//! - [`TestServer::repeating`]: a fixed list served per conversation turn, for load tests;
//! - [`TestServer::test_model`]: a deterministic model that calls your tools with arguments generated from
//!   their schemas and then summarises the results.
//!
//! Every request is validated like a strict provider would (see [`TestServer`]), so the server is also a
//! referee for the history your agent replays, and every request is recorded for assertions.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> std::io::Result<()> {
//! use toolsmith_testing::{Reply, TestServer};
//!
//! let server = TestServer::scripted([Reply::text("Hello!")]).await?;
//! let url = format!("{}/chat/completions", server.base_url());
//! // ... point your client at `server.base_url()` and run the agent ...
//! # let _ = url;
//! assert_eq!(server.request_count(), 0);
//! # Ok(())
//! # }
//! ```
//!
//! Applications reach this crate as `toolsmith::testing` with the `toolsmith` crate's `testing` feature
//! (usually in `[dev-dependencies]`).
#![warn(missing_docs)]

mod model;
mod ordered;
mod render;
mod reply;
mod schema;
mod server;
mod text;
mod validate;

use std::collections::VecDeque;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use axum::serve::ListenerExt;
use tokio::net::TcpSocket;
use tokio::sync::watch;

pub use reply::{Reply, StatusBody};

use server::{Mode, Shared, lock};

/// Pending connections the listener queues: enough for thousands of clients connecting at once.
const BACKLOG: u32 = 8192;

/// One request the server received, for assertions.
#[derive(Clone, Debug, PartialEq)]
pub struct RecordedRequest {
    /// The JSON body (a JSON string holding the raw text when the body was not valid JSON).
    pub body: serde_json::Value,
    /// The request headers, names lowercased, in arrival order.
    pub headers: Vec<(String, String)>,
}

impl RecordedRequest {
    /// The first value of a header (case-insensitive name).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(key, _)| key.eq_ignore_ascii_case(name)).map(|(_, value)| value.as_str())
    }

    /// The request's `messages` array (empty when missing).
    pub fn messages(&self) -> &[serde_json::Value] {
        self.body.get("messages").and_then(serde_json::Value::as_array).map(Vec::as_slice).unwrap_or_default()
    }
}

/// An OpenAI-compatible HTTP server on `127.0.0.1`, running until dropped.
///
/// # Validation
///
/// Every chat request is checked like a strict provider checks it, and rejected with status 400 and an
/// OpenAI-style body (`{"error":{"message","type":"invalid_request_error","param","code"}}`) when:
/// - the body is not a JSON object, has a top-level field unknown to the Chat Completions API (Q29), or lacks
///   `model` or a non-empty `messages`;
/// - a message has an unknown role or a field its role does not allow (assistant messages may also carry
///   `reasoning_content`/`reasoning` for DeepSeek-style replay, Q15, and the `annotations`/`function_call` of a
///   response message replayed verbatim), or lacks its `content`;
/// - an assistant message has neither content, refusal nor tool calls, or an empty `tool_calls` array (Q17);
/// - a tool call has an empty id, an id used before anywhere in the conversation (Q19, Q20), a type other than
///   `function`, an empty name (Q22), or `arguments` that are not a string holding valid JSON;
/// - the tool calls of an assistant message are not answered by exactly one `tool` message each, immediately
///   after it (OpenAI's Q38 message, naming the unanswered ids), or a `tool` message answers no such call;
/// - `stream_options` is set without `stream: true` (Q28);
/// - a tool name does not match `^[a-zA-Z0-9_-]{1,64}$` (Q21) or repeats, `tool_choice` is set without tools or
///   names an absent tool, or `response_format.json_schema.name` is invalid.
///
/// Turn it off with [`TestServer::set_strict`] to send deliberately odd requests.
///
/// # Load
///
/// Each request costs one tokio task and its reply: a held reply ([`Reply::delay`]) is a timer, not a thread,
/// so ten thousand concurrent requests are fine (mind the process's file-descriptor limit: every connection
/// uses one descriptor on each side). Turn off recording with [`TestServer::set_recording`] for long runs.
pub struct TestServer {
    shared: Arc<Shared>,
    address: SocketAddr,
    shutdown: watch::Sender<bool>,
}

impl std::fmt::Debug for TestServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestServer")
            .field("address", &self.address)
            .field("mode", &self.shared.mode)
            .field("requests", &self.request_count())
            .finish()
    }
}

impl TestServer {
    /// Starts a server that answers each request with the next reply of this queue, and with status 500 (and
    /// a message saying so) once the queue is empty. Add replies later with [`TestServer::push`].
    ///
    /// A request that fails validation gets its 400 without using up a reply.
    pub async fn scripted(replies: impl IntoIterator<Item = Reply>) -> std::io::Result<TestServer> {
        TestServer::start(Mode::Scripted, replies.into_iter().collect()).await
    }

    /// Starts a server that serves `replies` in a cycle per conversation: a request gets
    /// `replies[n % replies.len()]`, where `n` is the number of assistant messages in its `messages`. So any
    /// number of concurrent two-turn runs can share one server with `[tool calls, final text]`.
    ///
    /// An empty list answers 500, like an empty script. [`TestServer::push`] appends to the list.
    pub async fn repeating(replies: Vec<Reply>) -> std::io::Result<TestServer> {
        TestServer::start(Mode::Repeating, replies.into()).await
    }

    /// Starts a server running the built-in test model: deterministic, offline, and good enough for demos.
    ///
    /// Replies queued with [`TestServer::push`] are served first; the model answers when the queue is empty.
    ///
    /// # What the model does
    ///
    /// Everything depends only on the request. "The message" is the last `user` message; "past calls" are the
    /// tool calls of assistant messages after it, with their `tool` results.
    ///
    /// 1. **No tools offered, or `tool_choice: "none"`**: it answers (step 5).
    /// 2. **Choosing tools.** With a named `tool_choice`, only that tool. Otherwise every offered tool except
    ///    `final_result`, narrowed to those whose name shares a word with the message (`get_weather` matches
    ///    "Weather in Paris?", `divide` matches "divided": names are split at `_`, `-` and case changes, verbs
    ///    like `get`/`set`/`fetch` are ignored, and words are compared after stripping `-ing`, `-ed`, `-es`,
    ///    `-s`, `-e`). When no name matches, the model answers in text (step 5: "Hello" gets
    ///    `"You said: Hello"`), unless `tool_choice` is `"required"`: then every offered tool is called.
    /// 3. **Calling tools**, when there are no past calls (or `tool_choice` is `"required"` or a named tool:
    ///    a forced choice is obeyed on every request, like a real model, so an agent that never resets it
    ///    loops). All calls go in one assistant turn (`content: null`, ids `call_{turn}_{index}` where `turn`
    ///    counts earlier assistant messages, so ids are unique in the conversation); with
    ///    `parallel_tool_calls: false`, one call per turn, in plan order. Arguments per tool:
    ///    - a tool whose name contains the word `list`, `all` or `enumerate` (or starts with `list`) gets one
    ///      call with schema defaults only, nothing taken from the message;
    ///    - otherwise the *target* is the first required property that is a plain string (no enum, const or
    ///      format). If the target's name is free text (`text`, `content`, `body`, `message`, `note`, `query`,
    ///      `description`, `summary`, ... or ending in `_text` etc.), the tool is called once per quoted phrase
    ///      of the message ("…", “…” or '…'); for any other target, once per distinct quoted phrase or, when
    ///      there are none, once per distinct run of capitalised words ("Weather in Paris and in New York?" →
    ///      `{"city":"Paris"}` and `{"city":"New York"}`, two parallel calls). Common English words (What,
    ///      Please, Add, Don't, ...) are never names, nor are sentence-initial words of the offered tool names
    ///      or words the tool's schema lists as enum values ("in Fahrenheit"); a possessive `'s` is dropped.
    ///      Without candidates, one call;
    ///    - the other properties: only required ones are set (optional ones are left out; a required but
    ///      nullable one, as in strict schemas, is `null`). Numbers (`integer`, `number`) take the message's
    ///      numbers in property order ("What is 7 divided by 0?" → `a: 7, b: 0`), rounded for integers and
    ///      clamped to `minimum`/`maximum`/`exclusiveMinimum`/`exclusiveMaximum`, else the schema's
    ///      `default`, else 1. Enums take a value the message says as a word (case-insensitive), else the
    ///      first. `const` is used as is. Strings: `format` `email`/`uri` (or names containing `email`/`url`)
    ///      take an address from the message, other formats a fixed valid value (`2025-01-01`, ...), free-text
    ///      names the whole message, anything else the schema's `default` or `"example"`; `minLength` and
    ///      `maxLength` are respected. Booleans are `false`. Arrays get `minItems` (at least one) generated
    ///      items, except an array of plain strings, which gets all the message's names. Objects recurse.
    ///      `$ref` (to `#/$defs/...` or any local pointer), `allOf` (merged), `anyOf`/`oneOf` (first non-null
    ///      variant; `null` when a null variant exists), `type` arrays and `nullable` are understood.
    /// 4. **`final_result`** (the agent's structured-output fallback tool): the other chosen tools are called
    ///    first; on the turn after their results (or at once when there are none) `final_result` is called with
    ///    arguments generated as an answer document (step 5). After its result, the model answers.
    /// 5. **Answering**, when past calls all have results (or nothing else applies):
    ///    - `response_format: json_schema`: a JSON document generated from the schema. Required properties are
    ///      always present, optional ones only when a value is known. A property whose name matches a key of a
    ///      tool call's arguments or of a JSON-object tool result (case-insensitive; results win) takes that
    ///      value when its type fits; a scalar result is known under the tool's name and its topic words
    ///      (`get_temperature` → `temperature`). Free-text names get the summary below (or the message);
    ///      other strings take the message's names in order, then `"example <name>"`; other numbers take
    ///      the numbers found in the successful tool results, then the message's, in order; enums and
    ///      `required` are respected; nullable values are generated.
    ///    - `response_format: json_object`: `{"answer": <summary or echo>}`.
    ///    - with tool results: `"Here is what I found:\n"` and one line per call in call order,
    ///      `name: result` or, when the result reads as an error (starts with `Error`, `failed`,
    ///      `invalid arguments`, `unknown tool`, ..., says `was not run`, or is JSON with an `error` key),
    ///      `name failed: message` with a leading `Error:` removed ("divide failed: division by zero").
    ///      Results are flattened to one line and cut at 300 characters.
    ///    - otherwise: `"You said: <message>"` (cut at 200 characters).
    ///
    /// Usage is estimated as request bytes / 4 and reply bytes / 4. `finish_reason` is `tool_calls` for calls,
    /// else `stop`. Streamed replies send text in word-sized deltas and arguments in 6-byte fragments.
    pub async fn test_model() -> std::io::Result<TestServer> {
        TestServer::start(Mode::TestModel, VecDeque::new()).await
    }

    async fn start(mode: Mode, replies: VecDeque<Reply>) -> std::io::Result<TestServer> {
        let socket = TcpSocket::new_v4()?;
        socket.bind(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)))?;
        let listener = socket.listen(BACKLOG)?;
        let address = listener.local_addr()?;
        // Each SSE event is its own small write: without TCP_NODELAY, Nagle holds every write after the first
        // until the client's delayed ACK (40 ms on Linux), so a streamed turn took ~40-90 ms on loopback.
        let listener = listener.tap_io(|tcp| {
            if let Err(error) = tcp.set_nodelay(true) {
                tracing::debug!(%error, "could not set TCP_NODELAY on a test server connection");
            }
        });
        let (shutdown, receiver) = watch::channel(false);
        let shared = Arc::new(Shared {
            mode,
            queue: Mutex::new(replies),
            requests: Mutex::new(Vec::new()),
            count: AtomicUsize::new(0),
            next_id: AtomicU64::new(0),
            strict: AtomicBool::new(true),
            record: AtomicBool::new(true),
            shutdown: receiver.clone(),
        });
        let app = server::router(shared.clone());
        let mut stop = receiver;
        tokio::spawn(async move {
            let signal = async move {
                // Ends on `true` or when the sender (the TestServer) is gone.
                let _ = stop.wait_for(|stop| *stop).await;
            };
            if let Err(error) = axum::serve(listener, app).with_graceful_shutdown(signal).await {
                tracing::warn!(%error, "toolsmith test server stopped");
            }
        });
        Ok(TestServer { shared, address, shutdown })
    }

    /// Queues a reply (scripted and test-model servers) or appends it to the cycle (repeating servers).
    pub fn push(&self, reply: Reply) {
        lock(&self.shared.queue).push_back(reply);
    }

    /// The base URL to give a client: `http://127.0.0.1:PORT/v1`.
    pub fn base_url(&self) -> String {
        format!("http://{}/v1", self.address)
    }

    /// A [`Client`](toolsmith_core::client::Client) for this server (default settings, API key `"test-key"`).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> std::io::Result<()> {
    /// use toolsmith_testing::TestServer;
    ///
    /// let server = TestServer::test_model().await?;
    /// let client = server.client();
    /// # let _ = client;
    /// # Ok(())
    /// # }
    /// ```
    pub fn client(&self) -> toolsmith_core::client::Client {
        // The server's own `http://127.0.0.1:{port}/v1` always builds.
        toolsmith_core::client::Client::new(self.base_url(), "test-key").expect("the test server's base URL is valid")
    }

    /// The socket address the server listens on.
    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// The chat requests received so far, in arrival order (all of them, rejected ones included), unless
    /// recording is off.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        lock(&self.shared.requests).clone()
    }

    /// How many chat requests arrived (counted even when recording is off).
    pub fn request_count(&self) -> usize {
        self.shared.count.load(Ordering::Relaxed)
    }

    /// How many queued replies are left (scripted and test-model servers) or the cycle's length (repeating).
    pub fn pending_replies(&self) -> usize {
        lock(&self.shared.queue).len()
    }

    /// Turns request validation on (the default) or off.
    pub fn set_strict(&self, strict: bool) {
        self.shared.strict.store(strict, Ordering::Relaxed);
    }

    /// Turns request recording on (the default) or off, e.g. for load tests with many requests.
    pub fn set_recording(&self, record: bool) {
        self.shared.record.store(record, Ordering::Relaxed);
    }
}

impl Drop for TestServer {
    /// Stops accepting connections, ends held replies (503) and streams in progress, and lets the server
    /// task finish.
    fn drop(&mut self) {
        let _ = self.shutdown.send(true);
    }
}

//! The HTTP client for `POST {base_url}/chat/completions`: plain and streaming, with retries, deadlines,
//! size limits and per-provider request sanitising.
//!
//! ```no_run
//! # async fn run() -> Result<(), toolsmith_core::client::ClientError> {
//! use futures::StreamExt;
//! use toolsmith_core::client::Client;
//! use toolsmith_core::stream::Accumulator;
//! use toolsmith_core::wire::{ChatRequest, Message};
//!
//! let client = Client::from_env()?;
//! let request = ChatRequest::new("openai/gpt-4o", vec![Message::user("Hello!")]);
//! let mut stream = client.chat_stream(&request).await?;
//! let mut turn = Accumulator::new();
//! while let Some(chunk) = stream.next().await {
//!     let chunk = chunk?;
//!     for choice in &chunk.choices {
//!         print!("{}", choice.delta.content.as_deref().unwrap_or(""));
//!     }
//!     turn.push(&chunk)?;
//! }
//! let completion = turn.finish()?;
//! # let _ = completion; Ok(()) }
//! ```

mod body;
mod config;
mod encode;
mod error;
mod profile;
mod retry;
mod secret;
pub mod sse;
mod sse_body;
mod tls;

pub use config::{
    ClientBuilder, DEFAULT_CONNECT_TIMEOUT, DEFAULT_IDLE_TIMEOUT, DEFAULT_MAX_EVENT_BYTES, DEFAULT_MAX_RESPONSE_BYTES,
    DEFAULT_TOTAL_TIMEOUT,
};
pub use encode::replay_arguments;
pub use error::{ClientError, TimeoutPhase};
pub use profile::{MaxTokensField, Profile, ReasoningEffortField, ToolCallContent, ToolCallIds};
pub use retry::RetryPolicy;
pub(crate) use sse_body::{Data, SseBody, in_band_retryable};

#[doc(hidden)]
pub use tls::crypto_provider;
pub use tls::http_client_builder;

use std::fmt;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use futures::future::Either;
use reqwest::header::{CONTENT_TYPE, HeaderMap};
use tokio::time::{Instant, Sleep};

use crate::wire::{ChatRequest, ChatResponse, ErrorBody, snippet};
use body::Body;
use encode::WireRequest;

/// MintCloud's API base, the default of [`Client::from_env`] with `MINTCLOUD_API_KEY`.
pub const MINTCLOUD_BASE_URL: &str = "https://api.mintcloud.ai/v1";
/// OpenAI's API base, the default of [`Client::from_env`] with `OPENAI_API_KEY`.
pub const OPENAI_BASE_URL: &str = "https://api.openai.com/v1";

/// A Chat Completions client. Cheap to clone (one `Arc`); `Debug` never shows the API key, a credential in
/// the base URL (`http://user:pass@host`, `?key=...`) or a credential header.
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
    profile: Arc<Profile>,
}

struct Inner {
    http: reqwest::Client,
    base_url: String,
    /// `{base_url}/chat/completions`, parsed once when the client is built.
    endpoint: reqwest::Url,
    has_api_key: bool,
    /// What every request sends: the caller's headers, the content type and the credential.
    headers: HeaderMap,
    retry: RetryPolicy,
    idle_timeout: Option<Duration>,
    total_timeout: Option<Duration>,
    max_response_bytes: u64,
    max_event_bytes: usize,
    /// The size of the last request body, to size the next one's buffer (shared by clones; a hint only).
    last_body_len: AtomicUsize,
}

/// The largest buffer guessed for a request body; a larger one grows as it is written.
const MAX_BODY_GUESS: usize = 1 << 20;

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("base_url", &secret::redact_url(&self.inner.base_url))
            .field("api_key", &if self.inner.has_api_key { secret::REDACTED } else { "<none>" })
            .field("profile", &self.profile.name)
            .field("retry", &self.inner.retry)
            .field("idle_timeout", &self.inner.idle_timeout)
            .field("total_timeout", &self.inner.total_timeout)
            .field("max_response_bytes", &self.inner.max_response_bytes)
            .field("max_event_bytes", &self.inner.max_event_bytes)
            .finish_non_exhaustive()
    }
}

impl Client {
    /// A client with default settings; fails with [`ClientError::Config`] on an invalid base URL (one that is
    /// not `http(s)://host...`) or an API key that cannot be sent in a header.
    pub fn new(base_url: impl Into<String>, api_key: impl Into<String>) -> Result<Client, ClientError> {
        Client::builder().base_url(base_url).api_key(api_key).build()
    }

    /// A client from the environment: `OPENAI_API_KEY` (with `OPENAI_BASE_URL`, default
    /// `https://api.openai.com/v1`), or `MINTCLOUD_API_KEY` (with `OPENAI_BASE_URL` or `MINTCLOUD_BASE_URL`,
    /// default [`MINTCLOUD_BASE_URL`]).
    pub fn from_env() -> Result<Client, ClientError> {
        Client::from_vars(|name| std::env::var(name).ok())
    }

    /// [`Client::from_env`] with a custom variable lookup (for tests and configuration files).
    pub fn from_vars(lookup: impl Fn(&str) -> Option<String>) -> Result<Client, ClientError> {
        let get = |name: &str| lookup(name).map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());
        let (key, default_base) = if let Some(key) = get("OPENAI_API_KEY") {
            (key, OPENAI_BASE_URL)
        } else if let Some(key) = get("MINTCLOUD_API_KEY") {
            (key, MINTCLOUD_BASE_URL)
        } else {
            return Err(ClientError::config(
                "no API key in the environment: set OPENAI_API_KEY (and optionally OPENAI_BASE_URL), \
                 or MINTCLOUD_API_KEY (and optionally MINTCLOUD_BASE_URL)",
            ));
        };
        let base = get("OPENAI_BASE_URL")
            .or_else(|| if default_base == MINTCLOUD_BASE_URL { get("MINTCLOUD_BASE_URL") } else { None })
            .unwrap_or_else(|| default_base.to_owned());
        Client::builder().base_url(base).api_key(key).build()
    }

    /// A [`ClientBuilder`].
    pub fn builder() -> ClientBuilder {
        ClientBuilder::default()
    }

    /// The provider profile used to sanitise requests.
    pub fn profile(&self) -> &Profile {
        &self.profile
    }

    /// The same client (sharing its connection pool) with another profile.
    pub fn with_profile(&self, profile: Profile) -> Client {
        Client { inner: Arc::clone(&self.inner), profile: Arc::new(profile) }
    }

    /// The endpoint's host and port (`server.address`/`server.port` on telemetry spans).
    pub(crate) fn server(&self) -> Option<(&str, u16)> {
        let endpoint = &self.inner.endpoint;
        Some((endpoint.host_str()?, endpoint.port_or_known_default()?))
    }

    /// The API base URL as configured (credentials in it included: print it with care; `Debug` redacts them).
    pub fn base_url(&self) -> &str {
        &self.inner.base_url
    }

    /// Sends `request` with `stream: false` and returns the decoded response.
    ///
    /// Retries per the [`RetryPolicy`]. A `200` whose body is an error object fails with
    /// [`ClientError::Status`]; blank lines before the JSON (DeepSeek keep-alives, Q39) are skipped.
    pub async fn chat(&self, request: &ChatRequest) -> Result<ChatResponse, ClientError> {
        self.post_json(request, decode_response).await
    }

    /// One plain request, retried per the [`RetryPolicy`]; a successful body is handed to `decode` (whose
    /// failure is final: the server answered).
    pub(crate) async fn post_json<T>(
        &self,
        request: &ChatRequest,
        decode: fn(&[u8]) -> Result<T, ClientError>,
    ) -> Result<T, ClientError> {
        let bytes = self
            .retrying("chat request", || async {
                let deadline = self.deadline();
                let (response, timer) = self.send(self.encode(request, false)?, deadline, false).await?;
                // A body cut short is retried too: nothing of it was handed out.
                let limit = self.inner.max_response_bytes;
                Body::new(response, self.inner.idle_timeout, deadline, limit, timer)
                    .collect()
                    .await
                    .map_err(|e| (e, None))
            })
            .await?;
        decode(&bytes)
    }

    /// Sends `request` with `stream: true` (and `stream_options.include_usage` where the profile allows) up
    /// to a successful status; what the response is made into is the completion step's business
    /// ([`Client::chat_stream`], in `stream/`).
    ///
    /// Retries per the [`RetryPolicy`] until the response status is known; never after that (L18).
    pub(crate) async fn open_stream(&self, request: &ChatRequest) -> Result<Opened, ClientError> {
        let (response, timer, deadline) = self
            .retrying("chat stream request", || async {
                let deadline = self.deadline();
                let (response, timer) = self.send(self.encode(request, true)?, deadline, true).await?;
                Ok((response, timer, deadline))
            })
            .await?;
        let limit = self.inner.max_response_bytes;
        let max_event_bytes = self.inner.max_event_bytes;
        let is_json = response
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.trim_start().starts_with("application/json"));
        let body = Body::new(response, self.inner.idle_timeout, deadline, limit, timer);
        if is_json {
            // A server that ignores `stream: true` (or reports an error as JSON in a 200) answers with a plain
            // body: decode it and hand it on whole.
            // Boxed, as the error body's reading in `send`: a rare path should not size the usual one.
            let response = Box::new(decode_response(&Box::pin(body.collect()).await?)?);
            return Ok(Opened::Whole { response, max_event_bytes });
        }
        Ok(Opened::Events { body, max_event_bytes })
    }

    /// Runs `attempt` until it succeeds or the [`RetryPolicy`] gives up on its failure (which comes with the
    /// server's `x-should-retry`, if any), sleeping the policy's delay between attempts.
    async fn retrying<T, F, Fut>(&self, what: &str, mut attempt: F) -> Result<T, ClientError>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, (ClientError, Option<bool>)>>,
    {
        let mut attempts = 0;
        loop {
            let (error, should_retry) = match attempt().await {
                Ok(value) => return Ok(value),
                Err(failure) => failure,
            };
            let Some(wait) = self.inner.retry.delay(attempts, &error, should_retry) else { return Err(error) };
            tracing::debug!(%error, attempt = attempts, ?wait, "retrying {what}");
            tokio::time::sleep(wait).await;
            attempts += 1;
        }
    }

    /// When the attempt starting now must end; a total timeout too large to represent means no deadline.
    fn deadline(&self) -> Option<Instant> {
        self.inner.total_timeout.and_then(|t| Instant::now().checked_add(t))
    }

    /// The request's body, made for each attempt: handed to the HTTP client whole, it is never shared or copied
    /// (a retry, which waited anyway, encodes it again).
    fn encode(&self, request: &ChatRequest, stream: bool) -> Result<Vec<u8>, (ClientError, Option<bool>)> {
        // A conversation grows by a turn or two per request: a quarter more than the last body usually fits.
        let last = self.inner.last_body_len.load(Ordering::Relaxed);
        let guess = (last + last / 4 + 256).min(MAX_BODY_GUESS);
        let body = WireRequest { request, profile: &self.profile, stream }
            .to_vec(guess)
            .map_err(|e| (ClientError::config(format!("could not encode the request: {e}")), None))?;
        self.inner.last_body_len.store(body.len(), Ordering::Relaxed);
        Ok(body)
    }

    /// One attempt up to a successful status. A failure comes with the `x-should-retry` header, if any.
    /// With `keep_timer` (a body that will be read as it streams), the timer that waited for the headers
    /// comes back with the response, to serve the body's reads too.
    async fn send(
        &self,
        body: Vec<u8>,
        deadline: Option<Instant>,
        keep_timer: bool,
    ) -> Result<(reqwest::Response, Option<Pin<Box<Sleep>>>), (ClientError, Option<bool>)> {
        let inner = &self.inner;
        // Built directly rather than through `RequestBuilder`, which would insert the headers one by one into a
        // new map: the ready map is cloned whole.
        let mut http_request = reqwest::Request::new(reqwest::Method::POST, inner.endpoint.clone());
        *http_request.headers_mut() = inner.headers.clone();
        *http_request.body_mut() = Some(body.into());
        let sent = inner.http.execute(http_request);
        let timed_out = || (ClientError::Timeout { phase: TimeoutPhase::Total }, None);
        let (response, timer) = match deadline {
            Some(at) if keep_timer => {
                let mut timer = Box::pin(tokio::time::sleep_until(at));
                match futures::future::select(std::pin::pin!(sent), timer.as_mut()).await {
                    Either::Left((result, _)) => (result, Some(timer)),
                    Either::Right(_) => return Err(timed_out()),
                }
            }
            Some(at) => match tokio::time::timeout_at(at, sent).await {
                Ok(result) => (result, None),
                Err(_) => return Err(timed_out()),
            },
            None => (sent.await, None),
        };
        let response = response.map_err(|e| (transport_error(&e), None))?;
        let status = response.status();
        if status.is_success() {
            return Ok((response, timer));
        }
        let headers = response.headers().clone();
        let retry_after = retry::retry_after(&headers);
        let should_retry = retry::should_retry(&headers);
        // An error body is read whole, but never more than the snippet needs plus room for the JSON.
        let limit = inner.max_response_bytes.min(1024 * 1024);
        // Boxed: the reading of an error body would otherwise take room in every request's future, which is
        // moved through the layers above on every request.
        let bytes = match Box::pin(Body::new(response, inner.idle_timeout, deadline, limit, timer).collect()).await {
            Ok(bytes) => bytes,
            Err(ClientError::TooLarge { .. }) => bytes::Bytes::new(),
            Err(error) => return Err((error, should_retry)),
        };
        Err((status_error(status.as_u16(), &bytes, retry_after), should_retry))
    }
}

/// A stream request's response, once its status said yes.
#[allow(
    clippy::large_enum_variant,
    reason = "made once per request and unpacked at once; boxing the body would cost an allocation per request"
)]
pub(crate) enum Opened {
    /// An event stream (the usual answer).
    Events { body: Body, max_event_bytes: usize },
    /// A whole JSON answer to a stream request.
    Whole { response: Box<ChatResponse>, max_event_bytes: usize },
}

pub(crate) fn status_error(status: u16, bytes: &[u8], retry_after: Option<Duration>) -> ClientError {
    let parsed = ErrorBody::parse(bytes);
    ClientError::Status {
        status,
        message: parsed.message,
        kind: parsed.kind.map(Into::into),
        code: parsed.code.map(Into::into),
        param: parsed.param.map(Into::into),
        body_snippet: snippet(bytes).into(),
        retry_after,
    }
}

pub(crate) fn decode_response(bytes: &[u8]) -> Result<ChatResponse, ClientError> {
    // Fast path: a normal answer decodes straight into the typed response. Going through a `Value` first cost
    // a third of the client's instructions per plain turn (callgrind, examples/loadbench.rs). Anything else
    // (no choices, an error body, a duplicate key) takes the slow path below, which decides as before.
    if let Ok(response) = ChatResponse::from_slice(bytes)
        && !response.choices.is_empty()
    {
        return Ok(response);
    }
    // serde_json skips leading whitespace, so DeepSeek's keep-alive blank lines before the body are fine (Q39).
    let value: serde_json::Value = serde_json::from_slice(bytes).map_err(|e| ClientError::Decode {
        message: format!("the response body is not JSON: {e}"),
        snippet: snippet(bytes),
    })?;
    let has_choices = value.get("choices").is_some_and(|c| c.is_array());
    if !has_choices && value.get("error").is_some_and(|e| !e.is_null()) {
        return Err(status_error(200, bytes, None));
    }
    serde_json::from_value(value).map_err(|e| ClientError::Decode {
        message: format!("the response body is not a chat completion: {e}"),
        snippet: snippet(bytes),
    })
}

/// A transport failure, described with its whole source chain.
pub(crate) fn transport_error(error: &reqwest::Error) -> ClientError {
    let mut message = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        message.push_str(": ");
        message.push_str(&cause.to_string());
        source = cause.source();
    }
    if let Some(url) = error.url() {
        // reqwest names the URL in its message: never with its user-info or query (issue 9.6).
        message = message.replace(url.as_str(), &secret::redact_url(url.as_str()));
    }
    if error.is_timeout() {
        let phase = if error.is_connect() { TimeoutPhase::Connect } else { TimeoutPhase::Total };
        return ClientError::Timeout { phase };
    }
    ClientError::Connect { message }
}

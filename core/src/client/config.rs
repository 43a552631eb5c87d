//! Building a [`Client`].

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::AtomicUsize;
use std::time::Duration;

use reqwest::header::{AUTHORIZATION, CONTENT_TYPE, HeaderMap, HeaderName, HeaderValue};

use super::profile::Profile;
use super::retry::RetryPolicy;
use super::secret::{REDACTED, ShownHeader, is_sensitive_header, redact_url};
use super::{Client, ClientError, Inner};

/// The default connect timeout.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// The default longest silence between two body bytes (keep-alive comments count as bytes, L19).
pub const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(120);
/// The default deadline for one attempt, body or stream included (openai-python's is 600 s, L19).
pub const DEFAULT_TOTAL_TIMEOUT: Duration = Duration::from_secs(600);
/// The default limit on a response body (and on one stream), in bytes.
pub const DEFAULT_MAX_RESPONSE_BYTES: u64 = 32 * 1024 * 1024;
/// The default limit on one server-sent event, in bytes: far above any real chunk (a whole tool call's
/// arguments from a provider that sends them in one event included), far below the response limit, so one
/// hostile event cannot make the decoder buffer the whole response.
pub const DEFAULT_MAX_EVENT_BYTES: usize = 4 * 1024 * 1024;

/// Configures a [`Client`].
///
/// ```
/// use std::time::Duration;
/// use toolsmith_core::client::{Client, Profile};
///
/// let client = Client::builder()
///     .base_url("http://127.0.0.1:11434/v1")
///     .api_key("")
///     .idle_timeout(Duration::from_secs(30))
///     .max_retries(4)
///     .header("x-title", "my app")
///     .profile(Profile::ollama())
///     .build()
///     .unwrap();
/// assert_eq!(client.profile().name, "ollama");
/// ```
///
/// `Debug` never shows the API key, a credential in the base URL or the value of a credential header.
#[derive(Clone)]
#[must_use]
pub struct ClientBuilder {
    base_url: Option<String>,
    api_key: String,
    connect_timeout: Option<Duration>,
    idle_timeout: Option<Duration>,
    total_timeout: Option<Duration>,
    retry: RetryPolicy,
    headers: Vec<(String, String)>,
    http: Option<reqwest::Client>,
    max_response_bytes: u64,
    max_event_bytes: usize,
    profile: Option<Profile>,
}

impl fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let headers: Vec<ShownHeader<'_>> = self.headers.iter().map(|(n, v)| ShownHeader(n, v)).collect();
        f.debug_struct("ClientBuilder")
            .field("base_url", &self.base_url.as_deref().map(redact_url))
            .field("api_key", &if self.api_key.is_empty() { "<none>" } else { REDACTED })
            .field("connect_timeout", &self.connect_timeout)
            .field("idle_timeout", &self.idle_timeout)
            .field("total_timeout", &self.total_timeout)
            .field("retry", &self.retry)
            .field("headers", &headers)
            .field("http_client", &self.http.is_some())
            .field("max_response_bytes", &self.max_response_bytes)
            .field("max_event_bytes", &self.max_event_bytes)
            .field("profile", &self.profile.as_ref().map(|p| &p.name))
            .finish()
    }
}

impl Default for ClientBuilder {
    fn default() -> Self {
        ClientBuilder {
            base_url: None,
            api_key: String::new(),
            connect_timeout: Some(DEFAULT_CONNECT_TIMEOUT),
            idle_timeout: Some(DEFAULT_IDLE_TIMEOUT),
            total_timeout: Some(DEFAULT_TOTAL_TIMEOUT),
            retry: RetryPolicy::default(),
            headers: Vec::new(),
            http: None,
            max_response_bytes: DEFAULT_MAX_RESPONSE_BYTES,
            max_event_bytes: DEFAULT_MAX_EVENT_BYTES,
            profile: None,
        }
    }
}

impl ClientBuilder {
    /// The API base, e.g. `https://api.mintcloud.ai/v1`; requests go to `{base_url}/chat/completions`.
    pub fn base_url(mut self, base_url: impl Into<String>) -> Self {
        self.base_url = Some(base_url.into());
        self
    }

    /// The bearer token; empty means no `Authorization` header (local servers).
    pub fn api_key(mut self, api_key: impl Into<String>) -> Self {
        self.api_key = api_key.into();
        self
    }

    /// The connect timeout (`None`: no limit). Ignored with [`ClientBuilder::http_client`], whose own settings
    /// apply.
    pub fn connect_timeout(mut self, timeout: impl Into<Option<Duration>>) -> Self {
        self.connect_timeout = timeout.into();
        self
    }

    /// The longest silence allowed between two body bytes (`None`: no limit), counted from when the reader
    /// next waits for bytes.
    pub fn idle_timeout(mut self, timeout: impl Into<Option<Duration>>) -> Self {
        self.idle_timeout = timeout.into();
        self
    }

    /// The deadline of one attempt, from sending to the last byte of the body or stream (`None`: no limit). A
    /// deadline too far away to represent (`Duration::MAX`) means no limit too.
    pub fn total_timeout(mut self, timeout: impl Into<Option<Duration>>) -> Self {
        self.total_timeout = timeout.into();
        self
    }

    /// Retries after the first attempt (default 2).
    pub fn max_retries(mut self, retries: u32) -> Self {
        self.retry.max_retries = retries;
        self
    }

    /// The whole retry policy.
    pub fn retry_policy(mut self, policy: RetryPolicy) -> Self {
        self.retry = policy;
        self
    }

    /// A header sent with every request (`HTTP-Referer`, `X-Title`, an organisation id, `api-key`...). Headers
    /// that carry credentials (`authorization`, `api-key`, `x-api-key`, `cookie`, `*-key`, `*-token`...) are
    /// marked sensitive and never printed.
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Your own `reqwest::Client` (proxies, TLS roots, pools); start from [`super::http_client_builder`] to keep
    /// toolsmith's TLS set-up. Its timeouts apply in addition to the idle and total deadlines.
    pub fn http_client(mut self, client: reqwest::Client) -> Self {
        self.http = Some(client);
        self
    }

    /// The largest response body (or stream) accepted, in bytes.
    pub fn max_response_bytes(mut self, limit: u64) -> Self {
        self.max_response_bytes = limit;
        self
    }

    /// The largest single server-sent event accepted, in bytes (default [`DEFAULT_MAX_EVENT_BYTES`]). A longer
    /// event fails the stream with [`ClientError::TooLarge`]; the whole stream stays under
    /// [`ClientBuilder::max_response_bytes`] as well.
    pub fn max_event_bytes(mut self, limit: usize) -> Self {
        self.max_event_bytes = limit;
        self
    }

    /// The provider profile; by default chosen from the base URL ([`Profile::for_base_url`]).
    pub fn profile(mut self, profile: Profile) -> Self {
        self.profile = Some(profile);
        self
    }

    /// Builds the client; fails on a missing or invalid base URL, or an invalid header.
    pub fn build(self) -> Result<Client, ClientError> {
        let base_url = self.base_url.ok_or_else(|| ClientError::config("no base URL set (ClientBuilder::base_url)"))?;
        let endpoint = endpoint(&base_url)?;
        let mut headers = HeaderMap::new();
        for (name, value) in &self.headers {
            let name = HeaderName::from_bytes(name.as_bytes())
                .map_err(|e| ClientError::config(format!("invalid header name {name:?}: {e}")))?;
            let mut value = HeaderValue::from_str(value)
                .map_err(|e| ClientError::config(format!("invalid value for header {name}: {e}")))?;
            value.set_sensitive(is_sensitive_header(name.as_str()));
            headers.append(name, value);
        }
        // Every request sends the same headers: the caller's, then the content type and the credential. They
        // are put together once, so a request clones one ready map (its values shared, not copied).
        headers.append(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        let has_api_key = !self.api_key.is_empty();
        if has_api_key {
            let mut value = HeaderValue::from_str(&format!("Bearer {}", self.api_key))
                .map_err(|_| ClientError::config("the API key contains characters not allowed in a header"))?;
            value.set_sensitive(true);
            headers.append(AUTHORIZATION, value);
        }
        let http = match self.http {
            Some(http) => http,
            None => {
                let mut builder = super::http_client_builder();
                if let Some(timeout) = self.connect_timeout {
                    builder = builder.connect_timeout(timeout);
                }
                builder.build().map_err(|e| ClientError::config(format!("could not build the HTTP client: {e}")))?
            }
        };
        let profile = self.profile.unwrap_or_else(|| Profile::for_base_url(&base_url));
        Ok(Client {
            inner: Arc::new(Inner {
                http,
                base_url,
                endpoint,
                has_api_key,
                headers,
                retry: self.retry,
                idle_timeout: self.idle_timeout,
                total_timeout: self.total_timeout,
                max_response_bytes: self.max_response_bytes,
                max_event_bytes: self.max_event_bytes,
                last_body_len: AtomicUsize::new(0),
            }),
            profile: Arc::new(profile),
        })
    }
}

fn endpoint(base_url: &str) -> Result<reqwest::Url, ClientError> {
    let shown = redact_url(base_url);
    // The base itself must be a URL with a host: `http://` joined with the path would read `chat` as the host.
    let base = reqwest::Url::parse(base_url.trim())
        .map_err(|e| ClientError::config(format!("invalid base URL {shown:?}: {e}")))?;
    if !matches!(base.scheme(), "http" | "https") {
        return Err(ClientError::config(format!("the base URL {shown:?} is not http or https")));
    }
    if base.host_str().is_none_or(str::is_empty) {
        return Err(ClientError::config(format!("the base URL {shown:?} has no host")));
    }
    let url = format!("{}/chat/completions", base_url.trim().trim_end_matches('/'));
    reqwest::Url::parse(&url).map_err(|e| ClientError::config(format!("invalid base URL {shown:?}: {e}")))
}

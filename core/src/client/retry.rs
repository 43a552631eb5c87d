//! When and how long to wait before trying a request again (L18, Q37).

use std::time::{Duration, SystemTime};

use rand::Rng;
use reqwest::header::HeaderMap;

use super::error::ClientError;

/// The transport retry policy. Retries happen only before anything was handed to the caller: for a stream,
/// only until the response status is known (L18).
///
/// Defaults follow openai-python: 2 retries, backoff `0.5 s · 2ⁿ` capped at 8 s with a jitter factor in
/// (0.75, 1], server-directed delays (`retry-after-ms`, `retry-after` in seconds or as an HTTP date) up to
/// 120 s; a server asking for more than that is not retried at all.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Retries after the first attempt.
    pub max_retries: u32,
    /// The first backoff delay.
    pub initial_backoff: Duration,
    /// The largest backoff delay.
    pub max_backoff: Duration,
    /// The longest server-directed delay honoured; a longer one means "do not retry".
    pub max_retry_after: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_retries: 2,
            initial_backoff: Duration::from_millis(500),
            max_backoff: Duration::from_secs(8),
            max_retry_after: Duration::from_secs(120),
        }
    }
}

impl RetryPolicy {
    /// No retries at all.
    pub fn none() -> Self {
        RetryPolicy { max_retries: 0, ..RetryPolicy::default() }
    }

    /// The jittered exponential backoff before retry number `attempt` (0-based).
    pub fn backoff(&self, attempt: u32) -> Duration {
        let base = self.initial_backoff.saturating_mul(2u32.saturating_pow(attempt.min(20))).min(self.max_backoff);
        let jitter = rand::rng().random_range(0.75..=1.0);
        base.mul_f64(jitter)
    }

    /// How long to wait before retrying after `error` on attempt `attempt` (0-based), or `None` to give up.
    /// `should_retry` is the `x-should-retry` header, which overrides the status rules.
    pub(crate) fn delay(&self, attempt: u32, error: &ClientError, should_retry: Option<bool>) -> Option<Duration> {
        if attempt >= self.max_retries {
            return None;
        }
        let retry = match error {
            ClientError::Status { .. } => should_retry.unwrap_or_else(|| error.is_retryable()),
            ClientError::Connect { .. } | ClientError::Timeout { .. } => true,
            _ => false,
        };
        if !retry {
            return None;
        }
        match error {
            ClientError::Status { retry_after: Some(wait), .. } if !wait.is_zero() => {
                (*wait <= self.max_retry_after).then_some(*wait)
            }
            _ => Some(self.backoff(attempt)),
        }
    }
}

/// `retry-after-ms` (milliseconds, float), then `retry-after` as seconds (float) or as an HTTP date.
pub(crate) fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).map(str::trim);
    if let Some(ms) = header("retry-after-ms").and_then(|v| v.parse::<f64>().ok()) {
        return positive(ms / 1000.0);
    }
    let value = header("retry-after")?;
    if let Ok(seconds) = value.parse::<f64>() {
        return positive(seconds);
    }
    let when = httpdate::parse_http_date(value).ok()?;
    Some(when.duration_since(SystemTime::now()).unwrap_or(Duration::ZERO))
}

fn positive(seconds: f64) -> Option<Duration> {
    (seconds.is_finite() && seconds >= 0.0).then(|| Duration::from_secs_f64(seconds.min(1e9)))
}

/// The non-standard `x-should-retry: true|false` header.
pub(crate) fn should_retry(headers: &HeaderMap) -> Option<bool> {
    match headers.get("x-should-retry")?.to_str().ok()?.trim() {
        "true" => Some(true),
        "false" => Some(false),
        _ => None,
    }
}

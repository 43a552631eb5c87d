//! Reading a response body under the idle and total deadlines and the size limit.

use std::pin::Pin;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use bytes::Bytes;
use futures::{Stream, StreamExt};
use tokio::time::{Instant, Sleep};

use super::error::{ClientError, TimeoutPhase};

type Inner = Pin<Box<dyn Stream<Item = reqwest::Result<Bytes>> + Send>>;

/// The body's bytes as they arrive, failing with `Timeout { Idle | Total }` or `TooLarge`.
///
/// The timers are lazy: a chunk only notes the time it arrived, and the idle timer is pushed out when it
/// fires early, so a long stream costs no timer work per chunk (each reset takes the runtime's timer lock).
pub(crate) struct Body {
    inner: Inner,
    idle: Option<Duration>,
    deadline: Option<Instant>,
    /// The timers, made on the first read that has to wait: a body that is already there (a JSON answer, the
    /// usual case on a fast network) never registers one.
    idle_sleep: Option<Pin<Box<Sleep>>>,
    deadline_sleep: Option<Pin<Box<Sleep>>>,
    /// The waker the timers were last polled with. While it is still the reader's and no timer is due, the
    /// timers hold that waker already: polling them again (each poll takes the timer driver's lock) is
    /// skipped, which is most waits of a stream.
    timers_waker: Option<Waker>,
    last_activity: Instant,
    received: u64,
    limit: u64,
    done: bool,
}

impl Body {
    pub(crate) fn new(
        response: reqwest::Response,
        idle: Option<Duration>,
        deadline: Option<Instant>,
        limit: u64,
    ) -> Self {
        Body {
            inner: Box::pin(response.bytes_stream()),
            idle,
            deadline,
            idle_sleep: None,
            deadline_sleep: None,
            timers_waker: None,
            last_activity: Instant::now(),
            received: 0,
            limit,
            done: false,
        }
    }

    /// The whole body, for non-stream responses and error bodies.
    pub(crate) async fn collect(mut self) -> Result<Vec<u8>, ClientError> {
        let mut out = Vec::new();
        while let Some(chunk) = self.next().await {
            out.extend_from_slice(&chunk?);
        }
        Ok(out)
    }

    /// Whether every timer this body has is waiting, not yet due, with `waker` (so it will wake the reader).
    fn timers_registered(&self, waker: &Waker) -> bool {
        let Some(registered) = &self.timers_waker else { return false };
        if !registered.will_wake(waker) {
            return false;
        }
        let now = Instant::now();
        let waiting = |sleep: &Option<Pin<Box<Sleep>>>, wanted: bool| match sleep {
            Some(sleep) => sleep.deadline() > now,
            None => !wanted,
        };
        waiting(&self.deadline_sleep, self.deadline.is_some()) && waiting(&self.idle_sleep, self.idle.is_some())
    }

    fn fail(&mut self, error: ClientError) -> Poll<Option<Result<Bytes, ClientError>>> {
        self.done = true;
        Poll::Ready(Some(Err(error)))
    }
}

impl Stream for Body {
    type Item = Result<Bytes, ClientError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if self.done {
            return Poll::Ready(None);
        }
        match self.inner.as_mut().poll_next(cx) {
            Poll::Ready(Some(Ok(chunk))) => {
                self.received = self.received.saturating_add(chunk.len() as u64);
                if self.received > self.limit {
                    let limit = self.limit;
                    return self.fail(ClientError::TooLarge { limit });
                }
                let now = Instant::now();
                // A body that never makes the reader wait must still meet the total deadline.
                if self.deadline.is_some_and(|at| now >= at) {
                    return self.fail(ClientError::Timeout { phase: TimeoutPhase::Total });
                }
                self.last_activity = now;
                Poll::Ready(Some(Ok(chunk)))
            }
            Poll::Ready(Some(Err(error))) => {
                let error = super::transport_error(&error);
                self.fail(error)
            }
            Poll::Ready(None) => {
                self.done = true;
                Poll::Ready(None)
            }
            Poll::Pending => {
                let this = &mut *self;
                if this.timers_registered(cx.waker()) {
                    return Poll::Pending;
                }
                if let Some(at) = this.deadline {
                    let sleep = this.deadline_sleep.get_or_insert_with(|| Box::pin(tokio::time::sleep_until(at)));
                    if sleep.as_mut().poll(cx).is_ready() {
                        return self.fail(ClientError::Timeout { phase: TimeoutPhase::Total });
                    }
                }
                // An idle timeout too large to represent means none.
                if let Some(quiet_until) = this.idle.and_then(|idle| this.last_activity.checked_add(idle)) {
                    let sleep = this.idle_sleep.get_or_insert_with(|| Box::pin(tokio::time::sleep_until(quiet_until)));
                    while sleep.as_mut().poll(cx).is_ready() {
                        if Instant::now() >= quiet_until {
                            return self.fail(ClientError::Timeout { phase: TimeoutPhase::Idle });
                        }
                        // Bytes came since the timer was set: wait from the last of them.
                        sleep.as_mut().reset(quiet_until);
                    }
                }
                this.timers_waker = Some(cx.waker().clone());
                Poll::Pending
            }
        }
    }
}

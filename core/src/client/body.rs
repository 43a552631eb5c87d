//! Reading a response body under the idle and total deadlines and the size limit.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use bytes::Bytes;
use futures::{Stream, StreamExt};
use tokio::time::{Instant, Sleep};

use super::error::{ClientError, TimeoutPhase};

/// How many reads in a row, or bytes, may find the body ready before the clock is read for the total
/// deadline (a read that waits always reads it): a body that never makes its reader wait overruns the
/// deadline by at most the time its reader takes over that much.
const READY_READS_PER_CLOCK: u32 = 16;
const READY_BYTES_PER_CLOCK: u64 = 64 * 1024;

/// The body's bytes as they arrive, failing with `Timeout { Idle | Total }` or `TooLarge`.
///
/// One lazy timer serves both limits: it sleeps until the earlier of the total deadline and the idle limit
/// counted from the last bytes; when the timer fires early (bytes came since) it is moved on. A chunk reads
/// no clock: the idle limit is counted from the first wait after bytes came, and a body whose reads never
/// wait is checked against the total deadline every few reads or 64 KiB. A long stream costs no timer work per chunk,
/// and a request costs one timer registration however its body is read (each registration takes the
/// runtime's timer lock).
pub(crate) struct Body {
    /// Read with `Response::chunk`, the shortest path to hyper's body (a stream or `http_body::Body` view
    /// of it adds two boxed layers per read).
    inner: reqwest::Response,
    idle: Option<Duration>,
    deadline: Option<Instant>,
    /// Made on the first read that has to wait (a body that is already there, the usual JSON answer, never
    /// registers one), or handed over by the request that waited for the headers under the same deadline.
    timer: Option<Pin<Box<Sleep>>>,
    /// The waker the timer was last polled with. While it is still the reader's and the timer is not due,
    /// the timer holds that waker already and is not polled again, which is most waits of a stream.
    timer_waker: Option<Waker>,
    last_activity: Instant,
    /// Reads that found bytes since the clock was last read, and their bytes.
    ready_reads: u32,
    ready_bytes: u64,
    received: u64,
    limit: u64,
    done: bool,
}

impl Body {
    /// `timer`: a timer already set for `deadline` (the request's), reused instead of making another.
    pub(crate) fn new(
        response: reqwest::Response,
        idle: Option<Duration>,
        deadline: Option<Instant>,
        limit: u64,
        timer: Option<Pin<Box<Sleep>>>,
    ) -> Self {
        Body {
            inner: response,
            idle,
            deadline,
            timer,
            timer_waker: None,
            last_activity: Instant::now(),
            ready_reads: 0,
            ready_bytes: 0,
            received: 0,
            limit,
            done: false,
        }
    }

    /// The whole body, for non-stream responses and error bodies. The usual answer arrives as one chunk,
    /// which is handed on as it is; only a body in several chunks is copied into one.
    pub(crate) async fn collect(mut self) -> Result<Bytes, ClientError> {
        let Some(first) = self.next().await.transpose()? else { return Ok(Bytes::new()) };
        let Some(second) = self.next().await.transpose()? else { return Ok(first) };
        let mut out = Vec::with_capacity(first.len() + second.len());
        out.extend_from_slice(&first);
        out.extend_from_slice(&second);
        while let Some(chunk) = self.next().await {
            out.extend_from_slice(&chunk?);
        }
        Ok(Bytes::from(out))
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
        // `chunk` only waits for the body's next frame, so a read that is pending loses nothing when its
        // future is dropped: the body keeps its state and the waker stays registered.
        let read = {
            let chunk = self.inner.chunk();
            std::pin::pin!(chunk).poll(cx)
        };
        match read {
            Poll::Ready(Ok(Some(chunk))) => {
                self.received = self.received.saturating_add(chunk.len() as u64);
                if self.received > self.limit {
                    let limit = self.limit;
                    return self.fail(ClientError::TooLarge { limit });
                }
                self.ready_reads += 1;
                self.ready_bytes += chunk.len() as u64;
                // A body that never makes the reader wait must still meet the total deadline.
                if self.ready_reads >= READY_READS_PER_CLOCK || self.ready_bytes >= READY_BYTES_PER_CLOCK {
                    (self.ready_reads, self.ready_bytes) = (0, 0);
                    let now = Instant::now();
                    if self.deadline.is_some_and(|at| now >= at) {
                        return self.fail(ClientError::Timeout { phase: TimeoutPhase::Total });
                    }
                    self.last_activity = now;
                }
                Poll::Ready(Some(Ok(chunk)))
            }
            Poll::Ready(Err(error)) => {
                let error = super::transport_error(&error);
                self.fail(error)
            }
            Poll::Ready(Ok(None)) => {
                self.done = true;
                Poll::Ready(None)
            }
            Poll::Pending => match self.wait(cx) {
                Some(phase) => self.fail(ClientError::Timeout { phase }),
                None => Poll::Pending,
            },
        }
    }
}

impl Body {
    /// The read has to wait: arms the timer for the earlier limit, or reports the limit that has passed.
    fn wait(&mut self, cx: &mut Context<'_>) -> Option<TimeoutPhase> {
        let now = Instant::now();
        if self.ready_reads > 0 {
            // Bytes came since the last wait: the quiet time starts now.
            (self.ready_reads, self.ready_bytes) = (0, 0);
            self.last_activity = now;
        }
        // An idle timeout too large to represent means none.
        let quiet_until = self.idle.and_then(|idle| self.last_activity.checked_add(idle));
        let due = match (self.deadline, quiet_until) {
            (Some(deadline), Some(quiet)) => deadline.min(quiet),
            (deadline, quiet) => deadline.or(quiet)?,
        };
        let timer = self.timer.get_or_insert_with(|| Box::pin(tokio::time::sleep_until(due)));
        // Due only moves later (bytes push the idle limit out): a timer set later than `due` is a handed-over
        // one, at the total deadline.
        if timer.deadline() > due {
            timer.as_mut().reset(due);
            self.timer_waker = None;
        }
        if timer.deadline() > now && self.timer_waker.as_ref().is_some_and(|w| w.will_wake(cx.waker())) {
            return None;
        }
        while timer.as_mut().poll(cx).is_ready() {
            let now = Instant::now();
            if self.deadline.is_some_and(|at| now >= at) {
                return Some(TimeoutPhase::Total);
            }
            if quiet_until.is_some_and(|at| now >= at) {
                return Some(TimeoutPhase::Idle);
            }
            // It fired for an idle limit that bytes have pushed out since: wait from the last of them.
            timer.as_mut().reset(due);
        }
        self.timer_waker = Some(cx.waker().clone());
        None
    }
}

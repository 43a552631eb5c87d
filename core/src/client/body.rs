//! Reading a response body under the idle and total deadlines and the size limit.

use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use futures::{Stream, StreamExt};
use tokio::time::{Instant, Sleep};

use super::error::{ClientError, TimeoutPhase};

type Inner = Pin<Box<dyn Stream<Item = reqwest::Result<Bytes>> + Send>>;

/// The body's bytes as they arrive, failing with `Timeout { Idle | Total }` or `TooLarge`.
pub(crate) struct Body {
    inner: Inner,
    idle: Option<(Duration, Pin<Box<Sleep>>)>,
    deadline: Option<Pin<Box<Sleep>>>,
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
            idle: idle.map(|idle| (idle, Box::pin(tokio::time::sleep(idle)))),
            deadline: deadline.map(|at| Box::pin(tokio::time::sleep_until(at))),
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
        if let Some(deadline) = self.deadline.as_mut()
            && deadline.as_mut().poll(cx).is_ready()
        {
            return self.fail(ClientError::Timeout { phase: TimeoutPhase::Total });
        }
        match self.inner.as_mut().poll_next(cx) {
            Poll::Ready(Some(Ok(chunk))) => {
                self.received = self.received.saturating_add(chunk.len() as u64);
                if self.received > self.limit {
                    let limit = self.limit;
                    return self.fail(ClientError::TooLarge { limit });
                }
                if let Some((idle, sleep)) = self.idle.as_mut() {
                    sleep.as_mut().reset(Instant::now() + *idle);
                }
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
                if let Some((_, sleep)) = self.idle.as_mut()
                    && sleep.as_mut().poll(cx).is_ready()
                {
                    return self.fail(ClientError::Timeout { phase: TimeoutPhase::Idle });
                }
                Poll::Pending
            }
        }
    }
}

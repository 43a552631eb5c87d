use std::pin::Pin;
use std::task::{Context, Poll};

use futures::Stream;
use futures::future::BoxFuture;

use super::error::Error;
use super::events::{AgentEvent, EventQueue};
use super::result::RunResult;

/// The events of a streamed run ([`Agent::stream`](super::Agent::stream)).
///
/// The run makes progress only while the stream is polled, and only when every event it reported so far
/// has been taken: a slow reader slows the run instead of piling up events. Dropping the stream drops the
/// run: the model request is abandoned and running tool calls are aborted.
pub struct RunStream {
    run: Option<BoxFuture<'static, Result<RunResult, Error>>>,
    events: EventQueue,
    finished: Option<Result<RunResult, Error>>,
}

impl RunStream {
    pub(crate) fn new(run: BoxFuture<'static, Result<RunResult, Error>>, events: EventQueue) -> Self {
        RunStream { run: Some(run), events, finished: None }
    }

    /// The run's end, when the run finished but its last item was not handed out yet.
    pub(crate) fn take_finished(&mut self) -> Option<Result<RunResult, Error>> {
        self.finished.take()
    }

    /// Drops the run now (cancelling it if it is still going).
    pub(crate) fn cancel(&mut self) {
        self.run = None;
    }
}

impl Stream for RunStream {
    type Item = Result<AgentEvent, Error>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        if let Some(event) = this.events.pop() {
            return Poll::Ready(Some(Ok(event)));
        }
        if let Some(run) = this.run.as_mut() {
            match run.as_mut().poll(cx) {
                Poll::Ready(result) => {
                    this.run = None;
                    this.finished = Some(result);
                }
                // The run's own wake-ups bring us back; events it queued meanwhile are handed out first.
                Poll::Pending => return this.events.pop().map_or(Poll::Pending, |event| Poll::Ready(Some(Ok(event)))),
            }
        }
        // Events queued by the last poll of the run come before its end.
        if let Some(event) = this.events.pop() {
            return Poll::Ready(Some(Ok(event)));
        }
        Poll::Ready(this.finished.take().map(|result| result.map(|run| AgentEvent::Done(Box::new(run)))))
    }
}

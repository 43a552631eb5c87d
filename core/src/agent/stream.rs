use std::pin::Pin;
use std::task::{Context, Poll};

use futures::channel::mpsc::UnboundedReceiver;
use futures::future::BoxFuture;
use futures::{Stream, StreamExt};

use super::error::Error;
use super::events::AgentEvent;
use super::result::RunResult;

/// The events of a streamed run ([`Agent::stream`](super::Agent::stream)).
///
/// The run makes progress only while the stream is polled, and only when every event it reported so far
/// has been taken: a slow reader slows the run instead of piling up events. Dropping the stream drops the
/// run: the model request is abandoned and running tool calls are aborted.
pub struct RunStream {
    run: Option<BoxFuture<'static, Result<RunResult, Error>>>,
    events: UnboundedReceiver<AgentEvent>,
    finished: Option<Result<RunResult, Error>>,
}

impl RunStream {
    pub(crate) fn new(
        run: BoxFuture<'static, Result<RunResult, Error>>,
        events: UnboundedReceiver<AgentEvent>,
    ) -> Self {
        RunStream { run: Some(run), events, finished: None }
    }
}

impl Stream for RunStream {
    type Item = Result<AgentEvent, Error>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        loop {
            if let Poll::Ready(Some(event)) = this.events.poll_next_unpin(cx) {
                return Poll::Ready(Some(Ok(event)));
            }
            if let Some(run) = this.run.as_mut() {
                match run.as_mut().poll(cx) {
                    Poll::Ready(result) => {
                        this.run = None;
                        this.finished = Some(result);
                        // Events sent during that last poll come before the end.
                        continue;
                    }
                    Poll::Pending => {
                        if let Poll::Ready(Some(event)) = this.events.poll_next_unpin(cx) {
                            return Poll::Ready(Some(Ok(event)));
                        }
                        return Poll::Pending;
                    }
                }
            }
            return Poll::Ready(this.finished.take().map(|result| result.map(|run| AgentEvent::Done(Box::new(run)))));
        }
    }
}

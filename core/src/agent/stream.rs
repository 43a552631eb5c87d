use std::collections::VecDeque;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll, Wake, Waker};

use futures::Stream;
use futures::future::BoxFuture;
use futures::task::AtomicWaker;

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
    /// Events taken from the queue (all at once) and not handed out yet.
    taken: VecDeque<AgentEvent>,
    finished: Option<Result<RunResult, Error>>,
    /// What the run is polled with: it notes that the run was woken and wakes the reader.
    run_waker: Waker,
    wake: Arc<RunWake>,
}

/// Whether the run was woken since it was last polled, and who reads its events.
///
/// The reader polls the stream again after every event it takes; without this note each of those polls
/// would poll the run too (its whole chain of futures, down to the socket) only to hear it is still waiting.
struct RunWake {
    woken: AtomicBool,
    reader: AtomicWaker,
}

impl Wake for RunWake {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.woken.store(true, Ordering::Release);
        self.reader.wake();
    }
}

impl RunStream {
    pub(crate) fn new(run: BoxFuture<'static, Result<RunResult, Error>>, events: EventQueue) -> Self {
        // Woken at the start: the run has not been polled yet.
        let wake = Arc::new(RunWake { woken: AtomicBool::new(true), reader: AtomicWaker::new() });
        RunStream {
            run: Some(run),
            events,
            taken: VecDeque::new(),
            finished: None,
            run_waker: Waker::from(Arc::clone(&wake)),
            wake,
        }
    }

    /// The run's end, when the run finished but its last item was not handed out yet.
    pub(crate) fn take_finished(&mut self) -> Option<Result<RunResult, Error>> {
        self.finished.take()
    }

    /// The next event the run reported, if any.
    fn next_event(&mut self) -> Option<AgentEvent> {
        if self.taken.is_empty() {
            self.events.take_all(&mut self.taken);
        }
        self.taken.pop_front()
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
        if let Some(event) = this.next_event() {
            return Poll::Ready(Some(Ok(event)));
        }
        if let Some(run) = this.run.as_mut() {
            // Registered before the note is read: a wake-up after the read wakes this reader.
            this.wake.reader.register(cx.waker());
            if !this.wake.woken.swap(false, Ordering::AcqRel) {
                return Poll::Pending;
            }
            match run.as_mut().poll(&mut Context::from_waker(&this.run_waker)) {
                Poll::Ready(result) => {
                    this.run = None;
                    this.finished = Some(result);
                }
                // The run's own wake-ups bring us back; events it queued meanwhile are handed out first.
                Poll::Pending => return this.next_event().map_or(Poll::Pending, |event| Poll::Ready(Some(Ok(event)))),
            }
        }
        // Events queued by the last poll of the run come before its end.
        if let Some(event) = this.next_event() {
            return Poll::Ready(Some(Ok(event)));
        }
        Poll::Ready(this.finished.take().map(|result| result.map(|run| AgentEvent::Done(Box::new(run)))))
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::AtomicUsize;
    use std::sync::{Arc, Mutex};
    use std::task::{Context, Poll, Waker};

    use futures::{Stream, StreamExt};

    use super::*;

    /// A run that queues three events, waits until woken, then ends; it counts its polls.
    fn run(events: &EventQueue, polls: &Arc<AtomicUsize>, waker: &Arc<Mutex<Option<Waker>>>) -> RunStream {
        let (queue, polls, waker) = (events.clone(), Arc::clone(polls), Arc::clone(waker));
        let run = futures::future::poll_fn(move |cx| {
            if polls.fetch_add(1, Ordering::SeqCst) == 0 {
                for text in ["a", "b", "c"] {
                    queue.push(AgentEvent::TextDelta(text.to_owned()));
                }
                *waker.lock().unwrap() = Some(cx.waker().clone());
                return Poll::Pending;
            }
            Poll::Ready(Ok(RunResult { output: "done".to_owned(), transcript: Default::default() }))
        });
        RunStream::new(Box::pin(run), events.clone())
    }

    #[test]
    fn the_run_is_polled_only_when_it_was_woken() {
        let (events, polls, waker) = (EventQueue::default(), Arc::new(AtomicUsize::new(0)), Arc::default());
        let mut stream = run(&events, &polls, &waker);
        let reader = Arc::new(Counted::default());
        let reader_waker = Waker::from(Arc::clone(&reader));
        let mut cx = Context::from_waker(&reader_waker);
        for expected in ["a", "b", "c"] {
            let Poll::Ready(Some(Ok(AgentEvent::TextDelta(text)))) = stream.poll_next_unpin(&mut cx) else { panic!() };
            assert_eq!(text, expected);
        }
        // Every event taken, the run not woken: it is not polled again.
        assert!(stream.poll_next_unpin(&mut cx).is_pending());
        assert!(stream.poll_next_unpin(&mut cx).is_pending());
        assert_eq!(polls.load(Ordering::SeqCst), 1);
        assert_eq!(reader.0.load(Ordering::SeqCst), 0);
        // Its wake-up reaches the reader, and the next poll polls the run.
        waker.lock().unwrap().take().unwrap().wake();
        assert_eq!(reader.0.load(Ordering::SeqCst), 1);
        let Poll::Ready(Some(Ok(AgentEvent::Done(result)))) = stream.poll_next_unpin(&mut cx) else { panic!() };
        assert_eq!(result.output, "done");
        assert_eq!(polls.load(Ordering::SeqCst), 2);
        assert!(matches!(Pin::new(&mut stream).poll_next(&mut cx), Poll::Ready(None)));
    }

    #[derive(Default)]
    struct Counted(AtomicUsize);

    impl Wake for Counted {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }
}

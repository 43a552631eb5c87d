use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use futures::{Stream, StreamExt};

use crate::wire::{Content, Message, TextMessage};

use super::Agent;
use super::driver;
use super::error::Error;
use super::events::{AgentEvent, EventQueue};
use super::result::RunResult;
use super::state::RunState;
use super::stream::RunStream;

/// A conversation over several exchanges. Its history serializes with serde; a session resumed from that
/// JSON ([`Agent::resume`]) continues exactly where it was.
///
/// An exchange ([`send`](Self::send), [`send_streamed`](Self::send_streamed)) that finishes adds its messages
/// to the history, even when the stream's [`Done`](AgentEvent::Done) event was never read. One that fails or
/// is cancelled (dropped) leaves the session exactly as it was before the call; the error carries the failed
/// exchange's transcript, and [`recover`](Self::recover) keeps the work it did.
///
/// ```no_run
/// # async fn demo(agent: toolsmith_core::agent::Agent) -> Result<(), Box<dyn std::error::Error>> {
/// let mut chat = agent.session();
/// chat.send("My name is Ada.").await?;
/// let saved = serde_json::to_string(chat.messages())?;
/// let mut chat = agent.resume(serde_json::from_str(&saved)?);
/// let reply = chat.send("What is my name?").await?;
/// println!("{}", reply.output);
/// # Ok(()) }
/// ```
pub struct Session {
    agent: Agent,
    messages: Vec<Message>,
}

impl Session {
    pub(crate) fn new(agent: Agent, messages: Vec<Message>) -> Self {
        Session { agent, messages }
    }

    /// Sends `input` and runs until the model answers. The result's `messages` holds only what this exchange
    /// added (the input, tool calls and results, the answer); [`messages`](Self::messages) has them all.
    pub async fn send(&mut self, input: impl Into<Content>) -> Result<RunResult, Error> {
        let input = Message::User(TextMessage { content: input.into(), name: None });
        self.exchange(Some(input)).await
    }

    /// Runs the loop on the history as it is, without new input: after [`recover`](Self::recover), the model
    /// is asked again with the results of the calls the failed exchange already made, so no tool runs twice.
    pub async fn continue_run(&mut self) -> Result<RunResult, Error> {
        self.exchange(None).await
    }

    /// Keeps the work of a failed exchange: the history becomes the error's transcript (the exchange's input,
    /// the model's turns and every tool result, each call answered), so a retry with
    /// [`continue_run`](Self::continue_run) does not repeat tool calls and their side effects. Returns
    /// `false`, changing nothing, when `error` did not come from this session's current history.
    pub fn recover(&mut self, error: &Error) -> bool {
        let messages = &error.transcript().messages;
        if messages.len() < self.messages.len() || messages[..self.messages.len()] != self.messages[..] {
            return false;
        }
        self.messages.extend_from_slice(&messages[self.messages.len()..]);
        true
    }

    /// Like [`send`](Self::send), reporting events as they happen; the last event is
    /// [`AgentEvent::Done`]. The session is updated when that event is produced, or when the stream is dropped
    /// after the run finished.
    pub fn send_streamed(&mut self, input: impl Into<Content>) -> SessionStream<'_> {
        let before = self.messages.len();
        let mut messages = std::mem::take(&mut self.messages);
        messages.push(Message::User(TextMessage { content: input.into(), name: None }));
        let slot = Slot::default();
        let mut detached = Detached { state: self.agent.start_from(messages), slot: slot.clone() };
        let events = EventQueue::default();
        let (agent, queue) = (self.agent.clone(), events.clone());
        // `detached` is moved in whole: dropping the future, started or not, drops it and fills the slot.
        let run = async move { driver::drive(&agent, &mut detached.state, Some(&queue)).await };
        SessionStream { events: RunStream::new(Box::pin(run), events), session: self, before, slot, settled: false }
    }

    /// The whole history: instructions and every exchange.
    pub fn messages(&self) -> &[Message] {
        &self.messages
    }

    /// Takes the history out, e.g. to save it.
    pub fn into_messages(self) -> Vec<Message> {
        self.messages
    }

    /// The agent this session talks to.
    pub fn agent(&self) -> &Agent {
        &self.agent
    }

    async fn exchange(&mut self, input: Option<Message>) -> Result<RunResult, Error> {
        let agent = self.agent.clone();
        let before = self.messages.len();
        let mut messages = std::mem::take(&mut self.messages);
        messages.extend(input);
        let mut exchange = Exchange { state: agent.start_from(messages), session: self, before, settled: false };
        let outcome = driver::drive(&agent, &mut exchange.state, None).await;
        exchange.settled = true;
        settle(exchange.session, before, outcome)
    }
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session").field("agent", &self.agent).field("messages", &self.messages.len()).finish()
    }
}

/// Puts a finished exchange's history into the session: all of it after a success, the part from before the
/// exchange after a failure. The result keeps only the exchange's own messages.
fn settle(session: &mut Session, before: usize, outcome: Result<RunResult, Error>) -> Result<RunResult, Error> {
    match outcome {
        Ok(mut result) => {
            // Only this exchange's messages are copied; the history moves back into the session.
            let added = result.messages.get(before..).unwrap_or_default().to_vec();
            session.messages = std::mem::replace(&mut result.transcript.messages, added);
            Ok(result)
        }
        Err(error) => {
            restore(session, before, error.transcript().messages[..].to_vec());
            Err(error)
        }
    }
}

/// Gives the session its history from before the exchange, out of the exchange's `messages`.
fn restore(session: &mut Session, before: usize, mut messages: Vec<Message>) {
    // Never shorter than before the exchange: a history without the prefix is not one to restore.
    if messages.len() >= before {
        messages.truncate(before);
        session.messages = messages;
    }
}

/// A plain exchange in progress; cancelled (dropped before it settled), it gives the history back.
struct Exchange<'a> {
    state: RunState,
    session: &'a mut Session,
    before: usize,
    settled: bool,
}

impl Drop for Exchange<'_> {
    fn drop(&mut self) {
        if !self.settled {
            let messages = std::mem::take(&mut self.state.transcript.messages);
            restore(self.session, self.before, messages);
        }
    }
}

/// Where a streamed exchange's run leaves the history when it is dropped before its end.
type Slot = Arc<Mutex<Option<Vec<Message>>>>;

/// The state of a streamed exchange's run, owned by the run's future.
struct Detached {
    state: RunState,
    slot: Slot,
}

impl Drop for Detached {
    fn drop(&mut self) {
        // An ended run handed its history to its result; only an unfinished one leaves it here.
        if !self.state.is_ended() {
            let messages = std::mem::take(&mut self.state.transcript.messages);
            *self.slot.lock().unwrap_or_else(|poisoned| poisoned.into_inner()) = Some(messages);
        }
    }
}

/// The events of [`Session::send_streamed`]. Dropped before its last event, it settles the exchange: a
/// finished run's history is kept, an unfinished run is cancelled and the session left as it was.
pub struct SessionStream<'a> {
    events: RunStream,
    session: &'a mut Session,
    before: usize,
    slot: Slot,
    settled: bool,
}

impl Stream for SessionStream<'_> {
    type Item = Result<AgentEvent, Error>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        let outcome = match this.events.poll_next_unpin(cx) {
            Poll::Ready(Some(Ok(AgentEvent::Done(result)))) => Ok(*result),
            Poll::Ready(Some(Err(error))) => Err(error),
            other => return other,
        };
        this.settled = true;
        let settled = settle(this.session, this.before, outcome);
        Poll::Ready(Some(settled.map(|result| AgentEvent::Done(Box::new(result)))))
    }
}

impl Drop for SessionStream<'_> {
    fn drop(&mut self) {
        if self.settled {
            return;
        }
        if let Some(outcome) = self.events.take_finished() {
            let _ = settle(self.session, self.before, outcome);
            return;
        }
        // Dropping the run fills the slot with the history it held.
        self.events.cancel();
        let recovered = self.slot.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).take();
        if let Some(messages) = recovered {
            restore(self.session, self.before, messages);
        }
    }
}

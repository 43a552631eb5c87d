use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use futures::{Stream, StreamExt};

use crate::wire::{Content, Message, TextMessage};

use super::Agent;
use super::error::Error;
use super::events::{AgentEvent, EventQueue};
use super::result::RunResult;
use super::stream::RunStream;

/// Where a cancelled run leaves the history it was given, so the session gets it back.
pub(crate) type Recovery = Arc<Mutex<Option<Vec<Message>>>>;

/// A conversation over several exchanges. Its history serializes with serde; a session resumed from that
/// JSON ([`Agent::resume`]) continues exactly where it was.
///
/// A failed or cancelled (dropped) [`send`](Self::send) leaves the session as it was before the call; an
/// error carries the failed exchange's transcript.
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
        let (mut guard, run) = self.begin(input.into(), None);
        // Declared after the guard, so on cancellation the run drops first and hands the history back.
        let run = Box::pin(run.drive());
        let outcome = run.await;
        guard.settle(outcome)
    }

    /// Like [`send`](Self::send), reporting events as they happen; the last event is
    /// [`AgentEvent::Done`]. The session is updated when that event is produced.
    pub fn send_streamed(&mut self, input: impl Into<Content>) -> SessionStream<'_> {
        let events = EventQueue::default();
        let (guard, run) = self.begin(input.into(), Some(events.clone()));
        SessionStream { events: RunStream::new(Box::pin(run.drive()), events), guard }
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

    fn begin(&mut self, input: Content, events: Option<EventQueue>) -> (Guard<'_>, super::run::Run) {
        let before = self.messages.len();
        let mut messages = std::mem::take(&mut self.messages);
        messages.push(Message::User(TextMessage { content: input, name: None }));
        let recovery = Recovery::default();
        let mut run = self.agent.continue_run(messages, events);
        run.recover_into(recovery.clone());
        (Guard { session: self, before, recovery, settled: false }, run)
    }
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session").field("agent", &self.agent).field("messages", &self.messages.len()).finish()
    }
}

/// Puts the history back into the session when an exchange ends, whichever way it ends.
struct Guard<'a> {
    session: &'a mut Session,
    before: usize,
    recovery: Recovery,
    settled: bool,
}

impl Guard<'_> {
    fn settle(&mut self, outcome: Result<RunResult, Error>) -> Result<RunResult, Error> {
        self.settled = true;
        match outcome {
            Ok(mut result) => {
                // Only this exchange's messages are copied; the history moves back into the session.
                let added = result.messages.get(self.before..).unwrap_or_default().to_vec();
                self.session.messages = std::mem::replace(&mut result.messages, added);
                Ok(result)
            }
            Err(error) => {
                self.session.messages = error.transcript().messages.iter().take(self.before).cloned().collect();
                Err(error)
            }
        }
    }
}

impl Drop for Guard<'_> {
    fn drop(&mut self) {
        if self.settled {
            return;
        }
        let recovered = match self.recovery.lock() {
            Ok(mut slot) => slot.take(),
            Err(poisoned) => poisoned.into_inner().take(),
        };
        if let Some(mut messages) = recovered {
            messages.truncate(self.before);
            self.session.messages = messages;
        }
    }
}

/// The events of [`Session::send_streamed`].
pub struct SessionStream<'a> {
    // Field order matters: the run drops before the guard, handing the history back on cancellation.
    events: RunStream,
    guard: Guard<'a>,
}

impl Stream for SessionStream<'_> {
    type Item = Result<AgentEvent, Error>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        match this.events.poll_next_unpin(cx) {
            Poll::Ready(Some(Ok(AgentEvent::Done(result)))) => {
                let settled = this.guard.settle(Ok(*result));
                Poll::Ready(Some(settled.map(|result| AgentEvent::Done(Box::new(result)))))
            }
            Poll::Ready(Some(Err(error))) => {
                let settled = this.guard.settle(Err(error));
                Poll::Ready(Some(settled.map(|result| AgentEvent::Done(Box::new(result)))))
            }
            other => other,
        }
    }
}

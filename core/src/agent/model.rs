//! The model-turn effect: one request, answered by one [`Completion`]. The history is lent to the request for
//! the time of the call, never copied.

use std::future::Future;
use std::pin::{Pin, pin};
use std::task::{Context, Poll};

use tokio::time::{Instant, Sleep};

use crate::client::ClientError;
use crate::stream::{ChatStream, Completion, DeltaPart};
use crate::wire::{ChatRequest, Message};

use super::Agent;
use super::events::{AgentEvent, EventQueue};
use super::machine::ModelRequest;
use super::state::RunState;
use super::telemetry;

impl Agent {
    /// Makes the model request of a [`Step::Model`](super::Step::Model) (not streamed) and returns the turn;
    /// hand it to [`record_completion`](Self::record_completion), or a failure to
    /// [`fail_request`](Self::fail_request). The state is only borrowed: its messages are lent to the request
    /// and are back in place when this returns or is cancelled.
    pub async fn request_model(&self, state: &mut RunState, request: ModelRequest) -> Result<Completion, ClientError> {
        let mut template = self.request_template();
        match complete(self, &mut template, state, request, None, &mut Deadline::new(None)).await {
            Ok(completion) => Ok(*completion),
            Err(TurnFailure::Client { source, .. }) => Err(source),
            // No deadline was given.
            Err(TurnFailure::Deadline { .. }) => {
                Err(ClientError::Timeout { phase: crate::client::TimeoutPhase::Total })
            }
        }
    }

    /// The request of every turn of a run, without its messages.
    pub(crate) fn request_template(&self) -> ChatRequest {
        self.inner.request_template(&self.output)
    }
}

/// A model turn that failed, with what it had streamed before, if anything.
pub(crate) enum TurnFailure {
    /// The client failed.
    Client { source: ClientError, partial: Option<Box<Completion>> },
    /// The run's deadline passed.
    Deadline { partial: Option<Box<Completion>> },
}

impl From<ClientError> for TurnFailure {
    fn from(source: ClientError) -> Self {
        TurnFailure::Client { source, partial: None }
    }
}

/// A run's deadline: one timer for the whole run, raced against each effect.
pub(crate) struct Deadline(Option<Pin<Box<Sleep>>>);

impl Deadline {
    pub(crate) fn new(at: Option<Instant>) -> Self {
        Deadline(at.map(|at| Box::pin(tokio::time::sleep_until(at))))
    }

    /// `future`'s output, or `None` once the deadline has passed.
    ///
    /// The deadline is looked at first on every poll: a future that never waits but yields to the runtime
    /// (it spent its task's budget) is then still stopped, since each poll starts on a fresh budget. The
    /// future comes pinned by the caller: taken by value, it would be stored twice in this function's state
    /// (as the argument and as the pinned local), and every effect's future is large.
    pub(crate) async fn race<F: Future>(&mut self, mut future: Pin<&mut F>) -> Option<F::Output> {
        let Some(sleep) = &mut self.0 else { return Some(future.await) };
        futures::future::poll_fn(|cx| {
            if sleep.as_mut().poll(cx).is_ready() {
                return Poll::Ready(None);
            }
            future.as_mut().poll(cx).map(Some)
        })
        .await
    }
}

/// One model turn through `template` (its `messages` empty before and after): a plain request, or a streamed
/// one whose text is forwarded to `events` as it arrives. Gives up at `deadline`.
pub(crate) async fn complete(
    agent: &Agent,
    template: &mut ChatRequest,
    state: &mut RunState,
    request: ModelRequest,
    events: Option<&EventQueue>,
    deadline: &mut Deadline,
) -> Result<Box<Completion>, TurnFailure> {
    template.tool_choice = request.tool_choice;
    agent.inner.refresh_tools(template, &agent.output);
    let lent = Lent::new(template, &mut state.transcript.messages, request.messages);
    let capture = agent.inner.settings.capture_content;
    let client = &agent.inner.client;
    let span = telemetry::chat(agent.provider_name(), lent.request, client.server(), capture);
    let result = telemetry::in_span!(span, turn(agent, lent.request, events, deadline));
    match &result {
        Ok(completion) => telemetry::record_completion(&span, completion, capture),
        Err(TurnFailure::Client { source, .. }) => {
            telemetry::record_error(&span, &telemetry::client_error_type(source))
        }
        Err(TurnFailure::Deadline { .. }) => telemetry::record_error(&span, "timeout"),
    }
    result
}

/// The request and, when streamed, the forwarding of its deltas.
async fn turn(
    agent: &Agent,
    request: &ChatRequest,
    events: Option<&EventQueue>,
    deadline: &mut Deadline,
) -> Result<Box<Completion>, TurnFailure> {
    let client = &agent.inner.client;
    let Some(events) = events else {
        let completion = deadline.race(pin!(client.complete_boxed(request))).await;
        return Ok(completion.ok_or(TurnFailure::Deadline { partial: None })??);
    };
    let stream = deadline.race(pin!(client.chat_stream(request))).await;
    let mut stream = stream.ok_or(TurnFailure::Deadline { partial: None })??;
    stream.limit_tool_calls(agent.inner.settings.max_tool_calls);
    let mut received = false;
    // Each piece is forwarded as it is accumulated, borrowed from the event: no chunk is built or moved.
    let mut forward = |part: DeltaPart<'_>| match part {
        DeltaPart::Reasoning(text) if !text.is_empty() => events.push(AgentEvent::ReasoningDelta(text.to_owned())),
        DeltaPart::Text(text) if !text.is_empty() => events.push(AgentEvent::TextDelta(text.to_owned())),
        DeltaPart::ToolCall { index, id, name, arguments, .. } => events.push(AgentEvent::ToolCallDelta {
            index,
            id: id.map(str::to_owned),
            name: name.map(str::to_owned),
            arguments: arguments.to_owned(),
        }),
        _ => {}
    };
    // One future reads the whole turn, raced once against the deadline: the deadline is looked at whenever
    // the reading waits (for the socket, or for the budget below), not once per chunk.
    let read = futures::future::poll_fn(|cx| read_turn(cx, &mut stream, &mut forward, &mut received));
    let read = deadline.race(pin!(read)).await;
    // Whatever had arrived goes with a failure (never into the history).
    let partial = |stream: &ChatStream| received.then(|| Box::new(stream.partial()));
    match read {
        None => return Err(TurnFailure::Deadline { partial: partial(&stream) }),
        Some(Err(source)) => return Err(TurnFailure::Client { source, partial: partial(&stream) }),
        Some(Ok(())) => {}
    }
    // The stream accumulated every chunk it read: the turn is folded once, there.
    Ok(stream.take_completion()?)
}

/// Reads `stream` to the end of its turn, forwarding each piece.
fn read_turn(
    cx: &mut Context<'_>,
    stream: &mut ChatStream,
    forward: &mut dyn FnMut(DeltaPart<'_>),
    received: &mut bool,
) -> Poll<Result<(), ClientError>> {
    loop {
        // Chunks already buffered are ready without touching the socket, which is what spends the task's
        // budget: spend it per chunk, so a flood of buffered events yields to the runtime's other tasks.
        let budget = std::task::ready!(tokio::task::coop::poll_proceed(cx));
        match std::task::ready!(stream.poll_parts(cx, forward)) {
            Ok(Some(())) => *received = true,
            Ok(None) => return Poll::Ready(Ok(())),
            Err(source) => return Poll::Ready(Err(source)),
        }
        budget.made_progress();
    }
}

/// The history, lent to a request; given back when dropped, so a cancelled request loses nothing.
struct Lent<'a> {
    request: &'a mut ChatRequest,
    history: &'a mut Vec<Message>,
    /// Whether `request.messages` is a history processor's output rather than the lent history.
    processed: bool,
}

impl<'a> Lent<'a> {
    fn new(request: &'a mut ChatRequest, history: &'a mut Vec<Message>, processed: Option<Vec<Message>>) -> Self {
        match processed {
            Some(messages) => {
                request.messages = messages;
                Lent { request, history, processed: true }
            }
            None => {
                request.messages = std::mem::take(history);
                Lent { request, history, processed: false }
            }
        }
    }
}

impl Drop for Lent<'_> {
    fn drop(&mut self) {
        let messages = std::mem::take(&mut self.request.messages);
        if !self.processed {
            *self.history = messages;
        }
    }
}

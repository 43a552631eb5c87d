//! The model-turn effect: one request, answered by one [`Completion`]. The history is lent to the request for
//! the time of the call, never copied.

use futures::StreamExt;

use crate::client::ClientError;
use crate::stream::Completion;
use crate::wire::{ChatRequest, Message};

use super::Agent;
use super::events::{AgentEvent, EventQueue};
use super::machine::ModelRequest;
use super::state::RunState;

impl Agent {
    /// Makes the model request of a [`Step::Model`](super::Step::Model) (not streamed) and returns the turn;
    /// hand it to [`record_completion`](Self::record_completion), or a failure to
    /// [`fail_request`](Self::fail_request). The state is only borrowed: its messages are lent to the request
    /// and are back in place when this returns or is cancelled.
    pub async fn request_model(&self, state: &mut RunState, request: ModelRequest) -> Result<Completion, ClientError> {
        let mut template = self.request_template();
        complete(self, &mut template, state, request, None).await
    }

    /// The request of every turn of a run, without its messages.
    pub(crate) fn request_template(&self) -> ChatRequest {
        self.inner.request_template(&self.output)
    }
}

/// One model turn through `template` (its `messages` empty before and after): a plain request, or a streamed
/// one whose text is forwarded to `events` as it arrives.
pub(crate) async fn complete(
    agent: &Agent,
    template: &mut ChatRequest,
    state: &mut RunState,
    request: ModelRequest,
    events: Option<&EventQueue>,
) -> Result<Completion, ClientError> {
    template.tool_choice = request.tool_choice;
    let lent = Lent::new(template, &mut state.transcript.messages, request.messages);
    let client = &agent.inner.client;
    let Some(events) = events else {
        return client.chat(lent.request).await?.into_completion();
    };
    let mut stream = client.chat_stream(lent.request).await?;
    while let Some(chunk) = stream.next().await {
        for choice in chunk?.choices.into_iter().filter(|choice| choice.index == 0) {
            if let Some(text) = choice.delta.reasoning_content.filter(|text| !text.is_empty()) {
                events.push(AgentEvent::ReasoningDelta(text));
            }
            if let Some(text) = choice.delta.content.filter(|text| !text.is_empty()) {
                events.push(AgentEvent::TextDelta(text));
            }
        }
    }
    // The stream accumulated every chunk it handed out: the turn is folded once, there.
    stream.completion().await
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

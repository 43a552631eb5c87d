//! A hook that rewrites the history sent with each model request (trim it, summarise it), and the check that
//! its output is still a history a strict provider accepts (L9, Q38).

use std::collections::HashSet;

use crate::wire::Message;

/// Rewrites the messages sent with each model request, e.g. to keep a long conversation inside the context
/// window. Any `Fn(&[Message]) -> Vec<Message>` is one.
///
/// Its output is sent instead of the history; the run's own history (and a session's) keeps every message.
/// The output must still answer every tool call right after the call's assistant turn (L9): the run
/// checks it before sending and ends with [`Error::InvalidHistory`](super::Error::InvalidHistory) if not.
/// It runs inside [`Agent::next_step`](super::Agent::next_step), so it must be deterministic for a durable run
/// to replay.
///
/// ```
/// use toolsmith_core::wire::Message;
///
/// // Keep the system message and the last 20 messages, starting at a user message.
/// let keep_recent = |messages: &[Message]| {
///     let mut start = messages.len().saturating_sub(20);
///     while start < messages.len() && !matches!(messages[start], Message::User(_)) {
///         start += 1;
///     }
///     let system = messages.iter().take_while(|m| matches!(m, Message::System(_))).cloned();
///     system.chain(messages[start..].iter().cloned()).collect::<Vec<_>>()
/// };
/// # fn assert_processor(_: impl toolsmith_core::agent::HistoryProcessor) {}
/// # assert_processor(keep_recent);
/// ```
pub trait HistoryProcessor: Send + Sync + 'static {
    /// The messages to send instead of `messages`.
    fn process(&self, messages: &[Message]) -> Vec<Message>;
}

impl<F> HistoryProcessor for F
where
    F: Fn(&[Message]) -> Vec<Message> + Send + Sync + 'static,
{
    fn process(&self, messages: &[Message]) -> Vec<Message> {
        self(messages)
    }
}

/// Whether `messages` can be sent: not empty, and every assistant turn with tool calls followed at once by
/// exactly one tool message per call, with no tool message elsewhere (L9, Q38).
pub(crate) fn check(messages: &[Message]) -> Result<(), String> {
    if messages.is_empty() {
        return Err("the history is empty".to_owned());
    }
    let mut position = 0;
    while let Some(message) = messages.get(position) {
        position += 1;
        match message {
            Message::Assistant(assistant) if !assistant.tool_calls.is_empty() => {
                let mut unanswered: HashSet<&str> = assistant.tool_calls.iter().map(|call| call.id.as_str()).collect();
                while let Some(Message::Tool(tool)) = messages.get(position) {
                    if !unanswered.remove(tool.tool_call_id.as_str()) {
                        return Err(format!(
                            "message {position}: the tool message for `{}` answers no call of the assistant turn before it",
                            tool.tool_call_id
                        ));
                    }
                    position += 1;
                }
                if let Some(id) =
                    assistant.tool_calls.iter().map(|call| call.id.as_str()).find(|id| unanswered.contains(id))
                {
                    return Err(format!("the tool call `{id}` has no tool message right after its assistant turn"));
                }
            }
            Message::Tool(tool) => {
                return Err(format!(
                    "message {}: the tool message for `{}` does not follow the assistant turn that made the call",
                    position - 1,
                    tool.tool_call_id
                ));
            }
            _ => {}
        }
    }
    Ok(())
}

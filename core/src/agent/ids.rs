use std::collections::HashSet;

use rand::Rng;
use rand::distr::Alphanumeric;

use crate::wire::{Message, ToolCall};

/// Keeps tool-call ids unique across a conversation (Q19, Q20, L16).
pub(crate) struct IdGenerator {
    seen: HashSet<String>,
}

impl IdGenerator {
    /// Knows every id already in `messages`, so a session's new ids never collide with old ones.
    pub(crate) fn from_history(messages: &[Message]) -> Self {
        let seen = messages
            .iter()
            .filter_map(|message| match message {
                Message::Assistant(assistant) => Some(assistant.tool_calls.iter().map(|call| call.id.clone())),
                _ => None,
            })
            .flatten()
            .collect();
        IdGenerator { seen }
    }

    /// Gives every call without an id, or with one used before, a fresh id.
    pub(crate) fn assign(&mut self, calls: &mut [ToolCall]) {
        for call in calls {
            if call.id.is_empty() || self.seen.contains(&call.id) {
                call.id = self.fresh();
            }
            self.seen.insert(call.id.clone());
        }
    }

    /// Nine alphanumerics: the one format every provider accepts, Mistral's included (Q18).
    fn fresh(&self) -> String {
        let mut rng = rand::rng();
        loop {
            let id: String = (0..9).map(|_| char::from(rng.sample(Alphanumeric))).collect();
            if !self.seen.contains(&id) {
                return id;
            }
        }
    }
}

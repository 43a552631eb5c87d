//! Tool-call ids unique across a conversation (Q19, Q20, L16), generated from the run's state so that a
//! replayed run makes exactly the same ones.

use crate::wire::{Message, ToolCall};

use super::state::RunState;

/// Up to this many ids in the conversation, a search through them is cheaper than building a set.
const SEARCHED_IDS: usize = 64;

/// Gives every call without an id, or with one used before in the conversation, a fresh id.
pub(crate) fn assign(state: &mut RunState, calls: &mut [ToolCall]) {
    let RunState { transcript, seen_ids, next_id, .. } = state;
    if seen_ids.is_none() && ids_of(&transcript.messages).count() + calls.len() <= SEARCHED_IDS {
        // The usual conversation: a few earlier calls, searched where they are.
        for index in 0..calls.len() {
            let (earlier, rest) = calls.split_at_mut(index);
            let call = &mut rest[0];
            let used = |id: &str| {
                ids_of(&transcript.messages).any(|seen| seen == id) || earlier.iter().any(|other| other.id == id)
            };
            if call.id.is_empty() || used(&call.id) {
                call.id = fresh(&used, next_id);
            }
        }
        return;
    }
    let seen = seen_ids.get_or_insert_with(|| ids_of(&transcript.messages).map(str::to_owned).collect());
    for call in calls {
        if call.id.is_empty() || seen.contains(&call.id) {
            call.id = fresh(&|id| seen.contains(id), next_id);
        }
        seen.insert(call.id.clone());
    }
}

/// The ids of the calls in `messages`.
fn ids_of(messages: &[Message]) -> impl Iterator<Item = &str> {
    messages
        .iter()
        .filter_map(|message| match message {
            Message::Assistant(assistant) => Some(assistant.tool_calls.iter().map(|call| call.id.as_str())),
            _ => None,
        })
        .flatten()
}

/// `tc` and seven base-36 digits of the counter: nine alphanumerics, the one format every provider accepts,
/// Mistral's included (Q18).
fn fresh(used: &dyn Fn(&str) -> bool, next_id: &mut u64) -> String {
    const DIGITS: &[u8; 36] = b"0123456789abcdefghijklmnopqrstuvwxyz";
    loop {
        let mut n = *next_id;
        *next_id += 1;
        let mut id = [b'0'; 9];
        id[0] = b't';
        id[1] = b'c';
        for slot in id[2..].iter_mut().rev() {
            *slot = DIGITS[(n % 36) as usize];
            n /= 36;
        }
        let id = String::from_utf8_lossy(&id).into_owned();
        if !used(&id) {
            return id;
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;
    use crate::wire::{AssistantMessage, Content, TextMessage};

    /// A state whose history holds one assistant turn with a call of each of `ids`.
    fn state_with(ids: &[String]) -> RunState {
        let calls = ids.iter().map(|id| ToolCall::new(id.as_str(), "t", "{}")).collect();
        let messages = vec![
            Message::User(TextMessage { content: Content::from("go"), name: None }),
            Message::Assistant(AssistantMessage { tool_calls: calls, ..AssistantMessage::default() }),
        ];
        RunState::new(messages, super::super::state::OutputKind::Text)
    }

    #[test]
    fn reused_and_missing_ids_are_replaced_the_same_way_in_short_and_long_conversations() {
        for earlier in [2, SEARCHED_IDS + 10] {
            let history: Vec<String> = (0..earlier).map(|n| format!("call_{n}")).collect();
            let mut state = state_with(&history);
            // A provider that numbers every turn's calls from 0 again (Q19), one call without an id, one id
            // made by the counter already, one repeated within the turn.
            let mut calls: Vec<ToolCall> = ["call_0", "", "tc0000000", "new", "new", "call_1"]
                .iter()
                .map(|id| ToolCall::new(*id, "t", "{}"))
                .collect();
            assign(&mut state, &mut calls);
            let ids: Vec<&str> = calls.iter().map(|call| call.id.as_str()).collect();
            assert_eq!(ids, ["tc0000000", "tc0000001", "tc0000002", "new", "tc0000003", "tc0000004"], "{earlier}");
            let unique: HashSet<&str> = ids.iter().copied().chain(history.iter().map(String::as_str)).collect();
            assert_eq!(unique.len(), ids.len() + history.len());
        }
    }

    #[test]
    fn fresh_ids_are_nine_alphanumerics_and_skip_used_ones() {
        let mut seen = HashSet::new();
        let mut next = 0;
        assert_eq!(fresh(&|id| seen.contains(id), &mut next), "tc0000000");
        seen.insert("tc0000001".to_owned());
        assert_eq!(fresh(&|id| seen.contains(id), &mut next), "tc0000002");
        next = 36;
        assert_eq!(fresh(&|id| seen.contains(id), &mut next), "tc0000010");
    }
}

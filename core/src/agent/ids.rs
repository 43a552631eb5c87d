//! Tool-call ids unique across a conversation (Q19, Q20, L16), generated from the run's state so that a
//! replayed run makes exactly the same ones.

use std::collections::HashSet;

use crate::wire::{Message, ToolCall};

use super::state::RunState;

/// Gives every call without an id, or with one used before in the conversation, a fresh id.
pub(crate) fn assign(state: &mut RunState, calls: &mut [ToolCall]) {
    let RunState { transcript, seen_ids, next_id, .. } = state;
    let seen = seen_ids.get_or_insert_with(|| ids_in(&transcript.messages));
    for call in calls {
        if call.id.is_empty() || seen.contains(&call.id) {
            call.id = fresh(seen, next_id);
        }
        seen.insert(call.id.clone());
    }
}

fn ids_in(messages: &[Message]) -> HashSet<String> {
    messages
        .iter()
        .filter_map(|message| match message {
            Message::Assistant(assistant) => Some(assistant.tool_calls.iter().map(|call| call.id.clone())),
            _ => None,
        })
        .flatten()
        .collect()
}

/// `tc` and seven base-36 digits of the counter: nine alphanumerics, the one format every provider accepts,
/// Mistral's included (Q18).
fn fresh(seen: &HashSet<String>, next_id: &mut u64) -> String {
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
        if !seen.contains(&id) {
            return id;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fresh_ids_are_nine_alphanumerics_and_skip_used_ones() {
        let mut seen = HashSet::new();
        let mut next = 0;
        assert_eq!(fresh(&seen, &mut next), "tc0000000");
        seen.insert("tc0000001".to_owned());
        assert_eq!(fresh(&seen, &mut next), "tc0000002");
        next = 36;
        assert_eq!(fresh(&seen, &mut next), "tc0000010");
    }
}

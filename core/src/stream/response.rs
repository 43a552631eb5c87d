//! A whole (non-streamed) answer as the turn it holds.

use super::Completion;
use super::accumulator::response_completion;
use crate::client::{Client, ClientError, decode_response};
use crate::wire::ChatRequest;
use crate::wire::fast::response_turn;

impl Client {
    /// Sends `request` with `stream: false` and returns its first choice as a turn: what
    /// [`Client::chat`] then [`ChatResponse::into_completion`](crate::wire::ChatResponse::into_completion)
    /// give, without building the whole response first.
    pub async fn complete(&self, request: &ChatRequest) -> Result<Completion, ClientError> {
        self.post_json(request, decode_completion).await
    }

    /// [`complete`](Self::complete) with the turn boxed where it is decoded: what a run does with it is
    /// moving it through several layers, and a pointer moves for free.
    pub(crate) async fn complete_boxed(&self, request: &ChatRequest) -> Result<Box<Completion>, ClientError> {
        self.post_json(request, |bytes| decode_completion(bytes).map(Box::new)).await
    }
}

/// A whole response body as the turn of its first choice, by the rules of
/// [`ChatResponse::into_completion`](crate::wire::ChatResponse::into_completion) (Q3; `finish_reason:
/// "error"` fails, carrying the turn). The usual shape is read straight into the turn; anything else is
/// decoded in full first, so both give the same result (`core/tests/wire_fast.rs`).
///
/// ```
/// let body = br#"{"id":"c1","model":"m","choices":[{"index":0,"message":{"role":"assistant","content":"Hi"},"finish_reason":"stop"}]}"#;
/// let turn = toolsmith_core::stream::decode_completion(body).unwrap();
/// assert_eq!(turn.message.text(), "Hi");
/// ```
pub fn decode_completion(bytes: &[u8]) -> Result<Completion, ClientError> {
    match response_turn(bytes) {
        Some(turn) => response_completion(turn),
        None => decode_response(bytes)?.into_completion(),
    }
}

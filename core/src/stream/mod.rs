//! Folding a streamed (or non-streamed) answer into one finished assistant turn: the chunks of a streamed
//! body ([`ChatStream`]) and the turn they add up to ([`Accumulator`], [`Completion`]).

mod accumulator;
mod chat_stream;
mod response;

pub use accumulator::Accumulator;
pub use chat_stream::ChatStream;
pub use response::decode_completion;

/// How many tool calls one turn may have by default ([`Accumulator::with_max_tool_calls`], the agent's
/// `max_tool_calls`): far more than a real turn makes, few enough that a hostile stream cannot make the
/// client hold millions of calls.
pub const DEFAULT_MAX_TOOL_CALLS: usize = 128;

/// The [`ClientError::Stream`](crate::client::ClientError::Stream) `code` of a turn with more tool calls than
/// the limit.
pub const TOO_MANY_TOOL_CALLS: &str = "too_many_tool_calls";

pub use crate::wire::Completion;

/// One piece of what a chunk adds to the turn (choice 0), borrowed from the chunk: what
/// [`ChatStream::poll_parts`] hands on as it accumulates.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum DeltaPart<'a> {
    /// A text fragment.
    Text(&'a str),
    /// A refusal fragment.
    Refusal(&'a str),
    /// A reasoning fragment (`reasoning_content` or `reasoning`, Q15).
    Reasoning(&'a str),
    /// A tool-call fragment, as the provider sent it (an id or name may be empty, Q20).
    ToolCall {
        /// The call's position in the turn, as the provider numbers it (`None` when it sent none, Q8).
        index: Option<u32>,
        /// The call id, in the fragment that carries it.
        id: Option<&'a str>,
        /// The tool's name (or a piece of it, Q11), in the fragment that carries it.
        name: Option<&'a str>,
        /// The next piece of the arguments' JSON text (may be empty).
        arguments: &'a str,
        /// Whether `arguments` is the whole arguments, replacing what came before (a JSON object, Q12).
        whole: bool,
    },
}

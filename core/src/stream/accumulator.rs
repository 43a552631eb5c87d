//! The accumulation algorithm of §1.3 (normative; covers Q5–Q12, Q15, Q23–Q25, Q3).

use crate::client::ClientError;
use crate::stream::{Completion, DEFAULT_MAX_TOOL_CALLS, DeltaPart, TOO_MANY_TOOL_CALLS};
use crate::wire::fast::{Obj, ResponseTurn, TurnChunk, finish_reason};
use crate::wire::{
    ArgumentsDelta, AssistantMessage, ChatChunk, ChatResponse, Content, ErrorBody, FinishReason, FunctionCall,
    ToolCall, ToolCallDelta, Usage,
};

/// Folds stream chunks into a [`Completion`].
///
/// Only choice `0` is read (toolsmith never asks for `n > 1`). Text is not held back: push each chunk as it
/// arrives and hand its delta on; the accumulator only remembers.
///
/// Each fragment finds its call in constant time, so a turn costs time linear in its size. A turn may have at
/// most [`max_tool_calls`](Self::with_max_tool_calls) calls (default [`DEFAULT_MAX_TOOL_CALLS`]); a fragment
/// opening one more fails the push with a [`ClientError::Stream`] whose code is [`TOO_MANY_TOOL_CALLS`].
///
/// ```
/// use toolsmith_core::stream::Accumulator;
/// use toolsmith_core::wire::{ChatChunk, FinishReason};
///
/// let mut acc = Accumulator::new();
/// for data in [
///     r#"{"choices":[{"index":0,"delta":{"role":"assistant","content":"Hel"}}]}"#,
///     r#"{"choices":[{"index":0,"delta":{"content":"lo"},"finish_reason":"stop"}]}"#,
/// ] {
///     acc.push(&serde_json::from_str::<ChatChunk>(data).unwrap()).unwrap();
/// }
/// let done = acc.finish().unwrap();
/// assert_eq!(done.message.text(), "Hello");
/// assert_eq!(done.finish_reason, FinishReason::Stop);
/// ```
#[derive(Clone, Debug)]
pub struct Accumulator {
    id: String,
    model: String,
    content: Option<String>,
    refusal: Option<String>,
    reasoning: Option<String>,
    /// The calls in the order they were opened. A fragment's slot is found by a search from the end (the
    /// latest slot opened for its `index`, or holding its id): turns hold a few calls, fragments almost always
    /// continue the last one, and the search is bounded by `max_tool_calls`; no map is built or hashed.
    slots: Vec<Slot>,
    max_tool_calls: usize,
    finish_reason: Option<FinishReason>,
    /// The usage to report; Q24: the last non-null one wins, `x_groq.usage` only while no other came. One
    /// slot rather than two keeps the accumulator small. Inline, not boxed: a stream keeps its accumulator in
    /// its own box, where a usage box would only add an allocation per turn.
    usage: Option<Usage>,
    usage_from_groq: bool,
}

impl Default for Accumulator {
    fn default() -> Self {
        Accumulator {
            id: String::new(),
            model: String::new(),
            content: None,
            refusal: None,
            reasoning: None,
            slots: Vec::new(),
            max_tool_calls: DEFAULT_MAX_TOOL_CALLS,
            finish_reason: None,
            usage: None,
            usage_from_groq: false,
        }
    }
}

#[derive(Clone, Debug, Default)]
struct Slot {
    /// The `index` it was opened for.
    index: Option<u32>,
    id: String,
    name: String,
    arguments: String,
}

impl Accumulator {
    /// An empty accumulator.
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty accumulator that accepts at most `limit` tool calls in the turn.
    pub fn with_max_tool_calls(limit: usize) -> Self {
        Accumulator { max_tool_calls: limit, ..Self::default() }
    }

    /// Changes the tool-call limit of the turn (see [`with_max_tool_calls`](Self::with_max_tool_calls)).
    pub fn set_max_tool_calls(&mut self, limit: usize) {
        self.max_tool_calls = limit;
    }

    /// Adds one chunk.
    ///
    /// Fails with [`ClientError::Stream`] (carrying everything received so far) when the chunk is an
    /// in-band error (§1.4 forms 1 and 2).
    pub fn push(&mut self, chunk: &ChatChunk) -> Result<(), ClientError> {
        self.push_chunk(chunk, &mut |_| {})
    }

    /// Adds one chunk, handing each piece of choice 0 to `on_part` once it is accumulated.
    pub(crate) fn push_chunk(
        &mut self,
        chunk: &ChatChunk,
        on_part: &mut dyn FnMut(DeltaPart<'_>),
    ) -> Result<(), ClientError> {
        self.note_origin(&chunk.id, &chunk.model);
        // Q24: the last non-null usage wins; `x_groq.usage` is the fallback.
        if let Some(usage) = &chunk.usage {
            self.usage = Some(usage.clone());
            self.usage_from_groq = false;
        } else if let Some(usage) = chunk.x_groq.as_ref().and_then(|x| x.usage.as_ref())
            && (self.usage.is_none() || self.usage_from_groq)
        {
            self.usage = Some(usage.clone());
            self.usage_from_groq = true;
        }
        for choice in chunk.choices.iter().filter(|c| c.index == 0) {
            let delta = &choice.delta;
            self.text_parts(
                delta.reasoning_content.as_deref(),
                delta.content.as_deref(),
                delta.refusal.as_deref(),
                on_part,
            );
            for fragment in &delta.tool_calls {
                let (arguments, whole) = match fragment.function.as_ref().and_then(|f| f.arguments.as_ref()) {
                    Some(ArgumentsDelta::Text(text)) => (std::borrow::Cow::Borrowed(text.as_str()), false),
                    Some(ArgumentsDelta::Value(serde_json::Value::Null)) | None => {
                        (std::borrow::Cow::Borrowed(""), false)
                    }
                    // Q12: an object is the complete arguments.
                    Some(ArgumentsDelta::Value(value)) => (std::borrow::Cow::Owned(value.to_string()), true),
                };
                self.part(call_part(fragment, &arguments, whole), on_part)?;
            }
            if let Some(reason) = &choice.finish_reason {
                self.finish_reason = Some(reason.clone());
            }
        }
        if let Some(error) = &chunk.error {
            return Err(self.in_band_error(error));
        }
        self.check_error_finish()
    }

    /// Adds one chunk decoded in its usual shape (borrowed from the event), the same way as
    /// [`push_chunk`](Self::push_chunk) without building a [`ChatChunk`].
    pub(crate) fn push_fast(
        &mut self,
        mut chunk: TurnChunk<'_>,
        on_part: &mut dyn FnMut(DeltaPart<'_>),
    ) -> Result<(), ClientError> {
        self.note_origin(&chunk.id, &chunk.model);
        if let Some(usage) = chunk.take_usage() {
            self.usage = Some(usage);
            self.usage_from_groq = false;
        }
        for Obj(choice) in chunk.choices.iter().filter(|c| c.0.index == 0) {
            if let Some(Obj(delta)) = &choice.delta {
                self.text_parts(delta.reasoning(), delta.content.as_deref(), delta.refusal.as_deref(), on_part);
                for Obj(fragment) in delta.tool_calls.iter().flatten() {
                    let function = fragment.function.as_ref().map(|f| &f.0);
                    let part = DeltaPart::ToolCall {
                        index: fragment.index,
                        id: fragment.id.as_deref(),
                        name: function.and_then(|f| f.name.as_deref()),
                        arguments: function.and_then(|f| f.arguments.as_deref()).unwrap_or(""),
                        whole: false,
                    };
                    self.part(part, on_part)?;
                }
            }
            if let Some(reason) = finish_reason(choice.finish_reason.as_deref()) {
                self.finish_reason = Some(reason);
            }
        }
        self.check_error_finish()
    }

    /// Q25: the first non-empty id and model are the turn's.
    fn note_origin(&mut self, id: &str, model: &str) {
        if self.id.is_empty() && !id.is_empty() {
            id.clone_into(&mut self.id);
        }
        if self.model.is_empty() && !model.is_empty() {
            model.clone_into(&mut self.model);
        }
    }

    fn text_parts(
        &mut self,
        reasoning: Option<&str>,
        content: Option<&str>,
        refusal: Option<&str>,
        on_part: &mut dyn FnMut(DeltaPart<'_>),
    ) {
        if let Some(text) = reasoning {
            append(&mut self.reasoning, text);
            on_part(DeltaPart::Reasoning(text));
        }
        if let Some(text) = content {
            append(&mut self.content, text);
            on_part(DeltaPart::Text(text));
        }
        if let Some(text) = refusal {
            append(&mut self.refusal, text);
            on_part(DeltaPart::Refusal(text));
        }
    }

    /// A tool-call fragment: accumulated, then handed on.
    fn part(&mut self, part: DeltaPart<'_>, on_part: &mut dyn FnMut(DeltaPart<'_>)) -> Result<(), ClientError> {
        if let DeltaPart::ToolCall { index, id, name, arguments, whole } = part {
            self.push_tool_call(index, id, name, arguments, whole)?;
        }
        on_part(part);
        Ok(())
    }

    /// §1.4 form 2 without an `error` object: still a failure, not a finish.
    fn check_error_finish(&self) -> Result<(), ClientError> {
        if self.finish_reason == Some(FinishReason::Error) {
            return Err(self.in_band_error(&serde_json::json!({
                "message": "the provider ended the turn with finish_reason \"error\""
            })));
        }
        Ok(())
    }

    /// Everything received so far, as a turn (finish reason as received, or `Stop`).
    pub fn partial(&self) -> Completion {
        // Only on the way to an error: a copy is cheap enough there, and the turn is built in one place.
        self.clone().into_partial()
    }

    /// Whether a `finish_reason` has arrived.
    pub fn has_finish_reason(&self) -> bool {
        self.finish_reason.is_some()
    }

    /// Whether at least one tool call arrived and every one has a name and arguments that parse (or are
    /// empty, meaning `{}`, Q13).
    pub fn has_complete_tool_calls(&self) -> bool {
        let calls: Vec<&Slot> = self.slots.iter().filter(|s| !s.is_empty()).collect();
        !calls.is_empty() && calls.iter().all(|s| !s.name.is_empty() && arguments_parse(&s.arguments))
    }

    /// The finished turn. A missing finish reason becomes `ToolCalls` when complete tool calls arrived and
    /// `Stop` otherwise (Q3); `finish_reason: "error"` is a failure carrying the partial turn (§1.4 form 2).
    pub fn finish(self) -> Result<Completion, ClientError> {
        let complete_calls = self.finish_reason.is_none() && self.has_complete_tool_calls();
        let reason = self.finish_reason.clone();
        let mut completion = self.into_partial();
        match &reason {
            Some(FinishReason::Error) => {
                return Err(ClientError::Stream {
                    message: "the provider ended the turn with finish_reason \"error\"".to_owned(),
                    code: None,
                    partial: Box::new(completion),
                    retryable: true,
                });
            }
            Some(_) => {}
            None if complete_calls => completion.finish_reason = FinishReason::ToolCalls,
            None => {
                tracing::warn!("the turn ended without a finish_reason; treating it as \"stop\" (Q3)");
                completion.finish_reason = FinishReason::Stop;
            }
        }
        Ok(completion)
    }

    /// The turn so far, moving what was accumulated ([`partial`](Self::partial) copies it first).
    fn into_partial(self) -> Completion {
        let tool_calls = self
            .slots
            .into_iter()
            .filter(|s| !s.is_empty())
            .map(|s| ToolCall {
                id: s.id,
                kind: "function".to_owned(),
                function: FunctionCall { name: s.name, arguments: s.arguments },
            })
            .collect();
        let message = AssistantMessage {
            content: self.content.map(Content::Text),
            refusal: self.refusal.filter(|r| !r.is_empty()),
            name: None,
            reasoning_content: self.reasoning.filter(|r| !r.is_empty()),
            tool_calls,
        };
        Completion {
            message,
            finish_reason: self.finish_reason.unwrap_or(FinishReason::Stop),
            usage: self.usage,
            id: self.id,
            model: self.model,
        }
    }

    fn in_band_error(&self, error: &serde_json::Value) -> ClientError {
        let body = ErrorBody::from_value(&serde_json::json!({ "error": error })).unwrap_or_default();
        let retryable = crate::client::in_band_retryable(body.code.as_deref());
        let message =
            if body.message.is_empty() { "an error occurred during streaming".to_owned() } else { body.message };
        ClientError::Stream { message, code: body.code, partial: Box::new(self.partial()), retryable }
    }

    /// Rule 1 of §1.3: pick the slot for a fragment, then rules 2–5.
    fn push_tool_call(
        &mut self,
        index: Option<u32>,
        id: Option<&str>,
        name: Option<&str>,
        arguments: &str,
        whole: bool,
    ) -> Result<(), ClientError> {
        let id = id.filter(|id| !id.is_empty());
        let name = name.filter(|n| !n.is_empty());
        let pos = match index {
            Some(index) => match self.slots.iter().rposition(|slot| slot.index == Some(index)) {
                // Q9: a new id on an occupied index opens a new call.
                Some(pos) if id.is_some_and(|id| !self.slots[pos].id.is_empty() && self.slots[pos].id != id) => {
                    self.open(Some(index))?
                }
                Some(pos) => pos,
                None => self.open(Some(index))?,
            },
            // Q8: no index.
            None => match id.and_then(|id| self.slots.iter().rposition(|slot| slot.id == id)) {
                Some(pos) => pos,
                None if id.is_some() || name.is_some() || self.slots.is_empty() => self.open(None)?,
                None => self.slots.len() - 1,
            },
        };
        let Some(slot) = self.slots.get_mut(pos) else { return Ok(()) };
        if let Some(id) = id
            && slot.id.is_empty()
        {
            slot.id = id.to_owned();
        }
        if let Some(name) = name {
            // Rule 3 (Q11): a repeated name is ignored; a split name (Gemini) is appended.
            // A fragment that already starts with the name so far is a cumulative resend: it replaces it.
            if name.starts_with(slot.name.as_str()) {
                name.clone_into(&mut slot.name);
            } else {
                slot.name.push_str(name);
            }
        }
        if whole {
            // Q12: an object is the complete arguments.
            arguments.clone_into(&mut slot.arguments);
        } else {
            slot.arguments.push_str(arguments);
        }
        Ok(())
    }

    fn open(&mut self, index: Option<u32>) -> Result<usize, ClientError> {
        if self.slots.len() >= self.max_tool_calls {
            // The partial turn keeps the calls within the limit; the rest of the stream is not read.
            return Err(ClientError::Stream {
                message: format!("the turn has more than {} tool calls (the limit)", self.max_tool_calls),
                code: Some(TOO_MANY_TOOL_CALLS.to_owned()),
                partial: Box::new(self.partial()),
                retryable: false,
            });
        }
        let pos = self.slots.len();
        self.slots.push(Slot { index, ..Slot::default() });
        Ok(pos)
    }
}

impl Slot {
    /// Q20: a fragment with no id, name or arguments is discarded.
    fn is_empty(&self) -> bool {
        self.id.is_empty() && self.name.is_empty() && self.arguments.is_empty()
    }
}

fn append(target: &mut Option<String>, fragment: &str) {
    target.get_or_insert_with(String::new).push_str(fragment);
}

/// A lenient chunk's tool-call fragment as a part, its arguments already as text.
fn call_part<'a>(fragment: &'a ToolCallDelta, arguments: &'a str, whole: bool) -> DeltaPart<'a> {
    let function = fragment.function.as_ref();
    DeltaPart::ToolCall {
        index: fragment.index,
        id: fragment.id.as_deref(),
        name: function.and_then(|f| f.name.as_deref()),
        arguments,
        whole,
    }
}

fn arguments_parse(arguments: &str) -> bool {
    arguments.trim().is_empty() || serde_json::from_str::<serde::de::IgnoredAny>(arguments).is_ok()
}

impl ChatResponse {
    /// The first choice as a [`Completion`], with the same finish-reason normalisation as a stream (Q3):
    /// a missing reason becomes `ToolCalls` or `Stop`; `"error"` is a [`ClientError::Stream`].
    pub fn into_completion(self) -> Result<Completion, ClientError> {
        let Some(choice) = self.choices.into_iter().next() else {
            return Err(ClientError::Decode {
                message: "the response has no choices".to_owned(),
                snippet: String::new(),
            });
        };
        response_completion(ResponseTurn {
            id: self.id,
            model: self.model,
            message: choice.message,
            finish_reason: choice.finish_reason,
            usage: self.usage,
        })
    }
}

/// A whole response's turn as a [`Completion`]: the rules of [`ChatResponse::into_completion`], for a
/// response decoded in full or straight into its turn.
pub(crate) fn response_completion(turn: ResponseTurn) -> Result<Completion, ClientError> {
    let ResponseTurn { id, model, message, finish_reason, usage } = turn;
    let has_calls = !message.tool_calls.is_empty()
        && message.tool_calls.iter().all(|c| !c.function.name.is_empty() && arguments_parse(&c.function.arguments));
    let finish_reason = match finish_reason {
        Some(reason) => reason,
        None if has_calls => FinishReason::ToolCalls,
        None => {
            tracing::warn!("the response has no finish_reason; treating it as \"stop\" (Q3)");
            FinishReason::Stop
        }
    };
    let completion = Completion { message, finish_reason, usage, id, model };
    if completion.finish_reason == FinishReason::Error {
        return Err(ClientError::Stream {
            message: "the provider ended the turn with finish_reason \"error\"".to_owned(),
            code: None,
            partial: Box::new(completion),
            retryable: true,
        });
    }
    Ok(completion)
}

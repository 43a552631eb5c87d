//! The loop as a step machine: a pure, synchronous function decides the next step from the [`RunState`]; the
//! two effects (a model turn, a tool call) happen outside it and their results are recorded into the state.
//!
//! One turn goes through named steps: **request** (limits checked, a [`Step::Model`] handed out) →
//! **classify** the answer (cut off, refusal, final answer, or tool calls) → **dispatch** the calls
//! ([`Step::Tools`]) → **record** their results in call order → **decide** (stop on the failure budget or a
//! final result, else request again).

use std::time::Duration;

use crate::client::ClientError;
use crate::stream::{Completion, TOO_MANY_TOOL_CALLS};
use crate::wire::{AssistantMessage, Content, FinishReason, Message, TextMessage, ToolCall, ToolChoice};

use super::Agent;
use super::error::Error;
use super::history;
use super::result::{RunResult, ToolCallRecord, ToolOutcome};
use super::state::{Answer, PendingCall, Phase, RunState, StateError, ToolsPhase};

/// What a run needs next, from [`Agent::next_step`].
#[derive(Debug)]
#[must_use]
// Made once per step and matched at once: boxing the result would cost an allocation for nothing.
#[allow(clippy::large_enum_variant)]
pub enum Step {
    /// Ask the model: [`Agent::request_model`], then [`Agent::record_completion`] (or
    /// [`Agent::fail_request`]).
    Model(ModelRequest),
    /// Run these calls (concurrently or not; in any order): [`Agent::call_tool`] for each, then
    /// [`Agent::record_tool_call`] with each record.
    Tools(Vec<PendingCall>),
    /// The run ended: the final answer, or why there is none (with the transcript).
    Done(Result<RunResult, Error>),
}

/// A model request to make, from [`Step::Model`]. Built from the state: the request itself borrows the
/// state's history when it is sent.
#[derive(Debug)]
pub struct ModelRequest {
    pub(crate) turn: usize,
    pub(crate) tool_choice: Option<ToolChoice>,
    /// A history processor's output, sent instead of the history.
    pub(crate) messages: Option<Vec<Message>>,
}

impl ModelRequest {
    /// The number of the turn this request starts, from 1.
    pub fn turn(&self) -> usize {
        self.turn
    }
}

impl Agent {
    /// A new run of this agent on `input`, with the agent's instructions first: step it with
    /// [`next_step`](Self::next_step).
    pub fn start(&self, input: impl Into<Content>) -> RunState {
        let mut messages = self.initial_messages();
        messages.push(Message::User(TextMessage { content: input.into(), name: None }));
        self.start_from(messages)
    }

    /// A run that continues `messages`: a stored conversation with the new input last (what a session does).
    /// The instructions are not added again; the result holds every message, the earlier ones included.
    pub fn start_from(&self, messages: Vec<Message>) -> RunState {
        RunState::new(messages, self.output.kind())
    }

    /// Decides what the run does next. Pure and synchronous: the same state always gives the same step (tool
    /// call ids included), so a driver that journals the effects replays a run exactly.
    ///
    /// Calling it again before recording anything returns the same step. After [`Step::Done`] the state has
    /// ended and stepping it again gives [`Error::InvalidState`].
    ///
    /// A driver loop (this is what [`Agent::run`] does, with tool calls run concurrently):
    ///
    /// ```no_run
    /// # async fn demo(agent: toolsmith_core::agent::Agent) -> Result<(), toolsmith_core::agent::Error> {
    /// use toolsmith_core::agent::{RunState, Step};
    ///
    /// let mut state = agent.start("Weather in Paris?");
    /// let result = loop {
    ///     // Between any two steps the state may be saved and resumed elsewhere.
    ///     let saved = serde_json::to_string(&state).unwrap();
    ///     state = RunState::from_json(&saved).unwrap();
    ///     match agent.next_step(&mut state) {
    ///         Step::Model(request) => match agent.request_model(&mut state, request).await {
    ///             Ok(completion) => agent.record_completion(&mut state, completion).unwrap(),
    ///             Err(error) => break Err(agent.fail_request(&mut state, error)),
    ///         },
    ///         Step::Tools(calls) => {
    ///             for call in calls {
    ///                 let record = agent.call_tool(&call).await;
    ///                 agent.record_tool_call(&mut state, record).unwrap();
    ///             }
    ///         }
    ///         Step::Done(result) => break result,
    ///     }
    /// };
    /// println!("{}", result?.output);
    /// # Ok(()) }
    /// ```
    pub fn next_step(&self, state: &mut RunState) -> Step {
        if state.output != self.output.kind() {
            let message = format!(
                "the run was started for {:?} output, but this agent gives {:?} output",
                state.output,
                self.output.kind()
            );
            return Step::Done(Err(self.invalid_state(state, StateError::Unexpected(message))));
        }
        loop {
            let phase = std::mem::replace(&mut state.phase, Phase::Request);
            let next = match phase {
                Phase::Request => return self.request(state),
                Phase::Received { completion } => self.classify(state, completion),
                Phase::Tools(tools) => self.dispatch(state, tools),
                Phase::Ended => {
                    state.phase = Phase::Ended;
                    let source = StateError::Unexpected("the run has already ended".to_owned());
                    return Step::Done(Err(self.invalid_state(state, source)));
                }
            };
            if let Some(step) = next {
                return step;
            }
        }
    }

    /// Records the model's answer to the last [`Step::Model`].
    pub fn record_completion(&self, state: &mut RunState, completion: Completion) -> Result<(), StateError> {
        self.record_boxed(state, Box::new(completion))
    }

    /// [`record_completion`](Self::record_completion) of a turn boxed where it was decoded.
    pub(crate) fn record_boxed(&self, state: &mut RunState, completion: Box<Completion>) -> Result<(), StateError> {
        if !matches!(state.phase, Phase::Request) {
            return Err(StateError::Unexpected("a completion, but no model request was pending".to_owned()));
        }
        let transcript = &mut state.transcript;
        transcript.turns += 1;
        if let Some(usage) = &completion.usage {
            transcript.usage += usage.clone();
        }
        state.phase = Phase::Received { completion };
        Ok(())
    }

    /// Ends the run with a failed model request: the error carries the transcript so far (every call answered)
    /// and the partial turn the client error holds, if any. A stream cut at
    /// [`max_tool_calls`](super::AgentBuilder::max_tool_calls) becomes [`Error::TooManyToolCalls`].
    pub fn fail_request(&self, state: &mut RunState, source: ClientError) -> Error {
        self.fail_turn(state, source, None)
    }

    /// [`fail_request`](Self::fail_request) with what the turn had streamed before it failed.
    pub(crate) fn fail_turn(
        &self,
        state: &mut RunState,
        source: ClientError,
        partial: Option<Box<Completion>>,
    ) -> Error {
        if let ClientError::Stream { code: Some(code), partial: streamed, .. } = &source
            && code == TOO_MANY_TOOL_CALLS
        {
            let limit = self.inner.settings.max_tool_calls;
            return Error::TooManyToolCalls {
                limit,
                completion: streamed.clone(),
                transcript: state.take_transcript(),
            };
        }
        // A stream error carries its own partial turn.
        let partial = partial.filter(|_| source.partial().is_none());
        Error::Client { source: Box::new(source), partial, transcript: state.take_transcript() }
    }

    /// Ends the run at its deadline: calls still pending are answered as timed out, so the history stays valid
    /// (L9).
    pub(crate) fn time_out(&self, state: &mut RunState, timeout: Duration, partial: Option<Box<Completion>>) -> Error {
        if let Phase::Tools(mut tools) = std::mem::replace(&mut state.phase, Phase::Request) {
            for (call, answer) in tools.calls.iter().zip(tools.answers.iter_mut()) {
                answer.get_or_insert_with(|| Answer::Tool { record: Box::new(timed_out(call, timeout)) });
            }
            self.write_answers(state, tools);
        }
        Error::RunTimeout { timeout, partial, transcript: state.take_transcript() }
    }

    /// Records the result of one pending call (from [`Agent::call_tool`]), matched by its id.
    pub fn record_tool_call(&self, state: &mut RunState, record: ToolCallRecord) -> Result<(), StateError> {
        self.record_boxed_call(state, Box::new(record))
    }

    /// [`record_tool_call`](Self::record_tool_call) of a record boxed where it was made.
    pub(crate) fn record_boxed_call(
        &self,
        state: &mut RunState,
        record: Box<ToolCallRecord>,
    ) -> Result<(), StateError> {
        let Phase::Tools(tools) = &mut state.phase else {
            return Err(StateError::Unexpected(format!("a result for call `{}`, but no call is pending", record.id)));
        };
        let slot = tools
            .calls
            .iter()
            .zip(tools.answers.iter_mut())
            .find(|(call, answer)| call.id == record.id && answer.is_none())
            .map(|(_, answer)| answer);
        match slot {
            Some(answer) => {
                if let Some(usage) = &record.usage {
                    state.transcript.usage += usage.clone();
                }
                *answer = Some(Answer::Tool { record });
                Ok(())
            }
            None => Err(StateError::Unexpected(format!("a result for call `{}`, which is not pending", record.id))),
        }
    }

    /// Request: the limits, then the next model request.
    fn request(&self, state: &mut RunState) -> Step {
        let settings = &self.inner.settings;
        let turns = state.transcript.turns;
        if turns >= settings.max_turns {
            return Step::Done(Err(Error::MaxTurns {
                max_turns: settings.max_turns,
                transcript: state.take_transcript(),
            }));
        }
        if let Some((limit, used)) = settings.usage_limits.before_request(&state.transcript) {
            return Step::Done(Err(Error::UsageLimitExceeded { limit, used, transcript: state.take_transcript() }));
        }
        let mut messages = None;
        if let Some(processor) = &self.inner.history {
            let processed = processor.process(&state.transcript.messages);
            if let Err(message) = history::check(&processed) {
                return Step::Done(Err(Error::InvalidHistory { message, transcript: state.take_transcript() }));
            }
            messages = Some(processed);
        }
        Step::Model(ModelRequest { turn: turns + 1, tool_choice: self.inner.tool_choice(turns), messages })
    }

    /// Classify the turn: cut off, refused, a final answer, or calls to dispatch.
    fn classify(&self, state: &mut RunState, completion: Box<Completion>) -> Option<Step> {
        // L2: a cut-off turn runs nothing; its calls may carry truncated arguments (Q5).
        if matches!(completion.finish_reason, FinishReason::Length | FinishReason::ContentFilter) {
            return Some(Step::Done(Err(Error::Truncated {
                finish_reason: completion.finish_reason.clone(),
                completion,
                transcript: state.take_transcript(),
            })));
        }
        // L1/Q1: tool calls decide whether the loop goes on, whatever `finish_reason` says.
        if completion.message.tool_calls.is_empty() {
            return self.answer(state, completion.message);
        }
        let settings = &self.inner.settings;
        let count = completion.message.tool_calls.len();
        if count > settings.max_tool_calls {
            let limit = settings.max_tool_calls;
            let transcript = state.take_transcript();
            return Some(Step::Done(Err(Error::TooManyToolCalls { limit, completion, transcript })));
        }
        // The `final_result` call is the answer, not a tool call.
        let to_run = count - usize::from(self.output.final_call_index(&completion.message.tool_calls).is_some());
        if let Some((limit, used)) = settings.usage_limits.before_tool_calls(&state.transcript, to_run) {
            return Some(Step::Done(Err(Error::UsageLimitExceeded {
                limit,
                used,
                transcript: state.take_transcript(),
            })));
        }
        let mut message = completion.message;
        super::ids::assign(state, &mut message.tool_calls);
        // Q22: never replay an empty name: providers reject the whole history.
        for call in &mut message.tool_calls {
            if call.function.name.is_empty() {
                call.function.name = "unnamed_tool".to_owned();
            }
        }
        let calls = message.tool_calls.clone();
        state.transcript.messages.push(Message::Assistant(message));
        let mut answers: Vec<Option<Answer>> = calls.iter().map(|_| None).collect();
        let final_index = self.output.final_call_index(&calls);
        if let Some(index) = final_index {
            let (text, answer) = self.output.take_final_call(&calls[index]);
            answers[index] = Some(Answer::Final { text, answer });
        }
        state.phase = Phase::Tools(ToolsPhase { calls, answers, final_index });
        None
    }

    /// A turn without tool calls: the answer, a refusal, or an answer the output check rejected.
    fn answer(&self, state: &mut RunState, mut message: AssistantMessage) -> Option<Step> {
        if let Some(refusal) = message.refusal.take().filter(|refusal| !refusal.is_empty())
            && message.text().is_empty()
        {
            return Some(Step::Done(Err(Error::Refusal { refusal, transcript: state.take_transcript() })));
        }
        let text = message.text();
        state.transcript.messages.push(Message::Assistant(message));
        match self.output.check_answer(&text) {
            Ok(()) => Some(self.finish(state, text)),
            Err(problem) => {
                if let Some(step) = self.output_rejected(state, problem.clone(), &text) {
                    return Some(step);
                }
                let correction = self.output.correction(&problem);
                state.transcript.messages.push(Message::user(correction));
                None
            }
        }
    }

    /// Dispatch the calls still pending; once every call is answered, record and decide.
    fn dispatch(&self, state: &mut RunState, tools: ToolsPhase) -> Option<Step> {
        let pending = tools.pending();
        if !pending.is_empty() {
            state.phase = Phase::Tools(tools);
            return Some(Step::Tools(pending));
        }
        self.record(state, tools)
    }

    /// Record the answers, then decide.
    fn record(&self, state: &mut RunState, tools: ToolsPhase) -> Option<Step> {
        let final_call = tools.final_index.and_then(|index| tools.calls.get(index)).cloned();
        let recorded = tools.answers.iter().filter(|answer| matches!(answer, Some(Answer::Tool { .. }))).count();
        let (budget_exceeded, final_answer) = self.write_answers(state, tools);
        self.decide(state, budget_exceeded, final_answer, final_call.as_ref())
            .or_else(|| self.return_direct(state, recorded))
    }

    /// L11: the first successful call of the turn to a "return direct" tool ends the run with its result.
    fn return_direct(&self, state: &mut RunState, recorded: usize) -> Option<Step> {
        let names = &self.inner.settings.return_direct;
        if names.is_empty() {
            return None;
        }
        let records = &state.transcript.tool_calls;
        let turn = &records[records.len().saturating_sub(recorded)..];
        let direct = turn
            .iter()
            .find(|record| record.outcome == ToolOutcome::Success && names.contains(&record.name))?
            .result
            .clone();
        self.output.check_answer(&direct).ok()?;
        Some(self.finish(state, direct))
    }

    /// One tool message per call, right after the assistant turn, in call order (L9); the failure counters
    /// (L7). Returns the first tool past its failure budget and the `final_result` answer, if any.
    fn write_answers(
        &self,
        state: &mut RunState,
        tools: ToolsPhase,
    ) -> (Option<Exhausted>, Option<Result<String, String>>) {
        let ToolsPhase { calls, answers, .. } = tools;
        let budget = self.inner.settings.max_tool_retries;
        let mut final_answer = None;
        let mut budget_exceeded = None;
        for (call, answer) in calls.iter().zip(answers) {
            match answer {
                Some(Answer::Tool { record }) => {
                    let failed = record.outcome.counts_as_failure();
                    // A success resets the count, which is no entry at all: the usual run never touches the map.
                    let failures = if failed {
                        let failures = state.failures.entry(record.name.clone()).or_insert(0);
                        *failures += 1;
                        *failures
                    } else {
                        state.failures.remove(&record.name);
                        0
                    };
                    if failed && failures > budget && budget_exceeded.is_none() {
                        let (tool, last_error) = (record.name.clone(), record.result.clone());
                        budget_exceeded = Some(Exhausted { tool, failures, last_error });
                    }
                    state.transcript.messages.push(Message::tool(record.id.clone(), record.result.clone()));
                    state.transcript.tool_calls.push(*record);
                }
                Some(Answer::Final { text, answer }) => {
                    state.transcript.messages.push(Message::tool(call.id.clone(), text));
                    final_answer = Some(answer);
                }
                // Unreachable: answers are written only when nothing is pending.
                None => {}
            }
        }
        (budget_exceeded, final_answer)
    }

    /// Decide: stop on the failure budget (L7) or on an accepted final result, else ask the model again.
    fn decide(
        &self,
        state: &mut RunState,
        budget_exceeded: Option<Exhausted>,
        final_answer: Option<Result<String, String>>,
        final_call: Option<&ToolCall>,
    ) -> Option<Step> {
        if let Some(Exhausted { tool, failures, last_error }) = budget_exceeded {
            let budget = self.inner.settings.max_tool_retries;
            let transcript = state.take_transcript();
            return Some(Step::Done(Err(Error::ToolRetriesExceeded {
                tool,
                failures,
                budget,
                last_error,
                transcript,
            })));
        }
        match final_answer {
            Some(Ok(json)) => Some(self.finish(state, json)),
            Some(Err(problem)) => {
                let raw = final_call.map(|call| call.function.arguments.clone()).unwrap_or_default();
                self.output_rejected(state, problem, &raw)
            }
            None => None,
        }
    }

    /// Counts a rejected answer; past the output retry budget the run ends (L12).
    fn output_rejected(&self, state: &mut RunState, problem: String, raw: &str) -> Option<Step> {
        state.output_attempts += 1;
        if state.output_attempts <= self.inner.settings.output_retries {
            return None;
        }
        Some(Step::Done(Err(Error::InvalidOutput {
            attempts: state.output_attempts,
            message: problem,
            raw: raw.to_owned(),
            transcript: state.take_transcript(),
        })))
    }

    fn finish(&self, state: &mut RunState, output: String) -> Step {
        Step::Done(Ok(RunResult { output, transcript: *state.take_transcript() }))
    }

    /// The error for a state stepped the wrong way; the state is left as it was.
    pub(crate) fn invalid_state(&self, state: &RunState, source: StateError) -> Error {
        Error::InvalidState { source, transcript: Box::new(state.transcript.clone()) }
    }
}

/// A tool past its budget of consecutive failures (L7).
struct Exhausted {
    tool: String,
    failures: usize,
    last_error: String,
}

/// The answer to a call the run's deadline cut short.
fn timed_out(call: &ToolCall, timeout: Duration) -> ToolCallRecord {
    let result = format!(
        "Error: the call was stopped: the run's time limit ({:.1} s) was reached before it finished.",
        timeout.as_secs_f64()
    );
    ToolCallRecord::new(call, result, ToolOutcome::TimedOut)
}

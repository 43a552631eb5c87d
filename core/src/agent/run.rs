//! The loop: request, run the calls, append the results, repeat until a turn has no tool calls (L1).

use std::collections::HashMap;
use std::sync::Arc;

use futures::StreamExt;
use tracing::Instrument;

use crate::client::ClientError;
use crate::stream::{Accumulator, Completion};
use crate::tool::{RunContext, ToolDefinition, ToolSet};
use crate::wire::{ChatRequest, FinishReason, Message, ToolChoice, Usage};

use super::builder::AgentInner;
use super::dispatch::dispatch;
use super::error::Error;
use super::events::{AgentEvent, EventQueue};
use super::ids::IdGenerator;
use super::output::OutputMode;
use super::result::{RunResult, ToolCallRecord, Transcript};
use super::session::Recovery;

/// One run in progress. Owns the request, whose `messages` is the transcript: each turn sends the same
/// growing history by reference, never a copy.
pub(crate) struct Run {
    agent: Arc<AgentInner>,
    context: RunContext,
    request: ChatRequest,
    usage: Usage,
    turns: usize,
    records: Vec<ToolCallRecord>,
    failures: HashMap<String, usize>,
    ids: IdGenerator,
    output: OutputMode,
    output_attempts: usize,
    events: Option<EventQueue>,
    recovery: Option<Recovery>,
    /// This turn's tools when the agent has tool sources (else the agent's own set).
    turn_tools: Option<ToolSet>,
}

impl Drop for Run {
    fn drop(&mut self) {
        // A cancelled session exchange gets its history back (see `Session`).
        if let Some(recovery) = self.recovery.take()
            && let Ok(mut slot) = recovery.lock()
        {
            *slot = Some(std::mem::take(&mut self.request.messages));
        }
    }
}

impl Run {
    /// A run that continues `messages` (instructions and input already in place).
    pub(crate) fn new(
        agent: Arc<AgentInner>,
        context: RunContext,
        messages: Vec<Message>,
        output: OutputMode,
        events: Option<EventQueue>,
    ) -> Self {
        let settings = &agent.settings;
        let mut tools: Vec<ToolDefinition> = agent.tools.definitions().to_vec();
        if let Some(definition) = output.tool_definition() {
            tools.push(definition.clone());
        }
        let ids = IdGenerator::from_history(&messages);
        let mut request = ChatRequest::new(settings.model.clone(), messages);
        request.temperature = settings.temperature;
        request.max_tokens = settings.max_tokens;
        if !tools.is_empty() {
            // Providers reject `tool_choice` and `parallel_tool_calls` without `tools`.
            request.tool_choice = settings.tool_choice.clone();
            request.parallel_tool_calls = settings.parallel_tool_calls;
        }
        request.tools = tools;
        request.response_format = output.response_format().or_else(|| settings.response_format.clone());
        Run {
            agent,
            context,
            request,
            usage: Usage::default(),
            turns: 0,
            records: Vec::new(),
            failures: HashMap::new(),
            ids,
            output,
            output_attempts: 0,
            events,
            recovery: None,
            turn_tools: None,
        }
    }

    /// Reads the agent's tool sources for the coming turn: the request offers, and dispatch finds, what they
    /// hold now.
    fn refresh_tools(&mut self) {
        let Some(tools) = self.agent.turn_tools() else { return };
        let mut definitions = tools.definitions().to_vec();
        if let Some(definition) = self.output.tool_definition() {
            definitions.push(definition.clone());
        }
        let settings = &self.agent.settings;
        if definitions.is_empty() {
            // Providers reject `tool_choice` and `parallel_tool_calls` without `tools`.
            self.request.tool_choice = None;
            self.request.parallel_tool_calls = None;
        } else if self.request.tools.is_empty() {
            self.request.tool_choice =
                if self.turns == 0 || settings.keep_tool_choice || !is_forced(settings.tool_choice.as_ref()) {
                    settings.tool_choice.clone()
                } else {
                    None
                };
            self.request.parallel_tool_calls = settings.parallel_tool_calls;
        }
        self.request.tools = definitions;
        self.turn_tools = Some(tools);
    }

    /// On drop before the end, leave the messages in `recovery`.
    pub(crate) fn recover_into(&mut self, recovery: Recovery) {
        self.recovery = Some(recovery);
    }

    /// Runs to the final answer.
    pub(crate) async fn drive(self) -> Result<RunResult, Error> {
        let span = tracing::info_span!(
            "toolsmith.run",
            model = %self.request.model,
            tools = self.request.tools.len(),
            turns = tracing::field::Empty,
        );
        self.drive_inner().instrument(span).await
    }

    async fn drive_inner(mut self) -> Result<RunResult, Error> {
        loop {
            if self.turns >= self.agent.settings.max_turns {
                let max_turns = self.agent.settings.max_turns;
                return Err(Error::MaxTurns { max_turns, transcript: self.take_transcript() });
            }
            if self.turns > 0 && !self.agent.settings.keep_tool_choice && is_forced(self.request.tool_choice.as_ref()) {
                // L10: a forced choice applies to the first request only, so the loop cannot spin forever.
                self.request.tool_choice = None;
            }
            self.refresh_tools();
            let turn = self.turns + 1;
            let completion = match self.complete().instrument(tracing::info_span!("toolsmith.turn", turn)).await {
                Ok(completion) => completion,
                Err(source) => return Err(Error::Client { source, transcript: self.take_transcript() }),
            };
            self.turns = turn;
            tracing::Span::current().record("turns", turn);
            if let Some(usage) = &completion.usage {
                self.usage += usage.clone();
            }
            self.emit(AgentEvent::TurnFinished {
                turn,
                finish_reason: completion.finish_reason.clone(),
                usage: completion.usage.clone(),
            });

            // L2: a cut-off turn runs nothing; its calls may carry truncated arguments (Q5).
            if matches!(completion.finish_reason, FinishReason::Length | FinishReason::ContentFilter) {
                return Err(Error::Truncated {
                    finish_reason: completion.finish_reason.clone(),
                    completion: Box::new(completion),
                    transcript: self.take_transcript(),
                });
            }

            let mut message = completion.message;
            // L1/Q1: tool calls decide whether the loop goes on, whatever `finish_reason` says.
            if message.tool_calls.is_empty() {
                if let Some(refusal) = message.refusal.take().filter(|refusal| !refusal.is_empty())
                    && message.text().is_empty()
                {
                    return Err(Error::Refusal { refusal, transcript: self.take_transcript() });
                }
                let text = message.text();
                self.request.messages.push(Message::Assistant(message));
                match self.output.check_answer(&text) {
                    Ok(()) => return Ok(self.finish(text)),
                    Err(problem) => {
                        self.output_attempts += 1;
                        if self.output_attempts > self.agent.settings.output_retries {
                            return Err(Error::InvalidOutput {
                                attempts: self.output_attempts,
                                message: problem,
                                raw: text,
                                transcript: self.take_transcript(),
                            });
                        }
                        let correction = self.output.correction(&problem);
                        self.request.messages.push(Message::user(correction));
                        continue;
                    }
                }
            }

            self.ids.assign(&mut message.tool_calls);
            // Q22: never replay an empty name: providers reject the whole history.
            for call in &mut message.tool_calls {
                if call.function.name.is_empty() {
                    call.function.name = "unnamed_tool".to_owned();
                }
            }
            let calls = message.tool_calls.clone();
            self.request.messages.push(Message::Assistant(message));

            let final_index = self.output.final_call_index(&calls);
            let outcomes = match final_index {
                None => {
                    dispatch(&self.agent, self.turn_tools.as_ref(), &calls, &self.context, self.events.as_ref()).await
                }
                Some(index) => {
                    let mut function_calls = calls.clone();
                    function_calls.remove(index);
                    dispatch(
                        &self.agent,
                        self.turn_tools.as_ref(),
                        &function_calls,
                        &self.context,
                        self.events.as_ref(),
                    )
                    .await
                }
            };

            // L9: one tool message per call, right after the assistant turn, in call order.
            let mut final_answer = None;
            let mut outcomes = outcomes.into_iter();
            let mut budget_exceeded = None;
            for (index, call) in calls.iter().enumerate() {
                if Some(index) == final_index {
                    let (text, answer) = self.output.take_final_call(call);
                    self.request.messages.push(Message::tool(call.id.clone(), text));
                    final_answer = Some(answer);
                    continue;
                }
                let Some(outcome) = outcomes.next() else { break };
                let failed = outcome.outcome.counts_as_failure();
                let failures = self.failures.entry(call.function.name.clone()).or_insert(0);
                *failures = if failed { *failures + 1 } else { 0 };
                if failed && *failures > self.agent.settings.max_tool_retries && budget_exceeded.is_none() {
                    budget_exceeded = Some((call.function.name.clone(), *failures, outcome.text.clone()));
                }
                self.request.messages.push(Message::tool(call.id.clone(), outcome.text.clone()));
                self.records.push(ToolCallRecord {
                    id: call.id.clone(),
                    name: call.function.name.clone(),
                    arguments: outcome.arguments,
                    result: outcome.text,
                    outcome: outcome.outcome,
                    duration: outcome.duration,
                });
            }
            if let Some((tool, failures, last_error)) = budget_exceeded {
                let budget = self.agent.settings.max_tool_retries;
                return Err(Error::ToolRetriesExceeded {
                    tool,
                    failures,
                    budget,
                    last_error,
                    transcript: self.take_transcript(),
                });
            }
            match final_answer {
                Some(Ok(json)) => return Ok(self.finish(json)),
                Some(Err(problem)) => {
                    self.output_attempts += 1;
                    if self.output_attempts > self.agent.settings.output_retries {
                        return Err(Error::InvalidOutput {
                            attempts: self.output_attempts,
                            message: problem,
                            raw: final_index
                                .and_then(|index| calls.get(index))
                                .map(|call| call.function.arguments.clone())
                                .unwrap_or_default(),
                            transcript: self.take_transcript(),
                        });
                    }
                }
                None => {}
            }
        }
    }

    /// One model turn: a plain request, or a streamed one whose text is forwarded as it arrives.
    async fn complete(&mut self) -> Result<Completion, ClientError> {
        let Some(events) = self.events.clone() else {
            return self.agent.client.chat(&self.request).await?.into_completion();
        };
        let mut stream = self.agent.client.chat_stream(&self.request).await?;
        let mut accumulator = Accumulator::new();
        while let Some(chunk) = stream.next().await {
            let mut chunk = chunk?;
            accumulator.push(&chunk)?;
            for choice in chunk.choices.iter_mut().filter(|choice| choice.index == 0) {
                if let Some(text) = choice.delta.reasoning_content.take().filter(|text| !text.is_empty()) {
                    events.push(AgentEvent::ReasoningDelta(text));
                }
                if let Some(text) = choice.delta.content.take().filter(|text| !text.is_empty()) {
                    events.push(AgentEvent::TextDelta(text));
                }
            }
        }
        accumulator.finish()
    }

    fn emit(&self, event: AgentEvent) {
        if let Some(events) = &self.events {
            events.push(event);
        }
    }

    fn finish(mut self, output: String) -> RunResult {
        RunResult {
            output,
            messages: std::mem::take(&mut self.request.messages),
            usage: std::mem::take(&mut self.usage),
            turns: self.turns,
            tool_calls: std::mem::take(&mut self.records),
        }
    }

    fn take_transcript(&mut self) -> Box<Transcript> {
        Box::new(Transcript {
            messages: std::mem::take(&mut self.request.messages),
            usage: std::mem::take(&mut self.usage),
            turns: self.turns,
            tool_calls: std::mem::take(&mut self.records),
        })
    }
}

fn is_forced(choice: Option<&ToolChoice>) -> bool {
    matches!(choice, Some(ToolChoice::Required | ToolChoice::Function(_)))
}

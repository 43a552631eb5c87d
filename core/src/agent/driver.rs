//! The in-process driver behind [`Agent::run`](super::Agent::run), [`Agent::stream`](super::Agent::stream)
//! and [`Session`](super::Session): steps the machine and performs each effect right here, the calls of a
//! turn concurrently (L8).

use std::panic::AssertUnwindSafe;

use futures::FutureExt;
use tokio::task::JoinSet;
use tokio::time::Instant;
use tracing::Instrument;

use crate::tool::{crashed_text, panic_message};
use crate::wire::ToolCall;

use super::Agent;
use super::error::Error;
use super::events::{AgentEvent, EventQueue};
use super::machine::Step;
use super::model::{self, Deadline, TurnFailure};
use super::result::{RunResult, ToolCallRecord, ToolOutcome};
use super::state::{PendingCall, RunState, StateError};
use super::telemetry;

/// Runs `state` to its end.
pub(crate) async fn drive(
    agent: &Agent,
    state: &mut RunState,
    events: Option<&EventQueue>,
) -> Result<RunResult, Error> {
    let settings = &agent.inner.settings;
    let span = telemetry::invoke_agent(settings.name.as_deref(), agent.provider_name(), &settings.model);
    let result = telemetry::in_span!(span, steps(agent, state, events));
    match &result {
        Ok(run) => telemetry::record_usage(&span, &run.usage),
        Err(error) => {
            telemetry::record_usage(&span, &error.transcript().usage);
            telemetry::record_error(&span, &telemetry::run_error_type(error));
        }
    }
    result
}

async fn steps(agent: &Agent, state: &mut RunState, events: Option<&EventQueue>) -> Result<RunResult, Error> {
    // Built once per run; each turn lends it the history. Boxed: it is large, and the run's future, which
    // holds it, is moved as it starts.
    let mut template = Box::new(agent.request_template());
    let timeout = agent.inner.settings.run_timeout;
    let mut deadline = Deadline::new(timeout.and_then(|timeout| Instant::now().checked_add(timeout)));
    loop {
        match agent.next_step(state) {
            Step::Model(request) => {
                let turn = request.turn();
                let turn_done = model::complete(agent, &mut template, state, request, events, &mut deadline);
                let completion = match turn_done.await {
                    Ok(completion) => completion,
                    Err(TurnFailure::Client { source, partial }) => return Err(agent.fail_turn(state, source, partial)),
                    Err(TurnFailure::Deadline { partial }) => {
                        return Err(agent.time_out(state, timeout.unwrap_or_default(), partial));
                    }
                };
                if let Some(events) = events {
                    events.push(AgentEvent::TurnFinished {
                        turn,
                        finish_reason: completion.finish_reason.clone(),
                        usage: completion.usage.clone().map(Box::new),
                    });
                }
                if let Err(source) = agent.record_boxed(state, completion) {
                    return Err(agent.invalid_state(state, source));
                }
            }
            Step::Tools(calls) => {
                let finished = deadline.race(std::pin::pin!(run_calls(agent, state, calls, events))).await;
                match finished {
                    Some(Ok(())) => {}
                    Some(Err(source)) => return Err(agent.invalid_state(state, source)),
                    None => return Err(agent.time_out(state, timeout.unwrap_or_default(), None)),
                }
            }
            Step::Done(result) => return result,
        }
    }
}

/// Runs the calls, at most `concurrency` at once, recording each into `state` as it finishes.
async fn run_calls(
    agent: &Agent,
    state: &mut RunState,
    mut calls: Vec<PendingCall>,
    events: Option<&EventQueue>,
) -> Result<(), StateError> {
    // One call needs no task: run it right here and save the spawn.
    if calls.len() == 1
        && let Some(call) = calls.pop()
    {
        announce(events, &call);
        let index = call.index;
        // The call moves in whole: its id, name and arguments become the record's, uncopied. `call_tool`
        // catches the tool's panics; this catches one escaping it (a panicking drop), as a task would, and
        // rebuilds that rare record from the run's own copy of the call.
        let record = match AssertUnwindSafe(agent.call_tool_owned(call)).catch_unwind().await {
            Ok(record) => record,
            Err(panic) => {
                let Some(call) = state.tool_call(index) else {
                    return Err(StateError::Unexpected(format!("call {index} is not pending")));
                };
                Box::new(crashed_record(call, panic_message(panic.as_ref())))
            }
        };
        report(events, &record);
        return agent.record_boxed_call(state, record);
    }
    let limit = agent.inner.settings.concurrency.min(calls.len()).max(1);
    // Dropping the set (the run was cancelled) aborts every call still running.
    let mut running = JoinSet::new();
    let mut tasks = Vec::with_capacity(calls.len());
    let mut queued = calls.iter().enumerate();
    let spawn = |running: &mut JoinSet<_>, index: usize, call: &PendingCall| {
        announce(events, call);
        let (agent, call, events) = (agent.clone(), call.clone(), events.cloned());
        // `in_current_span`: the call's `execute_tool` span stays a child of the run's.
        let task = running.spawn(
            async move {
                // The task's own copy of the call moves into the record.
                let record = agent.call_tool_owned(call).await;
                // Pushed before the task completes, which wakes the run.
                report(events.as_ref(), &record);
                record
            }
            .in_current_span(),
        );
        (task.id(), index)
    };
    for (index, call) in queued.by_ref().take(limit) {
        tasks.push(spawn(&mut running, index, call));
    }
    while let Some(joined) = running.join_next().await {
        let record = match joined {
            Ok(record) => Some(record),
            Err(error) => tasks.iter().find(|(id, _)| *id == error.id()).map(|&(_, index)| {
                let record = Box::new(lost(&calls[index].call, error));
                report(events, &record);
                record
            }),
        };
        if let Some(record) = record {
            agent.record_boxed_call(state, record)?;
        }
        if let Some((index, call)) = queued.next() {
            tasks.push(spawn(&mut running, index, call));
        }
    }
    Ok(())
}

/// The record of a call whose task ended without one: it panicked outside the tool's own guard, or the
/// runtime is shutting down.
fn lost(call: &ToolCall, error: tokio::task::JoinError) -> ToolCallRecord {
    if error.is_panic() {
        return crashed_record(call, panic_message(error.into_panic().as_ref()));
    }
    ToolCallRecord::new(call, "Error: the tool call was cancelled before it finished.", ToolOutcome::Failed)
}

/// The record of a call that panicked outside the tool's own guard.
fn crashed_record(call: &ToolCall, message: String) -> ToolCallRecord {
    let name = &call.function.name;
    tracing::error!(tool = %name, panic = %message, "a tool call panicked");
    ToolCallRecord { detail: Some(message), ..ToolCallRecord::new(call, crashed_text(name), ToolOutcome::Panicked) }
}

/// Reports the call as started: done when it is handed to its task, so events come in call order.
fn announce(events: Option<&EventQueue>, call: &PendingCall) {
    if let Some(events) = events {
        events.push(AgentEvent::ToolCallStarted {
            id: call.call.id.clone(),
            name: call.call.function.name.clone(),
            arguments: call.call.function.arguments.clone(),
        });
    }
}

fn report(events: Option<&EventQueue>, record: &ToolCallRecord) {
    if let Some(events) = events {
        events.push(AgentEvent::ToolCallFinished {
            id: record.id.clone(),
            name: record.name.clone(),
            result: record.result.clone(),
            outcome: record.outcome,
            is_error: record.outcome.is_error(),
            duration: record.duration,
        });
    }
}

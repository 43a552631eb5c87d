//! The in-process driver behind [`Agent::run`](super::Agent::run), [`Agent::stream`](super::Agent::stream)
//! and [`Session`](super::Session): steps the machine and performs each effect right here, the calls of a
//! turn concurrently (L8).

use tokio::task::JoinSet;
use tracing::Instrument;

use super::Agent;
use super::error::Error;
use super::events::{AgentEvent, EventQueue};
use super::machine::Step;
use super::model;
use super::result::{RunResult, ToolCallRecord, ToolOutcome};
use super::state::{PendingCall, RunState};
use super::tool_call::{crashed, panic_message};

/// Runs `state` to its end.
pub(crate) async fn drive(
    agent: &Agent,
    state: &mut RunState,
    events: Option<&EventQueue>,
) -> Result<RunResult, Error> {
    let span = tracing::info_span!(
        "toolsmith.run",
        model = %agent.inner.settings.model,
        tools = agent.inner.tools.len(),
        turns = tracing::field::Empty,
    );
    steps(agent, state, events).instrument(span).await
}

async fn steps(agent: &Agent, state: &mut RunState, events: Option<&EventQueue>) -> Result<RunResult, Error> {
    // Built once per run; each turn lends it the history.
    let mut template = agent.request_template();
    loop {
        match agent.next_step(state) {
            Step::Model(request) => {
                let turn = request.turn();
                let span = tracing::info_span!("toolsmith.turn", turn);
                let completion =
                    match model::complete(agent, &mut template, state, request, events).instrument(span).await {
                        Ok(completion) => completion,
                        Err(source) => return Err(agent.fail_request(state, source)),
                    };
                tracing::Span::current().record("turns", turn);
                if let Some(events) = events {
                    events.push(AgentEvent::TurnFinished {
                        turn,
                        finish_reason: completion.finish_reason.clone(),
                        usage: completion.usage.clone(),
                    });
                }
                if let Err(source) = agent.record_completion(state, completion) {
                    return Err(agent.invalid_state(state, source));
                }
            }
            Step::Tools(calls) => {
                for record in run_calls(agent, calls, events).await {
                    if let Err(source) = agent.record_tool_call(state, record) {
                        return Err(agent.invalid_state(state, source));
                    }
                }
            }
            Step::Done(result) => return result,
        }
    }
}

/// Runs the calls, at most `concurrency` at once, and returns their records in call order.
async fn run_calls(agent: &Agent, calls: Vec<PendingCall>, events: Option<&EventQueue>) -> Vec<ToolCallRecord> {
    // One call needs no task: run it right here and save the spawn.
    if let [call] = calls.as_slice() {
        announce(events, call);
        let record = agent.call_tool(call).await;
        report(events, &record);
        return vec![record];
    }
    let limit = agent.inner.settings.concurrency.min(calls.len()).max(1);
    let mut records: Vec<Option<ToolCallRecord>> = calls.iter().map(|_| None).collect();
    // Dropping the set (the run was cancelled) aborts every call still running.
    let mut running = JoinSet::new();
    let mut tasks = Vec::with_capacity(calls.len());
    let mut queued = calls.iter().enumerate();
    let spawn = |running: &mut JoinSet<_>, index: usize, call: &PendingCall| {
        announce(events, call);
        let (agent, call, events) = (agent.clone(), call.clone(), events.cloned());
        let task = running.spawn(async move {
            let record = agent.call_tool(&call).await;
            // Pushed before the task completes, which wakes the run.
            report(events.as_ref(), &record);
            (index, record)
        });
        (task.id(), index)
    };
    for (index, call) in queued.by_ref().take(limit) {
        tasks.push(spawn(&mut running, index, call));
    }
    while let Some(joined) = running.join_next().await {
        match joined {
            Ok((index, record)) => records[index] = Some(record),
            Err(error) => {
                if let Some(&(_, index)) = tasks.iter().find(|(id, _)| *id == error.id()) {
                    let record = lost(&calls[index], error);
                    report(events, &record);
                    records[index] = Some(record);
                }
            }
        }
        if let Some((index, call)) = queued.next() {
            tasks.push(spawn(&mut running, index, call));
        }
    }
    records.into_iter().flatten().collect()
}

/// The record of a call whose task ended without one: it panicked outside the tool's own guard, or the
/// runtime is shutting down.
fn lost(call: &PendingCall, error: tokio::task::JoinError) -> ToolCallRecord {
    let name = call.call.function.name.clone();
    let (result, outcome, detail) = if error.is_panic() {
        let message = panic_message(error.into_panic().as_ref());
        tracing::error!(tool = %name, panic = %message, "a tool call's task panicked");
        (crashed(&name), ToolOutcome::Panicked, Some(message))
    } else {
        ("Error: the tool call was cancelled before it finished.".to_owned(), ToolOutcome::Failed, None)
    };
    ToolCallRecord {
        id: call.call.id.clone(),
        name,
        arguments: call.call.function.arguments.clone(),
        result,
        outcome,
        duration: std::time::Duration::ZERO,
        detail,
    }
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

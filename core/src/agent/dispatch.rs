//! Runs the tool calls of one turn: concurrently, each isolated (panics caught, timeouts enforced), with
//! results returned in call order (L8, L9).

use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::FutureExt;
use tokio::task::JoinSet;
use tracing::Instrument;

use crate::tool::{RunContext, Tool, ToolContext, ToolError, ToolSet, crashed_text, panic_message};
use crate::wire::ToolCall;

use super::builder::AgentInner;
use super::events::{AgentEvent, EventQueue};
use super::hook::{Approval, BeforeToolCall};
use super::result::ToolOutcome;

/// How one call ended: the text for its tool message and what to record.
pub(crate) struct CallOutcome {
    pub arguments: String,
    pub text: String,
    pub outcome: ToolOutcome,
    pub duration: Duration,
}

/// Everything one call needs, owned, so it can run on its own task.
struct PreparedCall {
    call: ToolCall,
    tool: Option<Arc<dyn Tool>>,
    available: Arc<str>,
    hook: Option<Arc<dyn BeforeToolCall>>,
    context: RunContext,
    timeout: Option<Duration>,
    events: Option<EventQueue>,
}

/// Runs `calls` and returns one outcome per call, in the calls' order, whatever order they finish in. `tools`
/// is this turn's set when the agent has tool sources, else the agent's own.
pub(crate) async fn dispatch(
    agent: &AgentInner,
    tools: Option<&ToolSet>,
    calls: &[ToolCall],
    context: &RunContext,
    events: Option<&EventQueue>,
) -> Vec<CallOutcome> {
    let set = tools.unwrap_or(&agent.tools);
    let tools: Vec<Option<Arc<dyn Tool>>> = calls.iter().map(|call| set.get(&call.function.name).cloned()).collect();
    // The list of tools is only needed to answer a call to an unknown one.
    let available: Arc<str> =
        if tools.iter().any(Option::is_none) { available_tools(set).into() } else { Arc::from("") };
    let mut prepared = calls.iter().zip(tools).map(|(call, tool)| PreparedCall {
        tool,
        call: call.clone(),
        available: available.clone(),
        hook: agent.hook.clone(),
        context: context.clone(),
        timeout: agent.settings.tool_timeout,
        events: events.cloned(),
    });

    // One call needs no task: run it right here and save the spawn.
    if calls.len() == 1 {
        return match prepared.next() {
            Some(call) => {
                announce(&call);
                vec![run_call(call).await]
            }
            None => Vec::new(),
        };
    }

    let limit = agent.settings.concurrency.min(calls.len()).max(1);
    let mut slots: Vec<Option<CallOutcome>> = calls.iter().map(|_| None).collect();
    // Dropping the set (the run was cancelled) aborts every call still running.
    let mut running = JoinSet::new();
    let mut queued = prepared.enumerate();
    for (index, call) in queued.by_ref().take(limit) {
        announce(&call);
        running.spawn(run_call(call).map(move |outcome| (index, outcome)));
    }
    while let Some(joined) = running.join_next().await {
        // `run_call` catches panics itself, so a join error means the runtime is shutting down.
        if let Ok((index, outcome)) = joined
            && let Some(slot) = slots.get_mut(index)
        {
            *slot = Some(outcome);
        }
        if let Some((index, call)) = queued.next() {
            announce(&call);
            running.spawn(run_call(call).map(move |outcome| (index, outcome)));
        }
    }
    slots
        .into_iter()
        .zip(calls)
        .map(|(slot, call)| {
            slot.unwrap_or_else(|| CallOutcome {
                arguments: call.function.arguments.clone(),
                text: "Error: the tool call was cancelled before it finished.".to_owned(),
                outcome: ToolOutcome::Failed,
                duration: Duration::ZERO,
            })
        })
        .collect()
}

fn available_tools(tools: &ToolSet) -> String {
    let names: Vec<String> = tools.names().map(|name| format!("`{name}`")).collect();
    if names.is_empty() { "none".to_owned() } else { names.join(", ") }
}

/// Reports the call as started: done when it is handed to its task, so events come in call order.
fn announce(prepared: &PreparedCall) {
    if let Some(events) = &prepared.events {
        events.push(AgentEvent::ToolCallStarted {
            id: prepared.call.id.clone(),
            name: prepared.call.function.name.clone(),
            arguments: prepared.call.function.arguments.clone(),
        });
    }
}

async fn run_call(prepared: PreparedCall) -> CallOutcome {
    let PreparedCall { call, tool, available, hook, context, timeout, events } = prepared;
    let name = call.function.name.clone();
    let span =
        tracing::info_span!("toolsmith.tool_call", tool = %name, call_id = %call.id, outcome = tracing::field::Empty);
    let started = Instant::now();
    let id = call.id.clone();
    let (arguments, text, outcome) =
        execute(call, tool, &available, hook, context, timeout).instrument(span.clone()).await;
    let duration = started.elapsed();
    span.record("outcome", tracing::field::debug(outcome));
    tracing::debug!(parent: &span, ?duration, "tool call finished");
    if let Some(events) = &events {
        events.push(AgentEvent::ToolCallFinished {
            id,
            name,
            result: text.clone(),
            outcome,
            is_error: outcome.is_error(),
            duration,
        });
    }
    CallOutcome { arguments, text, outcome, duration }
}

async fn execute(
    call: ToolCall,
    tool: Option<Arc<dyn Tool>>,
    available: &str,
    hook: Option<Arc<dyn BeforeToolCall>>,
    context: RunContext,
    timeout: Option<Duration>,
) -> (String, String, ToolOutcome) {
    let name = call.function.name.clone();
    let Some(tool) = tool else {
        // L6: tell the model what exists, so it can pick a real tool.
        let text = format!("Error: there is no tool named `{name}`. Available tools: {available}.");
        return (call.function.arguments, text, ToolOutcome::UnknownTool);
    };
    let ctx = ToolContext::new(call.id.clone(), name.clone(), context);
    let mut arguments = call.function.arguments.clone();
    if let Some(hook) = hook {
        match hook.before_tool_call(call, ctx.clone()).await {
            Approval::Approve => {}
            Approval::Deny(reason) => {
                let text = format!("The call to `{name}` was not run: {reason}");
                return (arguments, text, ToolOutcome::Denied);
            }
            Approval::Rewrite(rewritten) => arguments = rewritten,
        }
    }
    let (text, outcome) = invoke(tool.as_ref(), &name, &arguments, &ctx, timeout).await;
    (arguments, text, outcome)
}

/// Calls the tool, catching panics and enforcing the timeout.
async fn invoke(
    tool: &dyn Tool,
    name: &str,
    arguments: &str,
    ctx: &ToolContext,
    timeout: Option<Duration>,
) -> (String, ToolOutcome) {
    // L4: a panicking tool is caught, whether it panics building its future or while it runs.
    let called = std::panic::catch_unwind(AssertUnwindSafe(|| tool.call(arguments, ctx)));
    let result = match called {
        Err(panic) => Err(panic),
        Ok(future) => {
            let guarded = AssertUnwindSafe(future).catch_unwind();
            match timeout {
                None => guarded.await,
                Some(limit) => match tokio::time::timeout(limit, guarded).await {
                    Ok(result) => result,
                    Err(_) => {
                        let text = format!(
                            "Error: the tool `{name}` did not finish within {:.1} s and was stopped.",
                            limit.as_secs_f64()
                        );
                        return (text, ToolOutcome::TimedOut);
                    }
                },
            }
        }
    };
    match result {
        Ok(Ok(text)) => (text, ToolOutcome::Success),
        Ok(Err(error @ ToolError::InvalidArguments(_))) => (error.model_text(name), ToolOutcome::InvalidArguments),
        Ok(Err(error @ ToolError::Failed(_))) => (error.model_text(name), ToolOutcome::Failed),
        Err(panic) => {
            let message = panic_message(panic.as_ref());
            tracing::error!(tool = %name, panic = %message, "tool panicked");
            (crashed_text(name, &message), ToolOutcome::Panicked)
        }
    }
}

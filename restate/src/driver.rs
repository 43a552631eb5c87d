//! Drives the agent's step machine inside a Restate handler: each model turn and each tool call is one
//! journaled `ctx.run`, so a replay after a crash takes every finished effect from the journal (no second
//! model request, no second tool run) and the pure step machine rebuilds the same state from them.

use std::sync::Arc;

use restate_sdk::prelude::*;
use serde::{Deserialize, Serialize};
use tokio::sync::Mutex;
use toolsmith_core::agent::{Agent, Approval, PendingCall, RunState, Step, ToolCallRecord};
use toolsmith_core::stream::Completion;

use crate::approval::{request_approvals, settle};
use crate::durable::{DurableRun, Shared};
use crate::outcome::RunOutcome;

/// A model turn as the journal keeps it. A failure the client gave up on is kept too, so a replay ends the
/// run the same way instead of asking the model again.
#[derive(Serialize, Deserialize)]
#[serde(tag = "turn", rename_all = "snake_case")]
enum ModelTurn {
    Answered { completion: Box<Completion> },
    Failed { error: String },
}

/// Runs `state` to its end, journaling every effect in `ctx`.
pub(crate) async fn drive(
    shared: &Shared,
    service: &'static str,
    ctx: &ObjectContext<'_>,
    state: RunState,
) -> HandlerResult<RunOutcome> {
    let run = DurableRun { service, key: ctx.key().to_owned(), invocation_id: ctx.invocation_id().to_owned() };
    let agent = &shared.agent_for(run);
    // Shared with the journaled closures (which must own what they use); only one step runs at a time, so
    // the lock is never contended.
    let state = Arc::new(Mutex::new(state));
    loop {
        let step = agent.next_step(&mut *state.lock().await);
        match step {
            Step::Model(request) => {
                let turn = request.turn();
                let (requester, lent) = (agent.clone(), state.clone());
                let journaled = ctx
                    .run(|| async move {
                        let mut state = lent.lock().await;
                        match requester.request_model(&mut state, request).await {
                            Ok(completion) => Ok(Json(ModelTurn::Answered { completion: Box::new(completion) })),
                            // Restate retries the step (with its replay) under the policy below.
                            Err(error) if error.is_retryable() => Err(HandlerError::from(error)),
                            Err(error) => Ok(Json(ModelTurn::Failed { error: error.to_string() })),
                        }
                    })
                    .retry_policy(shared.model_retry.clone())
                    .name(format!("model turn {turn}"))
                    .await;
                let turn = match journaled {
                    Ok(Json(turn)) => turn,
                    // The retries ran out: journaled as a terminal failure, so a replay ends here too.
                    Err(terminal) => ModelTurn::Failed { error: terminal.message().to_owned() },
                };
                let mut state = state.lock().await;
                match turn {
                    ModelTurn::Answered { completion } => {
                        agent.record_completion(&mut state, *completion).map_err(TerminalError::from_error)?;
                    }
                    ModelTurn::Failed { error } => {
                        let transcript = state.transcript().clone();
                        return Ok(RunOutcome::Failed { error: format!("model request failed: {error}"), transcript });
                    }
                }
            }
            Step::Tools(calls) => {
                let needs_approval = |call: &PendingCall| shared.needs_approval(&call.call);
                let waits = request_approvals(ctx, &calls, &needs_approval);
                // One after another: restate-sdk 0.13 journals one `ctx.run` at a time.
                for (call, wait) in calls.into_iter().zip(waits) {
                    let approval = match wait {
                        Some(wait) => {
                            let approval = wait.decided().await;
                            settle(ctx, &call.call.id).await?;
                            Some(approval)
                        }
                        None => None,
                    };
                    let record = call_tool(agent, ctx, call, approval).await?;
                    agent.record_tool_call(&mut *state.lock().await, record).map_err(TerminalError::from_error)?;
                }
            }
            Step::Done(result) => return Ok(RunOutcome::from(result)),
        }
    }
}

/// One journaled tool call: the agent's own hook and the tool, or the tool under a person's decision.
async fn call_tool(
    agent: &Agent,
    ctx: &ObjectContext<'_>,
    call: PendingCall,
    approval: Option<Approval>,
) -> Result<ToolCallRecord, TerminalError> {
    let agent = agent.clone();
    let name = format!("tool {} {}", call.call.function.name, call.call.id);
    let Json(record) = ctx
        .run(|| async move {
            let record = match approval {
                Some(approval) => agent.execute_tool(&call, Ok(approval)).await,
                None => agent.call_tool(&call).await,
            };
            Ok(Json(record))
        })
        .name(name)
        .await?;
    Ok(record)
}

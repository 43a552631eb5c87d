//! The two Restate virtual objects: `AgentRun` (one run per key) and `AgentSession` (one conversation per
//! key, its messages kept as object state).

use std::sync::Arc;

use restate_sdk::prelude::*;
use serde::{Deserialize, Serialize};
use toolsmith_core::agent::{RunState, StateError};
use toolsmith_core::wire::{Content, Message, TextMessage};

use crate::approval::{self, Decision, PendingApproval};
use crate::driver::drive;
use crate::durable::Shared;
use crate::outcome::RunOutcome;

/// The service names, as the HTTP paths spell them.
const RUN: &str = "AgentRun";
const SESSION: &str = "AgentSession";

/// The object-state key of a session's history.
const HISTORY_KEY: &str = "history";

/// The format of a session's stored history that this build writes, and the newest it reads.
pub const SESSION_STATE_VERSION: u32 = 1;

/// A session's history as object state, versioned like [`RunState`].
#[derive(Serialize, Deserialize)]
struct StoredHistory {
    version: u32,
    messages: Vec<Message>,
}

/// Runs of the agent, one per key (`/AgentRun/{run id}/...`): the key names the run, so its approvals can be
/// listed and decided by name. Made by [`DurableAgent::runs`](crate::DurableAgent::runs).
pub struct AgentRun {
    shared: Arc<Shared>,
}

impl AgentRun {
    pub(crate) fn new(shared: Arc<Shared>) -> Self {
        AgentRun { shared }
    }
}

#[restate_sdk::object(client_visibility = "pub(crate)")]
impl AgentRun {
    /// Runs the agent on the input (a JSON string, or content parts) to its end and returns the
    /// [`RunOutcome`].
    #[handler]
    async fn run(&self, ctx: ObjectContext<'_>, input: Json<Content>) -> HandlerResult<Json<RunOutcome>> {
        let state = self.shared.agent.start(input.into_inner());
        Ok(Json(drive(&self.shared, RUN, &ctx, state).await?))
    }

    /// Continues a [`RunState`] saved elsewhere (e.g. by an in-process driver) to its end. A state from a
    /// newer toolsmith is refused with status 400 and the reason.
    #[handler]
    async fn resume(&self, ctx: ObjectContext<'_>, state: Json<serde_json::Value>) -> HandlerResult<Json<RunOutcome>> {
        let state = RunState::from_json(&state.into_inner().to_string()).map_err(refused)?;
        Ok(Json(drive(&self.shared, RUN, &ctx, state).await?))
    }

    /// The calls of the running run that wait for a person.
    #[handler]
    async fn approvals(&self, ctx: SharedObjectContext<'_>) -> HandlerResult<Json<Vec<PendingApproval>>> {
        Ok(Json(approval::pending(&ctx).await?))
    }

    /// Decides a waiting call; the run resumes.
    #[handler]
    async fn decide(&self, ctx: SharedObjectContext<'_>, decision: Json<Decision>) -> HandlerResult<()> {
        Ok(approval::decide(&ctx, decision.into_inner()).await?)
    }
}

/// Conversations with the agent, one per key (`/AgentSession/{conversation}/...`). Restate runs one
/// exclusive handler per key at a time, so a conversation's messages are processed in order, each seeing
/// the history the previous one left. Made by [`DurableAgent::sessions`](crate::DurableAgent::sessions).
pub struct AgentSession {
    shared: Arc<Shared>,
}

impl AgentSession {
    pub(crate) fn new(shared: Arc<Shared>) -> Self {
        AgentSession { shared }
    }
}

#[restate_sdk::object(client_visibility = "pub(crate)")]
impl AgentSession {
    /// Sends one message and runs until the model answers. On success the history keeps the exchange; a
    /// failed exchange leaves the history as it was (like `Session::send`).
    #[handler]
    async fn send(&self, ctx: ObjectContext<'_>, input: Json<Content>) -> HandlerResult<Json<RunOutcome>> {
        let input = input.into_inner();
        let state = match ctx.get::<Json<StoredHistory>>(HISTORY_KEY).await? {
            None => self.shared.agent.start(input),
            Some(Json(stored)) => {
                if stored.version > SESSION_STATE_VERSION {
                    return Err(TerminalError::new_with_code(
                        400,
                        format!(
                            "cannot continue: the session's history has version {}, newer than this build supports \
                             ({SESSION_STATE_VERSION}); serve it with a newer toolsmith",
                            stored.version
                        ),
                    )
                    .into());
                }
                let mut messages = stored.messages;
                messages.push(Message::User(TextMessage { content: input, name: None }));
                self.shared.agent.start_from(messages)
            }
        };
        let outcome = drive(&self.shared, SESSION, &ctx, state).await?;
        if let RunOutcome::Completed { result } = &outcome {
            let stored = StoredHistory { version: SESSION_STATE_VERSION, messages: result.messages.clone() };
            ctx.set(HISTORY_KEY, Json(stored));
        }
        Ok(Json(outcome))
    }

    /// The conversation so far.
    #[handler]
    async fn history(&self, ctx: SharedObjectContext<'_>) -> HandlerResult<Json<Vec<Message>>> {
        let stored = ctx.get::<Json<StoredHistory>>(HISTORY_KEY).await?;
        Ok(Json(stored.map(|Json(stored)| stored.messages).unwrap_or_default()))
    }

    /// Forgets the conversation.
    #[handler]
    async fn reset(&self, ctx: ObjectContext<'_>) -> HandlerResult<()> {
        ctx.clear_all();
        Ok(())
    }

    /// The calls of the running exchange that wait for a person.
    #[handler]
    async fn approvals(&self, ctx: SharedObjectContext<'_>) -> HandlerResult<Json<Vec<PendingApproval>>> {
        Ok(Json(approval::pending(&ctx).await?))
    }

    /// Decides a waiting call; the exchange resumes.
    #[handler]
    async fn decide(&self, ctx: SharedObjectContext<'_>, decision: Json<Decision>) -> HandlerResult<()> {
        Ok(approval::decide(&ctx, decision.into_inner()).await?)
    }
}

/// A state this build cannot read: a terminal 400, so Restate does not retry what can never succeed.
fn refused(error: StateError) -> TerminalError {
    TerminalError::new_with_code(400, format!("cannot resume: {error}"))
}

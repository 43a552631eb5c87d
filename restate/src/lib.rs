//! Durable toolsmith runs on [Restate](https://restate.dev): every model turn and every tool call is a
//! journaled step, so a run survives its worker being killed, runs spread over any number of workers, and a
//! tool call can wait minutes or days for a person's approval with no worker busy.
//!
//! A worker serves a [`DurableAgent`] (an ordinary [`Agent`](toolsmith_core::agent::Agent), built the same in
//! every worker) over HTTP/2; restate-server calls it, journals each step's result, and on a crash replays
//! the run on another (or the restarted) worker: finished model turns and tool calls come back from the
//! journal, so the model is not asked again and no tool body runs again.
//!
//! Two virtual objects, called through Restate's ingress (`http://127.0.0.1:8080` by default):
//!
//! | request | what it does |
//! | --- | --- |
//! | `POST /AgentRun/{run}/run` body `"input"` | one run, keyed by a run id of your choice; returns a [`RunOutcome`] |
//! | `POST /AgentRun/{run}/run/send` + `idempotency-key` header | starts it and returns `{"invocationId": ...}` at once |
//! | `GET /restate/invocation/{invocationId}/output` | the run's [`RunOutcome`] once it finished (470 before), after any disconnect |
//! | `POST /AgentRun/{run}/resume` body: a saved [`RunState`](toolsmith_core::agent::RunState) | continues a run saved by an in-process driver |
//! | `POST /AgentSession/{conversation}/send` body `"message"` | one exchange of a conversation; the history is object state |
//! | `POST /AgentSession/{conversation}/history` | the conversation so far |
//! | `POST /AgentRun/{run}/approvals` (or `AgentSession`) | the calls waiting for a person ([`PendingApproval`]) |
//! | `POST /AgentRun/{run}/decide` body [`Decision`] | approves, rewrites or denies a waiting call |
//!
//! Restate runs one exclusive handler per key at a time: a conversation's messages are processed in order.

#![warn(missing_docs)]

mod approval;
mod driver;
mod durable;
mod outcome;
mod service;

pub use approval::{Decision, PendingApproval};
pub use durable::{DurableAgent, DurableRun};
pub use outcome::RunOutcome;
pub use service::{AgentRun, AgentSession, SESSION_STATE_VERSION};

/// How Restate retries a failing model request: see [`DurableAgent::model_retry_policy`].
pub use restate_sdk::context::RunRetryPolicy;

/// The Restate SDK this crate is built on, for [`Endpoint`](restate_sdk::prelude::Endpoint) options and
/// serving several services from one worker.
pub use restate_sdk;

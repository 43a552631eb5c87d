//! The configuration of a durable agent and the endpoint that serves it.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use restate_sdk::prelude::*;
use toolsmith_core::agent::Agent;
use toolsmith_core::tool::RunContext;
use toolsmith_core::wire::ToolCall;

use crate::service::{AgentRun, AgentSession};

/// Decides, from the call alone, whether a person must approve it. It must be deterministic: a replay asks
/// it again and must get the same answer.
type ApprovalRule = dyn Fn(&ToolCall) -> bool + Send + Sync;

/// What every handler of the durable services shares.
#[derive(Clone)]
pub(crate) struct Shared {
    pub(crate) agent: Agent,
    pub(crate) approval: Option<Arc<ApprovalRule>>,
    pub(crate) model_retry: RunRetryPolicy,
    pub(crate) context: RunContext,
}

impl Shared {
    pub(crate) fn needs_approval(&self, call: &ToolCall) -> bool {
        self.approval.as_ref().is_some_and(|rule| rule(call))
    }

    /// The agent for one invocation: the tools find the [`DurableRun`] in their context.
    pub(crate) fn agent_for(&self, run: DurableRun) -> Agent {
        self.agent.with_context(self.context.clone().with(run))
    }
}

/// Which durable run a tool call belongs to, in the tools' context (`ctx.get::<DurableRun>()`).
///
/// A call whose result Restate journaled never runs again; a call cut off by a crash runs again on the next
/// attempt (at least once). A tool with an outside effect (a payment, an email) should pass
/// [`idempotency_key`](Self::idempotency_key) to the system it calls, which then does the effect once.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DurableRun {
    /// The service: `AgentRun` or `AgentSession`.
    pub service: &'static str,
    /// The object key: the run id or the conversation.
    pub key: String,
    /// The Restate invocation id, the same on every attempt of the invocation.
    pub invocation_id: String,
}

impl DurableRun {
    /// A key that is the same on every attempt of this call and different for every other call.
    pub fn idempotency_key(&self, call_id: &str) -> String {
        format!("{}/{call_id}", self.invocation_id)
    }
}

/// An [`Agent`] served as Restate services: [`AgentRun`] (one run per key) and [`AgentSession`] (a
/// conversation per key). Build the agent the same way in every worker process: the journal holds the
/// effects, the worker supplies the client, tools and settings.
///
/// ```no_run
/// # async fn demo(agent: toolsmith_core::agent::Agent) {
/// use toolsmith_restate::DurableAgent;
///
/// DurableAgent::new(agent)
///     .require_approval(|call| call.function.name == "charge_card")
///     .serve("127.0.0.1:9080".parse().unwrap())
///     .await;
/// # }
/// ```
#[derive(Clone)]
pub struct DurableAgent {
    shared: Arc<Shared>,
}

impl DurableAgent {
    /// Serves `agent` durably. Model requests that fail in a retryable way (connection, timeout, 429, 5xx)
    /// after the client's own retries are retried by Restate: 10 attempts from 1 s to 30 s apart, then the
    /// run fails (see [`model_retry_policy`](Self::model_retry_policy)).
    pub fn new(agent: Agent) -> Self {
        let model_retry = RunRetryPolicy::new()
            .initial_delay(Duration::from_secs(1))
            .exponentiation_factor(2.0)
            .max_delay(Duration::from_secs(30))
            .max_attempts(10);
        DurableAgent { shared: Arc::new(Shared { agent, approval: None, model_retry, context: RunContext::new() }) }
    }

    /// Calls for which `rule` says yes wait for a person: the run suspends (no worker busy) until the call
    /// is decided over HTTP (the `decide` handler). Such calls skip the agent's in-process
    /// [`before_tool_call`](toolsmith_core::agent::AgentBuilder::before_tool_call) hook: the person decides.
    /// `rule` must be deterministic (a replay asks it again).
    pub fn require_approval(self, rule: impl Fn(&ToolCall) -> bool + Send + Sync + 'static) -> Self {
        self.map(|shared| shared.approval = Some(Arc::new(rule)))
    }

    /// Values for the tools' [`ToolContext`](toolsmith_core::tool::ToolContext), with a [`DurableRun`] added
    /// per invocation. Set them here rather than on the agent: a durable run's context is this one.
    pub fn with_context(self, context: RunContext) -> Self {
        self.map(|shared| shared.context = context)
    }

    /// How Restate retries a model request that failed in a retryable way before the run gives up.
    pub fn model_retry_policy(self, policy: RunRetryPolicy) -> Self {
        self.map(|shared| shared.model_retry = policy)
    }

    /// The agent it runs.
    pub fn agent(&self) -> &Agent {
        &self.shared.agent
    }

    /// The one-run-per-key service, to bind to an endpoint yourself (e.g. with options).
    pub fn runs(&self) -> AgentRun {
        AgentRun::new(self.shared.clone())
    }

    /// The conversation-per-key service, to bind to an endpoint yourself.
    pub fn sessions(&self) -> AgentSession {
        AgentSession::new(self.shared.clone())
    }

    /// An endpoint with both services.
    pub fn endpoint(&self) -> Endpoint {
        Endpoint::builder().bind(self.runs()).bind(self.sessions()).build()
    }

    /// Serves [`endpoint`](Self::endpoint) over HTTP/2 on `address` until the process ends. Register it
    /// with restate-server: `curl -X POST http://127.0.0.1:9070/deployments -d '{"uri": "http://ADDRESS"}'`.
    pub async fn serve(&self, address: SocketAddr) {
        HttpServer::new(self.endpoint()).listen_and_serve(address).await;
    }

    fn map(self, change: impl FnOnce(&mut Shared)) -> Self {
        let mut shared = Arc::unwrap_or_clone(self.shared);
        change(&mut shared);
        DurableAgent { shared: Arc::new(shared) }
    }
}

impl std::fmt::Debug for DurableAgent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DurableAgent")
            .field("agent", &self.shared.agent)
            .field("approvals", &self.shared.approval.is_some())
            .finish_non_exhaustive()
    }
}

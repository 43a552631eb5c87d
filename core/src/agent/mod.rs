//! The agent loop: send the tools, run the calls the model makes, feed the results back, repeat until the
//! model answers without tool calls.
//!
//! ```no_run
//! # async fn demo(weather: impl toolsmith_core::tool::Tool) -> Result<(), Box<dyn std::error::Error>> {
//! use toolsmith_core::agent::Agent;
//! use toolsmith_core::client::Client;
//!
//! let agent = Agent::builder(Client::from_env()?, "openai/gpt-4o-mini")
//!     .instructions("You are a weather assistant.")
//!     .tool(weather)
//!     .build();
//! let run = agent.run("Weather in Paris and in Rome?").await?;
//! println!("{}", run.output);
//! # Ok(()) }
//! ```
//!
//! The loop is a step machine ([`Agent::next_step`] on a serializable [`RunState`]) whose only effects are
//! a model turn ([`Agent::request_model`]) and a tool call ([`Agent::call_tool`]). [`Agent::run`],
//! [`Agent::stream`] and [`Session`] drive it in process; a durable executor drives the same machine and
//! journals the effects.

mod as_tool;
mod builder;
mod driver;
mod error;
mod events;
mod history;
mod hook;
mod ids;
mod inner;
mod limits;
mod machine;
mod model;
mod output;
mod result;
mod session;
mod state;
mod stream;
mod telemetry;
mod tool_call;

use std::sync::Arc;

use schemars::JsonSchema;
use serde::de::DeserializeOwned;

pub use as_tool::AgentTool;
pub use builder::{AgentBuilder, DEFAULT_CONCURRENCY, DEFAULT_MAX_TURNS, DEFAULT_TOOL_TIMEOUT};
pub use error::Error;
pub use events::AgentEvent;
pub use history::HistoryProcessor;
pub use hook::{Approval, ApprovalError, BeforeToolCall};
pub use limits::{UsageLimit, UsageLimits};
pub use machine::{ModelRequest, Step};
pub use output::FINAL_RESULT_TOOL;
pub use result::{RunResult, ToolCallRecord, ToolOutcome, Transcript};
pub use session::Session;
pub use session::SessionStream;
pub use state::{PendingCall, RUN_STATE_VERSION, RunState, StateError};
pub use stream::RunStream;

use crate::client::Client;
use crate::tool::{RunContext, ToolDefinition, ToolSet};
use crate::wire::{Content, Message};

use inner::AgentInner;
use output::OutputMode;

/// A model, its instructions and its tools, ready to run. Cheap to clone and to share between tasks:
/// build it once and serve every user from it, giving each run its own [`RunContext`].
#[derive(Clone)]
pub struct Agent {
    inner: Arc<AgentInner>,
    context: RunContext,
    /// What kind of final answer its runs give.
    output: Arc<OutputMode>,
}

impl Agent {
    /// Starts building an agent that talks to `model` through `client`.
    pub fn builder(client: Client, model: impl Into<String>) -> AgentBuilder {
        AgentBuilder::new(client, model.into())
    }

    /// This agent with `context` attached to its runs: tools read the values through
    /// [`ToolContext::get`](crate::tool::ToolContext::get). Cheap: the agent itself is shared.
    pub fn with_context(&self, context: RunContext) -> Agent {
        Agent { context, ..self.clone() }
    }

    /// This agent with runs whose final answer is a `T`, as [`run_typed`](Self::run_typed) asks for it: for
    /// driving the step machine of a typed run ([`Agent::start`]). The result's `output` is the JSON text of
    /// the value.
    pub fn typed<T: DeserializeOwned + JsonSchema>(&self) -> Agent {
        let output = OutputMode::typed::<T>(self.inner.client.profile().supports_json_schema);
        Agent { output: Arc::new(output), ..self.clone() }
    }

    /// Runs until the model answers without calling a tool.
    pub async fn run(&self, input: impl Into<Content>) -> Result<RunResult, Error> {
        let mut state = self.start(input);
        driver::drive(self, &mut state, None).await
    }

    /// [`run`](Self::run) with `context` for the tools.
    pub async fn run_with(&self, input: impl Into<Content>, context: RunContext) -> Result<RunResult, Error> {
        self.with_context(context).run(input).await
    }

    /// Runs with streamed model turns, reporting text as it arrives and each tool call as it starts and
    /// finishes. The last item is [`AgentEvent::Done`] or an error; dropping the stream cancels the run,
    /// running tool calls included.
    pub fn stream(&self, input: impl Into<Content>) -> RunStream {
        let events = events::EventQueue::default();
        let (agent, queue) = (self.clone(), events.clone());
        let mut state = self.start(input);
        RunStream::new(Box::pin(async move { driver::drive(&agent, &mut state, Some(&queue)).await }), events)
    }

    /// Runs and decodes the final answer as `T`, asking for `response_format: json_schema` (strict) built
    /// from `T`'s schema, or through a `final_result` tool when the client's profile has no `json_schema`
    /// support. A decoding failure goes back to the model within the output retry budget.
    pub async fn run_typed<T: DeserializeOwned + JsonSchema>(&self, input: impl Into<Content>) -> Result<T, Error> {
        let result = self.typed::<T>().run(input).await?;
        output::decode::<T>(&result.output).map_err(|message| Error::InvalidOutput {
            attempts: 1,
            message,
            raw: result.output,
            transcript: Box::new(result.transcript),
        })
    }

    /// A multi-turn conversation that keeps its history across [`Session::send`] calls.
    pub fn session(&self) -> Session {
        Session::new(self.clone(), self.initial_messages())
    }

    /// Continues a conversation saved from [`Session::messages`] (e.g. as JSON).
    pub fn resume(&self, messages: Vec<Message>) -> Session {
        Session::new(self.clone(), messages)
    }

    /// The tool definitions sent with every request.
    pub fn definitions(&self) -> &[ToolDefinition] {
        self.inner.tools.definitions()
    }

    /// The agent's tools.
    pub fn tools(&self) -> &ToolSet {
        &self.inner.tools
    }

    /// The client the agent talks through.
    pub fn client(&self) -> &Client {
        &self.inner.client
    }

    fn initial_messages(&self) -> Vec<Message> {
        self.inner.settings.instructions.iter().map(|text| Message::system(text.clone())).collect()
    }
}

impl std::fmt::Debug for Agent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Agent")
            .field("model", &self.inner.settings.model)
            .field("tools", &self.inner.tools.names().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

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

mod builder;
mod dispatch;
mod error;
mod events;
mod hook;
mod ids;
mod output;
mod result;
mod run;
mod session;
mod stream;

use std::sync::Arc;

use schemars::JsonSchema;
use serde::de::DeserializeOwned;

pub use builder::AgentBuilder;
pub use error::Error;
pub use events::AgentEvent;
pub use hook::{Approval, BeforeToolCall};
pub use output::FINAL_RESULT_TOOL;
pub use result::{RunResult, ToolCallRecord, ToolOutcome, Transcript};
pub use session::Session;
pub use session::SessionStream;
pub use stream::RunStream;

use crate::client::Client;
use crate::tool::{RunContext, ToolDefinition, ToolSet};
use crate::wire::{Content, Message, TextMessage};

use builder::AgentInner;
use output::OutputMode;
use run::Run;

/// A model, its instructions and its tools, ready to run. Cheap to clone and to share between tasks:
/// build it once and serve every user from it, giving each run its own [`RunContext`].
#[derive(Clone)]
pub struct Agent {
    inner: Arc<AgentInner>,
    context: RunContext,
}

impl Agent {
    /// Starts building an agent that talks to `model` through `client`.
    pub fn builder(client: Client, model: impl Into<String>) -> AgentBuilder {
        AgentBuilder::new(client, model.into())
    }

    /// This agent with `context` attached to its runs: tools read the values through
    /// [`ToolContext::get`](crate::tool::ToolContext::get). Cheap: the agent itself is shared.
    pub fn with_context(&self, context: RunContext) -> Agent {
        Agent { inner: self.inner.clone(), context }
    }

    /// Runs until the model answers without calling a tool.
    pub async fn run(&self, input: impl Into<Content>) -> Result<RunResult, Error> {
        self.start(input.into(), OutputMode::Text, None).drive().await
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
        let run = self.start(input.into(), OutputMode::Text, Some(events.clone()));
        RunStream::new(Box::pin(run.drive()), events)
    }

    /// Runs and decodes the final answer as `T`, asking for `response_format: json_schema` (strict) built
    /// from `T`'s schema, or through a `final_result` tool when the client's profile has no `json_schema`
    /// support. A decoding failure goes back to the model within the output retry budget.
    pub async fn run_typed<T: DeserializeOwned + JsonSchema>(&self, input: impl Into<Content>) -> Result<T, Error> {
        let mode = OutputMode::typed::<T>(self.inner.client.profile().supports_json_schema);
        let result = self.start(input.into(), mode, None).drive().await?;
        output::decode::<T>(&result.output).map_err(|message| Error::InvalidOutput {
            attempts: 1,
            message,
            raw: result.output.clone(),
            transcript: Box::new(Transcript {
                messages: result.messages,
                usage: result.usage,
                turns: result.turns,
                tool_calls: result.tool_calls,
            }),
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

    fn start(&self, input: Content, output: OutputMode, events: Option<events::EventQueue>) -> Run {
        let mut messages = self.initial_messages();
        messages.push(Message::User(TextMessage { content: input, name: None }));
        Run::new(self.inner.clone(), self.context.clone(), messages, output, events)
    }

    pub(crate) fn continue_run(&self, messages: Vec<Message>, events: Option<events::EventQueue>) -> Run {
        Run::new(self.inner.clone(), self.context.clone(), messages, OutputMode::Text, events)
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

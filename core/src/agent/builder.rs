use std::sync::Arc;
use std::time::Duration;

use crate::client::{Client, Profile};
use crate::tool::{RunContext, Tool, ToolSet, ToolSetError, ToolSource, Toolbox};
use crate::wire::{ResponseFormat, ToolChoice};

use super::Agent;
use super::hook::BeforeToolCall;

/// Everything an agent sends and enforces, fixed when it is built.
#[derive(Clone)]
pub(crate) struct Settings {
    pub model: String,
    pub instructions: Option<String>,
    pub temperature: Option<f32>,
    pub max_tokens: Option<u32>,
    pub tool_choice: Option<ToolChoice>,
    pub keep_tool_choice: bool,
    pub parallel_tool_calls: Option<bool>,
    pub response_format: Option<ResponseFormat>,
    pub max_turns: usize,
    pub concurrency: usize,
    pub tool_timeout: Option<Duration>,
    pub max_tool_retries: usize,
    pub output_retries: usize,
}

pub(crate) struct AgentInner {
    pub client: Client,
    pub settings: Settings,
    pub tools: ToolSet,
    /// Read at every turn, after `tools` (see [`ToolSource`]).
    pub sources: Vec<Arc<dyn ToolSource>>,
    pub hook: Option<Arc<dyn BeforeToolCall>>,
}

impl AgentInner {
    /// The tools of the next turn: the registered ones, then each source's current ones. `None` when there is
    /// no source, so a fixed agent pays nothing per turn.
    pub(crate) fn turn_tools(&self) -> Option<ToolSet> {
        if self.sources.is_empty() {
            return None;
        }
        let mut tools = self.tools.clone();
        for source in &self.sources {
            for tool in source.current_tools().iter() {
                if let Err(error) = tools.insert(tool.clone()) {
                    tracing::warn!("tool from a tool source not offered: {error}");
                }
            }
        }
        Some(tools)
    }
}

/// Builds an [`Agent`]. Start with [`Agent::builder`].
#[must_use]
pub struct AgentBuilder {
    client: Client,
    settings: Settings,
    tools: Vec<Arc<dyn Tool>>,
    sources: Vec<Arc<dyn ToolSource>>,
    hook: Option<Arc<dyn BeforeToolCall>>,
}

impl AgentBuilder {
    pub(crate) fn new(client: Client, model: String) -> Self {
        AgentBuilder {
            client,
            settings: Settings {
                model,
                instructions: None,
                temperature: None,
                max_tokens: None,
                tool_choice: None,
                keep_tool_choice: false,
                parallel_tool_calls: None,
                response_format: None,
                max_turns: 10,
                concurrency: usize::MAX,
                tool_timeout: None,
                max_tool_retries: 3,
                output_retries: 2,
            },
            tools: Vec::new(),
            sources: Vec::new(),
            hook: None,
        }
    }

    /// The system message that starts every conversation.
    pub fn instructions(mut self, instructions: impl Into<String>) -> Self {
        self.settings.instructions = Some(instructions.into());
        self
    }

    /// Adds a tool: a `#[tool]` function (`.tool(get_weather)`) or any [`Tool`].
    pub fn tool(mut self, tool: impl Tool) -> Self {
        self.tools.push(Arc::new(tool));
        self
    }

    /// Adds a shared tool, e.g. one built at run time.
    pub fn tool_arc(mut self, tool: Arc<dyn Tool>) -> Self {
        self.tools.push(tool);
        self
    }

    /// Adds every `#[tool]` method of a `#[toolbox]` impl; the tools share the one instance.
    pub fn toolbox<T: Toolbox>(mut self, toolbox: Arc<T>) -> Self {
        self.tools.extend(toolbox.tools());
        self
    }

    /// Adds tools whose list may change, e.g. an MCP server's: the agent reads the source's current tools at
    /// every turn, so a change is offered from the next turn on without rebuilding the agent.
    pub fn tools(mut self, source: impl ToolSource) -> Self {
        self.sources.push(Arc::new(source));
        self
    }

    /// How many model requests a run may make (default 10); beyond it the run ends with
    /// [`Error::MaxTurns`](super::Error::MaxTurns).
    pub fn max_turns(mut self, max_turns: usize) -> Self {
        self.settings.max_turns = max_turns.max(1);
        self
    }

    /// Sampling temperature sent with every request.
    pub fn temperature(mut self, temperature: f32) -> Self {
        self.settings.temperature = Some(temperature);
        self
    }

    /// Output token limit per request (sent as `max_tokens` or `max_completion_tokens`, per the client's
    /// profile).
    pub fn max_tokens(mut self, max_tokens: u32) -> Self {
        self.settings.max_tokens = Some(max_tokens);
        self
    }

    /// The `tool_choice` to send. A forced choice (`required` or a named tool) is sent with the first request
    /// of a run only, so the loop cannot spin forever (L10), unless [`keep_tool_choice`](Self::keep_tool_choice).
    pub fn tool_choice(mut self, tool_choice: ToolChoice) -> Self {
        self.settings.tool_choice = Some(tool_choice);
        self
    }

    /// Sends the configured `tool_choice` with every request, not only the first.
    pub fn keep_tool_choice(mut self, keep: bool) -> Self {
        self.settings.keep_tool_choice = keep;
        self
    }

    /// Sends `parallel_tool_calls`. The agent runs several calls of one turn concurrently either way.
    pub fn parallel_tool_calls(mut self, parallel: bool) -> Self {
        self.settings.parallel_tool_calls = Some(parallel);
        self
    }

    /// The `response_format` for plain runs ([`Agent::run_typed`] sets its own).
    pub fn response_format(mut self, format: ResponseFormat) -> Self {
        self.settings.response_format = Some(format);
        self
    }

    /// At most this many tool calls of one turn run at the same time (default: all of them).
    pub fn concurrency(mut self, limit: usize) -> Self {
        self.settings.concurrency = limit.max(1);
        self
    }

    /// A tool call running longer than this is abandoned and the model is told it timed out (default: none).
    pub fn tool_timeout(mut self, timeout: Duration) -> Self {
        self.settings.tool_timeout = Some(timeout);
        self
    }

    /// How many consecutive failures (unknown tool, bad arguments, error, panic, timeout) one tool may have
    /// before the run stops with [`Error::ToolRetriesExceeded`](super::Error::ToolRetriesExceeded)
    /// (default 3; L7).
    pub fn max_tool_retries(mut self, retries: usize) -> Self {
        self.settings.max_tool_retries = retries;
        self
    }

    /// How many times [`Agent::run_typed`] sends a decoding error back before giving up (default 2).
    pub fn output_retries(mut self, retries: usize) -> Self {
        self.settings.output_retries = retries;
        self
    }

    /// A hook that approves, denies or rewrites each tool call before it runs.
    pub fn before_tool_call(mut self, hook: impl BeforeToolCall) -> Self {
        self.hook = Some(Arc::new(hook));
        self
    }

    /// The provider profile (request sanitising and capabilities), replacing the client's.
    pub fn profile(mut self, profile: Profile) -> Self {
        self.client = self.client.with_profile(profile);
        self
    }

    /// Builds the agent, or says which tool name was registered twice.
    pub fn try_build(self) -> Result<Agent, ToolSetError> {
        let mut tools = ToolSet::new();
        for tool in self.tools {
            tools.insert(tool)?;
        }
        Ok(Agent {
            inner: Arc::new(AgentInner {
                client: self.client,
                settings: self.settings,
                tools,
                sources: self.sources,
                hook: self.hook,
            }),
            context: RunContext::default(),
        })
    }

    /// Builds the agent.
    ///
    /// # Panics
    /// When two tools have the same name: a programming error, caught the first time the agent is built
    /// (use [`try_build`](Self::try_build) to handle it instead).
    pub fn build(self) -> Agent {
        match self.try_build() {
            Ok(agent) => agent,
            Err(error) => panic!("toolsmith: {error}"),
        }
    }
}

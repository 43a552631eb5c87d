use std::sync::Arc;
use std::time::Duration;

use crate::client::{Client, Profile};
use crate::stream::DEFAULT_MAX_TOOL_CALLS;
use crate::tool::{RunContext, Tool, ToolSet, ToolSetError, ToolSource, Toolbox};
use crate::wire::{ReasoningEffort, ResponseFormat, ToolChoice};

use super::Agent;
use super::history::HistoryProcessor;
use super::hook::BeforeToolCall;
use super::inner::{AgentInner, Settings};
use super::limits::UsageLimits;
use super::output::OutputMode;

/// The default of [`AgentBuilder::concurrency`].
pub const DEFAULT_CONCURRENCY: usize = 16;
/// The default of [`AgentBuilder::tool_timeout`].
pub const DEFAULT_TOOL_TIMEOUT: Duration = Duration::from_secs(60);
/// The default of [`AgentBuilder::max_turns`].
pub const DEFAULT_MAX_TURNS: usize = 10;

/// Builds an [`Agent`]. Start with [`Agent::builder`].
#[must_use]
pub struct AgentBuilder {
    client: Client,
    settings: Settings,
    tools: Vec<Arc<dyn Tool>>,
    sources: Vec<Arc<dyn ToolSource>>,
    hook: Option<Arc<dyn BeforeToolCall>>,
    history: Option<Arc<dyn HistoryProcessor>>,
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
                max_turns: DEFAULT_MAX_TURNS,
                concurrency: DEFAULT_CONCURRENCY,
                tool_timeout: Some(DEFAULT_TOOL_TIMEOUT),
                max_tool_retries: 3,
                output_retries: 2,
                max_tool_calls: DEFAULT_MAX_TOOL_CALLS,
                run_timeout: None,
                usage_limits: UsageLimits::default(),
                name: None,
                capture_content: false,
                return_direct: Vec::new(),
                reasoning_effort: None,
            },
            tools: Vec::new(),
            sources: Vec::new(),
            hook: None,
            history: None,
        }
    }

    /// The agent's name, reported as `gen_ai.agent.name` and in the name of each run's `invoke_agent` span.
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.settings.name = Some(name.into());
        self
    }

    /// Records message and tool-argument content on the telemetry spans (`gen_ai.input.messages`,
    /// `gen_ai.output.messages`, `gen_ai.system_instructions`, `gen_ai.tool.call.arguments`/`result`). Off by
    /// default: prompts and tool results often hold personal data, and the OpenTelemetry GenAI conventions
    /// make them opt-in for that reason.
    pub fn capture_content(mut self, capture: bool) -> Self {
        self.settings.capture_content = capture;
        self
    }

    /// Makes `tool` a "return direct" tool (L11): when a call to it succeeds, its result is the run's output
    /// and the model is not asked again. The other calls of that turn still run and are recorded; with several
    /// such calls, the first in the model's order wins. A failed call goes back to the model as usual. For a
    /// typed run the result must decode as the output type, or the loop goes on.
    pub fn return_direct(mut self, tool: impl Into<String>) -> Self {
        self.settings.return_direct.push(tool.into());
        self
    }

    /// How hard a reasoning model thinks, sent with every request the way the client's profile expects
    /// (`reasoning_effort`, or the provider's own field).
    pub fn reasoning_effort(mut self, effort: ReasoningEffort) -> Self {
        self.settings.reasoning_effort = Some(effort);
        self
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

    /// How many model requests a run may make (default [`DEFAULT_MAX_TURNS`], 10); beyond it the run ends with
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

    /// At most this many tool calls of one turn run at the same time (default [`DEFAULT_CONCURRENCY`], 16);
    /// the others wait for a free place, in call order.
    pub fn concurrency(mut self, limit: usize) -> Self {
        self.settings.concurrency = limit.max(1);
        self
    }

    /// A tool call running longer than this is abandoned and the model is told it timed out
    /// ([`ToolOutcome::TimedOut`](super::ToolOutcome::TimedOut)); default [`DEFAULT_TOOL_TIMEOUT`], 60 s;
    /// `None` waits for ever. An async tool is stopped at its next `.await`; the body of a sync `#[tool] fn`
    /// runs on a blocking thread and cannot be stopped: the run stops waiting for it, and it finishes in the
    /// background.
    pub fn tool_timeout(mut self, timeout: impl Into<Option<Duration>>) -> Self {
        self.settings.tool_timeout = timeout.into();
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

    /// At most this many tool calls in one model turn (default [`DEFAULT_MAX_TOOL_CALLS`], 128). A turn with
    /// more runs none of them and ends the run with [`Error::TooManyToolCalls`](super::Error::TooManyToolCalls);
    /// a streamed turn stops being read at the first call past the limit.
    pub fn max_tool_calls(mut self, limit: usize) -> Self {
        self.settings.max_tool_calls = limit.max(1);
        self
    }

    /// A deadline for the whole run: model requests with their retries, tool calls and approvals together
    /// (default: none, each request and call has its own). Past it the run ends with
    /// [`Error::RunTimeout`](super::Error::RunTimeout); calls cut short are answered as timed out, so the
    /// transcript stays a valid history.
    pub fn run_timeout(mut self, timeout: impl Into<Option<Duration>>) -> Self {
        self.settings.run_timeout = timeout.into();
        self
    }

    /// Ceilings on requests, tool calls and tokens per run (default: none), checked before every model request
    /// and before a turn's calls run.
    pub fn usage_limits(mut self, limits: UsageLimits) -> Self {
        self.settings.usage_limits = limits;
        self
    }

    /// Rewrites the history sent with each model request (trim, summarise); see [`HistoryProcessor`].
    pub fn history_processor(mut self, processor: impl HistoryProcessor) -> Self {
        self.history = Some(Arc::new(processor));
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
                history: self.history,
            }),
            context: RunContext::default(),
            output: Arc::new(OutputMode::Text),
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

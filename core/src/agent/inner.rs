//! What every run of one agent shares: the client, the settings, the tools and the hooks. The builder fills
//! it once; the step machine and its drivers only read it.

use std::sync::Arc;
use std::time::Duration;

use crate::client::Client;
use crate::tool::{Tool, ToolSet, ToolSource};
use crate::wire::{ChatRequest, ReasoningEffort, ResponseFormat, ToolChoice};

use super::history::HistoryProcessor;
use super::hook::BeforeToolCall;
use super::limits::UsageLimits;
use super::output::OutputMode;

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
    pub max_tool_calls: usize,
    pub run_timeout: Option<Duration>,
    pub usage_limits: UsageLimits,
    /// The agent's name in its `invoke_agent` span.
    pub name: Option<String>,
    /// Whether spans carry message and argument content (opt-in).
    pub capture_content: bool,
    /// Tools whose successful result ends the run (L11).
    pub return_direct: Vec<String>,
    pub reasoning_effort: Option<ReasoningEffort>,
}

pub(crate) struct AgentInner {
    pub client: Client,
    pub settings: Settings,
    pub tools: ToolSet,
    /// Tools whose list may change, read at every turn after `tools` (see [`ToolSource`]).
    pub sources: Vec<Arc<dyn ToolSource>>,
    pub hook: Option<Arc<dyn BeforeToolCall>>,
    pub history: Option<Arc<dyn HistoryProcessor>>,
}

impl AgentInner {
    /// The tools offered now when the agent has tool sources: the registered ones, then each source's current
    /// ones (a name already taken is skipped with a warning). `None` without sources, so a fixed agent pays
    /// nothing per turn.
    pub(crate) fn current_tools(&self) -> Option<ToolSet> {
        if self.sources.is_empty() {
            return None;
        }
        let mut tools = self.tools.clone();
        for source in &self.sources {
            for tool in source.current_tools().iter() {
                if let Err(error) = tools.insert(tool.clone()) {
                    tracing::warn!("a tool of a tool source is not offered: {error}");
                }
            }
        }
        Some(tools)
    }

    /// The tool the model calls `name`: a registered one, else the first source's that has it now.
    pub(crate) fn tool(&self, name: &str) -> Option<Arc<dyn Tool>> {
        if let Some(tool) = self.tools.get(name) {
            return Some(tool.clone());
        }
        self.sources.iter().find_map(|source| source.current_tools().get(name).cloned())
    }

    /// The names of the tools the model may call now.
    pub(crate) fn tool_names(&self) -> Vec<String> {
        match self.current_tools() {
            Some(tools) => tools.names().map(str::to_owned).collect(),
            None => self.tools.names().map(str::to_owned).collect(),
        }
    }

    /// Puts this turn's tool definitions into `request` when the agent has tool sources (the rest of the
    /// template stays as [`request_template`](Self::request_template) built it).
    pub(crate) fn refresh_tools(&self, request: &mut ChatRequest, output: &OutputMode) {
        let Some(tools) = self.current_tools() else { return };
        request.tools = tools.definitions().to_vec();
        if let Some(definition) = output.tool_definition() {
            request.tools.push(definition.clone());
        }
    }

    /// The request every turn of a run sends, without its messages: built once per run, the messages are lent
    /// to it for each turn.
    pub(crate) fn request_template(&self, output: &OutputMode) -> ChatRequest {
        let settings = &self.settings;
        let mut request = ChatRequest::new(settings.model.clone(), Vec::new());
        request.tools = self.tools.definitions().to_vec();
        if let Some(definition) = output.tool_definition() {
            request.tools.push(definition.clone());
        }
        request.temperature = settings.temperature;
        request.max_tokens = settings.max_tokens;
        // The encoder drops both when there are no tools (providers reject them without `tools`).
        request.tool_choice = settings.tool_choice.clone();
        request.parallel_tool_calls = settings.parallel_tool_calls;
        request.reasoning_effort = settings.reasoning_effort.clone();
        request.response_format = output.response_format().or_else(|| settings.response_format.clone());
        request
    }

    /// The `tool_choice` of a run's request after `turns` completed turns. L10: a forced choice applies to the
    /// first request only, so the loop cannot spin forever.
    pub(crate) fn tool_choice(&self, turns: usize) -> Option<ToolChoice> {
        let settings = &self.settings;
        let forced = matches!(settings.tool_choice, Some(ToolChoice::Required | ToolChoice::Function(_)));
        if turns > 0 && forced && !settings.keep_tool_choice { None } else { settings.tool_choice.clone() }
    }
}

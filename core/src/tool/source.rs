//! [`ToolSource`]: tools whose list may change while the agent holding them lives.

use std::sync::Arc;

use super::ToolSet;

/// Tools whose list may change while an agent holding them lives: an MCP server's tools, a plugin folder's.
///
/// An agent built with `AgentBuilder::tools(source)` asks every source for its current tools at the start of
/// every turn, so a change is offered to the model from the next turn on, without rebuilding the agent. A name
/// that is already taken (by a tool registered directly or by an earlier source) is not offered twice: the
/// first one wins and the later one is skipped with a warning.
pub trait ToolSource: Send + Sync + 'static {
    /// The tools to offer now, in order. Called once per turn: return a shared snapshot, do no I/O.
    fn current_tools(&self) -> Arc<ToolSet>;
}

impl ToolSource for ToolSet {
    fn current_tools(&self) -> Arc<ToolSet> {
        Arc::new(self.clone())
    }
}

impl<S: ToolSource + ?Sized> ToolSource for Arc<S> {
    fn current_tools(&self) -> Arc<ToolSet> {
        (**self).current_tools()
    }
}

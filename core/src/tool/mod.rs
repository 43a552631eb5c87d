//! Tools: the [`Tool`] trait the agent calls, their [`ToolDefinition`]s, argument decoding and the registry.
//!
//! `#[toolsmith::tool]` implements [`Tool`] for you; implement it by hand for tools built at run time
//! (from configuration, an MCP server, ...).

mod context;
mod definition;

pub use context::{RunContext, ToolContext};
pub use definition::ToolDefinition;

use futures::future::BoxFuture;

/// A function the model can call.
///
/// Object safe, so an agent holds tools as `Arc<dyn Tool>`. The agent decodes nothing itself: it hands the
/// raw arguments text from the model to [`Tool::call`] and sends the returned text back as the tool message.
///
/// ```
/// use futures::future::BoxFuture;
/// use toolsmith_core::tool::{Tool, ToolContext, ToolDefinition, ToolError};
///
/// struct Echo;
///
/// impl Tool for Echo {
///     fn definition(&self) -> ToolDefinition {
///         ToolDefinition::new("echo", "Repeat the arguments back.", serde_json::json!({"type": "object"}))
///     }
///
///     fn call<'a>(&'a self, arguments: &'a str, _ctx: &'a ToolContext) -> BoxFuture<'a, Result<String, ToolError>> {
///         Box::pin(async move { Ok(arguments.to_owned()) })
///     }
/// }
/// ```
pub trait Tool: Send + Sync + 'static {
    /// The definition sent to the model in `tools`. Cheap to call: definitions share their data.
    fn definition(&self) -> ToolDefinition;

    /// Runs the tool with the model's raw arguments text (`""`, `"null"` and `"{}"` mean no arguments) and
    /// returns the text of the tool message.
    fn call<'a>(&'a self, arguments: &'a str, ctx: &'a ToolContext) -> BoxFuture<'a, Result<String, ToolError>>;
}

/// Why a tool call produced no result. The agent sends the `Display` text to the model as the call's
/// result, so the model can correct itself.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ToolError {
    /// The arguments could not be decoded; the message says which argument and what was expected.
    #[error("invalid arguments: {0}")]
    InvalidArguments(String),
    /// The tool ran and returned an error (its `Display` text).
    #[error("{0}")]
    Failed(String),
}

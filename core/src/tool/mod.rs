//! Tools: the [`Tool`] trait the agent calls, their [`ToolDefinition`]s, argument decoding and the registry.
//!
//! `#[toolsmith::tool]` implements [`Tool`] for you; implement it by hand for tools built at run time
//! (from configuration, an MCP server, ...).

mod args;
mod blocking;
mod context;
mod output;
mod registry;
pub mod schema;
mod source;

pub use crate::wire::ToolDefinition;
pub use args::{arguments_object, decode_arguments};
#[doc(hidden)]
pub use blocking::run_blocking;
pub use context::{RunContext, ToolContext};
pub use output::{ToolOutput, ToolResult, UNIT_OUTPUT};
pub use registry::{ToolSet, ToolSetError};
pub use schema::schema_for;
pub use source::ToolSource;

use std::sync::Arc;

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
#[non_exhaustive]
pub enum ToolError {
    /// The arguments could not be decoded; the message says which argument and what was expected.
    #[error("invalid arguments: {0}")]
    InvalidArguments(String),
    /// The tool ran and returned an error (its `Display` text).
    #[error("{0}")]
    Failed(String),
}

impl ToolError {
    /// The text the model reads when tool `tool` ends with this error: the same in an agent's tool message and
    /// in an MCP `isError` result. L5: invalid arguments carry the decoder's precise message and ask for a fix.
    pub fn model_text(&self, tool: &str) -> String {
        match self {
            ToolError::InvalidArguments(message) => {
                format!("Error: invalid arguments for `{tool}`: {message}. Fix the arguments and call the tool again.")
            }
            ToolError::Failed(message) => format!("Error: {message}"),
        }
    }
}

/// The text the model reads when tool `tool` panicked (L4). The panic's own text stays local: it may hold
/// anything (a connection string, a path).
pub fn crashed_text(tool: &str) -> String {
    format!("Error: the tool `{tool}` crashed while running. Try another approach or other arguments.")
}

/// The text of a panic payload (`&str` or `String`; anything else is described).
pub fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    if let Some(text) = panic.downcast_ref::<&str>() {
        (*text).to_owned()
    } else if let Some(text) = panic.downcast_ref::<String>() {
        text.clone()
    } else {
        "panic with a non-text payload".to_owned()
    }
}

/// A type whose methods are tools sharing one instance: `#[toolsmith::toolbox]` on an `impl` block implements
/// it, with one tool per `#[tool]` method.
///
/// Register it with `Arc::new(value)`: every tool holds a clone of the `Arc`, so state lives in the value
/// (behind interior mutability, e.g. a `Mutex`) and is shared by all of them.
pub trait Toolbox: Send + Sync + 'static {
    /// One tool per `#[tool]` method, in the order they are written.
    fn tools(self: Arc<Self>) -> Vec<Arc<dyn Tool>>;
}

/// Whether `name` is a valid tool name: 1 to 64 characters among `a-z`, `A-Z`, `0-9`, `_` and `-`, the
/// pattern providers enforce (Q21).
///
/// ```
/// use toolsmith_core::tool::is_valid_tool_name;
///
/// assert!(is_valid_tool_name("get_weather"));
/// assert!(!is_valid_tool_name("weather.get"));
/// assert!(!is_valid_tool_name(""));
/// ```
pub fn is_valid_tool_name(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && name.bytes().all(|byte| byte.is_ascii_alphanumeric() || byte == b'_' || byte == b'-')
}

/// A type `#[tool]` can take as a parameter: anything `Deserialize` with a JSON Schema.
#[doc(hidden)]
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be a tool parameter: it must implement `serde::Deserialize` and `schemars::JsonSchema`",
    label = "this parameter type",
    note = "derive both: `#[derive(serde::Deserialize, schemars::JsonSchema)]`"
)]
pub trait ToolParameter {}

impl<T: serde::de::DeserializeOwned + schemars::JsonSchema> ToolParameter for T {}

/// The definition of a generated tool whose arguments are `A`.
#[doc(hidden)]
pub fn definition_for<A: schemars::JsonSchema>(name: &str, description: &str, strict: bool) -> ToolDefinition {
    let parameters = schema_for::<A>(strict);
    if strict {
        ToolDefinition::new_strict(name, description, parameters)
    } else {
        ToolDefinition::new(name, description, parameters)
    }
}

/// Compile-time check emitted by `#[tool]` for each parameter type.
#[doc(hidden)]
pub fn assert_parameter<T: ToolParameter>() {}

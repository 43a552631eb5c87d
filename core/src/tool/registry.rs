//! [`ToolSet`]: the tools of one agent, by name, in registration order.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use super::{Tool, ToolDefinition, is_valid_tool_name};

/// Why a tool could not be added to a [`ToolSet`].
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ToolSetError {
    /// Another tool already has this name. Names must be unique: the model calls tools by name.
    #[error("two tools are named `{name}`: tool names must be unique (rename one with `#[tool(name = \"...\")]`)")]
    DuplicateTool {
        /// The name registered twice.
        name: String,
    },
    /// The name does not match `^[a-zA-Z0-9_-]{1,64}$`, which providers reject (Q21).
    #[error("invalid tool name `{name}`: use 1 to 64 characters among a-z, A-Z, 0-9, `_` and `-`")]
    InvalidName {
        /// The rejected name.
        name: String,
    },
}

/// An ordered registry of tools with unique names.
///
/// Built once, then only read: lookups need no lock, and the definitions sent with every request are
/// computed once at registration.
///
/// ```
/// use std::sync::Arc;
/// use futures::future::BoxFuture;
/// use toolsmith_core::tool::{Tool, ToolContext, ToolDefinition, ToolError, ToolSet, ToolSetError};
///
/// struct Ping;
/// impl Tool for Ping {
///     fn definition(&self) -> ToolDefinition {
///         ToolDefinition::new("ping", "Check the connection.", serde_json::json!({"type": "object"}))
///     }
///     fn call<'a>(&'a self, _: &'a str, _: &'a ToolContext) -> BoxFuture<'a, Result<String, ToolError>> {
///         Box::pin(async { Ok("pong".to_owned()) })
///     }
/// }
///
/// let mut tools = ToolSet::new();
/// tools.insert(Arc::new(Ping)).unwrap();
/// assert_eq!(tools.insert(Arc::new(Ping)), Err(ToolSetError::DuplicateTool { name: "ping".into() }));
/// assert_eq!(tools.names().collect::<Vec<_>>(), ["ping"]);
/// ```
#[derive(Clone, Default)]
pub struct ToolSet {
    tools: Vec<Arc<dyn Tool>>,
    definitions: Vec<ToolDefinition>,
    index: HashMap<String, usize>,
}

impl ToolSet {
    /// An empty set.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds `tool` after the others. Fails, leaving the set unchanged, when its name is invalid or already
    /// taken: a duplicate is never a silent overwrite.
    pub fn insert(&mut self, tool: Arc<dyn Tool>) -> Result<(), ToolSetError> {
        let definition = tool.definition();
        let name = definition.name();
        if !is_valid_tool_name(name) {
            return Err(ToolSetError::InvalidName { name: name.to_owned() });
        }
        if self.index.contains_key(name) {
            return Err(ToolSetError::DuplicateTool { name: name.to_owned() });
        }
        self.index.insert(name.to_owned(), self.tools.len());
        self.tools.push(tool);
        self.definitions.push(definition);
        Ok(())
    }

    /// Adds every tool of `tools`, stopping at the first error.
    pub fn extend(&mut self, tools: impl IntoIterator<Item = Arc<dyn Tool>>) -> Result<(), ToolSetError> {
        tools.into_iter().try_for_each(|tool| self.insert(tool))
    }

    /// The tool called `name`.
    pub fn get(&self, name: &str) -> Option<&Arc<dyn Tool>> {
        self.index.get(name).and_then(|&position| self.tools.get(position))
    }

    /// Whether a tool is called `name`.
    pub fn contains(&self, name: &str) -> bool {
        self.index.contains_key(name)
    }

    /// The tools' names, in registration order.
    pub fn names(&self) -> impl ExactSizeIterator<Item = &str> + '_ {
        self.definitions.iter().map(ToolDefinition::name)
    }

    /// The tools' definitions, in registration order, as sent in a request's `tools`.
    pub fn definitions(&self) -> &[ToolDefinition] {
        &self.definitions
    }

    /// The tools, in registration order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = &Arc<dyn Tool>> + '_ {
        self.tools.iter()
    }

    /// How many tools there are.
    pub fn len(&self) -> usize {
        self.tools.len()
    }

    /// Whether there is no tool.
    pub fn is_empty(&self) -> bool {
        self.tools.is_empty()
    }
}

impl fmt::Debug for ToolSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.names()).finish()
    }
}

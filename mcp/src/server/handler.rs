//! The rmcp side of [`McpServer`](super::McpServer): listing and calling the tools.

use std::panic::AssertUnwindSafe;
use std::sync::Arc;

use futures::FutureExt;
use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CallToolResult, ContentBlock, Implementation, ListToolsResult,
    PaginatedRequestParams, ServerCapabilities, ServerConfig, Tool as McpToolInfo,
};
use rmcp::service::RequestContext;
use rmcp::{ErrorData, RoleServer, ServerHandler};
use toolsmith_core::tool::{ToolContext, ToolDefinition, crashed_text, panic_message};

use super::Settings;

#[derive(Clone)]
pub(crate) struct Handler {
    settings: Arc<Settings>,
    /// The listing, built once: the tool set does not change.
    listing: Arc<Vec<McpToolInfo>>,
}

impl Handler {
    pub(crate) fn new(settings: Arc<Settings>) -> Self {
        let listing = settings.tools.definitions().iter().map(listed).collect();
        Handler { settings, listing: Arc::new(listing) }
    }
}

/// A definition as MCP lists it: the same name, description and schema the agent sends a model.
fn listed(definition: &ToolDefinition) -> McpToolInfo {
    let schema = definition.parameters().as_object().cloned().unwrap_or_default();
    McpToolInfo::new(definition.name().to_owned(), definition.description().to_owned(), Arc::new(schema))
}

impl ServerHandler for Handler {
    fn get_info(&self) -> ServerConfig {
        let settings = &self.settings;
        let mut config = ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
            .with_server_info(Implementation::new(settings.name.clone(), settings.version.clone()));
        if let Some(instructions) = &settings.instructions {
            config = config.with_instructions(instructions.clone());
        }
        config
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, ErrorData> {
        Ok(ListToolsResult::with_all_items(self.listing.as_ref().clone()))
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        let name: &str = &request.name;
        let Some(tool) = self.settings.tools.get(name) else {
            return Err(ErrorData::invalid_params(format!("unknown tool `{name}`"), None));
        };
        let arguments = match &request.arguments {
            Some(arguments) => serde_json::Value::Object(arguments.clone()).to_string(),
            None => String::new(),
        };
        let ctx = ToolContext::new(context.id.to_string(), name, self.settings.context.clone());
        // A cancelled request (`notifications/cancelled`) drops the tool's future, as a dropped agent run does.
        let outcome = tokio::select! {
            outcome = run(tool.as_ref(), name, &arguments, &ctx) => outcome,
            () = context.ct.cancelled() => return Err(ErrorData::internal_error("the request was cancelled", None)),
        };
        let result = match outcome {
            Ok(text) => CallToolResult::success(vec![ContentBlock::text(text)]),
            Err(text) => CallToolResult::error(vec![ContentBlock::text(text)]),
        };
        Ok(result.into())
    }
}

/// Runs the tool, catching a panic whether it happens building the future or while it runs (L4). The texts
/// are the agent's: [`ToolError::model_text`](toolsmith_core::tool::ToolError::model_text) and
/// [`crashed_text`].
async fn run(
    tool: &dyn toolsmith_core::tool::Tool,
    name: &str,
    arguments: &str,
    ctx: &ToolContext,
) -> Result<String, String> {
    let called = std::panic::catch_unwind(AssertUnwindSafe(|| tool.call(arguments, ctx)));
    let result = match called {
        Ok(future) => AssertUnwindSafe(future).catch_unwind().await,
        Err(panic) => Err(panic),
    };
    match result {
        Ok(Ok(text)) => Ok(text),
        Ok(Err(error)) => Err(error.model_text(name)),
        Err(panic) => {
            let message = panic_message(panic.as_ref());
            tracing::error!(tool = %name, panic = %message, "tool panicked");
            Err(crashed_text(name))
        }
    }
}

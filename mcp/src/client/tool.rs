//! One MCP server tool as a toolsmith [`Tool`].

use std::sync::Arc;

use futures::future::BoxFuture;
use rmcp::ServiceError;
use rmcp::model::CallToolRequestParams;
use toolsmith_core::tool::{Tool, ToolContext, ToolDefinition, ToolError, arguments_object};

use super::connection::Connection;
use super::content::result_text;

/// A tool of an MCP server: calls go to the server under its own name, whatever the wire name.
pub(crate) struct McpTool {
    pub(crate) connection: Arc<Connection>,
    pub(crate) definition: ToolDefinition,
    pub(crate) remote_name: Arc<str>,
}

impl Tool for McpTool {
    fn definition(&self) -> ToolDefinition {
        self.definition.clone()
    }

    fn call<'a>(&'a self, arguments: &'a str, _ctx: &'a ToolContext) -> BoxFuture<'a, Result<String, ToolError>> {
        Box::pin(async move {
            // Passed on as the model wrote them: the server validates against its own schema.
            let arguments = arguments_object(arguments)?;
            let params = CallToolRequestParams::new(self.remote_name.to_string()).with_arguments(arguments);
            let connection = &self.connection;
            // rmcp sends `notifications/cancelled` when this future is dropped before the answer: on a timeout
            // here, on the agent's tool timeout, or when the run itself is dropped.
            let call = connection.peer().call_tool(params);
            let result = match connection.call_timeout() {
                None => call.await,
                Some(limit) => tokio::time::timeout(limit, call).await.map_err(|_| {
                    ToolError::Failed(format!(
                        "the MCP server `{}` did not answer within {:.1} s; the call was cancelled",
                        connection.label(),
                        limit.as_secs_f64()
                    ))
                })?,
            };
            match result {
                Ok(result) if result.is_error == Some(true) => Err(ToolError::Failed(error_text(result_text(&result)))),
                Ok(result) => Ok(result_text(&result)),
                Err(error) => Err(ToolError::Failed(connection.describe(&error))),
            }
        })
    }
}

/// An `isError` result's text as a [`ToolError::Failed`] message: the agent prefixes `Error: ` itself, so a
/// server that already did (toolsmith's own [`McpServer`](crate::McpServer) does) is not read twice.
fn error_text(text: String) -> String {
    match text.strip_prefix("Error: ") {
        Some(rest) => rest.to_owned(),
        None => text,
    }
}

/// What the model reads for a failed exchange with the server.
pub(crate) fn describe_error(label: &str, error: &ServiceError) -> String {
    match error {
        ServiceError::McpError(data) => {
            format!("the MCP server `{label}` answered with an error: {} (code {})", data.message, data.code.0)
        }
        ServiceError::TransportClosed => format!("the MCP server `{label}` is gone (its connection closed)"),
        other => format!("the exchange with the MCP server `{label}` failed: {other}"),
    }
}

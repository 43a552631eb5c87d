//! An agent used as a tool of another agent: the parent's model delegates a task in words, the sub-agent runs
//! its own loop and its answer is the call's result.

use futures::future::BoxFuture;
use serde::Deserialize;

use crate::tool::{Tool, ToolContext, ToolDefinition, ToolError, decode_arguments};

use super::Agent;

/// A [`Tool`] that runs an [`Agent`]; made by [`Agent::as_tool`].
#[derive(Clone, Debug)]
pub struct AgentTool {
    agent: Agent,
    definition: ToolDefinition,
}

#[derive(Deserialize)]
struct Input {
    input: String,
}

impl Agent {
    /// This agent as a tool named `name`, for another agent: the tool takes `{"input": "..."}`, runs this
    /// agent on it (with the calling run's [`RunContext`](crate::tool::RunContext)) and answers with its
    /// output. The sub-run's token usage is added to the parent run's usage and to the call's
    /// [`ToolCallRecord::usage`](super::ToolCallRecord::usage); a failed sub-run is a tool error the parent's
    /// model sees (its usage counted all the same).
    pub fn as_tool(&self, name: impl Into<String>, description: impl Into<String>) -> AgentTool {
        let parameters = serde_json::json!({
            "type": "object",
            "properties": {"input": {"type": "string", "description": "The task or question, in words."}},
            "required": ["input"],
            "additionalProperties": false,
        });
        AgentTool { agent: self.clone(), definition: ToolDefinition::new_strict(name, description, parameters) }
    }
}

impl Tool for AgentTool {
    fn definition(&self) -> ToolDefinition {
        self.definition.clone()
    }

    fn call<'a>(&'a self, arguments: &'a str, ctx: &'a ToolContext) -> BoxFuture<'a, Result<String, ToolError>> {
        Box::pin(async move {
            let Input { input } = decode_arguments(arguments)?;
            let agent = self.agent.with_context(ctx.run_context().clone());
            match agent.run(input).await {
                Ok(result) => {
                    ctx.add_usage(&result.usage);
                    Ok(result.output)
                }
                Err(error) => {
                    ctx.add_usage(&error.transcript().usage);
                    Err(ToolError::Failed(format!("the `{}` agent failed: {error}", self.definition.name())))
                }
            }
        })
    }
}

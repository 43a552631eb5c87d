use std::future::Future;

use futures::future::BoxFuture;
use serde::{Deserialize, Serialize};

use crate::tool::ToolContext;
use crate::wire::ToolCall;

/// The decision of a [`BeforeToolCall`] hook. Serializable, so a durable driver can take it from a durable
/// promise resolved by a person and journal it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Approval {
    /// Run the call as the model made it.
    Approve,
    /// Do not run the call; the reason is sent to the model as the call's result.
    Deny(String),
    /// Run the call with these arguments (JSON text) instead.
    Rewrite(String),
}

/// Decides, before each tool call runs, whether it may: the basis for a person's approval of dangerous
/// tools. Any `Fn(ToolCall, ToolContext) -> impl Future<Output = Approval>` is a hook.
///
/// ```
/// use toolsmith_core::agent::{Approval, BeforeToolCall};
/// use toolsmith_core::tool::ToolContext;
/// use toolsmith_core::wire::ToolCall;
///
/// let hook = |call: ToolCall, _ctx: ToolContext| async move {
///     if call.function.name == "delete_file" { Approval::Deny("deleting files is not allowed".into()) } else { Approval::Approve }
/// };
/// fn assert_hook(_: impl BeforeToolCall) {}
/// assert_hook(hook);
/// ```
pub trait BeforeToolCall: Send + Sync + 'static {
    /// Decides about `call`, made in the run that `ctx` describes.
    fn before_tool_call(&self, call: ToolCall, ctx: ToolContext) -> BoxFuture<'static, Approval>;
}

impl<F, Fut> BeforeToolCall for F
where
    F: Fn(ToolCall, ToolContext) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Approval> + Send + 'static,
{
    fn before_tool_call(&self, call: ToolCall, ctx: ToolContext) -> BoxFuture<'static, Approval> {
        Box::pin(self(call, ctx))
    }
}

/// Why no approval decision was made: the hook panicked. The call is then not run (fail closed) and ends as
/// [`ToolOutcome::ApprovalFailed`](super::ToolOutcome::ApprovalFailed).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("the approval hook failed: {message}")]
pub struct ApprovalError {
    /// What went wrong (the panic's message). Kept locally, never sent to the model.
    pub message: String,
}

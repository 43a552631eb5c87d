//! The tool-call effect: approve one call, then run it isolated (panics caught, timeout enforced). Kept apart
//! from the decision of which calls to run (the step machine) and from how many run at once (the driver).

use std::panic::AssertUnwindSafe;
use std::time::{Duration, Instant};

use futures::FutureExt;

use crate::tool::{Tool, ToolContext, ToolError, crashed_text, panic_message};
use crate::wire::ToolCall;

use super::Agent;
use super::hook::{Approval, ApprovalError};
use super::result::{ToolCallRecord, ToolOutcome};
use super::state::PendingCall;
use super::telemetry;

impl Agent {
    /// Runs one pending call: asks the [`before_tool_call`](super::AgentBuilder::before_tool_call) hook, then
    /// the tool. Never fails and never panics: every way a call can end is a [`ToolOutcome`] in the record,
    /// whose `result` is the text the model will see. Hand the record to
    /// [`record_tool_call`](Self::record_tool_call).
    pub async fn call_tool(&self, call: &PendingCall) -> ToolCallRecord {
        *self.call_tool_owned(call.clone()).await
    }

    /// [`call_tool`](Self::call_tool) taking the call: its id, name and arguments move into the record, which
    /// is boxed from the start (the run moves it through several layers, and a pointer moves for free).
    pub(crate) async fn call_tool_owned(&self, call: PendingCall) -> Box<ToolCallRecord> {
        let started = Instant::now();
        let approval = self.approve(&call).await;
        let mut record = self.execute_owned(call.call, approval).await;
        record.duration = started.elapsed();
        record
    }

    /// The approval half of [`call_tool`](Self::call_tool): the hook's decision about `call` (approve when
    /// there is no hook, or when the tool does not exist: that call is answered without running anything). A
    /// panicking hook is caught and reported as an [`ApprovalError`], which
    /// [`execute_tool`](Self::execute_tool) turns into a refusal (fail closed).
    ///
    /// A durable driver may skip this and take the decision from elsewhere (a person resolving a durable
    /// promise), then pass it to [`execute_tool`](Self::execute_tool).
    pub async fn approve(&self, call: &PendingCall) -> Result<Approval, ApprovalError> {
        let Some(hook) = &self.inner.hook else { return Ok(Approval::Approve) };
        let name = &call.call.function.name;
        if self.inner.tool(name).is_none() {
            return Ok(Approval::Approve);
        }
        let ctx = ToolContext::new(call.call.id.clone(), name.clone(), self.context.clone());
        // The hook may panic building its future or while it runs.
        let asked = std::panic::catch_unwind(AssertUnwindSafe(|| hook.before_tool_call(call.call.clone(), ctx)));
        let decided = match asked {
            Ok(future) => AssertUnwindSafe(future).catch_unwind().await,
            Err(panic) => Err(panic),
        };
        decided.map_err(|panic| {
            let message = panic_message(panic.as_ref());
            tracing::error!(tool = %name, call_id = %call.call.id, panic = %message, "the approval hook panicked");
            ApprovalError { message }
        })
    }

    /// The execution half of [`call_tool`](Self::call_tool): applies `approval` (run the call, run it with
    /// rewritten arguments, or answer it with the denial) and runs the tool, catching its panic and enforcing
    /// the [`tool_timeout`](super::AgentBuilder::tool_timeout).
    pub async fn execute_tool(&self, call: &PendingCall, approval: Result<Approval, ApprovalError>) -> ToolCallRecord {
        *self.execute_owned(call.call.clone(), approval).await
    }

    /// [`execute_tool`](Self::execute_tool) taking the call.
    async fn execute_owned(&self, call: ToolCall, approval: Result<Approval, ApprovalError>) -> Box<ToolCallRecord> {
        let capture = self.inner.settings.capture_content;
        let span = telemetry::execute_tool(&call.function.name, &call.id, &call.function.arguments, capture);
        let record = telemetry::in_span!(span, self.execute_in(call, approval));
        telemetry::record_tool_result(&span, &record.result, telemetry::tool_error_type(record.outcome), capture);
        record
    }

    /// [`execute_tool`](Self::execute_tool) inside its span.
    async fn execute_in(&self, call: ToolCall, approval: Result<Approval, ApprovalError>) -> Box<ToolCallRecord> {
        let started = Instant::now();
        let mut record = Box::new(ToolCallRecord::from_call(call, String::new(), ToolOutcome::Success));
        let name = &record.name;
        let Some(tool) = self.inner.tool(name) else {
            // L6: tell the model what exists, so it can pick a real tool.
            record.result =
                format!("Error: there is no tool named `{name}`. Available tools: {}.", self.available_tools());
            record.outcome = ToolOutcome::UnknownTool;
            return record;
        };
        match approval {
            Ok(Approval::Approve) => {}
            Ok(Approval::Rewrite(arguments)) => record.arguments = arguments,
            Ok(Approval::Deny(reason)) => {
                record.result = format!("The call to `{name}` was not run: {reason}");
                record.outcome = ToolOutcome::Denied;
                return record;
            }
            Err(error) => {
                record.result = format!("The call to `{name}` was not run: it could not be approved.");
                record.outcome = ToolOutcome::ApprovalFailed;
                record.detail = Some(error.message);
                return record;
            }
        }
        // The context holds the call's id and name while the tool runs; they go back into the record after.
        let ctx =
            ToolContext::new(std::mem::take(&mut record.id), std::mem::take(&mut record.name), self.context.clone());
        let timeout = self.inner.settings.tool_timeout;
        let (result, outcome, detail) = invoke(tool.as_ref(), ctx.tool_name(), &record.arguments, &ctx, timeout).await;
        record.duration = started.elapsed();
        tracing::debug!(duration = ?record.duration, ?outcome, "tool call finished");
        (record.result, record.outcome, record.detail) = (result, outcome, detail);
        record.usage = ctx.take_usage();
        (record.id, record.name) = ctx.into_ids();
        record
    }

    /// The tools the model may call, for the answer to an unknown one.
    fn available_tools(&self) -> String {
        let names: Vec<String> = self.inner.tool_names().iter().map(|name| format!("`{name}`")).collect();
        if names.is_empty() { "none".to_owned() } else { names.join(", ") }
    }
}

/// Calls the tool, catching panics and enforcing the timeout: the text for the model, the outcome, and what
/// stays local.
async fn invoke(
    tool: &dyn Tool,
    name: &str,
    arguments: &str,
    ctx: &ToolContext,
    timeout: Option<Duration>,
) -> (String, ToolOutcome, Option<String>) {
    // L4: a panicking tool is caught, whether it panics building its future or while it runs.
    let called = std::panic::catch_unwind(AssertUnwindSafe(|| tool.call(arguments, ctx)));
    let result = match called {
        Err(panic) => Err(panic),
        Ok(future) => {
            let guarded = AssertUnwindSafe(future).catch_unwind();
            match timeout {
                None => guarded.await,
                Some(limit) => match tokio::time::timeout(limit, guarded).await {
                    Ok(result) => result,
                    Err(_) => {
                        let text = format!(
                            "Error: the tool `{name}` did not finish within {:.1} s and was stopped.",
                            limit.as_secs_f64()
                        );
                        return (text, ToolOutcome::TimedOut, None);
                    }
                },
            }
        }
    };
    match result {
        Ok(Ok(text)) => (text, ToolOutcome::Success, None),
        Ok(Err(error @ ToolError::InvalidArguments(_))) => {
            (error.model_text(name), ToolOutcome::InvalidArguments, None)
        }
        Ok(Err(error @ ToolError::Failed(_))) => (error.model_text(name), ToolOutcome::Failed, None),
        Err(panic) => {
            let message = panic_message(panic.as_ref());
            tracing::error!(tool = %name, panic = %message, "tool panicked");
            // The panic's text may hold anything (a connection string, a path): it stays local.
            (crashed_text(name), ToolOutcome::Panicked, Some(message))
        }
    }
}

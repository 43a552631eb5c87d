//! The worker the durable tests start, SIGKILL and start again: the agent served by `DurableAgent`, with two
//! tools that log each run of their body to a ledger file outside the process and can be held at a gate.
//!
//! Environment: `WORKER_ADDRESS` (listen address), `MODEL_BASE_URL` (the test's model server), `LEDGER` (the
//! ledger file), `GATE_DIR` (a tool waits while `GATE_DIR/<tool name>` exists), `TOOL_DELAY_MS` (extra time
//! each tool takes), `APPROVE_TOOLS` (comma-separated tools that need a person's approval).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use futures::future::BoxFuture;
use serde_json::{Value, json};
use toolsmith_core::agent::Agent;
use toolsmith_core::client::Client;
use toolsmith_core::tool::{Tool, ToolContext, ToolDefinition, ToolError};
use toolsmith_restate::{DurableAgent, DurableRun};

/// A tool whose effect is a ledger line: `start` when its body begins, `done` when it finishes.
struct LedgerTool {
    name: &'static str,
    description: &'static str,
    ledger: PathBuf,
    gates: PathBuf,
    delay: Duration,
}

impl Tool for LedgerTool {
    fn definition(&self) -> ToolDefinition {
        ToolDefinition::new(
            self.name,
            self.description,
            json!({
                "type": "object",
                "properties": {"order": {"type": "string", "description": "The order id, e.g. \"order-1\"."}},
                "required": ["order"],
                "additionalProperties": false
            }),
        )
    }

    fn call<'a>(&'a self, arguments: &'a str, ctx: &'a ToolContext) -> BoxFuture<'a, Result<String, ToolError>> {
        Box::pin(async move {
            let arguments: Value =
                serde_json::from_str(arguments).map_err(|error| ToolError::InvalidArguments(error.to_string()))?;
            let order = arguments["order"]
                .as_str()
                .ok_or_else(|| ToolError::InvalidArguments("`order` must be a string".into()))?
                .to_owned();
            let run = ctx.get::<DurableRun>().ok_or_else(|| ToolError::Failed("not in a durable run".into()))?;
            let key = run.idempotency_key(ctx.call_id());
            append(&self.ledger, &format!("start {} {order} {key}", self.name));
            let gate = self.gates.join(self.name);
            while gate.exists() {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            tokio::time::sleep(self.delay).await;
            append(&self.ledger, &format!("done {} {order} {key}", self.name));
            Ok(format!("{} for {order}: ok", self.name))
        })
    }
}

/// One `write` per line with O_APPEND: lines from two workers never interleave.
fn append(path: &Path, line: &str) {
    let mut file = std::fs::OpenOptions::new().create(true).append(true).open(path).expect("open the ledger");
    file.write_all(format!("{line}\n").as_bytes()).expect("append to the ledger");
}

fn env(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| panic!("the test worker needs {name}"))
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let ledger = PathBuf::from(env("LEDGER"));
    let gates = PathBuf::from(env("GATE_DIR"));
    let delay = Duration::from_millis(std::env::var("TOOL_DELAY_MS").ok().and_then(|ms| ms.parse().ok()).unwrap_or(0));
    let tool = |name, description| LedgerTool { name, description, ledger: ledger.clone(), gates: gates.clone(), delay };
    let agent = Agent::builder(Client::new(env("MODEL_BASE_URL"), "test-key"), "toolsmith-test")
        .instructions("You process orders.")
        .tool(tool("charge_card", "Charge the customer's card for an order."))
        .tool(tool("send_receipt", "Send the receipt of an order by email."))
        .build();
    let approve: Vec<String> = std::env::var("APPROVE_TOOLS")
        .unwrap_or_default()
        .split(',')
        .filter(|name| !name.is_empty())
        .map(str::to_owned)
        .collect();
    let durable = DurableAgent::new(agent).require_approval(move |call| approve.contains(&call.function.name));
    durable.serve(env("WORKER_ADDRESS").parse().expect("WORKER_ADDRESS is host:port")).await;
}
